#!/usr/bin/env python3
"""The crash test (tests/e2e/test_crash.py) on PostgreSQL (issue 18, the
store conformance run): the same rounds of kill -9 during writes (5 unless
TIX_CRASH_LOOPS says), the store a real PostgreSQL that tools/pg.sh starts
and removes (TIX_TEST_DB), so that every acknowledged write surviving the
kill is asserted on both engines. Skipped (77) only where tools/pg.sh cannot
start one as a non-root user.

    TIX=build/tix python3 tests/e2e/test_crash_pg.py
"""

import sys

from on_pg import run

if __name__ == "__main__":
    sys.exit(run("test_crash.py", {"TIX_CRASH_LOOPS": "5"}))
