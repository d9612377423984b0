#!/usr/bin/env python3
"""The sharing-policy suite (tests/e2e/test_policy.py) on PostgreSQL (issue
18, the store conformance run): the same tests, the world's store a real
PostgreSQL that tools/pg.sh starts and removes (TIX_TEST_DB), so every
marking, redaction, group and audit answer is asserted on both engines.
Skipped (77) only where tools/pg.sh cannot start one as a non-root user.

    TIX=build/tix python3 tests/e2e/test_policy_pg.py [TEST_NAME...]
"""

import sys

from on_pg import run

if __name__ == "__main__":
    sys.exit(run("test_policy.py"))
