#!/usr/bin/env bash
# run.sh — the sparse-reader benchmark (`make bench-sparse`; issue 13; see
# bench/README.md). Builds tix in Release, stores COUNT indicators written by
# organisation "owner", all AMBER+STRICT except three sets of AMBER ones for
# the sharing groups g5, g500 and g50000 (5, COUNT/400 and COUNT/4 objects,
# spread evenly), and serves them with the answer cache off (every request
# runs its query). Then, in the same run, measures the server's CPU time
# per page (utime+stime from /proc) for the owner and for readers in each
# group, on four requests: objects?limit=100, manifest?limit=100,
# objects?match[version]=first&limit=100, and objects with 200 match[id]
# values; prints each as a ratio to the owner's page. Last, another
# client's GET /taxii2/ latency p99 idle and while eight g5 readers loop.
# Exit 0 whatever the goal says (a benchmark is not a test).
#
# Environment: COUNT (200000), PAGES (200 per measurement), LIGHT (400
# requests per p99), BUILD_DIR (build-bench), KEEP=1 keeps the work dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-200000}"
BUILD="${BUILD_DIR:-build-bench}"
TIX="$ROOT/$BUILD/tix"
WORK="$(mktemp -d /tmp/tix-bench-sparse.XXXXXX)"
PID=""

die() { echo "run.sh: $*" >&2; exit 1; }
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null || true
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== build (Release) in $BUILD"
{ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
  cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1 ||
	{ tail -n 40 "$WORK/build.log" >&2; die "build failed"; }

echo "== $COUNT objects: 5, $((COUNT / 400)) and $((COUNT / 4)) of them visible to three readers"
DB="$WORK/tix.db"
python3 - "$WORK" "$COUNT" <<'PY'
import json, sys, uuid
work, count = sys.argv[1], int(sys.argv[2])
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
EXT = "extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482"
sets = {"g5": 5, "g500": count // 400, "g50000": count // 4}
group_of = {}
for g, n in sets.items():
    step = count // n
    for k in range(n):
        i = k * step + {"g5": 7, "g500": 3, "g50000": 1}[g]
        while i in group_of:
            i += 1
        group_of[i] = g
ids = []
with open(work + "/feed.json", "w") as f:
    f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid4())
    for i in range(count):
        oid = "indicator--%s" % uuid.uuid4()
        ids.append(oid)
        o = {"type": "indicator", "spec_version": "2.1", "id": oid,
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "name": "bench %d" % i, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
             "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (i >> 16 & 255, i >> 8 & 255, i & 255),
             "object_marking_refs": [STRICT]}
        if i in group_of:
            o["object_marking_refs"] = [AMBER]
            o["tix_sharing_group"] = group_of[i]
            o["extensions"] = {EXT: {"extension_type": "toplevel-property-extension"}}
        f.write(("," if i else "") + json.dumps(o))
    f.write("]}")
# 200 ids for match[id]: spread over the collection (what each reader may
# see of them differs; the cost should not).
json.dump([ids[k * (count // 200)] for k in range(200)], open(work + "/ids.json", "w"))
PY
for org in owner r5 r500 r50000; do "$TIX" admin org add "$org" --db "$DB" >/dev/null; done
for g in g5 g500 g50000; do
	"$TIX" admin group add "$g" --db "$DB" >/dev/null
	"$TIX" admin group member-add "$g" --org "r${g#g}" --db "$DB" >/dev/null
done
: >"$WORK/keys"
for org in owner r5 r500 r50000; do
	"$TIX" admin user add "u-$org" --org "$org" --role reader --db "$DB" >/dev/null
	echo "$org $("$TIX" admin key add --user "u-$org" --db "$DB" | grep '^tix_')" >>"$WORK/keys"
done
CID="$("$TIX" admin collection add feed --read owner,r5,r500,r50000 --write owner --db "$DB")"
"$TIX" import --quiet --db "$DB" --collection "$CID" --org owner "$WORK/feed.json"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$DB" --access-log off --cache 0 \
	2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/taxii2/" && break; sleep 0.1; done

python3 bench/sparse/measure.py "$PORT" "$PID" "$CID" "$WORK/keys" "$WORK/ids.json"
kill "$PID"; wait "$PID" 2>/dev/null || true

# The baseline of the same run: the server without turns (every request of a
# principal runs at once, as before --principal-requests), the light client
# measured the same way.
"$TIX" serve --listen "127.0.0.1:$PORT" --db "$DB" --access-log off --cache 0 \
	--principal-requests 4096 2>>"$WORK/serve.log" &
PID=$!
for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/taxii2/" && break; sleep 0.1; done
P99_ONLY=no-turns python3 bench/sparse/measure.py "$PORT" "$PID" "$CID" "$WORK/keys" "$WORK/ids.json"
