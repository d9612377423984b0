#!/usr/bin/env bash
# run.sh — the engine layer's benchmark (issue 18; bench/README.md): the same
# inserts (one transaction), paged scan (500 rows a page, every body read) and
# point lookups through raw SQLite calls (the baseline), through db.h on
# SQLite, and through db.h on a PostgreSQL that tools/pg.sh starts for the
# run (loopback TCP, fsync off). Prints medians and the ratios db.h / raw
# (goal: >= 0.95, the layer costs nothing that shows) and PostgreSQL / SQLite.
# Exit 0 whatever the figures.
#
# Environment: ROWS (default 100000), ROUNDS (default 5), BUILD_DIR
# (default build-bench), NO_PG=1 to leave PostgreSQL out.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROWS="${ROWS:-100000}"
ROUNDS="${ROUNDS:-5}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="bench/db/work"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }

echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix-bench-db; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi
BENCH="$ROOT/$BUILD/bench/tix-bench-db"
DB="$ROOT/$WORK/bench.db"
if [ "${NO_PG:-}" = 1 ]; then
	"$BENCH" "$DB" "" "$ROWS" "$ROUNDS" | tee "$WORK/results.txt"
else
	sh tools/pg.sh run sh -c '"$0" "$1" "${TIX_TEST_PG_URL:-}" "$2" "$3"' \
		"$BENCH" "$DB" "$ROWS" "$ROUNDS" | tee "$WORK/results.txt"
fi
awk '/ratio db.h/ { v = $6; if ($7 < v) v = $7; if ($8 < v) v = $8;
	printf "goal db.h / raw >= 0.95 on every measure: %s (worst %.3f)\n", (v >= 0.95) ? "PASS" : "MISS", v }' \
	"$WORK/results.txt"
