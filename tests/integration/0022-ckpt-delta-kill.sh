#!/usr/bin/env bash
# 0022-ckpt-delta-kill: incremental checkpoints across `kill -9`. The workers write only
# what changed (pane deltas appended to pane parts, np_ckpt_writer) and never a periodic
# full snapshot (checkpoint.full.every far away), so each kill lands between delta
# checkpoints and the next full one: the restarted worker must rebuild its panes from a
# first frame plus deltas, and the results must still be exactly the oracle's. Bounded
# partials as in 0020: each partition's sliding-window history rides in the checkpoint head.
export NETPULSE_PARTIAL_TOP_SOURCES=10 NETPULSE_DETECT_LEARN_PANES=2
source "$(dirname "$0")/lib.sh"
it_setup 0022-ckpt-delta-kill
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 300 --checkpoint-full-every 1000000 \
    -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# ~30 s of wall time at 4000 records/s (event time runs at wall speed), 3000 sources: a
# pane takes new sources and updates old ones between checkpoints.
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 4000 --count 120000 --speedup 1 \
    --seed 22 --sources 3000 --start-ms $T0

DELTA='netpulse_worker_checkpoint_pane_frames_total{kind="delta"}'
deltas_at_least() { local v; v="$(it_metric "$1" "$DELTA")"; test "${v:-0}" -ge "$2"; }
# kill_between_delta_and_full NAME: kills NAME right after it wrote pane deltas with no
# full checkpoint since the one before them (a restore makes the next checkpoint full, so
# a rebalance can: then it samples again), while Redis holds pane parts.
kill_between_delta_and_full() {
    local name="$1" f0 d0 f1 d1 parts try
    for try in 1 2 3 4 5; do
        f0="$(it_metric "$name" netpulse_worker_checkpoints_full_total)"
        d0="$(it_metric "$name" "$DELTA")"
        np_wait_for -t 20 -i 0.2 deltas_at_least "$name" $((${d0:-0} + 5)) || return 1
        f1="$(it_metric "$name" netpulse_worker_checkpoints_full_total)"
        d1="$(it_metric "$name" "$DELTA")"
        [[ "${f1:-0}" == "${f0:-0}" ]] && break
    done
    parts="$(it_redis_count 'netpulse:ckpt:*:pane:*')"
    np_info "$name: pane deltas $d0 -> $d1 with full checkpoints at $f0 -> $f1, $parts pane parts in Redis; kill -9"
    it_stop "$name" KILL
    [[ "${f1:-0}" == "${f0:-0}" ]] && test "${d1:-0}" -gt "${d0:-0}" && test "${parts:-0}" -gt 0
}

sleep 6
it_check "worker1 killed between pane deltas and the next full checkpoint" kill_between_delta_and_full worker1
sleep 1
it_restart_worker worker1
sleep 6
it_check "worker2 killed between pane deltas and the next full checkpoint" kill_between_delta_and_full worker2
it_restart_worker worker2

np_wait_for -t 120 -i 1 bash -c "! kill -0 ${IT_PIDS[generator]} 2>/dev/null"
it_check "generator delivered everything" it_stop generator
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
restored="$(it_metric_sum netpulse_worker_partitions_restored_total worker1 worker2)"
np_info "partitions restored from checkpoints: $restored"
it_check "restarted workers resumed from checkpoints" test "${restored:-0}" -gt 0
# Every key of a partition shares its hash tag: {group/topic/partition}.
untagged="$(it_redis --scan --pattern 'netpulse:ckpt:*' | grep -cv '^netpulse:ckpt:{[^}]*}' || true)"
it_check "every checkpoint key carries its partition's hash tag" test "${untagged:-1}" -eq 0
it_finish
