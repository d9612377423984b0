#!/usr/bin/env bash
# run.sh — the federation benchmark (`make bench-sync`); see bench/README.md.
# Builds tix in Release, stores COUNT indicators (TLP:CLEAR) on node A and
# serves A and B on loopback. Each round, B (a fresh store) pulls A's
# collection with `tix sync --once` (time, and bytes on the wire from `tix
# peer status`), and the baseline fetches the same collection with plain
# curl, page by page (limit 1000, following `next`). Then 1% of the objects
# get a new version on A and B syncs again (the incremental run), as does
# the curl baseline (added_after the last page it saw). Prints medians and
# the ratios: tix/curl (time, bytes) and incremental/full bytes (goal
# <= 0.02). Exit 0 whatever the goal says (a benchmark is not a test).
# With BASE=/path/to/an/older/tix, each round also pulls into another fresh
# node with that binary (alternated with this one: first in odd rounds,
# second in even), and the new/old time ratio is printed too.
#
# Environment: COUNT (100000), ROUNDS (3), BUILD_DIR (build-bench), KEEP=1,
# BASE (none).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
COUNT="${COUNT:-100000}"
ROUNDS="${ROUNDS:-3}"
BUILD="${BUILD_DIR:-build-bench}"
TIX="$ROOT/$BUILD/tix"
TAXII="application/taxii+json;version=2.1"
WORK="$(mktemp -d /tmp/tix-bench-sync.XXXXXX)"
PIDS=""

die() { echo "run.sh: $*" >&2; exit 1; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
command -v curl >/dev/null || die "curl is needed for the baseline"

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j 2 >/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
serve() { # db port log
	"$TIX" serve --db "$1" --listen "127.0.0.1:$2" --access-log off 2>"$3" &
	PIDS="$PIDS $!"
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$2/taxii2/" && return 0
		sleep 0.1
	done
	die "tix serve did not start: $(cat "$3")"
}

gen() { # count seed modified > file
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys, uuid
n, seed, modified = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
objs = []
for i in range(n):
    k = seed + i
    objs.append({"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid5(uuid.NAMESPACE_URL, "bench-%d" % k),
                 "created": "2024-01-01T00:00:00.000Z", "modified": modified,
                 "name": "bench indicator %d" % k,
                 "description": "an address seen in a campaign, number %d" % k,
                 "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % ((k >> 16) & 255, (k >> 8) & 255, k & 255),
                 "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
                 "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]})
json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, sys.stdout)
PY
}

# Node A: the objects, an account for B.
A="$WORK/a.db"
"$TIX" admin org add org-a --db "$A" >/dev/null
"$TIX" admin org add org-b --db "$A" >/dev/null
CID=$("$TIX" admin collection add feed --read org-a,org-b --write org-a --db "$A" | grep -oE '[0-9a-f-]{36}' | head -1)
"$TIX" admin user add sync-b --org org-b --role reader --db "$A" >/dev/null
KEY=$("$TIX" admin key add --user sync-b --db "$A" 2>/dev/null | grep -E '^\s*tix_\S+\s*$' | tr -d ' ' | head -1)
gen "$COUNT" 0 "2024-01-01T00:00:00.000Z" > "$WORK/objects.json"
"$TIX" import --quiet --collection feed --org org-a --db "$A" "$WORK/objects.json"
PA=$(free_port)
serve "$A" "$PA" "$WORK/a.err"
URL="http://127.0.0.1:$PA/taxii2/"
OBJ_URL="http://127.0.0.1:$PA/api1/collections/$CID/objects/"

# The baseline: curl pages through the collection; prints "seconds bytes
# last-date-added" (the cursor a careful client would keep). The seconds are
# curl's own transfer times summed (time_total), so the python that reads
# `next` between pages is not counted against the baseline; curl stores
# nothing, tix validates and stores every object.
curl_walk() { # added_after ("" for all)
	local after="$1" next="" bytes=0 secs=0 more=true last_seen="$1"
	while [ "$more" = true ]; do
		local q="limit=1000"
		[ -n "$after" ] && q="$q&added_after=$after"
		[ -n "$next" ] && q="$q&next=$next"
		local w
		w=$(curl -s -H "Accept: $TAXII" -H "Authorization: Bearer $KEY" -D "$WORK/h" \
			-o "$WORK/page" -w '%{size_download} %{size_header} %{size_request} %{time_total}' "$OBJ_URL?$q")
		bytes=$((bytes + $(echo "$w" | awk '{print $1 + $2 + $3}')))
		secs=$(echo "$secs + $(echo "$w" | awk '{print $4}')" | bc -l)
		read -r more next < <(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(str(p.get("more", False)).lower(), p.get("next", ""))' "$WORK/page")
		local last
		last=$(grep -i '^x-taxii-date-added-last:' "$WORK/h" | tr -d '\r' | awk '{print $2}')
		[ -n "$last" ] && last_seen="$last"
	done
	echo "$secs $bytes $last_seen"
}

node_b() { # tix db: a fresh node B with peer a
	"$1" admin org add org-b --db "$2" >/dev/null
	"$1" admin collection add feed --read org-b --write org-b --db "$2" >/dev/null
	echo "$KEY" | "$1" peer add a --url "$URL" --remote-collection "$CID" --local-collection feed \
		--key-stdin --direction pull --org org-a --db "$2" 2>/dev/null
}
base_pull() { # round: the BASE binary pulls into a fresh node; prints its seconds
	local db="$WORK/base$1.db" t0 t1
	node_b "$BASE" "$db"
	t0=$(now)
	"$BASE" sync --once --db "$db" 2>"$WORK/base$1.err" || die "BASE sync failed: $(cat "$WORK/base$1.err")"
	t1=$(now)
	rm -f "$db" "$db-wal" "$db-shm"
	echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
peer_bytes() { "$TIX" peer status --json --db "$1" | python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["bytes_in"] + p["bytes_out"])'; }

: > "$WORK/results"
for r in $(seq "$ROUNDS"); do
	B="$WORK/b$r.db"
	node_b "$TIX" "$B"
	base_t=0
	if [ -n "${BASE:-}" ] && [ $((r % 2)) = 1 ]; then base_t=$(base_pull "$r"); fi
	t0=$(now)
	"$TIX" sync --once --db "$B" 2>"$WORK/sync$r.err" || die "sync failed: $(cat "$WORK/sync$r.err")"
	t1=$(now)
	full_t=$(echo "$t1 - $t0" | bc -l)
	if [ -n "${BASE:-}" ] && [ $((r % 2)) = 0 ]; then base_t=$(base_pull "$r"); fi
	full_b=$(peer_bytes "$B")
	read -r cfull_t cfull_b last < <(curl_walk "")
	# 1% of the objects get a new version on A.
	gen $((COUNT / 100)) $((r * 7919 % (COUNT - COUNT / 100))) "2025-0$((r % 9 + 1))-01T00:00:00.000Z" > "$WORK/changed$r.json"
	"$TIX" import --quiet --collection feed --org org-a --db "$A" "$WORK/changed$r.json"
	t0=$(now)
	"$TIX" sync --once --db "$B" 2>>"$WORK/sync$r.err" || die "incremental sync failed"
	t1=$(now)
	inc_t=$(echo "$t1 - $t0" | bc -l)
	inc_b=$(( $(peer_bytes "$B") - full_b ))
	read -r cinc_t cinc_b _ < <(curl_walk "$last")
	echo "$full_t $full_b $cfull_t $cfull_b $inc_t $inc_b $cinc_t $cinc_b $base_t" | tee -a "$WORK/results"
done

col() { awk -v c="$1" '{print $c}' "$WORK/results" | median; }
FT=$(col 1); FB=$(col 2); CFT=$(col 3); CFB=$(col 4); IT=$(col 5); IB=$(col 6); CIT=$(col 7); CIB=$(col 8)
echo
echo "$COUNT objects, medians of $ROUNDS rounds"
printf '%-34s %12s %14s\n' "" "seconds" "bytes"
printf '%-34s %12.2f %14d\n' "tix sync, full" "$FT" "$FB"
printf '%-34s %12.2f %14d\n' "curl paging (baseline), full" "$CFT" "$CFB"
printf '%-34s %12.2f %14d\n' "tix sync, 1% changed" "$IT" "$IB"
printf '%-34s %12.2f %14d\n' "curl paging, 1% changed" "$CIT" "$CIB"
echo
printf 'tix/curl full: time %.2f, bytes %.3f\n' "$(echo "$FT / $CFT" | bc -l)" "$(echo "$FB / $CFB" | bc -l)"
printf 'speed of tix sync / curl paging, full: %.3f (goal >= 0.25)\n' "$(echo "$CFT / $FT" | bc -l)"
if [ -n "${BASE:-}" ]; then
	BT=$(col 9)
	printf '%-34s %12.2f\n' "BASE sync, full" "$BT"
	printf 'tix/BASE full time: %.3f (per round:%s)\n' "$(echo "$FT / $BT" | bc -l)" \
		"$(awk '{printf " %.3f", $1 / $9}' "$WORK/results")"
fi
RATIO=$(echo "$IB / $FB" | bc -l)
printf 'incremental/full bytes: %.4f (goal <= 0.02): %s\n' "$RATIO" \
	"$(echo "$RATIO <= 0.02" | bc -l | sed 's/1/PASS/;s/0/FAIL/')"
