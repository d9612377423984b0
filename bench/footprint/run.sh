#!/usr/bin/env bash
# run.sh — the memory and size budgets (`make bench-footprint`, issue 25);
# see bench/README.md. Builds tix in Release into build-bench/, then
# bench/footprint/footprint.py measures: idle RSS of `tix serve`, its RSS
# while 100 clients page through a store of OBJECTS objects (default
# 1,000,000; the store is built once and kept in build-bench/footprint/),
# `tix match` RSS per indicator, and the binary's size; printed against the
# goals and as ratios to the reference figures recorded in bench/README.md.
# Exit 0 whatever the goals say (a benchmark is not a test).
#
# Environment: OBJECTS (1000000), CLIENTS (100), CLIENT_SECONDS (30),
# BUILD_DIR (build-bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BUILD="${BUILD_DIR:-build-bench}"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTIX_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j 2 >/dev/null
exec python3 bench/footprint/footprint.py --tix "$ROOT/$BUILD/tix" --work "$ROOT/$BUILD/footprint" \
	--objects "${OBJECTS:-1000000}" --clients "${CLIENTS:-100}" \
	--seconds "${CLIENT_SECONDS:-30}" --readme "$ROOT/bench/README.md"
