#!/usr/bin/env bash
# 0151-curve: the ZeroMQ links with CURVE (np_zsock): key pairs made by netpulse-keygen, the
# coordinator admits only the workers' public keys, the gateway only the coordinator's.
#   - the pipeline runs over CURVE and its windows equal the oracle's;
#   - a peer without CURVE, and one with a key not on the allow-list, get nothing
#     acknowledged, and the ZAP refusals are counted;
#   - a forged Result sent to the gateway is not published;
#   - configuration errors exit 2 before any connection: a non-loopback endpoint without
#     CURVE, a CURVE client without the server's key, an unreadable key file.
source "$(dirname "$0")/lib.sh"
it_setup 0151-curve
export NETPULSE_PARTITIONS=4
it_start_infra 4 || exit 1
ATTACK="$IT_BIN/tests/np-attack"
K="$IT_DIR/keys"
mkdir -p "$K"
for n in coordinator gateway worker1 worker2 intruder; do "$IT_BIN/netpulse-keygen" "$K" "$n" || exit 1; done
it_check "secret keys are private (0600)" test "$(stat -c %a "$K/worker1.key")" = 600
cat "$K/worker1.pub" "$K/worker2.pub" >"$K/workers.allow"
cp "$K/coordinator.pub" "$K/gateway.allow"

# ---- configuration errors: exit 2, before any connection
"$IT_BIN/netpulse-coordinator" --bind "tcp://0.0.0.0:$(np_free_port)" --redis-port 0 >"$IT_DIR/cfg1.log" 2>&1
it_check "non-loopback bind without CURVE: exit 2" test $? -eq 2
it_check "  ... and says why" grep -q 'zmq.plaintext.allow' "$IT_DIR/cfg1.log"
"$IT_BIN/netpulse-worker" --brokers "$BOOTSTRAP" --zmq-curve-secret-file "$K/worker1.key" --redis-port 0 >"$IT_DIR/cfg2.log" 2>&1
it_check "CURVE client without the server key: exit 2" test $? -eq 2
"$IT_BIN/netpulse-gateway" --brokers "$BOOTSTRAP" --zmq-curve-secret-file "$K/missing.key" >"$IT_DIR/cfg3.log" 2>&1
it_check "unreadable key file: exit 2" test $? -eq 2

# ---- the stream, written before the workers start (they consume it as a backlog): the
# oracle allows no late record, and with the workers first a partition whose share of the
# burst came idle.ms after its assignment (a loaded machine) was idle by the rule, followed
# the global watermark the others moved, and had its records dead-lettered as late.
T0=$(it_t0)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 10000 --speedup 0 \
    --seed 151 --sources 200 --start-ms "$T0" 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }

# ---- the cluster over CURVE
IT_ZMQ_GW="tcp://127.0.0.1:$(np_free_port)"
IT_ZMQ_COORD="tcp://127.0.0.1:$(np_free_port)"
it_start gateway "$IT_BIN/netpulse-gateway" --brokers "$BOOTSTRAP" --bind "$IT_ZMQ_GW" \
    --zmq-curve-secret-file "$K/gateway.key" --zmq-curve-allow-file "$K/gateway.allow" \
    --http-port-file "$IT_DIR/gateway.port"
it_start coordinator "$IT_BIN/netpulse-coordinator" --bind "$IT_ZMQ_COORD" --gateway "$IT_ZMQ_GW" \
    --redis-port "$REDIS_PORT" --window-ms "$IT_WINDOW_MS" --http-port-file "$IT_DIR/coordinator.port" \
    --zmq-curve-secret-file "$K/coordinator.key" --zmq-curve-allow-file "$K/workers.allow" \
    --zmq-curve-server-file "$K/gateway.pub"
IT_WORKERS=()
for w in worker1 worker2; do
    it_start "$w" "$IT_BIN/netpulse-worker" --brokers "$BOOTSTRAP" --coordinator "$IT_ZMQ_COORD" \
        --redis-port "$REDIS_PORT" --worker-id "$w" --http-port-file "$IT_DIR/$w.port" --idle-ms 3000 \
        --zmq-curve-secret-file "$K/$w.key" --zmq-curve-server-file "$K/coordinator.pub"
    IT_WORKERS+=("$w")
done
it_check "workers own every partition" it_wait_assigned

# ---- intruders
out="$("$ATTACK" partial "$IT_ZMQ_COORD" 0 "$T0" 5000 123456789)"
it_check "no CURVE: partial not acknowledged ($out)" test "$out" = no-ack
out="$("$ATTACK" -k "$K/coordinator.pub" -s "$K/intruder.key" partial "$IT_ZMQ_COORD" 0 "$T0" 5000 123456789)"
it_check "key not on the allow-list: partial not acknowledged ($out)" test "$out" = no-ack
it_check "coordinator counted the refused key" \
    test "$(it_metric coordinator netpulse_coordinator_zmq_peers_refused_total)" -ge 1
out="$("$ATTACK" -k "$K/gateway.pub" -s "$K/intruder.key" result "$IT_ZMQ_GW" "window:forged:1")"
it_check "forged result with another key: not acknowledged ($out)" test "$out" = no-ack
out="$("$ATTACK" -k "$K/gateway.pub" -s "$K/worker1.key" result "$IT_ZMQ_GW" "window:forged:2")"
it_check "forged result with a worker's key: not acknowledged ($out)" test "$out" = no-ack
out="$("$ATTACK" result "$IT_ZMQ_GW" "window:forged:3")"
it_check "forged result without CURVE: not acknowledged ($out)" test "$out" = no-ack
it_check "gateway counted the refused keys" \
    test "$(it_metric gateway netpulse_gateway_zmq_peers_refused_total)" -ge 2

it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 10000))
sleep 3
it_check "oracle: windows exact over CURVE" it_oracle --expect-late 0
it_check "no forged result published" bash -c "! grep -q forged '$IT_DIR/results.jsonl'"
for n in worker1 worker2 coordinator gateway; do it_check "$n stops cleanly" it_stop "$n" TERM; done
it_finish
