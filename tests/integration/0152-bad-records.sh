#!/usr/bin/env bash
# 0152-bad-records: a flood of hostile records through the real pipeline (issue 12).
#
# tests/tools/badcorpus.py writes 33 kinds of bad record (truncated, nested, deep, huge,
# NUL, invalid UTF-8, overflowing counters, negative/far-future times, wrong types, empty,
# wrong CSV columns...) COPIES times each, and hostile-looking but valid ones (mixed
# IPv4/IPv6, invalid UTF-8 or nesting in fields netpulse does not read, a 1970 record that
# is late). They go in while the generator's good records stream, into the same partitions;
# then two 10 MB records. The workers run with dlq.max.per.second=50. Required:
#   - every bad record counted by the reason the oracle's own decoder gives, every late one
#     counted (records_invalid_total{reason}, records_late_total vs the oracle);
#   - each of them either in network-traffic-dlq with that reason, or counted as sampled out
#     (netpulse_worker_dlq_sampled_out_total{reason} = what is missing, per reason);
#   - the DLQ bounded: at most burst + rate x elapsed per worker, and the flood did exceed it;
#   - a 10 MB record dead-lettered cut to max.record.bytes with netpulse.value.bytes;
#   - log lines rate-limited (record_rejected at most 10 per 10 s per worker, with
#     log_suppressed lines saying how many were not written); no produce error, no exit;
#   - the windows of the good records equal to the oracle's.
source "$(dirname "$0")/lib.sh"
it_setup 0152-bad-records
export NETPULSE_PARTITIONS=4
IT_KAFKA_EXTRA="message.max.bytes=12000000" it_start_infra 4 || exit 1
RATE=50
COPIES="${NP_BADCORPUS_COPIES:-120}"
# The workers run while the stream comes, in two parts with a pause between them (the
# prefix consumed, the bad corpus written). With idle.ms 3 s that held only by timing: a
# partition whose share of the prefix came idle.ms after its assignment, or a pause of a
# few seconds on a loaded machine (every partition idle: the global watermark then
# advances with the clock), made good records late against the oracle's simulation, which
# knows no idleness. idle.ms 20 s keeps every partition active through both; the end of
# the data waits that much longer for the last panes.
it_start_cluster 2 --idle-ms 20000 --dlq-max-per-second "$RATE" || exit 1
PRODUCE=(kcat -b "$BOOTSTRAP" -P -t network-traffic -z none -X message.max.bytes=12000000)

T0=$(it_t0)
# A prefix of good records first, so that every partition has a watermark before the
# far-past records arrive (they are then late, as the oracle's simulation says).
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 4000 --speedup 0 \
    --seed 152 --sources 300 --start-ms "$T0" 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
consumed() { it_metric_sum netpulse_worker_records_consumed_total "${IT_WORKERS[@]}"; }
for ((i = 0; i < 120; i++)); do (($(consumed) >= 4000)) && break; sleep 0.5; done
it_check "the good prefix consumed" test "$(consumed)" -ge 4000

NOW_MS=$(( $(date +%s) * 1000 ))
python3 "$IT_ROOT/tests/tools/badcorpus.py" "$IT_DIR/bad.bin" "$((T0 + 6000))" "$NOW_MS" "$COPIES" || exit 1
# The rest of the good stream and the flood at the same time. Nothing bad came before, so
# every dead letter is produced after FLOOD_S (the bound below counts from it).
FLOOD_S=$(date +%s)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 16000 --speedup 0 \
    --seed 153 --sources 300 --start-ms "$((T0 + 4000))" 2>>"$IT_DIR/generator.log" &
gen=$!
"${PRODUCE[@]}" -K '|' -D '@@NPEND@@' -l "$IT_DIR/bad.bin.odd" || { np_warn "kcat failed"; exit 1; }
"${PRODUCE[@]}" -K '|' -D '@@NPEND@@' -l "$IT_DIR/bad.bin" || { np_warn "kcat failed"; exit 1; }
wait "$gen" || { tail "$IT_DIR/generator.log"; exit 1; }
NBAD=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read().count(b'@@NPEND@@'))" "$IT_DIR/bad.bin")
NODD=$(python3 -c "import sys; print(open(sys.argv[1],'rb').read().count(b'@@NPEND@@'))" "$IT_DIR/bad.bin.odd")
np_info "produced $NBAD hostile records and $NODD odd but valid ones"

# After the flood has been read, the bucket refills (1 s at 50/s): two 10 MB records.
total_in=$((4000 + 16000 + NBAD + NODD))
for ((i = 0; i < 240; i++)); do (($(consumed) >= total_in)) && break; sleep 0.5; done
it_check "all $total_in records consumed" test "$(consumed)" -ge "$total_in"
FLOOD_ELAPSED=$(( $(date +%s) - FLOOD_S + 1 ))
sleep 2
python3 -c '
import sys
for c in range(2):
    sys.stdout.buffer.write(b"big-%d|{\"src_ip\":\"10.152.0.1\",\"dst_ip\":\"10.0.0.2\",\"pad\":\"%s\"}@@NPEND@@" % (c, b"y" * (10 << 20)))
' | "${PRODUCE[@]}" -K '|' -D '@@NPEND@@'
for ((i = 0; i < 60; i++)); do (($(consumed) >= total_in + 2)) && break; sleep 0.5; done
it_check "the 10 MB records consumed" test "$(consumed)" -ge $((total_in + 2))

it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 25000))
ELAPSED=$(( $(date +%s) - FLOOD_S + 1 ))

# Counts by reason, from the workers.
reasons="late empty oversized malformed_json malformed_csv missing_field bad_ip bad_timestamp out_of_range bad_type watermark_jump"
counts="" outs="" sampled=0
for r in $reasons; do
    if [[ $r == late ]]; then
        n="$(it_metric_sum netpulse_worker_records_late_total "${IT_WORKERS[@]}")"
    else
        n="$(it_metric_sum "netpulse_worker_records_invalid_total{reason=\"$r\"}" "${IT_WORKERS[@]}")"
    fi
    o="$(it_metric_sum "netpulse_worker_dlq_sampled_out_total{reason=\"$r\"}" "${IT_WORKERS[@]}")"
    counts+="$r=$n,"
    outs+="$r=$o,"
    sampled=$((sampled + o))
done
dlq="$(it_metric_sum netpulse_worker_dlq_records_total "${IT_WORKERS[@]}")"
dlq_err="$(it_metric_sum netpulse_worker_dlq_errors_total "${IT_WORKERS[@]}")"
np_info "workers: counted ${counts%,}; dead-lettered $dlq; sampled out ${outs%,} ($sampled); errors $dlq_err; ${ELAPSED}s"

it_check "oracle: windows exact; every bad record counted by reason; each dead-lettered or counted as sampled out" \
    it_oracle --lateness-ms 2000 --worker-counts "${counts%,}" --dlq-sampled-out "${outs%,}"
ndlq=$(grep -c '' "$IT_DIR/dlq.jsonl")
bound=$((2 * (RATE + RATE * FLOOD_ELAPSED) + 2))
it_check "DLQ bounded: $ndlq dead letters <= $bound (2 workers x (burst $RATE + $RATE/s x ${FLOOD_ELAPSED}s of flood) + 2 x 10 MB)" \
    test "$ndlq" -le "$bound" -a "$ndlq" -eq "$dlq"
it_check "the flood exceeded the rate: $sampled sampled out" test "$sampled" -gt 0
it_check "no dead-letter produce error" test "$dlq_err" -eq 0
cut_ok() {
    python3 - "$IT_DIR/dlq.jsonl" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = json.loads(line)
    h = m.get("headers") or []
    hd = dict(zip(h[0::2], h[1::2]))
    if (m.get("key") or "").startswith("big-"):
        ok = hd.get("netpulse.reason") == "oversized" and int(hd.get("netpulse.value.bytes", 0)) > 10 << 20 \
            and len(m["payload"].encode("utf-8", "surrogateescape")) == 65536
        print(m["key"], hd.get("netpulse.value.bytes"), len(m["payload"]), ok)
        n += ok
sys.exit(0 if n == 2 else 1)
PY
}
it_check "both 10 MB records dead-lettered, cut to 65536 bytes, with netpulse.value.bytes" cut_ok
for w in "${IT_WORKERS[@]}"; do
    lines=$(grep -c 'event=record_rejected' "$IT_DIR/$w.log")
    it_check "$w: $lines record_rejected log lines <= 10 per 10 s (${ELAPSED}s)" test "$lines" -le $((10 * (ELAPSED / 10 + 1)))
    it_check "$w: log_suppressed says how many were not written" grep -q 'event=log_suppressed suppressed_event=record_rejected' "$IT_DIR/$w.log"
    it_check "$w: still running, no produce failure" bash -c "kill -0 ${IT_PIDS[$w]} && ! grep -q 'produce_undelivered\|event=fatal' '$IT_DIR/$w.log'"
done
it_finish
