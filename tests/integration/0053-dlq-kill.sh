#!/usr/bin/env bash
# 0053-dlq-kill: `kill -9` of a worker that has dead-lettered records since its partitions'
# last checkpoints. The next owner reads those records again from the checkpoint; it must
# not dead-letter them a second time (ARCHITECTURE.md, "Dead letters"): the oracle fails on
# a dead letter that appears twice in network-traffic-dlq.
#
# A prefix of good records spans 8 s of event time, so each partition closes its first
# pane (a checkpoint with a real offset) while reading it; then bad records (malformed JSON,
# a bad address, far-past records that are late) land behind it in every partition. The
# worker dead-letters them and, with checkpoint.ms 60 s and no pane closing, writes no
# checkpoint before it is killed. idle.ms 60 s keeps every partition active through the
# pause (the oracle's lateness simulation knows no idleness); the rest of the good stream
# then closes the panes of the data and the oracle compares windows before T0+25 s.
source "$(dirname "$0")/lib.sh"
it_setup 0053-dlq-kill
export NETPULSE_PARTITIONS=4
it_start_infra 4 || exit 1
it_start_cluster 1 --idle-ms 60000 --checkpoint-ms 60000 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
consumed() { it_metric worker1 netpulse_worker_records_consumed_total; }
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 8000 --speedup 0 \
    --seed 53 --sources 300 --start-ms "$T0" 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
for ((i = 0; i < 120; i++)); do (($(consumed) >= 8000)) && break; sleep 0.5; done
it_check "the good prefix consumed" test "$(consumed)" -ge 8000

NBAD=120
python3 - "$T0" "$NBAD" >"$IT_DIR/bad.txt" <<'PY'
import sys
t0, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    kind = i % 3
    if kind == 0:
        v = '{"src_ip":"10.53.0.%d","dst_ip":' % (i % 250)
    elif kind == 1:
        v = '{"ts":%d,"src_ip":"10.53.0.999","dst_ip":"10.0.0.2","proto":"tcp","bytes":10,"packets":1}' % (t0 + 7000)
    else:  # far behind every partition's watermark: late
        v = '{"ts":%d,"src_ip":"10.53.1.%d","dst_ip":"10.0.0.2","proto":"tcp","bytes":10,"packets":1}' % (t0 - 60000, i % 250)
    print(f"bad-{i}|{v}")
PY
it_produce <"$IT_DIR/bad.txt" || { np_warn "kcat failed"; exit 1; }
dlq() { it_metric worker1 netpulse_worker_dlq_records_total; }
for ((i = 0; i < 100; i++)); do (($(dlq) >= NBAD)) && break; sleep 0.2; done
it_check "worker1 dead-lettered all $NBAD bad records" test "$(dlq)" -ge "$NBAD"
sleep 2 # the dead letters delivered (linger), no checkpoint since the panes closed
delivered="$(kcat -b "$BOOTSTRAP" -C -t network-traffic-dlq -e -q -f 'x\n' | grep -c x)"
np_info "kill -9 worker1 with $delivered dead letters in network-traffic-dlq"
it_check "the dead letters are in network-traffic-dlq before the kill" test "$delivered" -ge "$NBAD"
it_stop worker1 KILL
it_restart_worker worker1
it_check "worker1 owns every partition again" it_wait_assigned 4

"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 22000 --speedup 0 \
    --seed 54 --sources 300 --start-ms "$((T0 + 8000))" 2>>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 20000))
# Not vacuous: the new owner did read bad records again (its counters start at 0).
reread=$(( $(it_metric worker1 netpulse_worker_records_invalid_total) + $(it_metric worker1 netpulse_worker_records_late_total) ))
skipped="$(it_metric worker1 netpulse_worker_dlq_already_total)"
np_info "the new owner read $reread bad or late records again; ${skipped:-0} of them found already dead-lettered"
it_check "the new owner read the bad records again" test "$reread" -ge "$NBAD"
it_check "oracle: windows exact, each bad record dead-lettered once" \
    it_oracle --lateness-ms 2000 --until-ms $((T0 + 25000)) --expect-late $((NBAD / 3))
it_check "no process but the killed worker exited" it_alive gateway coordinator worker1
it_finish
