#!/usr/bin/env bash
# run.sh — the sharing-policy benchmark (`make bench-policy`); see
# bench/README.md. Builds tix in Release, stores COUNT indicators with mixed
# TLP markings (10% CLEAR, 40% GREEN, 30% AMBER, 10% AMBER+STRICT, 10% RED
# naming another organisation as recipient), written by organisation
# "cert", and serves the store twice on loopback: as shipped (every row
# passes policy_may_read) and with --insecure-no-policy (the benchmark-only
# switch that skips the filter; the audit log runs in both). A reader of
# organisation "bank" GETs objects?limit=100 from both, interleaved, with
# the answer cache on and off (--cache 0: every request runs the query and
# the filter). Prints medians and the ratio policy-on / policy-off.
# Exit 0 whatever the goal says (a benchmark is not a test).
#
# With BASE_REV=<commit> (e.g. the commit before the policy), that revision
# is built too and serves the same objects from its own store: the cost of
# the policy and the audit log against the code before them.
#
# Environment: COUNT (10000), ROUNDS (3), DURATION (10 s per run), CONNS (32),
# BUILD_DIR (build-bench), BASE_REV, KEEP=1 keeps the work directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-10000}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-32}"
BUILD="${BUILD_DIR:-build-bench}"
TIX="$ROOT/$BUILD/tix"
GET_LUA="$ROOT/bench/taxii/get.lua"
TAXII="application/taxii+json;version=2.1"
WORK="$(mktemp -d /tmp/tix-bench-policy.XXXXXX)"
PIDS=""

die() { echo "run.sh: $*" >&2; exit 1; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() {
	for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
	return 1
}

echo "== build (Release) in $BUILD"
{ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
  cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1 ||
	{ tail -n 40 "$WORK/build.log" >&2; die "build failed"; }

echo "== $COUNT indicators with mixed TLP markings"
python3 bench/ingest/gen.py "$WORK/gen.json" --count "$COUNT" >/dev/null
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
levels = (["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"] * 1 +
          ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"] * 4 +
          ["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"] * 3 +
          ["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"] * 1 +
          ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"] * 1)
b = json.load(open(work + "/gen.json"))
n = 0
for o in b["objects"]:
    if o["type"] != "indicator":
        continue
    m = levels[n % len(levels)]
    n += 1
    o["object_marking_refs"] = [m]
    if m.startswith("marking-definition--e828"):
        o["tix_recipients"] = ["police"]
        o["extensions"] = {"extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482":
                           {"extension_type": "toplevel-property-extension"}}
json.dump(b, open(work + "/marked.json", "w"))
PY
DB="$WORK/tix.db"
for org in cert bank; do "$TIX" admin org add "$org" --db "$DB" >/dev/null; done
"$TIX" admin user add reader --org bank --role reader --db "$DB" >/dev/null
KEY="$("$TIX" admin key add --user reader --db "$DB" | grep '^tix_')"
CID="$("$TIX" admin collection add feed --read cert,bank --write cert --db "$DB")"
"$TIX" import --quiet --db "$DB" --collection "$CID" --org cert "$WORK/marked.json"
export TIX_BENCH_KEY="$KEY"

# serve NAME ARGS...: starts a server; sets URL_<NAME>.
serve() {
	local name="$1" port; shift
	port="$(free_port)"
	"$TIX" serve --listen "127.0.0.1:$port" --db "$DB" --access-log off --threads 4 "$@" \
		2>"$WORK/$name.log" &
	PIDS="$PIDS $!"
	wait_http "http://127.0.0.1:$port/taxii2/" || die "$name did not start: $(cat "$WORK/$name.log")"
	eval "URL_$name=http://127.0.0.1:$port/api1/collections/$CID/objects/?limit=100"
}
serve on_cache
serve off_cache --insecure-no-policy
serve on_nocache --cache 0
serve off_nocache --insecure-no-policy --cache 0
VARIANTS="off_nocache on_nocache off_cache on_cache"
if [ -n "${BASE_REV:-}" ]; then
	echo "== building $BASE_REV as the baseline"
	mkdir -p "$WORK/base"
	git archive "$BASE_REV" | tar -x -C "$WORK/base"
	{ cmake -S "$WORK/base" -B "$WORK/base/build" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
	  cmake --build "$WORK/base/build" -j2 --target tix; } >"$WORK/base-build.log" 2>&1 ||
		die "building $BASE_REV failed"
	BDB="$WORK/base.db"
	BTIX="$WORK/base/build/tix"
	for org in cert bank; do "$BTIX" admin org add "$org" --db "$BDB" >/dev/null; done
	"$BTIX" admin user add reader --org bank --role reader --db "$BDB" >/dev/null
	BKEY="$("$BTIX" admin key add --user reader --db "$BDB" | grep '^tix_')"
	BCID="$("$BTIX" admin collection add feed --read cert,bank --write cert --db "$BDB")"
	"$BTIX" import --quiet --db "$BDB" --collection "$BCID" --org cert "$WORK/marked.json"
	for v in base_cache base_nocache; do
		port="$(free_port)"
		extra=""
		[ "$v" = base_nocache ] && extra="--cache 0"
		# shellcheck disable=SC2086
		"$BTIX" serve --listen "127.0.0.1:$port" --db "$BDB" --access-log off --threads 4 $extra \
			2>"$WORK/$v.log" &
		PIDS="$PIDS $!"
		wait_http "http://127.0.0.1:$port/taxii2/" || die "$v did not start"
		eval "URL_$v=http://127.0.0.1:$port/api1/collections/$BCID/objects/?limit=100"
	done
	VARIANTS="$VARIANTS base_nocache base_cache"
fi

# The filtered reader gets a full page either way; bank sees 80% of the rows.
for v in on_nocache off_nocache; do
	u="URL_$v"
	n="$(curl -s -H "Accept: $TAXII" -H "Authorization: Bearer $KEY" "${!u}" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["objects"]))')"
	echo "   $v: $n objects per page"
done

run() {
	local name="$1" u="URL_$1" key="$KEY"
	case "$name" in base_*) key="$BKEY" ;; esac
	TIX_BENCH_KEY="$key" wrk --timeout 10s -t2 -c"$CONNS" -d"${DURATION}s" -s "$GET_LUA" "${!u}" >"$WORK/$name.out" 2>&1 ||
		{ cat "$WORK/$name.out" >&2; die "wrk failed"; }
	grep '^RESULT' "$WORK/$name.out" | cut -d' ' -f2- >>"$WORK/$name.res"
}
echo "== warm-up"
for v in $VARIANTS; do
	u="URL_$v"
	key="$KEY"
	case "$v" in base_*) key="$BKEY" ;; esac
	TIX_BENCH_KEY="$key" wrk -t2 -c"$CONNS" -d3s -s "$GET_LUA" "${!u}" >/dev/null
done
for r in $(seq 1 "$ROUNDS"); do
	echo "== round $r/$ROUNDS (${DURATION}s per run, $CONNS connections)"
	for v in $VARIANTS; do run "$v"; done
	printf '   --cache 0: policy on %s req/s, off %s req/s; cache: on %s, off %s\n' \
		"$(tail -n1 "$WORK/on_nocache.res" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/off_nocache.res" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/on_cache.res" | cut -d' ' -f1)" \
		"$(tail -n1 "$WORK/off_cache.res" | cut -d' ' -f1)"
done

median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
echo
echo "Policy benchmark: GET objects?limit=100 of $COUNT marked indicators as a reader of" \
	"another organisation, medians of $ROUNDS rounds, $(date -u +%Y-%m-%d), $(nproc) cores"
printf '%-28s %10s %9s %9s %8s\n' "" "req/s" "p50 ms" "p99 ms" "errors"
for v in $VARIANTS; do
	printf '%-28s %10.0f %9.2f %9.2f %8d\n' "$v" "$(median 1 "$WORK/$v.res")" \
		"$(median 2 "$WORK/$v.res")" "$(median 3 "$WORK/$v.res")" \
		"$(awk '{s += $4 + $5} END {print s + 0}' "$WORK/$v.res")"
done
awk -v a="$(median 1 "$WORK/on_nocache.res")" -v b="$(median 1 "$WORK/off_nocache.res")" \
    -v c="$(median 1 "$WORK/on_cache.res")" -v d="$(median 1 "$WORK/off_cache.res")" 'BEGIN {
	printf "policy on / off, --cache 0: %.3f   goal >= 0.85   %s\n", a / b, ((a / b) >= 0.85) ? "PASS" : "MISS"
	printf "policy on / off, cache on:  %.3f   goal >= 0.85   %s\n", c / d, ((c / d) >= 0.85) ? "PASS" : "MISS"
}'
if [ -n "${BASE_REV:-}" ]; then
	awk -v a="$(median 1 "$WORK/on_nocache.res")" -v b="$(median 1 "$WORK/base_nocache.res")" \
	    -v c="$(median 1 "$WORK/on_cache.res")" -v d="$(median 1 "$WORK/base_cache.res")" 'BEGIN {
		printf "policy on / %s (no policy, no audit), --cache 0: %.3f\n", "'"$BASE_REV"'", a / b
		printf "policy on / %s (no policy, no audit), cache on:  %.3f\n", "'"$BASE_REV"'", c / d
	}'
fi
exit 0
