#!/usr/bin/env bash
# run.sh — the soak (`make soak`; bench/README.md): `tix serve` ($TIX, the
# release build) on a free loopback port over a fresh store of COUNT
# indicators, under wrk for SOAK_SECONDS (600) with mixed reads and writes
# (soak.lua). Samples the server's RSS every RSS_EVERY seconds and prints:
# errors (socket errors and non-2xx answers: must be 0), p50/p99 latency,
# requests and objects written, and the RSS of the first minute against the
# last (the baseline of the same run: the ratio must stay near 1).
# Exit 1 when there was any error or the server died; a benchmark, not a
# test: the latency and the RSS ratio are figures, not assertions.
#
# Environment: SOAK_SECONDS (600), COUNT (1000), CONNS (16), THREADS (2),
# RSS_EVERY (5), TIX (build/tix), KEEP=1 keeps the work directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SOAK_SECONDS="${SOAK_SECONDS:-600}"
COUNT="${COUNT:-1000}"
CONNS="${CONNS:-16}"
THREADS="${THREADS:-2}"
RSS_EVERY="${RSS_EVERY:-5}"
TIX="${TIX:-$ROOT/build/tix}"
WORK="$(mktemp -d /tmp/tix-soak.XXXXXX)"
TIX_PID=""

cleanup() {
	[ -n "$TIX_PID" ] && kill "$TIX_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
command -v wrk >/dev/null || { echo "run.sh: wrk is missing (tools/deps.sh soak)" >&2; exit 2; }
[ -x "$TIX" ] || { echo "run.sh: no tix at $TIX (make build)" >&2; exit 2; }

DB="$WORK/tix.db"
"$TIX" admin org add soak --db "$DB" >/dev/null
echo "soak-password-1" | "$TIX" admin user add soaker --org soak --role analyst \
	--password-stdin --db "$DB" >/dev/null
KEY="$("$TIX" admin key add --user soaker --db "$DB" 2>/dev/null | grep -Eo 'tix_[A-Za-z0-9_-]+' | head -1)"
COLL="$("$TIX" admin collection add soak --read soak --write soak --db "$DB" |
	grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' | head -1)"
python3 - "$COUNT" >"$WORK/seed.json" <<'PY'
import json, sys, uuid
n = int(sys.argv[1])
print(json.dumps({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": [
    {"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uuid.uuid4(),
     "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
     "pattern": "[ipv4-addr:value = '198.51.100.%d']" % (i % 250), "pattern_type": "stix",
     "valid_from": "2024-01-01T00:00:00Z"} for i in range(n)]}))
PY
"$TIX" import --quiet --db "$DB" --collection "$COLL" "$WORK/seed.json"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$DB" --access-log off 2>"$WORK/serve.err" &
TIX_PID=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$PORT/taxii2/" && break
	sleep 0.1
done

echo "== soak: ${SOAK_SECONDS} s, wrk -t$THREADS -c$CONNS, $COUNT objects to start with"
(
	t=0
	while kill -0 "$TIX_PID" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$TIX_PID/status" 2>/dev/null || echo 0)
		echo "$t $rss"
		sleep "$RSS_EVERY"
		t=$((t + RSS_EVERY))
	done
) >"$WORK/rss.txt" &
SAMPLER=$!
TIX_SOAK_KEY="$KEY" TIX_SOAK_COLL="$COLL" wrk -t"$THREADS" -c"$CONNS" -d"${SOAK_SECONDS}s" \
	--timeout 10s --latency -s "$ROOT/bench/soak/soak.lua" "http://127.0.0.1:$PORT" \
	>"$WORK/wrk.txt" 2>"$WORK/wrk.err" || true
alive=1
kill -0 "$TIX_PID" 2>/dev/null || alive=0
kill "$SAMPLER" 2>/dev/null || true

read -r rps p50 p99 sockerr non2xx reqs posts < <(sed -n 's/^RESULT //p' "$WORK/wrk.txt")
[ -n "${reqs:-}" ] || { cat "$WORK/wrk.txt" "$WORK/wrk.err"; echo "run.sh: wrk gave no result" >&2; exit 1; }
# RSS: median of the samples in the first minute against the last minute
# (or the first and last fifth when the run is shorter than 3 minutes).
read -r rss_first rss_last rss_max < <(python3 - "$WORK/rss.txt" "$SOAK_SECONDS" <<'PY'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
dur = int(sys.argv[2])
win = 60 if dur >= 180 else max(dur // 5, 1)
first = [r for t, r in rows if t < win] or [rows[0][1]]
last = [r for t, r in rows if dur - win <= t <= dur] or [rows[-1][1]]
print(int(statistics.median(first)), int(statistics.median(last)), max(r for _, r in rows))
PY
)
ratio=$(python3 -c "print('%.2f' % ($rss_last / $rss_first))")
echo "requests:     $reqs ($rps/s), $posts POSTs of 2 new objects"
echo "errors:       $sockerr socket errors, $non2xx answers not 2xx (must both be 0)"
echo "latency:      p50 ${p50} ms, p99 ${p99} ms"
echo "RSS:          first minute ${rss_first} KiB, last minute ${rss_last} KiB, max ${rss_max} KiB;"
echo "              last/first = ${ratio} (flat: near 1)"
echo "RSS samples (s KiB): $(awk '{printf "%s:%s ", $1, $2}' "$WORK/rss.txt" | head -c 2000)"
echo
if [ "$alive" = 0 ]; then
	echo "soak: FAILED: the server died"; tail -20 "$WORK/serve.err"; exit 1
fi
if [ "$sockerr" != 0 ] || [ "$non2xx" != 0 ]; then
	echo "soak: FAILED: errors"; cat "$WORK/wrk.err" | head -20; exit 1
fi
echo "soak: ok"
