#!/bin/sh
# A throwaway PostgreSQL for tests (issue 18): initdb + pg_ctl from Debian's
# postgresql package in a temporary directory, on a free loopback port, with
# a database and a password role; stopped and removed afterwards, on failure too.
#
#   tools/pg.sh run CMD [ARG...]   start one, run CMD with TIX_TEST_PG_URL (the
#                                  connection URL), TIX_TEST_PG_SH (this script)
#                                  and TIX_TEST_PG_DIR (for `ctl`) set, remove
#                                  it, exit with CMD's status
#   tools/pg.sh start DIR          make and start one in the new directory DIR;
#                                  prints the URL (also in DIR/url)
#   tools/pg.sh ctl DIR stop|start stop it (immediately, like a crash) or start it
#                                  again on the same port, data kept
#   tools/pg.sh stop DIR           stop it and remove DIR
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the system
# user tixpg (made when missing; the package's postgres user if that fails);
# otherwise to the user running this. When it cannot start as a non-root
# user, `run` still runs CMD, with TIX_TEST_PG_SKIP saying why; as root (CI) a
# harness that cannot start is an error.
set -eu

die() {
	echo "tools/pg.sh: $*" >&2
	exit 1
}

# The directory of initdb and pg_ctl: the newest installed major version.
pg_bindir() {
	# shellcheck disable=SC2012 # Debian's fixed paths; sorted by version
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# The OS user owning the cluster (see the head of this file).
pg_owner() {
	if [ "$(id -u)" != 0 ]; then
		id -un
		return 0
	fi
	if ! id tixpg >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin tixpg >/dev/null 2>&1 || true
	fi
	if id tixpg >/dev/null 2>&1; then
		echo tixpg
	elif id postgres >/dev/null 2>&1; then
		echo postgres
	else
		return 1
	fi
}

# Runs a command as the cluster's owner ($OWNER).
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$OWNER" -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd_start() {
	dir=$1
	[ -n "$dir" ] || die "start: no directory"
	BIN=$(pg_bindir) || die "no PostgreSQL server installed (apt-get install postgresql; or sh tools/deps.sh test)"
	OWNER=$(pg_owner) || die "no unprivileged user to run PostgreSQL as (useradd tixpg failed, no postgres user)"
	mkdir -p "$dir"
	chmod 0700 "$dir"
	[ "$(id -u)" = 0 ] && chown "$OWNER" "$dir"
	pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	# trust on the socket (in the 0700 directory, only the owner reaches
	# it); a password (SCRAM) over TCP, which is what tix uses.
	as_owner "$BIN/initdb" -D "$dir/data" -U tixadmin --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	# fsync off: only an OS crash loses data then; a killed server does not.
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
max_connections = 60
EOF
	tries=0
	while :; do
		port=$(free_port)
		echo "port = $port" >>"$dir/data/postgresql.conf"
		if as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
			>/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		# Another process may have taken the port since: try another.
		if [ $tries -ge 5 ]; then
			cat "$dir/server.log" >&2 || true
			die "pg_ctl start failed"
		fi
	done
	as_owner "$BIN/psql" -X -q -h "$dir" -p "$port" -U tixadmin -d postgres -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE tix LOGIN PASSWORD '$pass'" -c "CREATE DATABASE tix OWNER tix" \
		>/dev/null || die "could not create the tix role and database"
	url="postgresql://tix:$pass@127.0.0.1:$port/tix"
	echo "$url" >"$dir/url"
	echo "$BIN" >"$dir/bindir"
	echo "$OWNER" >"$dir/owner"
	echo "$url"
}

cmd_ctl() {
	dir=$1
	[ -f "$dir/bindir" ] || die "ctl: $dir holds no cluster made by tools/pg.sh"
	BIN=$(cat "$dir/bindir")
	OWNER=$(cat "$dir/owner")
	case "$2" in
	stop) as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
	start) as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ;;
	*) die "ctl: stop or start, not '$2'" ;;
	esac
}

cmd_stop() {
	dir=$1
	if [ -f "$dir/bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
		BIN=$(cat "$dir/bindir")
		OWNER=$(cat "$dir/owner")
		as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	case "$dir" in
	/tmp/tix-pg-*) rm -rf "$dir" ;;
	*) [ -f "$dir/bindir" ] && rm -rf "$dir" ;;
	esac
}

cmd_run() {
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	dir=$(mktemp -d /tmp/tix-pg-XXXXXX)
	trap 'cmd_stop "$dir"' EXIT
	trap 'exit 130' INT TERM
	if url=$(cmd_start "$dir" 2>"$dir.err"); then
		rm -f "$dir.err"
		TIX_TEST_PG_URL=$url
		TIX_TEST_PG_SH=$self
		TIX_TEST_PG_DIR=$dir
		export TIX_TEST_PG_URL TIX_TEST_PG_SH TIX_TEST_PG_DIR
	else
		why=$(tail -n 3 "$dir.err" | tr '\n' ' ')
		rm -f "$dir.err"
		if [ "$(id -u)" = 0 ]; then
			die "cannot start PostgreSQL: $why"
		fi
		TIX_TEST_PG_SKIP="PostgreSQL cannot run here as $(id -un): $why"
		export TIX_TEST_PG_SKIP
	fi
	set +e
	"$@"
	rc=$?
	set -e
	exit $rc
}

case "${1:-}" in
run)
	shift
	[ $# -gt 0 ] || die "run: no command"
	cmd_run "$@"
	;;
start) cmd_start "${2:-}" ;;
ctl) cmd_ctl "${2:-}" "${3:-}" ;;
stop) cmd_stop "${2:-}" ;;
*) die "usage: tools/pg.sh run CMD... | start DIR | ctl DIR stop|start | stop DIR" ;;
esac
