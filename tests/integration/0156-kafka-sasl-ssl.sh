#!/usr/bin/env bash
# 0156-kafka-sasl-ssl: the local broker gets a SASL_SSL listener (a certificate made here with
# openssl, the client verifying it against the test CA; mechanism PLAIN), and the whole
# pipeline (generator, workers, gateway) runs over it. Credentials come from config files
# (mode 0600), never flags. The windows equal the oracle's; a wrong password is refused by
# the broker and logged without the password; -X sasl.password is exit 2.
#
# SCRAM-SHA-512 is 0158-kafka-scram (Kafka 3.9: Debian 12's librdkafka 2.0.2 fails SCRAM
# against Kafka 4.x, see SECURITY.md).
source "$(dirname "$0")/lib.sh"
it_setup 0156-kafka-sasl-ssl
T="$IT_DIR/tls"
KS_PW="ks-$$-$RANDOM"
PLAIN_PW="plain-$$-$RANDOM"
it_broker_keystore "$T" "$KS_PW" || exit 1

export NETPULSE_PARTITIONS=4
{ read -r KPORT; read -r CPORT; read -r SPORT; } < <(np_free_port 3)
export NETPULSE_KAFKA_PORT="$KPORT" NETPULSE_KAFKA_CONTROLLER_PORT="$CPORT"
export NETPULSE_KAFKA_CONFIG_EXTRA="log.retention.ms=-1
listeners=PLAINTEXT://127.0.0.1:$KPORT,CONTROLLER://127.0.0.1:$CPORT,SASL_SSL://127.0.0.1:$SPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KPORT,SASL_SSL://127.0.0.1:$SPORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_netpulse=\"$PLAIN_PW\" user_gateway=\"g-$PLAIN_PW\";
listener.name.sasl_ssl.ssl.keystore.location=$T/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$KS_PW
listener.name.sasl_ssl.ssl.keystore.type=PKCS12"
"$IT_ROOT/infra/kafka.sh" start "$IT_DIR/kafka" >"$IT_DIR/kafka-start.log" 2>&1 || { tail -30 "$IT_DIR/kafka-start.log"; exit 1; }
"$IT_ROOT/infra/kafka.sh" create-topics "$IT_DIR/kafka" >>"$IT_DIR/kafka-start.log" 2>&1 || { tail "$IT_DIR/kafka-start.log"; exit 1; }
BOOTSTRAP="$("$IT_ROOT/infra/kafka.sh" bootstrap "$IT_DIR/kafka")"   # PLAINTEXT: the test's own reads
"$IT_ROOT/infra/redis.sh" start "$IT_DIR/redis" >"$IT_DIR/redis-start.log" 2>&1 || exit 1
REDIS_PORT="$("$IT_ROOT/infra/redis.sh" port "$IT_DIR/redis")"
export BOOTSTRAP REDIS_PORT
SASL="127.0.0.1:$SPORT"

# Client configurations: secrets in files only readable by us.
conf() { # conf FILE MECHANISM USER PASSWORD
    cat >"$1" <<EOC
brokers = $SASL
kafka.security.protocol = SASL_SSL
kafka.ssl.ca.location = $T/ca.crt
kafka.sasl.mechanism = $2
kafka.sasl.username = $3
kafka.sasl.password = $4
EOC
    chmod 600 "$1"
}
conf "$IT_DIR/plain.conf" PLAIN netpulse "$PLAIN_PW"
conf "$IT_DIR/gateway.conf" PLAIN gateway "g-$PLAIN_PW"
conf "$IT_DIR/wrong.conf" PLAIN netpulse "wrong-$PLAIN_PW"

"$IT_BIN/netpulse-worker" --config "$IT_DIR/plain.conf" -X "sasl.password=$PLAIN_PW" >"$IT_DIR/flag.log" 2>&1
it_check "-X sasl.password: exit 2" test $? -eq 2
it_check "  ... not echoed" bash -c "! grep -qF '$PLAIN_PW' '$IT_DIR/flag.log'"

it_sasl_pipeline "$IT_DIR/plain.conf" "$IT_DIR/gateway.conf" 156 SASL_SSL

timeout -s KILL 15 "$IT_BIN/netpulse-generator" --config "$IT_DIR/wrong.conf" --rate 10 --count 1 --speedup 0 \
    >"$IT_DIR/wrong.log" 2>&1
it_check "wrong password: refused" test $? -ne 0
it_check "  ... the broker said why" grep -qi 'authentication' "$IT_DIR/wrong.log"
it_check "no password in any log" bash -c \
    "! grep -qF -e '$PLAIN_PW' '$IT_DIR'/worker*.log '$IT_DIR'/gateway.log '$IT_DIR'/generator.log '$IT_DIR'/wrong.log"
for n in worker1 worker2 coordinator gateway; do it_check "$n stops cleanly" it_stop "$n" TERM; done
it_finish
