#!/usr/bin/env bash
# tests/soak/soak.sh [SECONDS] — the long exactly-once soak, not part of `make test`.
#
# Runs the whole cluster on real Kafka and Redis for SECONDS (default 600) of traffic at
# wall-clock speed while killing a random process with SIGKILL every 15-40 s (a worker,
# the coordinator or the gateway) and restarting it; then compares processed-data
# (read_committed) with the oracle: exact equality, no duplicate id, nothing missing.
#   NP_BUILD_DIR=build bash tests/soak/soak.sh 600
source "$(dirname "$0")/../integration/lib.sh"
DURATION="${1:-600}"
RATE="${SOAK_RATE:-2000}"
SEED="${SOAK_SEED:-$RANDOM}"
it_setup soak
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(( ($(date +%s) - 10) / 5 * 5000 ))
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate "$RATE" --speedup 1 \
    --duration "$DURATION" --seed "$SEED" --sources 5000 --start-ms $T0
np_info "soak: ${DURATION}s at ${RATE}/s, seed $SEED"

RANDOM=$SEED
kills=()
deadline=$(( $(date +%s) + DURATION - 10 ))
while (( $(date +%s) < deadline )); do
    sleep $(( 15 + RANDOM % 26 ))
    (( $(date +%s) < deadline )) || break
    victims=(worker1 worker2 coordinator gateway)
    v=${victims[$((RANDOM % 4))]}
    np_info "soak: kill -9 $v"
    it_stop "$v" KILL
    sleep $(( 1 + RANDOM % 3 ))
    case "$v" in
        worker*) it_restart_worker "$v" ;;
        coordinator) it_restart_coordinator ;;
        gateway) it_restart_gateway ;;
    esac
    kills+=("$v")
done

np_wait_for -t 120 -i 1 bash -c "! kill -0 ${IT_PIDS[generator]} 2>/dev/null"
it_check "generator delivered everything" it_stop generator
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + DURATION * 1000 + 5000)) 180
it_check "results equal the oracle's, no duplicates, nothing lost" it_oracle
np_info "soak: ${#kills[@]} kills: ${kills[*]}"
it_finish
