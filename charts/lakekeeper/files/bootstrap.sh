# Bootstraps the Lakekeeper catalog and creates the warehouse Philotes writes to. Safe to run
# again: an already bootstrapped catalog and an existing warehouse count as done.
set -eu

fail() {
  echo "lakekeeper bootstrap: $*" >&2
  exit 1
}

# A value as the inside of a JSON string: backslashes and double quotes escaped.
json_escape() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# POSTs the JSON body on stdin to a path of the catalog; prints the HTTP status and leaves the
# answer in /tmp/response.json.
post() {
  curl --silent --show-error --max-time 30 --output /tmp/response.json --write-out '%{http_code}' \
    --header 'Content-Type: application/json' --data-binary @- "${LAKEKEEPER_URL}$1"
}

until curl --silent --fail --output /dev/null --max-time 5 "${LAKEKEEPER_URL}/health"; do
  echo "waiting for Lakekeeper at ${LAKEKEEPER_URL}"
  sleep 5
done

status=$(printf '{"accept-terms-of-use":true}' | post /management/v1/bootstrap)
case "${status}" in
  2??) echo "catalog bootstrapped" ;;
  *)
    grep -q 'CatalogAlreadyBootstrapped' /tmp/response.json \
      || fail "POST /management/v1/bootstrap answered ${status}: $(cat /tmp/response.json)"
    echo "catalog already bootstrapped"
    ;;
esac

# A second creation would not answer "already exists" but report the storage location as
# overlapping, which another warehouse could cause as well: look the warehouse up by name first.
curl --silent --show-error --fail --max-time 30 --output /tmp/warehouses.json \
  "${LAKEKEEPER_URL}/management/v1/warehouse${PROJECT_ID:+?project-id=${PROJECT_ID}}" \
  || fail "listing the warehouses failed"
if grep -qF "\"name\":\"${WAREHOUSE_NAME}\"" /tmp/warehouses.json; then
  echo "warehouse ${WAREHOUSE_NAME} exists; its storage profile is left as it is"
  exit 0
fi

# WAREHOUSE_REQUEST is the request without its credential; the keys come from the Secret and
# go in through a pipe, never through a command line.
status=$(printf '%s,"storage-credential":{"type":"s3","credential-type":"access-key","aws-access-key-id":"%s","aws-secret-access-key":"%s"}}' \
  "${WAREHOUSE_REQUEST%\}}" "$(json_escape "${STORAGE_ACCESS_KEY}")" "$(json_escape "${STORAGE_SECRET_KEY}")" \
  | post /management/v1/warehouse)
case "${status}" in
  2??) echo "warehouse ${WAREHOUSE_NAME} created" ;;
  409)
    grep -q 'WarehouseNameAlreadyExists' /tmp/response.json \
      || fail "POST /management/v1/warehouse answered ${status}: $(cat /tmp/response.json)"
    echo "warehouse ${WAREHOUSE_NAME} exists"
    ;;
  *) fail "POST /management/v1/warehouse answered ${status}: $(cat /tmp/response.json)" ;;
esac
