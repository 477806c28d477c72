{{/*
Credentials. Philotes treats an empty variable as unset and falls back to built-in default
credentials, so an empty secret value must never be rendered: it fails here instead. Staging and
production take credentials from an existing Secret only, so they never appear in manifests.
*/}}

{{/*
A credential for a Secret the chart renders: fails when empty. With "dsn" true it also refuses
the characters Philotes cannot carry unescaped in a DSN or URL (space @ / ? # :).
Input: dict "context" $ "value" <value> "field" <values path> and optionally "dsn" true.
*/}}
{{- define "philotes-common.secretValue" -}}
{{- $name := include "philotes-common.fullname" .context -}}
{{- $value := toString (.value | default "") -}}
{{- if not $value -}}
{{- fail (printf "%s: %s is empty: set it, or set the existing Secret that holds it" $name .field) -}}
{{- end -}}
{{- if and .dsn (regexMatch "[ @/?#:]" $value) -}}
{{- fail (printf "%s: %s contains a space or one of @ / ? # : which Philotes passes unescaped into a connection string; choose another password" $name .field) -}}
{{- end -}}
{{- $value -}}
{{- end -}}

{{/*
Name of the Secret a workload reads: the existing Secret when one is set, else the chart's own
(named "name"). Staging and production refuse the chart's own.
Input: dict "context" $ "existingSecret" <value> "field" <its values path> "name" <chart Secret>.
*/}}
{{- define "philotes-common.secretName" -}}
{{- if .existingSecret -}}
{{- .existingSecret -}}
{{- else if include "philotes-common.isProtectedEnvironment" .context -}}
{{- fail (printf "%s: %s is required in %s: credentials are not rendered into %s manifests; create the Secret and name it here" .name .field (include "philotes-common.environment" .context) (include "philotes-common.environment" .context)) -}}
{{- else -}}
{{- .name -}}
{{- end -}}
{{- end -}}

{{/*
A Secret the chart renders from plaintext values already checked by secretValue.
Input: dict "context" $ "name" <name> "labels" <labels YAML> "data" <map key -> value>
and optionally "annotations" (a map).
*/}}
{{- define "philotes-common.secret" -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ .name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
type: Opaque
data:
  {{- range $key, $value := .data }}
  {{ $key }}: {{ $value | b64enc | quote }}
  {{- end }}
{{- end -}}

{{/*
Environment variables read from a Secret, as a JSON list of EnvVar.
Input: dict "secret" <Secret name> "keys" <map of variable name -> Secret key>.
*/}}
{{- define "philotes-common.secretEnv" -}}
{{- $env := list -}}
{{- range $variable, $key := .keys -}}
{{- $env = append $env (dict "name" $variable "valueFrom" (dict "secretKeyRef" (dict "name" $.secret "key" $key))) -}}
{{- end -}}
{{- toJson $env -}}
{{- end -}}

{{/*
checksum/secret: the rendered data when the chart owns the Secret; an existing Secret's content
is unknown here, so its name stands in (pods restart when another Secret is chosen).
Input: dict "existingSecret" <value> "data" <map>.
*/}}
{{- define "philotes-common.secretChecksum" -}}
{{- include "philotes-common.checksum" (ternary .existingSecret .data (not (empty .existingSecret))) -}}
{{- end -}}

{{/*
The ExternalSecret that produces a Secret the chart reads but does not render, when
global.externalSecrets.enabled; nothing otherwise. Like the chart's own Secrets it is a
pre-install hook, so that the Secret exists before the Jobs that read it (a PreSync hook under
Argo CD), and it leaves the Secret alone when it is replaced or deleted (creationPolicy Orphan):
the workloads keep their credentials while a new hook is created.
Input: dict "context" $ "name" <Secret name> "keys" <list of keys the pods read> "labels" <labels YAML>
"field" <values path that names the Secret, for errors>.
*/}}
{{- define "philotes-common.externalSecret" -}}
{{- $ctx := .context -}}
{{- $external := (include "philotes-common.global" $ctx | fromJson).externalSecrets | default dict -}}
{{- if $external.enabled -}}
{{- if not $external.storeRef.name -}}
{{- fail (printf "%s: global.externalSecrets.storeRef.name is empty: name the SecretStore or ClusterSecretStore the ExternalSecret of %s (%s) reads from, or turn global.externalSecrets.enabled off" (include "philotes-common.fullname" $ctx) .name .field) -}}
{{- end -}}
{{- $remote := printf "%s%s" ($external.remoteKeyPrefix | default "") .name }}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
  annotations:
    {{- include "philotes-common.jobSecretAnnotations" $ctx | fromJson | toYaml | nindent 4 }}
spec:
  refreshInterval: {{ $external.refreshInterval }}
  secretStoreRef:
    name: {{ $external.storeRef.name }}
    kind: {{ $external.storeRef.kind }}
  target:
    name: {{ .name }}
    creationPolicy: Orphan
  data:
    {{- range $key := .keys | uniq | sortAlpha }}
    - secretKey: {{ $key }}
      remoteRef:
        key: {{ $remote }}
        property: {{ $key }}
    {{- end }}
{{- end -}}
{{- end -}}
