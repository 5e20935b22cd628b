#!/usr/bin/env bash
# 0157-http-auth-tls: the HTTP endpoints with http.token and HTTPS (SECURITY.md, "HTTP").
#
# A cluster (1 worker, coordinator, gateway) runs with NETPULSE_HTTP_TOKEN and a certificate
# signed by a test CA (openssl). With curl: /metrics, /api/*, /api/events and the live page
# answer 401 without the token or with a wrong one, 200 with "Authorization: Bearer" and with
# HTTP Basic (token as the password); /healthz stays open; plain HTTP on the port gets no
# answer; the refusals are counted. The token given as a flag, a certificate without its key
# and a key that is not PEM are configuration errors (exit 2). Then Debian's Prometheus
# scrapes the three processes over HTTPS with the token (prometheus/scrape-config.sh with
# NETPULSE_PROM_CA_FILE and NETPULSE_PROM_TOKEN_FILE): every target up, data queryable; and
# a Prometheus without the token sees the targets down with 401.
source "$(dirname "$0")/lib.sh"
it_setup 0157-http-auth-tls
command -v prometheus >/dev/null || { np_warn "prometheus not installed (infra/deps.sh)"; exit 1; }
T="$IT_DIR/tls"
mkdir -p "$T"
(
    cd "$T" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=netpulse-test-ca
    openssl req -newkey rsa:2048 -nodes -keyout http.key -out http.csr -subj /CN=127.0.0.1
    printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
    openssl x509 -req -in http.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out http.crt -days 2 -extfile san.ext
) >"$IT_DIR/openssl.log" 2>&1 || { cat "$IT_DIR/openssl.log"; exit 1; }
chmod 600 "$T/http.key"
TOKEN="tok-$$-$RANDOM$RANDOM"
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"

# Configuration errors first: exit 2, before anything is started, the token never echoed.
run2() { # run2 NAME ARGS...: the coordinator must exit 2 naming NAME
    local out rc
    out="$("$IT_BIN/netpulse-coordinator" --redis-port 1 "${@:2}" 2>&1)"
    rc=$?
    np_info "exit $rc: $(head -1 <<<"$out")"
    [[ $rc -eq 2 && "$out" == *"$1"* && "$out" != *"$TOKEN"* ]]
}
it_check "--http-token as a flag: exit 2" run2 --http-token --http-token "$TOKEN"
it_check "a certificate without its key: exit 2" run2 http.tls.key.file --http-tls-cert-file "$T/http.crt"
it_check "a key that is not PEM: exit 2" run2 http.tls.key.file --http-tls-cert-file "$T/http.crt" --http-tls-key-file "$T/san.ext"
it_check "an unreadable certificate: exit 2" run2 http.tls.cert.file --http-tls-cert-file "$T/none.crt" --http-tls-key-file "$T/http.key"

export NETPULSE_PARTITIONS=2
it_start_infra 2 || exit 1
export NETPULSE_HTTP_TOKEN_FILE="$T/token" NETPULSE_HTTP_TLS_CERT_FILE="$T/http.crt" NETPULSE_HTTP_TLS_KEY_FILE="$T/http.key"
IT_HTTP_SCHEME=https
IT_CURL_OPTS=(--cacert "$T/ca.crt" -H "Authorization: Bearer $TOKEN")
it_start_cluster 1 --idle-ms 3000 || exit 1
T0=$(it_t0)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 1000 --count 5000 --speedup 0 --seed 157 \
    --start-ms "$T0" --http-port 0 2>"$IT_DIR/generator.log" || { tail "$IT_DIR/generator.log"; exit 1; }
it_check "windows published (the cluster works over HTTPS metrics)" it_wait_windows_through $((T0 + 5000)) 90

status() { # status NAME PATH [curl args]: the HTTP status over HTTPS
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/ca.crt" "${@:3}" \
        "https://127.0.0.1:$(it_http_port "$1")$2"
}
basic="$(printf 'anyone:%s' "$TOKEN" | base64 -w0)"
for p in worker1 coordinator gateway; do
    it_check "$p /metrics without a token: 401" test "$(status $p /metrics)" = 401
    it_check "$p /metrics with a wrong token: 401" test "$(status $p /metrics -H 'Authorization: Bearer wrong')" = 401
    it_check "$p /metrics with the token: 200" test "$(status $p /metrics -H "Authorization: Bearer $TOKEN")" = 200
    it_check "$p /healthz without a token: 200" test "$(status $p /healthz)" = 200
    it_check "$p: plain HTTP gets no HTTP answer" bash -c "! curl -s --max-time 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:$(it_http_port $p)/healthz | grep -q '^[1-5]'"
done
for path in / /api/windows /api/status /api/fleet; do
    it_check "gateway $path: 401 without, 200 with Bearer and with Basic" bash -c "
        [[ \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/ca.crt' https://127.0.0.1:$(it_http_port gateway)$path) == 401 &&
           \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/ca.crt' -H 'Authorization: Bearer $TOKEN' https://127.0.0.1:$(it_http_port gateway)$path) == 200 &&
           \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$T/ca.crt' -H 'Authorization: Basic $basic' https://127.0.0.1:$(it_http_port gateway)$path) == 200 ]]"
done
it_check "gateway /api/events (SSE): 401 without the token" test "$(status gateway /api/events)" = 401
sse="$(curl -s --max-time 3 --cacert "$T/ca.crt" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$(it_http_port gateway)/api/events" | head -c 2000)"
it_check "gateway /api/events with the token streams events" test -n "$sse"
it_check "the 401 asks for Bearer and Basic" bash -c "curl -s -D - -o /dev/null --cacert '$T/ca.crt' https://127.0.0.1:$(it_http_port gateway)/metrics | grep -qi 'WWW-Authenticate: Bearer' &&
    curl -s -D - -o /dev/null --cacert '$T/ca.crt' https://127.0.0.1:$(it_http_port gateway)/metrics | grep -qi 'WWW-Authenticate: Basic'"
refused="$(it_metric gateway netpulse_http_requests_unauthorized_total)"
it_check "gateway counted its refusals ($refused >= 8)" test "${refused:-0}" -ge 8
it_check "the token is in no log" bash -c "! grep -rqF '$TOKEN' '$IT_DIR'/*.log"

# Prometheus over HTTPS with the token: every target up.
PROM_PORT="$(np_free_port)"
PROM="http://127.0.0.1:$PROM_PORT"
rm -f "$IT_DIR/generator.port"
NETPULSE_PROM_INTERVAL=1s NETPULSE_PROM_CA_FILE="$T/ca.crt" NETPULSE_PROM_TOKEN_FILE="$T/token" \
    it_start prometheus "$IT_ROOT/prometheus/run.sh" "$IT_DIR" "$PROM_PORT"
it_check "prometheus is ready" np_wait_for -t 60 -i 0.5 curl -sf -o /dev/null "$PROM/-/ready"
targets() { # targets WANT_HEALTH [ERROR_SUBSTRING]
    curl -sf "$PROM/api/v1/targets" | python3 -c '
import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"]
print([(x["labels"].get("pod"), x["health"], x.get("lastError")) for x in t])
sys.exit(0 if len(t) == 3 and all(x["health"] == sys.argv[1] and sys.argv[2] in x.get("lastError", "") for x in t) else 1)' "$1" "${2:-}"
}
it_check "3 targets scraped over HTTPS with the token: up" np_wait_for -t 30 -i 1 targets up
query() { curl -sf --get "$PROM/api/v1/query" --data-urlencode "query=$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
it_check "Prometheus has the worker's partitions (2)" np_wait_for -t 20 -i 1 bash -c "[[ \$(curl -sf --get '$PROM/api/v1/query' --data-urlencode 'query=sum(netpulse_worker_assigned_partitions)' | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"data\"][\"result\"]; print(r[0][\"value\"][1] if r else \"\")') == 2 ]]"
it_stop prometheus
# Without the token the same Prometheus sees 401s.
PROM_PORT="$(np_free_port)"
PROM="http://127.0.0.1:$PROM_PORT"
rm -rf "$IT_DIR/prometheus"
NETPULSE_PROM_INTERVAL=1s NETPULSE_PROM_CA_FILE="$T/ca.crt" it_start prometheus "$IT_ROOT/prometheus/run.sh" "$IT_DIR" "$PROM_PORT"
it_check "prometheus (no token) is ready" np_wait_for -t 60 -i 0.5 curl -sf -o /dev/null "$PROM/-/ready"
it_check "without the token: 3 targets down with 401" np_wait_for -t 30 -i 1 targets down 401
it_finish
