{{/*
Pieces of every Philotes pod. The Philotes images (and every Job here) run as the distroless
nonroot user 65532 and write nothing to disk outside their volumes, so the restricted Pod
Security Standard holds with a read-only root filesystem. Images that ship their own user (the
dev data services) pass its uid to the *As variants. Every pod also sets enableServiceLinks:
false: Kubernetes would otherwise inject variables such as PHILOTES_API_PORT=tcp://... for the
Service philotes-api, inside the PHILOTES_* namespace the programs read their configuration from.
*/}}
{{- define "philotes-common.podSecurityContext" -}}
{{- include "philotes-common.podSecurityContextAs" 65532 -}}
{{- end -}}

{{- define "philotes-common.containerSecurityContext" -}}
{{- include "philotes-common.containerSecurityContextAs" 65532 -}}
{{- end -}}

{{/* Pod security context of the restricted standard for a uid (also the gid and fsGroup). */}}
{{- define "philotes-common.podSecurityContextAs" -}}
runAsNonRoot: true
runAsUser: {{ int . }}
runAsGroup: {{ int . }}
fsGroup: {{ int . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context of the restricted standard for a uid, root filesystem read-only. */}}
{{- define "philotes-common.containerSecurityContextAs" -}}
runAsNonRoot: true
runAsUser: {{ int . }}
runAsGroup: {{ int . }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Scheduling and pull settings read from a chart's values: imagePullSecrets, nodeSelector,
tolerations, affinity, priorityClassName. Input: the chart's .Values. Empty when none is set.
*/}}
{{- define "philotes-common.podPlacement" -}}
{{- $placement := dict -}}
{{- range $key := list "imagePullSecrets" "priorityClassName" "nodeSelector" "tolerations" "affinity" -}}
{{- with get $ $key -}}
{{- $_ := set $placement $key . -}}
{{- end -}}
{{- end -}}
{{- with $placement -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{/*
Spread replicas over zones and nodes without blocking scheduling on small clusters.
Input: dict "selector" <selector labels YAML> "maxSkew" <int>.
*/}}
{{- define "philotes-common.topologySpreadConstraints" -}}
{{- $constraints := list -}}
{{- range list "topology.kubernetes.io/zone" "kubernetes.io/hostname" -}}
{{- $constraints = append $constraints (dict "topologyKey" . "maxSkew" (int $.maxSkew) "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" (dict "matchLabels" (fromYaml $.selector))) -}}
{{- end -}}
{{- toYaml $constraints -}}
{{- end -}}

{{/*
HTTP liveness and readiness probes. The images have no shell, so probes are httpGet, or for a
liveness that must not depend on what readiness checks, tcpSocket.
Input: dict "port" <port name> "liveness" <path> "readiness" <path> "probes" .Values.probes
(timings per probe: initialDelaySeconds, periodSeconds, timeoutSeconds, failureThreshold), and
optionally "livenessTCP" true (liveness is a TCP connection to the port instead).
*/}}
{{- define "philotes-common.httpProbes" -}}
{{- $probes := dict -}}
{{- range $probe, $path := dict "liveness" .liveness "readiness" .readiness -}}
{{- $timing := get $.probes $probe | default dict -}}
{{- $check := dict "httpGet" (dict "path" $path "port" $.port) -}}
{{- if and (eq $probe "liveness") $.livenessTCP -}}
{{- $check = dict "tcpSocket" (dict "port" $.port) -}}
{{- end -}}
{{- $_ := set $probes (printf "%sProbe" $probe) (merge $check $timing) -}}
{{- end -}}
{{- toYaml $probes -}}
{{- end -}}

{{/*
Resources are required on every container: requests and limits, so pods get a QoS class, and
ephemeral-storage in both, so a container that fills the node's disk is evicted alone. The
images write nothing to their read-only root; what counts is the container's logs (the kubelet
keeps up to 5 files of 10Mi by default), the Jobs' /tmp (an emptyDir of 64Mi) and, for a dev data
service without persistence, its data. The charts' defaults are sized from that.
*/}}
{{- define "philotes-common.resources" -}}
{{- $resources := .resources | default dict -}}
{{- if not (and $resources.requests $resources.limits) -}}
{{- fail (printf "%s: %s needs both requests and limits" .name .field) -}}
{{- end -}}
{{- if not (and (hasKey $resources.requests "ephemeral-storage") (hasKey $resources.limits "ephemeral-storage")) -}}
{{- fail (printf "%s: %s needs ephemeral-storage in both requests and limits (the container's logs and emptyDirs count against it)" .name .field) -}}
{{- end -}}
{{- toYaml $resources -}}
{{- end -}}

{{/*
The ServiceAccount of a chart. Its token is mounted only where a pod needs it (the pods set
automountServiceAccountToken themselves), so the account itself never automounts.
*/}}
{{- define "philotes-common.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "philotes-common.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "philotes-common.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{/*
Prometheus Operator ServiceMonitor scraping /metrics on a named Service port.
Input: dict "context" $ "port" <port name>; reads .Values.serviceMonitor.
*/}}
{{- define "philotes-common.serviceMonitor" -}}
{{- $ctx := .context -}}
{{- with $ctx.Values.serviceMonitor -}}
{{- if .enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "philotes-common.fullname" $ctx }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "philotes-common.labels" $ctx | nindent 4 }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "philotes-common.selectorLabels" $ctx | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ $ctx.Release.Namespace }}
  endpoints:
    - port: {{ $.port }}
      path: /metrics
      interval: {{ .interval }}
      scrapeTimeout: {{ .scrapeTimeout }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* sha256 of any value, for the checksum/config and checksum/secret pod annotations. */}}
{{- define "philotes-common.checksum" -}}
{{- toJson . | sha256sum -}}
{{- end -}}
