# shellcheck shell=bash
# tests/integration/lib.sh — the harness every numbered integration test sources.
#
# It gives each test its own temp dir, real Kafka (KRaft) and Redis on free ports, and the
# netpulse processes on free ports; and it stops everything the test started when the test
# exits, whether it passed, failed or was interrupted.
#
#   it_setup NAME                 temp dir + EXIT trap; sets IT_DIR
#   it_start_infra [PARTITIONS]   Kafka + topics + Redis; sets BOOTSTRAP, REDIS_PORT
#   it_start NAME CMD...          runs CMD in its own process group, log in $IT_DIR/NAME.log
#   it_stop NAME [SIGNAL]         stops it (default TERM, then KILL after 15 s)
#   it_http_port NAME             the HTTP port NAME wrote to $IT_DIR/NAME.port
#   it_metric NAME METRIC [SCALE] sum of METRIC's series on NAME's /metrics (METRIC may be
#                                 NAME{label="v",...}: only series with those labels)
#   it_metric_ms NAME METRIC      a metric in seconds, as integer milliseconds
#   it_start_cluster WORKERS      gateway + coordinator + WORKERS workers, waits for assignment
#   it_check DESC CMD...          runs a check, counts pass/fail
#   it_t0                         a pane-aligned event time 10 minutes ago (tests' T0)
#   it_finish                     prints "N passed, M failed"; exit status follows
set -uo pipefail

IT_ROOT="${NP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
IT_BIN="${NP_BUILD_DIR:-$IT_ROOT/build}"
# shellcheck source=../../infra/lib.sh
source "$IT_ROOT/infra/lib.sh"
NP_LOG_TAG=test

# Every test's cluster runs these operator views (workers, coordinator and netpulse-detect
# read NETPULSE_VIEWS); it_oracle recomputes their groups independently and compares.
export NETPULSE_VIEWS="${NETPULSE_VIEWS-web: proto=tcp and dport=80,443,8080 by dst/24; dns: proto=udp and port=53 by src/16,proto; odd: not (proto=tcp or proto=udp) or bytes<100 by proto,dport}"

IT_PASSED=0
IT_FAILED=0
declare -A IT_PIDS=()

it_cleanup() {
    local rc=$?
    for name in "${!IT_PIDS[@]}"; do it_stop "$name" KILL >/dev/null 2>&1; done
    # Every broker of the test: kafka/, and kafka-*/ of tests that run a second one (0158).
    local k
    for k in "${IT_DIR:-/nonexistent}"/kafka "${IT_DIR:-/nonexistent}"/kafka-*; do
        [[ -d "$k" ]] && "$IT_ROOT/infra/kafka.sh" stop "$k" >/dev/null 2>&1
    done
    [[ -n "${IT_DIR:-}" && -d "$IT_DIR/redis" ]] && "$IT_ROOT/infra/redis.sh" stop "$IT_DIR/redis" >/dev/null 2>&1
    if [[ $rc -ne 0 || $IT_FAILED -ne 0 ]]; then
        np_warn "test failed; logs kept in $IT_DIR"
        for f in "$IT_DIR"/*.log; do
            [[ -f "$f" ]] || continue
            echo "----- tail of $f" >&2
            grep -v 'event=librdkafka' "$f" | tail -n 15 >&2
        done
    elif [[ -z "${IT_KEEP:-}" ]]; then
        rm -rf "$IT_DIR"
    fi
    exit $rc
}

it_setup() {
    IT_NAME="$1"
    IT_DIR="$(mktemp -d "/tmp/netpulse-it-$IT_NAME.XXXXXX")"
    trap it_cleanup EXIT
    trap 'exit 130' INT TERM
    np_info "$IT_NAME: working in $IT_DIR"
}

# it_broker_keystore DIR PASSWORD: a test CA (DIR/ca.crt) and a broker certificate for
# 127.0.0.1 signed by it, in DIR/broker.p12 (PKCS12, PASSWORD) for a broker's SSL listener.
it_broker_keystore() {
    local d="$1" pw="$2"
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=netpulse-test-ca
        openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj /CN=127.0.0.1
        printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
        openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out broker.crt -days 2 -extfile san.ext
        openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt -name broker \
            -out broker.p12 -passout "pass:$pw"
    ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; return 1; }
}

# it_sasl_pipeline CONF GATEWAY_CONF SEED WHAT: gateway, coordinator and two workers with
# the Kafka client settings of CONF (the gateway's of GATEWAY_CONF), 10,000 records from the
# generator, and the windows checked against the oracle (0156, 0158). WHAT names the
# transport in the check labels.
it_sasl_pipeline() {
    local conf="$1" gwconf="$2" seed="$3" what="$4" w t0
    IT_ZMQ_GW="tcp://127.0.0.1:$(np_free_port)"
    IT_ZMQ_COORD="tcp://127.0.0.1:$(np_free_port)"
    # The records first, the workers after (they consume them as a backlog): the oracle
    # allows no late record, and with the workers first a partition whose share of the
    # burst came idle.ms after its assignment (a loaded machine) was idle by the rule,
    # followed the global watermark the others moved, and its records were late.
    t0=$(it_t0)
    # timeout: a refused login makes librdkafka retry for ever.
    timeout -s KILL 60 "$IT_BIN/netpulse-generator" --config "$conf" --rate 1000 --count 10000 --speedup 0 \
        --seed "$seed" --sources 200 --start-ms "$t0" 2>"$IT_DIR/generator.log"
    it_check "generator produced over $what" test $? -eq 0
    it_start gateway "$IT_BIN/netpulse-gateway" --config "$gwconf" --bind "$IT_ZMQ_GW" \
        --http-port-file "$IT_DIR/gateway.port"
    it_restart_coordinator
    IT_WORKERS=()
    for w in worker1 worker2; do
        it_start "$w" "$IT_BIN/netpulse-worker" --config "$conf" --coordinator "$IT_ZMQ_COORD" \
            --redis-port "$REDIS_PORT" --worker-id "$w" --http-port-file "$IT_DIR/$w.port" --idle-ms 3000
        IT_WORKERS+=("$w")
    done
    it_check "workers ($what) own every partition" it_wait_assigned
    it_check "windows published through the end of the data" it_wait_windows_through $((t0 + 10000))
    sleep 3
    it_check "oracle: windows exact over $what" it_oracle --expect-late 0
}

it_start_infra() {
    local parts="${1:-12}"
    # Tests replay event times from the past; keep every record whatever its timestamp.
    # IT_KAFKA_EXTRA: more server.properties lines for one test (0152: 12 MB messages).
    export NETPULSE_KAFKA_CONFIG_EXTRA="log.retention.ms=-1${IT_KAFKA_EXTRA:+
$IT_KAFKA_EXTRA}"
    NETPULSE_PARTITIONS="$parts" "$IT_ROOT/infra/kafka.sh" start "$IT_DIR/kafka" >"$IT_DIR/kafka-start.log" 2>&1 \
        || { cat "$IT_DIR/kafka-start.log" >&2; return 1; }
    NETPULSE_PARTITIONS="$parts" "$IT_ROOT/infra/kafka.sh" create-topics "$IT_DIR/kafka" >>"$IT_DIR/kafka-start.log" 2>&1 \
        || { cat "$IT_DIR/kafka-start.log" >&2; return 1; }
    BOOTSTRAP="$("$IT_ROOT/infra/kafka.sh" bootstrap "$IT_DIR/kafka")"
    "$IT_ROOT/infra/redis.sh" start "$IT_DIR/redis" >"$IT_DIR/redis-start.log" 2>&1 \
        || { cat "$IT_DIR/redis-start.log" >&2; return 1; }
    REDIS_PORT="$("$IT_ROOT/infra/redis.sh" port "$IT_DIR/redis")"
    export BOOTSTRAP REDIS_PORT
    np_info "kafka at $BOOTSTRAP, redis at 127.0.0.1:$REDIS_PORT"
}

it_start() {
    local name="$1"
    shift
    rm -f "$IT_DIR/$name.port"
    setsid "$@" >>"$IT_DIR/$name.log" 2>&1 &
    IT_PIDS[$name]=$!
}

it_stop() {
    local name="$1" sig="${2:-TERM}" pid="${IT_PIDS[$1]:-}"
    [[ -n "$pid" ]] || return 0
    kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null
    local i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        np_warn "$name did not stop on $sig; killing"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    local rc=$?
    unset "IT_PIDS[$name]"
    return $rc
}

it_http_port() {
    np_wait_for -t 20 test -s "$IT_DIR/$1.port" || return 1
    cat "$IT_DIR/$1.port"
}

# A test whose processes run with http.token / HTTPS (0157) sets IT_HTTP_SCHEME=https and
# IT_CURL_OPTS (--cacert, the Authorization header) for every metrics read.
IT_HTTP_SCHEME="${IT_HTTP_SCHEME:-http}"
IT_CURL_OPTS=()
it_metric() {
    local port
    port="$(it_http_port "$1")" || return 1
    curl -sf "${IT_CURL_OPTS[@]}" "$IT_HTTP_SCHEME://127.0.0.1:$port/metrics" | _it_metric_sum "$2" "${3:-1}"
}

# it_metric_ms NAME METRIC: a metric in seconds (a timestamp, say) as integer milliseconds.
it_metric_ms() { it_metric "$1" "$2" 1000; }

# _it_metric_sum SELECTOR SCALE: stdin is an exposition; sums (× SCALE, rounded) the samples
# of SELECTOR = NAME or NAME{k="v",...}: every series of NAME whose labels include the given
# pairs. Prints nothing when no series matches.
_it_metric_sum() {
    awk -v sel="$1" -v scale="$2" '
        BEGIN {
            name = sel; want = ""
            if ((b = index(sel, "{")) > 0) { name = substr(sel, 1, b - 1); want = substr(sel, b + 1); sub(/}$/, "", want) }
            nw = (want == "") ? 0 : split(want, pairs, ",")
        }
        /^#/ { next }
        {
            series = $1; lbl = ""
            if ((b = index(series, "{")) > 0) { lbl = substr(series, b + 1); sub(/}$/, "", lbl); series = substr(series, 1, b - 1) }
            if (series != name) next
            for (i = 1; i <= nw; i++) if (index("," lbl ",", "," pairs[i] ",") == 0) next
            s += $NF * scale; found = 1
        }
        END { if (found) printf "%.0f\n", s; else print "" }'
}

# Sum of a metric over several processes.
it_metric_sum() {
    local metric="$1" total=0 v
    shift
    for n in "$@"; do
        v="$(it_metric "$n" "$metric")"
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

IT_ZMQ_COORD=""
IT_ZMQ_GW=""
IT_WORKERS=()

# it_start_cluster WORKERS [extra worker flags...]
it_start_cluster() {
    it_start_control
    it_start_workers "$@"
}

# it_start_control: the gateway and the coordinator of a cluster, on new endpoints (a test
# that needs them before the workers, 0120, then calls it_start_workers).
it_start_control() {
    IT_ZMQ_GW="tcp://127.0.0.1:$(np_free_port)"
    IT_ZMQ_COORD="tcp://127.0.0.1:$(np_free_port)"
    it_restart_gateway
    it_restart_coordinator
}

# it_start_workers WORKERS [extra worker flags...]: worker1..WORKERS, waits for assignment.
it_start_workers() {
    local n="$1" i
    shift
    IT_WORKERS=()
    for ((i = 1; i <= n; i++)); do
        it_start_worker "worker$i" "$@"
    done
    it_wait_assigned
}

# Starts the gateway (again, after it_stop) on the cluster's endpoint.
it_restart_gateway() {
    it_start gateway "$IT_BIN/netpulse-gateway" --brokers "$BOOTSTRAP" --bind "$IT_ZMQ_GW" \
        --http-port-file "$IT_DIR/gateway.port"
}

# Sliding windows in tests are 15 s (3 panes), so that a test's stream of ~30 s of event
# time has several; the oracle checks them (it_oracle passes the same length).
IT_WINDOW_MS="${IT_WINDOW_MS:-15000}"

# Starts the coordinator (again, after it_stop) on the cluster's endpoints and Redis.
it_restart_coordinator() {
    it_start coordinator "$IT_BIN/netpulse-coordinator" --bind "$IT_ZMQ_COORD" --gateway "$IT_ZMQ_GW" \
        --redis-port "$REDIS_PORT" --window-ms "$IT_WINDOW_MS" --http-port-file "$IT_DIR/coordinator.port"
}

IT_WORKER_ARGS=()
it_start_worker() {
    local name="$1"
    shift
    IT_WORKER_ARGS=("$@")
    it_restart_worker "$name"
    IT_WORKERS+=("$name")
}

# Starts worker NAME again (after it_stop) with the flags the cluster's workers got.
it_restart_worker() {
    local name="$1"
    it_start "$name" "$IT_BIN/netpulse-worker" --brokers "$BOOTSTRAP" --coordinator "$IT_ZMQ_COORD" \
        --redis-port "$REDIS_PORT" --worker-id "$name" --http-port-file "$IT_DIR/$name.port" --window-ms "$IT_WINDOW_MS" \
        "${IT_WORKER_ARGS[@]}"
}

# it_wait_windows_through END_MS: waits (up to 120 s) for a window starting at or after
# END_MS in processed-data, i.e. until everything before it has been published.
it_wait_windows_through() {
    local end="$1"
    _it_window_after() {
        kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_committed -f '%k\n' 2>/dev/null \
            | awk -F: -v e="$end" '$1 == "window" && $2 >= e { found = 1 } END { exit !found }'
    }
    np_wait_for -t "${2:-120}" -i 1 _it_window_after
}

# it_oracle [oracle flags...]: dumps the three topics (read_committed) and runs the oracle.
it_oracle() {
    kcat -b "$BOOTSTRAP" -C -t network-traffic -e -q -J >"$IT_DIR/records.jsonl"
    kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -J -X isolation.level=read_committed >"$IT_DIR/results.jsonl"
    kcat -b "$BOOTSTRAP" -C -t network-traffic-dlq -e -q -J >"$IT_DIR/dlq.jsonl"
    python3 "$IT_ROOT/tests/tools/oracle.py" --records "$IT_DIR/records.jsonl" \
        --results "$IT_DIR/results.jsonl" --dlq "$IT_DIR/dlq.jsonl" --pane-ms 5000 --window-ms "$IT_WINDOW_MS" \
        --views "$NETPULSE_VIEWS" "$@"
}

# Waits until the workers together own every partition, twice in a row 1 s apart.
it_wait_assigned() {
    local want="${1:-${NETPULSE_PARTITIONS:-12}}" stable=0 i sum
    for ((i = 0; i < 120; i++)); do
        sum="$(it_metric_sum netpulse_worker_assigned_partitions "${IT_WORKERS[@]}")"
        if [[ "$sum" == "$want" ]]; then
            stable=$((stable + 1))
            [[ $stable -ge 2 ]] && return 0
        else
            stable=0
        fi
        sleep 0.5
    done
    np_warn "workers own $sum of $want partitions"
    return 1
}

it_check() {
    local desc="$1"
    shift
    if "$@"; then
        IT_PASSED=$((IT_PASSED + 1))
        np_info "PASS: $desc"
    else
        IT_FAILED=$((IT_FAILED + 1))
        np_warn "FAIL: $desc"
    fi
}

it_finish() {
    echo "$IT_PASSED passed, $IT_FAILED failed"
    [[ $IT_FAILED -eq 0 ]]
}

# A pane-aligned (5 s) event time ten minutes ago: recent enough for any retention and
# the future-time check, old enough that a whole test's stream stays in the past.
it_t0() {
    echo $(( ($(date +%s) - 600) / 5 * 5000 ))
}

# ---- Helpers for the scaling, Redis, lateness and idle-partition tests (0030-0070) -------

# it_add_worker NAME: starts one more worker with the flags the cluster's workers got
# (it_start_cluster's extra flags) and adds it to IT_WORKERS.
it_add_worker() {
    it_start_worker "$1" "${IT_WORKER_ARGS[@]}"
}

# it_wait_exit NAME [TIMEOUT_S]: waits for NAME (started with it_start) to exit by itself
# and returns its exit status; on timeout stops it and returns 124.
it_wait_exit() {
    local name="$1" t="${2:-120}" pid="${IT_PIDS[$1]:-}"
    [[ -n "$pid" ]] || return 0
    if ! np_wait_for -q -t "$t" -i 0.2 np_pid_gone "$pid"; then
        np_warn "$name still running after ${t}s; stopping it"
        it_stop "$name"
        return 124
    fi
    it_stop "$name"
}

# it_alive NAME...: true when every named process (started with it_start) still runs.
it_alive() {
    local n
    for n in "$@"; do
        np_pid_alive "${IT_PIDS[$n]:-none}" || { np_warn "$n is not running"; return 1; }
    done
}

# it_redis ARGS...: redis-cli against the test's Redis. it_redis_count PATTERN: keys matching.
it_redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
it_redis_count() { it_redis --scan --pattern "$1" | wc -l; }

# it_windows: the window results published so far (read_committed), one JSON value a line.
it_windows() {
    kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_committed -f '%s\n' 2>/dev/null \
        | grep -F '"type":"window"'
}

# it_window_where EXPR: true when some published window satisfies the Python expression
# EXPR over `w` (the window as a dict), e.g. 'w["partitions"] == 12 and w["records"] > 0'.
it_window_where() {
    it_windows | python3 -c '
import json, sys
found = False   # read everything: exiting early would SIGPIPE the pipeline (pipefail)
for line in sys.stdin:
    w = json.loads(line)
    found = found or bool(eval(sys.argv[1], {}, {"w": w}))
sys.exit(0 if found else 1)' "$1"
}

# it_produce [PARTITION]: produces stdin's "key|value" lines to network-traffic, to
# PARTITION, or without it where librdkafka's default partitioner puts each key.
it_produce() {
    kcat -b "$BOOTSTRAP" -P -t network-traffic ${1:+-p "$1"} -K '|' -z none
}
