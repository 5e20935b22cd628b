#!/usr/bin/env bash
# detect-eval.sh: the whole detection evaluation of docs/detection-eval.md (a few minutes).
#   1. Cloud Monitoring (../shared/data/cloud-monitoring, read in place), one configuration for
#      every series: netpulse-detect --csv against a rolling z-score and never firing;
#   2. the same with the direction each domain's metadata names (increases / dips), and on
#      each half of the series (every other series of each domain: even, odd) on its own;
#   3. synthetic series (daily and weekly cycles, noise, level shifts, variance changes);
#   4. the generator's scenarios over seeds 1-20, offline (tools/detect-scenarios.sh).
# Tables go to OUT (default build/detect-eval), the plot to OUT/cloud.svg.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/build/detect-eval}"
mkdir -p "$OUT"
EVAL="$ROOT/tools/netpulse-eval-series"
rc=0
python3 "$EVAL" --datasets cloud --markdown "$OUT/cloud.md" --plot "$OUT/cloud.svg" --json "$OUT/cloud.json" \
    --tmp "$OUT/tmp" >/dev/null || rc=1
python3 "$EVAL" --datasets cloud --use-direction --markdown "$OUT/cloud-direction.md" --json "$OUT/cloud-direction.json" \
    --tmp "$OUT/tmp" >/dev/null || rc=1
for half in even odd; do
    python3 "$EVAL" --datasets cloud --split "$half" --no-forecast --markdown "$OUT/cloud-$half.md" \
        --json "$OUT/cloud-$half.json" --tmp "$OUT/tmp" >/dev/null || rc=1
done
python3 "$EVAL" --datasets synthetic --markdown "$OUT/synthetic.md" --json "$OUT/synthetic.json" --tmp "$OUT/tmp" \
    >/dev/null || rc=1
bash "$ROOT/tools/detect-scenarios.sh" 1 20 >"$OUT/scenarios.txt" 2>&1 || rc=1
tail -n 4 "$OUT/scenarios.txt"
echo "tables: $OUT/{cloud,cloud-direction,cloud-even,cloud-odd,synthetic}.md, $OUT/scenarios.txt; plot: $OUT/cloud.svg"
exit $rc
