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
