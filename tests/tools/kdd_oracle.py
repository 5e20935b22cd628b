#!/usr/bin/env python3
"""Oracle for NSL-KDD connection records in the stream (0140-intrusion).

Recomputes, from the training tool's offline predictions (`train.py predict`: one line
per row, "CLASS_INDEX CLASS_NAME CONFIDENCE_HEX") and the generator's replay rules (row i
has event time start_ms + i * 1000 // rate and destination 10.20.h/250.(h%250+1) with
h = (i * 0x9e3779b97f4a7c15 mod 2^64 >> 32) mod hosts, generator/kdd_replay.c), what the
pipeline must publish, and compares it with processed-data (a `kcat -C -J` dump):

  - every pane window's `classes` equals the offline class counts of the rows in that pane,
    and their sum over panes equals the offline counts of the whole file (nothing lost or
    counted twice);
  - the `intrusion` anomalies are exactly the offline ones: per pane and destination, its
    most frequent attack class (the first of equals) when it has >= --min connections and
    >= --share of the destination's connections; at most --max-alerts per pane, the largest counts first (then the lower
    address, then the lower class), each with its counts, mean confidence (sum of
    round(confidence * 1e6), as the workers carry it) and id, each published once.

Python only (no netpulse code); exits 0 when everything matches, 1 with the differences.
"""
import argparse
import collections
import ipaddress
import json
import math
import sys

CLASSES = ["normal", "DoS", "Probe", "R2L", "U2R"]


def dst_of(i, hosts):
    h = ((i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 32
    h %= hosts
    return f"10.20.{h // 250}.{h % 250 + 1}"


def load_results(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            m = json.loads(line)
            if m.get("payload"):
                out.append(json.loads(m["payload"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--start-ms", type=int, required=True)
    ap.add_argument("--rate", type=int, required=True)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--pane-ms", type=int, default=5000)
    ap.add_argument("--min", type=int, default=20)
    ap.add_argument("--share", type=float, default=0.2)
    ap.add_argument("--max-alerts", type=int, default=64)
    a = ap.parse_args()

    # (pane, dest) -> [counts], [confidence micro sums]
    per = collections.defaultdict(lambda: ([0] * 5, [0] * 5))
    panes = collections.defaultdict(lambda: [0] * 5)
    total = [0] * 5
    with open(a.predictions) as f:
        for i, line in enumerate(f):
            c, _, conf = line.split()
            c, conf = int(c), float.fromhex(conf)
            ts = a.start_ms + i * 1000 // a.rate
            pane = ts - ts % a.pane_ms
            n, s = per[(pane, dst_of(i, a.hosts))]
            n[c] += 1
            s[c] += math.floor(min(max(conf, 0.0), 1.0) * 1e6 + 0.5)  # llround, for x >= 0
            panes[pane][c] += 1
            total[c] += 1

    errors = []
    results = load_results(a.results)
    windows = {}
    for r in results:
        if r.get("type") == "window" and r.get("window_ms") == a.pane_ms:
            if r["window_start"] in windows:
                errors.append(f"window {r['id']} published twice")
            windows[r["window_start"]] = r
    got_total = [0] * 5
    for pane, want in sorted(panes.items()):
        w = windows.get(pane)
        if w is None:
            errors.append(f"pane window {pane} missing (offline classes {want})")
            continue
        got = [w.get("classes", {}).get(k, 0) for k in CLASSES]
        got_total = [x + y for x, y in zip(got_total, got)]
        if got != want:
            errors.append(f"window {pane}: classes {got} != offline {want}")
    for start, w in windows.items():
        if start not in panes and "classes" in w:
            errors.append(f"window {start}: classes {w['classes']} where no row was replayed")
    if got_total != total:
        errors.append(f"classes over all pane windows {got_total} != offline {total}")

    # Expected intrusion anomalies.
    want_an = {}
    by_pane = collections.defaultdict(list)
    for (pane, dst), (n, s) in per.items():
        c = max(range(1, 5), key=lambda k: (n[k], -k))  # the most frequent attack class, first of equals
        if n[c] >= a.min and n[c] >= a.share * sum(n):
            by_pane[pane].append((-n[c], int(ipaddress.ip_address(dst)), c, dst, n, s))
    for pane, cands in by_pane.items():
        for negk, _, c, dst, n, s in sorted(cands)[: a.max_alerts]:
            aid = f"anomaly:intrusion:{dst}:{pane}"
            want_an[(aid, c)] = {"counts": dict(zip(CLASSES, n)), "observed": n[c],
                                 "confidence": round(s[c] / n[c] / 1e6, 4)}
    got_an = {}
    for r in results:
        if r.get("type") == "anomaly" and r.get("kind") == "intrusion":
            key = (r["id"], CLASSES.index(r["class"]))
            if key in got_an:
                errors.append(f"anomaly {r['id']} ({r['class']}) published twice")
            got_an[key] = r
    for key, want in sorted(want_an.items()):
        g = got_an.get(key)
        if g is None:
            errors.append(f"anomaly {key[0]} {CLASSES[key[1]]} missing (offline {want['counts']})")
            continue
        if g["counts"] != want["counts"] or g["observed"] != want["observed"]:
            errors.append(f"anomaly {key[0]}: counts {g['counts']} != offline {want['counts']}")
        if abs(g["confidence"] - want["confidence"]) > 1e-4:
            errors.append(f"anomaly {key[0]}: confidence {g['confidence']} != offline {want['confidence']}")
        if g["entity"] not in g["explanation"] or CLASSES[key[1]] not in g["explanation"]:
            errors.append(f"anomaly {key[0]}: explanation {g['explanation']!r} names neither entity nor class")
    for key in sorted(set(got_an) - set(want_an)):
        errors.append(f"anomaly {key[0]} {CLASSES[key[1]]} not expected offline")

    for e in errors[:50]:
        print("kdd_oracle:", e)
    print(f"kdd_oracle: {len(panes)} panes, offline classes {dict(zip(CLASSES, total))}, "
          f"{len(want_an)} intrusion anomalies expected, {len(got_an)} published, {len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
