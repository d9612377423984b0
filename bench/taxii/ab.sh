#!/usr/bin/env bash
# ab.sh OLD_TIX NEW_TIX — the uncached TAXII GET of two builds, alternated in
# one run (bench/README.md, "Figures of issue 21"). One store (COUNT
# indicators, made by NEW_TIX as run.sh makes it), served by OLD_TIX and by
# NEW_TIX with --cache 0, and nginx serving the same bytes as a static file;
# ROUNDS rounds of wrk (-t2 -cCONNS -dDURATION s) against nginx, old and new
# in turn, each server's CPU time (utime+stime from /proc) per request.
# Prints every round and the medians: req/s, p99, µs of server CPU per
# request, new/old and each/nginx. Needs wrk, nginx, curl, python3.
# Exit 0 whatever the figures say; non-zero when something could not run.
#
# Environment: COUNT (10000), ROUNDS (5), DURATION (5), CONNS (64),
# EXTRA (more `tix serve` options for both, e.g. "--principal-requests 2").
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: ab.sh OLD_TIX NEW_TIX" >&2; exit 2; }
OLD="$(realpath "$1")"
NEW="$(realpath "$2")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COUNT="${COUNT:-10000}"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-64}"
EXTRA="${EXTRA:-}"
LUA="$ROOT/bench/taxii/get.lua"
TAXII="application/taxii+json;version=2.1"
WORK="$(mktemp -d /tmp/tix-bench-ab.XXXXXX)"
PIDS=""

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "ab.sh: $*" >&2; exit 1; }
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() {
	for _ in $(seq 1 600); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

python3 "$ROOT/bench/ingest/gen.py" "$WORK/gen.json" --count "$COUNT" >/dev/null
DB="$WORK/tix.db"
"$NEW" admin org add bench --db "$DB" >/dev/null
printf 'bench password\n' |
	"$NEW" admin user add bench --org bench --role analyst --password-stdin --db "$DB" >/dev/null
KEY="$("$NEW" admin key add --user bench --db "$DB" 2>/dev/null | grep '^tix_')"
CID="$("$NEW" admin collection add indicators --read bench --write bench --db "$DB")"
"$NEW" import --quiet --db "$DB" --collection "$CID" "$WORK/gen.json"
export TIX_BENCH_KEY="$KEY"

declare -A URL PID
for side in old new; do
	port="$(free_port)"
	bin="$OLD"
	[ "$side" = new ] && bin="$NEW"
	# shellcheck disable=SC2086
	"$bin" serve --listen "127.0.0.1:$port" --db "$DB" --access-log off --cache 0 $EXTRA \
		2>"$WORK/$side.log" &
	PID[$side]=$!
	PIDS="$PIDS $!"
	URL[$side]="http://127.0.0.1:$port/api1/collections/$CID/objects/?limit=100"
	wait_http "http://127.0.0.1:$port/taxii2/" || die "$side did not start: $(cat "$WORK/$side.log")"
done
mkdir -p "$WORK/www" "$WORK/nginx/tmp"
chmod 711 "$WORK"
chmod 755 "$WORK/www"
curl -s -o "$WORK/www/objects.json" -H "Accept: $TAXII" -H "Authorization: Bearer $KEY" "${URL[new]}"
chmod 644 "$WORK/www/objects.json"
curl -s -H "Accept: $TAXII" -H "Authorization: Bearer $KEY" "${URL[old]}" |
	cmp -s - "$WORK/www/objects.json" || die "old and new answer differently"
NPORT="$(free_port)"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	keepalive_requests 100000000;
	types { }
	default_type "$TAXII";
	server {
		listen 127.0.0.1:$NPORT;
		root $WORK/www;
		location / { try_files /objects.json =404; }
	}
}
EOF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
	-e "$WORK/nginx/error.log" &
PIDS="$PIDS $!"
URL[nginx]="http://127.0.0.1:$NPORT/api1/collections/$CID/objects/?limit=100"
wait_http "${URL[nginx]}" || die "nginx did not start"

# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK="$(getconf CLK_TCK)"

for side in nginx old new; do
	wrk -t2 -c"$CONNS" -d2s -s "$LUA" "${URL[$side]}" >/dev/null
done
printf '%-6s %-6s %10s %8s %12s\n' round side req/s "p99 ms" "CPU µs/req"
for r in $(seq 1 "$ROUNDS"); do
	for side in nginx old new; do
		c0=0
		[ "$side" != nginx ] && c0="$(cpu_ticks "${PID[$side]}")"
		line="$(wrk --timeout 10s -t2 -c"$CONNS" -d"${DURATION}s" -s "$LUA" "${URL[$side]}" |
			grep '^RESULT' | cut -d' ' -f2-)"
		[ -n "$line" ] || die "no result from wrk against $side"
		cpu=0
		if [ "$side" != nginx ]; then
			c1="$(cpu_ticks "${PID[$side]}")"
			cpu="$(echo "$line" | awk -v d=$((c1 - c0)) -v t="$TCK" '{ printf "%.1f", d / t * 1e6 / $6 }')"
		fi
		echo "$line $cpu" >>"$WORK/$side.res"
		echo "$line" | awk -v r="$r" -v s="$side" -v c="$cpu" \
			'{ printf "%-6s %-6s %10.0f %8.2f %12s\n", r, s, $1, $3, c }'
	done
done

median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
echo
echo "medians of $ROUNDS rounds ($(date -u +%Y-%m-%d), $(nproc) cores, $CONNS connections, --cache 0 $EXTRA):"
awk -v n="$(median 1 "$WORK/nginx.res")" -v n99="$(median 3 "$WORK/nginx.res")" \
    -v o="$(median 1 "$WORK/old.res")" -v o99="$(median 3 "$WORK/old.res")" \
    -v oc="$(median 7 "$WORK/old.res")" \
    -v w="$(median 1 "$WORK/new.res")" -v w99="$(median 3 "$WORK/new.res")" \
    -v wc="$(median 7 "$WORK/new.res")" 'BEGIN {
	printf "nginx %8.0f req/s  p99 %6.2f ms\n", n, n99
	printf "old   %8.0f req/s  p99 %6.2f ms  %6.1f µs CPU/req  / nginx %.3f\n", o, o99, oc, o / n
	printf "new   %8.0f req/s  p99 %6.2f ms  %6.1f µs CPU/req  / nginx %.3f\n", w, w99, wc, w / n
	printf "new / old: req/s %.3f, CPU per request %.3f\n", w / o, wc / oc
}'
paste -d' ' <(cut -d' ' -f1 "$WORK/nginx.res") <(cut -d' ' -f1 "$WORK/old.res") \
	<(cut -d' ' -f1 "$WORK/new.res") |
	awk '{ print $2 / $1, $3 / $1, $3 / $2 }' >"$WORK/ratios"
echo "medians of per-round ratios: old/nginx $(median 1 "$WORK/ratios"), new/nginx $(median 2 "$WORK/ratios"), new/old $(median 3 "$WORK/ratios")"
