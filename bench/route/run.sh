#!/usr/bin/env bash
# run.sh — the route benchmark (`make bench-route`); see bench/README.md.
# Builds tix in Release, generates ROWS report rows and constituents with
# RANGES ranges and DOMAINS domains (bench/route/gen.py), imports the
# constituents, then ROUNDS rounds of: `wc -l` of the rows, `tix route
# import --dry-run` (routing: read, check, normalise, longest prefix / ASN /
# PSL, no writes), `tix route import` (routing and storing each routed row as
# STIX, the unrouted ones as unrouted) into a fresh copy of the store, and
# `tix import --format csv` of the same rows (the CSV import baseline);
# prints medians, rows/s, peak RSS and the ratios.
# Exit 0 whatever the goals say; non-zero only when something cannot run.
#
# Environment: ROWS (default 1000000), RANGES (100000), DOMAINS (10000),
# ROUNDS (default 1), BUILD_DIR (default build-bench), STORE=0 to skip the
# storing import, REPORT_ONLY=1 to print the last run's table again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROWS="${ROWS:-1000000}"
RANGES="${RANGES:-100000}"
DOMAINS="${DOMAINS:-10000}"
ROUNDS="${ROUNDS:-1}"
STORE="${STORE:-1}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="bench/route/work"
TIX="$BUILD/tix"
IN="$WORK/route-$ROWS-$RANGES-$DOMAINS"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is needed"
rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

if [ "${REPORT_ONLY:-0}" != 1 ]; then
echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi
if [ ! -s "$IN.rows.csv" ]; then
	echo "== generating $IN.* ($ROWS rows, $RANGES ranges, $DOMAINS domains)"
	python3 bench/route/gen.py "$IN" "$ROWS" "$RANGES" "$DOMAINS"
fi
echo "== constituents"
rm_db "$WORK/base.db"
"$TIX" constituent import --db "$WORK/base.db" "$IN.constituents.csv" >/dev/null 2>"$WORK/constituents.log" ||
	die "constituent import failed: $(tail -n 5 "$WORK/constituents.log")"

# measure NAME OK_EXITS CMD...: wall seconds and peak RSS of CMD (exit 0, or 1
# for imports that report unrouted or skipped rows).
measure() {
	local name="$1" ok="$2"; shift 2
	local rc=0
	/usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	case " $ok " in *" $rc "*) ;; *) tail -n 20 "$WORK/$name.log" >&2; die "$name failed with exit $rc: $*";; esac
	tail -n 1 "$WORK/last.time" >>"$WORK/$name.times"
}

rm -f "$WORK"/*.times
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS"
	measure wc 0 wc -l "$IN.rows.csv"
	measure route "0 1" "$TIX" route import --db "$WORK/base.db" --dry-run --feed bench "$IN.rows.csv"
	if [ "$STORE" = 1 ]; then
		rm_db "$WORK/t.db"; cp "$WORK/base.db" "$WORK/t.db"
		measure store "0 1" "$TIX" route import --db "$WORK/t.db" --org cert --feed bench "$IN.rows.csv"
	fi
	rm_db "$WORK/t.db"
	measure csv "0 1" "$TIX" import --quiet --skip-invalid --db "$WORK/t.db" --format csv --header \
		--map value=2,first_seen=1 "$IN.rows.csv"
done
rm_db "$WORK/t.db"
grep -h 'rows:' "$WORK/route.log" | tail -n 1 >"$WORK/routed.txt" || true
fi

median() {
	[ -s "$2" ] || { echo 0; return; }
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
echo
echo "Route benchmark: $ROWS rows, $RANGES ranges, $DOMAINS domains, medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
echo "routing: $(sed 's/^[^:]*: //' "$WORK/routed.txt" 2>/dev/null)"
awk -v n="$ROWS" \
    -v ww="$(median 1 "$WORK/wc.times")" -v wm="$(median 2 "$WORK/wc.times")" \
    -v rw="$(median 1 "$WORK/route.times")" -v rm="$(median 2 "$WORK/route.times")" \
    -v sw="$(median 1 "$WORK/store.times")" -v sm="$(median 2 "$WORK/store.times")" \
    -v cw="$(median 1 "$WORK/csv.times")" -v cm="$(median 2 "$WORK/csv.times")" '
function rate(w) { return w > 0 ? n / w : 0 }
function row(name, w, m) { if (w > 0) printf "%-40s %12.0f %8.2f %12.1f\n", name, rate(w), w, m / 1024 }
BEGIN {
	printf "%-40s %12s %8s %12s\n", "", "rows/s", "wall s", "peak RSS MiB"
	row("wc -l of the rows", ww, wm)
	row("tix route import --dry-run (routing)", rw, rm)
	row("tix route import (routing + storing)", sw, sm)
	row("tix import --format csv (same rows)", cw, cm)
	print ""
	printf "%-40s %8.2f   goal >= 1.00 (200,000 rows/s)   %s\n", "routing rate / 200,000", rate(rw) / 200000, (rate(rw) >= 200000 ? "PASS" : "MISS")
	if (cw > 0) printf "%-40s %8.2f   (no goal)\n", "routing rate / CSV import rate", (rw > 0 ? cw / rw : 0)
	if (cw > 0 && sw > 0) printf "%-40s %8.2f   (no goal)\n", "storing route rate / CSV import rate", cw / sw
	if (ww > 0) printf "%-40s %8.4f   (no goal: reading lines, nothing else)\n", "routing rate / wc -l rate", (rw > 0 ? ww / rw : 0)
}'
exit 0
