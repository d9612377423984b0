#!/usr/bin/env python3
"""The federation suite (tests/e2e/test_sync.py) on PostgreSQL (issue 18,
the store conformance run): the same tests, node b's store (the puller in
most of them; TIX_TEST_DB_NODE picks another) a real PostgreSQL that
tools/pg.sh starts and removes (TIX_TEST_DB), the other nodes on SQLite, so
federation is asserted with one side of it on each engine. 1,000 objects
unless SYNC_OBJECTS says: at 5,000 the ten-kills test's last `tix sync`
hung past its 120 s timeout on PostgreSQL (docs/architecture.md, "Two
engines"). Skipped (77) only where tools/pg.sh cannot start one as a
non-root user.

    TIX=build/tix python3 tests/e2e/test_sync_pg.py [TEST_NAME...]
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PG_SH = os.path.join(HERE, "..", "..", "tools", "pg.sh")


def main():
    if "TIX_TEST_PG_URL" not in os.environ and "TIX_TEST_PG_SKIP" not in os.environ:
        os.execvp("sh", ["sh", PG_SH, "run", sys.executable] + sys.argv)
    if os.environ.get("TIX_TEST_PG_SKIP"):
        print("SKIPPED: no PostgreSQL: %s" % os.environ["TIX_TEST_PG_SKIP"])
        return 77
    os.environ["TIX_TEST_DB"] = os.environ["TIX_TEST_PG_URL"]
    os.environ.setdefault("SYNC_OBJECTS", "1000")
    os.execv(sys.executable, [sys.executable, os.path.join(HERE, "test_sync.py")] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
