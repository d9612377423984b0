#!/usr/bin/env bash
# run.sh — the console benchmark (`make bench-ui`); see bench/README.md.
# Builds tix in Release, imports COUNT indicators (bench/ingest/gen.py) for
# one organisation, serves them, and loads the console in headless chromium
# with the network throttled to 64 kbit/s and 300 ms (bench/ui/load.js):
# time to interactive and bytes of the sign-in, dashboard and object pages,
# beside the baseline of the same bytes fetched at once under the same
# throttle, and the ratio. Exit 0 whatever the figures; non-zero only when
# something cannot run.
#
# Environment: COUNT (default 100000), ROUNDS (default 3), BUILD_DIR
# (default build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE="$ROOT/bench/ui"
COUNT="${COUNT:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
WORK="$HERE/work"
TIX="$ROOT/$BUILD/tix"
mkdir -p "$WORK"
die() { echo "run.sh: $*" >&2; exit 1; }
command -v node >/dev/null || die "node is needed (sh tools/deps.sh test)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "chromium is needed (sh tools/deps.sh test)"
[ -f node_modules/playwright-core/package.json ] ||
	npm ci --no-audit --no-fund --ignore-scripts >"$WORK/npm.log" 2>&1 || die "npm ci failed ($WORK/npm.log)"

echo "== build (Release) in $BUILD"
if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	die "build failed (full log: $WORK/build.log)"
fi

DB="$WORK/ui-$COUNT.db"
if [ ! -f "$DB" ]; then
	echo "== $COUNT indicators into $DB"
	python3 bench/ingest/gen.py "$WORK/in.json" --count "$COUNT" >/dev/null
	"$TIX" admin org add cert --db "$DB.tmp" >/dev/null
	echo "bench-password" | "$TIX" admin user add ana --org cert --role analyst \
		--password-stdin --db "$DB.tmp" >/dev/null
	"$TIX" admin collection add feed --read cert --write cert --db "$DB.tmp" >/dev/null
	"$TIX" import --collection feed --org cert --db "$DB.tmp" "$WORK/in.json" >/dev/null
	rm -f "$WORK/in.json"
	for f in "$DB.tmp"*; do mv "$f" "${f/.db.tmp/.db}"; done
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$DB" >"$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
	sleep 0.1
done
echo "== the console over 64 kbit/s and 300 ms, $COUNT objects"
node "$HERE/load.js" "http://127.0.0.1:$PORT" ana bench-password "$ROUNDS"
