#!/usr/bin/env bash
# 0150-attacks: what an attacker on the same network (or a broken peer) sends, against the
# real processes (plain TCP on loopback; CURVE is 0151). Each attack must leave the
# published windows exactly equal to the oracle's, and be counted:
#   forged partial (123,456,789 records for a real pane)  -> refused: not the partition's owner
#   forged progress with 4096 partitions                  -> refused; the partition count stays
#   300 far-future panes                                  -> refused; nothing stored in Redis
#   one 512 MiB frame                                     -> connection dropped; RSS stays bounded
#   a record an hour ahead / one 9 minutes ahead of the stream -> dead-lettered (out_of_range /
#                                                            watermark_jump); the next records are on time
#   a corrupted worker checkpoint                         -> quarantined, counted, recovered from
#                                                            Kafka offsets; no crash loop
#   64 trickling HTTP clients                             -> /healthz still answers at once
#   a damaged stored partial of the coordinator           -> quarantined, logged, counted on restart
source "$(dirname "$0")/lib.sh"
it_setup 0150-attacks
export NETPULSE_PARTITIONS=4
it_start_infra 4 || exit 1
ATTACK="$IT_BIN/tests/np-attack"
COORD_HASH='netpulse:coord:{netpulse}'

# The stream is written before the workers start (they consume it as a backlog): the
# oracle and the late counter allow no late record, and with the workers first a partition
# whose share of the burst came idle.ms after its assignment (a loaded machine) was idle by
# the rule, followed the global watermark the others moved, and had its records
# dead-lettered as late. A partition with records not yet consumed cannot be idle.
T0=$(it_t0)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 20000 --speedup 0 \
    --seed 150 --sources 300 --start-ms "$T0" 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
# Right after the stream, in the same backlog: a record 9 minutes ahead of it (in the past
# for the wall clock, so only the watermark bound catches it), then an on-time record of
# the same source (same partition) that it would otherwise have made late; and one an hour
# ahead of the wall clock.
NOW_MS=$(( $(date +%s) * 1000 ))
{
    echo "10.150.0.1|{\"ts\":$((T0 + 540000)),\"src_ip\":\"10.150.0.1\",\"dst_ip\":\"10.0.0.2\",\"bytes\":100}"
    echo "10.150.0.1|{\"ts\":$((T0 + 19500)),\"src_ip\":\"10.150.0.1\",\"dst_ip\":\"10.0.0.2\",\"bytes\":100}"
    echo "10.150.0.2|{\"ts\":$((NOW_MS + 3600000)),\"src_ip\":\"10.150.0.2\",\"dst_ip\":\"10.0.0.2\",\"bytes\":100}"
} | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none

# The backlog is complete: now the cluster.
it_start_cluster 2 --idle-ms 3000 --max-watermark-jump-ms 300000 || exit 1

# ---- forged partial: a real pane, a huge count, from a peer that owns nothing
it_check "coordinator knows the 8 slots" np_wait_for -t 30 bash -c \
    "test \"\$(curl -sf http://127.0.0.1:$(it_http_port coordinator)/metrics | awk '\$1==\"netpulse_coordinator_partitions\"{print \$2}')\" = 8"
out="$("$ATTACK" partial "$IT_ZMQ_COORD" 0 "$T0" 5000 123456789)"
it_check "forged partial: not acknowledged ($out)" test "$out" = no-ack
it_check "forged partial: counted as unauthorised" \
    test "$(it_metric coordinator 'netpulse_coordinator_messages_unauthorised_total{kind="partial"}')" -ge 1

# ---- forged progress: 4096 partitions that would hold every pane back
"$ATTACK" progress "$IT_ZMQ_COORD" 4096 5000
it_check "forged progress: partition count still 8" \
    test "$(it_metric coordinator netpulse_coordinator_partitions)" = 8
progress_refused() {
    test "$(it_metric coordinator 'netpulse_coordinator_messages_unauthorised_total{kind="progress"}')" -ge 81920
}
it_check "forged progress: 20 x 4096 claims refused and counted" np_wait_for -t 20 progress_refused

# ---- 300 far-future panes
out="$("$ATTACK" panes "$IT_ZMQ_COORD" 300 5000)"
it_check "far-future panes: not acknowledged ($out)" test "$out" = no-ack
it_check "far-future panes: none open" test "$(it_metric coordinator netpulse_coordinator_open_panes)" -lt 10
far_panes() {
    redis-cli -p "$REDIS_PORT" --raw smembers "$COORD_HASH:panes" | awk -v now="$(( $(date +%s) * 1000 + 600000 ))" '$1 > now' | wc -l
}
it_check "far-future panes: none stored in Redis" test "$(far_panes)" = 0

# ---- one 512 MiB frame
rss0="$(it_metric coordinator process_resident_memory_bytes)"
"$ATTACK" frame "$IT_ZMQ_COORD" 512
rss1="$(it_metric coordinator process_resident_memory_bytes)"
np_info "coordinator RSS before/after the 512 MiB frame: $rss0 / $rss1 bytes"
it_check "oversized frame: coordinator RSS grew < 64 MiB ($rss0 -> $rss1)" test $((rss1 - rss0)) -lt 67108864
it_check "oversized frame: coordinator still healthy" \
    curl -sf -o /dev/null "http://127.0.0.1:$(it_http_port coordinator)/healthz"

# ---- 64 slow HTTP clients from 127.0.0.2 trickle headers; /healthz from 127.0.0.1
cat >"$IT_DIR/slowloris.py" <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        pass
print(f"{len(socks)} connected", flush=True)
end = time.time() + secs
while time.time() < end:
    for s in socks:
        try:
            s.send(b"X")
        except OSError:
            pass
    time.sleep(1)
PY
for proc in coordinator gateway worker1; do
    port="$(it_http_port "$proc")"
    python3 "$IT_DIR/slowloris.py" "$port" 64 8 >"$IT_DIR/slowloris-$proc.log" 2>&1 &
    slow=$!
    sleep 2
    t0=$(date +%s%N)
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$port/healthz")"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    it_check "slow clients: $proc /healthz answers $code in ${ms} ms" test "$code" = 200 -a "$ms" -lt 2000
    kill "$slow" 2>/dev/null
    wait "$slow" 2>/dev/null
done

# ---- corrupted checkpoint: both workers stop (writing checkpoints), one is damaged in
# place, the workers come back: the damaged one is quarantined and rebuilt from Kafka.
# The late-record counters restart with the workers: read them first.
LATE_BEFORE="$(it_metric_sum netpulse_worker_records_late_total worker1 worker2)"
it_stop worker1 TERM
it_stop worker2 TERM
CK='netpulse:ckpt:{netpulse-workers/network-traffic/1}'
it_check "checkpoint of partition 1 exists" test "$(redis-cli -p "$REDIS_PORT" exists "$CK")" = 1
redis-cli -p "$REDIS_PORT" setrange "$CK" 12 "CORRUPTED-BY-0150" >/dev/null
it_restart_worker worker1
it_restart_worker worker2
IT_WORKERS=(worker1 worker2)
it_check "workers own every partition again" it_wait_assigned
it_check "damaged checkpoint quarantined (counted once)" test \
    "$(it_metric_sum netpulse_worker_checkpoints_quarantined_total worker1 worker2)" = 1
it_check "quarantine key kept for operators" \
    test "$(redis-cli -p "$REDIS_PORT" --raw keys "$CK:quarantine:*" | wc -l)" = 1
it_check "the reason is logged" grep -qh 'event=checkpoint_quarantined.*checksum mismatch' \
    "$IT_DIR/worker1.log" "$IT_DIR/worker2.log"
sleep 2
it_check "no worker exited (no crash loop)" bash -c \
    "kill -0 ${IT_PIDS[worker1]} && kill -0 ${IT_PIDS[worker2]}"

# ---- the published windows are exactly the oracle's: nothing forged got in
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 20000))
sleep 3
# With bounded partials (partial.top.sources) the partition whose checkpoint was
# quarantined restarts without its window history: the sliding windows that still reach
# back to its data before the restart (at most window / pane - 1 of them) cannot be exact
# and must be marked sources_lower_bound (their totals stay exact). With whole tables the
# coordinator holds every pane's table and none is marked.
it_check "oracle: windows exact (or marked lower bounds after the quarantine), far-future records dead-lettered" \
    it_oracle --dlq-trusted watermark_jump --expect-dlq-reasons watermark_jump=1,out_of_range=1 --expect-late 0 \
    --lower-bound-windows $((IT_WINDOW_MS / 5000 - 1))
it_check "no late records (the jump did not move the watermark), before the restart ($LATE_BEFORE) or after" \
    test "$((LATE_BEFORE + $(it_metric_sum netpulse_worker_records_late_total worker1 worker2)))" = 0
it_check "no forged count published" bash -c "! grep -q 123456789 '$IT_DIR/results.jsonl'"

# ---- a damaged stored partial: the restarted coordinator moves it aside, logs and counts it
it_check "coordinator stops cleanly" it_stop coordinator TERM
FAR=$(( ( $(date +%s) / 5 ) * 5000 ))
redis-cli -p "$REDIS_PORT" sadd "$COORD_HASH:panes" "$FAR" >/dev/null
redis-cli -p "$REDIS_PORT" hset "$COORD_HASH:pane:$FAR" 0 $'NPP\x01\x11\x22\x33\x44damaged' >/dev/null
it_restart_coordinator
it_check "damaged stored partial quarantined and counted" np_wait_for -t 20 bash -c \
    "test \"\$(curl -sf http://127.0.0.1:\$(cat $IT_DIR/coordinator.port)/metrics | awk '\$1==\"netpulse_coordinator_partials_quarantined_total\"{print \$2}')\" = 1"
it_check "  ... logged with the reason" grep -q 'event=stored_partial_quarantined.*checksum mismatch' "$IT_DIR/coordinator.log"
it_check "  ... kept aside for operators" \
    test "$(redis-cli -p "$REDIS_PORT" hlen "$COORD_HASH:pane:quarantine")" = 1
for n in worker1 worker2 coordinator gateway; do it_check "$n stops cleanly" it_stop "$n" TERM; done
it_finish
