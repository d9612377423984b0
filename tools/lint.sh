#!/bin/sh
# Static analysis of every C file in git (so modules merged later are
# covered without an edit here): a banned-function check, cppcheck and
# clang-tidy (.clang-tidy), the last two from a compile_commands.json that
# a configure-only clang build tree (build-lint/) provides. Any finding
# fails. Usage: tools/lint.sh [FILE.c...]   (default: every C file in git)
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LINT=build-lint
fail=0

if [ $# -gt 0 ]; then
	files="$*"
else
	files=$(git ls-files '*.c' '*.h' | grep -E '^(src|tests|fuzz|bench|tools)/' || true)
fi
cfiles=$(printf '%s\n' $files | grep '\.c$' || true)

# 1. Banned functions: unbounded or not thread-safe, each with a bounded or
# re-entrant replacement (snprintf, tix_buf, memcpy with a length, strtok_r,
# fgets). Comments and string literals are blanked first, so prose may name them.
banned='sprintf|vsprintf|strcpy|strcat|gets|strtok'
hits=$(for f in $files; do
	sed -e 's://.*$::' "$f" | python3 -c '
import re, sys
src = sys.stdin.read()
src = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), src, flags=re.S)
src = re.sub(r"\"(\\\\.|[^\"\\\\\n])*\"", "\"\"", src)
for n, line in enumerate(src.split("\n"), 1):
    if re.search(r"(?<![\w.>])(" + sys.argv[1] + r")\s*\(", line):
        print("%s:%d: banned function: %s" % (sys.argv[2], n, line.strip()))
' "$banned" "$f"
done)
if [ -n "$hits" ]; then
	echo "$hits"
	echo "lint: banned functions (use snprintf, tix_buf, memcpy, strtok_r, fgets)" >&2
	fail=1
else
	echo "lint: no banned functions in $(printf '%s\n' $files | wc -l) files"
fi

# A compile database for the analysers: clang, every optional part on.
CC=clang cmake -S . -B "$LINT" -DTIX_TESTS=ON -DTIX_FUZZ=ON -DTIX_SANITIZE=OFF \
	-DTIX_WERROR=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null

# 2. cppcheck: the checks that find bugs (warning, portability), not style;
# suppressions with their reasons in tools/cppcheck-suppressions.txt.
if cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	--inline-suppr --suppressions-list=tools/cppcheck-suppressions.txt \
	-j "$JOBS" --library=posix --library=tools/cppcheck-jansson.cfg -D__GNUC__ -DTIX_UNITTEST -Isrc $cfiles; then
	echo "lint: cppcheck clean"
else
	echo "lint: cppcheck found problems (above)" >&2
	fail=1
fi

# 3. clang-tidy on the files the build compiles (headers through them).
indb=$(for f in $cfiles; do grep -q "\"file\": \"$(pwd)/$f\"" "$LINT/compile_commands.json" && echo "$f"; done || true)
skipped=$(for f in $cfiles; do printf '%s\n' $indb | grep -qx "$f" || echo "$f"; done)
[ -z "$skipped" ] || echo "lint: clang-tidy skips files no build compiles:" $skipped
if printf '%s\n' $indb | xargs -r -P "$JOBS" -n 4 clang-tidy --quiet -p "$LINT" >"$LINT/tidy.log" 2>&1 &&
	! grep -qE '(warning|error):' "$LINT/tidy.log"; then
	echo "lint: clang-tidy clean ($(printf '%s\n' $indb | wc -l) files)"
else
	grep -E -A3 '(warning|error):' "$LINT/tidy.log" >&2 || cat "$LINT/tidy.log" >&2
	echo "lint: clang-tidy found problems (above; all in $LINT/tidy.log)" >&2
	fail=1
fi
exit $fail
