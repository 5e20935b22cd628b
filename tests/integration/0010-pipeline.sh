#!/usr/bin/env bash
# 0010-pipeline: the whole path on real Kafka and Redis.
#
# generator (JSON, then CSV) + hand-written tutorial-format and bad records
#   -> network-traffic (12 partitions) -> 2 workers -> coordinator -> gateway -> processed-data
#
# Then every window is checked against tests/tools/oracle.py, which recomputes them from the
# records read back from network-traffic with its own decoder: records, bytes, packets,
# distinct sources and top sources exactly equal, no window missing, no id twice; and every
# bad record is in network-traffic-dlq with the reason the oracle expects, and counted.
#
# Every record is in the log before the workers start (they consume the backlog). The
# oracle allows no late record, i.e. it assumes no partition followed the global watermark
# while idle. With the cluster started first, that held only by timing: a partition whose
# log stayed empty for idle.ms after its assignment (the generator still starting, or
# librdkafka appending one partition's whole 100k-burst share as one batch after the
# others') is idle by the rule (np_idle), follows the global watermark the other
# partitions' data moved, and its first records are late (seen under load: partition 8
# empty 28.67 -> ~32.1 s with idle.ms 3000, offsets 0-4102 late at the global watermark).
# With the backlog written first, a partition with records not yet consumed has its log end
# past its position and cannot be idle, and no record is appended after any was consumed.
source "$(dirname "$0")/lib.sh"
it_setup 0010-pipeline
it_start_infra 12 || exit 1

T0=$(it_t0)   # event time of the first record (aligned to the 5 s pane)
# 100k JSON records over 20 s of event time, then 20k CSV records (time = Kafka timestamp)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 5000 --count 100000 --speedup 0 \
    --seed 11 --sources 2000 --start-ms $T0 --http-port-file "$IT_DIR/gen.port" 2>"$IT_DIR/generator.log" \
    || { tail "$IT_DIR/generator.log"; exit 1; }
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 5000 --count 20000 --speedup 0 --format csv \
    --seed 12 --sources 500 --start-ms $((T0 + 20000)) 2>>"$IT_DIR/generator.log" \
    || { tail "$IT_DIR/generator.log"; exit 1; }

# Tutorial formats, keyed by source as a third-party producer would.
T=$((T0 + 24000))
{
    echo "10.9.9.1|{\"source_ip\":\"10.9.9.1\",\"destination_ip\":\"192.168.1.1\",\"protocol\":\"TCP\",\"bytes_sent\":1234,\"timestamp\":$((T / 1000))}"
    echo "10.9.9.2|{\"source_ip\":\"10.9.9.2\",\"destination_ip\":\"192.168.1.2\",\"protocol\":\"udp\",\"bytes\":77,\"timestamp\":$T}"
    echo "10.9.9.3|{\"source_ip\":\"10.9.9.3\",\"destination_ip\":\"192.168.1.3\",\"protocol\":\"tcp\",\"bytes_sent\":\"99\",\"timestamp\":\"$(date -u -d @$(( (T + 500) / 1000 )) +%Y-%m-%dT%H:%M:%S).500Z\"}"
    echo "fd00::9|{\"src_ip\":\"fd00::9\",\"dst_ip\":\"2001:db8::1\",\"proto\":\"tcp\",\"bytes\":10,\"packets\":2,\"ts\":$((T + 500))}"
} | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none
# Bad records: each must reach the DLQ with this reason and be counted.
{
    echo 'b1|this is not a record'                                            # malformed_csv
    echo 'b2|{"src_ip":"10.0.0.1","dst_ip":"10.0.0.2","bytes":1'              # malformed_json
    echo "b3|{\"src_ip\":\"10.0.0.999\",\"dst_ip\":\"10.0.0.2\",\"ts\":$T}"   # bad_ip
    echo "b4|{\"dst_ip\":\"10.0.0.2\",\"ts\":$T}"                             # missing_field
    echo "b5|{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"dst_port\":70000,\"ts\":$T}"  # out_of_range
    echo "b6|{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"ts\":\"yesterday\"}"          # bad_timestamp
    echo "b7|{\"src_ip\":17,\"dst_ip\":\"10.0.0.2\",\"ts\":$T}"                # bad_type
    echo "b8|{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"ts\":$((4102444800000 + T0))}" # out_of_range (future)
} | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none
python3 -c 'print("big|{\"src_ip\":\"10.0.0.1\",\"dst_ip\":\"10.0.0.2\",\"pad\":\"" + "x"*70000 + "\"}")' \
    | kcat -b "$BOOTSTRAP" -P -t network-traffic -K '|' -z none                 # oversized

# The backlog is complete: now the workers.
it_start_cluster 2 --idle-ms 3000 || exit 1

# The stream has ended: partitions go idle, the global watermark moves on with the
# clock, and the last panes close. Wait for the first window after the data.
LAST_PANE_END=$((T0 + 30000))
wait_done() {
    kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -f '%k\n' 2>/dev/null \
        | awk -F: -v e="$LAST_PANE_END" '$1 == "window" && $2 >= e { found = 1 } END { exit !found }'
}
it_check "windows published through the end of the data" np_wait_for -t 90 -i 1 wait_done

kcat -b "$BOOTSTRAP" -C -t network-traffic -e -q -J >"$IT_DIR/records.jsonl"
kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -J >"$IT_DIR/results.jsonl"
kcat -b "$BOOTSTRAP" -C -t network-traffic-dlq -e -q -J >"$IT_DIR/dlq.jsonl"
it_check "every partition had data in some window" it_window_where "w['partitions'] >= 12"
it_check "at least 120k records in network-traffic" \
    test "$(wc -l <"$IT_DIR/records.jsonl")" -ge 120013
it_check "windows equal the oracle's; dead letters match" \
    python3 "$IT_ROOT/tests/tools/oracle.py" --records "$IT_DIR/records.jsonl" \
    --results "$IT_DIR/results.jsonl" --dlq "$IT_DIR/dlq.jsonl" --pane-ms 5000 --window-ms "$IT_WINDOW_MS" --views "$NETPULSE_VIEWS" \
    --expect-dlq-reasons malformed_csv=1,malformed_json=1,bad_ip=1,missing_field=1,out_of_range=2,bad_timestamp=1,bad_type=1,oversized=1

consumed="$(it_metric_sum 'netpulse_worker_records_consumed_total{topic="network-traffic"}' "${IT_WORKERS[@]}")"
invalid="$(it_metric_sum netpulse_worker_records_invalid_total "${IT_WORKERS[@]}")"
dlq="$(it_metric_sum netpulse_worker_dlq_records_total "${IT_WORKERS[@]}")"
np_info "workers consumed=$consumed invalid=$invalid dlq=$dlq"
it_check "every record consumed once" test "$consumed" -eq "$(wc -l <"$IT_DIR/records.jsonl")"
it_check "9 invalid records counted and dead-lettered" test "$invalid" -eq 9 -a "$dlq" -eq 9
# Empty windows keep coming while the stream is idle, so compare when neither is mid-flight.
published_all() {
    [[ "$(it_metric gateway netpulse_gateway_results_published_total)" == \
       "$(it_metric coordinator netpulse_coordinator_results_emitted_total)" ]]
}
it_check "gateway published what the coordinator emitted" np_wait_for -t 15 -i 0.2 published_all
it_check "workers registered in redis" test "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'netpulse:workers:*' | wc -l)" -eq 2
it_check "/healthz answers ok" curl -sf -o /dev/null "http://127.0.0.1:$(it_http_port worker1)/healthz"

# Clean shutdown on SIGTERM: every process exits 0.
for p in worker1 worker2 coordinator gateway; do
    it_check "$p stops cleanly on SIGTERM" it_stop "$p" TERM
done
it_finish
