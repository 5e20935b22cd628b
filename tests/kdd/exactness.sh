#!/usr/bin/env bash
# The C classifier (np-kdd-classify, the worker's np_kdd_model) gives the training tool's
# class and confidence on every row of KDDTest+ and KDDTest-21 with the committed model.
# Needs the NSL-KDD data (NP_KDD_DATA, default ../shared/data/nsl-kdd beside the repository) and the tool's
# venv (tools/kdd/setup-venv.sh, pip); exits 77 (skipped) with a message when the data is
# absent.
set -euo pipefail
root="${NP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
build="${NP_BUILD_DIR:-$root/build}"
data="${NP_KDD_DATA:-$root/../shared/data/nsl-kdd}"
model="$root/models/kdd-rf.model"
if [[ ! -f "$data/KDDTest+.txt" ]]; then
    echo "SKIP: NSL-KDD data not found in $data (set NP_KDD_DATA)"
    exit 77
fi
py="$("$root/tools/kdd/setup-venv.sh")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for f in KDDTest+ KDDTest-21; do
    "$py" "$root/tools/kdd/train.py" predict --model "$model" --input "$data/$f.txt" \
        --out "$tmp/py.txt"
    "$build/np-kdd-classify" "$model" "$data/$f.txt" > "$tmp/c.txt"
    python3 - "$tmp/py.txt" "$tmp/c.txt" "$f" <<'PY'
import sys
a = [l.split() for l in open(sys.argv[1])]
b = [l.split() for l in open(sys.argv[2])]
if len(a) != len(b) or not a:
    sys.exit(f"{sys.argv[3]}: {len(a)} tool rows, {len(b)} C rows")
bad = [i for i, (x, y) in enumerate(zip(a, b))
       if x[0] != y[0] or float.fromhex(x[2]) != float.fromhex(y[2])]
if bad:
    sys.exit(f"{sys.argv[3]}: {len(bad)} rows differ, first row {bad[0] + 1}: {a[bad[0]]} vs {b[bad[0]]}")
print(f"{sys.argv[3]}: {len(a)} rows, classes and confidences identical")
PY
done
