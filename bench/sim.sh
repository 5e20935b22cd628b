#!/usr/bin/env bash
# bench/sim.sh — the coordinator under N partitions' partials (issue 16). Not part of
# `make test`; `make bench-sim` runs it.
#
# Starts its own Redis (infra/redis.sh, through the integration tests' helpers) and, for
# every configuration, a fresh netpulse-coordinator on free ports, drives it with
# np-bench-sim (bench/sim_partials.c: the workers and the gateway of the coordinator, see
# there), stops it, empties Redis, and goes on. Every process it started is stopped on
# exit, also on failure or Ctrl-C.
#
#   bench/sim.sh [--only partitions|sources|both|memory]
#
# Configurations (environment in brackets):
#   partitions: N in SIM_PARTITIONS ("12 100 1000") with SIM_SOURCES_FIXED (100000) sources
#               per pane, SIM_PANES (30) measured panes each;
#   sources:    SIM_SOURCE_SIZES ("10000 100000 1000000 10000000") sources per pane over
#               SIM_SOURCE_PARTITIONS (12) partitions, SIM_SOURCE_PANES ("20 20 5 3") panes.
# Every source has SIM_RECORDS (2) records per pane; SIM_WORKERS (8) workers; pane.ms 5000
# and the coordinator's defaults (window.ms 60000, detectors on), except
# max.sources.per.pane and max.dests.per.pane, raised to hold every source of a pane, and
# max.partitions = N. SIM_COORD_FLAGS adds coordinator flags (e.g. "--persist-batch-max 1":
# one Redis transaction per partial), NP_BUILD_DIR picks the binaries. SIM_WINDOW_MS (60000;
# SIM_WINDOW_MS=5000: no sliding window, so no final pane is written to Redis) is the
# coordinator's window.ms, and the tool's with bounded partials.
# SIM_BOUNDED=K (0: whole tables) sends bounded partials as workers with
# partial.top.sources = K do; SIM_LEARN_PANES (2) is then both sides' detect.learn.panes.
# SIM_FANIN=0 sends them with a distinct-source sketch per destination (before np_vhll)
# instead of the destinations' fan-in pool; SIM_FANIN=both runs every configuration both ways.
#
# memory (not in `both`): the coordinator driven to its caps, its peak RSS (VmHWM) against
#               the bound it computes (np_budget, netpulse_coordinator_memory_bound_bytes).
#               Caps SIM_MEM_CAP (50000) sources and destinations per pane, SIM_MEM_PANES (4)
#               open panes, window.ms = 4 panes, detect.max.known.sources = 2 x cap,
#               zmq.max.message.bytes 64 B x cap (a partial here is ~26 B x cap),
#               hll.pool.blocks 1024; every pane SIM_MEM_SOURCES (2 x cap) distinct sources
#               (--shift-sources) to as many destinations, sent SIM_MEM_PANES at a time
#               (--open-panes), SIM_MEM_ROUNDS (4) rounds.
#
# Results: bench/results/sim-<UTC time>/ (git-ignored): one JSON line per configuration in
# results.jsonl, the coordinator's and the tool's logs, and table.md.
set -uo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NP_ROOT="$BENCH_ROOT"
export NP_BUILD_DIR="${NP_BUILD_DIR:-$BENCH_ROOT/build}"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
source "$BENCH_ROOT/tests/integration/lib.sh"
export NP_LOG_TAG=bench-sim
export NETPULSE_VIEWS="${BENCH_VIEWS-}"

ONLY=both
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) ONLY="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) np_die "unknown argument: $1 (see --help)" ;;
    esac
done

PARTS_LIST="${SIM_PARTITIONS:-12 100 1000}"
SOURCES_FIXED="${SIM_SOURCES_FIXED:-100000}"
PANES="${SIM_PANES:-30}"
SIZES="${SIM_SOURCE_SIZES:-10000 100000 1000000 10000000}"
SIZE_PARTS="${SIM_SOURCE_PARTITIONS:-12}"
read -ra SIZE_PANES <<<"${SIM_SOURCE_PANES:-20 20 5 3}"
RECORDS="${SIM_RECORDS:-2}"
WORKERS="${SIM_WORKERS:-8}"
read -ra COORD_FLAGS <<<"${SIM_COORD_FLAGS:-}"
BOUNDED="${SIM_BOUNDED:-0}"
LEARN="${SIM_LEARN_PANES:-2}"
WINDOW_MS="${SIM_WINDOW_MS:-60000}"
SIM_FLAGS=(--window-ms "$WINDOW_MS")
FANIN="${SIM_FANIN:-1}"
if [[ "$BOUNDED" != 0 ]]; then
    SIM_FLAGS+=(--bounded "$BOUNDED" --learn-panes "$LEARN")
    COORD_FLAGS=(--detect-learn-panes "$LEARN" "${COORD_FLAGS[@]}")
fi

for b in netpulse-coordinator np-bench-sim; do
    [[ -x "$IT_BIN/$b" ]] || np_die "$IT_BIN/$b missing: make build first"
done
RES="${BENCH_RESULTS:-$BENCH_ROOT/bench/results/sim-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$RES" || np_die "cannot create $RES"

it_setup bench-sim
"$IT_ROOT/infra/redis.sh" start "$IT_DIR/redis" >"$IT_DIR/redis-start.log" 2>&1 || np_die "redis did not start"
REDIS_PORT="$("$IT_ROOT/infra/redis.sh" port "$IT_DIR/redis")"

# run_one LABEL PARTITIONS SOURCES PANES [EXTRA-SIM-FLAG]
run_one() {
    local label="$1" n="$2" s="$3" panes="$4"
    local cap=$((s + 1024)) gw coord
    ((cap < 1048576)) && cap=1048576
    gw="tcp://127.0.0.1:$(np_free_port)"
    coord="tcp://127.0.0.1:$(np_free_port)"
    it_redis FLUSHALL >/dev/null
    it_start coordinator "$IT_BIN/netpulse-coordinator" --bind "$coord" --gateway "$gw" --redis-port "$REDIS_PORT" \
        --pane-ms 5000 --max-partitions "$n" --max-sources-per-pane "$cap" --max-dests-per-pane "$cap" \
        --http-port-file "$IT_DIR/coordinator.port" --window-ms "$WINDOW_MS" "${COORD_FLAGS[@]}"
    local mport
    mport="$(it_http_port coordinator)" || { np_warn "$label: coordinator did not start"; return 1; }
    np_info "$label: $n partitions, $s sources per pane, $panes panes"
    "$IT_BIN/np-bench-sim" --coordinator "$coord" --gateway "$gw" --redis-port "$REDIS_PORT" --metrics-port "$mport" \
        --coord-pid "${IT_PIDS[coordinator]}" --partitions "$n" --workers "$WORKERS" --sources "$s" \
        --records "$RECORDS" --panes "$panes" --label "$label" "${SIM_FLAGS[@]}" ${5:+"$5"} >>"$RES/results.jsonl" 2>"$RES/sim-$label.log"
    local rc=$?
    tail -n 1 "$RES/sim-$label.log" >&2
    cp "$IT_DIR/coordinator.log" "$RES/coordinator-$label.log"
    it_stop coordinator
    : >"$IT_DIR/coordinator.log"
    return $rc
}

# run_both LABEL PARTITIONS SOURCES PANES: run_one with the fan-in pool and/or (SIM_FANIN)
# per-destination sketches (bounded partials only).
run_both() {
    if [[ "$BOUNDED" != 0 && "$FANIN" != 1 ]]; then
        run_one "$1-sketches" "$2" "$3" "$4" --no-fanin || fails=$((fails + 1))
    fi
    if [[ "$BOUNDED" == 0 || "$FANIN" != 0 ]]; then
        run_one "$1" "$2" "$3" "$4" || fails=$((fails + 1))
    fi
}

# run_memory: every table of the coordinator at its cap; VmHWM against the computed bound.
run_memory() {
    local cap="${SIM_MEM_CAP:-50000}" k="${SIM_MEM_PANES:-4}" rounds="${SIM_MEM_ROUNDS:-4}"
    local s="${SIM_MEM_SOURCES:-$((2 * ${SIM_MEM_CAP:-50000}))}" n="$SIZE_PARTS" gw coord mport
    gw="tcp://127.0.0.1:$(np_free_port)"
    coord="tcp://127.0.0.1:$(np_free_port)"
    it_redis FLUSHALL >/dev/null
    it_start coordinator "$IT_BIN/netpulse-coordinator" --bind "$coord" --gateway "$gw" --redis-port "$REDIS_PORT" \
        --pane-ms 5000 --window-ms 20000 --max-partitions "$n" --max-open-panes "$k" --max-sources-per-pane "$cap" \
        --max-dests-per-pane "$cap" --detect-max-known-sources "$((2 * cap))" --zmq-max-message-bytes "$((cap < 16384 ? 1048576 : 64 * cap))" \
        --hll-pool-blocks 1024 --http-port-file "$IT_DIR/coordinator.port" "${COORD_FLAGS[@]}"
    mport="$(it_http_port coordinator)" || { np_warn "memory: coordinator did not start"; return 1; }
    np_info "memory: caps $cap, $k open panes, $s sources per pane, $rounds rounds"
    "$IT_BIN/np-bench-sim" --coordinator "$coord" --gateway "$gw" --redis-port "$REDIS_PORT" --metrics-port "$mport" \
        --coord-pid "${IT_PIDS[coordinator]}" --partitions "$n" --workers "$WORKERS" --sources "$s" --dests "$s" \
        --records "$RECORDS" --panes "$rounds" --warmup 0 --open-panes "$k" --shift-sources --label "mem$cap" \
        >>"$RES/memory.jsonl" 2>"$RES/sim-memory.log"
    local rc=$?
    tail -n 1 "$RES/sim-memory.log" >&2
    curl -sf "http://127.0.0.1:$mport/metrics" | grep -E "memory_bound|table_evictions" >"$RES/memory-metrics.txt"
    cp "$IT_DIR/coordinator.log" "$RES/coordinator-memory.log"
    it_stop coordinator
    : >"$IT_DIR/coordinator.log"
    return $rc
}

if [[ "$ONLY" == memory ]]; then
    : >"$RES/memory.jsonl"
    run_memory || np_die "memory run failed (logs in $RES)"
    python3 - "$RES/memory.jsonl" >"$RES/memory.md" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    r = json.loads(l)
    b = r["coord_bound_bytes"]
    h = r["coord_hwm_kib"] * 1024
    print("| %s open panes, %s sources and destinations per pane sent | bound %.1f MiB | VmHWM %.1f MiB | %.2f of the bound |" % (
        r["open_panes"], f'{r["sources"]:,}', b / 2**20, h / 2**20, h / b))
EOF
    cat "$RES/memory.md" "$RES/memory-metrics.txt"
    np_info "results in $RES"
    exit 0
fi

: >"$RES/results.jsonl"
fails=0
if [[ "$ONLY" == both || "$ONLY" == partitions ]]; then
    for n in $PARTS_LIST; do run_both "n$n" "$n" "$SOURCES_FIXED" "$PANES"; done
fi
if [[ "$ONLY" == both || "$ONLY" == sources ]]; then
    i=0
    for s in $SIZES; do
        run_both "s$s" "$SIZE_PARTS" "$s" "${SIZE_PANES[$i]:-3}"
        i=$((i + 1))
    done
fi

python3 - "$RES/results.jsonl" >"$RES/table.md" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| partitions | bounded | fan-in | sources/pane | panes | coord busy p50 / p99 ms (merge + finalize) | wall p50 / p99 ms | "
      "close p50 / p99 ms | coord CPU ms/pane | bytes/partial | bytes/source | coord RSS / peak MiB |")
print("|---:|---:|---|---:|---:|---|---|---|---:|---:|---:|---|")
for r in rows:
    print("| %d | %s | %s | %s | %d | %.1f / %.1f (%.1f + %.1f p50) | %.1f / %.1f | %.1f / %.1f | %.1f | %s | %.1f | %d / %d |" % (
        r["partitions"], r.get("bounded") or "whole", "pool" if r.get("fanin_pool") else "sketches" if r.get("bounded") else "-", f'{r["sources"]:,}', r["panes"], r["busy_ms_p50"], r["busy_ms_p99"], r["merge_ms_p50"],
        r["finalize_ms_p50"], r["wall_ms_p50"], r["wall_ms_p99"], r["close_ms_p50"], r["close_ms_p99"],
        r["cpu_ms_per_pane"], f'{r["bytes_per_partial"]:,.0f}', r["bytes_per_source"],
        r["coord_rss_kib"] // 1024, r["coord_hwm_kib"] // 1024))
EOF
cat "$RES/table.md"
np_info "results in $RES"
[[ $fails -eq 0 ]]
