#!/usr/bin/env bash
# detect-scenarios.sh: the scenario goals over many seeds, offline (no Kafka, no cluster).
#
# For each seed: netpulse-generator --scenario mixed --output (records to a file, event time
# from a fixed start), netpulse-detect --records over them (the coordinator's detectors on
# the same panes), tools/netpulse-eval against the ground truth. Prints one line per seed and
# the totals: recall, false alerts per simulated hour, median delay, forecast R2 / MAE next
# to the last-value baseline. Exits 1 when a goal (recall 1, <= 1 false alert per hour per
# seed, median delay <= 1 pane) is missed.
#   tools/detect-scenarios.sh [FIRST_SEED] [LAST_SEED] [netpulse-detect options...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${NETPULSE_BIN:-$ROOT/build}"
first="${1:-1}" last="${2:-20}"
shift $(( $# >= 2 ? 2 : $# ))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for seed in $(seq "$first" "$last"); do
    "$BIN/netpulse-generator" --output "$tmp/r.jsonl" --rate 200 --speedup 0 --scenario mixed --seed "$seed" \
        --start-ms 1700000000000 --truth "$tmp/t.jsonl" --log.level warn
    "$BIN/netpulse-detect" --records "$tmp/r.jsonl" --forecasts --output "$tmp/o.jsonl" --log.level warn "$@"
    python3 "$ROOT/tools/netpulse-eval" --truth "$tmp/t.jsonl" --results "$tmp/o.jsonl" --json >"$tmp/e$seed.json"
done
python3 - "$tmp" "$first" "$last" <<'PY'
import json, statistics, sys
tmp, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ev = det = fa = 0; hours = 0.0; delays = []; bad = []
fc = {"netpulse": [], "last_value": []}
for seed in range(first, last + 1):
    s = json.load(open(f"{tmp}/e{seed}.json"))
    ev += s["events"]; det += s["detected"]; fa += s["false_alerts"]; hours += s["baseline_hours"]
    delays.append(s["median_delay_ms"])
    for k in fc:
        fc[k].append((s["forecast_baselines"][k]["r2"], s["forecast_baselines"][k]["mae"]))
    fph = s["false_alerts"] / s["baseline_hours"] if s["baseline_hours"] else 0
    print(f"seed {seed:3d}: recall {s['recall']:.2f} false {s['false_alerts']} ({fph:.1f}/h) median delay "
          f"{s['median_delay_ms']} ms  forecast R2 {s['forecast_baselines']['netpulse']['r2']} "
          f"MAE {s['forecast_baselines']['netpulse']['mae']} | last value R2 {s['forecast_baselines']['last_value']['r2']} "
          f"MAE {s['forecast_baselines']['last_value']['mae']}"
          + "".join(f"  false: {a['kind']} {a['entity']}" for a in s["false_alert_list"]))
    if s["recall"] < 1: bad.append(f"seed {seed}: recall {s['recall']} missed {s['missed']}")
    if fph > 1: bad.append(f"seed {seed}: {fph:.2f} false alerts per hour")
    if s["median_delay_ms"] is None or s["median_delay_ms"] > 5000: bad.append(f"seed {seed}: median delay {s['median_delay_ms']}")
print(f"TOTAL seeds {first}-{last}: events {ev} detected {det} recall {det/ev:.3f}; false alerts {fa} over {hours:.2f} h "
      f"= {fa/hours:.2f}/h; median of per-seed median delays {statistics.median(delays):.0f} ms (max {max(delays):.0f})")
for k, v in fc.items():
    print(f"forecast {k:10s}: mean R2 {statistics.fmean(r for r, _ in v):.4f}  mean MAE {statistics.fmean(m for _, m in v):.1f}")
for b in bad: print("GOAL MISSED:", b)
sys.exit(1 if bad else 0)
PY
