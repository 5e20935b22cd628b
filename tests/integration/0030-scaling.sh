#!/usr/bin/env bash
# 0030-scaling: workers scale 1 -> 3 -> 1 while records flow.
#
# One worker owns all 12 partitions; after ~8 s two more join (rebalance with the range
# assignor: every worker gets 4 input partitions; revoked partitions are checkpointed by the
# old owner and restored by the new one), ~10 s later the two leave cleanly on SIGTERM (final progress, checkpoint, safe
# offsets committed, group left) and worker1 takes everything back. Results must be exactly
# those of a run without rebalances (oracle), with no duplicate id.
source "$(dirname "$0")/lib.sh"
it_setup 0030-scaling
it_start_infra 12 || exit 1
it_start_cluster 1 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# ~35 s of wall time at 4000 records/s (event time runs at wall speed).
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 4000 --count 140000 --speedup 1 \
    --seed 31 --sources 3000 --start-ms "$T0"

sleep 8
np_info "scale up: worker2, worker3"
it_add_worker worker2
it_add_worker worker3
owners_ok() {
    local n v
    for n in worker1 worker2 worker3; do
        # input partitions: the range assignor balances each topic on its own (4 each)
        v="$(it_metric "$n" netpulse_worker_assigned_partitions)"
        [[ "${v:-0}" -eq 4 ]] || return 1
    done
}
it_check "each of the three workers owns 4 input partitions" np_wait_for -t 20 -i 0.5 owners_ok
it_check "the three workers own the 12 partitions together" it_wait_assigned 12
np_info "owned: worker1=$(it_metric worker1 netpulse_worker_assigned_partitions)" \
    "worker2=$(it_metric worker2 netpulse_worker_assigned_partitions)" \
    "worker3=$(it_metric worker3 netpulse_worker_assigned_partitions)"

sleep 10
np_info "scale down: SIGTERM worker2, worker3"
it_check "worker2 leaves cleanly on SIGTERM" it_stop worker2 TERM
it_check "worker3 leaves cleanly on SIGTERM" it_stop worker3 TERM
IT_WORKERS=(worker1)
it_check "worker1 owns all 12 partitions again" it_wait_assigned 12

it_check "generator delivered everything" it_wait_exit generator 90
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
restored="$(it_metric worker1 netpulse_worker_partitions_restored_total)"
rebalances="$(it_metric worker1 netpulse_worker_rebalances_total)"
np_info "worker1: partitions restored from checkpoints $restored, rebalance callbacks $rebalances"
it_check "worker1 took partitions back from the leavers' checkpoints" test "${restored:-0}" -gt 0
it_check "nothing late, nothing dead-lettered" \
    test "$(it_metric worker1 netpulse_worker_records_late_total)" -eq 0 -a "$(wc -l <"$IT_DIR/dlq.jsonl")" -eq 0
it_finish
