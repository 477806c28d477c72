{{/*
Guardrails: the annotations every Philotes workload carries, and the PodDisruptionBudget and
NetworkPolicy built from them. The Kustomize guardrail function builds the same objects from the
same annotations, so both doors must stay byte-for-byte equivalent: change both together.

A workload describes its traffic once, as a "network" map:
  ingress: [{port, protocol, from: [{namespace: <role in global.networkPolicy.namespaces>} | {pods: {labels}}]}]
  egress:  [{endpoint: <name in global.networkPolicy.endpoints>} | {pods: {labels}, port, protocol}]
That map goes verbatim into the guardrails.philotes.io/network annotation and drives the
NetworkPolicy below.
*/}}

{{/*
maxUnavailable of a PDB, checked: a positive integer or a percentage from 1% to 100%.
Input: dict "value" <value> "field" <values path> "name" <workload>.
*/}}
{{- define "philotes-common.maxUnavailable" -}}
{{- $value := toString .value -}}
{{- if not (regexMatch "^([1-9][0-9]*|([1-9][0-9]?|100)%)$" $value) -}}
{{- fail (printf "%s: %s %q is not allowed: use a positive integer or a percentage from 1%% to 100%%" .name .field $value) -}}
{{- end -}}
{{- $value -}}
{{- end -}}

{{/*
Workload annotations. Input: dict "context" $ "network" <network map> "maxUnavailable" <checked
value> and optionally "scaling" (the worker's replication-slot map).
*/}}
{{- define "philotes-common.guardrailAnnotations" -}}
guardrails.philotes.io/environment: {{ include "philotes-common.environment" .context | quote }}
guardrails.philotes.io/network: {{ toJson .network | quote }}
guardrails.philotes.io/max-unavailable: {{ .maxUnavailable | quote }}
{{- with .scaling }}
guardrails.philotes.io/scaling: {{ toJson . | quote }}
{{- end }}
{{- end -}}

{{/*
PodDisruptionBudget of a workload. Never minAvailable: on a singleton it would block every node
drain. AlwaysAllow lets a drain evict pods that are not ready anyway.
Input: dict "context" $ "name" <workload> "labels" <labels YAML> "selector" <selector YAML>
"maxUnavailable" <checked value>.
*/}}
{{- define "philotes-common.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  {{- if hasSuffix "%" .maxUnavailable }}
  maxUnavailable: {{ .maxUnavailable | quote }}
  {{- else }}
  maxUnavailable: {{ atoi .maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- .selector | nindent 6 }}
  unhealthyPodEvictionPolicy: AlwaysAllow
{{- end -}}

{{/* Peer selecting a namespace by the label Kubernetes sets on every namespace. */}}
{{- define "philotes-common.namespacePeer" -}}
{{- toJson (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" .))) -}}
{{- end -}}

{{/* A ports entry; protocol defaults to TCP. Input: a map with port and optionally protocol. */}}
{{- define "philotes-common.networkPort" -}}
{{- toJson (dict "protocol" (.protocol | default "TCP") "port" (int .port)) -}}
{{- end -}}

{{/*
Egress rule to a named endpoint of global.networkPolicy.endpoints, checked.
Input: dict "name" <workload> "endpoint" <endpoint name> "endpoints" <the endpoints map>.
*/}}
{{- define "philotes-common.endpointRule" -}}
{{- $field := printf "global.networkPolicy.endpoints.%s" .endpoint -}}
{{- $endpoint := get .endpoints .endpoint -}}
{{- if not $endpoint -}}
{{- fail (printf "%s: %s is not defined: %s sends traffic to it; give its cidrs or pods and its port" .name $field .name) -}}
{{- end -}}
{{- if eq (len (compact (list $endpoint.cidrs $endpoint.pods))) 1 | not -}}
{{- fail (printf "%s: %s needs exactly one of cidrs or pods" .name $field) -}}
{{- end -}}
{{- if not $endpoint.port -}}
{{- fail (printf "%s: %s.port is required" .name $field) -}}
{{- end -}}
{{- if and $endpoint.protocol (not (has $endpoint.protocol (list "TCP" "UDP" "SCTP"))) -}}
{{- fail (printf "%s: %s.protocol %q is not allowed: use TCP, UDP or SCTP" .name $field (toString $endpoint.protocol)) -}}
{{- end -}}
{{- $peers := list -}}
{{- if $endpoint.cidrs -}}
{{- if $endpoint.namespace -}}
{{- fail (printf "%s: %s.namespace only applies to pods, not to cidrs" .name $field) -}}
{{- end -}}
{{- range $index, $cidr := $endpoint.cidrs -}}
{{- $cidrField := printf "%s.cidrs[%d]" $field $index -}}
{{- if and (eq (regexReplaceAll "^.*/" $cidr "") "0") (not $endpoint.allowAnyDestination) -}}
{{- fail (printf "%s: %s %q opens egress to any address; list the real ranges or set %s.allowAnyDestination: true" $.name $cidrField $cidr $field) -}}
{{- end -}}
{{- with include "philotes-common.ipv4NetworkAddress" $cidr -}}
{{- if ne . $cidr -}}
{{- fail (printf "%s: %s %q has host bits set; use %s" $.name $cidrField $cidr .) -}}
{{- end -}}
{{- end -}}
{{- $peers = append $peers (dict "ipBlock" (dict "cidr" $cidr)) -}}
{{- end -}}
{{- else -}}
{{- $peer := dict "podSelector" (dict "matchLabels" $endpoint.pods) -}}
{{- with $endpoint.namespace -}}
{{- $peer = merge $peer (include "philotes-common.namespacePeer" . | fromJson) -}}
{{- end -}}
{{- $peers = append $peers $peer -}}
{{- end -}}
{{- toJson (dict "to" $peers "ports" (list (include "philotes-common.networkPort" $endpoint | fromJson))) -}}
{{- end -}}

{{/*
An IPv4 prefix with its host bits cleared ("10.0.0.7/24" gives "10.0.0.0/24"), as the guardrail
function requires its cidrs; empty for anything else (the schema checks the syntax).
*/}}
{{- define "philotes-common.ipv4NetworkAddress" -}}
{{- if regexMatch "^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+/[0-9]+$" . -}}
{{- $prefix := splitList "/" . -}}
{{- $address := 0 -}}
{{- range splitList "." (first $prefix) -}}
{{- $address = add (mul $address 256) (atoi .) -}}
{{- end -}}
{{- $block := 1 -}}
{{- range until (sub 32 (atoi (last $prefix)) | int) -}}
{{- $block = mul $block 2 -}}
{{- end -}}
{{- $network := sub $address (mod $address $block) -}}
{{- $octets := list -}}
{{- range $shift := list 16777216 65536 256 1 -}}
{{- $octets = append $octets (toString (mod (div $network $shift) 256)) -}}
{{- end -}}
{{- printf "%s/%s" (join "." $octets) (last $prefix) -}}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy of a workload: its ingress rules, then egress to DNS first and to each entry.
Input: dict "context" $ "name" <workload> "labels" <labels YAML> "selector" <selector YAML>
"network" <network map> and optionally "annotations" (a map; a workload's policy has none, as
the guardrail function builds it without).
*/}}
{{- define "philotes-common.networkPolicy" -}}
{{- $name := .name -}}
{{- $config := (include "philotes-common.global" .context | fromJson).networkPolicy -}}
{{- $ingress := list -}}
{{- range .network.ingress -}}
{{- $from := list -}}
{{- range .from -}}
{{- if .namespace -}}
{{- $namespace := get $config.namespaces .namespace -}}
{{- if not $namespace -}}
{{- fail (printf "%s: global.networkPolicy.namespaces.%s is not defined: %s receives traffic from it" $name .namespace $name) -}}
{{- end -}}
{{- $from = append $from (include "philotes-common.namespacePeer" $namespace | fromJson) -}}
{{- else -}}
{{- $from = append $from (dict "podSelector" (dict "matchLabels" .pods)) -}}
{{- end -}}
{{- end -}}
{{- $ingress = append $ingress (dict "from" $from "ports" (list (include "philotes-common.networkPort" . | fromJson))) -}}
{{- end -}}
{{- $dnsPeer := merge (include "philotes-common.namespacePeer" $config.dns.namespace | fromJson) (dict "podSelector" (dict "matchLabels" $config.dns.pods)) -}}
{{- $dnsPorts := list (dict "protocol" "UDP" "port" (int $config.dns.port)) (dict "protocol" "TCP" "port" (int $config.dns.port)) -}}
{{- $egress := list (dict "to" (list $dnsPeer) "ports" $dnsPorts) -}}
{{- range .network.egress -}}
{{- if .endpoint -}}
{{- $egress = append $egress (include "philotes-common.endpointRule" (dict "name" $name "endpoint" .endpoint "endpoints" ($config.endpoints | default dict)) | fromJson) -}}
{{- else -}}
{{- $egress = append $egress (dict "to" (list (dict "podSelector" (dict "matchLabels" .pods))) "ports" (list (include "philotes-common.networkPort" . | fromJson))) -}}
{{- end -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  podSelector:
    matchLabels:
      {{- .selector | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  {{- with $ingress }}
  ingress:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  egress:
    {{- toYaml $egress | nindent 4 }}
{{- end -}}

{{/* "true" when global.networkPolicy.enabled (the Jobs' NetworkPolicies follow it in both doors). */}}
{{- define "philotes-common.networkPolicyEnabled" -}}
{{- if (include "philotes-common.global" . | fromJson).networkPolicy.enabled -}}true{{- end -}}
{{- end -}}

{{/*
"true" when the chart renders the guardrail objects (global.guardrailObjects is chart); in the
Kustomize door philotes-guardrails builds them from the workloads' annotations instead.
*/}}
{{- define "philotes-common.chartRendersGuardrails" -}}
{{- if eq (include "philotes-common.global" . | fromJson).guardrailObjects "chart" -}}true{{- end -}}
{{- end -}}

{{/* "true" when the chart renders the workloads' NetworkPolicies and the default deny. */}}
{{- define "philotes-common.chartRendersNetworkPolicies" -}}
{{- if and (include "philotes-common.networkPolicyEnabled" .) (include "philotes-common.chartRendersGuardrails" .) -}}true{{- end -}}
{{- end -}}

{{/* The namespace-wide default deny: only traffic a workload's own policy allows gets through. */}}
{{- define "philotes-common.defaultDenyNetworkPolicy" -}}
{{- if include "philotes-common.chartRendersNetworkPolicies" . -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ (include "philotes-common.global" . | fromJson).networkPolicy.defaultDenyName }}
  namespace: {{ .Release.Namespace }}
  {{- /* It covers every workload of the namespace, so it carries only the labels they
         all share: the same ones the guardrail function gives the default deny it adds. */}}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name | quote }}
    app.kubernetes.io/part-of: philotes
    app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
{{- end -}}
{{- end -}}

{{/* Checked podDisruptionBudget.maxUnavailable of a chart with one workload, <release>-<component>. */}}
{{- define "philotes-common.chartMaxUnavailable" -}}
{{- include "philotes-common.maxUnavailable" (dict "value" .Values.podDisruptionBudget.maxUnavailable "field" "podDisruptionBudget.maxUnavailable" "name" (include "philotes-common.fullname" .)) -}}
{{- end -}}

{{/* PodDisruptionBudget of a chart with one workload, when podDisruptionBudget.enabled. */}}
{{- define "philotes-common.chartPodDisruptionBudget" -}}
{{- if and .Values.podDisruptionBudget.enabled (include "philotes-common.chartRendersGuardrails" .) -}}
{{- include "philotes-common.podDisruptionBudget" (dict
    "context" .
    "name" (include "philotes-common.fullname" .)
    "labels" (include "philotes-common.labels" .)
    "selector" (include "philotes-common.selectorLabels" .)
    "maxUnavailable" (include "philotes-common.chartMaxUnavailable" .)
  ) -}}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy of a chart with one workload, when global.networkPolicy.enabled.
Input: dict "context" $ "network" <network map>.
*/}}
{{- define "philotes-common.chartNetworkPolicy" -}}
{{- if include "philotes-common.chartRendersNetworkPolicies" .context -}}
{{- include "philotes-common.networkPolicy" (dict
    "context" .context
    "name" (include "philotes-common.fullname" .context)
    "labels" (include "philotes-common.labels" .context)
    "selector" (include "philotes-common.selectorLabels" .context)
    "network" .network
  ) -}}
{{- end -}}
{{- end -}}
