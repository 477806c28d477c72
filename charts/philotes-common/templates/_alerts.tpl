{{/*
A Prometheus Operator PrometheusRule with a chart's alerts, when .Values.prometheusRule.enabled.
Every expression is scoped to the release's namespace; each alert links its section of
docs/runbooks.md (global.runbookBaseUrl, or the file's path in the deployment repository).
Input: dict "context" $ "alerts" <list of dict: alert, expr, for, severity, summary, description>.
*/}}
{{- define "philotes-common.prometheusRule" -}}
{{- $ctx := .context -}}
{{- with $ctx.Values.prometheusRule -}}
{{- if .enabled -}}
{{- $global := include "philotes-common.global" $ctx | fromJson -}}
{{- $runbooks := $global.runbookBaseUrl | default "docs/runbooks.md" -}}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ include "philotes-common.fullname" $ctx }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "philotes-common.labels" $ctx | nindent 4 }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  groups:
    - name: {{ include "philotes-common.fullname" $ctx }}
      rules:
        {{- range $.alerts }}
        - alert: {{ .alert }}
          expr: {{ .expr | quote }}
          for: {{ .for }}
          labels:
            severity: {{ .severity }}
          annotations:
            summary: {{ .summary | quote }}
            description: {{ .description | quote }}
            runbook_url: {{ printf "%s#%s" $runbooks (lower .alert) | quote }}
        {{- end }}
{{- end -}}
{{- end -}}
{{- end -}}
