#!/usr/bin/env bash
# bench/run.sh — the benchmark harness (issue 6). Not part of `make test`.
#
# Starts its own Kafka (KRaft) and Redis on free loopback ports, runs every benchmark
# against them, prints one table and stops everything it started on exit (also on failure
# or Ctrl-C). Every throughput figure is a ratio to a reference measured in the same run,
# because the machines are noisy: the raw librdkafka consumer for the worker, the raw
# librdkafka producer for the generator, one worker for two.
#
#   bench/run.sh [--records N] [--sources N] [--event-rate N] [--latency-rates "N ..."]
#                [--latency-s S] [--mem-sources "N N ..."] [--memcap-records N] [--only PHASES]
#
# Defaults (environment in brackets): 2,000,000 records [BENCH_RECORDS] from 10,000 sources
# [BENCH_SOURCES] at 100,000 records per second of event time [BENCH_EVENT_RATE]; latency at
# 100,000 and 20,000 records/s, 45 s each [BENCH_LATENCY_RATES, BENCH_LATENCY_S]; memory per
# source with 100k, 1M and 10M sources [BENCH_MEM_SOURCES]; memory cap with 1,000,000
# records [BENCH_MEMCAP_RECORDS]. --only takes a comma list of: produce, throughput, csv,
# scaling, latency, memory, memcap, checkpoint (default: all). BENCH_PERF=1 also records a
# flat CPU profile (perf, cpu-clock) of each worker run into perf-LABEL.txt.
# BENCH_WORKER_FLAGS / BENCH_GATEWAY_FLAGS add flags to every worker / the gateway, and
# NP_BUILD_DIR picks the binaries (A/B experiments). BENCH_VIEWS sets operator views in
# every process (default none).
#
# Results: bench/results/<UTC time>/ (git-ignored): one JSON per phase, results.json and
# table.md. Logs of every process stay in the temp dir when a phase fails.
set -uo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NP_ROOT="$BENCH_ROOT"
export NP_BUILD_DIR="${NP_BUILD_DIR:-$BENCH_ROOT/build}"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
source "$BENCH_ROOT/tests/integration/lib.sh"
export NP_LOG_TAG=bench
# The tests' operator views are not part of the default figures; BENCH_VIEWS sets views
# for every process (e.g. to measure what they cost the worker).
export NETPULSE_VIEWS="${BENCH_VIEWS-}"

RECORDS="${BENCH_RECORDS:-2000000}"
SOURCES="${BENCH_SOURCES:-10000}"
EVENT_RATE="${BENCH_EVENT_RATE:-100000}"
LAT_RATES="${BENCH_LATENCY_RATES:-100000 20000}"
LAT_S="${BENCH_LATENCY_S:-45}"
MEM_SOURCES="${BENCH_MEM_SOURCES:-100000 1000000 10000000}"
MEMCAP_RECORDS="${BENCH_MEMCAP_RECORDS:-1000000}"
ONLY="${BENCH_ONLY:-all}"
PARTS="${NETPULSE_PARTITIONS:-12}"
read -ra EXTRA_WORKER_FLAGS <<<"${BENCH_WORKER_FLAGS:-}"
read -ra EXTRA_GATEWAY_FLAGS <<<"${BENCH_GATEWAY_FLAGS:-}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --records) RECORDS="$2"; shift 2 ;;
        --sources) SOURCES="$2"; shift 2 ;;
        --event-rate) EVENT_RATE="$2"; shift 2 ;;
        --latency-rates) LAT_RATES="$2"; shift 2 ;;
        --latency-s) LAT_S="$2"; shift 2 ;;
        --mem-sources) MEM_SOURCES="$2"; shift 2 ;;
        --memcap-records) MEMCAP_RECORDS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) np_die "unknown argument: $1 (see --help)" ;;
    esac
done

RES="${BENCH_RESULTS:-$BENCH_ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$RES" || np_die "cannot create $RES"
BK="$IT_BIN/np-bench-kafka"
for b in netpulse-worker netpulse-coordinator netpulse-gateway netpulse-generator np-bench-kafka np-bench-mem \
    np-bench-ckpt; do
    [[ -x "$IT_BIN/$b" ]] || np_die "$IT_BIN/$b missing: cmake --build build first"
done

want() { [[ "$ONLY" == all || ",$ONLY," == *",$1,"* ]]; }

# Pane-aligned event time 20 minutes ago: the preloaded records lie in the past, as in tests.
# shellcheck disable=SC2017 # the division floors on purpose
T0=$(( ($(date +%s) - 1200) / 5 * 5000 ))

# gen_to TOPIC FORMAT COUNT [flags...]: the generator, unthrottled, into TOPIC; its summary
# line becomes $RES/gen-TOPIC.json.
gen_to() {
    local topic="$1" fmt="$2" count="$3"
    shift 3
    "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --topic "$topic" --format "$fmt" --count "$count" \
        --rate "$EVENT_RATE" --sources "$SOURCES" --seed 6 --speedup 0 --start-ms "$T0" --log-progress-ms 3600000 \
        "$@" 2>"$IT_DIR/gen-$topic.log" || { tail -5 "$IT_DIR/gen-$topic.log" >&2; return 1; }
    awk '/event=summary/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "{\"records\":%s,\"seconds\":%s,\"records_per_s\":%s}\n", v["delivered"], v["elapsed_s"], v["rate_per_s"]
    }' "$IT_DIR/gen-$topic.log" >"$RES/gen-$topic.json"
}

# raw_consume TOPIC OUTNAME: the ceiling, with the fetch settings netpulse-worker uses.
raw_consume() {
    "$BK" consume -b "$BOOTSTRAP" -t "$1" -X queued.min.messages=300000 >"$RES/$2.json" 2>>"$IT_DIR/bench-kafka.log"
}

vm_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
# cpu_ms PID: the process's user + system CPU so far, in ms (on a shared machine the
# worker's CPU per record is steadier than its wall-clock rate).
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' "/proc/$1/stat"; }

GW_EP=""
start_gateway() {
    GW_EP="tcp://127.0.0.1:$(np_free_port)"
    it_start gateway "$IT_BIN/netpulse-gateway" --brokers "$BOOTSTRAP" --bind "$GW_EP" \
        --http-port-file "$IT_DIR/gateway.port" "${EXTRA_GATEWAY_FLAGS[@]}"
}

# cluster_up LABEL TOPIC WORKERS [worker flags...]: a coordinator with its own state in
# Redis, and WORKERS workers in their own consumer group on TOPIC (and TOPIC-repartition).
CL_WORKERS=()
CL_COORD=""
cluster_up() {
    local label="$1" topic="$2" n="$3" i ep
    shift 3
    ep="tcp://127.0.0.1:$(np_free_port)"
    CL_COORD="coord-$label"
    it_start "$CL_COORD" "$IT_BIN/netpulse-coordinator" --bind "$ep" --gateway "$GW_EP" --redis-port "$REDIS_PORT" \
        --state-name "bench-$label" --http-port-file "$IT_DIR/$CL_COORD.port" "${COORD_FLAGS[@]}"
    CL_WORKERS=()
    for ((i = 1; i <= n; i++)); do
        it_start "w$i-$label" "$IT_BIN/netpulse-worker" --brokers "$BOOTSTRAP" --coordinator "$ep" \
            --redis-port "$REDIS_PORT" --worker-id "w$i-$label" --group-id "bench-$label" --topic "$topic" \
            --repartition-topic "$topic-repartition" --http-port-file "$IT_DIR/w$i-$label.port" "$@" \
            "${EXTRA_WORKER_FLAGS[@]}"
        CL_WORKERS+=("w$i-$label")
    done
}

cluster_down() {
    local n
    for n in "${CL_WORKERS[@]}" "$CL_COORD"; do it_stop "$n"; done
    CL_WORKERS=()
}
COORD_FLAGS=()

# worker_run LABEL TOPIC WORKERS TARGET [worker flags...]: times the workers from their
# first consumed record until they have consumed TARGET; writes $RES/worker-LABEL.json.
worker_run() {
    local label="$1" topic="$2" n="$3" target="$4" w ports=() out rss=0 ckpt partials cpu0=0 cpu=0
    shift 4
    cluster_up "$label" "$topic" "$n" "$@"
    for w in "${CL_WORKERS[@]}"; do cpu0=$((cpu0 + $(cpu_ms "${IT_PIDS[$w]}"))); done
    for w in "${CL_WORKERS[@]}"; do ports+=(-p "$(it_http_port "$w")"); done
    local perf_pid=""
    if [[ -n "${BENCH_PERF:-}" ]]; then # a flat CPU profile of the (first) worker
        perf record -q -e cpu-clock -F 999 -p "${IT_PIDS[${CL_WORKERS[0]}]}" -o "$RES/perf-$label.data" \
            2>>"$IT_DIR/perf.log" &
        perf_pid=$!
    fi
    # Timed once the group has settled (every input partition owned, every worker owning
    # some): a rebalance is not throughput.
    if ! out="$("$BK" watch "${ports[@]}" -m netpulse_worker_records_consumed_total -n "$target" -s 600 \
        -g "$PARTS" 2>>"$IT_DIR/bench-kafka.log")"; then
        np_warn "worker run $label did not finish"
        cluster_down
        return 1
    fi
    if [[ -n "$perf_pid" ]]; then
        kill -INT "$perf_pid" 2>/dev/null
        wait "$perf_pid"
        perf report -i "$RES/perf-$label.data" --stdio --no-children --sort dso,symbol 2>/dev/null \
            | grep -v '^#' | grep -v '^$' | head -40 >"$RES/perf-$label.txt"
    fi
    for w in "${CL_WORKERS[@]}"; do rss=$((rss + $(vm_kb "${IT_PIDS[$w]}" VmHWM))); done
    for w in "${CL_WORKERS[@]}"; do cpu=$((cpu + $(cpu_ms "${IT_PIDS[$w]}"))); done
    local owned=""
    for w in "${CL_WORKERS[@]}"; do owned+="${owned:+,}$(it_metric "$w" netpulse_worker_assigned_partitions)"; done
    ckpt="$(it_metric_sum netpulse_worker_checkpoints_total "${CL_WORKERS[@]}")"
    partials="$(it_metric_sum netpulse_worker_partials_sent_total "${CL_WORKERS[@]}")"
    local ckpt_bytes
    ckpt_bytes="$(it_metric_sum netpulse_worker_checkpoint_bytes_total "${CL_WORKERS[@]}")"
    printf '%s\n' "${out%\}},\"workers\":$n,\"input_partitions_owned\":[$owned],\"peak_rss_kb\":$rss,\"checkpoints\":$ckpt,\"partials\":$partials,\"checkpoint_bytes\":$ckpt_bytes,\"cpu_ms\":$((cpu - cpu0))}" \
        >"$RES/worker-$label.json"
    cluster_down
}

# memcap_done: true once worker $w consumed $N records; keeps the peak of its pane state
# (tables plus sketch blocks).
memcap_done() {
    local s b c
    s="$(it_metric "$w" netpulse_worker_state_bytes)"
    b="$(it_metric "$w" netpulse_worker_sketch_blocks)"
    s=$((${s:-0} + ${b:-0} * 1024))
    ((s > peak_state)) && peak_state="$s"
    c="$(it_metric "$w" netpulse_worker_records_consumed_total)"
    [[ "${c:-0}" -ge "$N" ]]
}

records_in() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$RES/$1.json"; }

# ---- set-up ---------------------------------------------------------------------------
it_setup bench
np_info "results in $RES"
it_start_infra "$PARTS" || exit 1
topics=()
for t in bench-json bench-csv bench-raw bench-mem; do topics+=("$t:$PARTS" "$t-repartition:$PARTS"); done
for rate in $LAT_RATES; do topics+=("bench-lat-$rate:$PARTS" "bench-lat-$rate-repartition:$PARTS"); done
"$BK" topics -b "$BOOTSTRAP" "${topics[@]}" >/dev/null 2>>"$IT_DIR/bench-kafka.log" || np_die "creating topics failed"
start_gateway
printf '{"records":%s,"sources":%s,"event_rate":%s,"partitions":%s,"nproc":%s,"date":"%s"}\n' "$RECORDS" \
    "$SOURCES" "$EVENT_RATE" "$PARTS" "$(nproc)" "$(date -u +%FT%TZ)" >"$RES/params.json"

# ---- 3. generator versus a raw producer of the same records ---------------------------
# The generator's run is also the preload of bench-json for the throughput figures.
if want produce || want throughput || want scaling; then
    np_info "generator: $RECORDS JSON records into bench-json"
    gen_to bench-json json "$RECORDS" || exit 1
    "$IT_BIN/netpulse-generator" --output "$IT_DIR/records.jsonl" --format json --count "$RECORDS" --rate "$EVENT_RATE" \
        --sources "$SOURCES" --seed 6 --speedup 0 --start-ms "$T0" 2>/dev/null || np_die "generator --output failed"
    np_info "raw librdkafka producer: the same records into bench-raw"
    "$BK" produce -b "$BOOTSTRAP" -t bench-raw -f "$IT_DIR/records.jsonl" >"$RES/raw-produce.json" \
        2>>"$IT_DIR/bench-kafka.log" || np_die "raw producer failed"
    rm -f "$IT_DIR/records.jsonl"
fi

# ---- 1 + 2. raw consumer ceiling and worker throughput --------------------------------
if want throughput; then
    N="$(records_in gen-bench-json)"
    np_info "raw consumer, then 1 worker, then raw consumer again on bench-json ($N records)"
    raw_consume bench-json raw-json-1 || np_die "raw consumer failed"
    worker_run json bench-json 1 "$N" || exit 1
    raw_consume bench-json raw-json-2 || np_die "raw consumer failed"
fi
if want csv; then
    np_info "generator: $RECORDS CSV records into bench-csv"
    gen_to bench-csv csv "$RECORDS" || exit 1
    N="$(records_in gen-bench-csv)"
    raw_consume bench-csv raw-csv-1 || np_die "raw consumer failed"
    worker_run csv bench-csv 1 "$N" || exit 1
    raw_consume bench-csv raw-csv-2 || np_die "raw consumer failed"
fi

# ---- 6a. one versus two workers --------------------------------------------------------
if want scaling; then
    N="$(records_in gen-bench-json)"
    np_info "scaling: 1 worker, then 2 workers on bench-json"
    worker_run scale1 bench-json 1 "$N" || exit 1
    worker_run scale2 bench-json 2 "$N" || exit 1
fi

# ---- 4. end-to-end latency at a fixed rate --------------------------------------------
# latency_run RATE: records at RATE per second in real time for LAT_S s through a cluster
# of one worker; writes $RES/latency-RATE.json and latency-RATE-samples.csv.
latency_run() {
    local rate="$1" since until_ms lat_pid sampler_pid consumed delivered
    np_info "latency: $rate records/s in real time for ${LAT_S}s (1 worker), port scan after 30 s"
    # Detection live after 5 panes, so that the injected port scan raises an anomaly in time.
    COORD_FLAGS=(--detect-warmup-panes 5 --detect-learn-panes 4)
    cluster_up "latency-$rate" "bench-lat-$rate" 1
    COORD_FLAGS=()
    IT_WORKERS=("${CL_WORKERS[@]}")
    it_wait_assigned "$PARTS" || true
    # Windows from the first whole pane to the last pane that closes (end + 2 s of lateness)
    # while records still flow: after the generator stops, the last panes wait for idle.ms.
    local t0
    t0="$(date +%s%3N)"
    since="$((t0 + 5000))"
    until_ms="$((t0 + LAT_S * 1000 - 3000))"
    "$BK" latency -b "$BOOTSTRAP" -t processed-data -s $((LAT_S + 15)) -l 2000 -a "$since" -u "$until_ms" \
        >"$IT_DIR/latency.json" 2>>"$IT_DIR/bench-kafka.log" &
    lat_pid=$!
    # Once a second: how far event time at the coordinator (global watermark) and the
    # worker's consumption trail the wall clock, to explain the latency figures.
    (
        echo "wall_ms,global_watermark_ms,consumed"
        while sleep 1; do
            echo "$(date +%s%3N),$(it_metric_ms "$CL_COORD" netpulse_coordinator_global_watermark_seconds)," \
                "$(it_metric_sum netpulse_worker_records_consumed_total "${CL_WORKERS[@]}")"
        done
    ) >"$RES/latency-$rate-samples.csv" 2>/dev/null &
    sampler_pid=$!
    "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --topic "bench-lat-$rate" --rate "$rate" --duration "$LAT_S" --speedup 1 \
        --sources "$SOURCES" --seed 7 --scenario port_scan --scenario-warmup-s 30 --scenario-event-s 20 \
        --log-progress-ms 3600000 2>"$IT_DIR/gen-latency-$rate.log" || np_warn "latency generator failed"
    wait "$lat_pid" || np_warn "latency reader failed"
    kill "$sampler_pid" 2>/dev/null
    wait "$sampler_pid" 2>/dev/null
    consumed="$(it_metric_sum netpulse_worker_records_consumed_total "${CL_WORKERS[@]}")"
    delivered="$(awk '/event=summary/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "delivered") print kv[2] } }' \
        "$IT_DIR/gen-latency-$rate.log")"
    printf '%s,"rate":%s,"seconds":%s,"produced":%s,"consumed":%s}\n' "$(sed 's/}$//' "$IT_DIR/latency.json")" \
        "$rate" "$LAT_S" "${delivered:-0}" "$consumed" >"$RES/latency-$rate.json"
    cluster_down
}

if want latency; then
    for rate in $LAT_RATES; do latency_run "$rate"; done
fi

# ---- 5a. memory per active source per pane ---------------------------------------------
if want memory; then
    np_info "memory per source: $MEM_SOURCES"
    # shellcheck disable=SC2086 # a list of sizes
    "$IT_BIN/np-bench-mem" --json $MEM_SOURCES >"$RES/memory.json" || np_die "np-bench-mem failed"
fi

# ---- 5b. the worker's memory under its caps, with eviction -----------------------------
if want memcap; then
    MAXSRC=1024 POOL=1024
    np_info "memory cap: $MEMCAP_RECORDS records from 1,000,000 sources, max.sources.per.pane=$MAXSRC"
    SOURCES_SAVED="$SOURCES"
    SOURCES=1000000
    gen_to bench-mem json "$MEMCAP_RECORDS" || exit 1
    SOURCES="$SOURCES_SAVED"
    N="$(records_in gen-bench-mem)"
    cluster_up memcap bench-mem 1 --max-sources-per-pane "$MAXSRC" --max-dests-per-pane "$MAXSRC" \
        --hll-pool-blocks "$POOL"
    w="${CL_WORKERS[0]}"
    it_http_port "$w" >/dev/null
    rss0="$(vm_kb "${IT_PIDS[$w]}" VmRSS)"
    peak_state=0
    np_wait_for -q -t 300 -i 0.5 memcap_done || np_warn "memcap worker did not consume everything"
    printf '{"records":%s,"max_sources_per_pane":%s,"max_dests_per_pane":%s,"hll_pool_blocks":%s,"slots":%s,"open_panes":4,"rss_start_kb":%s,"peak_rss_kb":%s,"peak_state_bytes":%s,"evictions":%s,"sketch_pool_exhausted":%s,"consumed":%s}\n' \
        "$N" "$MAXSRC" "$MAXSRC" "$POOL" $((2 * PARTS)) "$rss0" "$(vm_kb "${IT_PIDS[$w]}" VmHWM)" "${peak_state:-0}" \
        "$(it_metric "$w" netpulse_worker_source_evictions_total)" \
        "$(it_metric "$w" netpulse_worker_sketch_pool_exhausted_total)" \
        "$(it_metric "$w" netpulse_worker_records_consumed_total)" >"$RES/memcap.json"
    cluster_down
fi

# ---- 6b. checkpoint cost versus state size ---------------------------------------------
if want checkpoint; then
    np_info "checkpoint cost: 1k, 10k, 100k sources"
    "$IT_BIN/np-bench-ckpt" "$REDIS_PORT" 1000 10000 100000 >"$RES/checkpoint.json" || np_die "np-bench-ckpt failed"
fi

it_stop gateway
python3 "$BENCH_ROOT/bench/report.py" "$RES" || np_die "report failed"
np_info "results: $RES/table.md"
