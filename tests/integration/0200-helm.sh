#!/usr/bin/env bash
# 0200-helm: the Helm chart helm/netpulse, without a cluster.
#
#   helm lint --strict (defaults and every values file);
#   helm template with tests/helm/values/*.yaml (defaults, KEDA + SASL_SSL, HPA, external and
#   bundled Redis, SCRAM + topic Job, operator objects) -> every object validated against the
#   Kubernetes, KEDA and prometheus-operator schemas, and the chart's invariants asserted
#   (tests/helm/validate.mjs: non-root, read-only root fs, drop ALL, seccomp, probes,
#   resources, replica bound, one coordinator, no secret inlined, dashboards/rules from files);
#   the validator itself must reject a tampered rendering;
#   every tests/helm/values/bad/*.yaml must fail to render with the message its first line names.
# Needs: helm (infra/helm.sh builds it once), node + npm (npm ci in tests/helm).
source "$(dirname "$0")/lib.sh"
it_setup 0200-helm

HELM="$("$IT_ROOT/infra/helm.sh")" || { np_warn "no helm"; exit 1; }
CHART="$IT_ROOT/helm/netpulse"
VALUES="$IT_ROOT/tests/helm/values"
(cd "$IT_ROOT/tests/helm" && npm ci --no-audit --no-fund --loglevel=error >"$IT_DIR/npm.log" 2>&1) \
    || { cat "$IT_DIR/npm.log" >&2; exit 1; }

# render NAME [helm flags...]: helm template into $IT_DIR/NAME.yaml (symlink notices dropped).
render() {
    local name="$1"
    shift
    "$HELM" template np "$CHART" --namespace netpulse "$@" >"$IT_DIR/$name.yaml" 2>"$IT_DIR/$name.err"
}
validate() {
    local name="$1"
    shift
    node "$IT_ROOT/tests/helm/validate.mjs" "$IT_DIR/$name.yaml" --repo "$IT_ROOT" "$@" | tee "$IT_DIR/$name.check" >&2
    return "${PIPESTATUS[0]}"
}

# lint [helm flags...]; Helm's notices about the chart's symlinks go to the log.
lint() { "$HELM" lint --strict --quiet "$CHART" "$@" 2>>"$IT_DIR/lint.log" >&2; }
it_check "helm lint --strict (defaults)" lint
for f in "$VALUES"/*.yaml; do
    it_check "helm lint --strict ($(basename "$f" .yaml))" lint -f "$f"
done

# name, helm flags, validate flags (expected object counts prove each feature renders)
it_check "render defaults" render defaults
it_check "defaults: schemas + invariants" validate defaults --partitions 12 \
    --expect Deployment=3 --expect StatefulSet=1 --expect Service=4 --expect NetworkPolicy=4 \
    --expect PodDisruptionBudget=3 --expect ScaledObject=0 --expect HorizontalPodAutoscaler=0
it_check "render keda" render keda -f "$VALUES/keda.yaml"
it_check "keda: schemas + invariants" validate keda --partitions 12 \
    --expect ScaledObject=1 --expect TriggerAuthentication=1 --expect HorizontalPodAutoscaler=0
it_check "keda: SASL credentials by reference" grep -q 'sasl.password=$(NP_KAFKA_SASL_PASSWORD)' "$IT_DIR/keda.yaml"
it_check "render hpa" render hpa -f "$VALUES/hpa.yaml"
it_check "hpa: schemas + invariants" validate hpa --partitions 24 --expect HorizontalPodAutoscaler=1 --expect ScaledObject=0
it_check "render external redis" render external-redis -f "$VALUES/external-redis.yaml"
it_check "external redis: schemas + invariants" validate external-redis --partitions 12 \
    --expect StatefulSet=0 --expect NetworkPolicy=3
it_check "external redis: host and password Secret wired" \
    grep -q 'redis.example.internal' "$IT_DIR/external-redis.yaml"
it_check "external redis: NETPULSE_REDIS_PASSWORD from the Secret" \
    grep -A3 'name: NETPULSE_REDIS_PASSWORD' "$IT_DIR/external-redis.yaml" -q
it_check "render bundled redis" render bundled-redis -f "$VALUES/bundled-redis.yaml"
it_check "bundled redis: schemas + invariants" validate bundled-redis --partitions 12 --expect StatefulSet=1
it_check "render sasl" render sasl -f "$VALUES/sasl.yaml"
it_check "sasl: schemas + invariants" validate sasl --partitions 12 --expect Job=1
it_check "sasl: SCRAM-SHA-512 over SASL_SSL" \
    grep -q 'security.protocol=SASL_SSL;sasl.mechanisms=SCRAM-SHA-512' "$IT_DIR/sasl.yaml"
it_check "render ingest" render ingest -f "$VALUES/ingest.yaml"
it_check "ingest: schemas + invariants" validate ingest --partitions 12 --expect Deployment=4 --expect Service=5
ingest_objects() {
    (cd "$IT_ROOT/tests/helm" && node --input-type=module -e '
import fs from "node:fs";
import YAML from "yaml";
const docs = YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean);
const svc = docs.find((d) => d.kind === "Service" && d.metadata.name.endsWith("-ingest"));
const dep = docs.find((d) => d.kind === "Deployment" && d.metadata.name.endsWith("-ingest"));
const udp = svc.spec.ports.filter((p) => p.protocol === "UDP").map((p) => p.port).sort().join(",");
const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
const ok = udp === "6343,9995" && svc.spec.externalTrafficPolicy === "Local" && dep.spec.replicas === 2 &&
    env.NETPULSE_NETFLOW_PORT === "9995" && env.NETPULSE_THREADS === "2";
process.exit(ok ? 0 : 1);' "$IT_DIR/ingest.yaml")
}
it_check "ingest: UDP Service for NetFlow (9995) and sFlow (6343), source addresses kept" ingest_objects
it_check "render operator objects" render operator -f "$VALUES/operator.yaml"
ndash=$(find "$IT_ROOT/grafana/dashboards" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l)
it_check "operator: schemas + invariants ($ndash dashboards)" validate operator --partitions 12 \
    --expect ServiceMonitor=1 --expect PrometheusRule=1 --expect ConfigMap="$ndash"
it_check "render security (CURVE, token, HTTPS)" render security -f "$VALUES/security.yaml"
it_check "security: schemas + invariants" validate security --partitions 12 --expect ServiceMonitor=1 --expect Secret=0
security_wired() {
    (cd "$IT_ROOT/tests/helm" && node --input-type=module -e '
import fs from "node:fs";
import YAML from "yaml";
const docs = YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean);
const bad = [];
// Each component: its own secret key, only the public keys it needs, nothing else mounted.
const want = {worker: ["worker.key", "coordinator.pub"], coordinator: ["coordinator.key", "worker.pub", "gateway.pub"],
              gateway: ["gateway.key", "coordinator.pub"]};
for (const [comp, files] of Object.entries(want)) {
    const d = docs.find((o) => o.kind === "Deployment" && o.metadata.labels["app.kubernetes.io/component"] === comp);
    const spec = d.spec.template.spec, c = spec.containers[0];
    const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
    const vol = (spec.volumes || []).find((v) => v.name === "curve");
    const items = (vol?.secret.items || []).map((i) => i.key).sort().join(",");
    if (vol?.secret.secretName !== "netpulse-curve" || items !== [...files].sort().join(","))
        bad.push(`${comp}: curve volume ${JSON.stringify(vol)}`);
    if (env.NETPULSE_ZMQ_CURVE_SECRET_FILE?.value !== `/etc/netpulse/curve/${comp}.key`) bad.push(`${comp}: secret file`);
    if (env.NETPULSE_ZMQ_PLAINTEXT_ALLOW) bad.push(`${comp}: plaintext still allowed`);
    const server = {worker: "coordinator.pub", coordinator: "gateway.pub"}[comp];
    const allow = {coordinator: "worker.pub", gateway: "coordinator.pub"}[comp];
    if (server && env.NETPULSE_ZMQ_CURVE_SERVER_FILE?.value !== `/etc/netpulse/curve/${server}`) bad.push(`${comp}: server file`);
    if (allow && env.NETPULSE_ZMQ_CURVE_ALLOW_FILE?.value !== `/etc/netpulse/curve/${allow}`) bad.push(`${comp}: allow file`);
    if (env.NETPULSE_HTTP_TOKEN?.valueFrom?.secretKeyRef?.name !== "netpulse-http") bad.push(`${comp}: token`);
    if (env.NETPULSE_HTTP_TLS_CERT_FILE?.value !== "/etc/netpulse/http-tls/tls.crt") bad.push(`${comp}: tls cert`);
    if (c.livenessProbe.httpGet.path !== "/livez" || c.livenessProbe.httpGet.scheme !== "HTTPS" ||
        c.readinessProbe.httpGet.scheme !== "HTTPS") bad.push(`${comp}: probes`);
    if (!(c.volumeMounts || []).some((m) => m.name === "http-tls")) bad.push(`${comp}: tls mount`);
}
const sm = docs.find((o) => o.kind === "ServiceMonitor").spec.endpoints[0];
if (sm.scheme !== "https" || sm.bearerTokenSecret?.name !== "netpulse-http" || !sm.tlsConfig?.ca) bad.push("servicemonitor");
console.log(bad.length ? bad.join("\n") : "security wiring ok");
process.exit(bad.length ? 1 : 0);' "$IT_DIR/security.yaml")
}
it_check "security: keys per component, token, HTTPS probes and scrape" security_wired
# Every NETPULSE_ZMQ_* and NETPULSE_HTTP_* variable the chart sets is one the process reads
# (its --help lists it): a misspelt name would be ignored silently, e.g. CURVE left off.
# (Not all of them: commonEnv gives NETPULSE_BROKERS to the coordinator, which has no Kafka.)
env_known() {
    local comp var bad=0 help
    for comp in worker coordinator gateway; do
        help="$("$IT_BIN/netpulse-$comp" --help)" || return 1
        for var in $(awk -v c="$comp" '/^kind: Deployment/ { d = 0 } /app.kubernetes.io\/component: / { if ($2 == c) d = 1 }
                      d && /- name: NETPULSE_(ZMQ|HTTP)_/ { print $3 }' "$IT_DIR/security.yaml" | sort -u); do
            grep -q "env $var[,=]" <<<"$help" || { np_warn "$comp: $var is not an option of netpulse-$comp"; bad=1; }
        done
    done
    return $bad
}
it_check "security: every NETPULSE_ZMQ_*/HTTP_* variable is an option of its process" env_known
it_check "defaults: plaintext allowed (no CURVE), no token, probes on /livez over HTTP" bash -c "
    grep -q NETPULSE_ZMQ_PLAINTEXT_ALLOW '$IT_DIR/defaults.yaml' && ! grep -q 'NETPULSE_HTTP_TOKEN\|NETPULSE_ZMQ_CURVE\|scheme: HTTPS' '$IT_DIR/defaults.yaml' &&
    grep -q 'path: /livez' '$IT_DIR/defaults.yaml'"
it_check "everything at once" render all -f "$VALUES/keda.yaml" -f "$VALUES/external-redis.yaml" \
    -f "$VALUES/operator.yaml"
it_check "everything at once: schemas + invariants" validate all --partitions 12

# Dashboards and rules are read from the repo's files through the chart's symlinks: a copy of
# the chart beside two made-up dashboards and a rules file must render them unchanged.
fake="$IT_DIR/repo"
mkdir -p "$fake/helm" "$fake/grafana/dashboards" "$fake/prometheus/rules"
cp -a "$CHART" "$fake/helm/"
echo '{"title": "a", "panels": []}' >"$fake/grafana/dashboards/netpulse-a.json"
echo '{"title": "b", "uid": "b"}' >"$fake/grafana/dashboards/netpulse_b.json"
printf 'groups:\n  - name: t\n    rules:\n      - alert: T\n        expr: up == 0\n        for: 1m\n' \
    >"$fake/prometheus/rules/netpulse.rules.yml"
render_fake() {
    "$HELM" template np "$fake/helm/netpulse" -f "$VALUES/operator.yaml" >"$IT_DIR/files.yaml" 2>"$IT_DIR/files.err"
}
it_check "render a chart copy with 2 dashboards and a rules file" render_fake
it_check "dashboards and rules equal their files" validate files --partitions 12 --repo "$fake" \
    --expect ConfigMap=2 --expect PrometheusRule=1
it_check "the rules file's alert is in the PrometheusRule" grep -q 'alert: T' "$IT_DIR/files.yaml"

# The validator must be able to fail: a wrong type, a root pod, a kind with no schema.
sed 's/containerPort: 8080/containerPort: "8080"/; s/runAsNonRoot: true/runAsNonRoot: false/; s/^kind: ScaledObject$/kind: ScaledObjekt/' \
    "$IT_DIR/keda.yaml" >"$IT_DIR/tampered.yaml"
tampered_fails() {
    ! node "$IT_ROOT/tests/helm/validate.mjs" "$IT_DIR/tampered.yaml" --partitions 12 >"$IT_DIR/tampered.check" &&
        grep -q 'containerPort must be integer' "$IT_DIR/tampered.check" &&
        grep -q 'runAsNonRoot is not true' "$IT_DIR/tampered.check" &&
        grep -q 'no schema for keda.sh/v1alpha1 ScaledObjekt' "$IT_DIR/tampered.check"
}
it_check "validator rejects a tampered rendering" tampered_fails

# Bad values: the render fails and says why (first line of each file: "# expect: TEXT").
for f in "$VALUES"/bad/*.yaml; do
    n="$(basename "$f" .yaml)"
    want="$(sed -n '1s/^# expect: //p' "$f")"
    fails_clearly() {
        ! render "bad-$n" -f "$f" && grep -qF -- "$want" "$IT_DIR/bad-$n.err"
    }
    it_check "bad values rejected: $n" fails_clearly
done
it_finish
