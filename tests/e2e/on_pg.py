"""The one way a suite runs again on PostgreSQL (issue 18, the store
conformance run), for the *_pg.py wrappers: under `tools/pg.sh run` (which
starts a throwaway PostgreSQL and removes it), the suite's store the server's
URL (TIX_TEST_DB), then the suite itself with the wrapper's arguments. Exit 77
(skipped, said why) only where tools/pg.sh cannot start one as a non-root
user; as root (CI) a PostgreSQL that cannot start is a failure."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PG_SH = os.path.join(HERE, "..", "..", "tools", "pg.sh")
SKIP = 77


def run(suite, defaults=None):
    """Runs tests/e2e/SUITE on PostgreSQL; defaults: environment settings
    the wrapper gives unless the caller set them (e.g. fewer rounds)."""
    if "TIX_TEST_PG_URL" not in os.environ and "TIX_TEST_PG_SKIP" not in os.environ:
        os.execvp("sh", ["sh", PG_SH, "run", sys.executable] + sys.argv)
    if os.environ.get("TIX_TEST_PG_SKIP"):
        print("SKIPPED: no PostgreSQL: %s" % os.environ["TIX_TEST_PG_SKIP"])
        return SKIP
    os.environ["TIX_TEST_DB"] = os.environ["TIX_TEST_PG_URL"]
    for key, value in (defaults or {}).items():
        os.environ.setdefault(key, value)
    os.execv(sys.executable, [sys.executable, os.path.join(HERE, suite)] + sys.argv[1:])
    return 1  # not reached: execv replaced this process
