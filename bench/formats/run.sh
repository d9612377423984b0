#!/usr/bin/env bash
# run.sh — the formats benchmark (`make bench-formats`); see bench/README.md.
# Builds tix in Release, generates COUNT values as a MISP event and a CSV
# file, converts each once to the STIX bundle tix stores for it (the
# baseline: `tix import` of those very objects as STIX), then ROUNDS rounds
# of: MISP import, STIX import of the MISP event's objects, CSV import, STIX
# import of the CSV's objects, `wc -l` of the CSV; prints medians and ratios.
# Exit 0 whatever the goals say; non-zero only when something cannot run.
#
# Environment: COUNT (values, default 100000), ROUNDS (default 3),
# BUILD_DIR (default build-bench), REPORT_ONLY=1 to print the last run's
# table again without running anything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="bench/formats/work"
TIX="$BUILD/tix"
IN="$WORK/values-$COUNT"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is needed"

if [ "${REPORT_ONLY:-0}" != 1 ]; then
echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
if [ ! -s "$IN.csv" ]; then
	echo "== generating $IN.misp.json and $IN.csv ($COUNT values)"
	python3 bench/formats/gen.py "$IN" "$COUNT"
fi
# The baselines: the same objects as a STIX bundle, made by tix from the same
# input (for MISP these are the objects MISP's own STIX export would give).
for k in misp csv; do
	if [ ! -s "$IN.$k.stix.json" ]; then
		rm_db "$WORK/conv.db"
		if [ $k = misp ]; then "$TIX" import --quiet --db "$WORK/conv.db" "$IN.misp.json"
		else "$TIX" import --quiet --db "$WORK/conv.db" --format csv --header \
			--map type=1,value=2,first_seen=3 "$IN.csv"; fi
		"$TIX" export --db "$WORK/conv.db" >"$IN.$k.stix.json"
		rm_db "$WORK/conv.db"
	fi
done

measure() {
	local name="$1"; shift
	local rc=0
	/usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/$name.log" >&2; die "$name failed with exit $rc: $*"; }
	tail -n 1 "$WORK/last.time" >>"$WORK/$name.times"
}

rm -f "$WORK"/*.times
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS"
	rm_db "$WORK/t.db"; measure misp "$TIX" import --quiet --db "$WORK/t.db" "$IN.misp.json"
	rm_db "$WORK/t.db"; measure misp_stix "$TIX" import --quiet --db "$WORK/t.db" "$IN.misp.stix.json"
	rm_db "$WORK/t.db"; measure csv "$TIX" import --quiet --db "$WORK/t.db" --format csv --header \
		--map type=1,value=2,first_seen=3 "$IN.csv"
	rm_db "$WORK/t.db"; measure csv_stix "$TIX" import --quiet --db "$WORK/t.db" "$IN.csv.stix.json"
	measure wc wc -l "$IN.csv"
done
rm_db "$WORK/t.db"
fi

median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
echo
echo "Formats benchmark: $COUNT values, medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
awk -v n="$COUNT" \
    -v mw="$(median 1 "$WORK/misp.times")" -v mm="$(median 2 "$WORK/misp.times")" \
    -v sw="$(median 1 "$WORK/misp_stix.times")" -v sm="$(median 2 "$WORK/misp_stix.times")" \
    -v cw="$(median 1 "$WORK/csv.times")" -v cm="$(median 2 "$WORK/csv.times")" \
    -v tw="$(median 1 "$WORK/csv_stix.times")" -v tm="$(median 2 "$WORK/csv_stix.times")" \
    -v ww="$(median 1 "$WORK/wc.times")" '
function rate(w) { return w > 0 ? n / w : 0 }
function row(name, w, m) { printf "%-34s %12.0f %8.2f %12.1f\n", name, rate(w), w, m / 1024 }
function goal(name, v, t) { printf "%-34s %8.2f   goal >= %.2f   %s\n", name, v, t, ((v >= t) ? "PASS" : "MISS") }
BEGIN {
	printf "%-34s %12s %8s %12s\n", "", "values/s", "wall s", "peak RSS MiB"
	row("MISP event import", mw, mm)
	row("STIX import of the same objects", sw, sm)
	row("CSV import", cw, cm)
	row("STIX import of the same indicators", tw, tm)
	row("wc -l of the CSV", ww, 0)
	print ""
	goal("MISP rate / STIX rate", ((sw > 0 && mw > 0) ? sw / mw : 0), 0.70)
	goal("CSV rate / STIX rate", ((tw > 0 && cw > 0) ? tw / cw : 0), 0.70)
	printf "%-34s %8.4f   (no goal: reading lines, nothing else)\n", "CSV rate / wc -l rate", ((ww > 0 && cw > 0) ? ww / cw : 0)
}'
exit 0
