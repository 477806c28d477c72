{{/* The seaweed user of the SeaweedFS image. */}}
{{- define "object-store.uid" -}}1000{{- end -}}

{{/* Port of the S3 API, SeaweedFS's default. */}}
{{- define "object-store.s3Port" -}}8333{{- end -}}

{{/* Data of the chart's Secret, as JSON (checked): the keys, and SeaweedFS's S3 identity file. */}}
{{- define "object-store.secretData" -}}
{{- $accessKey := include "philotes-common.secretValue" (dict "context" . "value" .Values.secrets.accessKey "field" "secrets.accessKey") -}}
{{- $secretKey := include "philotes-common.secretValue" (dict "context" . "value" .Values.secrets.secretKey "field" "secrets.secretKey") -}}
{{- $identity := dict
  "name" "philotes"
  "credentials" (list (dict "accessKey" $accessKey "secretKey" $secretKey))
  "actions" (list "Admin" "Read" "List" "Tagging" "Write")
-}}
{{- toJson (dict "access-key" $accessKey "secret-key" $secretKey "s3.json" (toJson (dict "identities" (list $identity)))) -}}
{{- end -}}
