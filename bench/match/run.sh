#!/usr/bin/env bash
# run.sh — the match benchmark; see bench/README.md. Builds tix and the
# input generator in Release, generates N indicators and a LOG_MB log once,
# then runs ROUNDS rounds, each measuring in the same run the baselines
# (`cat log >/dev/null`, a memchr('\n') pass over the mapped log (the floor
# of any line scanner: bench/match/memchr_pass.c), `LC_ALL=C grep -F -c -f patterns`, `rg -F -c -f
# patterns` when ripgrep is installed) and tix (index compile, index load,
# scan on 1 and on 2 threads), and prints medians, ratios and the planted
# truth. Exit 0 whatever the figures; non-zero only when something could
# not be built or run.
#
# Environment: N (indicators, default 1000000), LOG_MB (default 1024),
# ROUNDS (default 3), BASELINE_MB (default LOG_MB: grep and ripgrep take
# about two minutes each on 1 GB at 1M patterns; a smaller value runs them
# on the first BASELINE_MB of the log instead, and their MB/s are quoted as
# measured on that part), PEERS (default 1; 0 leaves grep and ripgrep out,
# for a quick A/B of tix against the memchr pass), BUILD_DIR (default
# build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

N="${N:-1000000}"
LOG_MB="${LOG_MB:-1024}"
ROUNDS="${ROUNDS:-3}"
BASELINE_MB="${BASELINE_MB:-$LOG_MB}"
PEERS="${PEERS:-1}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$BUILD/match-work/$N-$LOG_MB"
TIX="$BUILD/tix"
GEN="$BUILD/bench/tix-bench-match-gen"
MEMCHR="$BUILD/bench/tix-bench-match-memchr"

die() { echo "run.sh: $*" >&2; exit 1; }
mkdir -p "$WORK"

echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix tix-bench-match-gen tix-bench-match-memchr; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

if [ ! -s "$WORK/truth.txt" ]; then
	echo "== generating $N indicators and a $LOG_MB MB log in $WORK"
	"$GEN" "$WORK" "$N" "$LOG_MB" >"$WORK/truth.txt.tmp" || die "the generator failed"
	mv "$WORK/truth.txt.tmp" "$WORK/truth.txt"
fi
sed 's/^/   /' "$WORK/truth.txt"
PLANTED=$(awk '$1 == "planted" {print $2}' "$WORK/truth.txt")
SUBONLY=$(awk '$1 == "subdomain_only" {print $2}' "$WORK/truth.txt")
LOG="$WORK/log.txt"
LOG_BYTES=$(stat -c %s "$LOG")
BLOG="$LOG"
if [ "$BASELINE_MB" != "$LOG_MB" ]; then
	BLOG="$WORK/log-$BASELINE_MB.txt"
	[ -s "$BLOG" ] || head -c "$((BASELINE_MB * 1048576))" "$LOG" | sed '$d' >"$BLOG"
fi
BLOG_BYTES=$(stat -c %s "$BLOG")
HAVE_RG=0
command -v rg >/dev/null && HAVE_RG=1
[ "$PEERS" = 0 ] && HAVE_RG=0

now() { date +%s.%N; }
mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.1f", (s > 0 ? b / 1e6 / s : 0)}'; }
# run VAR CMD...: wall seconds into VAR, CPU seconds (user + system) into
# VAR_cpu, peak RSS (KiB) into VAR_rss, stdout into $WORK/out. The machine is
# shared and noisy: CPU seconds say what the work costs, wall seconds what
# it took there and then.
run() {
	local var=$1; shift
	local t0 t1
	t0=$(now)
	/usr/bin/time -f '%M %U %S' -o "$WORK/rss" "$@" >"$WORK/out" 2>"$WORK/err" || true
	t1=$(now)
	printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
	printf -v "${var}_rss" '%s' "$(tail -n 1 "$WORK/rss" | awk '{print $1}')"
	printf -v "${var}_cpu" '%s' "$(tail -n 1 "$WORK/rss" | awk '{printf "%.3f", $2 + $3}')"
}

rm -f "$WORK/rounds.txt"
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS"
	run cat_s cat "$LOG"
	run mem_s "$MEMCHR" "$LOG"
	grep_s=0; grep_count=-; grep_s_rss=0; grep_s_cpu=0
	if [ "$PEERS" != 0 ]; then
		run grep_s env LC_ALL=C grep -F -c -f "$WORK/patterns.txt" "$BLOG"
		grep_count=$(cat "$WORK/out")
	fi
	rg_s=0; rg_count=-; rg_s_rss=0
	if [ "$HAVE_RG" = 1 ]; then
		run rg_s rg -F -c -f "$WORK/patterns.txt" "$BLOG"
		rg_count=$(cat "$WORK/out")
	fi
	run build_s "$TIX" match --bundle "$WORK/indicators.json" --index-out "$WORK/index.tix"
	idx_bytes=$(stat -c %s "$WORK/index.tix")
	run load_s "$TIX" match --index "$WORK/index.tix" --index-out "$WORK/index2.tix"
	run t1_s "$TIX" match --index "$WORK/index.tix" --threads 1 "$LOG"
	t1_count=$(grep -o 'matches on [0-9]* lines' "$WORK/err" | awk '{print $3}')
	run t2_s "$TIX" match --index "$WORK/index.tix" --threads 2 "$LOG"
	t2_count=$(grep -o 'matches on [0-9]* lines' "$WORK/err" | awk '{print $3}')
	run sub_s "$TIX" match --index "$WORK/index.tix" --threads 2 --subdomains --quiet "$LOG"
	sub_count=$(grep -o 'matches on [0-9]* lines' "$WORK/err" | awk '{print $3}')
	printf '   cat        %8.3f s  %9s MB/s\n' "$cat_s" "$(mbps "$LOG_BYTES" "$cat_s")"
	printf '   memchr     %8.3f s  %9s MB/s  %s CPU s\n' "$mem_s" "$(mbps "$LOG_BYTES" "$mem_s")" "$mem_s_cpu"
	[ "$PEERS" != 0 ] && printf '   grep -F    %8.3f s  %9s MB/s  %s lines  %s MiB RSS (on %s bytes), %s CPU s\n' "$grep_s" \
		"$(mbps "$BLOG_BYTES" "$grep_s")" "$grep_count" "$((grep_s_rss / 1024))" "$BLOG_BYTES" "$grep_s_cpu"
	[ "$HAVE_RG" = 1 ] && printf '   rg -F      %8.3f s  %9s MB/s  %s lines  %s MiB RSS (on %s bytes)\n' \
		"$rg_s" "$(mbps "$BLOG_BYTES" "$rg_s")" "$rg_count" "$((rg_s_rss / 1024))" "$BLOG_BYTES"
	printf '   tix build  %8.3f s  index %s bytes (%s per indicator), %s MiB RSS, %s CPU s\n' "$build_s" \
		"$idx_bytes" "$(awk -v a="$idx_bytes" -v n="$N" 'BEGIN {printf "%.1f", a / n}')" "$((build_s_rss / 1024))" "$build_s_cpu"
	printf '   tix load   %8.3f s  (map and check the index file, write a copy)\n' "$load_s"
	printf '   tix 1 thr  %8.3f s  %9s MB/s  %s lines  %s MiB RSS (mapped log included); %s CPU s, %s MB per CPU s\n' "$t1_s" \
		"$(mbps "$LOG_BYTES" "$t1_s")" "$t1_count" "$((t1_s_rss / 1024))" "$t1_s_cpu" "$(mbps "$LOG_BYTES" "$t1_s_cpu")"
	printf '   tix 2 thr  %8.3f s  %9s MB/s  %s lines; %s CPU s\n' "$t2_s" "$(mbps "$LOG_BYTES" "$t2_s")" "$t2_count" "$t2_s_cpu"
	printf '   tix --subdomains, 2 thr %8.3f s  %s lines\n' "$sub_s" "$sub_count"
	echo "$cat_s $grep_s $rg_s $build_s $load_s $t1_s $t2_s $t1_count $t2_count $sub_count $idx_bytes $grep_count $rg_count $t1_s_cpu $build_s_cpu $grep_s_cpu $mem_s $mem_s_cpu $t2_s_cpu" >>"$WORK/rounds.txt"
done

med() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
col() { awk -v c="$1" '{print $c}' "$WORK/rounds.txt" | med; }
cat_s=$(col 1); grep_s=$(col 2); rg_s=$(col 3); build_s=$(col 4); load_s=$(col 5)
t1_s=$(col 6); t2_s=$(col 7); t1_count=$(col 8); t2_count=$(col 9); sub_count=$(col 10)
idx_bytes=$(col 11); grep_count=$(col 12); rg_count=$(col 13); t1_cpu=$(col 14); build_cpu=$(col 15)
grep_cpu=$(col 16); mem_s=$(col 17); mem_cpu=$(col 18); t2_cpu=$(col 19)
cat_mb=$(mbps "$LOG_BYTES" "$cat_s"); grep_mb=$(mbps "$BLOG_BYTES" "$grep_s")
mem_mb=$(mbps "$LOG_BYTES" "$mem_s")
rg_mb=$(mbps "$BLOG_BYTES" "$rg_s"); t1_mb=$(mbps "$LOG_BYTES" "$t1_s"); t2_mb=$(mbps "$LOG_BYTES" "$t2_s")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }

echo
echo "== medians of $ROUNDS rounds: $N indicators, $LOG_BYTES byte log ($PLANTED lines planted, $SUBONLY more only as subdomains)"
if [ "$BASELINE_MB" != "$LOG_MB" ]; then
	echo "   (grep and rg ran on the first $BLOG_BYTES bytes of the log: BASELINE_MB=$BASELINE_MB; their"
	echo "   time is mostly compiling the 1M patterns, so their MB/s here is far below what they reach on"
	echo "   the whole log, and the ratios below overstate tix's lead: use BASELINE_MB=$LOG_MB for fair ones)"
fi
printf '   cat log >/dev/null     %9s MB/s\n' "$cat_mb"
printf '   memchr pass            %9s MB/s   (%s CPU s)\n' "$mem_mb" "$mem_cpu"
[ "$PEERS" != 0 ] && printf '   grep -F -c -f          %9s MB/s   %s lines counted\n' "$grep_mb" "$grep_count"
[ "$HAVE_RG" = 1 ] && printf '   rg -F -c -f            %9s MB/s   %s lines counted\n' "$rg_mb" "$rg_count"
printf '   tix index build        %9s s      (%s CPU s)   %.1f bytes per indicator\n' "$build_s" "$build_cpu" "$(awk -v a="$idx_bytes" -v n="$N" 'BEGIN {print a / n}')"
printf '   tix index load         %9s s\n' "$load_s"
if [ "$PEERS" != 0 ]; then
	printf '   tix scan, 1 thread     %9s MB/s   %s lines matched (planted %s)   %sx grep, %sx rg, %s of cat\n' \
		"$t1_mb" "$t1_count" "$PLANTED" "$(ratio "$t1_mb" "$grep_mb")" "$(ratio "$t1_mb" "$rg_mb")" "$(ratio "$t1_mb" "$cat_mb")"
	printf '   tix scan, 1 thread, per CPU second %9s MB/s; grep per CPU second %s MB/s (%sx)\n' \
		"$(mbps "$LOG_BYTES" "$t1_cpu")" "$(mbps "$BLOG_BYTES" "$grep_cpu")" \
		"$(ratio "$(mbps "$LOG_BYTES" "$t1_cpu")" "$(mbps "$BLOG_BYTES" "$grep_cpu")")"
else
	printf '   tix scan, 1 thread     %9s MB/s   %s lines matched (planted %s)   %s of cat\n' \
		"$t1_mb" "$t1_count" "$PLANTED" "$(ratio "$t1_mb" "$cat_mb")"
	printf '   tix scan, 1 thread, per CPU second %9s MB/s\n' "$(mbps "$LOG_BYTES" "$t1_cpu")"
fi
printf '   tix scan, 1 thread / memchr pass  %s (wall), %s (CPU s)\n' "$(ratio3 "$t1_mb" "$mem_mb")" \
	"$(ratio3 "$mem_cpu" "$t1_cpu")"
printf '   tix scan, 2 threads    %9s MB/s   %s lines matched   %sx 1 thread (%s CPU s)\n' \
	"$t2_mb" "$t2_count" "$(ratio3 "$t2_mb" "$t1_mb")" "$t2_cpu"
printf '   tix --subdomains       %s lines matched (planted %s)\n' "$sub_count" "$((PLANTED + SUBONLY))"
echo "   goals: >= 500 MB/s on one core and >= 0.13 of the memchr pass, 2 threads >= 1.8x one,"
echo "         exact counts, build <= 1 s, <= 64 bytes per indicator"
[ "$t1_count" = "$PLANTED" ] && echo "   exact: yes" || echo "   exact: NO ($t1_count vs $PLANTED)"
