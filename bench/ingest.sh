#!/usr/bin/env bash
# bench/ingest.sh — the collector's benchmark (issue 13), ratios in one run. Starts its own
# Kafka (tests/integration/lib.sh helpers, stopped on exit), then:
#   1. np-bench-ingest: decode only; a raw librdkafka producer of the decoded records; the
#      collector's path in process (decode + format + produce) — same records, same settings
#   2. loopback, per rate: a fresh netpulse-ingest (1 receive thread) receives the same IPFIX
#      datagrams over UDP from np-bench-ingest at that rate; its metrics say how many flows it
#      decoded and delivered, and how many the IPFIX sequence numbers say were lost
# Usage: bash bench/ingest.sh [FLOWS (default 2000000)] ["DATAGRAMS_PER_S ..." (default "5000 20000")]
# Results: bench/results/ingest-<UTC time>.json (one JSON object a line).
set -uo pipefail

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NP_ROOT="$BENCH_ROOT"
export NP_BUILD_DIR="${NP_BUILD_DIR:-$BENCH_ROOT/build}"
# shellcheck source=../tests/integration/lib.sh
source "$BENCH_ROOT/tests/integration/lib.sh"
FLOWS="${1:-2000000}"
RATES="${2:-5000 20000}"
OUT="$BENCH_ROOT/bench/results/ingest-$(date -u +%Y%m%dT%H%M%SZ).json"
mkdir -p "$(dirname "$OUT")"
for b in np-bench-ingest np-bench-kafka netpulse-ingest; do
    [[ -x "$IT_BIN/$b" ]] || np_die "$IT_BIN/$b missing: cmake --build build first"
done

it_setup bench-ingest
it_start_infra 12 || exit 1
"$IT_BIN/np-bench-kafka" topics -b "$BOOTSTRAP" bench-ingest:12 bench-ingest-raw:12 bench-ingest-udp:12 >/dev/null \
    2>>"$IT_DIR/bench.log" || np_die "creating topics failed"

np_info "in process: decode, raw producer, decode + produce ($FLOWS flows)"
"$IT_BIN/np-bench-ingest" -b "$BOOTSTRAP" -n "$FLOWS" | tee -a "$OUT" || np_die "np-bench-ingest failed"

# loopback RATE: a fresh collector, the datagrams at RATE per second, then its own metrics
# once every decoded flow is delivered (and no more arrive).
loopback() {
    local rate="$1" t0 f1 f2 d
    it_start ingest "$IT_BIN/netpulse-ingest" --brokers "$BOOTSTRAP" --topic bench-ingest-udp --listen 127.0.0.1 \
        --netflow-port 0 --sflow-port -1 --port-file "$IT_DIR/udp.port" --http-port-file "$IT_DIR/ingest.port" \
        --rcvbuf 33554432
    np_wait_for -t 20 test -s "$IT_DIR/udp.port" || return 1
    read -r PORT _ <"$IT_DIR/udp.port"
    t0=$(date +%s%N)
    "$IT_BIN/np-bench-ingest" -n "$FLOWS" -s "$PORT" -r "$rate" | tee -a "$OUT"
    for ((i = 0; i < 600; i++)); do
        f1="$(it_metric ingest netpulse_ingest_flows_total)"
        d="$(it_metric ingest netpulse_ingest_records_delivered_total)"
        sleep 0.5
        f2="$(it_metric ingest netpulse_ingest_flows_total)"
        [[ "$f1" == "$f2" && "$d" == "$f2" ]] && break
    done
    printf '{"phase":"loopback","offered_datagrams_per_s":%s,"flows_decoded":%s,"delivered":%s,"ms_to_last_delivery":%s,"export_flows_lost":%s,"datagrams":%s,"malformed":%s,"template_misses":%s,"rcvbuf_note":"%s"}\n' \
        "$rate" "$f2" "$d" "$(( ($(date +%s%N) - t0) / 1000000 - 500 ))" \
        "$(it_metric ingest netpulse_ingest_export_flows_lost_total)" \
        "$(it_metric ingest 'netpulse_ingest_packets_received_total{protocol="ipfix"}')" \
        "$(it_metric ingest netpulse_ingest_malformed_packets_total)" \
        "$(it_metric ingest netpulse_ingest_template_misses_total)" \
        "$(grep -o 'asked=[0-9]* got=[0-9]*' "$IT_DIR/ingest.log" | head -1)" | tee -a "$OUT"
    it_stop ingest TERM
    rm -f "$IT_DIR/udp.port" "$IT_DIR/ingest.port"
}
for rate in $RATES; do
    np_info "loopback: $FLOWS flows at $rate datagrams/s (30 flows each) to netpulse-ingest"
    loopback "$rate"
done
np_info "results in $OUT"
it_finish >/dev/null
