#!/usr/bin/env bash
# 0040-gateway-restart: every result exactly once in processed-data (read_committed), also
# when the gateway is killed with SIGKILL and restarted.
#
# A stream of 100k records at 3000 records/s of event time, in real time (~33 s of wall
# time, a window every 5 s), through 2 workers, the coordinator and the gateway. The
# gateway is killed twice mid-stream and restarted each time with the same settings:
#   1. while a transaction is open (results produced to Kafka, not committed): the next
#      gateway fences the old producer, Kafka aborts the transaction, and the coordinator
#      re-sends the results, which are published again in a new transaction;
#   2. right after a commit, before the acknowledgements went out (the test-only
#      test.ack.delay.ms holds them for 1 s, widening a window that is microseconds wide
#      in production): the coordinator re-sends results that are already in Kafka, and
#      the next gateway must know them from the ids it read back from processed-data.
# Then processed-data, read with isolation.level=read_committed, must hold every window
# exactly once and equal the oracle's (read_uncommitted may show aborted copies, and must
# here: that proves kill 1 hit an open transaction).
source "$(dirname "$0")/lib.sh"
it_setup 0040-gateway-restart
it_start_infra 12 || exit 1

it_start_cluster 2 --idle-ms 3000 || exit 1

# The gateway runs with test settings: transactions stay open 600 ms (kill 1 aims inside
# one) and acknowledgements wait 1 s after the commit (kill 2 aims there); 1.6 s in all
# stays under the coordinator's 2 s resend.ms. So the cluster's gateway is replaced (a
# clean SIGTERM restart) by one started like every later one.
start_gateway() {
    it_start gateway "$IT_BIN/netpulse-gateway" --brokers "$BOOTSTRAP" --bind "$IT_ZMQ_GW" \
        --http-port-file "$IT_DIR/gateway.port" --commit-interval-ms 600 --test-ack-delay-ms 1000
}
it_check "gateway stops cleanly on SIGTERM before the stream" it_stop gateway TERM
start_gateway

gw_metric() { it_metric gateway "$1"; }
gw_alive() { kill -0 "${IT_PIDS[gateway]:-0}" 2>/dev/null || { np_warn "gateway is not running"; return 1; }; }

# Kill 1: as soon as a transaction holds a result, give the producer 250 ms to deliver it
# to the broker (still well before the commit at 600 ms), then SIGKILL.
kill_in_open_transaction() {
    local n deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        gw_alive || return 1
        n="$(gw_metric netpulse_gateway_transaction_open_results)"
        if [[ "${n:-0}" -gt 0 ]]; then
            sleep 0.25
            np_info "kill -9 gateway with a transaction open (${n} result(s))"
            it_stop gateway KILL
            return 0
        fi
        sleep 0.02
    done
    np_warn "no transaction opened within 30 s"
    return 1
}

# Kill 2: SIGKILL as soon as results are counted as published (committed), while their
# acknowledgements are held.
kill_after_commit() {
    local n p0 deadline=$((SECONDS + 30))
    p0="$(gw_metric netpulse_gateway_results_published_total)" || return 1
    while ((SECONDS < deadline)); do
        gw_alive || return 1
        n="$(gw_metric netpulse_gateway_results_published_total)"
        if [[ "${n:-0}" -gt "${p0:-0}" ]]; then
            np_info "kill -9 gateway right after result $n was committed, acknowledgements not sent"
            it_stop gateway KILL
            return 0
        fi
        sleep 0.02
    done
    np_warn "nothing published within 30 s"
    return 1
}

T0=$(it_t0) # event time of the first record (aligned to the 5 s pane)
COUNT=100000
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 3000 --speedup 1 \
    --count $COUNT --seed 41 --sources 1000 --start-ms $T0 --http-port-file "$IT_DIR/gen.port"
START=$SECONDS

sleep 5
it_check "kill 1 lands in an open transaction" kill_in_open_transaction
it_stop gateway KILL # (if the check failed)
start_gateway
sleep 6
it_check "kill 2 lands between a commit and its acknowledgements" kill_after_commit
it_stop gateway KILL
start_gateway
np_info "gateway killed twice by $((SECONDS - START)) s into the stream"

gen_done() { ! kill -0 "${IT_PIDS[generator]}" 2>/dev/null; }
np_wait_for -t 120 -i 1 gen_done
it_stop generator KILL # (if it hung)
gen_rc=$?
it_check "generator produced $COUNT records" test "$gen_rc" -eq 0
np_info "stream took $((SECONDS - START)) s"

# The stream has ended; partitions go idle and the last pane closes. Wait for the first
# (empty) window after the data, which is published after every earlier one.
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000)) 90

# Only read_committed counts: it_oracle reads processed-data so, and must find every
# window exactly once (it fails on a repeated id) and equal to its own.
it_check "windows equal the oracle's, no id twice (read_committed)" it_oracle --expect-late 0
no_repeated_ids() {
    local dups
    dups="$(python3 -c 'import json,sys; [print(json.loads(l)["key"]) for l in sys.stdin]' \
        <"$IT_DIR/results.jsonl" | sort | uniq -d)"
    [[ -z "$dups" ]] || { np_warn "ids published more than once: $(echo $dups)"; return 1; }
}
it_check "no result id twice (read_committed)" no_repeated_ids
it_check "at least $COUNT records in network-traffic" test "$(wc -l <"$IT_DIR/records.jsonl")" -ge $COUNT
# read_uncommitted also shows what kill 1's aborted transaction had produced.
kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_uncommitted -J \
    >"$IT_DIR/results-uncommitted.jsonl" 2>/dev/null
n_committed="$(wc -l <"$IT_DIR/results.jsonl")"
n_uncommitted="$(wc -l <"$IT_DIR/results-uncommitted.jsonl")"
np_info "processed-data: $n_committed results read_committed, $n_uncommitted read_uncommitted"
it_check "an aborted transaction is in processed-data (read_uncommitted sees more)" \
    test "$n_uncommitted" -gt "$n_committed"

# The gateway after kill 2 read the ids back and acknowledged the re-sent ones unpublished.
loaded="$(grep 'event=published_ids_loaded' "$IT_DIR/gateway.log" | tail -n 1 | sed -n 's/.* ids=\([0-9]*\).*/\1/p')"
it_check "restarted gateway loaded published ids (${loaded:-none})" test "${loaded:-0}" -ge 1
it_check "restarted gateway acknowledged repeats without publishing" \
    test "$(gw_metric netpulse_gateway_results_duplicate_total)" -ge 1
it_check "four gateway incarnations started" test "$(grep -c 'event=started' "$IT_DIR/gateway.log")" -eq 4
# Results of the last panes may still be on their way: wait for the acknowledgements.
outbox_empty() { test "$(it_metric coordinator netpulse_coordinator_outbox_results)" -eq 0; }
it_check "coordinator has every result acknowledged" np_wait_for -t 20 -i 1 outbox_empty

# Clean shutdown on SIGTERM: every process exits 0.
for p in worker1 worker2 coordinator gateway; do
    it_check "$p stops cleanly on SIGTERM" it_stop "$p" TERM
done
np_info "done after $((SECONDS - START)) s of stream and checks"
it_finish
