#!/usr/bin/env bash
# 0140-intrusion: NSL-KDD connection records classified in the stream with the committed
# model (models/kdd-rf.model).
#
# The whole of KDDTest+ (22,544 rows) is replayed by the generator (--kdd-replay) into
# network-connections; 2 workers classify it (kdd.model). Checked: the streamed class
# counts equal the training tool's offline classes (tools/kdd/train.py predict) class by
# class, so the accuracy is the reported one (the offline classes are scored against the
# labels and compared with the model file's metrics line); the model version is in
# /metrics; a corrupt model file is a clear start-up error; a SIGHUP with a corrupt file
# keeps the old model, a SIGHUP with a good file reloads it, and no record is lost or
# counted twice across the reloads.
#
# What this does NOT cover (not built yet, docs/intrusion.md): class counts in windows,
# `intrusion` anomalies, exactly-once across worker crashes (the connections consumer
# auto-commits: at-least-once).
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
    test "$(it_metric worker1 'netpulse_worker_kdd_model_info{version="kdd-rf-1"}')" = 1

classified() { it_metric_sum netpulse_worker_connections_classified_total "${IT_WORKERS[@]}"; }

some_classified() { [[ "$(classified)" -gt 0 ]]; }
reloaded_ok() { [[ "$(it_metric_sum 'netpulse_worker_kdd_model_reloads_total{result="ok"}' "${IT_WORKERS[@]}")" -ge 2 ]]; }

# Replay at 2000 rows/s (~11 s) and reload the model twice meanwhile.
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --kdd-replay "$DATA/KDDTest+.txt" \
    --rate 2000 --http-port-file "$IT_DIR/generator.port"
it_check "the workers classify the replay" np_wait_for -t 30 -i 0.2 some_classified
sleep 1
cp "$IT_DIR/truncated.model" "$IT_DIR/model"
kill -HUP "${IT_PIDS[worker1]}" "${IT_PIDS[worker2]}"
sleep 1
it_check "a bad file on SIGHUP is refused and counted (both workers)" \
    test "$(it_metric_sum 'netpulse_worker_kdd_model_reloads_total{result="error"}' "${IT_WORKERS[@]}")" -eq 2
it_check "... and the old model stays loaded" \
    test "$(it_metric worker2 'netpulse_worker_kdd_model_info{version="kdd-rf-1"}')" = 1
cp "$IT_ROOT/models/kdd-rf.model" "$IT_DIR/model"
kill -HUP "${IT_PIDS[worker1]}" "${IT_PIDS[worker2]}"
it_check "a good file on SIGHUP is loaded (both workers)" np_wait_for -t 10 -i 0.2 reloaded_ok
it_check "the reloads happened while the replay ran" \
    test "$(classified)" -lt "$ROWS"
it_wait_exit generator 60 || np_warn "generator still running"
it_check "every row replayed" grep -q "produced=$ROWS delivered=$ROWS" "$IT_DIR/generator.log"

all_classified() { [[ "$(classified)" -ge "$ROWS" ]]; }
it_check "all $ROWS rows classified by the workers" np_wait_for -t 60 -i 0.5 all_classified
sleep 2 # anything counted twice would show now
it_check "... exactly once each" test "$(classified)" -eq "$ROWS"
it_check "no record invalid" \
    test "$(it_metric_sum netpulse_worker_connections_invalid_total "${IT_WORKERS[@]}")" -eq 0
for c in normal DoS Probe R2L U2R; do
    got="$(it_metric_sum "netpulse_worker_connections_classified_total{class=\"$c\"}" "${IT_WORKERS[@]}")"
    it_check "streamed $c = offline $c (${OFFLINE[$c]}): $got" test "$got" -eq "${OFFLINE[$c]}"
done
it_check "both workers classified some rows" test \
    "$(it_metric worker1 netpulse_worker_connections_classified_total)" -gt 0 -a \
    "$(it_metric worker2 netpulse_worker_connections_classified_total)" -gt 0
it_finish
