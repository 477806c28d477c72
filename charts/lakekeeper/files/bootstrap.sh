# Bootstraps the Lakekeeper catalog, creates the warehouse Philotes writes to and publishes its
# id in the ConfigMap WAREHOUSE_CONFIGMAP, where the workers read it. Safe to run again: an
# already bootstrapped catalog and an existing warehouse count as done, and the ConfigMap is
# rewritten with the id the catalog gives.
set -eu

# Scratch files: the pod's /tmp volume, or TMPDIR where one is set (the tests set their own).
tmp=${TMPDIR:-/tmp}

# The pod's ServiceAccount; tests point it at a token of their own.
serviceaccount=${SERVICEACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}

# One line, whatever the message quotes (a server's multi-line answer included).
fail() {
  printf '%s\n' "$(printf '%s' "lakekeeper bootstrap: $*" | tr -s '\n\t ' '   ')" >&2
  exit 1
}

# A value as the inside of a JSON string: backslashes and double quotes escaped.
json_escape() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# POSTs the JSON body on stdin to a path of the catalog; prints the HTTP status and leaves the
# answer in ${tmp}/response.json.
post() {
  curl --silent --show-error --max-time 30 --output "${tmp}/response.json" --write-out '%{http_code}' \
    --header 'Content-Type: application/json' --data-binary @- "${LAKEKEEPER_URL}$1"
}

# The id of the warehouse named $1 in a warehouse list (GET /management/v1/warehouse) on stdin,
# or nothing. The image has no JSON tool: this walks the JSON and reads "id" and "name" of the
# objects at the third level ({"warehouses": [{...}, ...]}), whatever the order of their fields.
warehouse_id_by_name() {
  awk -v want="$1" '
    BEGIN { RS = "\001" }
    {
      n = length($0); depth = 0
      for (i = 1; i <= n; i++) {
        c = substr($0, i, 1)
        if (c == "\"") {
          value = ""
          for (i++; i <= n; i++) {
            c = substr($0, i, 1)
            if (c == "\\") { value = value substr($0, i, 2); i++; continue }
            if (c == "\"") break
            value = value c
          }
          for (j = i + 1; substr($0, j, 1) ~ /[ \t\r\n]/; j++) {}
          if (substr($0, j, 1) == ":") key[depth] = value
          else if (depth == 3 && key[3] == "id") id = value
          else if (depth == 3 && key[3] == "name") name = value
        } else if (c == "{" || c == "[") {
          depth++; key[depth] = ""
          if (depth == 3) { id = ""; name = "" }
        } else if (c == "}" || c == "]") {
          if (depth == 3 && name == want && id != "") { print id; exit }
          depth--
        }
      }
    }'
}

# Sends the JSON body on stdin to the Kubernetes API with the pod's ServiceAccount token;
# prints the HTTP status and leaves the answer in ${tmp}/kube.json. The token goes to curl in a
# header file, never on its command line.
kube() {
  printf 'Authorization: Bearer %s\n' "$(cat "${serviceaccount}/token")" >"${tmp}/kube-auth"
  curl --silent --show-error --max-time 30 --cacert "${serviceaccount}/ca.crt" --header @"${tmp}/kube-auth" \
    --header 'Content-Type: application/json' --request "$1" --output "${tmp}/kube.json" --write-out '%{http_code}' \
    --data-binary @- "https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}$2"
}

# Writes the warehouse id $1 into the ConfigMap the workers read: created, or replaced when it
# exists (the catalog's answer is the truth; workers read it when they start).
publish() {
  printf '%s' "$1" | grep -Eq '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' \
    || fail "Lakekeeper gave the warehouse ${WAREHOUSE_NAME} the id '$1', which is not a UUID"
  body=$(printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","namespace":"%s","labels":%s},"data":{"warehouse-id":"%s","warehouse-name":"%s"}}' \
    "${WAREHOUSE_CONFIGMAP}" "${NAMESPACE}" "${WAREHOUSE_CONFIGMAP_LABELS}" "$1" "${WAREHOUSE_NAME}")
  configmaps="/api/v1/namespaces/${NAMESPACE}/configmaps"
  status=$(printf '%s' "${body}" | kube POST "${configmaps}")
  if [ "${status}" = 409 ]; then
    status=$(printf '%s' "${body}" | kube PUT "${configmaps}/${WAREHOUSE_CONFIGMAP}")
  fi
  case "${status}" in
    2??) echo "published the warehouse id $1 in the ConfigMap ${WAREHOUSE_CONFIGMAP}" ;;
    *) fail "writing the ConfigMap ${NAMESPACE}/${WAREHOUSE_CONFIGMAP} answered ${status}: $(cat "${tmp}/kube.json")" ;;
  esac
}

until curl --silent --fail --output /dev/null --max-time 5 "${LAKEKEEPER_URL}/health"; do
  echo "waiting for Lakekeeper at ${LAKEKEEPER_URL}"
  sleep 5
done

status=$(printf '{"accept-terms-of-use":true}' | post /management/v1/bootstrap)
case "${status}" in
  2??) echo "catalog bootstrapped" ;;
  *)
    grep -q 'CatalogAlreadyBootstrapped' "${tmp}/response.json" \
      || fail "POST /management/v1/bootstrap answered ${status}: $(cat "${tmp}/response.json")"
    echo "catalog already bootstrapped"
    ;;
esac

# A second creation would not answer "already exists" but report the storage location as
# overlapping, which another warehouse could cause as well: look the warehouse up by name first.
curl --silent --show-error --fail --max-time 30 --output "${tmp}/warehouses.json" \
  ${PROJECT_ID:+--header} ${PROJECT_ID:+"x-project-id: ${PROJECT_ID}"} "${LAKEKEEPER_URL}/management/v1/warehouse" \
  || fail "listing the warehouses failed"
warehouse_id=$(warehouse_id_by_name "${WAREHOUSE_NAME}" <"${tmp}/warehouses.json")
if [ -n "${warehouse_id}" ]; then
  echo "warehouse ${WAREHOUSE_NAME} exists (${warehouse_id}); its storage profile is left as it is"
  publish "${warehouse_id}"
  exit 0
fi

# WAREHOUSE_REQUEST is the request without its credential; the keys come from the Secret and
# go in through a pipe, never through a command line.
status=$(printf '%s,"storage-credential":{"type":"s3","credential-type":"access-key","aws-access-key-id":"%s","aws-secret-access-key":"%s"}}' \
  "${WAREHOUSE_REQUEST%\}}" "$(json_escape "${STORAGE_ACCESS_KEY}")" "$(json_escape "${STORAGE_SECRET_KEY}")" \
  | post /management/v1/warehouse)
case "${status}" in
  2??)
    warehouse_id=$(sed -n 's/.*"warehouse-id" *: *"\([^"]*\)".*/\1/p' "${tmp}/response.json")
    echo "warehouse ${WAREHOUSE_NAME} created (${warehouse_id})"
    ;;
  409)
    # Created by a run beside this one since the list above: look its id up.
    grep -q 'WarehouseNameAlreadyExists' "${tmp}/response.json" \
      || fail "POST /management/v1/warehouse answered ${status}: $(cat "${tmp}/response.json")"
    curl --silent --show-error --fail --max-time 30 --output "${tmp}/warehouses.json" \
      ${PROJECT_ID:+--header} ${PROJECT_ID:+"x-project-id: ${PROJECT_ID}"} "${LAKEKEEPER_URL}/management/v1/warehouse" \
      || fail "listing the warehouses failed"
    warehouse_id=$(warehouse_id_by_name "${WAREHOUSE_NAME}" <"${tmp}/warehouses.json")
    echo "warehouse ${WAREHOUSE_NAME} exists (${warehouse_id})"
    ;;
  *) fail "POST /management/v1/warehouse answered ${status}: $(cat "${tmp}/response.json")" ;;
esac
publish "${warehouse_id}"
