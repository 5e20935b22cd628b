#!/usr/bin/env python3
"""Batch oracle for netpulse integration tests.

Reads what is really in Kafka (dumps made with `kcat -C -J`), recomputes every window
from the input records with its own decoder (Python's json, ipaddress and datetime; none
of netpulse's C code), and compares with the `window` messages in processed-data and the
records in the dead-letter topic. Exits 0 when everything matches exactly, 1 otherwise,
printing each difference.

    oracle.py --records in.jsonl --results out.jsonl --dlq dlq.jsonl --pane-ms 5000 \
              [--expect-dlq-reasons malformed_json=2,bad_ip=1] [--expect-late 0] \
              [--lateness-ms 2000] [--until-ms T]

Without --lateness-ms every good record must be counted in its window (and no window may
report late records unless --expect-late says so). With --lateness-ms N the oracle also
simulates each partition's event-time state on its own, in offset order, as the workers
must: the first good record of a partition sets its max event time; a good record whose
pane ends at or before closed_through = floor((max - N) / pane) * pane is late (excluded
from windows, expected in the dead-letter topic with reason `late` and its pane in the
header netpulse.pane.start); other records move the max forward and are counted. This
assumes no partition followed the global watermark while idle (tests using it keep
partitions busy or use a large idle.ms). The sum of `late_records` over windows must then
equal the number of late records (and --expect-late, if given).

--lower-bound-windows N lets at most N sliding windows be marked sources_lower_bound (a
partition lost its window history with bounded partials: 0150's quarantined checkpoint);
those are checked as lower bounds (sources and each top source's counters at most the
oracle's, totals still exact), and more marked windows are a mismatch.

--expect-lost P:O,... names records that a known fault leaves in no window and in no dead
letter, and that netpulse counts instead (0052: a copy of a published pane rebuilt by a
worker that started without its partition's state; the coordinator's
netpulse_coordinator_partials_conflicting_total): they are left out of the windows, must not
be dead-lettered, and must be good records.

--until-ms T compares only windows starting before T (a test may leave its last panes
open on purpose, e.g. behind "sentinel" records that push every watermark forward).
"""
import argparse
import collections
import datetime
import ipaddress
import json
import re
import sys
import time

MAX_FUTURE_MS = 300000  # the workers' default max.future.ms (5 min)


class Bad(Exception):
    pass


def parse_time(v, kafka_ts):
    if v is None:
        if kafka_ts is None:
            raise Bad("missing_field")
        return kafka_ts
    if isinstance(v, bool):
        raise Bad("bad_type")
    if isinstance(v, (int, float)):
        x = float(v)
    elif isinstance(v, str):
        try:
            x = float(v)
        except ValueError:
            try:
                d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00").replace(" ", "T"))
            except ValueError:
                raise Bad("bad_timestamp")
            if d.tzinfo is None:
                d = d.replace(tzinfo=datetime.timezone.utc)
            return int(round(d.timestamp() * 1000))
    else:
        raise Bad("bad_type")
    return int(round(x * 1000)) if abs(x) < 1e11 else int(x)


def parse_ip(v):
    if not isinstance(v, str):
        raise Bad("bad_type")
    try:
        return ipaddress.ip_address(v.strip())
    except ValueError:
        raise Bad("bad_ip")


def parse_uint(v, limit, default):
    if v is None:
        return default
    if isinstance(v, bool):
        raise Bad("bad_type")
    if isinstance(v, str):
        try:
            v = int(v)
        except ValueError:
            raise Bad("bad_type")
    if isinstance(v, float):
        if v != int(v):
            raise Bad("out_of_range")
        v = int(v)
    if not isinstance(v, int):
        raise Bad("bad_type")
    if v < 0 or v > limit:
        raise Bad("out_of_range")
    return v


def first(d, *names):
    for n in names:
        if n in d:
            return d[n]
    return None


def decode(payload, kafka_ts, now_ms):
    """Returns (ts_ms, src_ip, bytes, packets, detail) or raises Bad(reason); detail is
    (protocol bucket, destination ip, destination port, protocol number, source port)."""
    if payload is None or not payload.strip():
        raise Bad("empty")
    if len(payload.encode()) > 65536:
        raise Bad("oversized")
    s = payload.strip()
    if s.startswith("["):
        raise Bad("malformed_json")  # a JSON array is not a record (np_record.c)
    if s.startswith("{"):
        try:
            d = json.loads(s)
        except ValueError:
            raise Bad("malformed_json")
        if not isinstance(d, dict):
            raise Bad("malformed_json")
        src, dst = first(d, "src_ip", "source_ip"), first(d, "dst_ip", "destination_ip")
        if src is None or dst is None:
            raise Bad("missing_field")
        src, dst = parse_ip(src), parse_ip(dst)
        ts = parse_time(first(d, "ts", "timestamp"), kafka_ts)
        sport = 0
        for port in ("src_port", "source_port"):
            sport = parse_uint(d.get(port), 65535, 0) or sport
        dport = parse_uint(first(d, "dst_port", "destination_port"), 65535, 0)
        bucket = proto_bucket(first(d, "proto", "protocol"))
        pnum = proto_number(first(d, "proto", "protocol"))
        nbytes = parse_uint(first(d, "bytes", "bytes_sent"), 1 << 40, 0)
        packets = parse_uint(d.get("packets"), 1 << 32, 1)
    else:
        f = [x.strip() for x in s.split(",")]
        if len(f) != 3:
            raise Bad("malformed_csv")
        try:
            src = ipaddress.ip_address(f[0])
        except ValueError:
            # np_record.c: a header is a word (first character a letter) where the address
            # should be, and not a number where the count should be; else a bad address.
            header = f[0][:1].isascii() and f[0][:1].isalpha() and \
                not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", f[2].strip('"'))
            raise Bad("malformed_csv" if header else "bad_ip")
        dst, dport, bucket, pnum, sport = parse_ip(f[1]), 0, "other", 0, 0
        if kafka_ts is None:
            raise Bad("missing_field")
        ts = kafka_ts
        nbytes = parse_uint(f[2], 1 << 40, 0)
        packets = 1
    if ts < 0 or ts > now_ms + MAX_FUTURE_MS:
        raise Bad("out_of_range")
    return ts, src, nbytes, packets, (bucket, dst, dport, pnum, sport)


PROTO_NAMES = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmp", "ipv6-icmp": "icmp"}
PROTO_NUMBERS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp"}


def proto_bucket(v):
    """netpulse's protocol-mix bucket of a record's protocol field."""
    if isinstance(v, str):
        return PROTO_NAMES.get(v.strip().lower(), "other")
    if isinstance(v, int) and not isinstance(v, bool):
        return PROTO_NUMBERS.get(v, "other")
    return "other"


PROTO_IANA = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "gre": 47, "esp": 50, "ah": 51,
              "sctp": 132}


def proto_number(v):
    """The IANA number netpulse keeps for a record's protocol field (0 when absent)."""
    if isinstance(v, str):
        t = v.strip().lower()
        return int(t) if t.isdigit() else PROTO_IANA.get(t, 0)
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    return 0


# ---- views (an independent reading of the language np_view.h documents) -----------------

VIEW_TOKEN = re.compile(r"\s*(?:(\()|(\))|\b(and|or|not)\b|([a-z]+)\s*(!=|<=|>=|=|<|>)\s*([^\s()]+))")


def view_term(field, op, values):
    def num(v):
        return PROTO_IANA[v] if field == "proto" and v in PROTO_IANA else int(v)
    if field in ("src", "dst"):
        nets = [ipaddress.ip_network(v, strict=False) for v in values.split(",")]
        test = lambda r: any(r[field] in n for n in nets)
    elif op in ("=", "!="):
        rng = []
        for v in values.split(","):
            lo, _, hi = v.partition("-") if field != "proto" else (v, "", "")
            rng.append((num(lo), num(hi) if hi else num(lo)))
        fields = ("sport", "dport") if field == "port" else (field,)
        test = lambda r: any(lo <= r[f] <= hi for f in fields for lo, hi in rng)
    else:
        x = int(values)
        test = {"<": lambda r: r[field] < x, "<=": lambda r: r[field] <= x,
                ">": lambda r: r[field] > x, ">=": lambda r: r[field] >= x}[op]
    return (lambda r: not test(r)) if op == "!=" else test


def parse_views(spec):
    """[(name, predicate(record dict), [keys])] from a `views` configuration value."""
    views = []
    for part in (spec or "").split(";"):
        if not part.strip():
            continue
        name, _, rest = part.partition(":")
        m = re.search(r"\bby\b(.*)$", rest)
        keys = [k.strip() for k in m.group(1).split(",")] if m else []
        text = rest[:m.start()] if m else rest
        toks, pos = [], 0
        while text[pos:].strip():
            t = VIEW_TOKEN.match(text, pos)
            if not t:
                raise ValueError(f"view {name}: cannot read {text[pos:]!r}")
            toks.append(t.groups())
            pos = t.end()

        def expr(i):
            a, i = conj(i)
            while i < len(toks) and toks[i][2] == "or":
                b, i = conj(i + 1)
                a = (lambda x, y: lambda r: x(r) or y(r))(a, b)
            return a, i

        def conj(i):
            a, i = neg(i)
            while i < len(toks) and toks[i][2] == "and":
                b, i = neg(i + 1)
                a = (lambda x, y: lambda r: x(r) and y(r))(a, b)
            return a, i

        def neg(i):
            if toks[i][2] == "not":
                a, i = neg(i + 1)
                return (lambda x: lambda r: not x(r))(a), i
            if toks[i][0]:
                a, i = expr(i + 1)
                return a, i + 1
            return view_term(toks[i][3], toks[i][4], toks[i][5]), i + 1

        pred = expr(0)[0] if toks else (lambda r: True)
        views.append((name.strip(), pred, keys))
    return views


PROTO_TEXT = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"}


def view_group(keys, r):
    """The group of record r as netpulse publishes it (the `group` object), as a JSON text."""
    g = {}
    for k in ("proto", "sport", "dport"):
        if k in keys:
            g[k] = PROTO_TEXT.get(r[k], r[k]) if k == "proto" else r[k]
    for side in ("src", "dst"):
        for k in keys:
            if k == side or k.startswith(side + "/"):
                bits = k.split("/")[1:]
                ip = r[side]
                full = 32 if ip.version == 4 else 128
                n = int(bits[0]) if bits and ip.version == 4 else int(bits[1]) if len(bits) > 1 else 64 if bits else full
                g[side] = str(ip) if n == full else str(ipaddress.ip_network(f"{ip}/{n}", strict=False))
    return json.dumps(g, sort_keys=True)


def new_agg():
    """Per-source aggregate: records, bytes, packets, destination ips, destination ports."""
    return [0, 0, 0, set(), set()]


def check_distinct(errors, where, ip, field, got, truth):
    """Distinct counts are exact up to 6 values (netpulse keeps them inline), then
    HyperLogLog estimates with a standard error of 3.25%: allow 5 of those."""
    if truth <= 6 and got != truth:
        errors.append(f"{where}: source {ip} {field} {got} != {truth}")
    elif truth > 6 and abs(got - truth) > 0.1625 * truth + 1:
        errors.append(f"{where}: source {ip} {field} {got} too far from {truth}")


def check_top(errors, where, got, src, top_n):
    top = sorted(src.items(), key=lambda kv: (-kv[1][1], -kv[1][0], ip_key(kv[0])))[:top_n]
    want = [{"ip": str(ip), "records": a[0], "bytes": a[1], "packets": a[2]} for ip, a in top]
    plain = [{k: t[k] for k in ("ip", "records", "bytes", "packets")} for t in got]
    if plain != want:
        errors.append(f"{where}: top_sources differ:\n  got  {plain[:3]}\n  want {want[:3]}")
        return
    for t, (ip, a) in zip(got, top):
        check_distinct(errors, where, ip, "dst_ips", t.get("dst_ips"), len(a[3]))
        check_distinct(errors, where, ip, "dst_ports", t.get("dst_ports"), len(a[4]))


def check_lower_bound(errors, where, w, src):
    """A window marked sources_lower_bound: its distinct count at most the oracle's, and each
    top source a real one of the window whose counters are at most the oracle's (a source's
    counters may come from some of its panes only), ordered as published."""
    if not 0 < w["sources"] <= len(src):
        errors.append(f"{where}: sources {w['sources']} marked a lower bound, oracle {len(src)}")
    by_ip = {str(ip): agg for ip, agg in src.items()}
    for t in w["top_sources"]:
        o = by_ip.get(t["ip"])
        if o is None:
            errors.append(f"{where}: top source {t['ip']} not in the window")
        elif t["records"] > o[0] or t["bytes"] > o[1] or t["packets"] > o[2]:
            errors.append(f"{where}: top source {t['ip']} {[t['records'], t['bytes'], t['packets']]} above the "
                          f"oracle's {o[:3]}")
    if any(x["bytes"] < y["bytes"] for x, y in zip(w["top_sources"], w["top_sources"][1:])):
        errors.append(f"{where}: top_sources not ordered by bytes")


def ip_key(ip):
    """16-byte form netpulse sorts by: IPv4 as IPv4-mapped IPv6."""
    if ip.version == 4:
        return b"\0" * 10 + b"\xff\xff" + ip.packed
    return ip.packed


def load_jsonl(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--dlq", required=True)
    ap.add_argument("--pane-ms", type=int, default=5000)
    ap.add_argument("--window-ms", type=int, default=0,
                    help="also require every sliding window of this length, each equal to the union of its panes")
    ap.add_argument("--expect-dlq-reasons", default="")
    ap.add_argument("--expect-late", type=int, default=None,
                    help="sum of late_records over windows (default 0; with --lateness-ms also "
                         "the number of records the simulation finds late)")
    ap.add_argument("--lateness-ms", type=int, default=None,
                    help="simulate per-partition allowed lateness (see above)")
    ap.add_argument("--until-ms", type=int, default=None,
                    help="only compare windows starting before this event time")
    ap.add_argument("--expect-lost", default="",
                    help="PARTITION:OFFSET,...: good records in no window and no dead letter, counted elsewhere "
                         "(see above)")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--allow-empty", action="store_true",
                    help="pass with no input records or no published window (otherwise a mismatch)")
    ap.add_argument("--views", default="", help="the cluster's `views`: check every view's top groups per pane")
    ap.add_argument("--views-top", type=int, default=10)
    ap.add_argument("--dlq-trusted", default="",
                    help="comma-separated DLQ reasons the oracle cannot decide alone (watermark_jump needs the "
                         "global watermark): records dead-lettered with them count as bad with that reason")
    ap.add_argument("--dlq-sampled-out", default="",
                    help="REASON=N,...: the workers' netpulse_worker_dlq_sampled_out_total by reason; exactly N "
                         "bad (or late) records of that reason may be missing from the dead-letter topic")
    ap.add_argument("--worker-counts", default="",
                    help="REASON=N,...: the workers' records_invalid_total by reason (and late=N): must equal the "
                         "oracle's count of bad records by reason (and late ones); reasons not given must be 0")
    ap.add_argument("--lower-bound-windows", type=int, default=None,
                    help="at most N sliding windows may be marked sources_lower_bound (a partition lost its window "
                         "history, e.g. its checkpoint was quarantined): their totals stay exact, their sources and "
                         "top_sources are checked as lower bounds; more marked windows is a mismatch")
    a = ap.parse_args()

    def reason_counts(spec):
        c = collections.Counter()
        for kv in filter(None, spec.split(",")):
            k, v = kv.split("=")
            c[k] += int(v)
        return c
    sampled_out = reason_counts(a.dlq_sampled_out)
    trusted = {}
    if a.dlq_trusted:
        reasons = set(a.dlq_trusted.split(","))
        for m in load_jsonl(a.dlq):
            h = m.get("headers") or []
            hd = dict(zip(h[0::2], h[1::2]))
            if hd.get("netpulse.reason") in reasons:
                trusted[(int(hd.get("netpulse.source.partition", -1)), int(hd.get("netpulse.source.offset", -1)))] = \
                    hd.get("netpulse.reason")

    now = int(time.time() * 1000)
    panes = collections.defaultdict(lambda: {"records": 0, "bytes": 0, "packets": 0,
                                             "protocols": collections.Counter(),
                                             "src": collections.defaultdict(new_agg)})
    bad = {}
    late = {}   # (partition, offset) -> pane start, for records the lateness simulation rejects
    # Per partition: [max event time, closed_through], None until the first good record.
    part_state = collections.defaultdict(lambda: [None, None])
    views = parse_views(a.views)
    vgroups = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, 0]))  # (start, view) -> group -> agg
    records = load_jsonl(a.records)
    # Offset order within each partition is the order a worker reads them in.
    records.sort(key=lambda m: (m["partition"], m["offset"]))
    lost = {tuple(int(x) for x in kv.split(":")) for kv in filter(None, a.expect_lost.split(","))}
    lost_seen = set()
    for m in records:
        kts = m.get("ts") if m.get("tstype") in ("create", "logappend") else None
        if (m["partition"], m["offset"]) in trusted:
            bad[(m["partition"], m["offset"])] = trusted[(m["partition"], m["offset"])]
            continue
        try:
            ts, src, nbytes, packets, (bucket, dst, dport, pnum, sport) = decode(m.get("payload"), kts, now)
        except Bad as e:
            bad[(m["partition"], m["offset"])] = str(e)
            continue
        start = ts - ts % a.pane_ms
        if (m["partition"], m["offset"]) in lost:
            lost_seen.add((m["partition"], m["offset"]))
            continue
        if a.lateness_ms is not None:
            st = part_state[m["partition"]]
            if st[1] is not None and start + a.pane_ms <= st[1]:
                late[(m["partition"], m["offset"])] = start
                continue
            if st[0] is None or ts > st[0]:
                st[0] = ts
                wm = ts - a.lateness_ms
                through = wm - wm % a.pane_ms
                if st[1] is None or through > st[1]:
                    st[1] = through
        p = panes[start]
        p["records"] += 1
        p["bytes"] += nbytes
        p["packets"] += packets
        agg = p["src"][src]
        agg[0] += 1
        agg[1] += nbytes
        agg[2] += packets
        agg[3].add(dst)
        agg[4].add(dport)
        p["protocols"][bucket] += 1
        if views:
            r = {"proto": pnum, "sport": sport, "dport": dport, "src": src, "dst": dst, "bytes": nbytes,
                 "packets": packets}
            for name, pred, keys in views:
                if pred(r):
                    g = vgroups[(start, name)][view_group(keys, r)]
                    g[0] += 1
                    g[1] += nbytes
                    g[2] += packets

    errors = []
    windows = {}
    sliding = {}  # (start, window_ms) -> message, for windows longer than a pane
    ids = collections.Counter()
    published_groups = collections.defaultdict(list)  # (start, view) -> group results
    for m in load_jsonl(a.results):
        v = json.loads(m["payload"])
        ids[v["id"]] += 1  # every result, anomalies and forecasts too, exactly once
        if v.get("type") == "group":
            published_groups[(v["window_start"], v["view"])].append(v)
        if v.get("type") != "window":
            continue
        if m.get("key") != v["id"]:
            errors.append(f"message key {m.get('key')!r} != id {v['id']!r}")
        if v.get("window_ms", a.pane_ms) != a.pane_ms:
            sliding[(v["window_start"], v["window_ms"])] = v
            continue
        windows[v["window_start"]] = v
    for i, n in ids.items():
        if n > 1:
            errors.append(f"duplicate result id {i} ({n} times)")

    if a.until_ms is not None:
        for start in [k for k in panes if k >= a.until_ms]:
            del panes[start]
        windows = {k: v for k, v in windows.items() if k < a.until_ms}

    checked = 0
    for start in sorted(panes):
        o, w = panes[start], windows.get(start)
        if w is None:
            errors.append(f"window {start} missing (oracle: {o['records']} records)")
            continue
        checked += 1
        if w["window_end"] != start + a.pane_ms or w["id"] != f"window:{start}:{start + a.pane_ms}":
            errors.append(f"window {start}: bad bounds/id {w['id']}")
        for k in ("records", "bytes", "packets"):
            if w[k] != o[k]:
                errors.append(f"window {start}: {k} {w[k]} != oracle {o[k]}")
        if w["sources"] != len(o["src"]):
            errors.append(f"window {start}: sources {w['sources']} != oracle {len(o['src'])}")
        check_top(errors, f"window {start}", w["top_sources"], o["src"], a.top)
        want_proto = {k: o["protocols"].get(k, 0) for k in ("tcp", "udp", "icmp", "other")}
        if w.get("protocols") != want_proto:
            errors.append(f"window {start}: protocols {w.get('protocols')} != oracle {want_proto}")
        # NSL-KDD class counts appear only where connection records were classified
        # (tests/tools/kdd_oracle.py checks those); a flow stream's windows have none.
        if "classes" in w:
            errors.append(f"window {start}: unexpected classes {w['classes']} in a flow-only stream")
    # Sliding windows: the union of the panes they cover, recomputed here; and none missing
    # from the first pane with data (a window never reaches back before it) to the last.
    if a.window_ms and panes:
        first, last = min(panes), max(panes)
        for end in range(first + a.window_ms, last + a.pane_ms + 1, a.pane_ms):
            if (end - a.window_ms, a.window_ms) not in sliding:
                errors.append(f"sliding window {end - a.window_ms}+{a.window_ms} missing")
    lower_bound = 0
    for (start, wms), w in sorted(sliding.items()):
        if a.until_ms is not None and start + wms > a.until_ms:
            continue
        if a.window_ms and wms != a.window_ms:
            errors.append(f"window {w['id']} has window_ms {wms}, expected {a.window_ms}")
        tot = {"records": 0, "bytes": 0, "packets": 0}
        protos = collections.Counter()
        src = collections.defaultdict(new_agg)
        for ps in range(start, start + wms, a.pane_ms):
            o = panes.get(ps)
            if not o:
                continue
            for k in tot:
                tot[k] += o[k]
            protos.update(o["protocols"])
            for ip, agg in o["src"].items():
                for i in range(3):
                    src[ip][i] += agg[i]
                src[ip][3] |= agg[3]
                src[ip][4] |= agg[4]
        checked += 1
        if w["window_end"] != start + wms or w["id"] != f"window:{start}:{start + wms}":
            errors.append(f"sliding window {start}+{wms}: bad bounds/id {w['id']}")
        for k in tot:
            if w[k] != tot[k]:
                errors.append(f"sliding window {start}+{wms}: {k} {w[k]} != oracle {tot[k]}")
        if a.lower_bound_windows is not None and w.get("sources_lower_bound"):
            lower_bound += 1
            check_lower_bound(errors, f"sliding window {start}+{wms}", w, src)
        else:
            if w["sources"] != len(src):
                errors.append(f"sliding window {start}+{wms}: sources {w['sources']} != oracle {len(src)}")
            check_top(errors, f"sliding window {start}+{wms}", w["top_sources"], src, a.top)
        want_proto = {k: protos.get(k, 0) for k in ("tcp", "udp", "icmp", "other")}
        if w.get("protocols") != want_proto:
            errors.append(f"sliding window {start}+{wms}: protocols {w.get('protocols')} != oracle {want_proto}")
    if a.lower_bound_windows is not None and lower_bound > a.lower_bound_windows:
        errors.append(f"{lower_bound} sliding windows marked sources_lower_bound, at most {a.lower_bound_windows} allowed")
    # Views: per pane and view, the top groups by bytes with their exact counters.
    for (start, name), got in sorted(published_groups.items()):
        if a.until_ms is not None and start >= a.until_ms:
            continue
        if (start, name) not in vgroups:
            errors.append(f"view {name} pane {start}: {len(got)} groups published, the oracle has none")
    view_panes = 0
    for (start, name), groups in sorted(vgroups.items()):
        if start not in panes:
            continue
        view_panes += 1
        where = f"view {name} pane {start}"
        got = sorted(published_groups.get((start, name), []), key=lambda v: v["rank"])
        want_n = min(a.views_top, len(groups))
        if [v["rank"] for v in got] != list(range(1, want_n + 1)):
            errors.append(f"{where}: ranks {[v['rank'] for v in got]}, expected 1..{want_n}")
            continue
        shown = set()
        for v in got:
            g = json.dumps(v["group"], sort_keys=True)
            o = groups.get(g)
            shown.add(g)
            if v["id"] != f"group:{name}:{start}:{v['rank']}" or v["window_end"] != start + a.pane_ms:
                errors.append(f"{where}: bad id/bounds {v['id']}")
            if o is None or [v["records"], v["bytes"], v["packets"]] != o:
                errors.append(f"{where}: group {g} {[v['records'], v['bytes'], v['packets']]} != oracle {o}")
        if any(x["bytes"] < y["bytes"] for x, y in zip(got, got[1:])):
            errors.append(f"{where}: groups not ordered by bytes")
        rest = [agg[1] for g, agg in groups.items() if g not in shown]
        if got and rest and max(rest) > got[-1]["bytes"]:
            errors.append(f"{where}: an unpublished group has {max(rest)} bytes > rank {len(got)}'s {got[-1]['bytes']}")
    for start, w in windows.items():
        if start not in panes and w["records"] != 0:
            errors.append(f"window {start} has {w['records']} records but the oracle has none")
    late_reported = sum(w.get("late_records", 0) for w in windows.values())
    if a.lateness_ms is not None:
        if late_reported != len(late):
            errors.append(f"late_records total {late_reported} != {len(late)} late records the simulation found")
        if a.expect_late is not None and len(late) != a.expect_late:
            errors.append(f"the simulation found {len(late)} late records, the test expected {a.expect_late}")
    elif late_reported != (a.expect_late or 0):
        errors.append(f"late_records total {late_reported} != expected {a.expect_late or 0}")

    for key in sorted(lost - lost_seen):
        errors.append(f"record {key} expected lost is not a good input record")
    # Dead letters: exactly the records the oracle rejects, each with a reason header.
    dlq = {}
    dlq_pane = {}
    for m in load_jsonl(a.dlq):
        h = m.get("headers") or []
        hd = dict(zip(h[0::2], h[1::2]))
        key = (int(hd.get("netpulse.source.partition", -1)), int(hd.get("netpulse.source.offset", -1)))
        if key in dlq:
            errors.append(f"dead letter for {key} appears twice")
        dlq[key] = hd.get("netpulse.reason")
        dlq_pane[key] = hd.get("netpulse.pane.start")
        if not hd.get("netpulse.detail"):
            errors.append(f"dead letter {key} has no detail")
    missing = collections.Counter()
    for key, reason in bad.items():
        if key not in dlq:
            missing[reason] += 1
            if not a.dlq_sampled_out:
                errors.append(f"bad record {key} ({reason}) not in the dead-letter topic")
        elif dlq[key] != reason:
            errors.append(f"bad record {key}: DLQ reason {dlq[key]!r}, oracle says {reason!r}")
    for key, pane in late.items():
        if key not in dlq:
            missing["late"] += 1
            if not a.dlq_sampled_out:
                errors.append(f"late record {key} (pane {pane}) not in the dead-letter topic")
        elif dlq[key] != "late":
            errors.append(f"late record {key}: DLQ reason {dlq[key]!r}, oracle says 'late'")
        elif dlq_pane[key] != str(pane):
            errors.append(f"late record {key}: header netpulse.pane.start {dlq_pane[key]!r} != {pane}")
    for key in dlq:
        if key not in bad and key not in late:
            errors.append(f"dead letter {key} ({dlq[key]}) for a record the oracle accepts")
    if a.dlq_sampled_out and +missing != +sampled_out:
        errors.append(f"records missing from the dead-letter topic by reason {dict(+missing)} != the workers' "
                      f"sampled-out counts {dict(+sampled_out)}")
    if a.worker_counts:
        want = collections.Counter(bad.values())
        want["late"] += len(late)
        got = reason_counts(a.worker_counts)
        if +want != +got:
            errors.append(f"the workers counted {dict(+got)} by reason, the oracle {dict(+want)}")
    if a.expect_dlq_reasons:
        want = collections.Counter()
        for kv in a.expect_dlq_reasons.split(","):
            k, v = kv.split("=")
            want[k] = int(v)
        got = collections.Counter(dlq.values())
        if got != want:
            errors.append(f"dead-letter reasons {dict(got)} != expected {dict(want)}")

    good = sum(p["records"] for p in panes.values())
    if not records and not a.allow_empty:
        errors.append("no input records: nothing was checked (a run that produced nothing must not pass; --allow-empty if intended)")
    elif records and not windows and not a.allow_empty:
        errors.append("input records but no window published")
    print(f"oracle: {len(records)} input records, {good} good, {len(bad)} bad, "
          + (f"{len(late)} late (lateness {a.lateness_ms} ms; windows report {late_reported}), "
             if a.lateness_ms is not None else "")
          + f"{len(panes)} panes with data, {checked} windows compared, {len(windows)} windows published, "
          f"{len(dlq)} dead letters, {view_panes} view panes compared "
          f"({sum(len(v) for v in published_groups.values())} groups published)")
    for e in errors[:50]:
        print("MISMATCH:", e)
    if len(errors) > 50:
        print(f"... and {len(errors) - 50} more")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
