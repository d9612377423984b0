#!/usr/bin/env bash
# run.sh — the ingest benchmark (`make bench-ingest`); see bench/README.md.
# Builds tix and the baselines in Release, generates each input once, then for
# each size in COUNTS runs ROUNDS alternated rounds of: the jansson+SQLite
# baseline into a fresh db, the JSON1 baseline (one INSERT ... SELECT FROM
# json_each) into a fresh db, `tix import` into a fresh db, and (AGAIN=1)
# `tix import` of the same file again and of the same objects in other bytes;
# prints the medians (wall and CPU seconds) and the goals, and across sizes the
# flatness of the import rate. Exit 0 whatever the goals say (a benchmark is
# not a test); non-zero only when something could not be built or run.
#
# Environment: COUNTS (indicator counts, default "$COUNT", COUNT default
# 100000; e.g. COUNTS="10000 100000 1000000"), ROUNDS (default 3), AGAIN
# (1: also the re-imports; default 1 for one size, 0 for several), BUILD_DIR
# (default build-bench), KEEP_DB=1 to keep the databases.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

COUNT="${COUNT:-100000}"
COUNTS="${COUNTS:-$COUNT}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="bench/ingest/work"
if [ "$(echo "$COUNTS" | wc -w)" -gt 1 ]; then AGAIN="${AGAIN:-0}"; else AGAIN="${AGAIN:-1}"; fi
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

# ---- runs ----------------------------------------------------------------
# measure NAME CMD...: runs CMD under /usr/bin/time, appends "wall_s rss_kb
# user_s sys_s" to $WORK/NAME.times; on failure shows the output and stops.
measure() {
	local name="$1"; shift
	local rc=0
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/last.time" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$WORK/$name.log" >&2
		die "$name failed with exit $rc: $*"
	fi
	tail -n 1 "$WORK/last.time" >>"$WORK/$name.times"
}

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

# median COLUMN FILE (column 5: user + sys)
median() {
	awk -v c="$1" '{print c == 5 ? $3 + $4 : $c}' "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

: >"$WORK/sizes"
for COUNT in $COUNTS; do
INPUT="$WORK/indicators-$COUNT.json"
# ---- input ---------------------------------------------------------------
if [ ! -s "$INPUT" ]; then
	echo "== generating $INPUT ($COUNT indicators)"
	python3 bench/ingest/gen.py "$INPUT.tmp" --count "$COUNT"
	mv "$INPUT.tmp" "$INPUT"
fi
# The same objects in other bytes (indented, keys reversed), for the re-import
# path that cannot recognise bytes and must parse and look each version up.
REFORMATTED="$WORK/indicators-$COUNT-reformatted.json"
if [ "$AGAIN" = 1 ] && [ ! -s "$REFORMATTED" ]; then
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
d["objects"] = [dict(reversed(list(o.items()))) for o in d["objects"]]
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$INPUT" "$REFORMATTED"
fi
# one object per line after the bundle's opening line
OBJECTS=$(( $(grep -c '^{"' "$INPUT") - 1 ))
SIZE_BYTES=$(stat -L -c %s "$INPUT")

rm -f "$WORK"/*.times
for r in $(seq 1 "$ROUNDS"); do
	echo "== $COUNT: round $r/$ROUNDS"
	rm_db "$WORK/baseline.db"
	measure baseline "$BASELINE" "$INPUT" "$WORK/baseline.db"
	rm_db "$WORK/baseline.db"
	measure json1 "$BASELINE" --json1 "$INPUT" "$WORK/baseline.db"
	rm_db "$WORK/baseline.db"
	rm_db "$WORK/tix.db"
	measure first "$TIX" import --db "$WORK/tix.db" "$INPUT"
	if [ "$AGAIN" = 1 ]; then
		measure reimport "$TIX" import --db "$WORK/tix.db" "$INPUT"
		measure reformatted "$TIX" import --db "$WORK/tix.db" "$REFORMATTED"
	fi
	printf '   baseline %s s, json1 %s s, first import %s s (wall)\n' \
		"$(tail -n1 "$WORK/baseline.times" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/json1.times" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/first.times" | cut -d' ' -f1)"
done
if [ "$AGAIN" = 1 ]; then
	echo "== tix stats after the last round"
	"$TIX" stats --db "$WORK/tix.db" | sed 's/^/   /' || true
fi
if [ "${KEEP_DB:-0}" != 1 ]; then
	rm_db "$WORK/baseline.db"
	rm_db "$WORK/tix.db"
fi

# ---- report --------------------------------------------------------------
echo
echo "Ingest benchmark: $OBJECTS objects, $(awk -v b="$SIZE_BYTES" 'BEGIN{printf "%.1f", b/1048576}') MiB," \
	"medians of $ROUNDS alternated rounds, $(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for f in baseline json1 first reimport reformatted; do
	[ -s "$WORK/$f.times" ] || continue
	echo "$f $(median 1 "$WORK/$f.times") $(median 2 "$WORK/$f.times") $(median 5 "$WORK/$f.times")"
done >"$WORK/medians"
echo "$OBJECTS $(awk '$1 == "first" {print $2, $4}' "$WORK/medians") \
$(awk '$1 == "baseline" {print $2, $4}' "$WORK/medians") \
$(awk '$1 == "json1" {print $2, $4}' "$WORK/medians")" >>"$WORK/sizes"
awk -v objects="$OBJECTS" -v size="$SIZE_BYTES" '
{ w[$1] = $2; m[$1] = $3; c[$1] = $4 }
function rate(t) { return t > 0 ? objects / t : 0 }
function row(name, k) {
	if (k in w)
		printf "%-24s %12.0f %10.2f %12.0f %10.2f %14.1f\n", name, rate(w[k]), w[k],
		       rate(c[k]), c[k], m[k] / 1024
}
function goal(name, value, op, target) {
	ok = (op == ">=") ? value >= target : value <= target
	printf "%-34s %8.2f   goal %s %.2f   %s\n", name, value, op, target, ok ? "PASS" : "MISS"
}
END {
	sizemib = size / 1048576
	printf "%-24s %12s %10s %12s %10s %14s\n", "", "objects/s", "wall s", "objects/CPU-s", "CPU s",
	       "peak RSS MiB"
	row("baseline (jansson)", "baseline")
	row("baseline (JSON1)", "json1")
	row("tix import (first)", "first")
	row("tix import (again)", "reimport")
	row("again, other bytes", "reformatted")
	printf "%-24s %12s %10s %12s %10s %14.1f\n", "input file", "", "", "", "", sizemib
	print ""
	goal("tix / jansson baseline rate", w["first"] > 0 ? w["baseline"] / w["first"] : 0, ">=", 0.60)
	printf "%-34s %8.2f   (by CPU seconds)\n", "", (c["first"] > 0 ? c["baseline"] / c["first"] : 0)
	goal("tix / JSON1 baseline rate", w["first"] > 0 ? w["json1"] / w["first"] : 0, ">=", 0.50)
	printf "%-34s %8.2f   (by CPU seconds)\n", "", (c["first"] > 0 ? c["json1"] / c["first"] : 0)
	goal("tix peak RSS / file size", (m["first"] / 1024) / sizemib, "<=", 2.0)
	if ("reimport" in w) {
		goal("first / re-import time", w["reimport"] > 0 ? w["first"] / w["reimport"] : 0, ">=", 2.0)
		printf "%-34s %8.2f   (no goal: same objects, other bytes)\n", "first / re-import other bytes",
		       (w["reformatted"] > 0 ? w["first"] / w["reformatted"] : 0)
	}
}' "$WORK/medians"
echo
done

# ---- across sizes ----------------------------------------------------------
if [ "$(wc -l <"$WORK/sizes")" -gt 1 ]; then
	echo "Across sizes (medians; rates in objects/s, by wall and by CPU seconds):"
	awk '
	{ n[NR] = $1; fw[NR] = $2; fc[NR] = $3; bw[NR] = $4; bc[NR] = $5; jw[NR] = $6; jc[NR] = $7 }
	END {
		printf "%10s %12s %12s %14s %14s %12s %12s\n", "objects", "tix wall", "tix CPU",
		       "tix/jansson", "tix/JSON1", "(CPU)", "(CPU)"
		for (i = 1; i <= NR; i++)
			printf "%10d %12.0f %12.0f %14.2f %14.2f %12.2f %12.2f\n", n[i], n[i] / fw[i],
			       n[i] / fc[i], bw[i] / fw[i], jw[i] / fw[i], bc[i] / fc[i], jc[i] / fc[i]
		flat = (n[NR] / fw[NR]) / (n[1] / fw[1])
		printf "import rate at %d / at %d: %.2f by wall, %.2f by CPU (goal >= 0.80): %s\n",
		       n[NR], n[1], flat, (n[NR] / fc[NR]) / (n[1] / fc[1]), (flat >= 0.8 ? "PASS" : "MISS")
	}' "$WORK/sizes"
fi
exit 0
