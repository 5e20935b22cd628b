#!/usr/bin/env bash
# 0210-kube-play: the Helm chart's workloads run as containers, from the image built here.
#
# infra/images.sh builds netpulse:<version> with podman (cached after the first run); the
# chart is rendered with host networking (tests/helm: loopback only, ports chosen here, HTTP
# port 0 = each replica picks one) against this test's Kafka and Redis; `podman kube play`
# runs the coordinator, gateway and worker Deployments (restricted securityContext,
# read-only root fs, uid 10001, memory limits).
#   1. one worker owns all 12 input partitions while a 35 s stream flows;
#   2. the worker Deployment is played again with 3 replicas mid-stream (the single worker
#      stops on SIGTERM first, exit 0): each replica owns 4 input partitions;
#   3. windows equal the oracle's (nothing lost or doubled across the switch);
#   4. SIGTERM to a worker container (podman stop): exit 0 well within the chart's
#      terminationGracePeriodSeconds, and again with Kafka unreachable.
# Everything podman started is removed in the EXIT trap (kube down, pod rm).
source "$(dirname "$0")/lib.sh"
it_setup 0210-kube-play
export CONTAINERS_CONF="$IT_ROOT/infra/podman/containers.conf"

REL="it$$"
CHART="$IT_ROOT/helm/netpulse"
KP_FILES=()

kube_teardown() {
    local f ids
    for f in "${KP_FILES[@]}"; do podman kube down "$f" >/dev/null 2>&1; done
    ids="$(podman pod ls -q --filter "name=^$REL-netpulse-" 2>/dev/null)"
    [[ -n "$ids" ]] && podman pod rm -f -t 5 $ids >/dev/null 2>&1
    return 0
}
trap 'rc=$?; kube_teardown; (exit $rc); it_cleanup' EXIT

HELM="$("$IT_ROOT/infra/helm.sh")" || exit 1
t0=$SECONDS
IMAGE="$("$IT_ROOT/infra/images.sh" --quiet 2>"$IT_DIR/images.log")" || { cat "$IT_DIR/images.log" >&2; exit 1; }
np_info "image $IMAGE ready in $((SECONDS - t0)) s"
it_start_infra 12 || exit 1
read -r COORD_PORT GW_PORT < <(np_free_port 2 | tr '\n' ' ')

# render REPLICAS FILE: the three Deployments, host network, this test's Kafka and Redis.
render() {
    python3 - "$IT_DIR/values.json" <<EOF
import json, sys
json.dump({
  "hostNetwork": True,
  "image": {"repository": "localhost/${IMAGE%%:*}", "tag": "${IMAGE##*:}", "pullPolicy": "Never"},
  "ports": {"http": 0, "coordinator": $COORD_PORT, "gateway": $GW_PORT},
  "bind": {"http": "127.0.0.1", "zmq": "127.0.0.1"},
  "config": {"pane.ms": 5000, "views": """$NETPULSE_VIEWS"""},
  "kafka": {"bootstrapServers": "$BOOTSTRAP"},
  "redis": {"mode": "external", "host": "127.0.0.1", "port": $REDIS_PORT},
  "worker": {"replicas": $1, "coordinatorEndpoint": "tcp://127.0.0.1:$COORD_PORT",
             "config": {"idle.ms": 3000, "checkpoint.ms": 500,
                        "log.level": "info"}},
  "coordinator": {"gatewayEndpoint": "tcp://127.0.0.1:$GW_PORT", "config": {"window.ms": $IT_WINDOW_MS}},
}, open(sys.argv[1], "w"))
EOF
    "$HELM" template "$REL" "$CHART" -f "$IT_DIR/values.json" --show-only "templates/$3-deployment.yaml" \
        >"$2" 2>>"$IT_DIR/helm.log"
}
# play FILE: podman kube play on the host network.
play() {
    KP_FILES+=("$1")
    podman kube play --network host "$1" >>"$IT_DIR/podman.log" 2>&1
}
# port_of NAME CONTAINER: the HTTP port CONTAINER's process logged, into $IT_DIR/NAME.port
# (where it_metric and it_wait_assigned read it).
port_of() {
    _logged_port() {
        podman logs "$2" 2>&1 | sed -n 's/.*event=http_listening .*port=\([0-9]*\).*/\1/p' | tail -n1 >"$IT_DIR/$1.port.tmp" &&
            [[ -s "$IT_DIR/$1.port.tmp" ]] && mv "$IT_DIR/$1.port.tmp" "$IT_DIR/$1.port"
    }
    np_wait_for -t 60 -i 0.5 -m "$2's HTTP port" _logged_port "$@"
}
container() { echo "$REL-netpulse-$1-pod-$2-$1"; }
grace="$(sed -n 's/^ *terminationGracePeriodSeconds: *//p' "$CHART/values.yaml" | head -n1)"

for c in gateway coordinator; do
    it_check "render $c" render 1 "$IT_DIR/$c.yaml" "$c"
    it_check "kube play $c" play "$IT_DIR/$c.yaml"
    port_of "$c" "$(container "$c" 0)"
done
it_check "render worker x1" render 1 "$IT_DIR/worker1.yaml" worker
it_check "kube play worker x1" play "$IT_DIR/worker1.yaml"
port_of w0 "$(container worker 0)"
IT_WORKERS=(w0)
it_check "the one worker owns all 12 input partitions" it_wait_assigned 12
it_check "containers run as uid 10001 with a read-only root fs" \
    test "$(podman inspect "$(container worker 0)" --format '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}')" == "10001:10001 true"

T0=$(it_t0)
# ~35 s of event time at wall speed, 3000 records/s.
it_start generator "$IT_BIN/netpulse-generator" --brokers "$BOOTSTRAP" --rate 3000 --count 105000 --speedup 1 \
    --seed 41 --sources 2000 --start-ms "$T0"
consuming() { [[ "$(it_metric w0 netpulse_worker_records_consumed_total)" -gt 0 ]]; }
it_check "the worker container consumes" np_wait_for -t 20 -i 0.5 consuming
sleep 6

# Three replicas: the single worker leaves first (SIGTERM, exit 0), then three pods start.
np_info "worker Deployment: 1 -> 3 replicas"
it_check "worker x1 stops on SIGTERM with exit 0" \
    bash -c "podman stop -t $grace $(container worker 0) >/dev/null && test \"\$(podman inspect $(container worker 0) --format '{{.State.ExitCode}}')\" -eq 0"
podman kube down "$IT_DIR/worker1.yaml" >>"$IT_DIR/podman.log" 2>&1
it_check "render worker x3" render 3 "$IT_DIR/worker3.yaml" worker
it_check "kube play worker x3" play "$IT_DIR/worker3.yaml"
IT_WORKERS=()
for i in 0 1 2; do
    port_of "w$i" "$(container worker $i)"
    IT_WORKERS+=("w$i")
done
owners_ok() {
    local n v
    for n in w0 w1 w2; do
        v="$(it_metric "$n" netpulse_worker_assigned_partitions)"
        [[ "${v:-0}" -eq 4 ]] || return 1
    done
}
it_check "each of the three replicas owns 4 input partitions" np_wait_for -t 30 -i 0.5 owners_ok
it_check "the three replicas own all 12 partitions" it_wait_assigned 12

it_check "generator delivered everything" it_wait_exit generator 90
it_check "windows published through the end of the data" it_wait_windows_through $((T0 + 35000))
it_check "windows equal the oracle's, no duplicates, nothing lost" it_oracle
it_check "nothing dead-lettered" test "$(wc -l <"$IT_DIR/dlq.jsonl")" -eq 0
published_all() {
    local p e
    p="$(it_metric gateway netpulse_gateway_results_published_total)"
    e="$(it_metric coordinator netpulse_coordinator_results_emitted_total)"
    [[ -n "$p" && "$p" -gt 0 && "$p" == "$e" ]]
}
it_check "gateway published what the coordinator emitted" np_wait_for -t 15 -i 0.2 published_all

# stop_within NAME LIMIT_S: podman stop (SIGTERM, SIGKILL only after the grace period);
# exit code 0 and stopped within LIMIT_S.
stop_within() {
    local c="$1" limit="$2" start ms rc
    start=$(date +%s%N)
    podman stop -t "$grace" "$c" >/dev/null 2>&1
    ms=$(np_ms_since "$start")
    rc="$(podman inspect "$c" --format '{{.State.ExitCode}}')"
    podman logs "$c" >"$IT_DIR/$c.log" 2>&1 # kept with the test's logs when it fails
    np_info "$c stopped in $ms ms, exit code $rc (grace period ${grace} s)"
    [[ "$rc" == 0 && $ms -lt $((limit * 1000)) ]]
}
it_check "a worker stops on SIGTERM with exit 0 within 10 s" stop_within "$(container worker 1)" 10
# Its stop commits the safe offsets (np_kafka_commit_bounded): with the broker up that commit
# is answered, not given up after 3 s (which the 10 s above would not notice).
commit_answered() { ! sed -n '/event=stopping/,$p' "$IT_DIR/$(container worker 1).log" | grep -q event=commit_failed; }
it_check "  ... and its stop's commit was answered" commit_answered
"$IT_ROOT/infra/kafka.sh" stop "$IT_DIR/kafka" >/dev/null 2>&1
# A commit waits at most 3 s for the unreachable group coordinator, and the consumer's close
# at most session.timeout.ms (10 s): 20 s leaves room for a loaded machine.
it_check "with Kafka unreachable a worker still stops cleanly within 20 s" \
    stop_within "$(container worker 2)" 20
it_finish
