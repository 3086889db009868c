#!/bin/sh
# Found the trust on first start, bring the schema up to date, then run the given command.
set -eu
if [ ! -f "${CLTD_DATA_DIR}/secret_key" ]; then
  cltd init --name "${CLTD_TRUST_NAME:-Community Data Trust}" \
    --locale "${CLTD_DEFAULT_LOCALE:-en}" --timezone "${CLTD_TIMEZONE:-UTC}"
fi
cltd db upgrade
exec "$@"
