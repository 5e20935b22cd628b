#!/usr/bin/env bash
# 0080-repartition: records that producers wrote without a key, or keyed by something
# other than their source IP, are re-keyed through network-traffic-repartition, so each
# source's records meet in one partition; keyed records skip that hop. Watermarks cross
# the hop in band (markers), so re-keyed records are late only if they were late in their
# input partition. A worker is killed with -9 mid-stream, so some records are forwarded
# twice (from its last checkpoint): the repartition partitions must drop those copies.
# Results must equal the oracle's, which reads only network-traffic.
source "$(dirname "$0")/lib.sh"
it_setup 0080-repartition
it_start_infra 12 || exit 1
it_start_cluster 2 --idle-ms 3000 --checkpoint-ms 500 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 || exit 1

T0=$(it_t0)
# Keyed traffic from the generator (~25 s at wall speed)...
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 2000 --count 50000 --speedup 1 \
    --seed 80 --sources 1000 --start-ms $T0
# ...and third-party producers at the same pace: half without a key, half keyed by destination.
python3 - "$T0" >"$IT_DIR/unkeyed.txt" <<'PY'
import json, random, sys
t0 = int(sys.argv[1])
rnd = random.Random(80)
for i in range(20000):
    ts = t0 + i * 25 // 20          # 20k records over 25 s of event time
    src = f"172.16.{rnd.randrange(4)}.{rnd.randrange(1, 200)}"
    dst = f"192.0.2.{rnd.randrange(1, 50)}"
    rec = {"ts": ts, "src_ip": src, "dst_ip": dst, "dst_port": rnd.choice([22, 80, 443]),
           "proto": "tcp", "bytes": rnd.randrange(40, 5000), "packets": rnd.randrange(1, 9)}
    key = "" if i % 2 else dst
    print(f"{key}|{json.dumps(rec, separators=(',', ':'))}")
PY
produce_paced() { # 800 lines a second, the pace of their event time
    split -l 800 "$IT_DIR/unkeyed.txt" "$IT_DIR/chunk."
    for f in "$IT_DIR"/chunk.*; do
        kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none <"$f"
        sleep 1
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
np_info "keyed records in network-traffic-repartition: $in_rep (20000 re-keyed, plus copies)"
it_check "every unkeyed or mis-keyed record was re-keyed (copies allowed)" test "$in_rep" -ge 20000
it_finish
