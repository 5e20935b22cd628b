#!/usr/bin/env bash
# 0080-repartition: records that producers wrote without a key, or keyed by something
# other than their source IP, are re-keyed through network-traffic-repartition, so each
# source's records meet in one partition; keyed records skip that hop. Watermarks cross
# the hop in band (markers), so re-keyed records are late only if they were late in their
# input partition. A worker is killed with -9 mid-stream, so some records are forwarded
# twice (from its last checkpoint): the repartition partitions must drop those copies.
# Results must equal the oracle's, which reads only network-traffic.
# Workers send bounded partials (ARCHITECTURE.md, Bounded partials; learning lasts 2 panes),
# and a third of the third-party records are keyed by their source: those in their source's
# partition (murmur2, as the repartition topic) skip the hop, the others (librdkafka's
# default partitioner) are re-keyed, so most third-party sources reach input partition p
# keyed and repartition partition N + p re-keyed. The worker merges the two (np_pair):
# pane and window `sources` and `top_sources` must still be exact.
export NETPULSE_PARTIAL_TOP_SOURCES=10 NETPULSE_DETECT_LEARN_PANES=2
source "$(dirname "$0")/lib.sh"
it_setup 0080-repartition
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# Keyed traffic from the generator (~25 s at wall speed)...
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count 50000 --speedup 1 \
    --seed 80 --sources 1000 --start-ms $T0
# ...and third-party producers at the same pace: a third without a key, a third keyed by
# destination, a third keyed by source (half of those partitioned by murmur2, half by
# librdkafka's default partitioner, consistent_random).
PYTHONPATH="$IT_ROOT/tests/tools" python3 - "$T0" "$IT_DIR" <<'PY'
import json, random, sys
from kafka_partition import crc32_partition, murmur2_partition
t0, d = int(sys.argv[1]), sys.argv[2]

rnd = random.Random(80)
out = {k: open(f"{d}/{k}.txt", "w") for k in ("other", "murmur", "crc")}
rekey = 0
for i in range(20000):
    ts = t0 + i * 25 // 20          # 20k records over 25 s of event time
    src = f"172.16.{rnd.randrange(4)}.{rnd.randrange(1, 200)}"
    dst = f"192.0.2.{rnd.randrange(1, 50)}"
    rec = {"ts": ts, "src_ip": src, "dst_ip": dst, "dst_port": rnd.choice([22, 80, 443]),
           "proto": "tcp", "bytes": rnd.randrange(40, 5000), "packets": rnd.randrange(1, 9)}
    kind = i % 6
    key = "" if kind in (0, 1) else dst if kind in (2, 3) else src
    f = out["other"] if kind < 4 else out["murmur"] if kind == 4 else out["crc"]
    # consistent_random puts a key at crc32 % 12; unless that is murmur2's, re-keyed
    rekey += kind < 4 or (kind == 5 and crc32_partition(src, 12) != murmur2_partition(src, 12))
    # prefixed with its second of event time: 800 records a second, all three files
    print(f"{i // 800:05d}|{key}|{json.dumps(rec, separators=(',', ':'))}", file=f)
print(rekey, file=open(f"{d}/rekey.txt", "w"))
PY
produce_paced() { # each second's records, the pace of their event time (no drift)
    local sec k t0 now
    t0=$(date +%s%N)
    for ((sec = 0; sec < 25; sec++)); do
        now=$(date +%s%N)
        (( now < t0 + sec * 1000000000 )) && sleep "$(printf '0.%09d' $((t0 + sec * 1000000000 - now)))"
        k=$(printf '%05d' "$sec")
        grep "^$k|" "$IT_DIR/other.txt" | cut -d'|' -f2- | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none &
        grep "^$k|" "$IT_DIR/murmur.txt" | cut -d'|' -f2- |
            kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none -X topic.partitioner=murmur2_random &
        grep "^$k|" "$IT_DIR/crc.txt" | cut -d'|' -f2- | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none &
        wait
    done
}
produce_paced &
PRODUCER=$!

sleep 9
np_info "kill -9 worker1"
it_stop worker1 KILL
sleep 1
it_restart_worker worker1

wait "$PRODUCER"
np_wait_for -t 120 -i 1 bash -c "! kill -0 ${IT_PIDS[generator]} 2>/dev/null"
it_check "generator delivered everything" it_stop generator
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 30000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
rekeyed="$(it_metric_sum netpulse_worker_records_rekeyed_total "${IT_WORKERS[@]}")"
dups="$(it_metric_sum netpulse_worker_rekeyed_duplicates_total "${IT_WORKERS[@]}")"
np_info "re-keyed by the workers as they are now: $rekeyed; copies dropped: $dups"
it_check "records not keyed by source went through the repartition topic" test "${rekeyed:-0}" -gt 0
in_rep="$(kcat -b "$BOOTSTRAP" -C -t network-traffic-repartition -e -q -f '%k\n' | grep -c .)"
to_rekey="$(cat "$IT_DIR/rekey.txt")"
np_info "keyed records in network-traffic-repartition: $in_rep ($to_rekey to re-key, plus copies)"
it_check "every unkeyed, mis-keyed or mis-partitioned record was re-keyed (copies allowed)" \
    test "$in_rep" -ge "$to_rekey"
unpaired="$(it_metric_sum netpulse_worker_partials_unpaired_total "${IT_WORKERS[@]}")"
shared="$(it_metric_sum netpulse_worker_pair_shared_sources_total "${IT_WORKERS[@]}")"
np_info "repartition partials not merged with their input partition's pane: ${unpaired:-0}; sources keyed and re-keyed in one pane, merged: ${shared:-0}"
it_check "sources reached both an input partition and its repartition partner, and were merged" test "${shared:-0}" -gt 0
it_finish
