# Applies Philotes' SQL scripts (the operator's ConfigMap, mounted at SCRIPTS_DIR) to the buffer
# database in file order, each in one transaction together with its record in
# philotes_deploy.applied_scripts (name and sha256). A run applies the scripts that are new or
# have changed and skips the others, so the Job runs again on every upgrade. The first script
# creates objects without IF NOT EXISTS and cannot run twice: once recorded, it is never run again.
set -euo pipefail

# Scratch files: the pod's /tmp volume, or TMPDIR where one is set (the tests set their own).
tmp=${TMPDIR:-/tmp}
shopt -s nullglob

# One line, whatever the message quotes (a server's multi-line answer included).
fail() {
  printf '%s\n' "$(printf '%s' "philotes schema: $*" | tr -s '\n\t ' '   ')" >&2
  exit 1
}

scripts=()
for path in "${SCRIPTS_DIR}"/*.sql; do
  name=${path##*/}
  # Names go into SQL literals; ConfigMap keys cannot hold anything else anyway.
  [[ ${name} =~ ^[A-Za-z0-9._-]+$ ]] || fail "script name ${name} has characters other than letters, digits, . _ and -"
  scripts+=("${name}")
done
((${#scripts[@]} > 0)) \
  || fail "the ConfigMap ${SCRIPTS_CONFIGMAP} is missing or holds no .sql file: create it from deployments/docker/init-scripts of Philotes' source release (the philotes-api chart README shows the command)"

wait_for_postgres

query() {
  psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 "$@"
}

# What is applied already, as "name sha256" lines; nothing before the first run.
applied=$(query 2>&1 <<<"SELECT to_regclass('philotes_deploy.applied_scripts') IS NOT NULL") \
  || fail "cannot read what is applied in ${PGDATABASE} on ${PGHOST}:${PGPORT} as ${PGUSER}: ${applied//$'\n'/ }"
if [[ ${applied} == t ]]; then
  applied=$(query 2>&1 <<<"SELECT name || ' ' || sha256 FROM philotes_deploy.applied_scripts") \
    || fail "cannot read what is applied in ${PGDATABASE} on ${PGHOST}:${PGPORT} as ${PGUSER}: ${applied//$'\n'/ }"
else
  applied=""
fi
# The same rule as the driver below: the first script counts by name, the others by checksum.
pending=0
for name in "${scripts[@]}"; do
  sum=$(sha256sum "${SCRIPTS_DIR}/${name}")
  [[ ${name} == "${scripts[0]}" ]] && sum=any
  awk -v name="${name}" -v sum="${sum%% *}" '$1 == name && (sum == "any" || $2 == sum) { found = 1 } END { exit !found }' \
    <<<"${applied}" || pending=$((pending + 1))
done
if ((pending == 0)); then
  echo "buffer database schema is up to date (${#scripts[@]} scripts, none pending)"
  exit 0
fi

# Philotes' scripts create schemas, put functions in public (search_path philotes,public before
# the philotes schema exists) and grant to the literal role philotes. Checked before anything is
# written, so that a missing privilege fails the Job with one line and leaves the database as it was.
missing=$(query <<<"SELECT concat_ws('; ',
  CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'philotes')
    THEN 'the role philotes does not exist (the scripts grant to it): CREATE ROLE philotes' END,
  CASE WHEN NOT has_database_privilege(current_database(), 'CREATE')
    THEN format('%s lacks CREATE on database %s (the scripts create schemas): GRANT CREATE ON DATABASE %I TO %I', current_user, current_database(), current_database(), current_user) END,
  CASE WHEN NOT has_schema_privilege('public', 'CREATE')
    THEN format('%s lacks CREATE on schema public (the scripts create functions there): GRANT CREATE ON SCHEMA public TO %I', current_user, current_user) END)")
[[ -z ${missing} ]] || fail "${PGUSER} cannot apply ${pending} pending script(s) to ${PGDATABASE}: ${missing}"

driver=${tmp}/apply-schema.sql
{
  echo '\set ON_ERROR_STOP on'
  echo 'SET client_min_messages = warning;'
  # One run at a time: a Helm hook and a re-applied plain Job may overlap.
  echo "SELECT pg_advisory_lock(hashtext('philotes_deploy.applied_scripts')) \\gset"
  echo 'CREATE SCHEMA IF NOT EXISTS philotes_deploy;'
  echo 'CREATE TABLE IF NOT EXISTS philotes_deploy.applied_scripts (name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());'
  first=${scripts[0]}
  for name in "${scripts[@]}"; do
    sum=$(sha256sum "${SCRIPTS_DIR}/${name}")
    sum=${sum%% *}
    if [[ ${name} == "${first}" ]]; then
      applied="name = '${name}'"
    else
      applied="name = '${name}' AND sha256 = '${sum}'"
    fi
    echo "SELECT NOT EXISTS (SELECT 1 FROM philotes_deploy.applied_scripts WHERE ${applied}) AS pending \\gset"
    echo '\if :pending'
    echo "\\echo applying ${name}"
    echo 'BEGIN;'
    echo "\\i ${SCRIPTS_DIR}/${name}"
    echo "INSERT INTO philotes_deploy.applied_scripts (name, sha256) VALUES ('${name}', '${sum}') ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now();"
    echo 'COMMIT;'
    echo '\else'
    echo "\\echo ${name} is applied already"
    echo '\endif'
  done
} >"${driver}"

psql --no-psqlrc --quiet --file="${driver}" || fail "applying the scripts failed (the error is above). If ${first} failed because \
the database was set up before this Job existed, record it as applied and run the Job again: \
INSERT INTO philotes_deploy.applied_scripts (name, sha256) VALUES ('${first}', 'applied-before');"
echo "buffer database schema is up to date (${#scripts[@]} scripts)"
