#!/usr/bin/env bash
# 0120-web: the gateway's live page in a real browser (Debian's Chromium, driven by
# playwright-core from tests/web, installed with `npm ci`), and its JSON API against Kafka.
#
# A cluster of two workers runs with the gateway reading the worker registry in Redis. The
# page is opened first (tests/web/page.test.mjs); only then do the workers start and the
# generator send a labelled DDoS scenario (5 min of baseline, then a 60 s DDoS fan-in, in
# compressed time), so everything the page shows arrives over its event stream. The page
# must show the window totals (as the API's latest window), then new ones; a chart; the two
# workers healthy with their partitions; and the DDoS anomaly that the cluster published to
# processed-data, with exactly its explanation. Then: every window /api/windows serves is
# equal to the one in processed-data, /api/anomalies holds the anomaly, and the
# gateway stops within a few seconds with an event stream open. A screenshot of the page is
# kept in the test dir (live-page.png, which is removed when the test passes unless IT_KEEP
# is set) and copied to $NP_ARTIFACT_DIR (default: BUILD_DIR/test-artifacts) as
# 0120-live-page.png, passed or not.
source "$(dirname "$0")/lib.sh"
it_setup 0120-web
IT_KEEP_PNG="$IT_DIR/live-page.png"

command -v node >/dev/null && command -v npm >/dev/null || { np_warn "node and npm are needed (infra/deps.sh)"; exit 1; }
[[ -x "${NP_CHROMIUM:-/usr/bin/chromium}" ]] || { np_warn "chromium is needed (infra/deps.sh)"; exit 1; }
"$IT_ROOT/tests/web/install.sh" >"$IT_DIR/npm.log" 2>&1 || { cat "$IT_DIR/npm.log" >&2; exit 1; }

it_start_infra 12 || exit 1
export NETPULSE_REDIS_PORT="$REDIS_PORT" # the gateway's fleet (workers and coordinator get the flag anyway)
export NETPULSE_LIVE_SSE_CLIENTS=2        # so that the test can reach the bound
# The gateway and coordinator first, the workers only once the page is open and right
# before the generator: with the workers first and idle.ms 3 s, the seconds Chromium takes
# made every partition idle before the first record, and a partition whose first records
# came a little after the others' (at 15x, 2 s of lateness is 133 ms) followed the global
# watermark they moved and had them dead-lettered as late. idle.ms 20 s keeps every
# partition active from its assignment to its first records; the end of the run waits
# that much longer for the last panes.
it_start_control
GW="http://127.0.0.1:$(it_http_port gateway)"
np_info "live page at $GW/"

copy_artefact() {
    local dir="${NP_ARTIFACT_DIR:-$IT_BIN/test-artifacts}"
    [[ -s "$IT_KEEP_PNG" ]] || return 0
    mkdir -p "$dir" && cp "$IT_KEEP_PNG" "$dir/0120-live-page.png" && np_info "screenshot: $dir/0120-live-page.png"
}

it_start page node "$IT_ROOT/tests/web/page.test.mjs" --url "$GW/" --dir "$IT_DIR" --workers 2 \
    --expect-file "$IT_DIR/expected-anomaly.json" --screenshot "$IT_KEEP_PNG" --timeout-s 150
it_check "the page loads and its event stream connects" np_wait_for -t 60 test -e "$IT_DIR/page-ready"
it_start_workers 2 --idle-ms 20000 || exit 1

T0=$(it_t0)
"$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 200 --speedup 15 --scenario ddos --seed 3 \
    --scenario-warmup-s 300 --start-ms "$T0" --truth "$IT_DIR/truth.jsonl" 2>"$IT_DIR/generator.log" \
    || { tail "$IT_DIR/generator.log"; exit 1; }
RUN_END="$(python3 -c 'import json,sys; print(next(json.loads(l)["end"] for l in open(sys.argv[1]) if "\"run\"" in l))' "$IT_DIR/truth.jsonl")"
it_check "windows published through the end of the run" it_wait_windows_through "$RUN_END" 180

# The injected DDoS as the cluster published it: the page must show this id and explanation.
kcat -b "$BOOTSTRAP" -C -t processed-data -e -q -X isolation.level=read_committed -f '%s\n' >"$IT_DIR/results.jsonl"
pick_anomaly() {
    python3 - "$IT_DIR/truth.jsonl" "$IT_DIR/results.jsonl" "$IT_DIR/expected-anomaly.json" <<'PY'
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
ev = next(t for t in truth if t.get("kind") == "ddos")
hits = [r for r in map(json.loads, open(sys.argv[2]))
        if r["type"] == "anomaly" and r["kind"] == "ddos" and r["entity"] == ev["entity"]]
print(f"truth: ddos on {ev['entity']}; {len(hits)} ddos anomalies on it in processed-data")
if not hits: sys.exit(1)
a = hits[-1]   # the most recent: the page keeps the latest anomalies
json.dump({"id": a["id"], "explanation": a["explanation"]}, open(sys.argv[3] + ".tmp", "w"))
PY
}
it_check "the injected DDoS is in processed-data" pick_anomaly
mv "$IT_DIR/expected-anomaly.json.tmp" "$IT_DIR/expected-anomaly.json" 2>/dev/null

it_check "the browser test passes (totals appear and change, chart, fleet, the anomaly with its explanation)" \
    it_wait_exit page 240
grep '^\[page' "$IT_DIR/page.log" >&2
copy_artefact
it_check "a screenshot was taken" test -s "$IT_KEEP_PNG"

api_matches_kafka() {
    curl -sf "$GW/api/windows" >"$IT_DIR/api-windows.json" && curl -sf "$GW/api/anomalies" >"$IT_DIR/api-anomalies.json" \
        && curl -sf "$GW/api/fleet" >"$IT_DIR/api-fleet.json" || return 1
    python3 - "$IT_DIR/results.jsonl" "$IT_DIR/api-windows.json" "$IT_DIR/api-anomalies.json" \
        "$IT_DIR/expected-anomaly.json" "$IT_DIR/api-fleet.json" <<'PY'
import json, sys
kafka = {}
for l in open(sys.argv[1]):
    kafka[json.loads(l)["id"]] = l.rstrip("\n")
api = json.load(open(sys.argv[2]))
wins = api["windows"]
bad = [w["id"] for w in wins if w["id"] not in kafka or json.loads(kafka[w["id"]]) != w]
panes = all(w["window_ms"] == api["pane_ms"] == 5000 for w in wins)
ordered = all(a["window_end"] < b["window_end"] for a, b in zip(wins, wins[1:]))
want = json.load(open(sys.argv[4]))["id"]
anoms = [a["id"] for a in json.load(open(sys.argv[3]))["anomalies"]]
fleet = json.load(open(sys.argv[5]))
parts = sorted(p for w in fleet["workers"] for p in (w["heartbeat"] or {}).get("partitions", []))
print(f"/api/windows: {len(wins)} pane windows, {len(bad)} not as in processed-data, ordered={ordered}; "
      f"/api/anomalies: {len(anoms)} incl. the DDoS: {want in anoms}; fleet: {len(fleet['workers'])} workers, partitions {parts}")
sys.exit(0 if wins and not bad and panes and ordered and want in anoms and len(fleet["workers"]) == 2
         and parts == list(range(24)) else 1)   # 12 input + 12 repartition slots, each once
PY
}
it_check "the API serves what is in processed-data (windows, anomaly, fleet)" api_matches_kafka
it_check "since= filters windows" python3 -c '
import json, sys, urllib.request
u = sys.argv[1] + "/api/windows"
all_ = json.load(urllib.request.urlopen(u))["windows"]
cut = all_[len(all_) // 2]["window_end"]
some = json.load(urllib.request.urlopen(u + "?since=%d" % cut))["windows"]
print(len(all_), "windows,", len(some), "after", cut)
sys.exit(0 if some and all(w["window_end"] > cut for w in some) and len(some) == len([w for w in all_ if w["window_end"] > cut]) else 1)' "$GW"
it_check "the API is read-only (POST answers 405)" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$GW/api/windows")" = 405

# Event streams are bounded (live.sse.clients = 2 here), and shutdown is bounded with them open.
sse_clients() { curl -sf "$GW/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sse_clients"])'; }
sse_clients_are() { [[ "$(sse_clients)" == "$1" ]]; }
it_check "the browser's event stream was released" np_wait_for -t 15 sse_clients_are 0
curl -sN "$GW/api/events" >"$IT_DIR/sse.txt" 2>/dev/null &
SSE_PID=$!
curl -sN "$GW/api/events" >/dev/null 2>&1 &
SSE_PID2=$!
it_check "two event streams open" np_wait_for -t 10 sse_clients_are 2
it_check "a third event stream is refused (503)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$GW/api/events")" = 503
t_stop=$(date +%s%N)
it_stop gateway TERM
stop_ms=$((($(date +%s%N) - t_stop) / 1000000))
wait "$SSE_PID" "$SSE_PID2" 2>/dev/null
it_check "the event stream said hello" grep -q '^event: hello' "$IT_DIR/sse.txt"
it_check "the gateway stopped in ${stop_ms} ms with two streams open (< 5000)" test "$stop_ms" -lt 5000
it_finish
