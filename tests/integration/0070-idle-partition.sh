#!/usr/bin/env bash
# 0070-idle-partition: one partition stays empty while the other eleven flow, then wakes up
# with on-time data while the stream goes on.
#
# A feeder writes netpulse JSON records with kcat to explicit partitions, event time
# running with the wall clock, to every partition but 5. With idle.ms 3 s partition 5 turns
# idle, follows the global watermark, and windows are published without it (partitions
# = 11). Then the feeder starts writing to partition 5 too, at the stream's current event
# time, which is ahead of the global watermark: those records are on time, land in open
# panes, and later windows have partitions = 12. At the end every window equals the
# oracle's with nothing late and nothing dead-lettered.
source "$(dirname "$0")/lib.sh"
it_setup 0070-idle-partition
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 || exit 1

T0=$(it_t0)
DURATION=30
cat >"$IT_DIR/feed.py" <<'EOF'
# feed.py BOOTSTRAP T0 SECONDS RATE WAKE_FILE WOKE_FILE: ~RATE records/s, event time
# T0 + elapsed wall time, round-robin over partitions 0..11 except 5; once WAKE_FILE
# exists also partition 5 (the event time at that moment is written to WOKE_FILE).
import json, os, random, subprocess, sys, time
from kafka_partition import keys_for
boot, t0, secs, rate, wake, woke_file = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
kcat = {p: subprocess.Popen(["kcat", "-b", boot, "-P", "-t", "network-traffic", "-p", str(p), "-K", "|", "-z", "none"],
                            stdin=subprocess.PIPE, text=True) for p in range(12)}
rng = random.Random(70)
# sources of each partition (murmur2, as a producer keyed by them would pick): a worker with
# bounded partials re-keys a record keyed by a source of another partition
srcs = {p: keys_for(p, 12, f"10.70.{p}.{{}}", 12) for p in range(12)}
parts = [p for p in range(12) if p != 5]
start, n, woke = time.monotonic(), 0, None
while True:
    el = time.monotonic() - start
    if el >= secs:
        break
    ts = t0 + int(el * 1000)
    if woke is None and os.path.exists(wake):
        woke = ts
        parts.append(5)
        with open(woke_file + ".tmp", "w") as f:
            f.write(f"{ts}\n")
        os.rename(woke_file + ".tmp", woke_file)
    while n < int(rate * el):
        p = parts[n % len(parts)]
        src = rng.choice(srcs[p])
        body = {"ts": ts, "src_ip": src, "dst_ip": f"192.0.2.{rng.randrange(1, 250)}", "src_port": rng.randrange(1024, 65536),
                "dst_port": rng.choice([53, 80, 443]), "proto": "tcp", "bytes": rng.randrange(40, 1500), "packets": rng.randrange(1, 5)}
        kcat[p].stdin.write(f"{src}|{json.dumps(body, separators=(',', ':'))}\n")
        n += 1
    for p in parts:
        kcat[p].stdin.flush()
    time.sleep(0.02)
rc = 0
for p, k in kcat.items():
    k.stdin.close()
    rc |= k.wait()
print(f"feed: {n} records, partition 5 from event time {woke}", file=sys.stderr)
sys.exit(rc)
EOF
it_start feeder env PYTHONPATH="$IT_ROOT/tests/tools" python3 "$IT_DIR/feed.py" "$BOOTSTRAP" "$T0" "$DURATION" 2000 "$IT_DIR/wake" "$IT_DIR/woke"

idle_is() { test "$(it_metric_sum netpulse_worker_idle_partitions "${IT_WORKERS[@]}")" -eq "$1"; }
it_check "partition 5 (and only it) is idle" np_wait_for -t 15 -i 0.5 idle_is 1
it_check "windows are published while partition 5 is idle (partitions = 11)" np_wait_for -t 20 -i 0.5 \
    it_window_where 'w["window_ms"] == 5000 and w["records"] > 0 and w["partitions"] == 11'
G="$(it_metric_ms coordinator netpulse_coordinator_global_watermark_seconds)"
np_info "waking partition 5 up; global watermark $G (T0+$((G - T0)) ms)"
touch "$IT_DIR/wake"
np_wait_for -t 10 test -s "$IT_DIR/woke" || { np_warn "feeder did not wake partition 5"; exit 1; }
WOKE="$(cat "$IT_DIR/woke")"
np_info "partition 5 gets records from event time T0+$((WOKE - T0)) ms"
it_check "the wake-up records are ahead of the global watermark (on time by design)" test "$WOKE" -ge "$G"
it_check "partition 5 is no longer idle" np_wait_for -t 10 -i 0.5 idle_is 0
WOKE_PANE=$((WOKE / 5000 * 5000))
it_check "windows after the wake-up include partition 5 (partitions = 12)" np_wait_for -t 30 -i 1 \
    it_window_where "w['window_ms'] == 5000 and w['window_start'] >= $WOKE_PANE and w['partitions'] == 12"

it_check "feeder delivered everything" it_wait_exit feeder 60
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + DURATION * 1000)) 60
it_check "windows equal the oracle's: nothing late, nothing lost, no duplicates" it_oracle
late="$(it_metric_sum netpulse_worker_records_late_total "${IT_WORKERS[@]}")"
it_check "workers counted no late record" test "${late:-0}" -eq 0
it_finish
