#!/usr/bin/env bash
# 0110-prometheus: the Grafana dashboards and the alert rules on a real Prometheus.
#
# A cluster (2 workers) gets a labelled scenario in compressed time (baseline, then a spike
# and a DDoS, so the anomaly panels have data), a few bad records, then live traffic in real
# time. Debian's prometheus scrapes the workers, coordinator and gateway each second with the configuration
# prometheus/scrape-config.sh writes (static targets from the port files, `namespace` and
# `pod` added by relabelling) and evaluates prometheus/rules/. Then:
#   - every target is up and every rule loaded with health ok, none firing on this healthy
#     cluster;
#   - tests/tools/promdash.py takes every variable query and every panel target of
#     grafana/dashboards/{traffic,anomalies,fleet}.json, substitutes the variables and
#     Grafana's macros, evaluates each through /api/v1/query, and requires data for each
#     (panels with $pod both for All and for one worker);
#   - a few values seen through Prometheus agree with the cluster (12 partitions owned,
#     the latest window's records equal to the gateway's own gauge).
# Prometheus is started with it_start, so the EXIT trap stops it whatever happens.
source "$(dirname "$0")/lib.sh"
it_setup 0110-prometheus
command -v prometheus >/dev/null || { np_warn "prometheus not installed (infra/deps.sh)"; exit 1; }
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 || exit 1

PROM_NS=netpulse-it
PROM_PORT="$(np_free_port)"
PROM="http://127.0.0.1:$PROM_PORT"
export NETPULSE_PROM_NAMESPACE="$PROM_NS" NETPULSE_PROM_INTERVAL=1s
it_start prometheus "$IT_ROOT/prometheus/run.sh" "$IT_DIR" "$PROM_PORT"
PROM_T0=$(date +%s)
it_check "prometheus is ready" np_wait_for -t 60 -i 0.5 curl -sf -o /dev/null "$PROM/-/ready"
targets_up() {
    curl -sf "$PROM/api/v1/targets" | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
bad = [(x["labels"].get("pod"), x["health"], x.get("lastError")) for x in t if x["health"] != "up"]
pods = sorted(x["labels"].get("pod", "?") + "/" + x["labels"].get("namespace", "?") for x in t)
print(len(t), "targets:", " ".join(pods), "not up:", bad)
sys.exit(0 if len(t) == 4 and not bad and all("/netpulse-it" in p for p in pods) else 1)'
}
# Every counter must have been scraped at least once before the scenario, so that
# increase() over the test's range sees the anomalies counted.
it_check "4 targets (2 workers, coordinator, gateway) scraped, with namespace and pod" \
    np_wait_for -t 30 -i 1 targets_up

# The scenario in compressed time, in the past (event times from 10 minutes ago): 150 s of
# baseline, then a 30 s spike, 30 s of baseline, a 30 s DDoS.
T0=$(it_t0)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 200 --speedup 0 --scenario spike,ddos --seed 42 \
    --scenario-warmup-s 150 --scenario-event-s 30 --scenario-gap-s 30 --start-ms "$T0" \
    --truth "$IT_DIR/truth.jsonl" 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
{
    echo 'b1|this is not a record'
    echo "b2|{\"src_ip\":\"10.0.0.999\",\"dst_ip\":\"10.0.0.2\",\"ts\":$((T0 + 1000))}"
} | it_produce
# Then live traffic in real time (it keeps every rate and latency panel fed; its event times
# are after the scenario's, so nothing is late).
it_start gen "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 300 --speedup 1 --seed 5 --sources 300
RUN_END="$(python3 -c 'import json,sys; print(next(json.loads(l)["end"] for l in open(sys.argv[1]) if "\"run\"" in l))' "$IT_DIR/truth.jsonl")"
it_check "the scenario's windows published" it_wait_windows_through "$RUN_END" 240
anomalies_seen() { # the explanations hold spaces: count the series rather than sum them
    curl -sf "http://127.0.0.1:$(it_http_port gateway)/metrics" | grep -c '^netpulse_gateway_recent_anomaly_info{' |
        { read -r n; np_info "recent anomalies on the gateway: $n"; [[ "$n" -gt 0 ]]; }
}
it_check "the gateway shows recent anomalies" np_wait_for -t 60 -i 1 anomalies_seen

# Let Prometheus collect at least 30 s of scrapes of the live cluster.
sleep $((PROM_T0 + 30 - $(date +%s) > 0 ? PROM_T0 + 30 - $(date +%s) : 0))

prom_query() { # prom_query PROMQL: the first sample's value, or nothing
    curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
it_check "4 targets still up" targets_up
rules_ok() {
    curl -sf "$PROM/api/v1/rules" | python3 -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
bad = [(r["name"], r["health"], r.get("lastError")) for r in rules if r["health"] != "ok"]
firing = [r["name"] for r in rules if r.get("state") == "firing"]
print(len(rules), "rules loaded; not ok:", bad, "; firing:", firing)
sys.exit(0 if len(rules) == int(sys.argv[1]) and not bad and not firing else 1)' \
        "$(grep -c '^ *- alert: ' "$IT_ROOT/prometheus/rules/netpulse.rules.yml")"
}
it_check "every rule loaded, health ok, none firing on a healthy cluster" rules_ok

it_check "every dashboard variable and panel query returns data" \
    python3 "$IT_ROOT/tests/tools/promdash.py" --prometheus "$PROM" --range-s $(($(date +%s) - PROM_T0)) \
    --rate-interval-s 10 "$IT_ROOT"/grafana/dashboards/{traffic,anomalies,fleet}.json

owned="$(prom_query "sum(netpulse_worker_assigned_partitions{namespace=\"$PROM_NS\"})")"
it_check "Prometheus sees 12 partitions owned ($owned)" test "$owned" = 12
# The latest window's records through Prometheus and on the gateway's /metrics agree (both
# read the same gauge; live windows keep coming, so allow for a window in between).
same_records() {
    local p g
    p="$(prom_query "sum(netpulse_gateway_window_records{namespace=\"$PROM_NS\"})")"
    g="$(it_metric gateway netpulse_gateway_window_records)"
    np_info "latest window records: prometheus=$p gateway=$g"
    [[ -n "$p" && "$p" == "$g" ]]
}
it_check "latest window's records agree between Prometheus and the gateway" np_wait_for -t 20 -i 1 same_records
it_stop prometheus
it_finish
