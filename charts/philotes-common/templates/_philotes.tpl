{{/*
Settings the Philotes api and worker share: environment, buffer database, Vault. Both charts
document the same `database` and `vault` values; these helpers read them from .Values.
*/}}

{{/*
Non-secret PHILOTES_* variables of the buffer database and Vault, as JSON. Philotes reads an
empty variable as unset, so optional settings are left out rather than rendered empty.
*/}}
{{- define "philotes-common.philotesConfig" -}}
{{- $name := include "philotes-common.fullname" . -}}
{{- $db := .Values.database -}}
{{- range $field := list "name" "user" -}}
{{- if not (get $db $field) -}}
{{- fail (printf "%s: database.%s must not be empty" $name $field) -}}
{{- end -}}
{{- end -}}
{{- $config := dict
  "PHILOTES_ENV" (include "philotes-common.philotesEnv" .)
  "PHILOTES_DB_HOST" (include "philotes-common.releaseAddress" (dict "context" . "value" $db.host "service" "postgresql"))
  "PHILOTES_DB_PORT" (toString (int $db.port))
  "PHILOTES_DB_NAME" $db.name
  "PHILOTES_DB_USER" $db.user
  "PHILOTES_DB_SSLMODE" $db.sslmode
  "PHILOTES_DB_MAX_OPEN_CONNS" (toString (int $db.maxOpenConns))
  "PHILOTES_DB_MAX_IDLE_CONNS" (toString (int $db.maxIdleConns))
  "PHILOTES_VAULT_ENABLED" (toString .Values.vault.enabled)
-}}
{{- with .Values.vault -}}
{{- if .enabled -}}
{{- if not .address -}}
{{- fail (printf "%s: vault.address is required when vault.enabled is true" $name) -}}
{{- end -}}
{{- if and (eq .authMethod "kubernetes") (not .role) -}}
{{- fail (printf "%s: vault.role is required when vault.authMethod is kubernetes" $name) -}}
{{- end -}}
{{- $vault := dict
  "PHILOTES_VAULT_ADDRESS" .address
  "PHILOTES_VAULT_AUTH_METHOD" .authMethod
  "PHILOTES_VAULT_ROLE" .role
  "PHILOTES_VAULT_SECRET_MOUNT_PATH" .secretMountPath
  "PHILOTES_VAULT_SECRET_PATH_DATABASE_BUFFER" .secretPaths.databaseBuffer
  "PHILOTES_VAULT_SECRET_PATH_DATABASE_SOURCE" .secretPaths.databaseSource
  "PHILOTES_VAULT_SECRET_PATH_STORAGE_MINIO" .secretPaths.storageMinio
-}}
{{- range $key, $value := $vault -}}
{{- if $value -}}
{{- $_ := set $config $key $value -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/*
Adds .Values.extraConfig to a chart's PHILOTES_* variables, refusing to replace a variable the
chart sets itself (the chart's value is the one its probes, ports and policies rely on).
Input: dict "context" $ "config" <map>. Output: the merged map as JSON.
*/}}
{{- define "philotes-common.withExtraConfig" -}}
{{- $name := include "philotes-common.fullname" .context -}}
{{- $config := deepCopy .config -}}
{{- range $key, $value := .context.Values.extraConfig -}}
{{- if hasKey $config $key -}}
{{- fail (printf "%s: extraConfig.%s is set by the chart from its own values; change that value instead" $name $key) -}}
{{- end -}}
{{- $_ := set $config $key (toString $value) -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* "true" when the pod needs its ServiceAccount token: Vault's kubernetes auth logs in with it. */}}
{{- define "philotes-common.needsServiceAccountToken" -}}
{{- if and .Values.vault.enabled (eq .Values.vault.authMethod "kubernetes") -}}true{{- end -}}
{{- end -}}

{{/* Egress entries every Philotes process needs: the buffer database, and Vault when enabled. */}}
{{- define "philotes-common.philotesEgress" -}}
{{- $egress := list (dict "endpoint" "buffer-database") -}}
{{- if .Values.vault.enabled -}}
{{- $egress = append $egress (dict "endpoint" "vault") -}}
{{- end -}}
{{- toJson $egress -}}
{{- end -}}

{{/*
A ConfigMap of environment variables. Empty values are left out: Philotes reads them as unset.
Input: dict "context" $ "name" <name> "labels" <labels YAML> "data" <map>.
*/}}
{{- define "philotes-common.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  namespace: {{ .context.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
data:
  {{- range $key, $value := .data }}
  {{- if ne (toString $value) "" }}
  {{ $key }}: {{ $value | toString | quote }}
  {{- end }}
  {{- end }}
{{- end -}}

{{/* "true" when the buffer database password comes from the Secret (Vault did not take it over). */}}
{{- define "philotes-common.databasePasswordInSecret" -}}
{{- if not (and .Values.vault.enabled .Values.vault.secretPaths.databaseBuffer) -}}true{{- end -}}
{{- end -}}
