#!/usr/bin/env bash
# 0095-redis-auth: redis.password (env NETPULSE_REDIS_PASSWORD, how the Helm chart passes
# the password Secret) against a Redis with requirepass.
#   right password: the coordinator restores its state from Redis and serves /healthz;
#   wrong or no password: it refuses to start (exit 1) and says AUTH / NOAUTH, without
#   printing the password.
source "$(dirname "$0")/lib.sh"
it_setup 0095-redis-auth

PW="np-test-$$-secret"
REDIS_PORT="$(np_free_port)"
mkdir -p "$IT_DIR/redis-data"
it_start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --requirepass "$PW" --save "" \
    --appendonly no --dir "$IT_DIR/redis-data"
it_check "redis with requirepass up" np_wait_for -t 10 redis-cli -p "$REDIS_PORT" -a "$PW" --no-auth-warning ping

coord() {
    "$IT_BIN/netpulse-coordinator" --bind "tcp://127.0.0.1:$(np_free_port)" \
        --gateway "tcp://127.0.0.1:$(np_free_port)" --redis-port "$REDIS_PORT" "$@"
}
# Wrong and missing password: exit 1 at start-up, the reason named, the password not echoed.
NETPULSE_REDIS_PASSWORD=wrong coord >"$IT_DIR/wrong.log" 2>&1
it_check "wrong password: exit 1" test $? -eq 1
it_check "wrong password: AUTH failure logged" grep -q 'AUTH failed' "$IT_DIR/wrong.log"
it_check "wrong password: not echoed" bash -c "! grep -q wrong '$IT_DIR/wrong.log'"
coord >"$IT_DIR/none.log" 2>&1
it_check "no password: exit 1 (NOAUTH)" bash -c "test $? -eq 1 && grep -q NOAUTH '$IT_DIR/none.log'"

it_start coordinator env NETPULSE_REDIS_PASSWORD="$PW" \
    "$IT_BIN/netpulse-coordinator" --bind "tcp://127.0.0.1:$(np_free_port)" \
    --gateway "tcp://127.0.0.1:$(np_free_port)" --redis-port "$REDIS_PORT" --http-port-file "$IT_DIR/coordinator.port"
healthz() { curl -sf -o /dev/null "http://127.0.0.1:$(it_http_port coordinator)/healthz"; }
it_check "right password: coordinator serves /healthz" np_wait_for -t 20 healthz
it_check "right password: state restored from Redis" grep -q 'event=state_restored' "$IT_DIR/coordinator.log"
# Two clients: this check's redis-cli and the coordinator's authenticated connection.
it_check "right password: the coordinator holds a Redis connection" \
    test "$(redis-cli -p "$REDIS_PORT" -a "$PW" --no-auth-warning client list | wc -l)" -ge 2
it_check "password not in the log" bash -c "! grep -qF '$PW' '$IT_DIR/coordinator.log'"
it_check "coordinator stops cleanly" it_stop coordinator TERM
it_finish
