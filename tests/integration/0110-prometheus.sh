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
#   - a dashboard copy with a misspelt metric is rejected (the check can fail);
#   - values seen through Prometheus agree with the cluster: 12 partitions owned, the latest
#     window's records equal to the gateway's own gauge, as many anomalies counted as there
#     are in processed-data, and a worker restart seen as one restart and a rebalance.
# Prometheus is started with it_start, so the EXIT trap stops it whatever happens.
source "$(dirname "$0")/lib.sh"
it_setup 0110-prometheus
command -v prometheus >/dev/null || { np_warn "prometheus not installed (infra/deps.sh)"; exit 1; }
it_start_infra 12 || exit 1
# The workers start well before the scenario (Prometheus must scrape every counter first):
# with idle.ms 3 s every partition was idle by then, and a partition whose share of the
# burst came a little after the others' followed the global watermark they moved and had
# its records dead-lettered as late. idle.ms 120 s outlasts the wait for Prometheus (at
# most 90 s); nothing here waits for a partition to go idle (live traffic follows the
# scenario and closes its panes).
it_start_cluster 2 --idle-ms 120000 || exit 1

# wait_or_show TIMEOUT CHECK...: waits for CHECK (np_wait_for discards its output); on a
# timeout runs it once more so that the log shows the values it saw.
wait_or_show() { np_wait_for -t "$1" -i 1 "${@:2}" || "${@:2}"; }

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
    wait_or_show 30 targets_up

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
it_check "the gateway shows recent anomalies" wait_or_show 60 anomalies_seen

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
it_check "latest window's records agree between Prometheus and the gateway" wait_or_show 20 same_records
# The anomalies Prometheus counted are the anomalies in processed-data (no restart yet, so
# each was raised once); live traffic may add one in between, hence the retry.
same_anomalies() {
    local p k
    p="$(prom_query "sum(netpulse_coordinator_anomalies_total{namespace=\"$PROM_NS\"})")"
    k="$(kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_committed \
        -f '%s\n' 2>/dev/null | grep -c '"type":"anomaly"')"
    np_info "anomalies: prometheus=$p processed-data=$k"
    [[ -n "$p" && "$p" == "$k" && "$k" -gt 0 ]]
}
it_check "anomalies counted in Prometheus = anomalies in processed-data" wait_or_show 20 same_anomalies

# The check bites: a copy of the Fleet dashboard with one misspelt metric must be rejected.
python3 - "$IT_ROOT/grafana/dashboards/fleet.json" "$IT_DIR/fleet-broken.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["panels"][2]["targets"][0]
t["expr"] = t["expr"].replace("netpulse_worker_assigned_partitions", "netpulse_worker_assigned_partition")
json.dump(d, open(sys.argv[2], "w"))
PY
broken_rejected() {
    ! python3 "$IT_ROOT/tests/tools/promdash.py" --prometheus "$PROM" "$IT_DIR/fleet-broken.json" >"$IT_DIR/broken.out" &&
        grep -q '^FAIL .*Partitions owned' "$IT_DIR/broken.out"
}
it_check "a dashboard with a misspelt metric is rejected" broken_rejected

# The Restarts and Rebalances panels see a worker restart: worker2 is stopped and started
# again; its process_start_time_seconds changes once and both workers take part in rebalances.
it_stop worker2 TERM
sleep 1
it_restart_worker worker2
it_check "partitions reassigned after the restart" it_wait_assigned
# It listens on a new port: rewrite the scrape configuration and reload Prometheus (the
# `instance` label is the pod's name, so its series go on).
"$IT_ROOT/prometheus/scrape-config.sh" "$IT_DIR" "$PROM_NS" 1s >"$IT_DIR/prometheus/prometheus.yml"
it_check "prometheus reloads its configuration" curl -sf -X POST "$PROM/-/reload"
restart_seen() {
    local r b
    r="$(prom_query "sum(changes(process_start_time_seconds{namespace=\"$PROM_NS\", pod=\"worker2\"}[10m]))")"
    b="$(prom_query "sum(increase(netpulse_worker_rebalances_total{namespace=\"$PROM_NS\", pod=\"worker1\"}[1m]))")"
    np_info "worker2 restarts seen: $r; worker1 rebalances in the last minute: $b"
    [[ "$r" == 1 ]] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "${b:-0}"
}
it_check "Prometheus sees worker2's restart and worker1's rebalance" wait_or_show 20 restart_seen
it_stop prometheus
it_finish
