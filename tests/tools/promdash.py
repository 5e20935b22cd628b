#!/usr/bin/env python3
"""tests/tools/promdash.py — evaluates every query of Grafana dashboards on a live Prometheus.

    promdash.py --prometheus http://127.0.0.1:PORT --range-s 300 DASHBOARD.json...

For each dashboard: resolves its query variables in order, as Grafana would
(`label_values(METRIC{...}, LABEL)` becomes `group by (LABEL) (METRIC{...})`; a variable's
value is its first option, except `pod`, which is evaluated twice: All (`.*`) and the first
worker), substitutes Grafana's macros ($__rate_interval, $__interval, $__range and friends),
evaluates every panel target's `expr` with /api/v1/query, and requires a non-empty result
with at least one finite sample. Prints one line per query (OK/FAIL, the number of series,
a sample value, the expression as evaluated) and exits 1 if any query fails.

Uses only the standard library; the HTTP API is Prometheus's stable v1 API.
"""
import argparse
import json
import math
import re
import sys
import urllib.parse
import urllib.request

LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$")


def api(base, path, **params):
    url = base.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=20) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body["data"]


def macros(range_s, rate_s):
    """Grafana's built-in variables, longest names first so $__range_s wins over $__range."""
    m = {"$__rate_interval": f"{rate_s}s", "$__interval_ms": str(rate_s * 250), "$__interval": f"{max(1, rate_s // 4)}s",
         "$__range_ms": str(range_s * 1000), "$__range_s": str(range_s), "$__range": f"{range_s}s"}
    return sorted(m.items(), key=lambda kv: -len(kv[0]))


def substitute(expr, values, macro_list):
    for k, v in macro_list:
        expr = expr.replace(k, v)
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace("${%s}" % name, value).replace("$" + name, value)
    return expr


def variable_query(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")


def resolve_variable(base, v, values, macro_list):
    """-> (promql, options) for a query variable."""
    q = substitute(variable_query(v), values, macro_list)
    m = LABEL_VALUES.match(q)
    if m:
        selector, label = m.group(1), m.group(2)
        if selector:
            promql = f"group by ({label}) ({selector})"
            opts = sorted({s["metric"].get(label) for s in api(base, "/api/v1/query", query=promql)["result"]} - {None})
        else:
            promql = f"label values of {label}"
            opts = sorted(api(base, f"/api/v1/label/{label}/values"))
        return promql, opts
    res = api(base, "/api/v1/query", query=q)["result"]   # query_result(...) style: the series
    return q, [json.dumps(s["metric"]) for s in res]


def finite_samples(result):
    vals = []
    for s in result:
        if "value" in s:
            vals.append(float(s["value"][1]))
        vals.extend(float(p[1]) for p in s.get("values", []))
    return [x for x in vals if math.isfinite(x)]


def check_targets(base, dash, values, macro_list, tag, report):
    ok = True
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            expr = substitute(t["expr"], values, macro_list)
            try:
                res = api(base, "/api/v1/query", query=expr)["result"]
                fin = finite_samples(res)
                good = bool(res) and bool(fin)
                detail = f"{len(res)} series, e.g. {fin[0]:.6g}" if fin else f"{len(res)} series, no finite value"
            except Exception as e:  # a bad query is a failure, reported with Prometheus's reason
                good, detail = False, f"error {e}"
            ok &= good
            report.append((good, dash["uid"], tag, f'{p["title"]} [{t["refId"]}]', detail, expr))
    return ok


def check_dashboard(base, path, range_s, rate_s, report):
    dash = json.load(open(path, encoding="utf-8"))
    macro_list = macros(range_s, rate_s)
    values, ok, pod_opts = {}, True, []
    for v in dash.get("templating", {}).get("list", []):
        if v["type"] == "datasource":
            ok &= v.get("query") == "prometheus"
            continue
        if v["type"] != "query":
            continue
        try:
            promql, opts = resolve_variable(base, v, values, macro_list)
        except Exception as e:
            promql, opts = variable_query(v), []
            print(f"  error evaluating ${v['name']}: {e}")
        good = bool(opts)
        ok &= good
        report.append((good, dash["uid"], "var", "$" + v["name"], f"{len(opts)} values: {', '.join(opts[:6])}", promql))
        if v["name"] == "pod":
            pod_opts = opts
        values[v["name"]] = opts[0] if opts else "NO-VALUE"
    if "pod" in values:
        for tag, pod in (("pod=All", ".*"), ("pod=" + next((o for o in pod_opts if o.startswith("worker")), "NONE"),
                                              next((o for o in pod_opts if o.startswith("worker")), "NONE"))):
            ok &= check_targets(base, dash, dict(values, pod=pod), macro_list, tag, report)
    else:
        ok &= check_targets(base, dash, values, macro_list, "", report)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--range-s", type=int, default=300, help="value of $__range")
    ap.add_argument("--rate-interval-s", type=int, default=10, help="value of $__rate_interval")
    ap.add_argument("dashboards", nargs="+")
    a = ap.parse_args()
    report, ok = [], True
    for path in a.dashboards:
        ok &= check_dashboard(a.prometheus, path, a.range_s, a.rate_interval_s, report)
    for good, uid, tag, what, detail, expr in report:
        print(f"{'OK  ' if good else 'FAIL'} {uid:18} {tag:12} {what:60} {detail:40} {expr}")
    bad = sum(1 for r in report if not r[0])
    print(f"{len(report) - bad} of {len(report)} dashboard queries returned data")
    return 0 if ok and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
