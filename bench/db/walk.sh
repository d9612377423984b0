#!/usr/bin/env bash
# walk.sh — one big read's memory on PostgreSQL (issue 18, paged reads;
# bench/README.md): tix-bench-walk (bench/db/walk.c) built from the tree and
# from the baseline BASE (default: the merge base with main, unpacked by git
# archive), both Release, walking the same ROWS indicators by day on a
# PostgreSQL that tools/pg.sh starts for the run; alternated, the first of the
# pair swapped every round. Prints each round's peak RSS and walk time, and
# the medians. Exit 0 whatever the figures.
#
# Environment: ROWS (default 100000), ROUNDS (default 3), BASE, BUILD_DIR
# (default build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROWS="${ROWS:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
BASE="${BASE:-$(git merge-base HEAD main)}"
WORK="$ROOT/bench/db/work/walk"
die() { echo "walk.sh: $*" >&2; exit 1; }
mkdir -p "$WORK"

echo "== build (Release): the tree in $BUILD, the baseline $(git rev-parse --short "$BASE") in $WORK/base"
if [ "$(cat "$WORK/base.rev" 2>/dev/null)" != "$(git rev-parse "$BASE")" ]; then
	rm -rf "$WORK/base" && mkdir -p "$WORK/base"
	git archive "$BASE" | tar -x -C "$WORK/base" || die "cannot unpack $BASE"
	git rev-parse "$BASE" >"$WORK/base.rev"
fi
# The same program, built against the baseline's store.
cp bench/db/walk.c "$WORK/base/bench/db/walk.c"
grep -q tix-bench-walk "$WORK/base/bench/CMakeLists.txt" ||
	printf 'add_executable(tix-bench-walk db/walk.c)\ntarget_link_libraries(tix-bench-walk PRIVATE tix_store tix_stix tix_core)\n' \
		>>"$WORK/base/bench/CMakeLists.txt"
: >"$WORK/build.log"
for pair in "$ROOT:$ROOT/$BUILD" "$WORK/base:$WORK/base/build"; do
	src=${pair%%:*} out=${pair#*:}
	if ! { cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
	       cmake --build "$out" -j2 --target tix-bench-walk; } >>"$WORK/build.log" 2>&1; then
		tail -n 40 "$WORK/build.log" >&2
		die "build failed (full log: $WORK/build.log)"
	fi
done
TREE="$ROOT/$BUILD/bench/tix-bench-walk"
BASEBIN="$WORK/base/build/bench/tix-bench-walk"

sh tools/pg.sh run bash -c '
	set -eu
	[ -n "${TIX_TEST_PG_URL:-}" ] || { echo "walk.sh: no PostgreSQL: ${TIX_TEST_PG_SKIP:-}" >&2; exit 1; }
	rm -f "$3"/base.out "$3"/tree.out
	for r in $(seq 1 "$4"); do
		if [ $((r % 2)) = 1 ]; then order="base tree"; else order="tree base"; fi
		for w in $order; do
			if [ "$w" = base ]; then bin="$1"; else bin="$2"; fi
			line=$("$bin" "$TIX_TEST_PG_URL" "$5")
			echo "$line" >>"$3/$w.out"
			echo "   round $r $w: $line"
		done
	done' walk "$BASEBIN" "$TREE" "$WORK" "$ROUNDS" "$ROWS"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for w in base tree; do
	rss=$(awk '{ print $6 }' "$WORK/$w.out" | median)
	grow=$(awk '{ print $6 - $4 }' "$WORK/$w.out" | median)
	secs=$(awk '{ print $8 }' "$WORK/$w.out" | median)
	printf '%-5s median peak RSS %s KB (the walk added %s KB), walk %s s\n' "$w" "$rss" "$grow" "$secs"
	echo "$rss $grow $secs" >"$WORK/$w.median"
done
read -r brss bgrow bsecs <"$WORK/base.median"
read -r trss tgrow tsecs <"$WORK/tree.median"
awk -v br="$brss" -v tr="$trss" -v bg="$bgrow" -v tg="$tgrow" -v bs="$bsecs" -v ts="$tsecs" 'BEGIN {
	printf "ratio tree / baseline: peak RSS %.3f, what the walk added %.3f, walk time %.3f\n",
		tr / br, (bg > 0 ? tg / bg : 0), ts / bs }'
