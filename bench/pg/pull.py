#!/usr/bin/env python3
"""One pull of N objects sharing one modified time (`tix sync --once
--page-size 50`) into node b, timed (issue 18; bench/README.md, "A pull
into PostgreSQL"): node a serves from SQLite; b's store is TIX_TEST_DB (a
PostgreSQL URL, emptied first) or, unset, an SQLite file. BEFORE: SQL run
on b's PostgreSQL store before the pull (e.g. "VACUUM ANALYZE", statistics
that call the tables empty). Run it under tools/pg.sh, alternating builds:

    sh tools/pg.sh run sh -c 'TIX_TEST_DB=$TIX_TEST_PG_URL TIX=build/tix N=5000 \
        python3 bench/pg/pull.py'
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "e2e"))
import test_sync as T  # noqa: E402

n = int(os.environ.get("N", "5000"))
w = T.World()
try:
    a, b = w.node("a"), w.node("b")
    b.add_peer(a, "pull")
    a.load([T.obj(T.CLEAR, i) for i in range(n)])
    if os.environ.get("BEFORE") and T.PG_URL:
        T.psql(b.db, os.environ["BEFORE"])
    t0 = time.monotonic()
    r = b.sync("--page-size", "50")
    dt = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert b.status()["a"]["objects_in"] == n
    print("pull %d objects: %.2f s (%s)" % (n, dt, "pg" if T.PG_URL else "sqlite"))
finally:
    w.close(True)
