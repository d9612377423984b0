#!/usr/bin/env bash
# modules.sh — what converting store modules to db.h costs on SQLite (issue
# 18; bench/README.md): `tix import --org` of the same indicators (each
# version goes through ownership.c's owner check and record, policy.c's
# marking flags) by the tree as it is and by the baseline BASE (default: the
# merge base with main), built side by side in Release and run alternately
# into fresh stores. Prints the medians of CPU seconds (user + system) and
# wall seconds and the ratio tree / baseline (goal: within the noise, <= 1.05).
# Exit 0 whatever the figures.
#
# Environment: COUNT (indicators, default 20000), ROUNDS (default 7), BASE
# (a commit), BUILD_DIR (default build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-20000}"
ROUNDS="${ROUNDS:-7}"
BUILD="${BUILD_DIR:-build-bench}"
BASE="${BASE:-$(git merge-base HEAD main)}"
WORK="$ROOT/bench/db/work/modules"
INPUT="$WORK/indicators-$COUNT.json"
die() { echo "modules.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time is needed (apt-get install time)"
mkdir -p "$WORK"

echo "== build (Release): the tree in $BUILD, the baseline $(git rev-parse --short "$BASE") in $WORK/base"
# The baseline's files (git archive: no worktree, no checkout of ours moves).
if [ "$(cat "$WORK/base.rev" 2>/dev/null)" != "$(git rev-parse "$BASE")" ]; then
	rm -rf "$WORK/base" && mkdir -p "$WORK/base"
	git archive "$BASE" | tar -x -C "$WORK/base" || die "cannot unpack $BASE"
	git rev-parse "$BASE" >"$WORK/base.rev"
fi
: >"$WORK/build.log"
for pair in "$ROOT:$ROOT/$BUILD" "$WORK/base:$WORK/base/build"; do
	src=${pair%%:*} out=${pair#*:}
	if ! { cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
	       cmake --build "$out" -j2 --target tix; } >>"$WORK/build.log" 2>&1; then
		tail -n 40 "$WORK/build.log" >&2
		die "build failed (full log: $WORK/build.log)"
	fi
done
[ -s "$INPUT" ] || python3 bench/ingest/gen.py "$INPUT" --count "$COUNT"

rm -f "$WORK"/*.times
run() { # NAME TIX
	rm -f "$WORK/$1.db" "$WORK/$1.db-wal" "$WORK/$1.db-shm"
	/usr/bin/time -f '%e %U %S' -o "$WORK/last.time" \
		"$2" import --db "$WORK/$1.db" --org acme "$INPUT" >"$WORK/$1.log" 2>&1 ||
		{ tail -n 20 "$WORK/$1.log" >&2; die "$1: import failed"; }
	awk '{ print $1, $2 + $3 }' "$WORK/last.time" >>"$WORK/$1.times"
}
for r in $(seq 1 "$ROUNDS"); do
	# alternated, the first one swapped every round: the machine is shared
	if [ $((r % 2)) = 1 ]; then run base "$WORK/base/build/tix"; run tree "$ROOT/$BUILD/tix"
	else run tree "$ROOT/$BUILD/tix"; run base "$WORK/base/build/tix"; fi
	printf '   round %d: baseline %s, tree %s (wall s, CPU s)\n' "$r" \
		"$(tail -n1 "$WORK/base.times")" "$(tail -n1 "$WORK/tree.times")"
done
median() { # COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
bw=$(median 1 "$WORK/base.times") bc=$(median 2 "$WORK/base.times")
tw=$(median 1 "$WORK/tree.times") tc=$(median 2 "$WORK/tree.times")
echo
echo "db.h modules on SQLite: tix import --org of $COUNT indicators, medians of $ROUNDS rounds, load $(cut -d' ' -f1 /proc/loadavg)"
awk -v bw="$bw" -v bc="$bc" -v tw="$tw" -v tc="$tc" 'BEGIN {
	printf "  baseline  %.3f s wall  %.3f s CPU\n  tree      %.3f s wall  %.3f s CPU\n", bw, bc, tw, tc
	printf "  ratio tree / baseline: CPU %.3f, wall %.3f (goal <= 1.05: %s)\n", tc / bc, tw / bw,
		(tc / bc <= 1.05) ? "PASS" : "MISS" }'
