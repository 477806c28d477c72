{{/*
Jobs (buffer schema, Lakekeeper migration, source preparation, bucket, catalog bootstrap) and
the order of everything around them, the same objects in every door:

- helm install/upgrade: each Job is a Helm hook, so it runs on every install and upgrade. A Job
  against a database of this release (host left empty: <release>-postgresql, the dev data
  service) cannot run before the install has created that database, so it runs post-install;
  any other database Job runs pre-install. Both run pre-upgrade: the database exists by then,
  and schema changes land before the new pods. Jobs that need a running service of the release
  (the bucket, the catalog bootstrap) run post-install and post-upgrade. Hook weights order the
  Jobs of one phase; Helm waits for each Job to complete before the next.
- Argo CD: on its own it would turn helm.sh/hook into a PreSync or PostSync hook (and a
  post-install,pre-upgrade Job into both). argocd.argoproj.io/hook: Sync overrides that: the
  Jobs run in the sync phase, in sync waves: data services -2, database and bucket Jobs -1,
  workloads 0 (the default). The catalog bootstrap runs in wave 0 too and waits for Lakekeeper
  itself: a later wave (or PostSync) would first wait for every workload of wave 0 to be
  healthy, and a worker is not ready while its source or the warehouse is missing.
- kubectl apply and Flux: plain objects, all applied at once. A Job's pod template cannot be
  changed, so a Job is named after a hash of its spec: a changed Job is a new object and runs,
  an unchanged one is left alone. Each Job waits for the service it needs, the workloads
  restart until the Jobs are done.

Cleaning up, door by door, without running a Job again where it is a plain object:
- Helm and Argo CD run a hook on every install, upgrade or sync whatever its name, and a hook is
  no part of the release or of the Application's desired state. So they delete a Job once it
  succeeded (hook-succeeded, HookSucceeded): hash-named Jobs of earlier specs do not pile up, and
  nothing re-creates a deleted hook. A failed Job stays for inspection until its next run
  replaces it (before-hook-creation, BeforeHookCreation).
- Flux and kubectl ignore the hook annotations: there the Job is desired state, and deleting it
  would make Flux (or the next apply) create and run it again. Flux prunes a Job whose name left
  the manifests; with kubectl apply, delete such Jobs by hand or apply with --prune.
- No Job sets ttlSecondsAfterFinished, for the same reason: Flux would re-create it after every
  TTL, and run it again.
*/}}

{{/*
Where a Job runs in each door, by its kind of work, as JSON {hook, weight, wave}.
Input: dict "order" database|object-store|catalog and, for database, "inRelease" (bool: the
database is a data service of this release).
*/}}
{{- define "philotes-common.jobOrder" -}}
{{- $orders := dict
  "database" (dict "hook" (ternary "post-install,pre-upgrade" "pre-install,pre-upgrade" (eq (toString .inRelease) "true")) "weight" 0 "wave" -1)
  "object-store" (dict "hook" "post-install,post-upgrade" "weight" -5 "wave" -1)
  "catalog" (dict "hook" "post-install,post-upgrade" "weight" 5 "wave" 0)
-}}
{{- $order := get $orders (toString .order) -}}
{{- if not $order -}}
{{- fail (printf "job order %q is not one of: %s" (toString .order) (keys $orders | sortAlpha | join ", ")) -}}
{{- end -}}
{{- toJson $order -}}
{{- end -}}

{{/*
A Job's pods carry their own app name, <chart app name>-<job>, so that no Service, PDB or
NetworkPolicy of the chart's workload selects them. Input: dict "context" $ "job" <job> and
optionally "extraLabels" (a map).
*/}}
{{- define "philotes-common.jobAppName" -}}
{{- printf "%s-%s" (include "philotes-common.name" .context) .job -}}
{{- end -}}

{{- define "philotes-common.jobLabels" -}}
{{- include "philotes-common.labelsWith" (dict "context" .context "name" (include "philotes-common.jobAppName" .) "component" .job "extra" .extraLabels) -}}
{{- end -}}

{{- define "philotes-common.jobSelectorLabels" -}}
{{- include "philotes-common.selectorLabelsWith" (dict "context" .context "name" (include "philotes-common.jobAppName" .) "extra" .extraLabels) -}}
{{- end -}}

{{/*
A Job and, when global.networkPolicy.enabled, its NetworkPolicy (egress only: DNS first, then
the given entries). The pods run as 65532 under the restricted standard, without a
ServiceAccount token (a pre-install Job runs before the chart's ServiceAccount exists), unless
the Job names a ServiceAccount of its own, for a Job that talks to the Kubernetes API.
Input: dict
  "context" $
  "name"                  object name before the hash; also the NetworkPolicy's name
  "job"                   the pods' component and app name suffix (migrate, schema, ...)
  "extraLabels"           map, optional
  "order", "inRelease"    see philotes-common.jobOrder
  "backoffLimit", "activeDeadlineSeconds"
  "podAnnotations"        map, optional; part of the hash, so a changed value runs the Job again
  "container"             the container, a map
  "volumes"               list of volumes, optional
  "egress"                list of egress entries, as in a workload's network map
  "serviceAccountName"    optional: run as it, with its token mounted
*/}}
{{- define "philotes-common.job" -}}
{{- $ctx := .context -}}
{{- $labels := include "philotes-common.jobLabels" . -}}
{{- $podSpec := dict
  "restartPolicy" "Never"
  "automountServiceAccountToken" (not (empty .serviceAccountName))
  "enableServiceLinks" false
  "securityContext" (include "philotes-common.podSecurityContext" $ctx | fromYaml)
  "containers" (list .container)
-}}
{{- with .serviceAccountName -}}
{{- $_ := set $podSpec "serviceAccountName" . -}}
{{- end -}}
{{- with include "philotes-common.podPlacement" $ctx.Values -}}
{{- $podSpec = merge $podSpec (fromYaml .) -}}
{{- end -}}
{{- with .volumes -}}
{{- $_ := set $podSpec "volumes" . -}}
{{- end -}}
{{- $metadata := dict "labels" (fromYaml $labels) -}}
{{- with .podAnnotations -}}
{{- $_ := set $metadata "annotations" . -}}
{{- end -}}
{{- $spec := dict
  "backoffLimit" (int .backoffLimit)
  "activeDeadlineSeconds" (int .activeDeadlineSeconds)
  "template" (dict "metadata" $metadata "spec" $podSpec)
-}}
{{- $order := include "philotes-common.jobOrder" . | fromJson -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-%s" (.name | trunc 54 | trimSuffix "-") (toJson $spec | sha256sum | trunc 8) }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
  annotations:
    helm.sh/hook: {{ $order.hook }}
    helm.sh/hook-weight: {{ $order.weight | int | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    argocd.argoproj.io/hook: Sync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded
    argocd.argoproj.io/sync-wave: {{ $order.wave | int | quote }}
spec:
  {{- toYaml $spec | nindent 2 }}
{{- if include "philotes-common.networkPolicyEnabled" $ctx }}
---
{{ include "philotes-common.networkPolicy" (dict
    "context" $ctx
    "name" (.name | trunc 63 | trimSuffix "-")
    "labels" $labels
    "selector" (include "philotes-common.jobSelectorLabels" .)
    "network" (dict "egress" .egress)
    "annotations" (dict "argocd.argoproj.io/sync-wave" ($order.wave | int | toString))
  ) }}
{{- end }}
{{- end -}}

{{/*
Annotations of a Secret the chart renders for a Job to read: a pre-install/pre-upgrade hook, so
that it exists before a pre-install Job, and before every sync wave under Argo CD (which runs it
as a PreSync hook). A hook is no part of the release: `helm uninstall` leaves it.
*/}}
{{- define "philotes-common.jobSecretAnnotations" -}}
{{- toJson (dict "helm.sh/hook" "pre-install,pre-upgrade" "helm.sh/hook-weight" "-10" "helm.sh/hook-delete-policy" "before-hook-creation") -}}
{{- end -}}

{{/*
A shell function, wait_for_postgres, that returns once the server in PGHOST/PGPORT accepts
connections, so that a Job started beside its database (kubectl, Flux, a first install) waits
instead of failing; activeDeadlineSeconds bounds the wait.
*/}}
{{- define "philotes-common.waitForPostgres" -}}
wait_for_postgres() {
  until pg_isready --quiet --timeout=5; do
    echo "waiting for PostgreSQL at ${PGHOST}:${PGPORT}"
    sleep 5
  done
}
{{- end -}}

{{/* Environment of a psql client Job: no home directory in the image user, a bounded connect. */}}
{{- define "philotes-common.psqlEnv" -}}
{{- toJson (list (dict "name" "HOME" "value" "/tmp") (dict "name" "PGCONNECT_TIMEOUT" "value" "10")) -}}
{{- end -}}

{{/*
A container of a Job that runs a shell script with a writable /tmp (its root filesystem is
read-only), as JSON; the pod needs philotes-common.tmpVolume. Input: dict "context" $ "name"
"image" <image values> "imageField" <their values path> "shell" <interpreter> "script" <text>
"env" <list of EnvVar> "resources" <resource values> "resourcesField" <their values path> and
optionally "volumeMounts" (more mounts).
*/}}
{{- define "philotes-common.scriptContainer" -}}
{{- $ctx := .context -}}
{{- toJson (dict
  "name" .name
  "image" (include "philotes-common.image" (dict "context" $ctx "image" .image "field" .imageField))
  "imagePullPolicy" (include "philotes-common.imagePullPolicy" (dict "context" $ctx "image" .image))
  "command" (list .shell "-c" .script)
  "env" .env
  "securityContext" (include "philotes-common.containerSecurityContext" $ctx | fromYaml)
  "volumeMounts" (prepend (.volumeMounts | default list) (dict "name" "tmp" "mountPath" "/tmp"))
  "resources" (include "philotes-common.resources" (dict "resources" .resources "field" .resourcesField "name" (include "philotes-common.fullname" $ctx)) | fromYaml)
) -}}
{{- end -}}

{{/* The /tmp volume of philotes-common.scriptContainer, as JSON (a list). */}}
{{- define "philotes-common.tmpVolume" -}}
{{- toJson (list (dict "name" "tmp" "emptyDir" (dict "sizeLimit" "64Mi"))) -}}
{{- end -}}
