#!/usr/bin/env bash
# infra/demo.sh BUILD_DIR — `make demo`: Kafka (KRaft) + Redis + gateway + coordinator +
# two workers + the generator, all on loopback, and windows printed as they arrive.
# Ctrl-C (or DEMO_SECONDS elapsing) stops everything it started.
#
# Environment: DEMO_SECONDS (stop after this long; default: run until Ctrl-C),
# DEMO_DIR (state dir, default .run/demo), DEMO_RATE (records/s, default 2000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NP_LOG_TAG=demo
BUILD="$(np_abspath "${1:-build}")"
DIR="$(np_abspath "${DEMO_DIR:-$NP_ROOT/.run/demo}")"
RATE="${DEMO_RATE:-2000}"
mkdir -p "$DIR"
PIDS=()

stop_all() {
    trap - EXIT INT TERM
    np_info "stopping everything the demo started"
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    "$NP_INFRA_DIR/kafka.sh" stop "$DIR/kafka" >/dev/null 2>&1 || true
    "$NP_INFRA_DIR/redis.sh" stop "$DIR/redis" >/dev/null 2>&1 || true
    np_info "stopped; logs are in $DIR"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

start() { # start NAME CMD...: own process group, log in $DIR/NAME.log
    local name="$1"
    shift
    setsid "$@" >"$DIR/$name.log" 2>&1 &
    PIDS+=($!)
}

np_info "starting Kafka (KRaft) and Redis in $DIR"
"$NP_INFRA_DIR/kafka.sh" start "$DIR/kafka" >"$DIR/kafka-start.log" 2>&1 || { cat "$DIR/kafka-start.log"; exit 1; }
"$NP_INFRA_DIR/kafka.sh" create-topics "$DIR/kafka" >>"$DIR/kafka-start.log" 2>&1 || { cat "$DIR/kafka-start.log"; exit 1; }
"$NP_INFRA_DIR/redis.sh" start "$DIR/redis" >"$DIR/redis-start.log" 2>&1 || { cat "$DIR/redis-start.log"; exit 1; }
BOOT="$("$NP_INFRA_DIR/kafka.sh" bootstrap "$DIR/kafka")"
RPORT="$("$NP_INFRA_DIR/redis.sh" port "$DIR/redis")"
GW="tcp://127.0.0.1:$(np_free_port)"
CO="tcp://127.0.0.1:$(np_free_port)"
rm -f "$DIR"/*.port
# Operator views every process shares (group results and per-view detection).
export NETPULSE_VIEWS="${NETPULSE_VIEWS-web: proto=tcp and dport=80,443,8080 by dst/24, dport; dns: proto=udp and port=53 by src/16; other: not (proto=tcp or proto=udp) by proto}"

start gateway "$BUILD/netpulse-gateway" --brokers "$BOOT" --bind "$GW" --redis-port "$RPORT" \
    --http-port-file "$DIR/gateway.port"
start coordinator "$BUILD/netpulse-coordinator" --bind "$CO" --gateway "$GW" --redis-port "$RPORT" \
    --http-port-file "$DIR/coordinator.port"
for i in 1 2; do
    start "worker$i" "$BUILD/netpulse-worker" --brokers "$BOOT" --coordinator "$CO" --redis-port "$RPORT" \
        --worker-id "demo-worker-$i" --http-port-file "$DIR/worker$i.port"
done
start generator "$BUILD/netpulse-generator" --brokers "$BOOT" --rate "$RATE" --speedup 1 --sources 5000 \
    --diurnal 20 --scenario mixed --scenario-warmup-s 150 --scenario-gap-s 60 --duration 86400 \
    --truth "$DIR/truth.jsonl" --http-port-file "$DIR/generator.port"
for n in gateway coordinator worker1 worker2; do
    np_wait_for -t 30 test -s "$DIR/$n.port" || { tail "$DIR/$n.log"; exit 1; }
done

cat <<INFO

  netpulse demo is running (Ctrl-C stops it all).
    live page          http://127.0.0.1:$(cat "$DIR/gateway.port")/   (open it in a browser: windows, forecast, anomalies, fleet)
    Kafka bootstrap    $BOOT   (topics network-traffic, processed-data, network-traffic-dlq, network-traffic-repartition)
    Redis              127.0.0.1:$RPORT   (redis-cli -p $RPORT --scan --pattern 'netpulse:*')
    gateway metrics    http://127.0.0.1:$(cat "$DIR/gateway.port")/metrics
    coordinator        http://127.0.0.1:$(cat "$DIR/coordinator.port")/metrics
    workers            http://127.0.0.1:$(cat "$DIR/worker1.port")/metrics  http://127.0.0.1:$(cat "$DIR/worker2.port")/metrics
    logs               $DIR/*.log
    anomalies          kcat -b $BOOT -C -t processed-data -q -f '%s\n' | grep '"anomaly"'
    ground truth       $DIR/truth.jsonl  (labelled events: first after 150 s, then every 2 min)
  Read the results yourself with:
    kcat -b $BOOT -C -t processed-data -o end -f '%k %s\\n'

  Windows (5 s panes; each appears once every partition has passed it, about 7 s after it ends):
INFO

# Print each window as one line, as it arrives.
show() {
    kcat -b "$BOOT" -C -t processed-data -o end -u -q -f '%s\n' 2>/dev/null | python3 -u "$NP_INFRA_DIR/show_windows.py"
}
if [[ -n "${DEMO_SECONDS:-}" ]]; then
    show &
    SHOW=$!
    sleep "$DEMO_SECONDS"
    kill "$SHOW" 2>/dev/null || true
    pkill -P "$SHOW" 2>/dev/null || true
else
    show
fi
