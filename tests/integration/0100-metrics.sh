#!/usr/bin/env bash
# 0100-metrics: what every process serves on /metrics is valid and true.
#
# A cluster (2 workers) with static thresholds that raise anomalies as soon as the shortest
# warm-up (5 panes) is over gets 70k records over 35 s from the generator (throttled, so that
# it is still serving /metrics while we look). Then:
#  - `promtool check metrics` passes on the generator, both workers, the coordinator and the
#    gateway, and no series is left with the old _ms names;
#  - the gateway's latest-window gauges equal the pane window with that window_end in
#    processed-data (read back with kcat) and show the newest one; recent_anomaly_info holds
#    exactly the 10 newest anomalies published, labels (explanations) unescaped intact;
#    the publish latency histogram counted every pane window published;
#  - each worker has one lag series per owned partition (as its fleet registry entry in
#    Redis lists them), all 0 once caught up, and lag/records_per_s in the registry; its
#    checkpoint histogram counted checkpoints; records consumed by topic add up;
#  - the coordinator's merge histogram counted every partial merged, finalize > 0, and
#    anomalies_total has every kind x severity series;
#  - with the coordinator stopped the workers pause (a full outbox), and the lag of 500
#    records produced after that shows on their partition and in the fleet registry.
source "$(dirname "$0")/lib.sh"
it_setup 0100-metrics
command -v promtool >/dev/null || { np_warn "promtool missing: run infra/deps.sh"; exit 1; }
it_start_infra 12 || exit 1
# Nested CIDRs around the generator's servers (192.168.x.y): twelve threshold anomalies in
# the first pane after the warm-up, more than the ten recent_anomaly_info keeps.
export NETPULSE_DETECT_WARMUP_PANES=5
NETPULSE_DETECT_THRESHOLDS="$(for b in 16 17 18 19 20 21 22 23 24 25 26 27; do printf '192.168.0.0/%s flows=1;' $b; done)"
export NETPULSE_DETECT_THRESHOLDS="${NETPULSE_DETECT_THRESHOLDS%;}"
# A small outbox, so that the workers pause (back-pressure) at the end, when the coordinator
# is stopped: the lag while paused is then real and known.
it_start_cluster 2 --idle-ms 3000 --outbox-max 30 || exit 1

T0=$(it_t0)
COUNT=70000
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count $COUNT --speedup 1 \
    --seed 21 --sources 500 --start-ms "$T0" --http-port-file "$IT_DIR/generator.port"

PROCS=(generator worker1 worker2 coordinator gateway)
scrape() { curl -sf "http://127.0.0.1:$(it_http_port "$1")/metrics" >"$IT_DIR/$1.metrics"; }
promtool_ok() {
    scrape "$1" || return 1
    promtool check metrics <"$IT_DIR/$1.metrics" >"$IT_DIR/$1.promtool" 2>&1 \
        || { cat "$IT_DIR/$1.promtool" >&2; return 1; }
}
no_ms_names() { ! grep -E '^netpulse_[a-z_]+_ms[ {]' "$IT_DIR/$1.metrics"; }

# While the generator still produces: every process, the generator included.
np_wait_for -t 20 test -s "$IT_DIR/generator.port"
for p in "${PROCS[@]}"; do
    it_check "promtool check metrics passes on $p (while producing)" promtool_ok "$p"
    it_check "$p has no _ms series left" no_ms_names "$p"
done

# The gateway's window gauges, while windows with data are being published.
dump_results() {
    kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -J -X isolation.level=read_committed >"$IT_DIR/results.jsonl" 2>/dev/null
}
gauges_match() {
    scrape gateway && dump_results &&
        python3 "$IT_ROOT/tests/tools/metrics_check.py" window "$IT_DIR/gateway.metrics" "$IT_DIR/results.jsonl"
}
gauges_latest() {
    dump_results && scrape gateway &&
        python3 "$IT_ROOT/tests/tools/metrics_check.py" latest "$IT_DIR/gateway.metrics" "$IT_DIR/results.jsonl"
}
it_check "gateway window gauges equal a published pane window with data" np_wait_for -t 90 -i 1 gauges_match
it_check "gateway window gauges show the newest pane window" np_wait_for -t 20 -i 0.5 gauges_latest

# While producing, the coordinator's waiting pane and the workers' lag (informational: both
# depend on timing; their checks with exact values follow once the data is done).
np_info "while producing: waiting_partitions=$(it_metric coordinator netpulse_coordinator_waiting_partitions)" \
    "lag=$(it_metric_sum netpulse_worker_consumer_lag_records "${IT_WORKERS[@]}")"

# The end of the data: everything consumed, caught up, published.
it_check "generator finished" it_wait_exit generator 60
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + COUNT / 2000 * 1000 + 5000))
sleep 5 # two lag refreshes and a heartbeat after the last record

consumed="$(it_metric_sum 'netpulse_worker_records_consumed_total{topic="network-traffic"}' "${IT_WORKERS[@]}")"
it_check "records consumed from network-traffic add up to $COUNT ($consumed)" test "$consumed" -eq $COUNT
for w in "${IT_WORKERS[@]}"; do
    scrape "$w"
    it_redis GET "netpulse:workers:$w" >"$IT_DIR/$w.registry"
    it_check "$w: one lag series per owned partition, all 0, lag in the fleet registry" \
        python3 "$IT_ROOT/tests/tools/metrics_check.py" lag "$IT_DIR/$w.metrics" "$IT_DIR/$w.registry" \
        network-traffic network-traffic-repartition 12
    # One scrape (checkpoints go on every second); a checkpoint may fall between the two
    # reads of one render, hence the tolerance of 1.
    n="$(_it_metric_sum netpulse_worker_checkpoint_duration_seconds_count 1 <"$IT_DIR/$w.metrics")"
    c="$(_it_metric_sum netpulse_worker_checkpoints_total 1 <"$IT_DIR/$w.metrics")"
    it_check "$w: checkpoint histogram counted its $c checkpoints ($n)" \
        test "${n:-0}" -gt 0 -a "$(( ${n:-0} - ${c:-0} ))" -ge -1 -a "$(( ${n:-0} - ${c:-0} ))" -le 1
    it_check "promtool check metrics passes on $w (caught up)" promtool_ok "$w"
done

merged="$(it_metric coordinator netpulse_coordinator_partials_merged_total)"
mcount="$(it_metric coordinator netpulse_coordinator_merge_duration_seconds_count)"
it_check "merge histogram counted every partial merged ($mcount of $merged)" test "${mcount:-0}" -gt 0 -a "${mcount:-0}" -eq "${merged:--1}"
fcount="$(it_metric coordinator netpulse_coordinator_finalize_duration_seconds_count)"
it_check "finalize histogram count > 0 ($fcount)" test "${fcount:-0}" -gt 0
scrape coordinator
series="$(grep -c '^netpulse_coordinator_anomalies_total{kind="[a-z_]*",severity="\(info\|warning\|critical\)"}' "$IT_DIR/coordinator.metrics")"
it_check "anomalies_total: 13 kinds (incl. level_shift, intrusion) x 3 severities registered ($series)" test "$series" -eq 39
thr="$(it_metric coordinator 'netpulse_coordinator_anomalies_total{kind="threshold"}')"
it_check "threshold anomalies counted by kind ($thr)" test "${thr:-0}" -ge 12
it_check "waiting_partitions is 0 once every pane with data is published" \
    grep -qx 'netpulse_coordinator_waiting_partitions 0' "$IT_DIR/coordinator.metrics"
bound="$(it_metric coordinator netpulse_coordinator_memory_bound_bytes)"
parts="$(grep -c '^netpulse_coordinator_memory_bound_component_bytes{component="[a-z_]*"}' "$IT_DIR/coordinator.metrics")"
it_check "memory bound exported, with its components ($bound bytes, $parts components)" \
    test "${bound:-0}" -gt $((1 << 30)) -a "$parts" -eq 15 # one per np_budget part (np_budget.h)
# The same caps held against a budget of 1 MiB: refused at start, naming the key.
budget_refused() {
    local out rc
    out="$("$IT_BIN/netpulse-coordinator" --redis-port 0 --memory-budget-mb 1 2>&1)"
    rc=$?
    [[ $rc -eq 2 && "$out" == *"memory.budget.mb: the caps add up to"*"max.sources.per.pane"* ]]
}
it_check "memory.budget.mb below the caps' bound: exit 2 naming the key" budget_refused
ct="$(it_metric_ms coordinator netpulse_coordinator_complete_through_seconds)"
it_check "complete_through_seconds is a pane boundary past the data ($ct)" \
    test "$((ct % 5000))" -eq 0 -a "$ct" -ge $((T0 + COUNT / 2000 * 1000))

anomalies_ok() {
    scrape gateway && dump_results &&
        python3 "$IT_ROOT/tests/tools/metrics_check.py" anomalies "$IT_DIR/gateway.metrics" "$IT_DIR/results.jsonl"
}
it_check "recent_anomaly_info: the 10 newest anomalies published, labels intact" np_wait_for -t 20 -i 1 anomalies_ok
latency_counted() {
    local n want
    n="$(it_metric gateway netpulse_gateway_publish_latency_seconds_count)"
    dump_results
    want="$(python3 "$IT_ROOT/tests/tools/metrics_check.py" panes "$IT_DIR/results.jsonl")"
    np_info "publish latency count $n, pane windows published $want"
    [[ "$n" -gt 0 && "$n" == "$want" ]]
}
it_check "publish latency histogram counted every pane window published" np_wait_for -t 20 -i 0.3 latency_counted
last="$(it_metric_ms gateway netpulse_gateway_last_publish_timestamp_seconds)"
it_check "last_publish_timestamp_seconds is within 10 s of now" test $(( $(date +%s%3N) - last )) -lt 10000
for p in worker1 worker2 coordinator gateway; do
    it_check "promtool check metrics passes on $p (idle stream)" promtool_ok "$p"
done

# Lag that is not 0: without the coordinator no partial is acknowledged, the workers pause
# once 30 wait, and records produced after that stay behind the high watermark (asked of
# the broker while paused: the cached one stops moving with the fetches).
declare -A PAUSES=()
for w in "${IT_WORKERS[@]}"; do PAUSES[$w]="$(it_metric "$w" netpulse_worker_backpressure_pauses_total)"; done
it_check "coordinator stops cleanly on SIGTERM" it_stop coordinator TERM
# 40 s of event time: 8 panes x 6 partitions per worker, more partials than the outbox takes.
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count 80000 --speedup 0 --seed 22 --sources 500 \
    --start-ms $((T0 + COUNT / 2000 * 1000 + 30000)) 2>>"$IT_DIR/generator2.log"
paused() {
    local w
    for w in "${IT_WORKERS[@]}"; do
        [[ "$(it_metric "$w" netpulse_worker_backpressure_pauses_total)" -gt "${PAUSES[$w]}" ]] || return 1
    done
}
it_check "both workers paused for a full outbox" np_wait_for -t 30 -i 0.5 paused
lag_of_0() { it_metric_sum 'netpulse_worker_consumer_lag_records{topic="network-traffic",partition="0"}' "${IT_WORKERS[@]}"; }
sleep 3 # a lag refresh (every 2 s) since the pause
L0="$(lag_of_0)"
seq 1 500 | awk -v t=$((T0 + COUNT / 2000 * 1000 + 80000)) \
    '{ printf "10.9.0.1|{\"ts\":%d,\"src_ip\":\"10.9.0.1\",\"dst_ip\":\"192.168.0.1\",\"bytes\":10}\n", t }' | it_produce 0
lag_grew() { [[ "$(lag_of_0)" -eq $((L0 + 500)) ]]; }
it_check "paused: the lag of partition 0 grows by the 500 records produced since ($L0 -> $((L0 + 500)))" \
    np_wait_for -t 15 -i 1 lag_grew
np_info "lag of network-traffic/0 now $(lag_of_0)"
reg_lag() {
    local w sum=0 v
    for w in "${IT_WORKERS[@]}"; do
        v="$(it_redis GET "netpulse:workers:$w" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lag"])')"
        sum=$((sum + v))
    done
    [[ "$sum" -ge $((L0 + 500)) ]]
}
it_check "the fleet registry's lag shows it too" np_wait_for -t 10 -i 1 reg_lag

for p in worker1 worker2 gateway; do
    it_check "$p stops cleanly on SIGTERM" it_stop "$p" TERM
done
it_finish
