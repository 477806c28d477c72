{{/*
A worker consumes one logical replication slot, and PostgreSQL allows one consumer per slot: a
second worker on the same slot exits. Every value that could start two consumers of one slot
is refused here, before anything renders, and so are sources whose Philotes 0.1.x state would
collide: one database name or one table in two sources.

philotes-worker.sources returns the sources as a JSON list, checked and completed with their
defaults and the names of their objects (workload, secretName).
*/}}
{{- define "philotes-worker.sources" -}}
{{- $prefix := include "philotes-common.fullname" . -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail (printf "%s: replicaCount %v is not allowed: a worker is the only consumer of its replication slot, so each source runs exactly 1 pod; add sources for more throughput" $prefix .Values.replicaCount) -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- fail (printf "%s: autoscaling.enabled is not allowed: an HPA would start a second consumer of a replication slot; use keda.enabled (scales between 0 and 1)" $prefix) -}}
{{- end -}}
{{- $sources := list -}}
{{- $names := dict -}}
{{- $slots := dict -}}
{{- $databases := dict -}}
{{- $tables := dict -}}
{{- range $index, $source := .Values.sources -}}
{{- $field := printf "sources[%d]" $index -}}
{{- $name := toString ($source.name | default "") -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "%s: %s.name %q is not allowed: use lower-case letters, digits and -, starting and ending with a letter or digit" $prefix $field $name) -}}
{{- end -}}
{{- if hasKey $names $name -}}
{{- fail (printf "%s: %s.name %q is used twice (also by %s): each source runs its own worker" $prefix $field $name (get $names $name)) -}}
{{- end -}}
{{- $_ := set $names $name $field -}}
{{- $workload := printf "%s-%s" $prefix $name -}}
{{- if gt (len $workload) 63 -}}
{{- fail (printf "%s: %s.name %q makes the name %s longer than 63 characters; shorten it" $prefix $field $name $workload) -}}
{{- end -}}
{{- range $required := list "database" "user" -}}
{{- if not (get $source $required) -}}
{{- fail (printf "%s: %s.%s must not be empty" $prefix $field $required) -}}
{{- end -}}
{{- end -}}
{{- $slot := $source.slot | default (printf "philotes_%s" (replace "-" "_" $name)) -}}
{{- if not (regexMatch "^[a-z0-9_]{1,63}$" $slot) -}}
{{- fail (printf "%s: %s.slot %q is not allowed: use 1 to 63 of a-z, 0-9 and _ (it goes into SQL)" $prefix $field $slot) -}}
{{- end -}}
{{- $host := include "philotes-common.releaseAddress" (dict "context" $ "value" $source.host "service" "postgresql") -}}
{{- $port := int ($source.port | default 5432) -}}
{{- $consumer := printf "%s:%d slot %s" $host $port $slot -}}
{{- if hasKey $slots $consumer -}}
{{- fail (printf "%s: %s reads %s, as %s does: slot names are unique per server, and two workers cannot consume one replication slot" $prefix $field $consumer (get $slots $consumer)) -}}
{{- end -}}
{{- $_ := set $slots $consumer $field -}}
{{- if hasKey $databases $source.database -}}
{{- fail (printf "%s: %s.database %q is also the database of %s: Philotes 0.1.x keys a worker's checkpoints and buffer rows by postgres-<database> and names its tables <schema>.<table> in one warehouse, so two sources of databases with one name overwrite each other (even on different hosts); replicate databases with distinct names" $prefix $field $source.database (get $databases $source.database)) -}}
{{- end -}}
{{- $_ := set $databases $source.database $field -}}
{{- range $table := $source.tables | default list -}}
{{- if hasKey $tables $table -}}
{{- fail (printf "%s: %s.tables lists %s, as %s does: Philotes 0.1.x names a table <schema>.<table> in the one warehouse, so both workers would write the same Iceberg table" $prefix $field $table (get $tables $table)) -}}
{{- end -}}
{{- $_ := set $tables $table $field -}}
{{- end -}}
{{- $sources = append $sources (dict
  "name" $name
  "field" $field
  "workload" $workload
  "host" $host
  "port" $port
  "database" $source.database
  "user" $source.user
  "sslmode" ($source.sslmode | default "require")
  "slot" $slot
  "publication" ($source.publication | default (printf "philotes_%s" (replace "-" "_" $name)))
  "tables" ($source.tables | default list)
  "existingSecret" ($source.existingSecret | default "")
  "password" ($source.password | default "")
  "secretName" (include "philotes-common.secretName" (dict "context" $ "existingSecret" $source.existingSecret "field" (printf "%s.existingSecret" $field) "name" $workload))
  "resources" ($source.resources | default $.Values.resources)
  "inRelease" (empty $source.host)
  "preparation" (include "philotes-worker.preparation" (dict "context" $ "source" $source "field" $field "inRelease" (empty $source.host)) | fromJson)
) -}}
{{- end -}}
{{- toJson $sources -}}
{{- end -}}

{{/*
The preparation Job of a source, as JSON: {} when the source has none, else {adminSecret,
releaseSecret}. A source of the release's dev PostgreSQL may leave adminSecret empty: that
server's own Secret (releaseSecret true: the release renders it) holds its superuser as
username and password.
Input: dict "context" $ "source" <values entry> "field" <its values path> "inRelease" <bool>.
*/}}
{{- define "philotes-worker.preparation" -}}
{{- $preparation := dict -}}
{{- if hasKey .source "preparation" -}}
{{- $adminSecret := (.source.preparation | default dict).adminSecret | default "" -}}
{{- $ownSecret := false -}}
{{- if not $adminSecret -}}
{{- if not .inRelease -}}
{{- fail (printf "%s: %s.preparation.adminSecret is required: the source is not the release's dev PostgreSQL, so name an existing Secret (keys username and password) of a role that may create replication slots" (include "philotes-common.fullname" .context) .field) -}}
{{- end -}}
{{- $adminSecret = include "philotes-common.releaseAddress" (dict "context" .context "service" "postgresql") -}}
{{- $ownSecret = true -}}
{{- end -}}
{{- $preparation = dict "adminSecret" $adminSecret "releaseSecret" $ownSecret -}}
{{- end -}}
{{- toJson $preparation -}}
{{- end -}}

{{/* Labels of a source's objects. Input: dict "context" $ "source" <source>. */}}
{{- define "philotes-worker.labels" -}}
{{- include "philotes-common.labelsWith" (dict "context" .context "extra" (dict "philotes.io/source" .source.name)) -}}
{{- end -}}

{{/* Selector of a source's pods: one Deployment each. Input as for philotes-worker.labels. */}}
{{- define "philotes-worker.selectorLabels" -}}
{{- include "philotes-common.selectorLabelsWith" (dict "context" .context "extra" (dict "philotes.io/source" .source.name)) -}}
{{- end -}}

{{/* host:port of the S3 store, checked: a scheme makes the worker exit at start. */}}
{{- define "philotes-worker.storageEndpoint" -}}
{{- $endpoint := include "philotes-common.releaseAddress" (dict "context" . "value" .Values.storage.endpoint "service" "object-store:8333") -}}
{{- if regexMatch "^[A-Za-z][A-Za-z0-9+.-]*://" $endpoint -}}
{{- fail (printf "%s: storage.endpoint %q has a scheme: give host:port only (the worker exits otherwise) and set storage.useSsl for TLS" (include "philotes-common.fullname" .) $endpoint) -}}
{{- end -}}
{{- if not (regexMatch "^[A-Za-z0-9.-]+:[0-9]{1,5}$" $endpoint) -}}
{{- fail (printf "%s: storage.endpoint %q is not host:port" (include "philotes-common.fullname" .) $endpoint) -}}
{{- end -}}
{{- $endpoint -}}
{{- end -}}

{{/*
Where a worker's PHILOTES_ICEBERG_WAREHOUSE comes from, as a JSON list of EnvVar: nothing when
iceberg.warehouseId is set (the ConfigMap holds it), else the ConfigMap the release's Lakekeeper
bootstrap Job writes. The reference is not optional, so the kubelet starts no worker before the
warehouse exists, and the Job's ConfigMap is no object of the manifests that a GitOps controller
or Helm could overwrite or prune.
*/}}
{{- define "philotes-worker.warehouseEnv" -}}
{{- if .Values.iceberg.warehouseId -}}
{{- toJson list -}}
{{- else -}}
{{- if .Values.iceberg.catalogUrl -}}
{{- fail (printf "%s: iceberg.warehouseId is required when iceberg.catalogUrl (%s) names another catalog: give the warehouse id (a UUID) that catalog gave the warehouse; only the release's own Lakekeeper publishes it" (include "philotes-common.fullname" .) .Values.iceberg.catalogUrl) -}}
{{- end -}}
{{- toJson (list (dict "name" "PHILOTES_ICEBERG_WAREHOUSE" "valueFrom" (dict "configMapKeyRef" (dict "name" (include "philotes-common.warehouseConfigMap" .) "key" "warehouse-id" "optional" false)))) -}}
{{- end -}}
{{- end -}}

{{/* Lakekeeper base URL: the release's own Lakekeeper unless iceberg.catalogUrl is set. */}}
{{- define "philotes-worker.catalogUrl" -}}
{{- .Values.iceberg.catalogUrl | default (printf "http://%s:8181" (include "philotes-common.releaseAddress" (dict "context" . "service" "lakekeeper"))) -}}
{{- end -}}

{{/* ConfigMap data of a source's worker, as JSON. Input: dict "context" $ "source" <source>. */}}
{{- define "philotes-worker.config" -}}
{{- $ctx := .context -}}
{{- $source := .source -}}
{{- $config := include "philotes-common.philotesConfig" $ctx | fromJson -}}
{{- with $ctx.Values -}}
{{- $_ := merge $config (dict
  "PHILOTES_CDC_SOURCE_HOST" $source.host
  "PHILOTES_CDC_SOURCE_PORT" (toString $source.port)
  "PHILOTES_CDC_SOURCE_DATABASE" $source.database
  "PHILOTES_CDC_SOURCE_USER" $source.user
  "PHILOTES_CDC_SOURCE_SSLMODE" $source.sslmode
  "PHILOTES_CDC_REPLICATION_SLOT" $source.slot
  "PHILOTES_CDC_PUBLICATION" $source.publication
  "PHILOTES_CDC_TABLES" (join "," $source.tables)
  "PHILOTES_CDC_BUFFER_SIZE" (toString (int .cdc.bufferSize))
  "PHILOTES_CDC_BATCH_SIZE" (toString (int .cdc.batchSize))
  "PHILOTES_CDC_FLUSH_INTERVAL" .cdc.flushInterval
  "PHILOTES_CDC_CHECKPOINT_ENABLED" (toString .cdc.checkpoint.enabled)
  "PHILOTES_CDC_CHECKPOINT_INTERVAL" .cdc.checkpoint.interval
  "PHILOTES_BUFFER_ENABLED" (toString .buffer.enabled)
  "PHILOTES_BUFFER_RETENTION" .buffer.retention
  "PHILOTES_BUFFER_CLEANUP_INTERVAL" .buffer.cleanupInterval
  "PHILOTES_HEALTH_ENABLED" "true"
  "PHILOTES_HEALTH_LISTEN_ADDR" ":8081"
  "PHILOTES_HEALTH_READINESS_TIMEOUT" .readinessTimeout
  "PHILOTES_ICEBERG_CATALOG_URL" (include "philotes-worker.catalogUrl" $ctx)
  "PHILOTES_ICEBERG_WAREHOUSE" .iceberg.warehouseId
  "PHILOTES_STORAGE_ENDPOINT" (include "philotes-worker.storageEndpoint" $ctx)
  "PHILOTES_STORAGE_BUCKET" .storage.bucket
  "PHILOTES_STORAGE_USE_SSL" (toString .storage.useSsl)
) -}}
{{- end -}}
{{- include "philotes-common.withExtraConfig" (dict "context" $ctx "config" $config) -}}
{{- end -}}

{{/*
Secret-held variables and their Secret keys, as JSON. The source password always comes from
the Secret: KEDA's lag query and the guardrail scaling annotation read it there.
*/}}
{{- define "philotes-worker.secretKeys" -}}
{{- $keys := dict "PHILOTES_CDC_SOURCE_PASSWORD" "source-password" -}}
{{- if include "philotes-common.databasePasswordInSecret" . -}}
{{- $_ := set $keys "PHILOTES_DB_PASSWORD" "database-password" -}}
{{- end -}}
{{- if not (and .Values.vault.enabled .Values.vault.secretPaths.storageMinio) -}}
{{- $_ := set $keys "PHILOTES_STORAGE_ACCESS_KEY" "storage-access-key" -}}
{{- $_ := set $keys "PHILOTES_STORAGE_SECRET_KEY" "storage-secret-key" -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* Data of a source's own Secret, as JSON (checked); empty with an existingSecret. */}}
{{- define "philotes-worker.secretData" -}}
{{- $ctx := .context -}}
{{- $data := dict -}}
{{- if not .source.existingSecret -}}
{{- $values := dict
  "source-password" (dict "value" .source.password "field" (printf "%s.password" .source.field) "dsn" true)
  "database-password" (dict "value" $ctx.Values.secrets.databasePassword "field" "secrets.databasePassword" "dsn" true)
  "storage-access-key" (dict "value" $ctx.Values.secrets.storageAccessKey "field" "secrets.storageAccessKey")
  "storage-secret-key" (dict "value" $ctx.Values.secrets.storageSecretKey "field" "secrets.storageSecretKey")
-}}
{{- range $variable, $key := include "philotes-worker.secretKeys" $ctx | fromJson -}}
{{- $_ := set $data $key (include "philotes-common.secretValue" (merge (dict "context" $ctx) (get $values $key))) -}}
{{- end -}}
{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{/*
Traffic of a worker: no ingress (only the kubelet probes it, which NetworkPolicy does not
filter); egress to the buffer database, its source, the object store, Lakekeeper and Vault.
*/}}
{{- define "philotes-worker.network" -}}
{{- $ctx := .context -}}
{{- $egress := include "philotes-common.philotesEgress" $ctx | fromJsonArray -}}
{{- $egress = append $egress (dict "endpoint" (printf "source-%s" .source.name)) -}}
{{- $egress = append $egress (dict "endpoint" "object-store") -}}
{{- if $ctx.Values.iceberg.catalogUrl -}}
{{- $egress = append $egress (dict "endpoint" "iceberg-catalog") -}}
{{- else -}}
{{- $egress = append $egress (dict "pods" (include "philotes-common.componentPods" (dict "context" $ctx "component" "lakekeeper") | fromJson) "port" 8181) -}}
{{- end -}}
{{- toJson (dict "ingress" list "egress" $egress) -}}
{{- end -}}

{{/* The replication slot a worker consumes, for the guardrail scaling annotation and KEDA. */}}
{{- define "philotes-worker.scaling" -}}
{{- $source := .source -}}
{{- toJson (dict
  "type" "replication-slot"
  "slot" $source.slot
  "host" $source.host
  "port" $source.port
  "database" $source.database
  "user" $source.user
  "sslmode" $source.sslmode
  "passwordSecret" (dict "name" $source.secretName "key" "source-password")
) -}}
{{- end -}}
