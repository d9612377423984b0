#!/usr/bin/env python3
"""The federation suite (tests/e2e/test_sync.py) on PostgreSQL (issue 18,
the store conformance run): the same tests, node b's store (the puller in
most of them; TIX_TEST_DB_NODE picks another) a real PostgreSQL that
tools/pg.sh starts and removes (TIX_TEST_DB), the other nodes on SQLite, so
federation is asserted with one side of it on each engine. 5,000 objects
as on SQLite, unless SYNC_OBJECTS says (the ten-kills test's last `tix
sync` once hung there on PostgreSQL: plans on stale statistics,
docs/architecture.md, "Two engines"). Skipped (77) only where tools/pg.sh
cannot start one as a non-root user.

    TIX=build/tix python3 tests/e2e/test_sync_pg.py [TEST_NAME...]
"""

import sys

from on_pg import run

if __name__ == "__main__":
    sys.exit(run("test_sync.py", {"SYNC_OBJECTS": "5000"}))
