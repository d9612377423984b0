# tix — the two commands of the README, and a few more. CMake does the
# building; this file only wires the steps together.
#
#   make run    install missing build dependencies, build, load the sample
#               data into ./var/tix.db, print an admin key and serve TAXII 2.1
#               on 127.0.0.1:8600
#   make test   the same set-up, then every test (unit, conformance, CLI),
#               also under AddressSanitizer and UndefinedBehaviorSanitizer

JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
DB    ?= var/tix.db
BUILD := build
ASAN  := build-asan

.PHONY: all deps deps-test build build-asan run test \
        bench-ingest bench-taxii bench-pattern bench-policy bench-sync test-sync-long fuzz format clean

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

run: build
	@TIX=$(BUILD)/tix DB=$(DB) sh tools/run.sh

# Unit tests (cmocka, through ctest), the CLI tests and the TAXII server's
# end-to-end tests (TAXII and sharing policy) on the sanitizer build; then the CLI and TAXII tests again
# on the release build users run.
test: deps-test build build-asan
	@cd $(ASAN) && ctest --output-on-failure -j $(JOBS)
	@TIX=$(CURDIR)/$(ASAN)/tix python3 tests/cli/run_tests.py
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/cli/run_tests.py
	@TIX=$(CURDIR)/$(ASAN)/tix python3 tests/e2e/test_taxii.py
	@TIX=$(CURDIR)/$(ASAN)/tix python3 tests/e2e/test_policy.py
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_taxii.py
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_policy.py
	@TIX=$(CURDIR)/$(ASAN)/tix python3 tests/e2e/test_sync.py
	@TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_sync.py

# Federation with 100,000 objects (make test runs 5,000).
test-sync-long: build
	@SYNC_OBJECTS=100000 TIX=$(CURDIR)/$(BUILD)/tix python3 tests/e2e/test_sync.py

bench-ingest: deps
	@bash bench/ingest/run.sh

bench-taxii: deps
	@bash bench/taxii/run.sh

bench-pattern: deps
	@bash bench/pattern/run.sh

bench-policy: deps
	@bash bench/policy/run.sh

bench-sync: deps
	@bash bench/sync/run.sh

# Every libFuzzer target for FUZZ_SECONDS each (ASan + UBSan, clang), on a
# scratch copy of its seed corpus; a crash stops with the input in build-fuzz/.
FUZZ_SECONDS ?= 60
fuzz:
	@sh tools/deps.sh fuzz
	@CC=clang cmake -S . -B build-fuzz -DTIX_FUZZ=ON -DTIX_SANITIZE=ON -DTIX_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for t in stix_import pattern sync_page; do \
		mkdir -p build-fuzz/corpus/$$t && \
		echo "== fuzz_$$t, $(FUZZ_SECONDS) s" && \
		(cd build-fuzz && ./fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 corpus/$$t ../fuzz/corpus/$$t > fuzz_$$t.log 2>&1); \
		rc=$$?; grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' build-fuzz/fuzz_$$t.log; \
		[ $$rc -eq 0 ] || { echo "fuzz_$$t failed: see build-fuzz/fuzz_$$t.log"; exit 1; }; \
	done

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) build-bench
