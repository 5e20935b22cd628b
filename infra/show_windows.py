#!/usr/bin/env python3
"""Prints netpulse `window` and `anomaly` messages (JSON lines on stdin) as one readable line
each; groups and forecasts are left to kcat."""
import json
import sys
import time

for line in sys.stdin:
    try:
        w = json.loads(line)
    except ValueError:
        continue
    if w.get("type") == "anomaly":
        at = time.strftime("%H:%M:%S", time.gmtime(w["window_start"] / 1000))
        print(f"  ANOMALY {at}Z {w['severity']:>8} {w['kind']} {w['entity']}: {w['explanation']}", flush=True)
        continue
    if w.get("type") != "window":
        continue
    start = time.strftime("%H:%M:%S", time.gmtime(w["window_start"] / 1000))
    top = w["top_sources"][0]["ip"] if w["top_sources"] else "-"
    print(f"  window {start}Z +{w['window_ms'] // 1000}s  records={w['records']:>7}  bytes={w['bytes']:>11}  "
          f"packets={w['packets']:>8}  sources={w['sources']:>5}  top={top}  partitions={w['partitions']}",
          flush=True)
