{{/* ConfigMap data, as JSON. Empty settings are left out: Lakekeeper then uses its defaults. */}}
{{- define "lakekeeper.config" -}}
{{- $config := dict
  "LAKEKEEPER__BASE_URI" .Values.config.baseUri
  "LAKEKEEPER__AUTHZ_BACKEND" .Values.config.authzBackend
  "LAKEKEEPER__OPENID_PROVIDER_URI" .Values.config.openidProviderUri
-}}
{{- include "philotes-common.withExtraConfig" (dict "context" . "config" $config) -}}
{{- end -}}

{{/* Secret-held variables and their Secret keys, as JSON. */}}
{{- define "lakekeeper.secretKeys" -}}
{{- toJson (dict "LAKEKEEPER__PG_DATABASE_URL_WRITE" "pg-database-url-write" "LAKEKEEPER__PG_ENCRYPTION_KEY" "pg-encryption-key") -}}
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
{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{/*
Traffic of the catalog: 8181 from the Philotes workers and api (and any query engines listed),
9000 from monitoring; egress to its database and the object store (it checks storage profiles).
*/}}
{{- define "lakekeeper.network" -}}
{{- $clients := list -}}
{{- range $component := list "worker" "api" -}}
{{- $clients = append $clients (dict "pods" (include "philotes-common.componentPods" (dict "context" $ "component" $component) | fromJson)) -}}
{{- end -}}
{{- $clients = concat $clients .Values.networkPolicy.additionalIngressFrom -}}
{{- $ingress := list
  (dict "port" 8181 "protocol" "TCP" "from" $clients)
  (dict "port" 9000 "protocol" "TCP" "from" (list (dict "namespace" "monitoring")))
-}}
{{- toJson (dict "ingress" $ingress "egress" (list (dict "endpoint" "lakekeeper-database") (dict "endpoint" "object-store"))) -}}
{{- end -}}

{{/*
The migration Job's pods carry their own app name, so that neither the Service, the PDB nor
the server's NetworkPolicy select them; this is their selector and network.
*/}}
{{- define "lakekeeper.migrateName" -}}
{{- printf "%s-migrate" (include "philotes-common.name" .) -}}
{{- end -}}

{{- define "lakekeeper.migrateLabels" -}}
{{- include "philotes-common.labelsWith" (dict "context" . "name" (include "lakekeeper.migrateName" .) "component" "migrate") -}}
{{- end -}}

{{- define "lakekeeper.migrateSelectorLabels" -}}
{{- include "philotes-common.selectorLabelsWith" (dict "context" . "name" (include "lakekeeper.migrateName" .)) -}}
{{- end -}}

{{- define "lakekeeper.migrateNetwork" -}}
{{- toJson (dict "ingress" list "egress" (list (dict "endpoint" "lakekeeper-database"))) -}}
{{- end -}}

{{/*
Pod template of the migration Job. It reads only the Secret: as a pre-install hook it runs
before the chart's other objects exist, so it runs as the namespace's default ServiceAccount
(without its token) and the chart's own Secret is made a hook too.
*/}}
{{- define "lakekeeper.migratePodTemplate" -}}
metadata:
  labels:
    {{- include "lakekeeper.migrateLabels" . | nindent 4 }}
  annotations:
    checksum/secret: {{ include "philotes-common.secretChecksum" (dict "existingSecret" .Values.secrets.existingSecret "data" (include "lakekeeper.secretData" . | fromJson)) }}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- include "philotes-common.podSecurityContext" . | nindent 4 }}
  {{- with include "philotes-common.podPlacement" .Values }}
  {{- . | nindent 2 }}
  {{- end }}
  containers:
    - name: migrate
      image: {{ include "philotes-common.image" (dict "context" . "image" .Values.image) | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - migrate
      securityContext:
        {{- include "philotes-common.containerSecurityContext" . | nindent 8 }}
      env:
        {{- include "philotes-common.secretEnv" (dict "secret" (include "lakekeeper.secretName" .) "keys" (include "lakekeeper.secretKeys" . | fromJson)) | fromJsonArray | toYaml | nindent 8 }}
      resources:
        {{- include "philotes-common.resources" (dict "resources" .Values.resources "field" "resources" "name" (include "philotes-common.fullname" .)) | nindent 8 }}
{{- end -}}
