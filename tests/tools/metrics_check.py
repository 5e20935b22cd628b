#!/usr/bin/env python3
"""Checks for tests/integration/0100-metrics.sh: parses Prometheus text expositions and
compares what they say with the results in processed-data (kcat -J lines).

  metrics_check.py window GATEWAY_METRICS RESULTS_JSONL
      the gateway's latest-window gauges equal the pane window with that window_end
  metrics_check.py latest GATEWAY_METRICS RESULTS_JSONL
      the gauges show the newest pane window in RESULTS_JSONL (taken before the metrics)
  metrics_check.py anomalies GATEWAY_METRICS RESULTS_JSONL
      every recent_anomaly_info series is an anomaly published, newest first, at most 10
  metrics_check.py panes RESULTS_JSONL
      prints how many pane windows (window_ms 5000) were published
  metrics_check.py lag WORKER_METRICS REGISTRY_JSON INPUT_TOPIC REPARTITION_TOPIC PARTITIONS
      one lag series per owned slot (as the fleet registry lists them), none other, all 0
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), v)


def samples(path):
    out = []
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit(f'unparsable sample line: {line!r}')
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(3) or '')}
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def one(ss, name, **want):
    vals = [v for n, l, v in ss if n == name and all(l.get(k) == x for k, x in want.items())]
    if len(vals) != 1:
        sys.exit(f'{name}{want}: {len(vals)} series, want 1')
    return vals[0]


def results(path, typ):
    out = []
    for line in open(path, encoding='utf-8'):
        rec = json.loads(line)
        if rec.get('payload'):
            v = json.loads(rec['payload'])
            if v.get('type') == typ:
                out.append(v)
    return out


def gauges_window(ss):
    return {
        'window_end': round(one(ss, 'netpulse_gateway_window_end_timestamp_seconds') * 1000),
        'records': {p: int(one(ss, 'netpulse_gateway_window_records', protocol=p)) for p in ('tcp', 'udp', 'icmp', 'other')},
        'bytes': int(one(ss, 'netpulse_gateway_window_bytes')),
        'packets': int(one(ss, 'netpulse_gateway_window_packets')),
        'sources': int(one(ss, 'netpulse_gateway_window_sources')),
    }


def check_window(mpath, rpath):
    g = gauges_window(samples(mpath))
    panes = [w for w in results(rpath, 'window') if w['window_ms'] == 5000 and w['window_end'] == g['window_end']]
    if len(panes) != 1:
        sys.exit(f'pane window ending {g["window_end"]}: {len(panes)} in processed-data')
    w = panes[0]
    want = {'window_end': w['window_end'], 'records': w['protocols'], 'bytes': w['bytes'], 'packets': w['packets'],
            'sources': w['sources']}
    if g != want:
        sys.exit(f'gauges {g} != published {want}')
    if sum(w['protocols'].values()) != w['records'] or w['records'] == 0:
        sys.exit(f'window {w["id"]} has no records or protocols do not add up')
    print(f'gauges match {w["id"]}: records={w["records"]} bytes={w["bytes"]} sources={w["sources"]}')


def check_latest(mpath, rpath):
    g = gauges_window(samples(mpath))
    newest = max(w['window_end'] for w in results(rpath, 'window') if w['window_ms'] == 5000)
    if g['window_end'] < newest:
        sys.exit(f'gauges show window_end {g["window_end"]}, processed-data already has {newest}')
    print(f'gauges show the newest pane window (window_end {g["window_end"]}, newest read {newest})')


def check_anomalies(mpath, rpath):
    ss = samples(mpath)
    info = sorted(((int(l['rank']), l, v) for n, l, v in ss if n == 'netpulse_gateway_recent_anomaly_info'),
                  key=lambda t: t[0])
    published = results(rpath, 'anomaly')
    if not published:
        sys.exit('no anomaly in processed-data')
    if len(info) != min(10, len(published)):
        sys.exit(f'{len(info)} recent_anomaly_info series for {len(published)} anomalies published')
    if [r for r, _, _ in info] != list(range(1, len(info) + 1)):
        sys.exit(f'ranks {[r for r, _, _ in info]}')
    keyed = {(a['kind'], a['severity'], a['entity'], a['explanation'], a['window_end']) for a in published}
    for r, l, v in info:
        k = (l['kind'], l['severity'], l['entity'], l['explanation'], round(v * 1000))
        if k not in keyed:
            sys.exit(f'rank {r}: {k} is not an anomaly in processed-data')
    ends = [round(v * 1000) for _, _, v in info]
    if ends != sorted(ends, reverse=True):
        sys.exit(f'not newest first: {ends}')
    # processed-data has several partitions, so "newest" is by window_end, not read order.
    newest = max(a['window_end'] for a in published)
    if ends[0] != newest:
        sys.exit(f'rank 1 ends at {ends[0]}, the newest anomaly at {newest}')
    print(f'{len(info)} recent anomalies of {len(published)}, rank 1 = {info[0][1]["kind"]} {info[0][1]["entity"]}')


def check_lag(mpath, regpath, topic, rtopic, nparts):
    nparts = int(nparts)
    reg = json.load(open(regpath))
    owned = set(reg['partitions'])
    seen = {}
    for n, l, v in samples(mpath):
        if n != 'netpulse_worker_consumer_lag_records':
            continue
        p = int(l['partition'])
        slot = p if l['topic'] == topic else nparts + p if l['topic'] == rtopic else None
        if slot is None or slot in seen:
            sys.exit(f'unexpected lag series {l}')
        seen[slot] = v
    if set(seen) != owned:
        sys.exit(f'lag series for slots {sorted(seen)}, registry says {sorted(owned)}')
    if any(v != 0 for v in seen.values()) or reg.get('lag') != 0:
        sys.exit(f'lag not 0 after catching up: {seen}, registry lag {reg.get("lag")}')
    if not isinstance(reg.get('records_per_s'), (int, float)):
        sys.exit(f'registry value lacks records_per_s: {reg}')
    print(f'lag series for {len(seen)} owned slots, all 0')


def count_panes(rpath):
    print(sum(1 for w in results(rpath, 'window') if w['window_ms'] == 5000))


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'window': check_window, 'latest': check_latest, 'anomalies': check_anomalies, 'lag': check_lag, 'panes': count_panes}[cmd](*args)
