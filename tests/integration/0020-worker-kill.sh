#!/usr/bin/env bash
# 0020-worker-kill: `kill -9` of workers mid-stream, then restart. Results must be exactly
# those of a run without failures (oracle), with no duplicate id: the restarted worker
# resumes from its Redis checkpoint (state + offset + unacknowledged partials) and the
# coordinator drops partials it already has.
# Workers send bounded partials (ARCHITECTURE.md, Bounded partials): the top sources, the
# detectors' candidates and each partition's own sliding window, whose history of closed
# panes is in the checkpoint; learning lasts 2 panes, so most partials are bounded. The
# windows must still equal the oracle's exactly.
export NETPULSE_PARTIAL_TOP_SOURCES=10 NETPULSE_DETECT_LEARN_PANES=2
source "$(dirname "$0")/lib.sh"
it_setup 0020-worker-kill
it_start_infra 12 || exit 1
# A short session timeout so the group notices a dead member quickly.
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# ~30 s of wall time at 4000 records/s (event time runs at wall speed).
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 4000 --count 120000 --speedup 1 \
    --seed 21 --sources 3000 --start-ms $T0

sleep 8
np_info "kill -9 worker1"
it_stop worker1 KILL
sleep 1
it_restart_worker worker1
sleep 8
np_info "kill -9 worker2"
it_stop worker2 KILL
it_restart_worker worker2

np_wait_for -t 120 -i 1 bash -c "! kill -0 ${IT_PIDS[generator]} 2>/dev/null"
it_check "generator delivered everything" it_stop generator
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
restored="$(it_metric_sum netpulse_worker_partitions_restored_total worker1 worker2)"
np_info "partitions restored from checkpoints: $restored"
it_check "restarted workers resumed from checkpoints" test "${restored:-0}" -gt 0
it_finish
