#!/usr/bin/env bash
# run.sh — the growth benchmark (`make bench-scale`); see bench/README.md.
# For each store size (10k, 100k, 1M indicators by default): `tix import`
# beside the ingest benchmark's jansson+SQLite baseline on the same file
# (µs per object, rounds alternated), `tix export` (µs per object, peak
# RSS), and `tix serve --cache 0` answering three TAXII pages of 100: the
# first, a deep one (added_after the middle of the collection) and an
# incremental poll (added_after the tenth object from the end), then its
# RSS. Prints the table with each figure's growth from the smallest size,
# writes it to bench/scale/work/scale.txt and a plot (gnuplot, SVG) to
# bench/scale/work/scale.svg. Exit 0 whatever the figures say; non-zero
# only when something could not be built or run.
#
# Environment: SIZES (default "10000 100000 1000000"), ROUNDS (import and
# export rounds, default 1; each round imports every size again),
# PAGE_ROUNDS (timed requests per page, default 15), BUILD_DIR
# (build-bench). Inputs are kept in bench/scale/work between runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
SIZES="${SIZES:-10000 100000 1000000}"
ROUNDS="${ROUNDS:-1}"
PAGE_ROUNDS="${PAGE_ROUNDS:-15}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$ROOT/bench/scale/work"
TIX="$ROOT/$BUILD/tix"
BASELINE="$ROOT/$BUILD/bench/tix-bench-ingest-baseline"
TAXII="application/taxii+json;version=2.1"
SERVE_PID=""
mkdir -p "$WORK"

die() { echo "run.sh: $*" >&2; exit 1; }
cleanup() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is needed"
command -v curl >/dev/null || die "curl is needed"
command -v sqlite3 >/dev/null || die "sqlite3 is needed (the deep page's cursor)"

echo "== build (Release) in $BUILD"
{ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
  cmake --build "$BUILD" -j2 --target tix tix-bench-ingest-baseline; } >"$WORK/build.log" 2>&1 ||
	{ tail -n 40 "$WORK/build.log" >&2; die "build failed (log: $WORK/build.log)"; }

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# timed NAME N CMD...: wall seconds and peak RSS (KiB) of CMD, as "NAME N s kib" in
# results; its output is dropped, its messages kept in out.log
timed() {
	local name="$1" n="$2"; shift 2
	/usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" >/dev/null 2>"$WORK/out.log" ||
		{ tail -n 20 "$WORK/out.log" >&2; die "$name at $n failed: $*"; }
	echo "$name $n $(cat "$WORK/last.time")" >>"$WORK/results"
}
# us_iso MICROSECONDS: the RFC 3339 time TAXII's added_after takes
us_iso() {
	python3 -c 'import sys, datetime as d
us = int(sys.argv[1])
print(d.datetime.fromtimestamp(us // 1000000, d.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000))' "$1"
}

rm -f "$WORK/results"
for n in $SIZES; do
	input="$WORK/indicators-$n.json"
	if [ ! -s "$input" ]; then
		echo "== generating $n indicators"
		python3 bench/ingest/gen.py "$input.tmp" --count "$n"
		mv "$input.tmp" "$input"
	fi
	objects=$(($(grep -c '^{"' "$input") - 1))
	db="$WORK/tix-$n.db"
	for r in $(seq 1 "$ROUNDS"); do
		echo "== $n: import round $r/$ROUNDS (baseline, then tix; alternated by round)"
		for who in $([ $((r % 2)) = 1 ] && echo "baseline tix" || echo "tix baseline"); do
			if [ "$who" = baseline ]; then
				rm_db "$WORK/baseline.db"
				timed baseline "$objects" "$BASELINE" "$input" "$WORK/baseline.db"
				rm_db "$WORK/baseline.db"
			else
				rm_db "$db"
				"$TIX" admin org add bench --db "$db" >/dev/null
				printf 'bench password\n' | "$TIX" admin user add bench --org bench --role analyst \
					--password-stdin --db "$db" >/dev/null
				cid="$("$TIX" admin collection add indicators --read bench --write bench --db "$db")"
				timed import "$objects" "$TIX" import --quiet --org bench --collection "$cid" --db "$db" "$input"
			fi
		done
		timed export "$objects" "$TIX" export --db "$db"
	done

	echo "== $n: tix serve --cache 0, three pages of 100, $PAGE_ROUNDS times each"
	key="$("$TIX" admin key add --user bench --db "$db" 2>/dev/null | grep '^tix_')"
	cid="$("$TIX" admin collection list --db "$db" | awk '/indicators/ { print $1; exit }')"
	mid="$(sqlite3 "$db" "SELECT date_added FROM collection_objects ORDER BY date_added LIMIT 1 OFFSET $((objects / 2))")"
	tail10="$(sqlite3 "$db" "SELECT date_added FROM collection_objects ORDER BY date_added DESC LIMIT 1 OFFSET 10")"
	port="$(free_port)"
	"$TIX" serve --listen "127.0.0.1:$port" --db "$db" --access-log off --cache 0 2>"$WORK/serve.log" &
	SERVE_PID=$!
	base="http://127.0.0.1:$port/api1/collections/$cid/objects/?limit=100"
	for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$port/taxii2/" && break; sleep 0.1; done
	for page in first deep poll; do
		url="$base"
		[ "$page" = deep ] && url="$base&added_after=$(us_iso "$mid")"
		[ "$page" = poll ] && url="$base&added_after=$(us_iso "$tail10")"
		code="$(curl -s -o "$WORK/page.json" -w '%{http_code}' -H "Accept: $TAXII" \
			-H "Authorization: Bearer $key" "$url")"
		[ "$code" = 200 ] || die "$page page at $n answered $code: $(head -c 300 "$WORK/page.json")"
		got="$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1])).get("objects", [])))' "$WORK/page.json")"
		want=100
		[ "$page" = poll ] && want=10
		[ "$got" = "$want" ] || die "$page page at $n has $got objects, not $want"
		for _ in 1 2 3; do # warm: the page's b-tree pages in the server's cache
			curl -s -o /dev/null -H "Accept: $TAXII" -H "Authorization: Bearer $key" "$url"
		done
		for _ in $(seq 1 "$PAGE_ROUNDS"); do
			curl -s -o /dev/null -w "page-$page $objects %{time_total} 0\n" -H "Accept: $TAXII" \
				-H "Authorization: Bearer $key" "$url" >>"$WORK/results"
		done
	done
	echo "serve-rss $objects 0 $(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")" >>"$WORK/results"
	kill "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null || true
	SERVE_PID=""
done

# ---- report ------------------------------------------------------------------
echo
{
	echo "Growth benchmark: $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
		"medians of $ROUNDS import/export round(s) and $PAGE_ROUNDS requests a page"
	awk '
	function median(k,   m, i, j, t, v) {
		m = cnt[k]
		for (i = 1; i <= m; i++) v[i] = val[k, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m == 0 ? 0 : m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}
	{
		k = $1 SUBSEP $2
		if (!($2 in seen)) { seen[$2] = 1; sizes[++ns] = $2 }
		val[k, ++cnt[k]] = $3; rss[k, cnt[k]] = $4
		if ($4 > peak[k]) peak[k] = $4
	}
	END {
		printf "%9s %9s %9s %7s %9s %9s %8s %8s %8s %9s\n", "objects", "import", "baseline", "tix/",
		       "export", "export", "first", "deep", "poll", "serve"
		printf "%9s %9s %9s %7s %9s %9s %8s %8s %8s %9s\n", "", "us/obj", "us/obj", "base",
		       "us/obj", "RSS MiB", "page ms", "page ms", "page ms", "RSS MiB"
		for (i = 1; i <= ns; i++) {
			n = sizes[i]
			im[n] = median("import" SUBSEP n) * 1e6 / n
			bm[n] = median("baseline" SUBSEP n) * 1e6 / n
			em[n] = median("export" SUBSEP n) * 1e6 / n
			er[n] = peak["export" SUBSEP n] / 1024
			pf[n] = median("page-first" SUBSEP n) * 1e3
			pd[n] = median("page-deep" SUBSEP n) * 1e3
			pp[n] = median("page-poll" SUBSEP n) * 1e3
			sr[n] = peak["serve-rss" SUBSEP n] / 1024
			printf "%9d %9.1f %9.1f %7.2f %9.2f %9.1f %8.2f %8.2f %8.2f %9.1f\n", n, im[n], bm[n],
			       (bm[n] > 0 ? im[n] / bm[n] : 0), em[n], er[n], pf[n], pd[n], pp[n], sr[n]
		}
		s = sizes[1]
		printf "growth from %d:\n", s
		for (i = 2; i <= ns; i++) {
			n = sizes[i]
			printf "%9d %9.2f %9.2f %7s %9.2f %9.2f %8.2f %8.2f %8.2f %9.2f\n", n,
			       im[n] / im[s], bm[n] / bm[s], "", em[n] / em[s], er[n] / er[s], pf[n] / pf[s],
			       pd[n] / pd[s], pp[n] / pp[s], sr[n] / sr[s]
		}
		for (i = 1; i <= ns; i++) {
			n = sizes[i]
			printf "%d %f %f %f %f %f %f %f %f\n", n, im[n], bm[n], em[n], er[n], pf[n], pd[n], pp[n], sr[n] >"'"$WORK/scale.dat"'"
		}
	}' "$WORK/results"
} | tee "$WORK/scale.txt"

if command -v gnuplot >/dev/null; then
	gnuplot <<EOF || echo "run.sh: gnuplot failed; the table is in $WORK/scale.txt" >&2
set terminal svg size 900,420 dynamic font "sans,11"
set output "$WORK/scale.svg"
set multiplot layout 1,2 title "tix growth, $(date -u +%Y-%m-%d) ($(nproc) cores)"
set logscale x
set xlabel "objects in the store"
set key top left
set grid
set ylabel "µs per object"
plot "$WORK/scale.dat" using 1:2 with linespoints title "tix import", \
     "" using 1:3 with linespoints title "jansson+SQLite baseline", \
     "" using 1:4 with linespoints title "tix export"
set ylabel "ms per TAXII page of 100 (--cache 0); MiB"
plot "$WORK/scale.dat" using 1:6 with linespoints title "first page ms", \
     "" using 1:7 with linespoints title "deep page ms", \
     "" using 1:8 with linespoints title "added_after poll ms", \
     "" using 1:5 with linespoints title "export RSS MiB", \
     "" using 1:9 with linespoints title "serve RSS MiB"
unset multiplot
EOF
	[ -s "$WORK/scale.svg" ] && echo "plot: $WORK/scale.svg"
else
	echo "run.sh: no gnuplot (sh tools/deps.sh bench installs it): no plot" >&2
fi
exit 0
