{{/* Names and labels, as `helm create` makes them. */}}
{{- define "amphi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "amphi.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "amphi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels; call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "amphi.labels" -}}
helm.sh/chart: {{ include "amphi.chart" .ctx }}
{{ include "amphi.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end }}

{{- define "amphi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "amphi.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "amphi.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "amphi.secretName" -}}
{{- default (printf "%s-secrets" (include "amphi.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{/*
A secret as an env var, from the field .field of secrets (its key: secrets.keys.<field>).
- The chart's Secret holds only the non-empty values: a set value gives a reference that is
  not optional (the key is there), an empty one no variable at all.
- An existing Secret (secrets.existingSecret): the chart cannot see its keys. A field the roles
  rely on (.required: AMPHI_SECRET, AMPHI_JWT_SECRET, REDIS_PASSWORD) is referenced as not
  optional, so a missing key stops the pod at start (CreateContainerConfigError) instead of
  running without it, unless secrets.optional lists the field. The others (the sentinels'
  password, the scaler providers' secrets) stay optional: many installs have none.
*/}}
{{- define "amphi.secretEnv" -}}
{{- $s := .ctx.Values.secrets -}}
{{- if or $s.existingSecret (index $s .field) }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "amphi.secretName" .ctx }}
      key: {{ index $s.keys .field }}
      optional: {{ if and $s.existingSecret (or (not .required) (has .field $s.optional)) }}true{{ else }}false{{ end }}
{{- end }}
{{- end }}

{{/* The shutdown budget: a timeout that Kubernetes' grace period would cut short is refused. */}}
{{- define "amphi.checkShutdown" -}}
{{- $timeout := div (int .ctx.Values.shutdownTimeoutMs) 1000 }}
{{- if ge (add $timeout .preStop) (int .grace) }}
{{- fail (printf "%s: shutdownTimeoutMs (%d s) + preStop (%d s) must stay below terminationGracePeriodSeconds (%d s)" .role $timeout (int .preStop) (int .grace)) }}
{{- end }}
{{- end }}

{{/*
The environment every role shares: where Redis is, the secrets, the policies. Only names that
src/config/settings.ts defines; test/unit/helm-chart.test.ts checks it. Never AMPHI_PRIVATE_REDIS:
without a Redis the templates fail, rather than let each pod start a private one.
*/}}
{{- define "amphi.env" -}}
{{- $v := .Values -}}
- name: HOST
  value: {{ $v.host | quote }}
{{- if $v.redis.sentinels }}
- name: REDIS_SENTINELS
  value: {{ join "," $v.redis.sentinels | quote }}
- name: REDIS_SENTINEL_MASTER
  value: {{ $v.redis.sentinelMaster | quote }}
{{- include "amphi.secretEnv" (dict "ctx" . "name" "REDIS_SENTINEL_PASSWORD" "field" "redisSentinelPassword" "required" false) }}
{{- else if $v.redis.url }}
- name: REDIS_URL
  value: {{ $v.redis.url | quote }}
{{- else if $v.redis.urlSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.redis.urlSecret.name }}
      key: {{ $v.redis.urlSecret.key }}
{{- else if $v.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s-redis-master:6379/0" .Release.Name | quote }}
{{- else }}
{{- fail "set redis.url, redis.urlSecret.name or redis.sentinels (or redis.enabled for a test install): the roles need a Redis" }}
{{- end }}
{{- /* Both apply to a URL as well as to Sentinel (src/redis/target.ts). */}}
- name: REDIS_TLS
  value: {{ ternary "true" "false" $v.redis.tls | quote }}
{{- include "amphi.secretEnv" (dict "ctx" . "name" "REDIS_PASSWORD" "field" "redisPassword" "required" true) }}
{{- include "amphi.secretEnv" (dict "ctx" . "name" "AMPHI_SECRET" "field" "amphiSecret" "required" true) }}
{{- include "amphi.secretEnv" (dict "ctx" . "name" "AMPHI_JWT_SECRET" "field" "jwtSecret" "required" true) }}
- name: AMPHI_POLICY_DIR
  value: {{ $v.policies.mountPath | quote }}
- name: AMPHI_SHUTDOWN_TIMEOUT_MS
  value: {{ int $v.shutdownTimeoutMs | quote }}
{{- range $name, $value := $v.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* The policies volume: the ConfigMap is mounted whole (never with subPath, which is never updated). */}}
{{- define "amphi.policiesVolume" -}}
- name: policies
  configMap:
    name: {{ default (printf "%s-policies" (include "amphi.fullname" .)) .Values.policies.existingConfigMap }}
{{- end }}

{{/*
Pod annotations: a checksum of the chart's Secret (env vars are read at start, so pods restart
when it changes), of the scaler's file when given (.config), and the role's own (.extra).
*/}}
{{- define "amphi.podAnnotations" -}}
{{- if not .ctx.Values.secrets.existingSecret }}
checksum/secret: {{ include (print .ctx.Template.BasePath "/secret.yaml") .ctx | sha256sum }}
{{- end }}
{{- with .config }}
checksum/config: {{ . | sha256sum }}
{{- end }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end }}
