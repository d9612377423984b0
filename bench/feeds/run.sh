#!/usr/bin/env bash
# run.sh — the feeds benchmark (`make bench-feeds`); see bench/README.md.
# Builds tix in Release, generates SIZES indicators (bench/feeds/gen.py),
# imports each into a store, then in the same run, ROUNDS times: `tix
# export` (STIX, the baseline) and `tix export --format F` for every feed
# format, seconds, CPU seconds and peak RSS, and `wc -l` of each output;
# then the conditional GET (304) rate of GET /feeds/<collection>/rpz
# against nginx answering 304 for the same file (wrk, If-None-Match).
# Prints medians, rates against STIX's (wall and CPU) and each format's
# peak RSS at every size against its own at the smallest.
# Exit 0 whatever the goals say; non-zero only when something cannot run.
#
# Environment: SIZES (default "10000 100000 1000000"; the last is the one
# rated), ROUNDS (default 1), DURATION (seconds per wrk run, default 10; 0
# skips the 304s), CONNS (default 16), BUILD_DIR (default build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/bench/feeds"
SIZES="${SIZES:-10000 100000 1000000}"
COUNT="${SIZES##* }"
SMALL="${SIZES%% *}"
ROUNDS="${ROUNDS:-1}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-16}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$HERE/work"
TIX="$ROOT/$BUILD/tix"
FORMATS="suricata suricata-dataset zeek rpz nft ipset hosts csv list"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is needed"
if [ "$DURATION" != 0 ]; then
	command -v wrk >/dev/null || die "wrk is needed (sh tools/deps.sh soak)"
	NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
	[ -x "$NGINX" ] || die "nginx is needed (apt-get install nginx-light)"
fi

echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# measure NAME N CMD...: seconds, peak RSS (KiB) and CPU seconds of CMD, its
# output's lines.
measure() {
	local name="$1" n="$2"; shift 2
	local rc=0
	rm -rf "$WORK/out" && mkdir -p "$WORK/out"
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/last.time" "$@" >"$WORK/out/stdout" 2>"$WORK/out/stderr" || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/out/stderr" >&2; die "$name failed with exit $rc"; }
	local lines
	lines="$(cat "$WORK/out/stdout" "$WORK/out"/*.rules "$WORK/out"/*.lst 2>/dev/null | wc -l || true)"
	local wc_s
	wc_s="$(/usr/bin/time -f '%e' wc -l "$WORK/out/stdout" 2>&1 >/dev/null | tail -n1)"
	local e m u sy
	read -r e m u sy <"$WORK/last.time"
	echo "$n $name $e $m $lines $wc_s $(awk -v u="$u" -v s="$sy" 'BEGIN { print u + s }')" >>"$WORK/results"
	printf '   %-18s %8s s  %8s KiB  cpu %5s+%-5s s %9s lines\n' "$name" "$e" "$m" "$u" "$sy" "$lines"
}

rm -f "$WORK/results"
for n in $SIZES; do
	db="$WORK/feeds-$n.db"
	if [ ! -s "$db" ]; then
		echo "== generating and importing $n indicators"
		python3 "$HERE/gen.py" "$WORK/in-$n.json" "$n"
		rm_db "$db"
		"$TIX" admin org add bench --db "$db" >/dev/null
		"$TIX" admin collection add feeds --read bench --write bench --db "$db" >/dev/null
		"$TIX" import --quiet --org bench --collection feeds --db "$db" "$WORK/in-$n.json"
		rm -f "$WORK/in-$n.json"
	fi
done
for r in $(seq 1 "$ROUNDS"); do
	for n in $SIZES; do
		db="$WORK/feeds-$n.db"
		echo "== $n indicators, round $r of $ROUNDS"
		measure stix "$n" "$TIX" export --db "$db" --collection feeds
		for f in $FORMATS; do
			if [ "$f" = suricata-dataset ]; then
				measure "$f" "$n" "$TIX" export --db "$db" --collection feeds --format "$f" \
					--output "$WORK/out"
			else
				measure "$f" "$n" "$TIX" export --db "$db" --collection feeds --format "$f"
			fi
		done
	done
done
rm -rf "$WORK/out"
print_table() {
	echo
	echo "Feeds benchmark: sizes $SIZES, $ROUNDS round(s), medians, $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	awk -v sizes="$SIZES" -v big="$COUNT" -v small="$SMALL" '
	function median(key,    n, i, j, t, a) {
		n = split(vals[key], a, " ")
		for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ n=$1; f=$2; vals[n SUBSEP f SUBSEP "s"] = vals[n SUBSEP f SUBSEP "s"] " " $3
	  vals[n SUBSEP f SUBSEP "rss"] = vals[n SUBSEP f SUBSEP "rss"] " " $4
	  vals[n SUBSEP f SUBSEP "cpu"] = vals[n SUBSEP f SUBSEP "cpu"] " " $7
	  vals[n SUBSEP f SUBSEP "wc"] = vals[n SUBSEP f SUBSEP "wc"] " " $6
	  lines[n, f] = $5; if (!(f in seen)) { seen[f] = 1; order[++k] = f } }
	END {
		ns = split(sizes, sz, " ")
		hdr = "| format | s (" big ") | CPU s | indicators/s | rate / STIX (wall) | rate / STIX (CPU) | wc -l s | lines"
		sep = "|---|---:|---:|---:|---:|---:|---:|---:"
		for (i = 1; i <= ns; i++) { hdr = hdr " | RSS MiB " sz[i]; sep = sep "|---:" }
		for (i = 2; i <= ns; i++) { hdr = hdr " | " sz[i] " / " small; sep = sep "|---:" }
		print ""; print hdr " |"; print sep "|"
		bs = median(big SUBSEP "stix" SUBSEP "s"); bc = median(big SUBSEP "stix" SUBSEP "cpu")
		for (j = 1; j <= k; j++) {
			f = order[j]
			s = median(big SUBSEP f SUBSEP "s"); c = median(big SUBSEP f SUBSEP "cpu")
			line = sprintf("| %s | %.2f | %.2f | %\047d | %.2f | %.2f | %.2f | %\047d", f, s, c, s > 0 ? big / s : 0, s > 0 ? bs / s : 0, c > 0 ? bc / c : 0, median(big SUBSEP f SUBSEP "wc"), lines[big, f])
			r0 = median(small SUBSEP f SUBSEP "rss")
			for (i = 1; i <= ns; i++) line = line sprintf(" | %.1f", median(sz[i] SUBSEP f SUBSEP "rss") / 1024)
			for (i = 2; i <= ns; i++) line = line sprintf(" | %.2f", r0 ? median(sz[i] SUBSEP f SUBSEP "rss") / r0 : 0)
			print line " |"
		}
	}' "$WORK/results"
}
if [ "$DURATION" = 0 ]; then
	print_table
	exit 0
fi

# ---- conditional GETs: tix serve against nginx -----------------------------------
db="$WORK/feeds-$COUNT.db"
tix_ok() { "$TIX" "$@" --db "$db"; }
if ! "$TIX" admin user add bench-reader --org bench --role reader --password-stdin --db "$db" \
	<<<"bench password 1234" >/dev/null 2>&1; then :; fi
KEY="$("$TIX" admin key add --user bench-reader --db "$db" 2>/dev/null | grep -o 'tix_[^ ]*')"
CID="$("$TIX" admin collection list --db "$db" | grep -oE '[0-9a-f]{8}-[0-9a-f-]{27}' | head -n1)"
PORT="$(free_port)"
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$db" --threads 2 >"$WORK/serve.log" 2>&1 &
TIX_PID=$!
NGINX_PID=
trap 'kill $TIX_PID $NGINX_PID 2>/dev/null || true' EXIT
URL="http://127.0.0.1:$PORT/feeds/$CID/rpz"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/taxii2/" && break; sleep 0.1; done
echo "== GET $URL (the whole feed once, for its ETag)"
/usr/bin/time -f '%e' -o "$WORK/get.time" curl -s -D "$WORK/get.head" -o "$WORK/feed.rpz" \
	-H "Authorization: Bearer $KEY" "$URL"
ETAG="$(grep -i '^etag:' "$WORK/get.head" | cut -d' ' -f2 | tr -d '\r')"
[ -n "$ETAG" ] || die "no ETag: $(cat "$WORK/get.head")"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" -H "If-None-Match: $ETAG" "$URL")"
[ "$code" = 304 ] || die "a conditional GET answered $code"

mkdir -p "$WORK/www" "$WORK/nginx/tmp"
chmod 711 "$WORK" && chmod 755 "$WORK/www"
cp "$WORK/feed.rpz" "$WORK/www/feed.rpz" && chmod 644 "$WORK/www/feed.rpz"
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
	server {
		listen 127.0.0.1:$NPORT;
		root $WORK/www;
		location / { try_files /feed.rpz =404; }
	}
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
NGINX_PID=$!
NURL="http://127.0.0.1:$NPORT/feed.rpz"
for _ in $(seq 1 100); do curl -s -o /dev/null "$NURL" && break; sleep 0.1; done
NETAG="$(curl -s -D - -o /dev/null "$NURL" | grep -i '^etag:' | cut -d' ' -f2 | tr -d '\r')"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $NETAG" "$NURL")"
[ "$code" = 304 ] || die "nginx answered $code to a conditional GET"
echo "== 304 rates (${DURATION}s each, $CONNS connections)"
ETAG="$ETAG" AUTH="Bearer $KEY" wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$URL" >"$WORK/wrk-tix.out"
ETAG="$NETAG" AUTH="" wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$HERE/get.lua" "$NURL" >"$WORK/wrk-nginx.out"
TIX304="$(grep '^RESULT' "$WORK/wrk-tix.out" | cut -d' ' -f2-)"
NG304="$(grep '^RESULT' "$WORK/wrk-nginx.out" | cut -d' ' -f2-)"
kill $TIX_PID $NGINX_PID 2>/dev/null || true
wait 2>/dev/null || true

print_table
echo
read -r t_rate t_304 t_other <<<"$TIX304"
read -r n_rate n_304 n_other <<<"$NG304"
printf '| conditional GET (304) of the %s-indicator RPZ | req/s | 304s | other answers |\n|---|---:|---:|---:|\n' "$COUNT"
printf '| tix serve (--threads 2) | %s | %s | %s |\n| nginx (%s workers) | %s | %s | %s |\n' \
	"$t_rate" "$t_304" "$t_other" "$(nproc)" "$n_rate" "$n_304" "$n_other"
awk -v t="$t_rate" -v n="$n_rate" 'BEGIN { printf "\ntix / nginx 304 rate: %.2f\n", (n > 0 ? t / n : 0) }'
echo "full feed over HTTP ($COUNT indicators, rpz): $(cat "$WORK/get.time") s"
