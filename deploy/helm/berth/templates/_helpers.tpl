{{/* The chart's name, or nameOverride. */}}
{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: fullnameOverride, else the release's name, followed by the chart's unless it contains it. */}}
{{- define "berth.fullname" -}}
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

{{/* The worker Deployment's name. */}}
{{- define "berth.workerName" -}}
{{- printf "%s-worker" (include "berth.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "berth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* What selects the pods of one component ("server" or "worker"): given as (dict "root" $ "component" "server"). */}}
{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The labels of every object. */}}
{{- define "berth.labels" -}}
helm.sh/chart: {{ include "berth.chart" . }}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "berth.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name: the name of an existing ServiceAccount (serviceAccount.create is false)" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding BERTH_JWT_SECRET and BERTH_ENCRYPTION_KEYS: secrets.existingSecret, else the chart's. */}}
{{- define "berth.secretName" -}}
{{- default (include "berth.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The Secret holding DATABASE_URL: database.existingSecret, else the chart's. */}}
{{- define "berth.databaseSecretName" -}}
{{- default (include "berth.fullname" .) .Values.database.existingSecret }}
{{- end }}

{{/* Whether the chart makes a Secret: it holds whatever is not taken from an existing one. */}}
{{- define "berth.makesSecret" -}}
{{- if or (not .Values.secrets.existingSecret) (not .Values.database.existingSecret) }}true{{ end }}
{{- end }}

{{/* BERTH_PUBLIC_URL: publicUrl, else the first ingress host, else the Service inside the cluster. */}}
{{- define "berth.publicUrl" -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl }}
{{- else if .Values.ingress.enabled }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls))) (index .Values.ingress.hosts 0).host }}
{{- else }}
{{- printf "http://%s.%s.svc:%v" (include "berth.fullname" .) .Release.Namespace .Values.service.port }}
{{- end }}
{{- end }}

{{/* The image, with the chart's appVersion as its default tag. */}}
{{- define "berth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The environment of the server and the worker alike: the database, the keys, the public URL, then
config and extraEnv. The variables the chart sets may not be set again through config.
*/}}
{{- define "berth.env" -}}
{{- range $name, $value := .Values.config }}
{{- if has $name (list "PORT" "DATABASE_URL" "BERTH_JWT_SECRET" "BERTH_ENCRYPTION_KEYS" "BERTH_ADMIN_PASSWORD" "BERTH_PUBLIC_URL" "TASK_WORKER") }}
{{- fail (printf "config.%s: the chart sets %s itself (see values.yaml)" $name $name) }}
{{- end }}
{{- end -}}
- name: PORT
  value: "4000"
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.databaseSecretName" . }}
      key: {{ ternary .Values.database.existingSecretKey "DATABASE_URL" (not (empty .Values.database.existingSecret)) }}
- name: BERTH_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.secretName" . }}
      key: BERTH_JWT_SECRET
- name: BERTH_ENCRYPTION_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.secretName" . }}
      key: BERTH_ENCRYPTION_KEYS
- name: BERTH_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "berth.secretName" . }}
      key: BERTH_ADMIN_PASSWORD
      # used only on a database without an admin; without it one is generated and logged
      optional: true
- name: BERTH_PUBLIC_URL
  value: {{ include "berth.publicUrl" . | quote }}
{{- range $name, $value := .Values.config }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* What the server's and the worker's pods share besides their container: account, placement, security, /tmp. */}}
{{- define "berth.podSpec" -}}
serviceAccountName: {{ include "berth.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  # the root filesystem is read-only; helm runs (BERTH_HELM_BINARY) write their files here
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSizeLimit }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The pods' template metadata of one component: given as (dict "root" $ "component" "server"). */}}
{{- define "berth.podMetadata" -}}
{{ with .root.Values.podAnnotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{ end -}}
labels:
  {{- include "berth.selectorLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
