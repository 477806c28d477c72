{{/*
The `global` values, as JSON: the defaults documented in philotes-common's values.yaml with the
umbrella's (or a standalone chart's) `global` merged over them. Helm does that merge itself for
every chart that depends on philotes-common, under the key of this library chart.
*/}}
{{- define "philotes-common.global" -}}
{{- toJson (index .Values "philotes-common" "global") -}}
{{- end -}}

{{/*
global.environment. The schema checks its syntax; this also refuses a release outside
global.namespace when that is set, and every chart renders it, so every chart checks.
*/}}
{{- define "philotes-common.environment" -}}
{{- $global := include "philotes-common.global" . | fromJson -}}
{{- if and $global.namespace (ne $global.namespace .Release.Namespace) -}}
{{- fail (printf "global.namespace is %q but the release is in namespace %q: the %s environment deploys into %s (install with --namespace %s, or change global.namespace)" $global.namespace .Release.Namespace $global.environment $global.namespace $global.namespace) -}}
{{- end -}}
{{- $global.environment -}}
{{- end -}}

{{/* PHILOTES_ENV: the environment's profile (development, staging or production). */}}
{{- define "philotes-common.philotesEnv" -}}
{{- (include "philotes-common.global" . | fromJson).profile -}}
{{- end -}}

{{/* "true" unless the profile is development: floating tags and rendered credentials are refused. */}}
{{- define "philotes-common.isProtectedEnvironment" -}}
{{- if ne (include "philotes-common.philotesEnv" .) "development" -}}true{{- end -}}
{{- end -}}

{{/*
Image reference: repository@digest when a digest is set, else repository:tag. An empty tag
means the chart's appVersion in dev; staging and production need a pinned tag or a digest, and
no `latest`. Input: dict "context" $ "image" .Values.image "field" "image" (its values path).
*/}}
{{/*
The pull policy of an image: global.imagePullPolicy when set, else the image's own.
Input: dict "context" $ "image" <image values>.
*/}}
{{- define "philotes-common.imagePullPolicy" -}}
{{- $global := include "philotes-common.global" .context | fromJson -}}
{{- $global.imagePullPolicy | default .image.pullPolicy -}}
{{- end -}}

{{- define "philotes-common.image" -}}
{{- $ctx := .context -}}
{{- $image := .image -}}
{{- $field := .field | default "image" -}}
{{- $environment := include "philotes-common.environment" $ctx -}}
{{- if not $image.repository -}}
{{- fail (printf "%s: %s.repository must not be empty" (include "philotes-common.fullname" $ctx) $field) -}}
{{- end -}}
{{- if $image.digest -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $image.digest) -}}
{{- fail (printf "%s: %s.digest %q is not a digest: expected sha256:<64 hex characters>" (include "philotes-common.fullname" $ctx) $field $image.digest) -}}
{{- end -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- $tag := toString ($image.tag | default "") -}}
{{- if include "philotes-common.isProtectedEnvironment" $ctx -}}
{{- if not $tag -}}
{{- fail (printf "%s: %s.tag is empty: %s needs a pinned tag or %s.digest" (include "philotes-common.fullname" $ctx) $field $environment $field) -}}
{{- end -}}
{{- if hasPrefix "latest" $tag -}}
{{- fail (printf "%s: %s.tag %q is a floating tag, not allowed in %s: pin a release tag or set %s.digest" (include "philotes-common.fullname" $ctx) $field $tag $environment $field) -}}
{{- end -}}
{{- end -}}
{{- printf "%s:%s" $image.repository ($tag | default $ctx.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}
