#!/usr/bin/env bash
# 0035-coordinator-kill: `kill -9` of the coordinator mid-stream (twice), then restart.
# The coordinator persists every partial it accepts (before acknowledging it), its open
# panes and its unacknowledged results in Redis; workers re-send what was not
# acknowledged. Results must equal the oracle's exactly, with no duplicate id.
source "$(dirname "$0")/lib.sh"
it_setup 0035-coordinator-kill
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 || exit 1

T0=$(it_t0)
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 4000 --count 120000 --speedup 1 \
    --seed 35 --sources 3000 --start-ms $T0

# Kill while the coordinator holds partials of a pane that is not final yet (it has
# acknowledged them, so only its Redis state can bring them back).
open_panes() { [[ "$(it_metric coordinator netpulse_coordinator_open_panes)" -gt 0 ]]; }
for delay in 8 8; do
    sleep "$delay"
    np_wait_for -t 20 -i 0.02 open_panes || np_warn "no open pane seen"
    np_info "kill -9 coordinator with $(it_metric coordinator netpulse_coordinator_open_panes) open panes"
    it_stop coordinator KILL
    sleep 1
    it_restart_coordinator
done

np_wait_for -t 120 -i 1 bash -c "! kill -0 ${IT_PIDS[generator]} 2>/dev/null"
it_check "generator delivered everything" it_stop generator
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
it_check "the restarted coordinator restored state from Redis" grep -q 'event=state_restored' "$IT_DIR/coordinator.log"
resent="$(it_metric_sum netpulse_worker_partials_resent_total "${IT_WORKERS[@]}")"
np_info "partials re-sent by workers: $resent"
it_finish
