# Prepares a source database for its worker: checks what logical replication with wal2json
# needs, reports every problem at once, and creates the worker's slot when it is missing.
# Safe to run again. Runs as the admin role of the source (PGUSER), never as the worker.
set -euo pipefail

# One line, whatever the message quotes (a server's multi-line answer included).
fail() {
  printf '%s\n' "$(printf '%s' "source ${SOURCE_NAME}: $*" | tr -s '\n\t ' '   ')" >&2
  exit 1
}

# Runs the SQL on stdin; :'worker_user' and :'slot' are quoted literals of the two names.
query() {
  psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 \
    --set worker_user="${WORKER_USER}" --set slot="${SLOT}"
}

wait_for_postgres

problems=()
wal_level=$(query <<<'SHOW wal_level')
[[ ${wal_level} == logical ]] \
  || problems+=("wal_level is ${wal_level}, logical replication needs logical: ALTER SYSTEM SET wal_level = logical and restart PostgreSQL (a managed service sets it in its parameters)")

# Recent minor releases (PostgreSQL 18.6 and those beside it) decode only through the output
# plugins listed in output_plugin_libraries; older ones do not know the setting.
plugins=$(query <<<"SELECT current_setting('output_plugin_libraries', true)")
if [[ -n ${plugins} && ! ${plugins} =~ (^|[ ,])wal2json($|[ ,]) ]]; then
  problems+=("output_plugin_libraries is '${plugins}', which leaves out wal2json: add it (ALTER SYSTEM SET output_plugin_libraries = '${plugins}, wal2json' and reload; a managed service sets it in its parameters)")
fi

role=$(query <<<"SELECT concat_ws(',', CASE WHEN rolcanlogin THEN 'login' END,
  CASE WHEN rolreplication OR EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
    WHERE g.rolname = 'rds_replication' AND m.member = r.oid) THEN 'replication' END, 'exists')
  FROM pg_roles r WHERE rolname = :'worker_user'")
if [[ -z ${role} ]]; then
  problems+=("the worker's role ${WORKER_USER} does not exist: CREATE ROLE ${WORKER_USER} LOGIN REPLICATION PASSWORD '...'")
else
  [[ ${role} == *login* ]] || problems+=("the worker's role ${WORKER_USER} cannot log in: ALTER ROLE ${WORKER_USER} LOGIN")
  [[ ${role} == *replication* ]] || problems+=("the worker's role ${WORKER_USER} lacks REPLICATION: ALTER ROLE ${WORKER_USER} REPLICATION")
  if [[ ${CHECK_MONITOR} == true && $(query <<<"SELECT pg_has_role(:'worker_user', 'pg_monitor', 'MEMBER')") != t ]]; then
    problems+=("KEDA reads the replication lag as ${WORKER_USER}, which needs pg_monitor: GRANT pg_monitor TO ${WORKER_USER}")
  fi
fi

# One line per problem, each naming the source, so that a log shows all of them at once.
if ((${#problems[@]} > 0)); then
  for problem in "${problems[@]}"; do
    echo "source ${SOURCE_NAME} (${PGHOST}:${PGPORT}/${PGDATABASE}) is not ready for logical replication: ${problem}" >&2
  done
  exit 1
fi

if [[ $(query <<<'SHOW max_slot_wal_keep_size') == -1 ]]; then
  echo "warning: max_slot_wal_keep_size is unlimited, so a stalled slot keeps WAL until the disk is full; set it (e.g. ALTER SYSTEM SET max_slot_wal_keep_size = '10GB')"
fi

# Philotes 0.1.x never confirms its replication position, so the server ends its walsender after
# wal_sender_timeout and the worker exits and replays from the slot. The value the worker gets:
# its role's setting in this database, its role's setting, the database's, then the server's.
timeout=$(query <<<"SELECT COALESCE(
    (SELECT substr(c, length('wal_sender_timeout=') + 1)
       FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c
      WHERE c LIKE 'wal_sender_timeout=%'
        AND (r.rolname = :'worker_user' OR s.setrole = 0)
        AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
      ORDER BY s.setrole = 0, s.setdatabase = 0 LIMIT 1),
    current_setting('wal_sender_timeout'))")
if [[ ! ${timeout} =~ ^0+(ms|s|min|h|d)?$ ]]; then
  echo "warning: wal_sender_timeout is ${timeout} for ${WORKER_USER}: Philotes 0.1.x never confirms its replication position, so PostgreSQL ends the worker's connection after that time, the worker restarts and replays from the slot's old position; set it for the worker's role alone: ALTER ROLE ${WORKER_USER} SET wal_sender_timeout = 0 (WAL is then kept until max_slot_wal_keep_size)"
fi

slot=$(query <<<"SELECT concat_ws('|', slot_type, plugin, database) FROM pg_replication_slots WHERE slot_name = :'slot'")
if [[ -z ${slot} ]]; then
  if ! created=$(query 2>&1 <<<"SELECT slot_name FROM pg_create_logical_replication_slot(:'slot', 'wal2json')"); then
    [[ ${created} == *wal2json* ]] \
      && fail "the wal2json output plugin is not installed on ${PGHOST} (${created}): install it (Debian/Ubuntu: postgresql-<major>-wal2json; managed services list it among their logical decoding plugins) and run this Job again"
    fail "creating the slot ${SLOT} failed: ${created}"
  fi
  echo "created the logical replication slot ${SLOT} (wal2json) in ${PGDATABASE}"
elif [[ ${slot} != "logical|wal2json|${PGDATABASE}" ]]; then
  fail "the slot ${SLOT} exists as ${slot} (type|plugin|database), but the worker needs a logical wal2json slot in ${PGDATABASE}: drop it (SELECT pg_drop_replication_slot('${SLOT}')) or choose another slot"
else
  echo "the logical replication slot ${SLOT} (wal2json) exists"
fi
