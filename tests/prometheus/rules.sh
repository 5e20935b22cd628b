#!/usr/bin/env bash
# tests/prometheus/rules.sh — the alerting rules and the scrape configuration, checked with
# Debian's promtool:
#   - promtool check rules / test rules (prometheus/rules/netpulse.rules.test.yml),
#   - the tests bite: for every alert, a copy of the rules where it can never fire, and one
#     where it always fires, must each fail the unit tests (so every rule is tested both firing
#     and quiet),
#   - promtool check config on prometheus/prometheus.yml and on what scrape-config.sh makes.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rules="$root/prometheus/rules"
passed=0
failed=0
check() {
    local desc="$1"
    shift
    if "$@"; then passed=$((passed + 1)); echo "PASS: $desc"; else failed=$((failed + 1)); echo "FAIL: $desc"; fi
}
command -v promtool >/dev/null || { echo "promtool not found (infra/deps.sh installs prometheus)"; exit 1; }
tmp="$(mktemp -d /tmp/netpulse-rules.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

check "promtool check rules" promtool check rules "$rules/netpulse.rules.yml"
check "promtool test rules" promtool test rules "$rules/netpulse.rules.test.yml"

# with_expr ALERT EXPR: the rules with ALERT's expression (one line or a `|` block) replaced.
with_expr() {
    awk -v alert="$1" -v repl="$2" '
        skip && match($0, /^ */) && RLENGTH <= skip_indent { skip = 0 }
        skip { next }
        /^ *- alert: / { cur = $3 }
        cur == alert && /^ *expr:/ {
            match($0, /^ */); skip_indent = RLENGTH
            printf "%sexpr: %s\n", substr($0, 1, RLENGTH), repl
            if ($0 ~ /expr: *\|/) skip = 1
            next
        }
        { print }' "$rules/netpulse.rules.yml"
}
mutant_fails() { # mutant_fails ALERT EXPR: the unit tests must fail on that mutant
    with_expr "$1" "$2" >"$tmp/netpulse.rules.yml"
    cp "$rules/netpulse.rules.test.yml" "$tmp/"
    promtool check rules "$tmp/netpulse.rules.yml" >/dev/null 2>&1 || { echo "  mutant of $1 is not valid"; return 1; }
    ! promtool test rules "$tmp/netpulse.rules.test.yml" >/dev/null 2>&1
}
alerts=($(awk '/^ *- alert: /{print $3}' "$rules/netpulse.rules.yml"))
check "8 alerts defined (${alerts[*]})" test "${#alerts[@]}" -eq 8
for a in "${alerts[@]}"; do
    check "$a: tests fail when it never fires" mutant_fails "$a" 'vector(1) > 2'
    check "$a: tests fail when it always fires" mutant_fails "$a" 'vector(1)'
done

check "promtool check config prometheus/prometheus.yml" \
    promtool check config --syntax-only "$root/prometheus/prometheus.yml"
for n in worker1 worker2 coordinator gateway gen; do echo $((9100 + RANDOM % 100)) >"$tmp/$n.port"; done
"$root/prometheus/scrape-config.sh" "$tmp" it 1s >"$tmp/prometheus.yml"
check "promtool check config on scrape-config.sh's output" promtool check config "$tmp/prometheus.yml"
check "scrape-config.sh: 4 jobs, 5 targets, namespace and pod relabelled" \
    test "$(grep -c 'job_name: netpulse-' "$tmp/prometheus.yml"),$(grep -c "__tmp_pod: " "$tmp/prometheus.yml"),$(grep -c 'target_label: pod' "$tmp/prometheus.yml")" = "4,5,4"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
