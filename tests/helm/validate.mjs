// tests/helm/validate.mjs — checks one `helm template` rendering of helm/netpulse.
//
// Every object is validated against its schema (kubernetes-models for the Kubernetes API,
// @kubernetes-models/keda, @kubernetes-models/prometheus-operator); an object of a kind with
// no schema fails. Then the chart's invariants are asserted: non-root, read-only root fs,
// drop ALL, seccomp, probes, resources, replica bound, one coordinator, no secret inlined,
// dashboards and rules taken from the repo's files.
//
// Usage: node validate.mjs RENDERED.yaml --partitions N [--expect KIND=COUNT ...]
//        [--no-probes] [--repo DIR]
// Prints one line per failed check and a summary; exit status 1 if anything failed.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

const args = process.argv.slice(2);
const file = args.shift();
const opts = { partitions: 0, expect: {}, probes: true, repo: "." };
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--partitions") opts.partitions = Number(args[++i]);
  else if (args[i] === "--expect") {
    const [k, v] = args[++i].split("=");
    opts.expect[k] = Number(v);
  } else if (args[i] === "--no-probes") opts.probes = false;
  else if (args[i] === "--repo") opts.repo = args[++i];
  else throw new Error(`unknown argument ${args[i]}`);
}

const failures = [];
const fail = (obj, msg) => failures.push(`${obj ? `${obj.kind}/${obj.metadata?.name}: ` : ""}${msg}`);
const text = fs.readFileSync(file, "utf8");
const objects = YAML.parseAllDocuments(text)
  .map((d) => d.toJS())
  .filter((o) => o && typeof o === "object");

// apiVersion + kind -> the module exporting its model class.
function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") return `@kubernetes-models/keda/keda.sh/${version}/${kind}`;
  if (group === "monitoring.coreos.com")
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`;
}

async function validateSchema(o) {
  if (!o.apiVersion || !o.kind) return fail(o, "no apiVersion/kind");
  let mod;
  try {
    mod = await import(modulePath(o.apiVersion, o.kind));
  } catch {
    return fail(o, `no schema for ${o.apiVersion} ${o.kind}`);
  }
  const Model = mod[o.kind];
  try {
    new Model(o).validate();
  } catch (e) {
    fail(o, `schema: ${e.message}`);
  }
}

function podSpecOf(o) {
  if (["Deployment", "StatefulSet", "Job"].includes(o.kind)) return o.spec?.template?.spec;
  return null;
}

function checkPod(o, spec) {
  const psc = spec.securityContext || {};
  if (psc.runAsNonRoot !== true) fail(o, "pod securityContext.runAsNonRoot is not true");
  if (psc.runAsUser === 0) fail(o, "pod runs as uid 0");
  if (spec.automountServiceAccountToken !== false) fail(o, "service account token mounted");
  const netpulse = o.metadata?.labels?.["app.kubernetes.io/name"] === "netpulse";
  const component = o.metadata?.labels?.["app.kubernetes.io/component"];
  for (const c of spec.containers || []) {
    const sc = c.securityContext || {};
    const where = `container ${c.name}`;
    if (sc.readOnlyRootFilesystem !== true) fail(o, `${where}: root filesystem not read-only`);
    if (sc.allowPrivilegeEscalation !== false) fail(o, `${where}: privilege escalation allowed`);
    if (!(sc.capabilities?.drop || []).includes("ALL")) fail(o, `${where}: capabilities not dropped (ALL)`);
    const seccomp = sc.seccompProfile?.type || psc.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault") fail(o, `${where}: seccomp profile is not RuntimeDefault`);
    if (!c.resources?.requests?.memory || !c.resources?.limits?.memory) fail(o, `${where}: no memory request/limit`);
    const isProcess = ["worker", "coordinator", "gateway", "ingest"].includes(component);
    if (netpulse && isProcess && opts.probes) {
      if (c.readinessProbe?.httpGet?.path !== "/healthz") fail(o, `${where}: readiness probe is not GET /healthz`);
      if (!c.livenessProbe?.httpGet) fail(o, `${where}: no HTTP liveness probe`);
    }
    if (isProcess && !(c.command || [])[0]?.startsWith("netpulse-")) fail(o, `${where}: command is not a netpulse process`);
    for (const e of c.env || []) {
      // Credentials only by reference: a literal value for a secret-looking name is inlined.
      // A *_FILE variable names a file (a mounted Secret), not the credential itself.
      if (/PASSWORD|SECRET|TOKEN/.test(e.name) && !/_FILE$/.test(e.name) && e.value !== undefined)
        fail(o, `${where}: ${e.name} has a literal value`);
      if (e.name === "NETPULSE_KAFKA_PROPERTIES") {
        for (const kv of e.value.split(";")) {
          const [k, v] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
          if (/password|username|jaas/.test(k) && !/^\$\([A-Z_]+\)$/.test(v))
            fail(o, `${where}: librdkafka ${k} inlined instead of taken from a Secret`);
        }
      }
    }
    if ((c.args || []).concat(c.command || []).some((a) => /password=(?!\\?"?\$)/i.test(a)))
      fail(o, `${where}: credential on the command line`);
  }
  if (netpulse && component === "worker" && !(spec.terminationGracePeriodSeconds >= 40))
    fail(o, "worker terminationGracePeriodSeconds < 40 s (a stop with Kafka unreachable was measured at up to 32 s)");
}

function checkInvariants() {
  const byKind = {};
  for (const o of objects) (byKind[o.kind] ||= []).push(o);
  if (byKind.Secret) fail(null, "the chart renders a Secret: credentials must come from existing Secrets");
  for (const [kind, n] of Object.entries(opts.expect)) {
    const got = (byKind[kind] || []).length;
    if (got !== n) fail(null, `expected ${n} ${kind}, rendered ${got}`);
  }
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (spec) checkPod(o, spec);
    const comp = o.metadata?.labels?.["app.kubernetes.io/component"];
    if (o.kind === "Deployment" && ["coordinator", "gateway"].includes(comp)) {
      if (o.spec.replicas !== 1) fail(o, "must have exactly one replica");
      if (o.spec.strategy?.type !== "Recreate") fail(o, "strategy must be Recreate");
    }
    if (o.kind === "Deployment" && comp === "worker" && o.spec.replicas > opts.partitions)
      fail(o, `replicas ${o.spec.replicas} > ${opts.partitions} input partitions`);
    if (o.kind === "ScaledObject") {
      if (o.spec.maxReplicaCount > opts.partitions) fail(o, `maxReplicaCount > ${opts.partitions} partitions`);
      const topics = (o.spec.triggers || []).filter((t) => t.type === "kafka").map((t) => t.metadata.topic);
      if (topics.length !== 2) fail(o, `want kafka triggers for the input and repartition topics, got ${topics}`);
    }
    if (o.kind === "HorizontalPodAutoscaler" && o.spec.maxReplicas > opts.partitions)
      fail(o, `maxReplicas > ${opts.partitions} partitions`);
    // An autoscaled Deployment must not set replicas (each upgrade would reset the scale).
    if (["ScaledObject", "HorizontalPodAutoscaler"].includes(o.kind)) {
      const target = (byKind.Deployment || []).find((d) => d.metadata.name === o.spec.scaleTargetRef.name);
      if (!target) fail(o, `scale target ${o.spec.scaleTargetRef.name} is not a rendered Deployment`);
      else if (target.spec.replicas !== undefined) fail(target, `sets replicas although ${o.kind} scales it`);
    }
  }
  checkFiles(byKind);
}

// JSON with object keys sorted at every level.
function canonical(v) {
  const sort = (x) =>
    Array.isArray(x)
      ? x.map(sort)
      : x && typeof x === "object"
        ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort(x[k])]))
        : x;
  return JSON.stringify(sort(v));
}

// Dashboards and rules come from the repo's own files, unchanged (no copies in the chart).
function checkFiles(byKind) {
  const dashDir = path.join(opts.repo, "grafana/dashboards");
  const dashCms = (byKind.ConfigMap || []).filter((c) => c.metadata.labels?.grafana_dashboard);
  if (dashCms.length) {
    const files = fs.existsSync(dashDir) ? fs.readdirSync(dashDir).filter((f) => f.endsWith(".json")) : [];
    if (dashCms.length !== files.length) fail(null, `${dashCms.length} dashboard ConfigMaps for ${files.length} files`);
    for (const cm of dashCms) {
      for (const [name, body] of Object.entries(cm.data || {})) {
        const src = path.join(dashDir, name);
        if (!fs.existsSync(src)) fail(cm, `${name} is not a file in grafana/dashboards`);
        else if (body !== fs.readFileSync(src, "utf8").replace(/\n$/, "")) fail(cm, `${name} differs from ${src}`);
        try {
          JSON.parse(body);
        } catch {
          fail(cm, `${name} is not JSON`);
        }
      }
    }
  }
  const rulesFile = path.join(opts.repo, "prometheus/rules/netpulse.rules.yml");
  for (const pr of byKind.PrometheusRule || []) {
    if (!fs.existsSync(rulesFile)) continue;
    const want = YAML.parse(fs.readFileSync(rulesFile, "utf8")).groups;
    // Helm re-serialises the file (keys sorted): compare the data, not the key order.
    if (canonical(pr.spec.groups) !== canonical(want)) fail(pr, `groups differ from ${rulesFile}`);
  }
}

for (const o of objects) await validateSchema(o);
checkInvariants();
for (const f of failures) console.log(`FAIL ${f}`);
const kinds = [...new Set(objects.map((o) => o.kind))].sort().join(",");
console.log(`${objects.length} objects (${kinds}): ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
