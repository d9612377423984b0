#!/bin/sh
# Runs libFuzzer targets from build-fuzz/ for SECONDS each, JOBS at a time,
# each on a scratch corpus (build-fuzz/corpus/<target>/) seeded from
# fuzz/corpus/<target>/, with fuzz/<target>.dict when there is one. Prints
# each target's figures; exits non-zero when any target found a crash, a
# leak, a timeout or an out-of-memory (its log and input stay in build-fuzz/).
# Usage: tools/fuzz.sh SECONDS JOBS TARGET...   (TARGET without "fuzz_")
set -u
cd "$(dirname "$0")/.."
secs=$1 jobs=$2
shift 2

one() {
	t=$1
	dict=""
	[ -f "fuzz/$t.dict" ] && dict="-dict=../fuzz/$t.dict"
	mkdir -p "build-fuzz/corpus/$t"
	# -timeout: one input running 25 s is a hang, and a failure.
	(cd build-fuzz && "./fuzz/fuzz_$t" -max_total_time="$secs" -timeout=25 $dict \
		-print_final_stats=1 -artifact_prefix="fuzz_$t-" "corpus/$t" "../fuzz/corpus/$t" \
		>"fuzz_$t.log" 2>&1)
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz_$t.log")
	if [ $rc -eq 0 ]; then
		echo "fuzz_$t: ${secs} s, ${runs:-?} inputs, no crash"
	else
		echo "fuzz_$t: FAILED (exit $rc); build-fuzz/fuzz_$t.log:"
		grep -E -A30 '^==[0-9]+==|ERROR|runtime error|SUMMARY|Test unit written' \
			"build-fuzz/fuzz_$t.log" | head -60
		return 1
	fi
}

if [ "${FUZZ_ONE:-}" != "" ]; then
	one "$FUZZ_ONE"
	exit $?
fi
printf '%s\n' "$@" | FUZZ_ONE= xargs -P "$jobs" -I{} env FUZZ_ONE={} sh "$0" "$secs" 1
