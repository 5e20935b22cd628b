#!/usr/bin/env bash
# 0130-ingest: netpulse-ingest against real exporters, on real Kafka and the cluster.
#
# The test writes pcaps of scenario traffic (tests/tools/flowpcap.py: TCP with SYN/FIN, UDP,
# ICMP, IPv4 and IPv6; each with its own source prefix and event-time span) and has them
# exported to one collector:
#   softflowd -v 5, -v 9, -v 10 (NetFlow v5, v9, IPFIX), softflowd -v 10 -s 4 (IPFIX, 1-in-4
#   sampling), netpulse-ingest --pcap (replay), pmacctd's sfprobe plugin (sFlow v5).
# Checks: the records in network-traffic match the pcap per 5-tuple (packets, bytes: IP
# lengths for NetFlow, frames + FCS for sFlow; v5 only IPv4), their event time lies within
# the flow's packets (v9 to the second: its header has no sub-second time); the sampled
# export states its rate and its scaled totals equal the pcap's; nfdump, reading what
# nfcapd stored from the same softflowd v9 export, agrees flow by flow (counts and end
# time); the collector's sequence metrics show no loss; malformed datagrams are counted and
# the collector survives them; the windows downstream equal the oracle.
source "$(dirname "$0")/lib.sh"
it_setup 0130-ingest
for tool in softflowd softflowctl pmacctd nfcapd nfdump; do
    command -v "$tool" >/dev/null || { np_warn "$tool missing: run infra/deps.sh"; exit 1; }
done
it_start_infra 12 || exit 1
# Exporters flush their flow tables in table order, not time order: allow 30 s of disorder.
# Between the exports every partition is quiet; once all are idle the global watermark
# advances with the clock from the highest partition watermark (the data's end - 30 s).
# The paced replay sends the max-speed replay's capture again, whose first records are
# then late once all partitions have been idle ~8.5 s: with idle.ms 3 s a pause of ~13 s
# between the two replays on a loaded machine made them late. idle.ms 30 s keeps every
# partition active across such a pause; the end of the data waits that much longer.
it_start_cluster 2 --idle-ms 30000 --lateness-ms 30000 --max-open-panes 16 || exit 1

T0=$(it_t0)
FP="$IT_ROOT/tests/tools/flowpcap.py"
# pcap NAME NET T0 [flags]: scenario traffic with sources in 10.NET/16 and 2001:db8:NET::/48.
pcap() {
    python3 "$FP" --out "$IT_DIR/$1.pcap" --truth "$IT_DIR/$1.json" --net "$2" --t0-ms "$3" --flows 300 \
        --seed "$2" --filler 50 "${@:4}" >"$IT_DIR/$1.gen"
}
pcap v5 5 "$T0" && pcap v9 9 $((T0 + 30000)) && pcap ipfix 10 $((T0 + 60000)) && pcap sflow 6 $((T0 + 90000)) &&
    pcap sampled 11 $((T0 + 120000)) && pcap replay 12 $((T0 + 150000)) || exit 1

it_start ingest "$IT_BIN/netpulse-ingest" --brokers "$BOOTSTRAP" --listen 127.0.0.1 --netflow-port 0 \
    --sflow-port 0 --port-file "$IT_DIR/ingest.udp" --http-port-file "$IT_DIR/ingest.port" --threads 2
np_wait_for -t 20 test -s "$IT_DIR/ingest.udp" || exit 1
read -r NF_PORT SF_PORT <"$IT_DIR/ingest.udp"
np_info "collector: netflow/ipfix on $NF_PORT, sflow on $SF_PORT"

# Every flow decoded so far is in Kafka, and no more came in for half a second.
all_delivered() {
    local d f f2
    f="$(it_metric ingest netpulse_ingest_flows_total)"
    sleep 0.5
    d="$(it_metric ingest netpulse_ingest_records_delivered_total)"
    f2="$(it_metric ingest netpulse_ingest_flows_total)"
    [[ "$d" -gt 0 && "$d" == "$f" && "$f" == "$f2" ]]
}

# softflowd_export VERSION PCAP PORT [flags]: softflowd reads the pcap, exports its flows
# and exits ("Shutting down after pcap EOF"). softflowd 1.1.0 may block in accept() on its
# control socket between read loops, so the test pokes it with control requests until it
# has exited (and asks it to shut down if it has not after 15 s).
softflowd_export() {
    local v="$1" pcap="$2" port="$3" ctl="$IT_DIR/sf-$1.ctl" i pid
    shift 3
    it_start "softflowd-$v" softflowd -r "$pcap" -n "127.0.0.1:$port" -v "$v" -d -p "$IT_DIR/sf-$v.pid" \
        -c "$ctl" -t maxlife=3600 "$@"
    pid="${IT_PIDS[softflowd-$v]}"
    for ((i = 0; i < 75 && $(np_pid_alive "$pid" && echo 1 || echo 0); i++)); do
        [[ -S "$ctl" ]] && timeout 2 softflowctl -c "$ctl" statistics >/dev/null 2>&1
        sleep 0.2
    done
    np_pid_alive "$pid" && timeout 2 softflowctl -c "$ctl" shutdown >/dev/null 2>&1
    it_wait_exit "softflowd-$v" 20 && grep -q 'Shutting down' "$IT_DIR/softflowd-$v.log"
}

records() { kcat -b "$BOOTSTRAP" -C -t network-traffic -e -q -f '%s\n' >"$IT_DIR/records-now.jsonl"; }
# match NAME BYTES [flags]: the records of pcap NAME's prefix against its truth.
match() {
    records
    python3 "$FP" --check "$IT_DIR/records-now.jsonl" --truth "$IT_DIR/$1.json" --net "$(jq_net "$1")" \
        --bytes "$2" "${@:3}" | tee -a "$IT_DIR/match.log" | head -5
    return "${PIPESTATUS[0]}"
}
jq_net() { case "$1" in v5) echo 5 ;; v9) echo 9 ;; ipfix) echo 10 ;; sflow) echo 6 ;; sampled) echo 11 ;; replay) echo 12 ;; esac; }

# ---- NetFlow v5, v9, IPFIX from softflowd ------------------------------------------------
it_check "softflowd exports NetFlow v5" softflowd_export 5 "$IT_DIR/v5.pcap" "$NF_PORT"
it_check "v5 flows delivered" np_wait_for -t 30 -i 0.5 all_delivered
it_check "v5 records match the pcap (IPv4; event time within 5 ms)" match v5 ip --v4-only --ts-tolerance-ms 5

# v9 goes through a UDP tee to the collector and to nfcapd (nfdump's collector): both decode
# the same datagrams.
read -r TEE_PORT NFC_PORT <<<"$(np_free_port 2 | tr '\n' ' ')"
mkdir -p "$IT_DIR/nfcapd"
it_start nfcapd nfcapd -w "$IT_DIR/nfcapd" -p "$NFC_PORT" -b 127.0.0.1
it_start tee python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
outs = [("127.0.0.1", int(p)) for p in sys.argv[2:]]
while True:
    d = s.recv(65535)
    for o in outs:
        s.sendto(d, o)
' "$TEE_PORT" "$NF_PORT" "$NFC_PORT"
sleep 0.5
it_check "softflowd exports NetFlow v9 (to the collector and nfcapd)" softflowd_export 9 "$IT_DIR/v9.pcap" "$TEE_PORT"
it_check "v9 flows delivered" np_wait_for -t 30 -i 0.5 all_delivered
it_check "v9 records match the pcap (IPv4 and IPv6; event time to the second)" \
    match v9 ip --ts-tolerance-ms 1000
sleep 1
it_stop tee TERM
it_stop nfcapd TERM
nfdump_vs_records() {
    TZ=UTC nfdump -R "$IT_DIR/nfcapd" -q -o json >"$IT_DIR/nfdump.json" 2>"$IT_DIR/nfdump.err" || return 1
    records
    # nfdump places a flow at boot + uptime without the 32-bit wrap softflowd's reading of a
    # capture (packets "before" its boot) needs: its times are ours modulo 2^32 ms.
    python3 - "$IT_DIR/nfdump.json" "$IT_DIR/records-now.jsonl" <<'PY'
import datetime, ipaddress, json, sys
def norm(ip):
    a = ipaddress.ip_address(ip)
    return str(a.ipv4_mapped) if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped else str(a)
def ms(text):
    return round(datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
nf = {}
for f in json.loads("[" + open(sys.argv[1]).read().strip().rstrip(",") + "]"):
    src, dst = f.get("src4_addr") or f.get("src6_addr"), f.get("dst4_addr") or f.get("dst6_addr")
    if not (src.startswith("10.9.") or src.startswith("2001:db8:9:")):
        continue
    # ICMP: the exporter puts type * 256 + code in the destination port; nfdump shows them as
    # icmp_type/icmp_code for ICMP and drops them for ICMPv6. Compared without ports.
    icmp = f["proto"] in (1, 58)
    k = (norm(src), norm(dst), 0 if icmp else f["src_port"], 0 if icmp else f["dst_port"], f["proto"])
    nf.setdefault(k, []).append((f["in_packets"], f["in_bytes"], ms(f["last"]) % 2**32))
ours = {}
for line in open(sys.argv[2]):
    r = json.loads(line)
    if not (r["src_ip"].startswith("10.9.") or r["src_ip"].startswith("2001:db8:9:")):
        continue
    p = {"tcp": 6, "udp": 17, "icmp": 1}.get(r["proto"], r["proto"])
    icmp = p in (1, 58)
    k = (norm(r["src_ip"]), norm(r["dst_ip"]), 0 if icmp else r["src_port"], 0 if icmp else r["dst_port"], p)
    ours.setdefault(k, []).append((r["packets"], r["bytes"], r["ts"] % 2**32))
diff = [k for k in set(nf) | set(ours) if sorted(nf.get(k, [])) != sorted(ours.get(k, []))]
print(f"nfdump flows={sum(map(len, nf.values()))} netpulse flows={sum(map(len, ours.values()))} differences={len(diff)}")
for k in diff[:5]:
    print(" ", k, "nfdump", nf.get(k), "netpulse", ours.get(k))
sys.exit(1 if diff or not nf else 0)
PY
}
it_check "nfdump decodes the same v9 export to the same flows and end times" nfdump_vs_records

it_check "softflowd exports IPFIX" softflowd_export 10 "$IT_DIR/ipfix.pcap" "$NF_PORT"
it_check "IPFIX flows delivered" np_wait_for -t 30 -i 0.5 all_delivered
it_check "IPFIX records match the pcap (event time within 5 ms)" match ipfix ip --ts-tolerance-ms 5

# ---- sampling: softflowd 1-in-4, IPFIX (samplingPacketInterval/Space options) -----------
it_check "softflowd exports sampled IPFIX" softflowd_export 10 "$IT_DIR/sampled.pcap" "$NF_PORT" -s 4
it_check "sampled flows delivered" np_wait_for -t 30 -i 0.5 all_delivered
sampled_ok() {
    records
    python3 - "$IT_DIR/records-now.jsonl" "$IT_DIR/sampled.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"ts"')]
recs = [r for r in recs if r["src_ip"].startswith("10.11.") or r["src_ip"].startswith("2001:db8:b:")]
truth = [t for t in json.load(open(sys.argv[2])) if not t["filler"]]
pk, want = sum(r["packets"] for r in recs), sum(t["packets"] for t in truth)
rates = {r["sampling"] for r in recs}
print(f"sampled records={len(recs)} rates={rates} packets scaled={pk} pcap={want}")
# Count-based 1-in-4 over the whole capture: the scaled total is exact up to the last 3 packets.
sys.exit(0 if recs and rates == {4} and abs(pk - want) <= 4 * 4 else 1)
PY
}
it_check "sampled records state sampling=4 and scale to the pcap's packets" sampled_ok

# ---- pcap replay ------------------------------------------------------------------------
it_check "netpulse-ingest --pcap replays a capture at maximum speed" \
    "$IT_BIN/netpulse-ingest" --brokers "$BOOTSTRAP" --pcap "$IT_DIR/replay.pcap" --replay-speedup 0 \
    --inactive-timeout-s 15 --http-port-file "$IT_DIR/replay.port"
it_check "replayed records match the pcap (flows end at their last packet)" match replay ip --ts-tolerance-ms 0

# Paced replay: 20 times the capture's pace, so it takes a twentieth of the capture's span.
paced_replay() {
    local span_ms t0 ms
    span_ms="$(python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))
print(max(x["last_ms"] for x in t) - min(x["first_ms"] for x in t))' "$IT_DIR/replay.json")"
    t0=$(date +%s%N)
    "$IT_BIN/netpulse-ingest" --brokers "$BOOTSTRAP" --pcap "$IT_DIR/replay.pcap" --replay-speedup 20 \
        --http-port-file "$IT_DIR/replay2.port" 2>"$IT_DIR/replay2.log" || return 1
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    np_info "capture span ${span_ms} ms replayed at 20x in ${ms} ms"
    (( ms >= span_ms / 20 * 9 / 10 && ms <= span_ms / 20 + 10000 ))
}
it_check "netpulse-ingest --pcap --replay-speedup 20 keeps the capture's pace" paced_replay

# ---- sFlow from pmacctd's sfprobe (last: its records carry the receive time, now) ------
cat >"$IT_DIR/pmacctd.conf" <<CONF
daemonize: false
pcap_savefile: $IT_DIR/sflow.pcap
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$SF_PORT
sfprobe_agentip: 127.0.0.1
sampling_rate: 1
CONF
it_start pmacctd pmacctd -f "$IT_DIR/pmacctd.conf"
it_check "pmacctd (sfprobe) exports sFlow and exits at the end of the pcap" it_wait_exit pmacctd 60
it_check "sFlow flows delivered" np_wait_for -t 30 -i 0.5 all_delivered
# sFlow samples carry frame lengths including the 4-byte FCS, and no time (receive time).
it_check "sFlow records match the pcap (frames + FCS)" match sflow frame+fcs

# ---- health ------------------------------------------------------------------------------
printf 'garbage' >/dev/udp/127.0.0.1/"$NF_PORT"
printf '\x00\x09\x00\x01' >/dev/udp/127.0.0.1/"$NF_PORT"       # v9, truncated header
printf '\x00\x05\x00\x10abcdefghijklmnopqrstuv' >/dev/udp/127.0.0.1/"$NF_PORT"  # v5, 16 records promised
malformed_counted() {
    [[ "$(it_metric ingest netpulse_ingest_malformed_packets_total)" -ge 3 ]]
}
it_check "malformed datagrams counted" np_wait_for -t 10 -i 0.3 malformed_counted
it_check "collector still alive after bad input" it_alive ingest
lost="$(it_metric ingest netpulse_ingest_export_packets_lost_total)$(it_metric ingest netpulse_ingest_export_flows_lost_total)"
np_info "sequence loss (packets, flows): $lost"
it_check "no export packet or flow lost (sequence tracking)" test "$lost" == "00"
it_check "no template misses" test "$(it_metric ingest netpulse_ingest_template_misses_total)" -eq 0
it_check "collector /metrics passes promtool" bash -c \
    "curl -sf http://127.0.0.1:$(it_http_port ingest)/metrics | promtool check metrics"
it_check "collector /healthz answers ok" curl -sf -o /dev/null "http://127.0.0.1:$(it_http_port ingest)/healthz"

# ---- downstream ---------------------------------------------------------------------------
# The sFlow records carry the receive time, so the data ends now.
it_check "windows published through the end of the data" it_wait_windows_through $(( ($(date +%s%3N) / 5000 + 1) * 5000 ))
it_check "windows equal the oracle's" it_oracle
it_check "collector stops cleanly on SIGTERM" it_stop ingest TERM
for p in worker1 worker2 coordinator gateway; do it_stop "$p" TERM; done
it_finish
