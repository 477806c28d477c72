{{/*
Names and labels shared by every Philotes chart.

The umbrella chart aliases some subcharts (api, worker, objectStore) and Helm then renames
.Chart.Name to the alias, while the Kustomize door inflates each chart under its own name. So
no name derives from .Chart.Name: each chart declares its component once, as the annotation
philotes.io/component in its Chart.yaml (Helm keeps annotations through an alias), and the app
name (app.kubernetes.io/name) comes from this table. Labels are then the same in a standalone
install, the umbrella chart and the Kustomize door, and one chart can select another chart's
pods by name.
*/}}
{{- define "philotes-common.appNames" -}}
{{- toJson (dict "api" "philotes-api" "worker" "philotes-worker" "lakekeeper" "lakekeeper") -}}
{{- end -}}

{{/* Component of the chart being rendered: api, worker, lakekeeper, ... (philotes for the umbrella). */}}
{{- define "philotes-common.component" -}}
{{- $component := index (.Chart.Annotations | default dict) "philotes.io/component" -}}
{{- if not $component -}}
{{- fail (printf "chart %s: Chart.yaml declares no annotation philotes.io/component; every Philotes chart names its component there" .Chart.Name) -}}
{{- end -}}
{{- $component -}}
{{- end -}}

{{/* app.kubernetes.io/name of a component, given its name; the umbrella's component is its own name. */}}
{{- define "philotes-common.appName" -}}
{{- $names := include "philotes-common.appNames" . | fromJson -}}
{{- get $names . | default . -}}
{{- end -}}

{{/* app.kubernetes.io/name of the chart being rendered; nameOverride replaces it. */}}
{{- define "philotes-common.name" -}}
{{- .Values.nameOverride | default (include "philotes-common.appName" (include "philotes-common.component" .)) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<component>, or fullnameOverride. */}}
{{- define "philotes-common.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "philotes-common.component" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* helm.sh/chart: the real chart name (not the umbrella alias) and version. */}}
{{- define "philotes-common.chart" -}}
{{- $chart := include "philotes-common.appName" (include "philotes-common.component" .) -}}
{{- printf "%s-%s" $chart .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: app name and instance, plus any extra labels (a worker adds philotes.io/source).
Input: dict "context" $ and optionally "name" (default: the chart's name) and "extra" (a map).
*/}}
{{- define "philotes-common.selectorLabelsWith" -}}
{{- $ctx := .context -}}
app.kubernetes.io/name: {{ .name | default (include "philotes-common.name" $ctx) | quote }}
app.kubernetes.io/instance: {{ $ctx.Release.Name | quote }}
{{- range $key, $value := .extra }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "philotes-common.selectorLabels" -}}
{{- include "philotes-common.selectorLabelsWith" (dict "context" .) -}}
{{- end -}}

{{/*
Labels of every object. Input as for selectorLabelsWith, plus an optional "component".
*/}}
{{- define "philotes-common.labelsWith" -}}
{{- $ctx := .context -}}
{{ include "philotes-common.selectorLabelsWith" . }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .component | default (include "philotes-common.component" $ctx) | quote }}
app.kubernetes.io/part-of: philotes
app.kubernetes.io/managed-by: {{ $ctx.Release.Service | quote }}
helm.sh/chart: {{ include "philotes-common.chart" $ctx | quote }}
{{- end -}}

{{- define "philotes-common.labels" -}}
{{- include "philotes-common.labelsWith" (dict "context" .) -}}
{{- end -}}

{{/*
Pod selector of another Philotes component of the same release, as a JSON map, for network
rules between components. Input: dict "context" $ "component" "lakekeeper".
*/}}
{{- define "philotes-common.componentPods" -}}
{{- toJson (dict "app.kubernetes.io/name" (include "philotes-common.appName" .component) "app.kubernetes.io/instance" .context.Release.Name) -}}
{{- end -}}

{{/*
Address of a service of the same release, <release>-<service>, used when a value is left
empty: the umbrella chart names its in-cluster services after the release.
Input: dict "context" $ "value" <configured address> "service" "postgresql".
*/}}
{{- define "philotes-common.releaseAddress" -}}
{{- .value | default (printf "%s-%s" .context.Release.Name .service) -}}
{{- end -}}

{{/*
The ConfigMap in which the release's Lakekeeper bootstrap Job publishes the warehouse id (key
warehouse-id) and the workers read it: one name for both charts, from the release name alone.
*/}}
{{- define "philotes-common.warehouseConfigMap" -}}
{{- printf "%s-lakekeeper-warehouse" .Release.Name -}}
{{- end -}}

{{/* ServiceAccount the pods run as. */}}
{{- define "philotes-common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "philotes-common.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}
