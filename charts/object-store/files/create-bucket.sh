# Creates the bucket on the object store unless it exists. Safe to run again.
set -eu

# Scratch files: the pod's /tmp volume, or TMPDIR where one is set (the tests set their own).
tmp=${TMPDIR:-/tmp}

# One line, whatever the message quotes (a server's multi-line answer included).
fail() {
  printf '%s\n' "$(printf '%s' "object store: $*" | tr -s '\n\t ' '   ')" >&2
  exit 1
}

# A value as the inside of a double-quoted curl config string.
config_escape() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

# A signed S3 request; the keys reach curl as a config on stdin, never on a command line.
# Prints the HTTP status and leaves the answer in ${tmp}/response.xml.
s3() {
  printf 'user = "%s:%s"\n' "$(config_escape "${ACCESS_KEY}")" "$(config_escape "${SECRET_KEY}")" \
    | curl --config - --silent --show-error --max-time 30 --aws-sigv4 "aws:amz:${REGION}:s3" \
      --output "${tmp}/response.xml" --write-out '%{http_code}' "$@"
}

until curl --silent --output /dev/null --max-time 5 "${S3_ENDPOINT}/"; do
  echo "waiting for the object store at ${S3_ENDPOINT}"
  sleep 5
done

status=$(s3 --head "${S3_ENDPOINT}/${BUCKET}")
case "${status}" in
  200)
    echo "bucket ${BUCKET} exists"
    exit 0
    ;;
  404) ;;
  *) fail "HEAD /${BUCKET} answered ${status}: check the access and secret keys" ;;
esac

status=$(s3 --request PUT "${S3_ENDPOINT}/${BUCKET}")
case "${status}" in
  200) echo "bucket ${BUCKET} created" ;;
  409)
    grep -q 'BucketAlreadyOwnedByYou' "${tmp}/response.xml" \
      || fail "PUT /${BUCKET} answered ${status}: $(cat "${tmp}/response.xml")"
    echo "bucket ${BUCKET} exists"
    ;;
  *) fail "PUT /${BUCKET} answered ${status}: $(cat "${tmp}/response.xml")" ;;
esac
