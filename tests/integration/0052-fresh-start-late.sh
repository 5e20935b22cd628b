#!/usr/bin/env bash
# 0052-fresh-start-late: a worker that starts a partition empty from the group's committed
# offsets (its checkpoint damaged: quarantined) does not know that the partition's earlier
# owner closed a pane by following the global watermark while the partition was idle
# (ARCHITECTURE.md, "Where it is not exact"). A record written after that, whose event
# time is in the closed and published pane, was late for the earlier owner; the new one
# takes it into a rebuilt copy of the pane, which the coordinator can only drop (the pane
# is published). The record is then in no window and in no dead letter. This test pins
# that it is not silent: the coordinator tells the copy from a pure re-read by the offsets
# partials carry (Partial.close_offset, records_end_offset), counts it in
# netpulse_coordinator_partials_conflicting_total and logs partial_conflicting with the
# offsets that hold the lost record. Everything else is exactly the oracle's.
#
# Partition 0 (keyed by a source of its murmur2 partition, so nothing is re-keyed):
#   offsets 0-1  event times T0+1000, T0+3000: pane [T0, T0+5000)
#   (every partition idle: they follow the global watermark, the pane closes at offset
#   2, is merged and published; the worker commits offset 2, then is killed with -9 and
#   partition 0's checkpoint head is damaged)
#   offset 2     event time T0+4000, written while no worker runs: late for the earlier
#                owner, taken by the new one into its copy of the published pane -> lost,
#                counted (1 conflicting partial, merged_close_offset=2 records_end_offset=3)
# Partitions 1-3: one record each at T0+1000; partition 1 one more at T0+20000, which
# moves the global watermark past the pane.
source "$(dirname "$0")/lib.sh"
it_setup 0052-fresh-start-late
export NETPULSE_PARTITIONS=4
it_start_infra 4 || exit 1
it_start_cluster 1 --idle-ms 3000 --checkpoint-ms 500 || exit 1

T0=$(it_t0)
cat >"$IT_DIR/plan.py" <<'EOF'
# plan.py T0 PARTITION TS...: "key|value" lines, keyed by a source of that partition.
import json, sys
from kafka_partition import key_for
t0, p = int(sys.argv[1]), int(sys.argv[2])
key = key_for(p, 4, f"10.52.{p}.{{}}")
for ts in sys.argv[3:]:
    body = {"ts": t0 + int(ts), "src_ip": key, "dst_ip": "192.0.2.52", "src_port": 5200 + p, "dst_port": 443,
            "proto": "tcp", "bytes": 1000 + int(ts) % 1000, "packets": 2}
    print(f"{key}|{json.dumps(body, separators=(',', ':'))}")
EOF
produce() { PYTHONPATH="$IT_ROOT/tests/tools" python3 "$IT_DIR/plan.py" "$T0" "$@" | it_produce "$1"; }
produce 0 1000 3000 && produce 1 1000 20000 && produce 2 1000 && produce 3 1000 \
    || { np_warn "cannot produce the records"; exit 1; }

it_check "pane T0 published (every partition followed the global watermark past it)" \
    it_wait_windows_through "$T0" 60
# The worker stores its safe offsets every commit.ms (1 s); librdkafka commits them every 5 s.
sleep 7
np_info "kill -9 worker1; damage partition 0's checkpoint head"
it_stop worker1 KILL
CK='netpulse:ckpt:{netpulse-workers/network-traffic/0}'
it_check "checkpoint of partition 0 exists" test "$(it_redis exists "$CK")" = 1
it_redis setrange "$CK" 12 "CORRUPTED-BY-0052" >/dev/null
produce 0 4000 || { np_warn "cannot produce the record after the pane"; exit 1; }
it_restart_worker worker1
it_check "the damaged checkpoint was quarantined" np_wait_for -t 30 -i 0.5 \
    bash -c "grep -q 'event=checkpoint_quarantined.*partition=0 ' '$IT_DIR/worker1.log'"

conflicting() { test "$(it_metric coordinator netpulse_coordinator_partials_conflicting_total)" -ge 1; }
it_check "the copy of the published pane with the record is counted" np_wait_for -t 40 -i 0.5 conflicting
sleep 2
it_check "  ... exactly once" test "$(it_metric coordinator netpulse_coordinator_partials_conflicting_total)" -eq 1
it_check "  ... logged with the offsets of the lost record (the new owner started at committed offset 2)" \
    grep -q "event=partial_conflicting .*partition=0 pane_start=$T0 records=1 merged_close_offset=2 records_end_offset=3" \
    "$IT_DIR/coordinator.log"
it_check "windows equal the oracle's but for the record at partition 0 offset 2 (in no window, no dead letter)" \
    it_oracle --expect-lost 0:2
it_check "no process but the killed worker exited" it_alive gateway coordinator worker1
it_finish
