#!/usr/bin/env bash
# tests/integration/0001-infra.sh — integration test of the local infrastructure scripts
# (infra/kafka.sh, infra/redis.sh): real Kafka and Redis processes on 127.0.0.1 in a temp dir.
#
# Checks: Kafka cold start, idempotent start, topic creation and partition counts, a keyed
# produce / consume round trip with kcat, clean stop + restart (same port, topics and messages
# kept), SIGKILL + restart (recovers, data kept), Redis start / stop twice with SET / GET
# surviving restarts, and that no process started by the test is left behind.
#
# Usage: bash tests/integration/0001-infra.sh      (env NP_ROOT = repo root, default: derived)
# Env: NP_KEEP_TMP=1 keeps the temp dir (always kept, with log tails printed, on failure
#      when NP_KEEP_TMP_ON_FAIL=1). Exit status 0 only if every check passed.
# Last line: "N passed, M failed".

# shellcheck source-path=SCRIPTDIR
set -euo pipefail

NP_ROOT="${NP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export NP_ROOT
export NP_LOG_TAG=test-0001
# shellcheck source=../../infra/lib.sh
source "$NP_ROOT/infra/lib.sh"

KAFKA="$NP_ROOT/infra/kafka.sh"
REDIS="$NP_ROOT/infra/redis.sh"
# The test picks its own free ports.
unset NETPULSE_KAFKA_PORT NETPULSE_KAFKA_CONTROLLER_PORT NETPULSE_REDIS_PORT
PARTS="${NETPULSE_PARTITIONS:-12}"
OUT_PARTS="${NETPULSE_OUTPUT_PARTITIONS:-1}"

passed=0
failed=0
T_START="$(date +%s%N)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/np-0001-infra.XXXXXX")"
KS="$TMP/kafka"
RS="$TMP/redis"
TIMINGS=()

ok() {
    passed=$((passed + 1))
    printf 'ok %d - %s\n' "$((passed + failed))" "$*"
}
not_ok() {
    failed=$((failed + 1))
    printf 'not ok %d - %s\n' "$((passed + failed))" "$*"
}
# check DESCRIPTION CMD [ARGS...]
check() {
    local desc="$1"
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# require DESCRIPTION CMD [ARGS...]: like check, but the test cannot go on without it.
require() {
    local desc="$1"
    shift
    if "$@"; then
        ok "$desc"
    else
        not_ok "$desc"
        np_info "cannot continue after: $desc"
        exit 1
    fi
}
eq() {
    if [[ "$1" == "$2" ]]; then return 0; fi
    printf '#   expected: %q\n#   got:      %q\n' "$2" "$1" >&2
    return 1
}
timing() { TIMINGS+=("$1=$2ms"); printf '# timing: %s %s ms\n' "$1" "$2"; }

cleanup() {
    local rc=$? pid
    trap - EXIT
    "$KAFKA" stop "$KS" >/dev/null 2>&1 || true
    "$REDIS" stop "$RS" >/dev/null 2>&1 || true
    # Anything still alive that this test started (its command line names the temp dir).
    for pid in $(np_pids_matching "$TMP"); do
        np_warn "killing leftover pid $pid: $(np_pid_cmdline "$pid" | cut -c1-120)"
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ -s "$RS/redis.port" ]]; then
        for pid in $(np_pids_matching "redis-server 127.0.0.1:$(cat "$RS/redis.port")"); do
            np_warn "killing leftover redis pid $pid"
            kill -KILL "$pid" 2>/dev/null || true
        done
    fi
    if ((failed > 0 || rc != 0)); then
        {
            echo "---- kafka server.log (tail) ----"
            tail -n 30 "$KS/logs/server.log" 2>/dev/null || true
            echo "---- redis.log (tail) ----"
            tail -n 10 "$RS/logs/redis.log" 2>/dev/null || true
        } | sed 's/^/# /' >&2
        ((rc != 0 && failed == 0)) && failed=1
    fi
    if [[ "${NP_KEEP_TMP:-0}" == 1 ]] || { ((failed > 0)) && [[ "${NP_KEEP_TMP_ON_FAIL:-0}" == 1 ]]; }; then
        np_info "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    printf '# timings: %s total=%sms\n' "${TIMINGS[*]}" "$(np_ms_since "$T_START")"
    printf '%d passed, %d failed\n' "$passed" "$failed"
    if ((failed > 0)); then exit 1; fi
    exit 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

kafka_pid() { cat "$KS/kafka.pid" 2>/dev/null || true; }

# partition_counts BOOTSTRAP: "topic=N ..." for the three netpulse topics, from kcat -L -J.
partition_counts() {
    kcat -b "$1" -L -J -m 10 | python3 -c '
import json, sys
md = json.load(sys.stdin)
n = {t["topic"]: len(t["partitions"]) for t in md["topics"] if not t.get("error")}
print(" ".join(f"{t}={n.get(t, 0)}" for t in ("network-traffic", "processed-data", "network-traffic-dlq", "network-traffic-repartition")))'
}

# consume_all BOOTSTRAP TOPIC: every message as "key=value", sorted.
consume_all() {
    timeout 30 kcat -C -b "$1" -t "$2" -o beginning -e -q -f '%k=%s\n' | sort
}

EXPECTED_5="$(printf 'host-%d=pkt-%d\n' 1 1 2 2 3 3 4 4 5 5 | sort)"

proc_gone() { np_pid_gone "$1"; }

# ---------------------------------------------------------------- Kafka

np_info "state in $TMP"
t0="$(date +%s%N)"
BOOT="$("$KAFKA" start "$KS")" || BOOT=""
timing kafka_cold_start "$(np_ms_since "$t0")"
require "kafka: cold start prints a bootstrap address" test -n "$BOOT"
check "kafka: bootstrap is 127.0.0.1:<kafka.port>" eq "$BOOT" "127.0.0.1:$(cat "$KS/kafka.port")"
check "kafka: 'bootstrap' subcommand agrees" eq "$("$KAFKA" bootstrap "$KS")" "$BOOT"
check "kafka: status is 0 while running" "$KAFKA" status "$KS"
check "kafka: metadata answers (kcat -L)" bash -c "kcat -b '$BOOT' -L -m 5 >/dev/null"
check "kafka: pid file names a live process" np_pid_alive "$(kafka_pid)"
PID1="$(kafka_pid)"
check "kafka: broker runs in its own process group" \
    eq "$(awk '{print $5}' "/proc/$PID1/stat" 2>/dev/null)" "$PID1"
check "kafka: broker log goes to STATE_DIR/logs/server.log" test -s "$KS/logs/server.log"
check "kafka: no SLF4J warning and no broker log lines on the console" \
    bash -c "! grep -qE 'SLF4J|NOP|INFO' '$KS/logs/kafka.out' '$KS/logs/format.log'"

t0="$(date +%s%N)"
check "kafka: start again on a running dir is a no-op with the same address" \
    eq "$("$KAFKA" start "$KS")" "$BOOT"
timing kafka_start_noop "$(np_ms_since "$t0")"
check "kafka: ... and the same pid" eq "$(kafka_pid)" "$PID1"

t0="$(date +%s%N)"
check "kafka: create-topics" "$KAFKA" create-topics "$KS"
timing create_topics "$(np_ms_since "$t0")"
t0="$(date +%s%N)"
check "kafka: create-topics again (idempotent)" "$KAFKA" create-topics "$KS"
timing create_topics_again "$(np_ms_since "$t0")"
EXPECTED_COUNTS="network-traffic=$PARTS processed-data=$OUT_PARTS network-traffic-dlq=1 network-traffic-repartition=$PARTS"
check "kafka: partition counts ($EXPECTED_COUNTS)" eq "$(partition_counts "$BOOT")" "$EXPECTED_COUNTS"

t0="$(date +%s%N)"
check "kafka: produce 5 keyed messages" bash -c \
    "printf 'host-%d:pkt-%d\n' 1 1 2 2 3 3 4 4 5 5 | timeout 30 kcat -P -b '$BOOT' -t network-traffic -K: -X acks=all"
check "kafka: consume the 5 messages back" eq "$(consume_all "$BOOT" network-traffic)" "$EXPECTED_5"
timing produce_consume "$(np_ms_since "$t0")"
KEYPARTS="$(timeout 30 kcat -C -b "$BOOT" -t network-traffic -o beginning -e -q -f '%k@%p\n' | sort)"

t0="$(date +%s%N)"
check "kafka: stop" "$KAFKA" stop "$KS"
timing kafka_stop "$(np_ms_since "$t0")"
check "kafka: broker process is gone after stop" proc_gone "$PID1"
check "kafka: pid file removed" test ! -e "$KS/kafka.pid"
check "kafka: status is non-zero when stopped" bash -c "! '$KAFKA' status '$KS' 2>/dev/null"
check "kafka: stop again is safe" "$KAFKA" stop "$KS"

t0="$(date +%s%N)"
BOOT2="$("$KAFKA" start "$KS")" || BOOT2=""
timing kafka_restart "$(np_ms_since "$t0")"
require "kafka: restart after clean stop" test -n "$BOOT2"
check "kafka: same address after restart" eq "$BOOT2" "$BOOT"
check "kafka: topics kept across restart" eq "$(partition_counts "$BOOT")" "$EXPECTED_COUNTS"
check "kafka: messages kept across restart" eq "$(consume_all "$BOOT" network-traffic)" "$EXPECTED_5"
check "kafka: keys map to the same partitions after restart" \
    eq "$(timeout 30 kcat -C -b "$BOOT" -t network-traffic -o beginning -e -q -f '%k@%p\n' | sort)" "$KEYPARTS"

PID2="$(kafka_pid)"
kill -KILL "$PID2"
np_wait_for -t 10 proc_gone "$PID2" || true
check "kafka: broker is dead after SIGKILL" proc_gone "$PID2"
check "kafka: status is non-zero after SIGKILL (stale pid file)" bash -c "! '$KAFKA' status '$KS' 2>/dev/null"
t0="$(date +%s%N)"
BOOT3="$("$KAFKA" start "$KS")" || BOOT3=""
timing kafka_restart_after_kill9 "$(np_ms_since "$t0")"
require "kafka: restart after SIGKILL recovers" test -n "$BOOT3"
check "kafka: same address after SIGKILL restart" eq "$BOOT3" "$BOOT"
check "kafka: new broker pid" bash -c "[[ '$(kafka_pid)' != '$PID2' ]]"
check "kafka: topics kept after SIGKILL" eq "$(partition_counts "$BOOT")" "$EXPECTED_COUNTS"
check "kafka: messages kept after SIGKILL" eq "$(consume_all "$BOOT" network-traffic)" "$EXPECTED_5"
check "kafka: produce after recovery" bash -c \
    "printf 'host-6:pkt-6\n' | timeout 30 kcat -P -b '$BOOT' -t network-traffic -K: -X acks=all"
check "kafka: 6 messages after recovery" \
    eq "$(consume_all "$BOOT" network-traffic)" "$(printf '%s\nhost-6=pkt-6\n' "$EXPECTED_5" | sort)"
check "kafka: the dead-letter and output topics are empty" \
    eq "$(consume_all "$BOOT" network-traffic-dlq)$(consume_all "$BOOT" processed-data)" ""

PID3="$(kafka_pid)"
check "kafka: final stop" "$KAFKA" stop "$KS"
check "kafka: broker gone after final stop" proc_gone "$PID3"

# ---------------------------------------------------------------- Redis

t0="$(date +%s%N)"
RPORT="$("$REDIS" start "$RS")" || RPORT=""
timing redis_start "$(np_ms_since "$t0")"
require "redis: start prints a port" test -n "$RPORT"
check "redis: 'port' subcommand agrees" eq "$("$REDIS" port "$RS")" "$RPORT"
check "redis: status is 0 while running" "$REDIS" status "$RS"
check "redis: PING" eq "$(redis-cli -p "$RPORT" ping)" PONG
check "redis: start again is a no-op" eq "$("$REDIS" start "$RS")" "$RPORT"
check "redis: SET" eq "$(redis-cli -p "$RPORT" set netpulse:test:key hello-1)" OK
check "redis: appendonly is on" eq "$(redis-cli -p "$RPORT" config get appendonly | tail -n 1)" yes
RPID1="$(cat "$RS/redis.pid")"
check "redis: stop" "$REDIS" stop "$RS"
check "redis: process gone after stop" proc_gone "$RPID1"
check "redis: status is non-zero when stopped" bash -c "! '$REDIS' status '$RS' 2>/dev/null"
check "redis: restart (2nd start)" eq "$("$REDIS" start "$RS")" "$RPORT"
check "redis: GET after restart" eq "$(redis-cli -p "$RPORT" get netpulse:test:key)" hello-1
check "redis: SET again" eq "$(redis-cli -p "$RPORT" set netpulse:test:key2 hello-2)" OK
RPID2="$(cat "$RS/redis.pid")"
check "redis: 2nd stop" "$REDIS" stop "$RS"
check "redis: process gone after 2nd stop" proc_gone "$RPID2"
check "redis: stop again is safe" "$REDIS" stop "$RS"
check "redis: 3rd start" eq "$("$REDIS" start "$RS")" "$RPORT"
check "redis: both keys survived" \
    eq "$(redis-cli -p "$RPORT" mget netpulse:test:key netpulse:test:key2 | tr '\n' ' ')" "hello-1 hello-2 "
RPID3="$(cat "$RS/redis.pid")"
check "redis: final stop" "$REDIS" stop "$RS"
check "redis: process gone after final stop" proc_gone "$RPID3"

# ---------------------------------------------------------------- leftovers

check "no process of this test is left (java or redis naming $TMP)" eq "$(np_pids_matching "$TMP")" ""
check "no redis-server left on port $RPORT" eq "$(np_pids_matching "redis-server 127.0.0.1:$RPORT")" ""
check "kafka port is free again" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/${BOOT##*:}) 2>/dev/null"
check "redis port is free again" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$RPORT) 2>/dev/null"
