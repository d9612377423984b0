#!/bin/sh
# `make run`: load the sample data into a collection, make sure an
# administrator exists, check the address is free, replace the previous
# run's admin key with a fresh one, then serve TAXII 2.1 on
# 127.0.0.1:$PORT (8600) until Ctrl-C.
#   make run PORT=8601            another port on loopback
#   make run LISTEN=[::1]:8600    any HOST:PORT
# DB may be a postgresql:// URL (make run-pg); STATE is the directory of the
# key file (default: the store's directory).
set -eu
TIX=${TIX:-build/tix}
DB=${DB:-var/tix.db}
STATE=${STATE:-$(dirname "$DB")}
PORT=${PORT:-8600}
LISTEN=${LISTEN:-127.0.0.1:$PORT}
[ -n "$LISTEN" ] || LISTEN=127.0.0.1:$PORT
# The key id of the key the last `make run` printed, revoked on the next.
KEYFILE="$STATE/make-run-admin-key-id"

# Nothing is minted when the server could not start.
if ! "$TIX" serve --check --listen "$LISTEN" --db "$DB"; then
	echo "make run: cannot serve at $LISTEN; try another port: make run PORT=8601" >&2
	exit 1
fi
mkdir -p "$STATE"
"$TIX" import --quiet --db "$DB" --collection sample --org tix-sample data/sample.json
# Idempotent: on a second run the organisation and user already exist.
"$TIX" admin org add operators --db "$DB" >/dev/null 2>&1 || true
"$TIX" admin user add admin --org operators --role admin --db "$DB" >/dev/null 2>&1 || true
if [ -s "$KEYFILE" ]; then
	OLD=$(cat "$KEYFILE")
	if "$TIX" admin key remove "$OLD" --db "$DB" >/dev/null 2>&1; then
		echo "make run: revoked the previous run's admin key $OLD"
	fi
fi
KEY=$("$TIX" admin key add --user admin --db "$DB" 2>/dev/null)
KEYID=${KEY#tix_}
KEYID=${KEYID%%_*}
(umask 077 && printf '%s\n' "$KEYID" > "$KEYFILE")
"$TIX" stats --db "$DB"
cat <<MSG

tix is serving TAXII 2.1 at http://$LISTEN/taxii2/  (API root http://$LISTEN/api1/)
A new administrator key (shown once; only its hash is kept; the next
\`make run\` revokes it):

    $KEY

Try:
    curl -H 'Authorization: Bearer $KEY' \\
         -H 'Accept: application/taxii+json;version=2.1' http://$LISTEN/api1/collections/

Ctrl-C stops the server.
MSG
exec "$TIX" serve --db "$DB" --listen "$LISTEN"
