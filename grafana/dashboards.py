#!/usr/bin/env python3
"""grafana/dashboards.py — writes the three Grafana dashboards in grafana/dashboards/.

The dashboards are plain Grafana JSON (schemaVersion 42, the current one in @grafana/schema);
this script is their source so that every panel is built the same way (datasource variable,
units, legends) and reviews read PromQL rather than JSON. After editing, run

    python3 grafana/dashboards.py          # rewrite grafana/dashboards/*.json
    python3 grafana/dashboards.py --check  # exit 1 if the committed JSON differs (CI)

Dashboards edited in Grafana's UI can be exported and committed too; then port the change
here, or --check fails. The metric names are the contract of issue 11 (ARCHITECTURE.md,
"Observability"). Every target's `expr` and every variable's query is evaluated against a
real Prometheus by tests/integration/0110-prometheus.sh, which requires data for each.
"""
import json
import os
import sys

SCHEMA_VERSION = 42
DS = {"type": "prometheus", "uid": "${datasource}"}
NS = 'namespace=~"$namespace"'
NSPOD = 'namespace=~"$namespace", pod=~"$pod"'


# ---- variables -----------------------------------------------------------------------

def var_datasource():
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "hide": 0, "refresh": 1,
            "regex": "", "options": [], "includeAll": False, "multi": False}


def var_query(name, label, query, multi):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "hide": 0, "refresh": 2, "regex": "", "sort": 1, "options": [],
            "includeAll": multi, "multi": multi, **({"allValue": ".*"} if multi else {})}


def var_namespace():
    return var_query("namespace", "Namespace", "label_values(netpulse_build_info, namespace)", False)


def var_pod():
    return var_query("pod", "Pod", 'label_values(process_start_time_seconds{%s}, pod)' % NS, True)


# ---- panels --------------------------------------------------------------------------

def target(expr, legend="__auto", ref="A", instant=False, fmt="time_series"):
    return {"refId": ref, "datasource": DS, "editorMode": "code", "expr": expr,
            "legendFormat": legend, "range": not instant, "instant": instant, "format": fmt}


def targets(*pairs):
    """targets(("expr", "legend"), ...) with refIds A, B, ..."""
    return [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(pairs)]


def field_defaults(unit, custom=None, extra=None):
    d = {"unit": unit, "color": {"mode": "palette-classic"},
         "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]}}
    if custom is not None:
        d["custom"] = custom
    d.update(extra or {})
    return {"defaults": d, "overrides": []}


def timeseries(title, desc, unit, tgts, stack=False, bars=False):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1,
              "fillOpacity": 60 if stack or bars else 10, "showPoints": "never", "spanNulls": False,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"},
              "axisPlacement": "auto", "axisSoftMin": 0}
    return {"type": "timeseries", "title": title, "description": desc, "datasource": DS,
            "targets": tgts, "fieldConfig": field_defaults(unit, custom),
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, desc, unit, expr, legend="__auto"):
    return {"type": "stat", "title": title, "description": desc, "datasource": DS,
            "targets": [target(expr, legend)], "fieldConfig": field_defaults(unit, None, {"color": {"mode": "thresholds"}}),
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "orientation": "auto", "colorMode": "value", "graphMode": "area",
                        "justifyMode": "auto", "textMode": "auto", "wideLayout": True,
                        "showPercentChange": False, "percentChangeColorMode": "standard"}}


def table(title, desc, unit, expr, transformations, sort_by):
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": True, "filterable": True}
    return {"type": "table", "title": title, "description": desc, "datasource": DS,
            "targets": [target(expr, "__auto", instant=True, fmt="table")],
            "fieldConfig": field_defaults(unit, custom), "transformations": transformations,
            "options": {"showHeader": True, "frameIndex": 0, "cellHeight": "sm",
                        "sortBy": [{"displayName": sort_by, "desc": False}]}}


def organize(exclude, rename, order):
    return {"id": "organize", "options": {
        "excludeByName": {k: True for k in exclude}, "renameByName": rename,
        "indexByName": {k: i for i, k in enumerate(order)}}}


def layout(rows):
    """rows: [[(panel, width), ...], ...] -> panels with ids and gridPos (24 columns)."""
    panels, y, pid = [], 0, 1
    for row in rows:
        x, h = 0, next((item[2] for item in row if len(item) > 2), 8)
        for item in row:
            panel, w = item[0], item[1]
            panel = dict(panel, id=pid, gridPos={"h": h, "w": w, "x": x, "y": y})
            panels.append(panel)
            pid, x = pid + 1, x + w
        y += h
    return panels


def dashboard(uid, title, desc, variables, rows, tags):
    return {"uid": uid, "title": title, "description": desc, "tags": ["netpulse"] + tags,
            "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True,
            "graphTooltip": 1, "fiscalYearStartMonth": 0, "liveNow": False,
            "refresh": "10s", "time": {"from": "now-30m", "to": "now"}, "timepicker": {},
            "timezone": "utc", "weekStart": "",
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                      "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                      "name": "Annotations & Alerts", "type": "dashboard"}]},
            "links": [{"title": "netpulse", "type": "dashboards", "tags": ["netpulse"], "asDropdown": True,
                       "icon": "external link", "includeVars": True, "keepTime": True,
                       "targetBlank": False, "tooltip": "", "url": ""}],
            "templating": {"list": variables}, "panels": layout(rows)}


# ---- the three dashboards --------------------------------------------------------------

def traffic():
    w = 'netpulse_gateway_window_%s{' + NS + '}'
    rate = 'sum(rate(netpulse_worker_%s{' + NS + '}[$__rate_interval]))'
    rows = [
        [(stat("Records (latest pane)", "Records in the latest published 5 s pane window, all protocols.",
               "short", "sum(%s)" % (w % "records")), 6),
         (stat("Bytes (latest pane)", "Bytes in the latest published pane window.", "decbytes",
               "sum(%s)" % (w % "bytes")), 6),
         (stat("Packets (latest pane)", "Packets in the latest published pane window.", "short",
               "sum(%s)" % (w % "packets")), 6),
         (stat("Distinct sources (latest pane)", "Distinct source addresses in the latest pane window.",
               "short", "sum(%s)" % (w % "sources")), 6, 4)],
        [(timeseries("Records per window by protocol",
                     "Records of each published pane window by protocol (gauge of the latest window).",
                     "short", targets(("sum by (protocol) (%s)" % (w % "records"), "{{protocol}}")), stack=True), 12),
         (timeseries("Bytes per window", "Bytes of each published pane window.", "decbytes",
                     targets(("sum(%s)" % (w % "bytes"), "bytes"))), 12)],
        [(timeseries("Packets: forecast against actual",
                     "Packets of the latest pane window, and the forecast for the next pane (Holt's damped "
                     "trend). The forecast leads the actual by one pane.",
                     "short", targets(("sum(%s)" % (w % "packets"), "actual"),
                                      ("sum(netpulse_gateway_forecast_packets{%s})" % NS, "forecast"))), 12),
         (timeseries("Records consumed per second by topic",
                     "Records the workers read, per topic: a record not keyed by its source counts in "
                     "network-traffic and again in network-traffic-repartition.",
                     "rps", targets(("sum by (topic) (rate(netpulse_worker_records_consumed_total{%s}[$__rate_interval]))" % NS,
                                     "{{topic}}"))), 12)],
        [(timeseries("Late and dead-lettered records per second",
                     "Late records (their pane had closed: counted, dead-lettered) and every record sent to "
                     "network-traffic-dlq (late and invalid).",
                     "rps", targets((rate % "records_late_total", "late"),
                                    (rate % "dlq_records_total", "dead-lettered"))), 12),
         (timeseries("Invalid records per second by reason",
                     "Records that could not be used, by reason (each is dead-lettered with it).",
                     "rps", targets(("sum by (reason) (rate(netpulse_worker_records_invalid_total{%s}[$__rate_interval]))" % NS,
                                     "{{reason}}")), stack=True), 12)],
        [(timeseries("Event-time delay of the latest window",
                     "Wall clock minus the end of the latest published pane window (grows when replaying "
                     "old data or when the pipeline stalls).",
                     "s", targets(("time() - max(netpulse_gateway_window_end_timestamp_seconds{%s})" % NS, "delay"))), 12),
         (timeseries("Publish latency from pane close",
                     "Kafka commit time minus the pane's end (event time), quantiles over pane windows.",
                     "s", targets(*[("histogram_quantile(%s, sum by (le) (rate(netpulse_gateway_publish_latency_seconds_bucket{%s}[$__rate_interval])))" % (q, NS), "p%d" % round(float(q) * 100))
                                    for q in ("0.5", "0.99")])), 12)],
    ]
    return dashboard("netpulse-traffic", "netpulse / Traffic",
                     "Traffic volume per 5 s window, by protocol, forecast against actual, late and dead-letter rates.",
                     [var_datasource(), var_namespace()], rows, ["traffic"])


def anomalies():
    inc = "increase(netpulse_coordinator_anomalies_total{%s}[$__rate_interval])" % NS
    recent = ("max by (rank, kind, severity, entity, explanation) "
              "(netpulse_gateway_recent_anomaly_info{%s}) * 1000" % NS)
    rows = [
        [(stat("Anomalies in range", "Anomalies raised by the coordinator's detectors in the selected time range.",
               "short", "sum(increase(netpulse_coordinator_anomalies_total{%s}[$__range]))" % NS), 8, 4),
         (stat("Kinds seen in range", "How many detector kinds raised something in the selected range.",
               "short", "count(sum by (kind) (increase(netpulse_coordinator_anomalies_total{%s}[$__range])) > 0)" % NS), 8),
         (stat("Latest anomaly window end", "Event time of the most recent anomaly's window.",
               "dateTimeAsIso", "max(netpulse_gateway_recent_anomaly_info{%s}) * 1000" % NS), 8)],
        [(timeseries("Anomalies by kind", "New anomalies per kind (increase of netpulse_coordinator_anomalies_total).",
                     "short", targets(("sum by (kind) (%s)" % inc, "{{kind}}")), stack=True, bars=True), 12),
         (timeseries("Anomalies by severity", "New anomalies per severity (info 1x, warning 1.5x, critical 3x the alert level).",
                     "short", targets(("sum by (severity) (%s)" % inc, "{{severity}}")), stack=True, bars=True), 12)],
        [(table("Recent anomalies", "The 10 most recent anomalies the gateway published, with the detector's "
                "explanation (netpulse_gateway_recent_anomaly_info; value = the anomaly window's end).",
                "dateTimeAsIso", recent,
                [{"id": "convertFieldType", "options": {"fields": {}, "conversions": [
                    {"targetField": "rank", "destinationType": "number"}]}},
                 organize(["Time"], {"Value": "window end", "rank": "#"},
                          ["rank", "Value", "severity", "kind", "entity", "explanation"])], "#"), 24, 10)],
    ]
    return dashboard("netpulse-anomalies", "netpulse / Anomalies",
                     "Anomalies by kind and severity over time, and the latest ones with their explanations.",
                     [var_datasource(), var_namespace()], rows, ["anomalies"])


def fleet():
    rows = [
        [(timeseries("Throughput per worker", "Input records (network-traffic) consumed per second, per worker; "
                     "re-keyed records are read again from the repartition topic (Traffic: consumed by topic).", "rps",
                     targets(("sum by (pod) (rate(netpulse_worker_records_consumed_total{%s, topic=\"network-traffic\"}[$__rate_interval]))" % NSPOD, "{{pod}}")),
                     stack=True), 12),
         (timeseries("Consumer lag per worker", "Records behind the high watermark, summed over each worker's "
                     "owned partitions, per topic.", "short",
                     targets(("sum by (pod, topic) (netpulse_worker_consumer_lag_records{%s})" % NSPOD, "{{pod}} {{topic}}"))), 12)],
        [(timeseries("Partitions owned", "Input partitions assigned to each worker (range assignor).", "short",
                     targets(("sum by (pod) (netpulse_worker_assigned_partitions{%s})" % NSPOD, "{{pod}}")), stack=True), 8),
         (timeseries("Rebalances", "Consumer-group rebalances each worker took part in.", "short",
                     targets(("sum by (pod) (increase(netpulse_worker_rebalances_total{%s}[$__rate_interval]))" % NSPOD, "{{pod}}")),
                     bars=True), 8),
         (timeseries("Restarts", "Process restarts in the range (changes of process_start_time_seconds), every process.",
                     "short", targets(("sum by (pod) (changes(process_start_time_seconds{%s}[$__range]))" % NSPOD, "{{pod}}"))), 8)],
        [(timeseries("Checkpoint latency", "Time to write one partition checkpoint to Redis (p50, p99 per worker).", "s",
                     targets(*[("histogram_quantile(%s, sum by (pod, le) (rate(netpulse_worker_checkpoint_duration_seconds_bucket{%s}[$__rate_interval])))" % (q, NSPOD),
                                "{{pod}} p%s" % p) for q, p in (("0.5", "50"), ("0.99", "99"))])), 12),
         (timeseries("State memory", "Bytes of pane state per worker, and each process's resident memory.", "bytes",
                     targets(("sum by (pod) (netpulse_worker_state_bytes{%s})" % NSPOD, "{{pod}} state"),
                             ("sum by (pod) (process_resident_memory_bytes{%s})" % NSPOD, "{{pod}} RSS"))), 12)],
        [(timeseries("Coordinator: merge and finalize latency", "p99 of merging one partial (including its Redis "
                     "write) and of one finalize step (detectors, results, the Redis transaction).", "s",
                     targets(("histogram_quantile(0.99, sum by (le) (rate(netpulse_coordinator_merge_duration_seconds_bucket{%s}[$__rate_interval])))" % NS, "merge p99"),
                             ("histogram_quantile(0.99, sum by (le) (rate(netpulse_coordinator_finalize_duration_seconds_bucket{%s}[$__rate_interval])))" % NS, "finalize p99"))), 8),
         (timeseries("Coordinator: partitions the oldest pane waits for", "How many partitions the oldest pane not yet "
                     "final still lacks (0 when nothing waits); long non-zero stretches mean a stuck partition.", "short",
                     targets(("max(netpulse_coordinator_waiting_partitions{%s})" % NS, "waiting"))), 8),
         (timeseries("Watermarks behind the wall clock", "Wall clock minus the coordinator's global watermark and "
                     "complete-through time, and minus each worker's view of the global watermark.", "s",
                     targets(("time() - max(netpulse_coordinator_global_watermark_seconds{%s})" % NS, "global watermark"),
                             ("time() - max(netpulse_coordinator_complete_through_seconds{%s})" % NS, "complete through"),
                             ("time() - max by (pod) (netpulse_worker_global_watermark_seconds{%s})" % NSPOD, "{{pod}}"))), 8)],
        [(timeseries("Errors per second", "Checkpoint failures (workers), persist failures and conflicting "
                     "partials (coordinator: a pane's copy with records the merged one lacks, which are lost; "
                     "log event partial_conflicting) and publish errors (gateway).", "rps",
                     targets(("sum by (pod) (rate(netpulse_worker_checkpoint_errors_total{%s}[$__rate_interval]))" % NSPOD, "{{pod}} checkpoint"),
                             ("sum(rate(netpulse_coordinator_persist_errors_total{%s}[$__rate_interval]))" % NS, "coordinator persist"),
                             ("sum(rate(netpulse_coordinator_partials_conflicting_total{%s}[$__rate_interval]))" % NS, "coordinator conflicting partials"),
                             ("sum(rate(netpulse_gateway_publish_errors_total{%s}[$__rate_interval]))" % NS, "gateway publish"))), 12),
         (table("Processes", "Every scraped process of the selected pods: its kind and version.", "short",
                'max by (pod, proc, version) (netpulse_build_info{%s})' % NSPOD,
                [organize(["Time", "Value"], {}, ["pod", "proc", "version"])], "pod"), 12)],
    ]
    return dashboard("netpulse-fleet", "netpulse / Fleet",
                     "Per worker: throughput, lag, partitions owned, rebalances, restarts, checkpoint latency, "
                     "state memory; the coordinator's latency, waiting and watermarks; errors.",
                     [var_datasource(), var_namespace(), var_pod()], rows, ["fleet"])


def render(d):
    return json.dumps(d, indent=2, ensure_ascii=False) + "\n"


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dashboards")
    check = "--check" in sys.argv[1:]
    stale = []
    for name, fn in (("traffic", traffic), ("anomalies", anomalies), ("fleet", fleet)):
        path = os.path.join(out_dir, name + ".json")
        text = render(fn())
        if check:
            old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
            if old != text:
                stale.append(path)
        else:
            os.makedirs(out_dir, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    if stale:
        print("out of date (run python3 grafana/dashboards.py):", *stale, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
