#!/usr/bin/env bash
# prometheus/run.sh [PORT_DIR] [LISTEN_PORT] — runs Debian's Prometheus (in the foreground,
# Ctrl-C stops it) against a local netpulse cluster: the scrape configuration comes from
# scrape-config.sh and the processes' port files in PORT_DIR (default .run/demo, where
# `make demo` writes them), the rules from prometheus/rules/. Data goes to PORT_DIR/prometheus.
#
# LISTEN_PORT defaults to a free loopback port; the address is printed and written to
# PORT_DIR/prometheus/port. Environment: NETPULSE_PROM_NAMESPACE (label `namespace`, default
# netpulse), NETPULSE_PROM_INTERVAL (scrape and evaluation interval, default 5s).
#
#   make demo                 # in one terminal
#   prometheus/run.sh         # in another; then point Grafana at it (grafana/README.md)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../infra/lib.sh"
NP_LOG_TAG=prometheus
dir="$(np_abspath "${1:-$NP_ROOT/.run/demo}")"
port="${2:-$(np_free_port)}"
command -v prometheus >/dev/null || np_die "prometheus not found (infra/deps.sh installs it)"
ls "$dir"/*.port >/dev/null 2>&1 || np_die "no *.port files in $dir: is the cluster running?"
mkdir -p "$dir/prometheus/data"
"$here/scrape-config.sh" "$dir" "${NETPULSE_PROM_NAMESPACE:-netpulse}" "${NETPULSE_PROM_INTERVAL:-5s}" \
    >"$dir/prometheus/prometheus.yml"
echo "$port" >"$dir/prometheus/port"
np_info "Prometheus on http://127.0.0.1:$port (config $dir/prometheus/prometheus.yml, log $dir/prometheus/prometheus.log)"
exec prometheus --config.file="$dir/prometheus/prometheus.yml" --storage.tsdb.path="$dir/prometheus/data" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=1d \
    --web.enable-lifecycle 2>"$dir/prometheus/prometheus.log"
