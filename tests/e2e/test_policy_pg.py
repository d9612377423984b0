#!/usr/bin/env python3
"""The sharing-policy suite (tests/e2e/test_policy.py) on PostgreSQL (issue
18, the store conformance run): the same tests, the world's store a real
PostgreSQL that tools/pg.sh starts and removes (TIX_TEST_DB), so every
marking, redaction, group and audit answer is asserted on both engines.
Skipped (77) only where tools/pg.sh cannot start one as a non-root user.

    TIX=build/tix python3 tests/e2e/test_policy_pg.py [TEST_NAME...]
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
    os.execv(sys.executable, [sys.executable, os.path.join(HERE, "test_policy.py")] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
