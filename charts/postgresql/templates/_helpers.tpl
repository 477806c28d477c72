{{/* The postgres user of the official Debian-based image. */}}
{{- define "postgresql.uid" -}}999{{- end -}}

{{/* Where the wal2json extension image is mounted; the plugin is in lib/ below it. */}}
{{- define "postgresql.wal2jsonMount" -}}/extensions/wal2json{{- end -}}

{{/* Where the data directory's volume is mounted; PGDATA is a directory below it. */}}
{{- define "postgresql.dataMount" -}}/var/lib/postgresql/data{{- end -}}

{{/*
SQL that creates the roles and databases, run once by the image's entrypoint on an empty data
directory. Names are checked identifiers; passwords are quoted literals.
*/}}
{{- define "postgresql.initSql" -}}
{{- $name := include "philotes-common.fullname" . -}}
{{- $roles := dict -}}
{{- range $index, $role := .Values.roles }}
{{- $password := include "philotes-common.secretValue" (dict "context" $ "value" $role.password "field" (printf "roles[%d].password" $index)) }}
CREATE ROLE "{{ $role.name }}" LOGIN{{ if $role.replication }} REPLICATION{{ end }} PASSWORD '{{ replace "'" "''" $password }}';
{{- if $role.monitor }}
GRANT pg_monitor TO "{{ $role.name }}";
{{- end }}
{{- $_ := set $roles $role.name true }}
{{- end }}
{{- range $index, $database := .Values.databases }}
{{- if not (hasKey $roles $database.owner) }}
{{- fail (printf "%s: databases[%d].owner %q is not one of roles[].name" $name $index $database.owner) }}
{{- end }}
CREATE DATABASE "{{ $database.name }}" OWNER "{{ $database.owner }}";
{{- end }}
{{- end -}}

{{/*
Data of the chart's Secret, as JSON (checked). username and password are the superuser's, the
keys a source preparation Job's admin Secret has: a dev source's preparation reads this Secret.
*/}}
{{- define "postgresql.secretData" -}}
{{- toJson (dict
  "username" "postgres"
  "password" (include "philotes-common.secretValue" (dict "context" . "value" .Values.secrets.superuserPassword "field" "secrets.superuserPassword"))
  "init.sql" (include "postgresql.initSql" .)
) -}}
{{- end -}}
