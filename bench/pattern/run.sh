#!/usr/bin/env bash
# run.sh — the pattern benchmark; see bench/README.md. Builds
# tix-bench-pattern in Release, generates the input once, runs ROUNDS rounds
# (each measures tix and its jansson baseline in the same process, one after
# the other) and prints the medians, their ratios and the goals. Exit 0
# whatever the figures; non-zero only when something could not be built or
# run.
#
# Environment: COUNT (patterns, default 100000), OBSERVED (observed-data,
# default 1000), NEVAL (patterns evaluated, default 2000), ROUNDS (default
# 3), BUILD_DIR (default build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

COUNT="${COUNT:-100000}"
OBSERVED="${OBSERVED:-1000}"
NEVAL="${NEVAL:-2000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$BUILD/pattern-work/$COUNT-$OBSERVED"
BENCH="$BUILD/bench/tix-bench-pattern"

die() { echo "run.sh: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 is needed to generate the input"
mkdir -p "$WORK"

echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix-bench-pattern; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

if [ ! -s "$WORK/observed.jsonl" ]; then
	echo "== generating $COUNT patterns and $OBSERVED observed-data in $WORK"
	python3 bench/pattern/gen.py "$WORK" --count "$COUNT" --observed "$OBSERVED"
fi

rm -f "$WORK/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS"
	"$BENCH" "$WORK/patterns.txt" "$WORK/patterns.jsonl" "$WORK/observed.json" \
		"$WORK/observed.jsonl" "$NEVAL" >"$WORK/round.out" || die "the benchmark failed"
	sed 's/^/   /' "$WORK/round.out"
	awk '{v[$1] = $2} END {p = v["parse_per_s"]; bp = v["baseline_parse_per_s"];
		e = v["eval_pairs_per_s"]; be = v["baseline_eval_per_s"];
		print p, bp, e, be, (bp > 0 ? p / bp : 0), (be > 0 ? e / be : 0)}' \
		"$WORK/round.out" >>"$WORK/rounds.txt"
done

# median COLUMN
median() {
	cut -d' ' -f"$1" "$WORK/rounds.txt" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

echo
echo "Pattern benchmark: $COUNT patterns, $NEVAL evaluated against $OBSERVED observed-data," \
	"medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
awk -v p="$(median 1)" -v bp="$(median 2)" -v e="$(median 3)" -v be="$(median 4)" \
    -v pr="$(median 5)" -v er="$(median 6)" 'BEGIN {
	printf "%-40s %14s\n", "", "per second"
	printf "%-40s %14.0f\n", "tix: patterns parsed", p
	printf "%-40s %14.0f\n", "jansson: equivalent JSON parsed", bp
	printf "%-40s %14.0f\n", "tix: pattern x observed-data evaluated", e
	printf "%-40s %14.0f\n", "jansson: observed-data JSON parsed", be
	print ""
	# ratios: the median of the ratios of each round, tix and its
	# baseline having run back to back on the same machine state
	goal("parse rate / baseline", pr, 1.0)
	goal("evaluation rate / baseline", er, 1.0)
}
function goal(name, value, target) {
	printf "%-40s %8.2f   goal >= %.2f   %s\n", name, value, target,
		(value >= target ? "PASS" : "MISS")
}'
exit 0
