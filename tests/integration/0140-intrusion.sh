#!/usr/bin/env bash
# 0140-intrusion: NSL-KDD connection records classified in the stream with the committed
# model (models/kdd-rf.model), counted per pane exactly once, published in windows and as
# `intrusion` anomalies.
#
# The whole of KDDTest+ (22,544 rows) is replayed by the generator (--kdd-replay, event
# times from a fixed start, 2000 rows/s) into network-connections (4 partitions); 2 workers
# classify it (kdd.model). Checked: the offline accuracy (tools/kdd/train.py predict with
# the committed model) is the model file's and >= 0.82; the model version is in /metrics;
# a corrupt model file is a clear start-up error; a SIGHUP with a corrupt file keeps the
# old model, a SIGHUP with a good file reloads it; worker1 is killed with SIGKILL in the
# middle of the replay and restarted; and then tests/tools/kdd_oracle.py finds in
# processed-data, recomputed from the offline classes alone: every pane window's
# `classes` = the offline counts of its rows (so the streamed classes over the file equal
# the offline ones: nothing lost, nothing counted twice across the kill and the reloads),
# and exactly the offline `intrusion` anomalies (ids, classes, counts, mean confidence).
# Nothing is dead-lettered. Per-record equality of C and tool is kdd.exactness's job.
#
# Needs the data (NP_KDD_DATA, default ../shared/data/nsl-kdd beside the repository) and the training tool's
# venv (tools/kdd/setup-venv.sh, pip); exits 77 (skipped) when the data is absent.
DATA="${NP_KDD_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data/nsl-kdd}"
if [[ ! -f "$DATA/KDDTest+.txt" ]]; then
    echo "SKIP: NSL-KDD data not found in $DATA (set NP_KDD_DATA)"
    exit 77
fi
source "$(dirname "$0")/lib.sh"
it_setup 0140-intrusion
ROWS=$(wc -l <"$DATA/KDDTest+.txt")

# Offline classes from the training tool, with the committed model.
PY="$("$IT_ROOT/tools/kdd/setup-venv.sh")" || exit 1
"$PY" "$IT_ROOT/tools/kdd/train.py" predict --model "$IT_ROOT/models/kdd-rf.model" \
    --input "$DATA/KDDTest+.txt" --out "$IT_DIR/offline.txt" 2>"$IT_DIR/offline.log" || exit 1
cat "$IT_DIR/offline.log"
declare -A OFFLINE
for c in normal DoS Probe R2L U2R; do
    OFFLINE[$c]=$(awk -v c="$c" '$2 == c' "$IT_DIR/offline.txt" | wc -l)
done
np_info "offline classes: normal=${OFFLINE[normal]} DoS=${OFFLINE[DoS]} Probe=${OFFLINE[Probe]} R2L=${OFFLINE[R2L]} U2R=${OFFLINE[U2R]}"
it_check "offline: one class per row" test "$(wc -l <"$IT_DIR/offline.txt")" -eq "$ROWS"
ACC=$(sed -n 's/.*accuracy \([0-9.]*\)$/\1/p' "$IT_DIR/offline.log")
META_ACC=$(sed -n 's/^meta metrics_KDDTest+ accuracy=\([0-9.]*\) .*/\1/p' "$IT_ROOT/models/kdd-rf.model")
it_check "offline accuracy $ACC is the model's reported $META_ACC and >= 0.82" \
    python3 -c "import sys; a, m = float('$ACC'), float('$META_ACC'); sys.exit(not (abs(a - m) < 1e-4 and a >= 0.82))"

cp "$IT_ROOT/models/kdd-rf.model" "$IT_DIR/model"
head -c 100000 "$IT_ROOT/models/kdd-rf.model" >"$IT_DIR/truncated.model"

it_start_infra 12 || exit 1

# A corrupt model is a start-up error that names the file and the problem.
"$IT_BIN/netpulse-worker" --brokers "$BOOTSTRAP" --kdd-model "$IT_DIR/truncated.model" \
    >"$IT_DIR/bad-start.log" 2>&1
rc=$?
it_check "a truncated model stops the worker at start-up (exit 2)" test "$rc" -eq 2
it_check "... with an error naming the file and the missing checksum" \
    grep -q "kdd model $IT_DIR/truncated.model: no crc32 line" "$IT_DIR/bad-start.log"

it_start_cluster 2 --kdd-model "$IT_DIR/model" || exit 1
curl -sf "http://127.0.0.1:$(it_http_port worker1)/metrics" >"$IT_DIR/worker1.metrics"
it_check "promtool check metrics passes on a classifying worker" \
    bash -c "promtool check metrics <'$IT_DIR/worker1.metrics'"
it_check "model version in /metrics" \
    test "$(it_metric worker1 'netpulse_worker_kdd_model_info{version="kdd-rf-2"}')" = 1

classified() { it_metric_sum netpulse_worker_connections_classified_total "${IT_WORKERS[@]}"; }

some_classified() { [[ "$(classified)" -gt 0 ]]; }
reloaded_ok() { [[ "$(it_metric_sum 'netpulse_worker_kdd_model_reloads_total{result="ok"}' "${IT_WORKERS[@]}")" -ge 2 ]]; }

# Replay at 2000 rows/s (~11 s of event time from T0, 3 panes); reload the model twice and
# kill a worker meanwhile.
T0=$(it_t0)
RATE=2000
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --kdd-replay "$DATA/KDDTest+.txt" \
    --rate "$RATE" --start-ms "$T0" --http-port-file "$IT_DIR/generator.port"
it_check "the workers classify the replay" np_wait_for -t 30 -i 0.2 some_classified
sleep 1
cp "$IT_DIR/truncated.model" "$IT_DIR/model"
kill -HUP "${IT_PIDS[worker1]}" "${IT_PIDS[worker2]}"
sleep 1
it_check "a bad file on SIGHUP is refused and counted (both workers)" \
    test "$(it_metric_sum 'netpulse_worker_kdd_model_reloads_total{result="error"}' "${IT_WORKERS[@]}")" -eq 2
it_check "... and the old model stays loaded" \
    test "$(it_metric worker2 'netpulse_worker_kdd_model_info{version="kdd-rf-2"}')" = 1
cp "$IT_ROOT/models/kdd-rf.model" "$IT_DIR/model"
kill -HUP "${IT_PIDS[worker1]}" "${IT_PIDS[worker2]}"
it_check "a good file on SIGHUP is loaded (both workers)" np_wait_for -t 10 -i 0.2 reloaded_ok
w1="$(it_metric worker1 netpulse_worker_connections_classified_total)"
it_check "worker1 classified rows before it is killed ($w1)" test "${w1:-0}" -gt 0
it_check "the reloads and the kill happen while the replay runs" test "$(classified)" -lt "$ROWS"
it_stop worker1 KILL
it_restart_worker worker1
it_wait_exit generator 60 || np_warn "generator still running"
it_check "every row replayed" grep -q "produced=$ROWS delivered=$ROWS" "$IT_DIR/generator.log"

LAST=$(( (T0 + (ROWS - 1) * 1000 / RATE) / 5000 * 5000 ))
last_window() {
    kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_committed -f '%k\n' 2>/dev/null \
        | grep -qx "window:$LAST:$((LAST + 5000))"
}
it_check "the last pane's window is published" np_wait_for -t 120 -i 1 last_window
sleep 3 # anything published twice would show now
kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -J -X isolation.level=read_committed >"$IT_DIR/results.jsonl"
it_check "windows and intrusion anomalies = offline (kdd_oracle)" \
    python3 "$IT_ROOT/tests/tools/kdd_oracle.py" --predictions "$IT_DIR/offline.txt" \
    --results "$IT_DIR/results.jsonl" --start-ms "$T0" --rate "$RATE"
it_check "some intrusion anomalies were published" \
    test "$(grep -c '\\"kind\\":\\"intrusion\\"' "$IT_DIR/results.jsonl")" -gt 0
it_check "no record invalid" \
    test "$(it_metric_sum netpulse_worker_connections_invalid_total "${IT_WORKERS[@]}")" -eq 0
it_check "nothing dead-lettered (no late connection)" \
    test "$(kcat -b "$BOOTSTRAP" -C -t network-traffic-dlq -e -q -f 'x\n' 2>/dev/null | wc -l)" -eq 0
it_check "both workers own connection partitions" test \
    "$(it_metric worker1 netpulse_worker_assigned_connection_partitions)" -gt 0 -a \
    "$(it_metric worker2 netpulse_worker_assigned_connection_partitions)" -gt 0
it_finish
