#!/usr/bin/env bash
# tests/grafana/validate.sh — the dashboards in grafana/dashboards/ against Grafana's published
# schema (@grafana/schema, through validate.mjs and tsc), and proof that the check bites:
# deliberately broken copies (in a temp dir) must each be rejected.
#
# Installs its npm packages with `npm ci` from package-lock.json (the npm registry, nothing
# else). Also checks that the JSON is what grafana/dashboards.py generates.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
passed=0
failed=0
check() {
    local desc="$1"
    shift
    if "$@"; then passed=$((passed + 1)); echo "PASS: $desc"; else failed=$((failed + 1)); echo "FAIL: $desc"; fi
}

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }
check "dashboards are up to date with grafana/dashboards.py" python3 "$root/grafana/dashboards.py" --check
check "traffic, anomalies and fleet pass @grafana/schema" \
    node "$here/validate.mjs" "$root"/grafana/dashboards/{traffic,anomalies,fleet}.json

tmp="$(mktemp -d /tmp/netpulse-grafana.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
# broken NAME JS: a copy of traffic.json with the JS statement applied to `d`; it must fail.
broken() {
    local name="$1" js="$2"
    node -e '
const fs = require("fs");
const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
eval(process.argv[2]);
fs.writeFileSync(process.argv[3], JSON.stringify(d, null, 2));' \
        "$root/grafana/dashboards/traffic.json" "$js" "$tmp/$name.json" || return 1
    local out
    out="$(node "$here/validate.mjs" "$tmp/$name.json")" && { echo "  accepted: $name"; return 1; }
    echo "  rejected as expected: $(grep -m1 FAIL <<<"$out")"
}
check "rejects a legend display mode outside the enum" broken enum 'd.panels[5].options.legend.displayMode = "lsit"'
check "rejects an unknown panel property" broken unknown 'd.panels[0].titel = d.panels[0].title'
check "rejects a gridPos width given as text" broken gridtype 'd.panels[1].gridPos.w = "12"'
check "rejects a stat panel missing a required option" broken required 'delete d.panels[0].options.reduceOptions'
check "rejects a target without expr" broken noexpr 'delete d.panels[4].targets[0].expr'
check "rejects an old schemaVersion" broken version 'd.schemaVersion = 16'
check "rejects a dashboard without the datasource variable" broken nods 'd.templating.list.shift()'
check "rejects a panel outside the grid" broken grid 'd.panels[2].gridPos.x = 20'
check "rejects a panel not on \${datasource}" broken paneldatasource 'd.panels[3].datasource = {type: "prometheus", uid: "abc"}'
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
