#!/usr/bin/env bash
# run.sh — the ingest benchmark (`make bench-ingest`); see bench/README.md.
# Builds tix and the baseline in Release, generates the input once, then runs
# ROUNDS rounds of: baseline into a fresh db, `tix import` into a fresh db,
# `tix import` of the same file again, and prints the medians and the goals.
# Exit 0 whatever the goals say (a benchmark is not a test); non-zero only
# when something could not be built or run.
#
# Environment: COUNT (indicators, default 100000), ROUNDS (default 3),
# BUILD_DIR (default build-bench), KEEP_DB=1 to keep the databases.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

COUNT="${COUNT:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="bench/ingest/work"
INPUT="$WORK/indicators-$COUNT.json"
TIX="$BUILD/tix"
BASELINE="$BUILD/bench/tix-bench-ingest-baseline"

mkdir -p "$WORK"

die() { echo "run.sh: $*" >&2; exit 1; }

# ---- tools ---------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
	echo "== installing GNU time"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq time >/dev/null ||
		die "cannot install the 'time' package"
fi
command -v python3 >/dev/null || die "python3 is needed to generate the input"

# ---- build ---------------------------------------------------------------
echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix tix-bench-ingest-baseline; } \
       >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

# ---- input ---------------------------------------------------------------
if [ ! -s "$INPUT" ]; then
	echo "== generating $INPUT ($COUNT indicators)"
	python3 bench/ingest/gen.py "$INPUT.tmp" --count "$COUNT"
	mv "$INPUT.tmp" "$INPUT"
fi
# The same objects in other bytes (indented, keys reversed), for the re-import
# path that cannot recognise bytes and must parse and look each version up.
REFORMATTED="$WORK/indicators-$COUNT-reformatted.json"
if [ ! -s "$REFORMATTED" ]; then
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["objects"] = [dict(reversed(list(o.items()))) for o in d["objects"]]
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$INPUT" "$REFORMATTED"
fi
# one object per line after the bundle's opening line
OBJECTS=$(( $(grep -c '^{"' "$INPUT") - 1 ))
SIZE_BYTES=$(stat -c %s "$INPUT")

# ---- runs ----------------------------------------------------------------
# measure NAME CMD...: runs CMD under /usr/bin/time, appends "wall_s rss_kb"
# to $WORK/NAME.times; on failure shows the output and stops.
measure() {
	local name="$1"; shift
	local rc=0
	/usr/bin/time -f '%e %M' -o "$WORK/last.time" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$WORK/$name.log" >&2
		die "$name failed with exit $rc: $*"
	fi
	tail -n 1 "$WORK/last.time" >>"$WORK/$name.times"
}

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

rm -f "$WORK"/*.times
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS"
	rm_db "$WORK/baseline.db"
	measure baseline "$BASELINE" "$INPUT" "$WORK/baseline.db"
	rm_db "$WORK/tix.db"
	measure first "$TIX" import --db "$WORK/tix.db" "$INPUT"
	measure reimport "$TIX" import --db "$WORK/tix.db" "$INPUT"
	measure reformatted "$TIX" import --db "$WORK/tix.db" "$REFORMATTED"
	printf '   baseline %s s, first import %s s, re-import %s s, reformatted %s s\n' \
		"$(tail -n1 "$WORK/baseline.times" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/first.times" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/reimport.times" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/reformatted.times" | cut -d' ' -f1)"
done
echo "== tix stats after the last round"
"$TIX" stats --db "$WORK/tix.db" | sed 's/^/   /' || true
if [ "${KEEP_DB:-0}" != 1 ]; then
	rm_db "$WORK/baseline.db"
	rm_db "$WORK/tix.db"
fi

# ---- report --------------------------------------------------------------
# median COLUMN FILE
median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

echo
echo "Ingest benchmark: $OBJECTS objects, $(awk -v b="$SIZE_BYTES" 'BEGIN{printf "%.1f", b/1048576}') MiB," \
	"medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
awk -v objects="$OBJECTS" -v size="$SIZE_BYTES" \
    -v bw="$(median 1 "$WORK/baseline.times")" -v bm="$(median 2 "$WORK/baseline.times")" \
    -v fw="$(median 1 "$WORK/first.times")" -v fm="$(median 2 "$WORK/first.times")" \
    -v rw="$(median 1 "$WORK/reimport.times")" -v rm="$(median 2 "$WORK/reimport.times")" \
    -v xw="$(median 1 "$WORK/reformatted.times")" -v xm="$(median 2 "$WORK/reformatted.times")" '
function rate(w) { return w > 0 ? objects / w : 0 }
function row(name, w, m) {
	printf "%-22s %12.0f %10.2f %14.1f\n", name, rate(w), w, m / 1024
}
function goal(name, value, op, target) {
	ok = (op == ">=") ? value >= target : value <= target
	printf "%-30s %8.2f   goal %s %.2f   %s\n", name, value, op, target, ok ? "PASS" : "MISS"
}
BEGIN {
	sizemib = size / 1048576
	printf "%-22s %12s %10s %14s\n", "", "objects/s", "wall s", "peak RSS MiB"
	row("baseline", bw, bm)
	row("tix import (first)", fw, fm)
	row("tix import (again)", rw, rm)
	row("again, other bytes", xw, xm)
	printf "%-22s %12s %10s %14.1f\n", "input file", "", "", sizemib
	print ""
	goal("tix / baseline rate", bw > 0 && fw > 0 ? bw / fw : 0, ">=", 0.60)
	goal("tix peak RSS / file size", (fm / 1024) / sizemib, "<=", 2.0)
	goal("first / re-import time", rw > 0 ? fw / rw : 0, ">=", 2.0)
	printf "%-30s %8.2f   (no goal: same objects, other bytes)\n", "first / re-import other bytes", (xw > 0 ? fw / xw : 0)
}'
exit 0
