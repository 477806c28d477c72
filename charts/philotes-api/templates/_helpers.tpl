{{/* Traffic of the API: ingress on 8080 from monitoring and from what exposes it, the Gateway
(with the HTTPRoute) and the ingress controller (with the Ingress); egress to the buffer
database, Vault when enabled, and every source database (it tests connections). */}}
{{- define "philotes-api.network" -}}
{{- $from := list -}}
{{- if .Values.httpRoute.enabled -}}
{{- $from = append $from (dict "namespace" "gateway") -}}
{{- end -}}
{{- if .Values.ingress.enabled -}}
{{- $from = append $from (dict "namespace" "ingress-controller") -}}
{{- end -}}
{{- $ingress := list (dict "port" 8080 "protocol" "TCP" "from" (append $from (dict "namespace" "monitoring"))) -}}
{{- $egress := include "philotes-common.philotesEgress" . | fromJsonArray -}}
{{- $endpoints := (include "philotes-common.global" . | fromJson).networkPolicy.endpoints | default dict -}}
{{- range $name := keys $endpoints | sortAlpha -}}
{{- if hasPrefix "source-" $name -}}
{{- $egress = append $egress (dict "endpoint" $name) -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "ingress" $ingress "egress" $egress) -}}
{{- end -}}

{{/* ConfigMap data, as JSON. */}}
{{- define "philotes-api.config" -}}
{{- $name := include "philotes-common.fullname" . -}}
{{- if and .Values.serviceMonitor.enabled (not .Values.config.metricsEnabled) -}}
{{- fail (printf "%s: serviceMonitor.enabled needs config.metricsEnabled: the API serves /metrics only then" $name) -}}
{{- end -}}
{{- include "philotes-api.checkExposure" . -}}
{{- with .Values.config -}}
{{- $config := include "philotes-common.philotesConfig" $ | fromJson -}}
{{- $_ := merge $config (dict
  "PHILOTES_API_LISTEN_ADDR" ":8080"
  "PHILOTES_API_BASE_URL" .baseUrl
  "PHILOTES_API_READ_TIMEOUT" .readTimeout
  "PHILOTES_API_WRITE_TIMEOUT" .writeTimeout
  "PHILOTES_API_CORS_ORIGINS" (join "," .corsOrigins)
  "PHILOTES_API_RATE_LIMIT_RPS" (toString (int .rateLimitRps))
  "PHILOTES_API_RATE_LIMIT_BURST" (toString (int .rateLimitBurst))
  "PHILOTES_METRICS_ENABLED" (toString .metricsEnabled)
  "PHILOTES_AUTH_ENABLED" (toString .auth.enabled)
  "PHILOTES_AUTH_ADMIN_EMAIL" .auth.adminEmail
  "PHILOTES_LOG_LEVEL" .logLevel
) -}}
{{- include "philotes-common.withExtraConfig" (dict "context" $ "config" $config) -}}
{{- end -}}
{{- end -}}

{{/* Secret-held variables and their Secret keys, as JSON. */}}
{{- define "philotes-api.secretKeys" -}}
{{- $keys := dict -}}
{{- if include "philotes-common.databasePasswordInSecret" . -}}
{{- $_ := set $keys "PHILOTES_DB_PASSWORD" "database-password" -}}
{{- end -}}
{{- if .Values.config.auth.enabled -}}
{{- $_ := set $keys "PHILOTES_AUTH_JWT_SECRET" "auth-jwt-secret" -}}
{{- end -}}
{{- if .Values.config.auth.adminEmail -}}
{{- $_ := set $keys "PHILOTES_AUTH_ADMIN_PASSWORD" "auth-admin-password" -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* Data of the Secret the chart renders when no existingSecret is set, as JSON (checked). */}}
{{- define "philotes-api.secretData" -}}
{{- $data := dict -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $values := dict
  "database-password" (dict "value" .Values.secrets.databasePassword "field" "secrets.databasePassword" "dsn" true)
  "auth-jwt-secret" (dict "value" .Values.secrets.authJwtSecret "field" "secrets.authJwtSecret")
  "auth-admin-password" (dict "value" .Values.secrets.authAdminPassword "field" "secrets.authAdminPassword")
-}}
{{- range $variable, $key := include "philotes-api.secretKeys" . | fromJson -}}
{{- $_ := set $data $key (include "philotes-common.secretValue" (merge (dict "context" $) (get $values $key))) -}}
{{- end -}}
{{- if and (hasKey $data "auth-jwt-secret") (lt (len (get $data "auth-jwt-secret")) 32) -}}
{{- fail (printf "%s: secrets.authJwtSecret must be at least 32 characters, or the API exits at start" (include "philotes-common.fullname" .)) -}}
{{- end -}}
{{- end -}}
{{- toJson $data -}}
{{- end -}}

{{- define "philotes-api.secretName" -}}
{{- include "philotes-common.secretName" (dict "context" . "existingSecret" .Values.secrets.existingSecret "field" "secrets.existingSecret" "name" (include "philotes-common.fullname" .)) -}}
{{- end -}}

{{/*
Staging and production hold real source credentials behind the API: authentication on, and
behind an Ingress CORS limited to named origins (Philotes allows every origin when none is set).
Dev may stay open.
*/}}
{{- define "philotes-api.checkExposure" -}}
{{- if include "philotes-common.isProtectedEnvironment" . -}}
{{- $name := include "philotes-common.fullname" . -}}
{{- $environment := include "philotes-common.environment" . -}}
{{- if not .Values.config.auth.enabled -}}
{{- fail (printf "%s: config.auth.enabled must be true in %s: without it anyone who reaches the API can read and change sources, which hold database credentials" $name $environment) -}}
{{- end -}}
{{- if and (or .Values.ingress.enabled .Values.httpRoute.enabled) (not .Values.config.corsOrigins) -}}
{{- fail (printf "%s: config.corsOrigins is empty, which Philotes reads as every origin: list the origins allowed to call the API in %s" $name $environment) -}}
{{- end -}}
{{- range $index, $origin := .Values.config.corsOrigins -}}
{{- if not (regexMatch "^https?://[^/*]+$" (toString $origin)) -}}
{{- fail (printf "%s: config.corsOrigins[%d] %q is not allowed in %s: give an origin as scheme://host[:port], no wildcard and no path" $name $index (toString $origin) $environment) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The paths an Ingress host or the HTTPRoute sends to the API: the API itself (/api) unless they
list their own. Only paths under /api are public in staging and production: /metrics and /health
stay inside the cluster (monitoring and the kubelet reach them directly). Input: dict "context" $
"paths" <list of {path, pathType}> "field" <where the list is, for errors>.
*/}}
{{- define "philotes-api.publicPaths" -}}
{{- $paths := .paths | default (list (dict "path" "/api")) -}}
{{- if include "philotes-common.isProtectedEnvironment" .context -}}
{{- range $index, $path := $paths -}}
{{- if not (regexMatch "^/api(/|$)" (toString $path.path)) -}}
{{- fail (printf "%s: %s[%d].path %q would make more than the API public in %s: route only /api or paths below it (/metrics and /health stay inside the cluster)" (include "philotes-common.fullname" $.context) $.field $index (toString $path.path) (include "philotes-common.environment" $.context)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $paths -}}
{{- end -}}
