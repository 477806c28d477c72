{{/* ConfigMap data, as JSON. Empty settings are left out: Lakekeeper then uses its defaults. */}}
{{- define "lakekeeper.config" -}}
{{- $config := dict
  "LAKEKEEPER__BASE_URI" .Values.config.baseUri
  "LAKEKEEPER__AUTHZ_BACKEND" .Values.config.authzBackend
  "LAKEKEEPER__OPENID_PROVIDER_URI" .Values.config.openidProviderUri
-}}
{{- include "philotes-common.withExtraConfig" (dict "context" . "config" $config) -}}
{{- end -}}

{{/* Secret-held variables of the server and the migration, and their Secret keys, as JSON. */}}
{{- define "lakekeeper.secretKeys" -}}
{{- toJson (dict "LAKEKEEPER__PG_DATABASE_URL_WRITE" "pg-database-url-write" "LAKEKEEPER__PG_ENCRYPTION_KEY" "pg-encryption-key") -}}
{{- end -}}

{{/* Secret-held variables of the bootstrap Job (the warehouse's S3 keys), as JSON; empty without it. */}}
{{- define "lakekeeper.bootstrapSecretKeys" -}}
{{- $keys := dict -}}
{{- if .Values.bootstrap.enabled -}}
{{- $keys = dict "STORAGE_ACCESS_KEY" "storage-access-key" "STORAGE_SECRET_KEY" "storage-secret-key" -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{- define "lakekeeper.secretName" -}}
{{- include "philotes-common.secretName" (dict "context" . "existingSecret" .Values.secrets.existingSecret "field" "secrets.existingSecret" "name" (include "philotes-common.fullname" .)) -}}
{{- end -}}

{{/* Data of the Secret the chart renders when no existingSecret is set, as JSON (checked). */}}
{{- define "lakekeeper.secretData" -}}
{{- $data := dict -}}
{{- if not .Values.secrets.existingSecret -}}
{{- with .Values.database -}}
{{- $password := include "philotes-common.secretValue" (dict "context" $ "value" $.Values.secrets.databasePassword "field" "secrets.databasePassword" "dsn" true) -}}
{{- $host := include "philotes-common.releaseAddress" (dict "context" $ "value" .host "service" "postgresql") -}}
{{- $_ := set $data "pg-database-url-write" (printf "postgresql://%s:%s@%s:%d/%s?sslmode=%s" .user $password $host (int .port) .name .sslmode) -}}
{{- end -}}
{{- $_ := set $data "pg-encryption-key" (include "philotes-common.secretValue" (dict "context" $ "value" .Values.secrets.encryptionKey "field" "secrets.encryptionKey")) -}}
{{- $storageKeys := dict "storage-access-key" "storageAccessKey" "storage-secret-key" "storageSecretKey" -}}
{{- range $key := values (include "lakekeeper.bootstrapSecretKeys" . | fromJson) -}}
{{- $field := get $storageKeys $key -}}
{{- $_ := set $data $key (include "philotes-common.secretValue" (dict "context" $ "value" (get $.Values.secrets $field) "field" (printf "secrets.%s" $field))) -}}
{{- end -}}
{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{/*
Traffic of the catalog: 8181 from the Philotes workers and api, the bootstrap Job and any query
engines listed; 9000 from monitoring; egress to its database and the object store (it checks a
warehouse's storage profile).
*/}}
{{- define "lakekeeper.network" -}}
{{- $clients := list -}}
{{- range $component := list "worker" "api" -}}
{{- $clients = append $clients (dict "pods" (include "philotes-common.componentPods" (dict "context" $ "component" $component) | fromJson)) -}}
{{- end -}}
{{- if .Values.bootstrap.enabled -}}
{{- $clients = append $clients (dict "pods" (include "philotes-common.jobSelectorLabels" (dict "context" . "job" "bootstrap") | fromYaml)) -}}
{{- end -}}
{{- $clients = concat $clients .Values.networkPolicy.additionalIngressFrom -}}
{{- $ingress := list
  (dict "port" 8181 "protocol" "TCP" "from" $clients)
  (dict "port" 9000 "protocol" "TCP" "from" (list (dict "namespace" "monitoring")))
-}}
{{- toJson (dict "ingress" $ingress "egress" (list (dict "endpoint" "lakekeeper-database") (dict "endpoint" "object-store"))) -}}
{{- end -}}

{{/* checksum/secret of the pods that read the Secret. */}}
{{- define "lakekeeper.secretChecksum" -}}
{{- include "philotes-common.secretChecksum" (dict "existingSecret" .Values.secrets.existingSecret "data" (include "lakekeeper.secretData" . | fromJson)) -}}
{{- end -}}

{{/*
The S3 storage profile of the warehouse the bootstrap Job creates, as JSON, checked. An empty
endpoint means the release's dev object store.
*/}}
{{- define "lakekeeper.storageProfile" -}}
{{- $name := include "philotes-common.fullname" . -}}
{{- with .Values.bootstrap.warehouse.storage -}}
{{- $endpoint := .endpoint | default (printf "http://%s" (include "philotes-common.releaseAddress" (dict "context" $ "service" "object-store:8333"))) -}}
{{- if not (regexMatch "^https?://[^/?#]+/?$" $endpoint) -}}
{{- fail (printf "%s: bootstrap.warehouse.storage.endpoint %q is not an S3 endpoint URL: use http(s)://host[:port]" $name $endpoint) -}}
{{- end -}}
{{- toJson (dict "bucket" .bucket "keyPrefix" .keyPrefix "endpoint" $endpoint "region" .region "pathStyleAccess" .pathStyleAccess "flavor" .flavor) -}}
{{- end -}}
{{- end -}}

{{/* ServiceAccount, Role and RoleBinding of the bootstrap Job. */}}
{{- define "lakekeeper.bootstrapServiceAccount" -}}
{{- printf "%s-bootstrap" (include "philotes-common.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end -}}

{{/*
Labels of the warehouse ConfigMap the bootstrap Job writes, as JSON. No app.kubernetes.io/instance:
an Argo CD that tracks by that label would count the Job's object as its own and prune it.
*/}}
{{- define "lakekeeper.warehouseConfigMapLabels" -}}
{{- toJson (dict
  "app.kubernetes.io/name" (include "philotes-common.name" .)
  "app.kubernetes.io/component" "warehouse"
  "app.kubernetes.io/part-of" "philotes"
  "app.kubernetes.io/managed-by" (include "philotes-common.jobAppName" (dict "context" . "job" "bootstrap"))
) -}}
{{- end -}}
