{{/*
The dev data services (charts postgresql and object-store): one pod each, credentials from
values, dev only.
*/}}

{{/*
Annotations of every object of a dev data service, as JSON: Argo CD applies them in wave -2,
before the Jobs (-1) that need them and the workloads (0).
*/}}
{{- define "philotes-common.dataServiceAnnotations" -}}
{{- toJson (dict "argocd.argoproj.io/sync-wave" "-2") -}}
{{- end -}}

{{/*
The dev data services (one pod, emptyDir by default, credentials from values) are refused
outside the development profile, which points the Philotes charts at external services
instead.
Input: dict "context" $ "enabledBy" <the umbrella value that deploys the chart>.
*/}}
{{- define "philotes-common.requireDev" -}}
{{- $environment := include "philotes-common.environment" .context -}}
{{- if include "philotes-common.isProtectedEnvironment" .context -}}
{{- fail (printf "%s is a dev data service and is not allowed in %s: set %s to false and point the Philotes charts at an external service (their database host or storage endpoint and existingSecret; see charts/philotes/README.md)" (include "philotes-common.fullname" .context) $environment .enabledBy) -}}
{{- end -}}
{{- /* They carry no guardrail annotations, so no NetworkPolicy admits their traffic. */ -}}
{{- if include "philotes-common.networkPolicyEnabled" .context -}}
{{- fail (printf "%s is a dev data service and has no NetworkPolicy: with global.networkPolicy.enabled the namespace's default deny would cut it off in %s; set %s to false or global.networkPolicy.enabled to false" (include "philotes-common.fullname" .context) $environment .enabledBy) -}}
{{- end -}}
{{- end -}}

{{/*
The data volume of a dev data service, from .Values.persistence: a pod volume "data" (an
emptyDir) without persistence, or, with it, the StatefulSet's volumeClaimTemplates. Each
helper renders nothing in the other case.
*/}}
{{- define "philotes-common.dataVolume" -}}
{{- if not .Values.persistence.enabled -}}
- name: data
  emptyDir: {}
{{- end -}}
{{- end -}}

{{- define "philotes-common.dataVolumeClaimTemplates" -}}
{{- with .Values.persistence -}}
{{- if .enabled -}}
volumeClaimTemplates:
  - metadata:
      name: data
      labels:
        {{- include "philotes-common.selectorLabels" $ | nindent 8 }}
    spec:
      accessModes:
        - ReadWriteOnce
      {{- with .storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ .size }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The Secret of a dev data service: its credentials, rendered from values (dev only).
Input: dict "context" $ "enabledBy" <umbrella value> "data" <map, checked>.
*/}}
{{- define "philotes-common.dataServiceSecret" -}}
{{- include "philotes-common.requireDev" . -}}
{{- include "philotes-common.secret" (dict
    "context" .context
    "name" (include "philotes-common.fullname" .context)
    "labels" (include "philotes-common.labels" .context)
    "data" .data
    "annotations" (include "philotes-common.dataServiceAnnotations" . | fromJson)
  ) -}}
{{- end -}}

{{/*
The Service of a dev data service, <release>-<component>, on its one port.
Input: dict "context" $ "port" <number> "portName" <the container port's name>.
*/}}
{{- define "philotes-common.dataServiceService" -}}
{{- $ctx := .context -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "philotes-common.fullname" $ctx }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "philotes-common.labels" $ctx | nindent 4 }}
  annotations:
    {{- include "philotes-common.dataServiceAnnotations" . | fromJson | toYaml | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "philotes-common.selectorLabels" $ctx | nindent 4 }}
  ports:
    - name: {{ .portName }}
      port: {{ int .port }}
      targetPort: {{ .portName }}
      protocol: TCP
{{- end -}}
