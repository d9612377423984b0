# tix — the two commands of the README, and a few more. CMake does the
# building; this file only wires the steps together.
#
#   make run    install missing build dependencies, build, load the sample
#               data into ./var/tix.db, print an admin key and serve TAXII 2.1
#               on 127.0.0.1:8600 (PORT=N or LISTEN=HOST:PORT to change it)
#   make run-pg the same on a throwaway PostgreSQL in ./var/pg (tools/pg.sh)
#   make test   the same set-up, then every test (unit, conformance, CLI,
#               TAXII, abuse, crash consistency), also under AddressSanitizer
#               and UndefinedBehaviorSanitizer; static analysis; fuzzing

JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
DB    ?= var/tix.db
BUILD := build
ASAN  := build-asan
ARM64 := build-arm64

.PHONY: all deps deps-test build build-asan run run-pg test install deb test-deb \
        bench-ingest bench-taxii bench-pattern bench-policy bench-match bench-sync bench-sparse \
        bench-formats bench-feeds bench-export bench-route bench-correlate bench-ui bench-scale bench-pg \
        deps-arm64 build-arm64 test-arm64 test-arm64-quick \
        test-sync-long test-link bench-footprint fuzz fuzz-ci lint soak format clean

all: build

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIX_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps-test
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DTIX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

# The binary, the man pages, the systemd unit (with its sysusers.d and
# tmpfiles.d files) and the example configuration, under DESTDIR/PREFIX;
# /etc/tix/tix.conf only when there is none (docs/operations.md).
PREFIX ?= /usr/local
install: build
	@sh tools/deps.sh install
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# arm64 (issue 25): a cross build with Debian's crossbuild-essential-arm64
# and the :arm64 libraries (cmake/aarch64-linux-gnu.cmake), its programs run
# under qemu-user. `make test-arm64` runs every unit test and the whole CLI
# suite on it (about half an hour on 2 cores); `make test` runs the quick
# set: the unit tests but the two that take minutes emulated, and the CLI
# tests of the parsers, the matcher's index file and scanner, and the
# formats (ARM64_CLI_QUICK).
deps-arm64:
	@sh tools/deps.sh arm64

build-arm64: deps-arm64
	@cmake -S . -B $(ARM64) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(ARM64) -j $(JOBS)

ARM64_TIX := TIX=$(CURDIR)/tools/tix-arm64 TIX_ARM64=$(CURDIR)/$(ARM64)/tix
ARM64_CLI_QUICK := manifest_documents_match_the_validator inline_objects_agree_with_the_validator \
	sample_imports_and_round_trips_byte_for_byte pattern_corpus_through_the_command_line \
	match_finds_planted_hits_and_nothing_else match_reads_json_lines_zeek_and_gzip \
	match_bad_input_is_counted_not_fatal match_index_file_serves_without_a_database \
	misp_corpus_maps_as_misps_own_stix_export csv_rfc4180_with_bom_crlf_quotes_and_inferred_types \
	stix20_bundles_from_misps_converter_are_stored_as_they_came

test-arm64: build-arm64
	@cd $(ARM64) && ctest --output-on-failure -j $(JOBS) -LE host-only
	@$(ARM64_TIX) python3 tests/cli/run_tests.py

test-arm64-quick: build-arm64
	@cd $(ARM64) && ctest --output-on-failure -j $(JOBS) -LE 'slow-emulated|host-only'
	@$(ARM64_TIX) python3 tests/cli/run_tests.py $(ARM64_CLI_QUICK)

# A Debian package (dpkg-buildpackage, debhelper; debian/), built from a copy
# of the tree in build-deb/ so nothing is written outside it; then lintian,
# which must report no error. The .deb is build-deb/tix_VERSION_ARCH.deb.
deb:
	@sh tools/deps.sh deb
	@rm -rf build-deb && mkdir -p build-deb/src
	@git ls-files -co --exclude-standard -z | xargs -0 tar cf - | tar xf - -C build-deb/src
	@cd build-deb/src && DEB_BUILD_OPTIONS="parallel=$(JOBS) nocheck" \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	@lintian --fail-on error build-deb/*.deb
	@ls build-deb/*.deb

# The package built, unpacked, its unit's commands run (tests/e2e/test_deb.py).
test-deb: deb
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_deb.py

# make run PORT=8601 (on 127.0.0.1), or make run LISTEN=HOST:PORT
PORT   ?= 8600
LISTEN ?=
run: build
	@TIX=$(BUILD)/tix DB=$(DB) PORT=$(PORT) LISTEN=$(LISTEN) sh tools/run.sh

# make run on PostgreSQL (issue 18): a server of Debian's postgresql package
# made by tools/pg.sh in $(PGDIR) on a free loopback port (started again,
# data kept, when it is there already), then tools/run.sh on its URL.
# `sh tools/pg.sh ctl var/pg stop` stops it, `sh tools/pg.sh stop var/pg`
# removes it too (README.md).
PGDIR ?= $(CURDIR)/var/pg
run-pg: build
	@sh tools/deps.sh pg
	@mkdir -p $(dir $(PGDIR))
	@if [ -f $(PGDIR)/url ]; then \
		sh tools/pg.sh ctl $(PGDIR) start 2>/dev/null || echo "make run-pg: the PostgreSQL of $(PGDIR) runs already"; \
	else sh tools/pg.sh start $(PGDIR) >/dev/null; fi
	@TIX=$(BUILD)/tix DB="$$(cat $(PGDIR)/url)" STATE=$(PGDIR) PORT=$(PORT) LISTEN=$(LISTEN) \
		sh tools/run.sh

# Unit tests (cmocka, through ctest); then every other suite, JOBS at a time
# (tools/run_suites.py: each suite's output printed whole when it ends, every
# failure named at the end): the CLI and end-to-end suites on the sanitizer
# build (asan:) and on the release build users run (release:), the kill -9
# rounds, the Debian package, static analysis (make lint); then every fuzz
# target for 60 s (make fuzz-ci). docs/testing.md says what each guarantees.
# Longest first, so the two cores stay busy to the end.
SUITES := \
	make:test-deb \
	make:test-arm64-quick \
	asan:tests/e2e/test_taxii.py \
	asan:tests/cli/run_tests.py \
	release:tests/e2e/test_crash.py \
	release:tests/e2e/test_crash_pg.py \
	make:lint \
	asan:tests/e2e/test_sync.py \
	asan:tests/e2e/test_ops.py \
	asan:tests/e2e/test_policy.py \
	asan:tests/e2e/test_ownership.py \
	asan:tests/e2e/test_bound.py \
	asan:tests/e2e/test_abuse.py \
	asan:tests/e2e/test_misp_feed.py \
	asan:tests/e2e/test_correlate.py \
	asan:tests/e2e/test_feeds.py \
	asan:tests/e2e/test_route.py \
	asan:tests/e2e/test_request.py \
	asan:tests/e2e/test_drill.py \
	asan:tests/e2e/test_library.py \
	asan:tests/e2e/test_console.py \
	asan:tests/e2e/test_pg.py \
	release:tests/cli/run_tests.py \
	release:tests/e2e/test_taxii.py \
	release:tests/e2e/test_taxii_pg.py \
	release:tests/e2e/test_sync.py \
	release:tests/e2e/test_sync_pg.py \
	release:tests/e2e/test_ops.py \
	release:tests/e2e/test_policy.py \
	release:tests/e2e/test_policy_pg.py \
	release:tests/e2e/test_library_pg.py \
	release:tests/e2e/test_ownership.py \
	release:tests/e2e/test_abuse.py \
	release:tests/e2e/test_misp_feed.py \
	release:tests/e2e/test_correlate.py \
	release:tests/e2e/test_feeds.py \
	release:tests/e2e/test_route.py \
	release:tests/e2e/test_request.py \
	release:tests/e2e/test_library.py \
	release:tests/e2e/test_console.py \
	release:tests/e2e/test_pg.py
test: deps-test deps-arm64 build build-asan
	@cd $(ASAN) && ctest --output-on-failure -j $(JOBS)
	@python3 tools/run_suites.py -j $(JOBS) --asan $(ASAN) --release $(BUILD) $(SUITES)
	@$(MAKE) --no-print-directory fuzz-ci

# Federation with 100,000 objects (make test runs 5,000).
test-sync-long: build
	@SYNC_OBJECTS=100000 TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_sync.py

# Federation over a thin link (issue 25): two network namespaces joined by
# 64 kbit/s, 300 ms, 5% loss with two 30 s outages (tc netem, or a TUN
# emulator where the kernel has no sch_netem), a tix serve in each; needs
# root. About 3 minutes. Exit 77 (skipped, said why) when the kernel refuses
# namespaces; tools/run_suites.py reports that as skipped.
test-link: build
	@sh tools/deps.sh link
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_link.py

bench-ingest: deps
	@bash bench/ingest/run.sh

bench-taxii: deps
	@bash bench/taxii/run.sh

bench-pattern: deps
	@bash bench/pattern/run.sh

bench-policy: deps
	@bash bench/policy/run.sh

bench-match: deps
	@sh tools/deps.sh bench
	@bash bench/match/run.sh

bench-sync: deps
	@bash bench/sync/run.sh

# Memory and size budgets (issue 25): OBJECTS=N for the served store's size.
bench-footprint: deps
	@sh tools/deps.sh bench-footprint
	@bash bench/footprint/run.sh

bench-sparse: deps
	@bash bench/sparse/run.sh

bench-correlate: deps
	@bash bench/correlate/run.sh

bench-formats: deps
	@bash bench/formats/run.sh

bench-ui: deps
	@sh tools/deps.sh test
	@bash bench/ui/run.sh

bench-feeds: deps
	@sh tools/deps.sh bench-feeds
	@bash bench/feeds/run.sh

bench-export: deps
	@bash bench/export/run.sh

bench-route: deps
	@bash bench/route/run.sh

# 10k/100k/1M: import beside its baseline, export, TAXII pages, RSS; a plot (gnuplot).
bench-scale: deps
	@sh tools/deps.sh bench
	@bash bench/scale/run.sh

# PostgreSQL against SQLite (import, TAXII GET cached and not, POST), and GET
# and POST with 1, 2 and 3 servers on one PostgreSQL database (issue 18).
bench-pg: deps
	@bash bench/pg/run.sh

# Every libFuzzer target (each fuzz/fuzz_*.c) for FUZZ_SECONDS each (ASan +
# UBSan, clang), JOBS at a time, on a scratch copy of its seed corpus with
# its dictionary (fuzz/<target>.dict) when there is one (tools/fuzz.sh); a
# crash fails, leaving the input and the log in build-fuzz/. `make fuzz-ci`
# is the 60-second run that `make test` (CI) does.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
fuzz:
	@sh tools/deps.sh fuzz
	@CC=clang cmake -S . -B build-fuzz -DTIX_FUZZ=ON -DTIX_SANITIZE=ON -DTIX_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@sh tools/fuzz.sh $(FUZZ_SECONDS) $(JOBS) $(FUZZ_TARGETS)

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

# Static analysis: banned functions, cppcheck and clang-tidy over every C
# file in git (tools/lint.sh).
lint:
	@sh tools/deps.sh lint
	@sh tools/lint.sh

# A wrk soak of mixed TAXII reads and writes for SOAK_SECONDS (600), with
# errors, latency percentiles and the server's RSS over time (bench/soak/).
SOAK_SECONDS ?= 600
soak: build
	@sh tools/deps.sh soak
	@SOAK_SECONDS=$(SOAK_SECONDS) TIX=$(CURDIR)/$(BUILD)/tix bash bench/soak/run.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(ARM64) build-bench build-fuzz build-deb build-chroot
