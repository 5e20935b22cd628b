#!/usr/bin/env bash
# detect-eval-quick: a short run of the detection evaluation (docs/detection-eval.md).
#   - --csv keeps every row: the Cloud Monitoring series with empty values come out with as
#     many rows as they went in, the empty ones marked "missing" and counted in the log;
#   - on the first series of each Cloud Monitoring domain, netpulse's early-detection (NAB)
#     score at the default threshold beats a rolling z-score and a detector that never fires;
#   - 3 synthetic series (cycles, noise, level shifts) are scored without error.
# Skips (exit 77) when the data set is not at ../shared/data/cloud-monitoring (or $NP_CLOUD_DATA).
set -euo pipefail
ROOT="${NP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
BIN="${NP_BUILD_DIR:-$ROOT/build}"
DATA="${NP_CLOUD_DATA:-$ROOT/../shared/data/cloud-monitoring}"
if [ ! -d "$DATA/data" ]; then
    echo "SKIP: Cloud Monitoring data set not found at $DATA (set NP_CLOUD_DATA; see docs/detection-eval.md)"
    exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
f="$DATA/data/application-crash-rate-1/app1-06.csv"
"$BIN/netpulse-detect" --csv "$f" --output "$tmp/out.csv" 2>"$tmp/log"
rows_in=$(awk 'END { print NR - 1 }' "$f") rows_out=$(awk 'END { print NR - 1 }' "$tmp/out.csv")
empty_in=$(tail -n +2 "$f" | awk -F, '$2 == ""' | wc -l)
missing_out=$(grep -c ',missing,' "$tmp/out.csv" || true)
echo "app1-06: $rows_in rows in, $rows_out out; $empty_in empty values, $missing_out marked missing"
grep -q "event=done .*missing=$empty_in " "$tmp/log" || { echo "FAIL: the log does not count $empty_in missing"; cat "$tmp/log"; exit 1; }
[ "$rows_in" = "$rows_out" ] && [ "$empty_in" -gt 0 ] && [ "$empty_in" = "$missing_out" ] || { echo "FAIL: rows lost or unmarked"; exit 1; }
python3 "$ROOT/tools/netpulse-eval-series" --bin "$BIN/netpulse-detect" --data "$DATA" --quick \
    --datasets cloud --sweep 0.96 --tmp "$tmp/synth" --require-beats-baselines | grep -E '^\| \*\*all|^####'
# Three synthetic series are too few to compare detectors (on them the rolling z-score scores
# higher; on the report's 12 netpulse does): here they only have to run.
python3 "$ROOT/tools/netpulse-eval-series" --bin "$BIN/netpulse-detect" --datasets synthetic \
    --synthetic-count 3 --sweep 0.96 --tmp "$tmp/synth" | grep -E '^\| \*\*all'
