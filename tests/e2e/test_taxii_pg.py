#!/usr/bin/env python3
"""The TAXII conformance suite (tests/e2e/test_taxii.py) on PostgreSQL (issue
18, the store conformance run): the same tests, its shared world's store a
real PostgreSQL that tools/pg.sh starts and removes (TIX_TEST_DB), so every
listing, filter, paging, status and permission answer is asserted on both
engines. Skipped (77) only where tools/pg.sh cannot start one as a non-root
user; as root (CI) a PostgreSQL that cannot start is a failure.

    TIX=build/tix python3 tests/e2e/test_taxii_pg.py [TEST_NAME...]
"""

import sys

from on_pg import run

if __name__ == "__main__":
    sys.exit(run("test_taxii.py"))
