#!/usr/bin/env bash
# run.sh — the formats benchmark (`make bench-formats`); see bench/README.md.
# Builds tix in Release, generates COUNT values as a MISP event and a CSV
# file, converts each once to the STIX bundle tix stores for it (the
# baseline: `tix import` of those very objects as STIX), then ROUNDS rounds
# of: MISP import, STIX import of the MISP event's objects, CSV import, STIX
# import of the CSV's objects, `wc -l` of the CSV; prints medians and ratios.
# Exit 0 whatever the goals say; non-zero only when something cannot run.
#
# Then the MISP export (`tix export --format misp`, streamed) of stores of
# EXPORT_SIZES attributes (1% in events of 500, the rest loose, 1,000 a
# day), with `tix export` (STIX) of the same store as the baseline: seconds
# and peak RSS, and the ratio of peak RSS between the largest and smallest
# size (flat memory: about 1).
#
# Environment: COUNT (values, default 100000), ROUNDS (default 3),
# EXPORT_SIZES (default "100000 1000000"; "" skips the export part),
# EXPORT_ONLY=1 (only the export part), BUILD_DIR (default build-bench),
# REPORT_ONLY=1 to print the last run's tables again without running anything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-100000}"
EXPORT_SIZES="${EXPORT_SIZES-100000 1000000}"
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
if [ "${EXPORT_ONLY:-0}" != 1 ]; then
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
fi

measure() {
	local name="$1"; shift
	local rc=0
	/usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/$name.log" >&2; die "$name failed with exit $rc: $*"; }
	tail -n 1 "$WORK/last.time" >>"$WORK/$name.times"
}

rm -f "$WORK"/*.times
for r in $(seq 1 "$ROUNDS"); do
	[ "${EXPORT_ONLY:-0}" = 1 ] && break
	echo "== round $r/$ROUNDS"
	rm_db "$WORK/t.db"; measure misp "$TIX" import --quiet --db "$WORK/t.db" "$IN.misp.json"
	rm_db "$WORK/t.db"; measure misp_stix "$TIX" import --quiet --db "$WORK/t.db" "$IN.misp.stix.json"
	rm_db "$WORK/t.db"; measure csv "$TIX" import --quiet --db "$WORK/t.db" --format csv --header \
		--map type=1,value=2,first_seen=3 "$IN.csv"
	rm_db "$WORK/t.db"; measure csv_stix "$TIX" import --quiet --db "$WORK/t.db" "$IN.csv.stix.json"
	measure wc wc -l "$IN.csv"
done
rm_db "$WORK/t.db"

# The MISP export: one store per size, kept between runs (building the
# 1M store is most of the time: the import, not the export).
for n in $EXPORT_SIZES; do
	db="$WORK/export-$n.db"
	if [ ! -e "$db.done" ]; then
		echo "== building the $n-attribute store for the export"
		python3 bench/formats/gen.py --export "$WORK/export-$n" "$n"
		rm_db "$db"
		"$TIX" import --quiet --db "$db" "$WORK/export-$n.events.json"
		"$TIX" import --quiet --db "$db" --format csv --header --map type=1,value=2,first_seen=3 \
			--source bench-feed --tlp green "$WORK/export-$n.loose.csv"
		rm -f "$WORK/export-$n.events.json" "$WORK/export-$n.loose.csv"
		touch "$db.done"
	fi
	for r in $(seq 1 "$ROUNDS"); do
		echo "== MISP export of $n attributes, round $r/$ROUNDS"
		measure "export_misp_$n" "$TIX" export --db "$db" --format misp
		measure "export_stix_$n" "$TIX" export --db "$db"
	done
done
fi

median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
if [ -s "$WORK/misp.times" ]; then
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
fi

# The export table: the sizes that have times
sizes=""
for n in $EXPORT_SIZES; do [ -s "$WORK/export_misp_$n.times" ] && sizes="$sizes $n"; done
if [ -n "$sizes" ]; then
	echo
	printf "%-12s %10s %10s %10s %10s %10s\n" "attributes" "MISP s" "MISP MiB" "STIX s" "STIX MiB" "MISP/STIX s"
	first="" last=""
	for n in $sizes; do
		mw=$(median 1 "$WORK/export_misp_$n.times"); mm=$(median 2 "$WORK/export_misp_$n.times")
		sw=$(median 1 "$WORK/export_stix_$n.times"); sm=$(median 2 "$WORK/export_stix_$n.times")
		awk -v n="$n" -v mw="$mw" -v mm="$mm" -v sw="$sw" -v sm="$sm" 'BEGIN {
			printf "%-12d %10.2f %10.1f %10.2f %10.1f %10.2f\n", n, mw, mm / 1024, sw, sm / 1024, (sw > 0 ? mw / sw : 0) }'
		[ -z "$first" ] && first="$mm $sm $n"
		last="$mm $sm $n"
	done
	if [ "$first" != "$last" ]; then
		set -- $first; fm=$1; fs=$2; fn=$3
		set -- $last; lm=$1; ls=$2; ln=$3
		awk -v fm="$fm" -v fs="$fs" -v lm="$lm" -v ls="$ls" -v fn="$fn" -v ln="$ln" 'BEGIN {
			printf "peak RSS %d / %d attributes: MISP export %.2f, STIX export %.2f (flat: about 1)\n",
				ln, fn, lm / fm, ls / fs }'
	fi
fi
exit 0
