#!/usr/bin/env bash
# 0060-late: records behind their partition's max event time, within and beyond the
# allowed lateness (2 s), each counted exactly once in the right place.
#
# Worker semantics (np_pane): per partition, in offset order, the first record sets the max
# event time M; closed = floor((M - 2000) / 5000) * 5000, and every pane ending at or before
# it is closed; a record whose pane is closed is late (it moves nothing). The test's own
# records are produced with kcat to explicit partitions, keyed by a source of that
# partition (its murmur2 partition), so each partition's order is known:
#
#  before the stream, per partition (its first records):
#    T0 - 8000    the first record: M = T0-8000, closed = T0-10000 at once  -> counted
#    T0 - 10001   pane [T0-15000, T0-10000) was closed by the first record -> late
#    T0 - 10000   first ms of the oldest open pane                        -> counted
#  the stream: 40k generator records over [T0, T0+20s), up to 0.5 s out of order
#  after the stream, per partition:
#    D            the new max: T0+22000 on even partitions, T0+21999 on odd ones, so the
#                 watermark D-2000 reaches the pane boundary T0+20000 exactly (even) or
#                 misses it by 1 ms (odd)                                  -> counted
#    T0 + 19999   last ms of [T0+15000, T0+20000): late on even partitions, counted on odd
#    T0 + 20000   first ms of the next pane                                -> counted
#    C - 1        (C = the partition's closed point, T0+20000 or T0+15000) -> late
#    D - 1000     behind the max, within lateness                          -> counted
#    T0 + 1000    far behind                                               -> late
#    T0 + 40000   a sentinel: closes every pane before T0+35s. Its own pane stays open:
#                 idle.ms is 60 s so that no partition follows the global watermark (lateness
#                 depends only on each partition's records), and the oracle compares the
#                 windows before T0+35s only.
#
# The oracle simulates per-partition lateness on its own (--lateness-ms) and requires:
# windows exact without the late records, every late record in network-traffic-dlq with
# reason `late` and header netpulse.pane.start = its pane, the windows' late_records summing
# to the number of late records, and that number equal to what this test designed (42); the
# workers' late counter must say the same. Closing panes 1 ms early or late, or a lateness
# off by 1 ms either way, changes the count.
source "$(dirname "$0")/lib.sh"
it_setup 0060-late
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 60000 --lateness-ms 2000 || exit 1

T0=$(it_t0)
cat >"$IT_DIR/plan.py" <<'EOF'
# plan.py pre|post T0 [STREAM_DUMP]: prints "partition|key|value|expect" lines (expect:
# late or ok, by the test's design) for the records injected before or after the stream.
import json, sys
from kafka_partition import key_for
mode, t0 = sys.argv[1], int(sys.argv[2])
PANE, LATENESS = 5000, 2000
# a source whose partition (murmur2, as a Kafka producer keyed by it would pick) is p: a
# worker with bounded partials re-keys a record keyed by a source of another partition
key = {p: key_for(p, 12, f"10.60.{p}.{{}}") for p in range(12)}
if mode == "post":   # key each partition's records by a source the stream put there
    seen = set()
    for line in open(sys.argv[3]):
        m = json.loads(line)
        v = json.loads(m["payload"])
        if m["partition"] not in seen and not v["src_ip"].startswith("10.60."):
            seen.add(m["partition"])
            key[m["partition"]] = v["src_ip"]
    if seen != set(range(12)):
        sys.exit(f"stream has data in partitions {sorted(seen)} only")
def rec(p, ts, expect):
    body = {"ts": ts, "src_ip": key[p], "dst_ip": "192.0.2.60", "src_port": 6000 + p, "dst_port": 443,
            "proto": "tcp", "bytes": 1000 + ts % 1000, "packets": 2}
    print(f"{p}|{key[p]}|{json.dumps(body, separators=(',', ':'))}|{expect}")
for p in range(12):
    if mode == "pre":
        rec(p, t0 - 8000, "ok")
        rec(p, t0 - 10001, "late")
        rec(p, t0 - 10000, "ok")
        continue
    d = t0 + 22000 - p % 2
    closed = (d - LATENESS) // PANE * PANE
    rec(p, d, "ok")
    rec(p, t0 + 19999, "late" if closed > t0 + 15000 else "ok")
    rec(p, t0 + 20000, "ok")
    rec(p, closed - 1, "late")
    rec(p, d - 1000, "ok")
    rec(p, t0 + 1000, "late")
    rec(p, t0 + 40000, "ok")
EOF
inject() {
    local p
    for p in $(seq 0 11); do
        awk -F'|' -v p="$p" '$1 == p { print $2 "|" $3 }' "$1" | it_produce "$p" || return 1
    done
}
PYTHONPATH="$IT_ROOT/tests/tools" python3 "$IT_DIR/plan.py" pre "$T0" >"$IT_DIR/inject-pre.txt" && inject "$IT_DIR/inject-pre.txt" \
    || { np_warn "cannot inject the records before the stream"; exit 1; }
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count 40000 --speedup 0 \
    --seed 61 --sources 2000 --start-ms "$T0" 2>"$IT_DIR/generator.log" \
    || { tail "$IT_DIR/generator.log"; exit 1; }
# The generator has flushed: every stream record is in Kafka before what follows.
kcat -b "$BOOTSTRAP" -C -t network-traffic -e -q -J >"$IT_DIR/stream.jsonl"
PYTHONPATH="$IT_ROOT/tests/tools" python3 "$IT_DIR/plan.py" post "$T0" "$IT_DIR/stream.jsonl" >"$IT_DIR/inject-post.txt" \
    && inject "$IT_DIR/inject-post.txt" || { np_warn "cannot inject the records after the stream"; exit 1; }
LATE=$(cat "$IT_DIR"/inject-pre.txt "$IT_DIR"/inject-post.txt | grep -c '|late$')
np_info "injected $(cat "$IT_DIR"/inject-pre.txt "$IT_DIR"/inject-post.txt | wc -l) records, $LATE of them late by design"

UNTIL=$((T0 + 35000))
it_check "windows published through T0+35s" it_wait_windows_through $((T0 + 30000)) 60
it_check "windows equal the oracle's lateness simulation; late records dead-lettered with their pane" \
    it_oracle --lateness-ms 2000 --until-ms "$UNTIL" --expect-late "$LATE" --expect-dlq-reasons "late=$LATE"
late="$(it_metric_sum netpulse_worker_records_late_total "${IT_WORKERS[@]}")"
invalid="$(it_metric_sum netpulse_worker_records_invalid_total "${IT_WORKERS[@]}")"
dlq="$(it_metric_sum netpulse_worker_dlq_records_total "${IT_WORKERS[@]}")"
np_info "workers: late=$late invalid=$invalid dead-lettered=$dlq"
it_check "the workers counted $LATE late records" test "$late" -eq "$LATE"
it_check "every dead letter is a late record" test "$dlq" -eq "$LATE" -a "$invalid" -eq 0
it_check "no partition went idle" test "$(it_metric_sum netpulse_worker_idle_partitions "${IT_WORKERS[@]}")" -eq 0
it_finish
