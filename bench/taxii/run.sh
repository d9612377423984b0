#!/usr/bin/env bash
# run.sh — the TAXII server benchmark (`make bench-taxii`); see bench/README.md.
# Builds tix in Release, makes a store with COUNT indicators in a collection,
# serves it with `tix serve` on a free loopback port and, beside it, nginx
# serving the very bytes of the same GET response as a static file (the
# ceiling). Then wrk: GET objects?limit=100 against tix as configured by
# default (its answer cache on), against a second tix on the same store with
# --cache 0 (every request runs the query), the same with --principal-requests
# set to the cores (the one key is one principal), and against nginx (ROUNDS rounds,
# interleaved); POSTs of 1,000-object envelopes; and a mixed GET and POST run
# during which tix's RSS is sampled every second for 60 s. Prints medians and
# the goals.
# Exit 0 whatever the goals say (a benchmark is not a test); non-zero only
# when something could not be built or run.
#
# Environment: COUNT (stored indicators, default 10000), ROUNDS (3),
# DURATION (seconds of each GET run, 15), POST_DURATION (10), CONNS (64),
# RSS_SECONDS (60), BUILD_DIR (build-bench), KEEP=1 keeps the work directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

COUNT="${COUNT:-10000}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-15}"
POST_DURATION="${POST_DURATION:-10}"
CONNS="${CONNS:-64}"
RSS_SECONDS="${RSS_SECONDS:-60}"
BUILD="${BUILD_DIR:-build-bench}"
TIX="$ROOT/$BUILD/tix"
HERE="$ROOT/bench/taxii"
TAXII="application/taxii+json;version=2.1"

WORK="$(mktemp -d /tmp/tix-bench-taxii.XXXXXX)"
TIX_PID=""
NGINX_PID=""
BG_PIDS=""

die() { echo "run.sh: $*" >&2; exit 1; }

cleanup() {
	for p in $BG_PIDS; do kill "$p" 2>/dev/null || true; done
	[ -n "$TIX_PID" ] && kill "$TIX_PID" 2>/dev/null || true
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# ---- tools -----------------------------------------------------------------
missing=""
command -v wrk >/dev/null || missing="$missing wrk"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v curl >/dev/null || missing="$missing curl"
if [ -n "$missing" ]; then
	echo "== installing$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing \
		>/dev/null || die "cannot install:$missing"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
command -v python3 >/dev/null || die "python3 is needed to generate the input"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: until something answers on URL (60 s at most).
wait_http() {
	for _ in $(seq 1 600); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

# ---- build -----------------------------------------------------------------
echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed"
fi

# ---- data ------------------------------------------------------------------
# gen.py's indicators: COUNT stored, 1,000 for the repeated POST, then ten
# envelopes of 1,000 never seen before for the first-time POSTs.
echo "== generating $COUNT indicators to store and 11,000 to post"
python3 bench/ingest/gen.py "$WORK/gen.json" --count $((COUNT + 11000))
python3 - "$WORK" "$COUNT" <<'EOF'
import json, sys
work, count = sys.argv[1], int(sys.argv[2])
objs = json.load(open(work + "/gen.json"))["objects"]
head, ind = objs[:10], objs[10:]
json.dump({"type": "bundle", "id": "bundle--6f6bd6a2-8a8e-4e0b-9a68-0d8b7a4b1f00",
           "objects": head + ind[:count]}, open(work + "/stored.json", "w"))
rest = ind[count:]
json.dump({"objects": rest[:1000]}, open(work + "/post-same.json", "w"))
for i in range(10):
    json.dump({"objects": rest[1000 * (i + 1):1000 * (i + 2)]},
              open(work + "/post-new-%d.json" % i, "w"))
EOF
rm -f "$WORK/gen.json"

DB="$WORK/tix.db"
"$TIX" admin org add bench --db "$DB" >/dev/null
printf 'bench password\n' |
	"$TIX" admin user add bench --org bench --role analyst --password-stdin --db "$DB" >/dev/null
KEY="$("$TIX" admin key add --user bench --db "$DB" 2>/dev/null | grep '^tix_')"
CID="$("$TIX" admin collection add indicators --read bench --write bench --db "$DB")"
"$TIX" import --quiet --db "$DB" --collection "$CID" "$WORK/stored.json"
export TIX_BENCH_KEY="$KEY"

# ---- servers ---------------------------------------------------------------
PORT="$(free_port)"
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$DB" --access-log off 2>"$WORK/serve.log" &
TIX_PID=$!
BASE="http://127.0.0.1:$PORT/api1/collections/$CID/objects/"
wait_http "http://127.0.0.1:$PORT/taxii2/" || die "tix serve did not start: $(cat "$WORK/serve.log")"
# The same store served without the answer cache.
CPORT="$(free_port)"
"$TIX" serve --listen "127.0.0.1:$CPORT" --db "$DB" --access-log off --cache 0 \
	2>"$WORK/serve-nocache.log" &
BG_PIDS="$!"
CBASE="http://127.0.0.1:$CPORT/api1/collections/$CID/objects/"
wait_http "http://127.0.0.1:$CPORT/taxii2/" ||
	die "tix serve --cache 0 did not start: $(cat "$WORK/serve-nocache.log")"
# And once more with as many requests of one principal at a time as there
# are cores: the benchmark's one key is one principal, whose requests the
# default (--principal-requests: half the cores) runs one at a time here.
TPORT="$(free_port)"
"$TIX" serve --listen "127.0.0.1:$TPORT" --db "$DB" --access-log off --cache 0 \
	--principal-requests "$(nproc)" 2>"$WORK/serve-turns.log" &
BG_PIDS="$BG_PIDS $!"
TBASE="http://127.0.0.1:$TPORT/api1/collections/$CID/objects/"
wait_http "http://127.0.0.1:$TPORT/taxii2/" ||
	die "tix serve --principal-requests did not start: $(cat "$WORK/serve-turns.log")"

# The ceiling: nginx serving the identical body as a static file, in the
# foreground with its own configuration and prefix (no root needed; when run
# as root, its workers drop to nobody, so the files are made readable).
mkdir -p "$WORK/www" "$WORK/nginx/tmp"
chmod 711 "$WORK"
chmod 755 "$WORK/www"
code="$(curl -s -o "$WORK/www/objects.json" -w '%{http_code}' -H "Accept: $TAXII" \
	-H "Authorization: Bearer $KEY" "$BASE?limit=100")"
[ "$code" = 200 ] || die "GET objects answered $code"
chmod 644 "$WORK/www/objects.json"
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
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
NBASE="http://127.0.0.1:$NPORT/api1/collections/$CID/objects/"
wait_http "$NBASE" || die "nginx did not start: $(cat "$WORK/nginx/error.log")"
curl -s "$NBASE?limit=100" | cmp -s - "$WORK/www/objects.json" || die "nginx serves other bytes"
curl -s -H "Accept: $TAXII" -H "Authorization: Bearer $KEY" "$CBASE?limit=100" | cmp -s - "$WORK/www/objects.json" || die "the two tix servers answer differently"
BODY_BYTES="$(stat -c %s "$WORK/www/objects.json")"

# run_wrk NAME ARGS...: one wrk run; appends its RESULT line to $WORK/NAME.res.
run_wrk() {
	local name="$1"; shift
	wrk --timeout 10s "$@" >"$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; die "wrk failed"; }
	grep '^RESULT' "$WORK/$name.out" | cut -d' ' -f2- >>"$WORK/$name.res" ||
		{ cat "$WORK/$name.out" >&2; die "no result from wrk"; }
}

# ---- GET: tix and nginx, interleaved ---------------------------------------
echo "== warm-up"
wrk -t2 -c"$CONNS" -d5s -s "$HERE/get.lua" "$BASE?limit=100" >/dev/null
wrk -t2 -c"$CONNS" -d5s -s "$HERE/get.lua" "$CBASE?limit=100" >/dev/null
wrk -t2 -c"$CONNS" -d5s -s "$HERE/get.lua" "$TBASE?limit=100" >/dev/null
wrk -t2 -c"$CONNS" -d5s -s "$HERE/get.lua" "$NBASE?limit=100" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
	echo "== GET round $r/$ROUNDS (${DURATION}s each, $CONNS connections)"
	run_wrk get-tix -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$BASE?limit=100"
	run_wrk get-nocache -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$CBASE?limit=100"
	run_wrk get-nginx -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$NBASE?limit=100"
	run_wrk get-turns -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$TBASE?limit=100"
	printf '   tix %s req/s, tix --cache 0 %s req/s (--principal-requests %s: %s), nginx %s req/s\n' \
		"$(tail -n1 "$WORK/get-tix.res" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/get-nocache.res" | cut -d' ' -f1)" "$(nproc)" \
		"$(tail -n1 "$WORK/get-turns.res" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/get-nginx.res" | cut -d' ' -f1)"
done

# ---- POST ------------------------------------------------------------------
echo "== POST: ten envelopes of 1,000 new indicators, one at a time (curl)"
for i in $(seq 0 9); do
	curl -s -o "$WORK/post-new-$i.out" -w '%{http_code} %{time_total}\n' -X POST \
		-H "Accept: $TAXII" -H "Content-Type: $TAXII" -H "Authorization: Bearer $KEY" \
		--data-binary "@$WORK/post-new-$i.json" "$BASE" >>"$WORK/post-new.res"
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s.get("success_count") == 1000 and s.get("failure_count") == 0 else 1)' \
		"$WORK/post-new-$i.out" || die "POST of new objects: $(head -c 300 "$WORK/post-new-$i.out")"
done
awk '$1 != 202 { bad++ } END { exit bad > 0 }' "$WORK/post-new.res" || die "a POST was not 202"
echo "== POST: the same envelope of 1,000 again and again (wrk, 4 connections)"
export TIX_BENCH_BODY="$WORK/post-same.json"
curl -s -o /dev/null -X POST -H "Accept: $TAXII" -H "Content-Type: $TAXII" \
	-H "Authorization: Bearer $KEY" --data-binary "@$TIX_BENCH_BODY" "$BASE"
for r in $(seq 1 "$ROUNDS"); do
	run_wrk post-same -t2 -c4 -d"${POST_DURATION}s" -s "$HERE/post.lua" "$BASE"
done

# ---- RSS over a mixed run ----------------------------------------------------
for p in $BG_PIDS; do kill "$p"; wait "$p" 2>/dev/null || true; done  # the --cache 0 servers
# 10 s of the load first (caches and pools fill), then one sample a second
# while it goes on; the load stops 2 s after the last sample.
echo "== GET ($CONNS connections) and POST (2): 10 s, then ${RSS_SECONDS}s sampling tix's RSS"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$TIX_PID/status"; }
wrk --timeout 10s -t1 -c"$CONNS" -d"$((RSS_SECONDS + 12))s" -s "$HERE/get.lua" "$BASE?limit=100" \
	>"$WORK/rss-get.out" 2>&1 &
BG_PIDS="$!"
wrk --timeout 10s -t1 -c2 -d"$((RSS_SECONDS + 12))s" -s "$HERE/post.lua" "$BASE" \
	>"$WORK/rss-post.out" 2>&1 &
BG_PIDS="$BG_PIDS $!"
sleep 10
for _ in $(seq 1 "$RSS_SECONDS"); do
	rss_kb >>"$WORK/rss.kb"
	sleep 1
done
wait $BG_PIDS
BG_PIDS=""
grep '^RESULT' "$WORK/rss-get.out" | cut -d' ' -f2- >"$WORK/rss-get.res"
grep '^RESULT' "$WORK/rss-post.out" | cut -d' ' -f2- >"$WORK/rss-post.res"

# ---- stop --------------------------------------------------------------------
kill -TERM "$TIX_PID"
rc=0
wait "$TIX_PID" || rc=$?
TIX_PID=""
[ "$rc" -eq 0 ] || echo "run.sh: tix serve exited with $rc after SIGTERM" >&2
kill -QUIT "$NGINX_PID" 2>/dev/null || true
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=""

# ---- report --------------------------------------------------------------------
# median COLUMN FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
# sum COLUMN FILE...
sum() { local c="$1"; shift; cat "$@" | awk -v c="$c" '{s += $c} END {print s + 0}'; }

echo
echo "TAXII benchmark: GET objects?limit=100 ($BODY_BYTES bytes) of $COUNT stored indicators," \
	"medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
awk -v tr="$(median 1 "$WORK/get-tix.res")" -v t50="$(median 2 "$WORK/get-tix.res")" \
    -v t99="$(median 3 "$WORK/get-tix.res")" \
    -v terr="$(sum 4 "$WORK/get-tix.res") $(sum 5 "$WORK/get-tix.res")" \
    -v cr="$(median 1 "$WORK/get-nocache.res")" -v c50="$(median 2 "$WORK/get-nocache.res")" \
    -v c99="$(median 3 "$WORK/get-nocache.res")" \
    -v cerr="$(sum 4 "$WORK/get-nocache.res") $(sum 5 "$WORK/get-nocache.res")" \
    -v xr="$(median 1 "$WORK/get-turns.res")" -v x50="$(median 2 "$WORK/get-turns.res")" \
    -v x99="$(median 3 "$WORK/get-turns.res")" \
    -v xerr="$(sum 4 "$WORK/get-turns.res") $(sum 5 "$WORK/get-turns.res")" -v cores="$(nproc)" \
    -v nr="$(median 1 "$WORK/get-nginx.res")" -v n50="$(median 2 "$WORK/get-nginx.res")" \
    -v n99="$(median 3 "$WORK/get-nginx.res")" \
    -v nerr="$(sum 4 "$WORK/get-nginx.res") $(sum 5 "$WORK/get-nginx.res")" \
    -v pr="$(median 1 "$WORK/post-same.res")" -v p50="$(median 2 "$WORK/post-same.res")" \
    -v p99="$(median 3 "$WORK/post-same.res")" \
    -v perr="$(sum 4 "$WORK/post-same.res") $(sum 5 "$WORK/post-same.res")" \
    -v fresh="$(median 2 "$WORK/post-new.res")" \
    -v allerr="$(( $(sum 4 "$WORK/get-tix.res" "$WORK/get-nocache.res" "$WORK/get-turns.res" "$WORK/post-same.res" "$WORK/rss-get.res" "$WORK/rss-post.res") + \
                   $(sum 5 "$WORK/get-tix.res" "$WORK/get-nocache.res" "$WORK/get-turns.res" "$WORK/post-same.res" "$WORK/rss-get.res" "$WORK/rss-post.res") ))" \
    -v rfirst="$(head -n1 "$WORK/rss.kb")" -v rlast="$(tail -n1 "$WORK/rss.kb")" \
    -v rmax="$(sort -n "$WORK/rss.kb" | tail -n1)" -v conns="$CONNS" -v rc="$rc" \
    -v mixget="$(cat "$WORK/rss-get.res")" -v mixpost="$(cat "$WORK/rss-post.res")" '
function row(name, rps, p50, p99, err) {
	split(err, e, " ")
	printf "%-34s %10.0f %9.2f %9.2f %8d %8d\n", name, rps, p50, p99, e[1], e[2]
}
function goal(name, value, op, target, unit) {
	t = target + 0
	ok = (op == ">=") ? value >= t : (op == "<") ? value < t : value <= t
	printf "%-34s %9.2f%s   goal %s %s%s   %s\n", name, value, unit, op, target, unit, ok ? "PASS" : "MISS"
}
BEGIN {
	printf "%-34s %10s %9s %9s %8s %8s\n", "", "req/s", "p50 ms", "p99 ms", "sock err", "HTTP err"
	row("GET tix (" conns " connections)", tr, t50, t99, terr)
	row("GET tix --cache 0 (" conns ")", cr, c50, c99, cerr)
	row("GET --cache 0 --principal-requests " cores, xr, x50, x99, xerr)
	row("GET nginx, same bytes (" conns ")", nr, n50, n99, nerr)
	row("POST 1,000 already stored (4)", pr, p50, p99, perr)
	printf "%-34s %10.0f objects/s (re-sent)\n", "", pr * 1000
	printf "%-34s %10.0f objects/s (%.0f ms per POST, median of 10)\n", "POST 1,000 new (1, curl)",
		(fresh > 0 ? 1000 / fresh : 0), fresh * 1000
	split(mixget, g, " ")
	split(mixpost, q, " ")
	row("mixed: GET (" conns ")", g[1], g[2], g[3], g[4] " " g[5])
	row("mixed: POST 1,000 already stored (2)", q[1], q[2], q[3], q[4] " " q[5])
	printf "tix RSS in the mixed run, after 10 s: first %.1f MiB, last %.1f MiB, max %.1f MiB\n",
		rfirst / 1024, rlast / 1024, rmax / 1024
	print ""
	goal("GET tix / nginx", nr > 0 ? tr / nr : 0, ">=", "0.40", "")
	goal("GET tix --cache 0 / nginx", nr > 0 ? cr / nr : 0, ">=", "0.40", "")
	printf "%-34s %9.2f    (no goal: one principal, %d requests at a time)\n",
		"GET --cache 0 turns " cores " / nginx", (nr > 0 ? xr / nr : 0), cores
	goal("GET p99 at " conns " connections", t99, "<", "50", " ms")
	goal("GET p99, --cache 0", c99, "<", "50", " ms")
	goal("errors (every tix run)", allerr, "<=", "0", "")
	goal("RSS max / first (flat)", rfirst > 0 ? rmax / rfirst : 0, "<=", "1.10", "")
	if (rc != 0)
		printf "tix serve exited with %d after SIGTERM\n", rc
}'
exit 0
