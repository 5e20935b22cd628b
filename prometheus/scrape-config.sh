#!/usr/bin/env bash
# prometheus/scrape-config.sh PORT_DIR [NAMESPACE] [INTERVAL] — prints a Prometheus
# configuration that scrapes the netpulse processes of one local cluster (make demo, or an
# integration test) and evaluates prometheus/rules/netpulse.rules.yml.
#
# PORT_DIR holds each process's `--http-port-file` (NAME.port: worker1.port, coordinator.port,
# gateway.port, generator.port ...). Each becomes a static target of job netpulse-<kind>;
# relabelling turns the hidden __tmp_namespace / __tmp_pod labels into `namespace` (default
# "netpulse") and `pod` (the file's NAME), as pod discovery does on Kubernetes (see
# prometheus/prometheus.yml), so the dashboards' $namespace and $pod variables resolve.
# `instance` is the pod's name too: a process restarted here gets a new port, and its
# series (process_start_time_seconds for the Restarts panel) must go on under the same labels.
# After a restart, run this again into the same file and reload Prometheus
# (curl -X POST http://127.0.0.1:PORT/-/reload; prometheus/run.sh enables it).
# INTERVAL (default 5s) is the scrape and rule evaluation interval.
# When the processes run with http.token and/or HTTPS (SECURITY.md, "HTTP"):
#   NETPULSE_PROM_TOKEN_FILE  file holding the token (sent as "Authorization: Bearer ...")
#   NETPULSE_PROM_CA_FILE     CA certificate that signed http.tls.cert.file (scheme https)
set -euo pipefail
dir="${1:?usage: scrape-config.sh PORT_DIR [NAMESPACE] [INTERVAL]}"
ns="${2:-netpulse}"
interval="${3:-5s}"
rules="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rules/netpulse.rules.yml"

cat <<YAML
global:
  scrape_interval: $interval
  scrape_timeout: $interval
  evaluation_interval: $interval
rule_files:
  - $rules
scrape_configs:
YAML
auth=""
if [[ -n "${NETPULSE_PROM_CA_FILE:-}" ]]; then
    auth+="    scheme: https
    tls_config: {ca_file: '$NETPULSE_PROM_CA_FILE'}
"
fi
if [[ -n "${NETPULSE_PROM_TOKEN_FILE:-}" ]]; then
    auth+="    authorization: {type: Bearer, credentials_file: '$NETPULSE_PROM_TOKEN_FILE'}
"
fi
for kind in worker coordinator gateway generator; do
    targets=""
    for f in "$dir"/*.port; do
        [[ -s "$f" ]] || continue
        name="$(basename "$f" .port)"
        case "$name" in
            worker*) k=worker ;;
            coordinator*) k=coordinator ;;
            gateway*) k=gateway ;;
            gen*) k=generator ;;
            *) continue ;;
        esac
        [[ "$k" == "$kind" ]] || continue
        targets+="      - targets: ['127.0.0.1:$(cat "$f")']
        labels: {__tmp_namespace: '$ns', __tmp_pod: '$name'}
"
    done
    [[ -n "$targets" ]] || continue
    cat <<YAML
  - job_name: netpulse-$kind
$auth    static_configs:
$targets    relabel_configs:
      - {source_labels: [__tmp_namespace], target_label: namespace}
      - {source_labels: [__tmp_pod], target_label: pod}
      - {source_labels: [__tmp_pod], target_label: instance}
YAML
done
