#!/usr/bin/env python3
"""bench/report.py RESULTS_DIR: turns the JSON files bench/run.sh wrote into one table.

Writes RESULTS_DIR/results.json (every figure) and RESULTS_DIR/table.md, and prints the
table. A figure whose phase did not run is left out; a goal is judged only on what ran.
"""
import json
import os
import sys


def load(d, name):
    path = os.path.join(d, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[0] if len(rows) == 1 else rows


def rate(x):
    return "{:,.0f}/s".format(x)


def verdict(ok):
    return "met" if ok else "MISSED"


def main():
    d = sys.argv[1]
    res = {k: load(d, k) for k in (
        "params", "gen-bench-json", "raw-produce", "raw-json-1", "raw-json-2", "worker-json",
        "gen-bench-csv", "raw-csv-1", "raw-csv-2", "worker-csv", "worker-scale1", "worker-scale2",
        "memory", "memcap", "checkpoint")}
    rows = []  # (figure, measured, ratio, goal, verdict)
    out = {"params": res["params"]}

    for fmt in ("json", "csv"):
        raws = [r for r in (res["raw-%s-1" % fmt], res["raw-%s-2" % fmt]) if r]
        w = res["worker-" + fmt]
        if not raws or not w:
            continue
        ceiling = sum(r["records_per_s"] for r in raws) / len(raws)
        ratio = w["per_s"] / ceiling
        rows.append(("1. raw librdkafka consumer, %s (mean of %d runs: %s)" % (
            fmt.upper(), len(raws), ", ".join(rate(r["records_per_s"]) for r in raws)),
            rate(ceiling), "1.00", "", ""))
        rows.append(("2. netpulse-worker, %s, 1 worker, full windowing + checkpoints "
                     "(%d checkpoints, %d partials, peak RSS %d MiB)" % (
                         fmt.upper(), w["checkpoints"], w["partials"], w["peak_rss_kb"] // 1024),
                     rate(w["per_s"]), "%.2f" % ratio, ">= 0.5", verdict(ratio >= 0.5)))
        out["throughput_" + fmt] = {"raw_records_per_s": ceiling, "worker_records_per_s": w["per_s"],
                                    "ratio": ratio, "worker": w, "raw": raws}

    g, p = res["gen-bench-json"], res["raw-produce"]
    if g and p:
        ratio = g["records_per_s"] / p["records_per_s"]
        rows.append(("3. raw librdkafka producer, the same %d JSON records" % p["records"],
                     rate(p["records_per_s"]), "1.00", "", ""))
        rows.append(("3. netpulse-generator making and producing them", rate(g["records_per_s"]),
                     "%.2f" % ratio, "", ""))
        out["produce"] = {"raw": p, "generator": g, "ratio": ratio}

    lats = sorted((load(d, f[:-5]) for f in os.listdir(d) if f.startswith("latency-") and f.endswith(".json")),
                  key=lambda x: -x["rate"])
    for lat in lats:
        for kind in ("pane_window", "sliding_window", "anomaly"):
            k = lat[kind]
            if not k["n"]:
                rows.append(("4. latency after pane close at %s, %s: none in the run" % (rate(lat["rate"]), kind),
                             "-", "", "", ""))
                continue
            ok = k["p99_ms"] <= 250
            rows.append(("4. latency after pane close at %s, %s (n=%d, max %d ms; %s produced, %s consumed)" % (
                rate(lat["rate"]), kind, k["n"], k["max_ms"], "{:,}".format(lat["produced"]),
                "{:,}".format(lat["consumed"])),
                "p50 %d ms, p99 %d ms" % (k["p50_ms"], k["p99_ms"]), "", "p99 <= 250 ms", verdict(ok)))
    if lats:
        out["latency"] = lats

    mem = res["memory"]
    if mem:
        mem = mem if isinstance(mem, list) else [mem]
        for m in mem:
            ok = m["rss_growth_per_source"] <= 256
            rows.append(("5. memory per source per pane, %s sources, %d record(s) each" % (
                "{:,}".format(m["sources"]), m["records_per_source"]),
                "%.0f B" % m["rss_growth_per_source"], "", "<= 256 B", verdict(ok)))
        out["memory"] = mem

    mc = res["memcap"]
    if mc:
        # Configured bound of pane state: every slot's ring of max.open.panes panes, each with
        # a source and a destination table at its cap (entries + index at load >= 1/4, see
        # lib/np_srcmap.c), plus every sketch block of the pool.
        def table(cap):
            slots = 64
            while cap * 2 > slots:
                slots *= 2
            return cap * 120 + slots * 8
        bound = mc["slots"] * mc["open_panes"] * (table(mc["max_sources_per_pane"]) + table(mc["max_dests_per_pane"])) \
            + mc["hll_pool_blocks"] * 1024
        ok = mc["peak_state_bytes"] <= bound and mc["evictions"] > 0
        rows.append(("5. worker under its caps: %s records from up to 1M sources, max.sources.per.pane=%d, "
                     "hll.pool.blocks=%d: %s sources evicted into 'other'; peak RSS %d MiB (from %d MiB at start: "
                     "librdkafka's prefetch is most of it)" % (
                         "{:,}".format(mc["records"]), mc["max_sources_per_pane"], mc["hll_pool_blocks"],
                         "{:,}".format(mc["evictions"]), mc["peak_rss_kb"] >> 10, mc["rss_start_kb"] >> 10),
                     "state peak %.1f MiB" % (mc["peak_state_bytes"] / 2**20), "%.2f of the %.1f MiB bound" % (
                         mc["peak_state_bytes"] / bound, bound / 2**20), "state <= bound, evictions > 0", verdict(ok)))
        out["memcap"] = dict(mc, state_bound_bytes=bound)

    s1, s2 = res["worker-scale1"], res["worker-scale2"]
    if s1 and s2:
        ratio = s2["per_s"] / s1["per_s"]
        rows.append(("6. 1 worker, JSON", rate(s1["per_s"]), "1.00", "", ""))
        rows.append(("6. 2 workers, same topic, same 2 cores (input partitions owned: %s)" % "+".join(
            str(x) for x in s2.get("input_partitions_owned", [])), rate(s2["per_s"]), "%.2f" % ratio, "", ""))
        out["scaling"] = {"one": s1, "two": s2, "ratio": ratio}

    ck = res["checkpoint"]
    if ck:
        ck = ck if isinstance(ck, list) else [ck]
        for c in ck:
            if c.get("stream"):
                rows.append(("6. checkpoints, %s, %s sources, %s records/s, 1/s + pane closes (%d, %d full; "
                             "restore %.1f ms)" % (c["mode"], "{:,}".format(c["sources"]),
                                                   "{:,}".format(c["records_per_s"]), c["checkpoints"],
                                                   c["full_checkpoints"], c["restore_ms"]),
                             "%s B/s" % "{:,}".format(int(c["bytes_per_s"])),
                             "CPU %.2f + Redis %.2f ms/s" % (c["cpu_ms_per_s"], c["redis_cpu_ms_per_s"]), "", ""))
                continue
            rows.append(("6. checkpoint of a partition with %s sources (%s bytes): encode %.2f ms + Redis %.2f ms" % (
                "{:,}".format(c["sources"]), "{:,}".format(c["bytes"]), c["encode_ms"], c["redis_set_ms"]),
                "%.2f ms" % c["checkpoint_ms"], "%.2f us/source" % c["checkpoint_us_per_source"], "", ""))
        out["checkpoint"] = ck

    lines = ["| figure | measured | ratio | goal | |", "|---|---:|---:|---|---|"]
    lines += ["| %s | %s | %s | %s | %s |" % r for r in rows]
    table = "\n".join(lines) + "\n"
    with open(os.path.join(d, "table.md"), "w") as f:
        f.write(table)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(out, f, indent=1)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
