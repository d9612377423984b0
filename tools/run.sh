#!/bin/sh
# `make run`: load the sample data into a collection, make sure an
# administrator exists, print a fresh API key, then serve TAXII 2.1 on
# 127.0.0.1:8600 until Ctrl-C.
set -eu
TIX=${TIX:-build/tix}
DB=${DB:-var/tix.db}
LISTEN=${LISTEN:-127.0.0.1:8600}

mkdir -p "$(dirname "$DB")"
"$TIX" import --db "$DB" --collection sample --org tix-sample data/sample.json
# Idempotent: on a second run the organisation and user already exist.
"$TIX" admin org add operators --db "$DB" >/dev/null 2>&1 || true
"$TIX" admin user add admin --org operators --role admin --db "$DB" >/dev/null 2>&1 || true
KEY=$("$TIX" admin key add --user admin --db "$DB")
"$TIX" stats --db "$DB"
cat <<MSG

tix is serving TAXII 2.1 at http://$LISTEN/taxii2/  (API root http://$LISTEN/api1/)
A new administrator key (shown once; only its hash is kept):

    $KEY

Try:
    curl -H 'Authorization: Bearer $KEY' \\
         -H 'Accept: application/taxii+json;version=2.1' http://$LISTEN/api1/collections/

Ctrl-C stops the server.
MSG
exec "$TIX" serve --db "$DB" --listen "$LISTEN"
