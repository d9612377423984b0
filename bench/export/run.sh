#!/usr/bin/env bash
# run.sh — the export benchmark (`make bench-export`); see bench/README.md.
# Peak RSS and time of `tix export` (STIX) and `tix export --format
# suricata` at growing store sizes, for this tree and for a baseline tix
# built from BASE_REF (the code before the bounded audit and the
# probe-free latest-version walk), the same stores, rounds interleaved.
# Prints medians, µs per object, RSS growth from the smallest size (goal:
# ≤ 1.2×) and this tree / baseline. Exit 0 whatever the goals say;
# non-zero only when something cannot be built or run.
#
# Environment: SIZES (default "10000 100000 1000000"), ROUNDS (default 3),
# BASE_REF (default 5845176, the commit this work started from),
# BUILD_DIR (default build-bench). The stores are kept in bench/export/work
# (a 1,000,000-indicator store takes about 3 minutes to import and 1.3 GB).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/bench/export"
SIZES="${SIZES:-10000 100000 1000000}"
ROUNDS="${ROUNDS:-3}"
BASE_REF="${BASE_REF:-5845176}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$HERE/work"
NEW="$ROOT/$BUILD/tix"
BASE="$WORK/base-build/tix"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, Debian package 'time') is needed"

build() { # SRC DIR
	{ cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
	  cmake --build "$2" -j2 --target tix; } >"$WORK/build.log" 2>&1 ||
		{ tail -n 40 "$WORK/build.log" >&2; die "build of $1 failed (log: $WORK/build.log)"; }
}
echo "== build (Release): this tree in $BUILD, $BASE_REF in $WORK/base-build"
build "$ROOT" "$ROOT/$BUILD"
rev="$(git rev-parse "$BASE_REF")" || die "no commit $BASE_REF"
if [ "$(cat "$WORK/base-build/.rev" 2>/dev/null)" != "$rev" ]; then
	rm -rf "$WORK/base-src" && mkdir -p "$WORK/base-src"
	git archive "$rev" | tar -x -C "$WORK/base-src"
	build "$WORK/base-src" "$WORK/base-build"
	echo "$rev" >"$WORK/base-build/.rev"
fi

rm_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }
for n in $SIZES; do
	db="$WORK/export-$n.db"
	[ -s "$db" ] && continue
	echo "== generating and importing $n indicators"
	python3 "$ROOT/bench/feeds/gen.py" "$WORK/in-$n.json" "$n"
	rm_db "$db"
	"$BASE" admin org add bench --db "$db" >/dev/null
	"$BASE" admin collection add feeds --read bench --write bench --db "$db" >/dev/null
	"$BASE" import --quiet --org bench --collection feeds --db "$db" "$WORK/in-$n.json"
	rm -f "$WORK/in-$n.json"
done

# one N FORMAT WHO: seconds and peak RSS (KiB) of one export into results
one() {
	local n="$1" fmt="$2" who="$3" bin="$BASE" args=()
	[ "$who" = new ] && bin="$NEW"
	[ "$fmt" = stix ] || args=(--format "$fmt")
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/last.time" "$bin" export --db "$WORK/export-$n.db" \
		"${args[@]}" >"$WORK/out" 2>"$WORK/err" || { tail -n 5 "$WORK/err" >&2; die "$who export $fmt $n failed"; }
	echo "$n $fmt $who $(cat "$WORK/last.time")" >>"$WORK/results"
	printf '   %-8s %8s %-5s %8s s %8s KiB  (cpu %s + %s s)\n' "$fmt" "$n" "$who" $(cat "$WORK/last.time")
}

rm -f "$WORK/results"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r of $ROUNDS"
	for n in $SIZES; do
		for fmt in stix suricata; do
			if [ $((r % 2)) = 1 ]; then one "$n" "$fmt" base; one "$n" "$fmt" new
			else one "$n" "$fmt" new; one "$n" "$fmt" base; fi
		done
	done
done
rm -f "$WORK/out"

echo
echo "Export benchmark: $(date -u +%Y-%m-%d), $(nproc) cores, $ROUNDS rounds (medians); baseline $BASE_REF"
awk -v sizes="$SIZES" '
	function median(key,   m, i, j, t, v) {
		m = cnt[key]
		for (i = 1; i <= m; i++) v[i] = val[key, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}
	{ k = $1 SUBSEP $2 SUBSEP $3; cnt[k "s"]++; val[k "s", cnt[k "s"]] = $4; cnt[k "m"]++; val[k "m", cnt[k "m"]] = $5
	  cnt[k "c"]++; val[k "c", cnt[k "c"]] = $6 + $7 }
	END {
		ns = split(sizes, sz, " ")
		small = sz[1]
		print ""
		print "| format | objects | base s | new s | base CPU µs/obj | new CPU µs/obj | new/base CPU | base RSS MiB | new RSS MiB | base RSS / at " small " | new RSS / at " small " |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		split("stix suricata", fm, " ")
		for (f = 1; f <= 2; f++) for (i = 1; i <= ns; i++) {
			n = sz[i]; F = fm[f]
			bs = median(n SUBSEP F SUBSEP "base" "s"); ws = median(n SUBSEP F SUBSEP "new" "s")
			bm = median(n SUBSEP F SUBSEP "base" "m"); wm = median(n SUBSEP F SUBSEP "new" "m")
			b0 = median(small SUBSEP F SUBSEP "base" "m"); w0 = median(small SUBSEP F SUBSEP "new" "m")
			bc = median(n SUBSEP F SUBSEP "base" "c"); wc = median(n SUBSEP F SUBSEP "new" "c")
			printf "| %s | %\047d | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %.2f |\n", F, n, bs, ws, bc * 1e6 / n, wc * 1e6 / n, bc ? wc / bc : 0, bm / 1024, wm / 1024, b0 ? bm / b0 : 0, w0 ? wm / w0 : 0
		}
		print ""
		print "Goal: new RSS / at " small " <= 1.20 at every size (constant-memory export)."
		print "CPU = user + system seconds (the machine is shared: elapsed seconds are noisy)."
	}' "$WORK/results"
