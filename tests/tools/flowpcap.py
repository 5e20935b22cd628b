#!/usr/bin/env python3
"""Writes a pcap of scenario traffic (Ethernet, IPv4 and IPv6, TCP with SYN/FIN, UDP, ICMP)
and the truth about it: per unidirectional 5-tuple, packets, IP bytes and frame bytes.

    flowpcap.py --out FILE.pcap --truth FILE.json --t0-ms MS [--flows N] [--seed S] [--no-v6]

Deterministic for a seed. No scapy: the pcap bytes are written here (classic pcap,
microsecond timestamps, linktype 1). Checksums are left zero: the peers do not check them.
The truth is a JSON list of {src, dst, sport, dport, proto, packets, ip_bytes, frame_bytes,
first_ms, last_ms}. Also used by 0130-ingest to compare what collectors produced, see
`--check`:

    flowpcap.py --check RECORDS.jsonl --truth FILE.json --bytes ip|frame|frame+fcs [--v4-only]
        [--ts-tolerance-ms MS]
compares the netpulse records (kcat -J lines, or plain JSON values) with a source in the
pcap's --net, summed per 5-tuple, with
the truth, printing differences; exit 1 if any.
"""
import argparse
import ipaddress
import json
import random
import struct
import sys

PROTO = {"tcp": 6, "udp": 17, "icmp": 1}


def eth(v6):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", 0x86DD if v6 else 0x0800)


def ip4(src, dst, proto, payload):
    total = 20 + len(payload)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, proto, 0,
                       ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + payload


def ip6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), proto, 64,
                       ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed) + payload


def tcp(sport, dport, flags, size):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 65535, 0, 0) + b"\0" * size


def udp(sport, dport, size):
    return struct.pack("!HHHH", sport, dport, 8 + size, 0) + b"\0" * size


def icmp(size):
    return struct.pack("!BBHI", 8, 0, 0, 0) + b"\0" * size


def make_flows(n, seed, v6, t0_ms, span_ms, net):
    rnd = random.Random(seed)
    flows = []
    seen = set()
    while len(flows) < n:
        is6 = v6 and rnd.random() < 0.15
        proto = rnd.choices(["tcp", "udp", "icmp"], [6, 3, 1])[0]
        if is6:
            src, dst = f"2001:db8:{net:x}::{rnd.randrange(1, 40):x}", f"2001:db8:ffff::{rnd.randrange(1, 20):x}"
        else:
            src, dst = f"10.{net}.{rnd.randrange(0, 4)}.{rnd.randrange(1, 60)}", f"192.168.7.{rnd.randrange(1, 30)}"
        sport = 0 if proto == "icmp" else rnd.randrange(20000, 60000)
        dport = 0 if proto == "icmp" else rnd.choice([80, 443, 53, 8080, 22, 123, 5000])
        key = (src, dst, sport, dport, proto)
        if key in seen:
            continue
        seen.add(key)
        npk = rnd.randrange(2 if proto == "tcp" else 1, 30)
        start = t0_ms + rnd.randrange(0, span_ms)
        gap = rnd.randrange(5, 300)
        sizes = [rnd.choice([0, 40, 200, 512, 1200, 1400]) for _ in range(npk)]
        flows.append({"key": key, "v6": is6, "times": [start + i * gap for i in range(npk)], "sizes": sizes})
    return flows


def filler(flows, n):
    """n UDP packets after everything else, one flow (marked filler in the truth): pmacctd's
    sfprobe exits at the end of a capture without sending its last, partly filled datagram;
    the filler is what it keeps, and the checks ignore it."""
    if n:
        end = max(f["times"][-1] for f in flows) + 10
        flows.append({"key": ("10.255.255.1", "10.255.255.2", 9, 9, "udp"), "v6": False, "filler": True,
                      "times": [end + i for i in range(n)], "sizes": [100] * n})
    return flows


def build(flows):
    pkts = []
    truth = []
    for f in flows:
        src, dst, sport, dport, proto = f["key"]
        ipb = frb = 0
        for i, (t, size) in enumerate(zip(f["times"], f["sizes"])):
            if proto == "tcp":
                flags = 0x02 if i == 0 else (0x11 if i == len(f["times"]) - 1 else 0x18)
                l4 = tcp(sport, dport, flags, size)
            elif proto == "udp":
                l4 = udp(sport, dport, size)
            else:
                l4 = icmp(size)
            pnum = 58 if (proto == "icmp" and f["v6"]) else PROTO[proto]
            if proto == "icmp" and f["v6"]:
                l4 = struct.pack("!BBHI", 128, 0, 0, 0) + b"\0" * size
            ipp = ip6(src, dst, pnum, l4) if f["v6"] else ip4(src, dst, pnum, l4)
            frame = eth(f["v6"]) + ipp
            pkts.append((t, frame))
            ipb += len(ipp)
            frb += len(frame)
        truth.append({"src": src, "dst": dst, "sport": sport, "dport": dport,
                      "proto": 58 if (proto == "icmp" and f["v6"]) else PROTO[proto], "v6": f["v6"],
                      "filler": f.get("filler", False),
                      "packets": len(f["times"]), "ip_bytes": ipb, "frame_bytes": frb,
                      "first_ms": f["times"][0], "last_ms": f["times"][-1]})
    pkts.sort(key=lambda p: p[0])
    return pkts, truth


def write_pcap(path, pkts):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, frame in pkts:
            out.write(struct.pack("<IIII", t // 1000, (t % 1000) * 1000, len(frame), len(frame)))
            out.write(frame)


def norm_ip(s):
    a = ipaddress.ip_address(s)
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped:
        a = a.ipv4_mapped
    return str(a)


def proto_num(v):
    return PROTO.get(v, v) if isinstance(v, str) else int(v)


def in_net(ip, net):
    return ip.startswith(f"10.{net}.") or ip.startswith(f"2001:db8:{net:x}:")


def check(args):
    truth = json.load(open(args.truth))
    want = {}
    span = {}
    for t in truth:
        if (args.v4_only and t["v6"]) or t["filler"]:
            continue
        span[(norm_ip(t["src"]), norm_ip(t["dst"]), t["sport"], t["dport"], t["proto"])] = (t["first_ms"], t["last_ms"])
        want[(norm_ip(t["src"]), norm_ip(t["dst"]), t["sport"], t["dport"], t["proto"])] = \
            [t["packets"], t["ip_bytes"] if args.bytes == "ip" else
                          t["frame_bytes"] + (4 * t["packets"] if args.bytes == "frame+fcs" else 0)]
    got = {}
    bad_ts = []
    n = 0
    for line in open(args.check):
        line = line.strip()
        if not line:
            continue
        d = json.loads(line)
        if "payload" in d:
            d = json.loads(d["payload"])
        n += 1
        k = (norm_ip(d["src_ip"]), norm_ip(d["dst_ip"]), d["src_port"], d["dst_port"], proto_num(d["proto"]))
        # ICMP: NetFlow exporters put type/code in the destination port; netpulse keeps what they send.
        if k[4] in (1, 58):
            k = (k[0], k[1], 0, 0, k[4])
        if k[0] == "10.255.255.1" or not in_net(k[0], args.net):
            continue
        g = got.setdefault(k, [0, 0])
        g[0] += d["packets"]
        g[1] += d["bytes"]
        first, last = span.get(k, (d["ts"], d["ts"]))
        if args.ts_tolerance_ms >= 0 and not first - args.ts_tolerance_ms <= d["ts"] <= last + args.ts_tolerance_ms:
            bad_ts.append(f"{k}: ts {d['ts']} outside the flow's packets [{first}, {last}] +- {args.ts_tolerance_ms}")
    errors = bad_ts[:]
    for k in sorted(set(want) | set(got), key=str):
        if want.get(k) != got.get(k):
            errors.append(f"{k}: pcap {want.get(k)} records {got.get(k)}")
    print(f"records={n} flows_pcap={len(want)} flows_records={len(got)} differences={len(errors)}")
    for e in errors[:20]:
        print("  " + e)
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--truth", required=True)
    ap.add_argument("--t0-ms", type=int)
    ap.add_argument("--span-ms", type=int, default=20000)
    ap.add_argument("--flows", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-v6", action="store_true")
    ap.add_argument("--net", type=int, default=1, help="sources are 10.NET.x.x and 2001:db8:NET::x")
    ap.add_argument("--filler", type=int, default=0, help="packets of a filler flow at the end (see filler())")
    ap.add_argument("--check")
    ap.add_argument("--bytes", choices=["ip", "frame", "frame+fcs"], default="ip",
                    help="what the exporter counts: IP lengths (NetFlow), frames, frames with the 4-byte FCS (sFlow)")
    ap.add_argument("--v4-only", action="store_true")
    ap.add_argument("--ts-tolerance-ms", type=int, default=-1,
                    help="every record's ts must lie within its flow's packets' times, give or take this")
    args = ap.parse_args()
    if args.check:
        return check(args)
    pkts, truth = build(filler(make_flows(args.flows, args.seed, not args.no_v6, args.t0_ms, args.span_ms, args.net), args.filler))
    write_pcap(args.out, pkts)
    json.dump(truth, open(args.truth, "w"))
    print(f"packets={len(pkts)} flows={len(truth)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
