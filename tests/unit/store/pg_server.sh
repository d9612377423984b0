#!/bin/sh
# The one throwaway PostgreSQL that the store unit tests' *_pg runs share
# (tests/CMakeLists.txt: a ctest fixture, set up before them and cleaned up
# after), started and stopped by tools/pg.sh; each test makes its own schemas.
#
#   pg_server.sh up PG_SH DIR    start it in DIR (any left by a killed run is
#                                stopped first); DIR/url is its URL. As a
#                                non-root user that cannot run PostgreSQL,
#                                DIR/skip says why and the tests skip (77);
#                                as root (CI) that is an error.
#   pg_server.sh down PG_SH DIR  stop it and remove DIR
set -eu

[ $# -eq 3 ] || { echo "usage: pg_server.sh up|down PG_SH DIR" >&2; exit 2; }
pg_sh=$2
dir=$3
case "$1" in
up)
	sh "$pg_sh" stop "$dir"
	rm -rf "$dir" "$dir.err"
	if sh "$pg_sh" start "$dir" >/dev/null 2>"$dir.err"; then
		rm -f "$dir.err"
		exit 0
	fi
	cat "$dir.err" >&2
	[ "$(id -u)" != 0 ] || exit 1
	mkdir -p "$dir"
	echo "PostgreSQL cannot run here as $(id -un): $(tail -n 3 "$dir.err" | tr '\n' ' ')" >"$dir/skip"
	rm -f "$dir.err"
	;;
down)
	sh "$pg_sh" stop "$dir"
	rm -rf "$dir"
	;;
*)
	echo "pg_server.sh: up or down, not '$1'" >&2
	exit 2
	;;
esac
