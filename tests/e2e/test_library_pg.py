#!/usr/bin/env python3
"""The resource library suite (tests/e2e/test_library.py) on PostgreSQL
(issue 24): the same tests, the world's store a real PostgreSQL that
tools/pg.sh starts and removes (TIX_TEST_DB); what differs there (no
diacritics folded) is asserted as docs/library.md says. Skipped (77) only
where tools/pg.sh cannot start one as a non-root user.

    TIX=build/tix python3 tests/e2e/test_library_pg.py [TEST_NAME...]
"""

import sys

from on_pg import run

if __name__ == "__main__":
    sys.exit(run("test_library.py"))
