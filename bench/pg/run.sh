#!/usr/bin/env bash
# run.sh — PostgreSQL against SQLite, and a hub of 1, 2 and 3 `tix serve` on
# one PostgreSQL database (`make bench-pg`, issue 18; see bench/README.md).
# Starts a PostgreSQL with tools/pg.sh (fsync on, as deployed), makes the
# same store on both engines and measures, in the same run, interleaved:
#   - `tix import` of COUNT indicators into an empty store (objects/s);
#   - TAXII GET objects?limit=100 with the answer cache on and with --cache 0;
#   - POSTs of one 1,000-object envelope sent again and again (bench/taxii);
#   - GET (--cache 0 and cached) and POST throughput with 1, 2 and 3 servers
#     on the PostgreSQL database, one wrk per server at the same time;
# with the CPU each process used (tix servers, PostgreSQL's processes, wrk)
# as % of one core, so that the bottleneck can be named. Medians of ROUNDS.
# Every server runs with --principal-requests $(nproc): the benchmark's one
# key is one principal, which the default would run one request at a time.
# Exit 0 whatever the goals say (a benchmark is not a test).
#
# Environment: COUNT (stored indicators, 10000), ROUNDS (3), DURATION (s per
# wrk run, 8), CONNS (connections in all, 32), BUILD_DIR (build-bench),
# TIX (a tix binary to use instead of building one), KEEP=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

COUNT="${COUNT:-10000}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8}"
CONNS="${CONNS:-32}"
BUILD="${BUILD_DIR:-build-bench}"
LUA="$ROOT/bench/taxii"
WORK="$(mktemp -d /tmp/tix-bench-pg.XXXXXX)"
PGDIR="$(mktemp -d /tmp/tix-pg-XXXXXX)"
SERVERS=""

die() { echo "run.sh: $*" >&2; exit 1; }

stop_servers() {
	for p in $SERVERS; do kill "$p" 2>/dev/null || true; done
	for p in $SERVERS; do wait "$p" 2>/dev/null || true; done
	SERVERS=""
}

cleanup() {
	stop_servers
	sh tools/pg.sh stop "$PGDIR" || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"
command -v psql >/dev/null || die "psql is needed (apt-get install postgresql-client)"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() {
	for _ in $(seq 1 600); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# ---- build -----------------------------------------------------------------
if [ -z "${TIX:-}" ]; then
	echo "== build (Release) in $BUILD"
	if ! { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF &&
	       cmake --build "$BUILD" -j2 --target tix; } >"$WORK/build.log" 2>&1; then
		tail -n 40 "$WORK/build.log" >&2
		die "build failed"
	fi
	TIX="$ROOT/$BUILD/tix"
fi

# ---- PostgreSQL, durable as deployed (tools/pg.sh turns fsync off) ---------
echo "== PostgreSQL (tools/pg.sh, fsync on)"
URL="$(sh tools/pg.sh start "$PGDIR")"
echo "fsync = on" >>"$PGDIR/data/postgresql.conf"
sh tools/pg.sh ctl "$PGDIR" stop
sh tools/pg.sh ctl "$PGDIR" start
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$URL")
echo "   $("${PSQL[@]}" -At -c "SELECT version()" | cut -d, -f1)"

# ---- data ------------------------------------------------------------------
echo "== generating $COUNT indicators to store and 1,000 to post"
python3 bench/ingest/gen.py "$WORK/gen.json" --count $((COUNT + 1000)) >/dev/null
python3 - "$WORK" "$COUNT" <<'EOF'
import json, sys
work, count = sys.argv[1], int(sys.argv[2])
objs = json.load(open(work + "/gen.json"))["objects"]
head, ind = objs[:10], objs[10:]
json.dump({"type": "bundle", "id": "bundle--6f6bd6a2-8a8e-4e0b-9a68-0d8b7a4b1f00",
           "objects": head + ind[:count]}, open(work + "/stored.json", "w"))
json.dump({"objects": ind[count:count + 1000]}, open(work + "/post.json", "w"))
EOF
rm -f "$WORK/gen.json"

SQLITE="$WORK/tix.db"
# fresh ENGINE: an empty store on sqlite or pg; prints its target
fresh() {
	if [ "$1" = sqlite ]; then
		rm -f "$SQLITE" "$SQLITE"-*
		echo "$SQLITE"
	else
		"${PSQL[@]}" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" >/dev/null 2>&1
		echo "$URL"
	fi
}

# setup DB: the account, key and collection; sets KEY and CID
setup() {
	"$TIX" admin org add bench --db "$1" >/dev/null
	printf 'bench password\n' |
		"$TIX" admin user add bench --org bench --role analyst --password-stdin --db "$1" >/dev/null
	KEY="$("$TIX" admin key add --user bench --db "$1" 2>/dev/null | grep '^tix_')"
	CID="$("$TIX" admin collection add indicators --read bench --write bench --db "$1")"
}

# ---- import ----------------------------------------------------------------
echo "== import of $COUNT indicators into an empty store ($ROUNDS rounds, interleaved)"
for _ in $(seq 1 "$ROUNDS"); do
	for e in sqlite pg; do
		db="$(fresh $e)"
		setup "$db"
		t0=$(date +%s.%N)
		"$TIX" import --quiet --db "$db" --collection "$CID" "$WORK/stored.json"
		t1=$(date +%s.%N)
		echo "$e $(echo "$COUNT / ($t1 - $t0)" | bc -l)" >>"$WORK/import"
	done
done
for e in sqlite pg; do
	printf '   %-7s %8.0f objects/s\n' "$e" "$(awk -v e=$e '$1 == e {print $2}' "$WORK/import" | median)"
done

# Both stores as the servers see them: the last round's (same data, same key
# name). Each has its own key and collection id.
SKEY="" SCID=""
db="$(fresh sqlite)"; setup "$db"; SKEY=$KEY; SCID=$CID
"$TIX" import --quiet --db "$db" --collection "$CID" "$WORK/stored.json"
db="$(fresh pg)"; setup "$db"; PKEY=$KEY; PCID=$CID
"$TIX" import --quiet --db "$db" --collection "$CID" "$WORK/stored.json"

# serve DB [ARGS...]: one more server; appends its port to PORTS, pid to SERVERS
PORTS=""
serve() {
	local db=$1 port
	shift
	port="$(free_port)"
	"$TIX" serve --listen "127.0.0.1:$port" --db "$db" --access-log off \
		--principal-requests "$(nproc)" "$@" 2>>"$WORK/serve.log" &
	SERVERS="$SERVERS $!"
	PORTS="$PORTS $port"
	wait_http "http://127.0.0.1:$port/taxii2/" || die "tix serve did not start: $(tail -5 "$WORK/serve.log")"
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_pids() { pgrep -P "$(head -1 "$PGDIR/data/postmaster.pid")" || true; }
# cpu_sum PIDS...: user + system ticks of those processes
cpu_sum() { local s=0; for p in "$@"; do s=$((s + $(ticks "$p"))); done; echo $s; }

# load KIND CID KEY N: wrk at once against each of PORTS (CONNS/N connections
# each); KIND get or post. Prints "requests/s errors cpu-tix% cpu-pg% cpu-wrk%".
load() {
	local kind=$1 cid=$2 key=$3 n=$4 c i=0 wpids="" t0 t1 tx0 pg0 tx1 pg1 hz
	c=$((CONNS / n))
	hz=$(getconf CLK_TCK)
	# the lists of pids are meant to split
	# shellcheck disable=SC2086
	tx0=$(cpu_sum $SERVERS)
	# shellcheck disable=SC2046
	pg0=$(cpu_sum $(pg_pids))
	t0=$(date +%s.%N)
	for p in $PORTS; do
		i=$((i + 1))
		TIX_BENCH_KEY=$key TIX_BENCH_BODY=$WORK/post.json wrk -t1 -c"$c" -d"${DURATION}s" --timeout 30s \
			-s "$LUA/$kind.lua" "http://127.0.0.1:$p/api1/collections/$cid/objects/?limit=100" \
			>"$WORK/wrk.$i" 2>&1 &
		wpids="$wpids $!"
	done
	# wrk's CPU: sampled just before each ends (its threads' ticks)
	sleep "$(echo "$DURATION - 0.5" | bc -l)"
	local wt=0
	for p in $wpids; do wt=$((wt + $(ticks "$p"))); done
	for p in $wpids; do wait "$p"; done
	t1=$(date +%s.%N)
	# shellcheck disable=SC2086
	tx1=$(cpu_sum $SERVERS)
	# shellcheck disable=SC2046
	pg1=$(cpu_sum $(pg_pids))
	awk -v tx=$((tx1 - tx0)) -v pg=$((pg1 - pg0)) -v wt=$wt -v hz="$hz" -v d="$(echo "$t1 - $t0" | bc -l)" \
		'/^RESULT/ {r += $2; e += $5 + $6} END {printf "%.1f %d %.0f %.0f %.0f\n", r, e,
		100 * tx / hz / d, 100 * pg / hz / d, 100 * wt / hz / d}' "$WORK"/wrk.*
	rm -f "$WORK"/wrk.*
}

# run NAME KIND CID KEY N: one round of a case, into $WORK/results
run() { echo "$1 $(load "$2" "$3" "$4" "$5")" >>"$WORK/results"; }

report() {
	local name=$1
	printf '   %-22s %9.1f req/s  (errors %s; CPU %% of a core: tix %s, postgres %s, wrk %s)\n' "$name" \
		"$(awk -v n="$name" '$1 == n {print $2}' "$WORK/results" | median)" \
		"$(awk -v n="$name" '$1 == n {s += $3} END {print s + 0}' "$WORK/results")" \
		"$(awk -v n="$name" '$1 == n {print $4}' "$WORK/results" | median)" \
		"$(awk -v n="$name" '$1 == n {print $5}' "$WORK/results" | median)" \
		"$(awk -v n="$name" '$1 == n {print $6}' "$WORK/results" | median)"
}

rate() { awk -v n="$1" '$1 == n {print $2}' "$WORK/results" | median; }

# ---- one server per engine -------------------------------------------------
echo "== GET objects?limit=100 and POST, one server, $ROUNDS rounds of ${DURATION}s, $CONNS connections"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$ROUNDS"); do
	for e in sqlite pg; do
		if [ $e = sqlite ]; then db=$SQLITE cid=$SCID key=$SKEY; else db=$URL cid=$PCID key=$PKEY; fi
		PORTS=""; serve "$db"; run "get-$e-cached" get "$cid" "$key" 1; stop_servers
		PORTS=""; serve "$db" --cache 0; run "get-$e-uncached" get "$cid" "$key" 1
		run "post-$e" post "$cid" "$key" 1; stop_servers
	done
done
for n in get-sqlite-cached get-pg-cached get-sqlite-uncached get-pg-uncached post-sqlite post-pg; do
	report $n
done

# ---- 1, 2 and 3 servers on one PostgreSQL database -------------------------
echo "== 1, 2 and 3 servers on the PostgreSQL database, one wrk per server, $CONNS connections in all"
for _ in $(seq 1 "$ROUNDS"); do
	for n in 1 2 3; do
		PORTS=""
		for _ in $(seq 1 $n); do serve "$URL" --cache 0; done
		run "hub-get-uncached-$n" get "$PCID" "$PKEY" $n
		run "hub-post-$n" post "$PCID" "$PKEY" $n
		stop_servers
		PORTS=""
		for _ in $(seq 1 $n); do serve "$URL"; done
		run "hub-get-cached-$n" get "$PCID" "$PKEY" $n
		stop_servers
	done
done
for k in get-uncached get-cached post; do
	for n in 1 2 3; do report "hub-$k-$n"; done
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- goals -----------------------------------------------------------------
ratio() { echo "$(rate "$1") / $(rate "$2")" | bc -l | xargs printf '%.2f'; }
echo "== goals"
echo "   uncached GET, PostgreSQL / SQLite per server: $(ratio get-pg-uncached get-sqlite-uncached) (goal >= 0.5)"
echo "   cached GET, PostgreSQL / SQLite:              $(ratio get-pg-cached get-sqlite-cached)"
echo "   POST, PostgreSQL / SQLite:                    $(ratio post-pg post-sqlite)"
echo "   2 servers / 1, uncached GET: $(ratio hub-get-uncached-2 hub-get-uncached-1), cached: $(ratio hub-get-cached-2 hub-get-cached-1) (goal >= 1.6 where the database is not the bottleneck)"
echo "   3 servers / 1, uncached GET: $(ratio hub-get-uncached-3 hub-get-uncached-1), cached: $(ratio hub-get-cached-3 hub-get-cached-1)"
echo "   POST 2 servers / 1: $(ratio hub-post-2 hub-post-1), 3 / 1: $(ratio hub-post-3 hub-post-1)"
echo "   cores: $(nproc) (PostgreSQL, the servers and wrk share them)"
