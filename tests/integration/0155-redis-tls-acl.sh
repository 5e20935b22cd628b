#!/usr/bin/env bash
# 0155-redis-tls-acl: Redis with TLS only (`redis-server --tls-port`, plain port off), the
# default user disabled and an ACL user for netpulse; the coordinator reaches it through a
# TLS sidecar (Debian's stunnel4: plain on loopback, TLS with the CA verified to Redis),
# authenticates as the ACL user with the password from a file, and uses database 3.
# Debian's hiredis 0.14 has no TLS, hence the sidecar (SECURITY.md "Redis").
#   - state in database 3 is restored (the test writes it there beforehand);
#   - a wrong user, and no user, are refused (exit 1); the password as a flag is a
#     configuration error (exit 2); the password never appears in the log;
#   - a plain-text client to the TLS port gets nothing.
source "$(dirname "$0")/lib.sh"
it_setup 0155-redis-tls-acl
T="$IT_DIR/tls"
mkdir -p "$T" "$IT_DIR/redis-data"
(
    cd "$T" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=netpulse-test-ca
    openssl req -newkey rsa:2048 -nodes -keyout redis.key -out redis.csr -subj /CN=127.0.0.1
    printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
    openssl x509 -req -in redis.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out redis.crt -days 2 -extfile san.ext
) >"$IT_DIR/openssl.log" 2>&1 || { cat "$IT_DIR/openssl.log"; exit 1; }
PW="np-acl-$$-$RANDOM"
ADMIN_PW="np-admin-$$-$RANDOM"
TLS_PORT="$(np_free_port)"
LOCAL_PORT="$(np_free_port)"
cat >"$IT_DIR/redis.conf" <<EOC
port 0
bind 127.0.0.1
tls-port $TLS_PORT
tls-cert-file $T/redis.crt
tls-key-file $T/redis.key
tls-ca-cert-file $T/ca.crt
tls-auth-clients no
save ""
appendonly no
dir $IT_DIR/redis-data
user default off
user netpulse on >$PW ~netpulse:* +@all -@dangerous +info
user admin on >$ADMIN_PW ~* +@all
EOC
chmod 600 "$IT_DIR/redis.conf"
it_start redis redis-server "$IT_DIR/redis.conf"
rcli() { redis-cli --tls --cacert "$T/ca.crt" -h 127.0.0.1 -p "$TLS_PORT" --user admin --pass "$ADMIN_PW" --no-auth-warning "$@"; }
it_check "redis answers on its TLS port" np_wait_for -t 10 rcli ping
it_check "a plain-text client gets no answer on the TLS port" \
    bash -c "! timeout 3 redis-cli -h 127.0.0.1 -p $TLS_PORT ping 2>/dev/null | grep -q PONG"

cat >"$IT_DIR/stunnel.conf" <<EOC
foreground = yes
pid =
[redis]
client = yes
accept = 127.0.0.1:$LOCAL_PORT
connect = 127.0.0.1:$TLS_PORT
CAfile = $T/ca.crt
verifyChain = yes
checkIP = 127.0.0.1
EOC
it_start stunnel stunnel4 "$IT_DIR/stunnel.conf"
it_check "the stunnel sidecar listens" np_wait_for -t 10 bash -c "echo >/dev/tcp/127.0.0.1/$LOCAL_PORT"

# State of a coordinator in database 3 (and nothing in 0).
rcli -n 3 hset 'netpulse:coord:{netpulse}:meta' next_emit 1700000005000 >/dev/null
printf '%s\n' "$PW" >"$IT_DIR/redis.pw"
chmod 600 "$IT_DIR/redis.pw"
coord() {
    "$IT_BIN/netpulse-coordinator" --bind "tcp://127.0.0.1:$(np_free_port)" --gateway "tcp://127.0.0.1:$(np_free_port)" \
        --redis-port "$LOCAL_PORT" "$@"
}
coord --redis-user nobody --redis-password-file "$IT_DIR/redis.pw" >"$IT_DIR/wrong-user.log" 2>&1
it_check "wrong ACL user: exit 1, AUTH failed" bash -c "test $? -eq 1 && grep -q 'AUTH failed' '$IT_DIR/wrong-user.log'"
coord --redis-password-file "$IT_DIR/redis.pw" >"$IT_DIR/no-user.log" 2>&1
it_check "no user (default is off): exit 1" test $? -eq 1
coord --redis-user netpulse --redis-password "$PW" >"$IT_DIR/flag.log" 2>&1
it_check "password as a flag: exit 2 (configuration error)" test $? -eq 2
it_check "  ... without echoing it" bash -c "! grep -qF '$PW' '$IT_DIR/flag.log'"

it_start coordinator "$IT_BIN/netpulse-coordinator" --bind "tcp://127.0.0.1:$(np_free_port)" \
    --gateway "tcp://127.0.0.1:$(np_free_port)" --redis-port "$LOCAL_PORT" --redis-user netpulse \
    --redis-password-file "$IT_DIR/redis.pw" --redis-db 3 --http-port-file "$IT_DIR/coordinator.port"
healthz() { curl -sf -o /dev/null "http://127.0.0.1:$(it_http_port coordinator)/healthz"; }
it_check "ACL user over TLS: coordinator serves /healthz" np_wait_for -t 20 healthz
it_check "state restored from database 3" grep -q 'event=state_restored next_emit=1700000005000' "$IT_DIR/coordinator.log"
it_check "its connection is the ACL user's" grep -q 'user=netpulse' <<<"$(rcli client list)"
it_check "password in no log" bash -c "! grep -qF '$PW' '$IT_DIR'/*.log"
it_check "coordinator stops cleanly" it_stop coordinator TERM
it_finish
