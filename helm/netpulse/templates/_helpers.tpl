{{/* Names, labels and the pieces every netpulse pod shares. */}}

{{- define "netpulse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "netpulse.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "worker") */}}
{{- define "netpulse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "netpulse.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "netpulse.labels" -}}
{{ include "netpulse.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: netpulse
{{- end -}}

{{- define "netpulse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "netpulse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "netpulse.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "netpulse.redisHost" -}}
{{- if eq .Values.redis.mode "bundled" -}}
{{- printf "%s-redis" (include "netpulse.fullname" .) -}}
{{- else -}}
{{- required "redis.host is required when redis.mode is external" .Values.redis.host -}}
{{- end -}}
{{- end -}}

{{- define "netpulse.coordinatorEndpoint" -}}
{{- default (printf "tcp://%s-coordinator:%d" (include "netpulse.fullname" .) (int .Values.ports.coordinator)) .Values.worker.coordinatorEndpoint -}}
{{- end -}}

{{- define "netpulse.gatewayEndpoint" -}}
{{- default (printf "tcp://%s-gateway:%d" (include "netpulse.fullname" .) (int .Values.ports.gateway)) .Values.coordinator.gatewayEndpoint -}}
{{- end -}}

{{/*
Checks that span several values (the schema checks each value alone). Included by every
workload template, so a bad combination fails the render with one clear message.
*/}}
{{- define "netpulse.validate" -}}
{{- $w := .Values.worker -}}
{{- $parts := int .Values.kafka.topics.input.partitions -}}
{{- if gt (int $w.autoscaling.maxReplicas) $parts -}}
{{- fail (printf "worker.autoscaling.maxReplicas (%d) exceeds kafka.topics.input.partitions (%d): a worker beyond the partition count owns nothing" (int $w.autoscaling.maxReplicas) $parts) -}}
{{- end -}}
{{- if gt (int $w.replicas) $parts -}}
{{- fail (printf "worker.replicas (%d) exceeds kafka.topics.input.partitions (%d): a worker beyond the partition count owns nothing" (int $w.replicas) $parts) -}}
{{- end -}}
{{- if gt (int $w.autoscaling.minReplicas) (int $w.autoscaling.maxReplicas) -}}
{{- fail (printf "worker.autoscaling.minReplicas (%d) is greater than worker.autoscaling.maxReplicas (%d)" (int $w.autoscaling.minReplicas) (int $w.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and (eq (int .Values.ports.http) 0) (not .Values.hostNetwork) -}}
{{- fail "ports.http 0 (pick a free port) needs hostNetwork: true; in a cluster give a fixed port such as 8080" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.enabled (not .Values.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.enabled needs kafka.sasl.existingSecret: the name of a Secret with the SASL username and password (credentials are never taken from values)" -}}
{{- end -}}
{{- if and .Values.zmq.curve.enabled (not .Values.zmq.curve.existingSecret) -}}
{{- fail "zmq.curve.enabled needs zmq.curve.existingSecret: a Secret with coordinator.key/.pub, gateway.key/.pub and worker.key/.pub from netpulse-keygen (README: CURVE)" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "external") (not .Values.redis.host) -}}
{{- fail "redis.mode external needs redis.host (or use redis.mode bundled)" -}}
{{- end -}}
{{- range $k, $v := .Values.kafka.properties -}}
{{- if regexMatch "(?i)(password|secret|sasl\\.jaas|ssl\\.key)" $k -}}
{{- fail (printf "kafka.properties.%s looks like a credential: put it in the Secret named by kafka.sasl.existingSecret, not in values" $k) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* env entries for a map of np_config keys: "pane.ms" -> NETPULSE_PANE_MS */}}
{{- define "netpulse.configEnv" -}}
{{- range $k, $v := . }}
- name: {{ printf "NETPULSE_%s" ($k | replace "." "_" | replace "-" "_" | upper) }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/*
Environment shared by every process: HTTP, shared config, Kafka (bootstrap, librdkafka
properties, SASL credentials from the Secret through $(VAR) references) and Redis.
*/}}
{{- define "netpulse.commonEnv" -}}
- name: NETPULSE_HTTP_BIND
  value: {{ .Values.bind.http | quote }}
- name: NETPULSE_HTTP_PORT
  value: {{ .Values.ports.http | quote }}
- name: NETPULSE_BROKERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
- name: NETPULSE_REDIS_HOST
  value: {{ include "netpulse.redisHost" . | quote }}
- name: NETPULSE_REDIS_PORT
  value: {{ .Values.redis.port | quote }}
{{- if not .Values.zmq.curve.enabled }}
{{- /* Without CURVE the ZeroMQ links cross the pod network in plain TCP (NetworkPolicies
limit who reaches the ports): netpulse refuses a non-loopback endpoint without CURVE unless
this is said explicitly. */}}
- name: NETPULSE_ZMQ_PLAINTEXT_ALLOW
  value: "true"
{{- end }}
{{- if .Values.http.auth.existingSecret }}
- name: NETPULSE_HTTP_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.http.auth.existingSecret }}
      key: {{ .Values.http.auth.tokenKey }}
{{- end }}
{{- if .Values.http.tls.existingSecret }}
- name: NETPULSE_HTTP_TLS_CERT_FILE
  value: /etc/netpulse/http-tls/tls.crt
- name: NETPULSE_HTTP_TLS_KEY_FILE
  value: /etc/netpulse/http-tls/tls.key
{{- end }}
{{- if .Values.redis.auth.existingSecret }}
- name: NETPULSE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.auth.existingSecret }}
      key: {{ .Values.redis.auth.key }}
{{- end }}
{{- $props := list -}}
{{- range $k, $v := .Values.kafka.properties -}}
{{- $props = append $props (printf "%s=%v" $k $v) -}}
{{- end -}}
{{- with .Values.kafka.sasl }}
{{- if .enabled }}
- name: NP_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .usernameKey }}
- name: NP_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- $props = append $props (printf "security.protocol=%s" .securityProtocol) -}}
{{- $props = append $props (printf "sasl.mechanisms=%s" .mechanism) -}}
{{- $props = append $props "sasl.username=$(NP_KAFKA_SASL_USERNAME)" -}}
{{- $props = append $props "sasl.password=$(NP_KAFKA_SASL_PASSWORD)" -}}
{{- end }}
{{- end }}
{{- if $props }}
- name: NETPULSE_KAFKA_PROPERTIES
  value: {{ join ";" $props | quote }}
{{- end }}
{{- include "netpulse.configEnv" .Values.config }}
{{- end -}}

{{/*
CURVE key files of one component: (dict "ctx" $ "component" "worker"). Secret key of its own;
the server's public key for clients (worker -> coordinator -> gateway); the allow-list of
client keys for servers (coordinator: the workers', gateway: the coordinator's).
*/}}
{{- define "netpulse.curveFiles" -}}
{{- if eq .component "worker" -}}worker.key coordinator.pub
{{- else if eq .component "coordinator" -}}coordinator.key worker.pub gateway.pub
{{- else if eq .component "gateway" -}}gateway.key coordinator.pub
{{- end -}}
{{- end -}}

{{- define "netpulse.curveEnv" -}}
{{- if and .ctx.Values.zmq.curve.enabled (include "netpulse.curveFiles" .) }}
- name: NETPULSE_ZMQ_CURVE_SECRET_FILE
  value: {{ printf "/etc/netpulse/curve/%s.key" .component | quote }}
{{- if eq .component "worker" }}
- name: NETPULSE_ZMQ_CURVE_SERVER_FILE
  value: /etc/netpulse/curve/coordinator.pub
{{- else if eq .component "coordinator" }}
- name: NETPULSE_ZMQ_CURVE_ALLOW_FILE
  value: /etc/netpulse/curve/worker.pub
- name: NETPULSE_ZMQ_CURVE_SERVER_FILE
  value: /etc/netpulse/curve/gateway.pub
{{- else if eq .component "gateway" }}
- name: NETPULSE_ZMQ_CURVE_ALLOW_FILE
  value: /etc/netpulse/curve/coordinator.pub
{{- end }}
{{- end }}
{{- end -}}

{{/* Secret volumes of one component (CURVE keys, HTTPS certificate): (dict "ctx" $ "component" ...).
`optional: false` is Kubernetes' default, written out because podman 4.3's kube play
dereferences the unset field and panics (podman#16636). */}}
{{- define "netpulse.secretVolumes" -}}
{{- $files := include "netpulse.curveFiles" . -}}
{{- if and .ctx.Values.zmq.curve.enabled $files }}
- name: curve
  secret:
    secretName: {{ .ctx.Values.zmq.curve.existingSecret }}
    defaultMode: 0440
    optional: false
    items:
      {{- range splitList " " $files }}
      - {key: {{ . }}, path: {{ . }}}
      {{- end }}
{{- end }}
{{- if .ctx.Values.http.tls.existingSecret }}
- name: http-tls
  secret:
    secretName: {{ .ctx.Values.http.tls.existingSecret }}
    defaultMode: 0440
    optional: false
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- end -}}

{{- define "netpulse.secretMounts" -}}
{{- if and .ctx.Values.zmq.curve.enabled (include "netpulse.curveFiles" .) }}
- {name: curve, mountPath: /etc/netpulse/curve, readOnly: true}
{{- end }}
{{- if .ctx.Values.http.tls.existingSecret }}
- {name: http-tls, mountPath: /etc/netpulse/http-tls, readOnly: true}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the three workloads: (dict "ctx" $ "c" .Values.worker) */}}
{{- define "netpulse.podSpecCommon" -}}
serviceAccountName: {{ include "netpulse.serviceAccountName" .ctx }}
automountServiceAccountToken: {{ .ctx.Values.serviceAccount.automountServiceAccountToken }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .c.terminationGracePeriodSeconds }}
{{- if .ctx.Values.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (include "netpulse.secretVolumes" . | trim) }}
volumes:
  {{- . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Container fields shared by the three processes: (dict "ctx" $ "c" .Values.worker) */}}
{{- define "netpulse.containerCommon" -}}
image: {{ include "netpulse.image" .ctx }}
imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .ctx.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml .c.resources | nindent 2 }}
{{- with (include "netpulse.secretMounts" . | trim) }}
volumeMounts:
  {{- . | nindent 2 }}
{{- end }}
{{- if gt (int .ctx.Values.ports.http) 0 }}
{{- if .ctx.Values.probes.enabled }}
{{- /* /livez and /healthz need no token (http.auth); /livez answers while the process does,
whatever Kafka and Redis do. */}}
livenessProbe:
  httpGet:
    path: /livez
    port: {{ .ctx.Values.ports.http }}
    {{- if .ctx.Values.http.tls.existingSecret }}
    scheme: HTTPS
    {{- end }}
  {{- toYaml .ctx.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /healthz
    port: {{ .ctx.Values.ports.http }}
    {{- if .ctx.Values.http.tls.existingSecret }}
    scheme: HTTPS
    {{- end }}
  {{- toYaml .ctx.Values.probes.readiness | nindent 2 }}
{{- end }}
{{- end }}
{{- if gt (int .c.preStopSleepSeconds) 0 }}
lifecycle:
  preStop:
    exec:
      command: ["sleep", {{ .c.preStopSleepSeconds | quote }}]
{{- end }}
{{- end -}}

{{- define "netpulse.httpPort" -}}
{{- if gt (int .Values.ports.http) 0 }}
- name: http
  containerPort: {{ .Values.ports.http }}
  protocol: TCP
{{- end }}
{{- end -}}

{{- define "netpulse.podAnnotations" -}}
{{- if and .ctx.Values.metrics.scrapeAnnotations (gt (int .ctx.Values.ports.http) 0) }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .ctx.Values.ports.http | quote }}
prometheus.io/path: /metrics
{{- if .ctx.Values.http.tls.existingSecret }}
prometheus.io/scheme: https
{{- end }}
{{- end }}
{{- with .c.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}
