#!/usr/bin/env python3
"""Crash consistency: kill -9 a busy node, restart it, check nothing
acknowledged is lost and nothing half-written is visible.

Each of LOOPS rounds (20) starts the real `tix serve` on a free loopback
port over the same store, checks what the previous rounds left (below), then
runs four threads POSTing small envelopes and two loops of `tix import`
processes at once, and kills the server and the imports with SIGKILL at a
random moment (seeded: the seed is printed, TIX_CRASH_SEED repeats a run).
Then SQLite's `PRAGMA integrity_check` must say "ok" (on PostgreSQL, with
TIX_TEST_DB a URL - test_crash_pg.py - the count of distinct objects in the
store, read through `psql`, must lie between the acknowledged and the sent
ones). What is checked after
each restart, through TAXII (the manifest of the collection, every page):

  * every acknowledged write is there: each object a POST's status listed
    among its successes (HTTP 202), and every object of an import that
    exited 0; each acknowledged POST's status resource can still be fetched;
  * nothing is half-written: a POST's envelope and an import's file are each
    one transaction, so of every envelope or file sent - acknowledged,
    refused or cut off by the kill - either all objects are visible or none.

Python's standard library only; loopback only; no timing assertion.

    TIX=build/tix python3 tests/e2e/test_crash.py
"""

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_taxii as t  # noqa: E402  (the servers, clients and STIX helpers)

LOOPS = int(os.environ.get("TIX_CRASH_LOOPS", "20"))
PG = bool(re.match(r"postgres(ql)?://", os.environ.get("TIX_TEST_DB", "")))
SEED = int(os.environ.get("TIX_CRASH_SEED", str(random.SystemRandom().randrange(1 << 30))))
POSTERS = 4
IMPORTERS = 2
ENVELOPE = 5      # objects per POST
IMPORT_FILE = 50  # objects per imported file


class Ledger:
    """What was sent and what was acknowledged, across all rounds."""

    def __init__(self):
        self.lock = threading.Lock()
        self.groups = []        # (origin, [ids]) of every envelope or file sent
        self.acked = set()      # ids acknowledged
        self.statuses = {}      # status id -> ids it lists as successes
        self.errors = []

    def sent(self, origin, ids):
        with self.lock:
            self.groups.append((origin, ids))

    def ack(self, ids, status_id=None):
        with self.lock:
            self.acked.update(ids)
            if status_id:
                self.statuses[status_id] = list(ids)


def poster(srv, key, cid, ledger, stop, rnd_seed):
    c = t.Client(srv, t.bearer(key))
    n = 0
    while not stop.is_set():
        objs = [t.indicator() for _ in range(ENVELOPE)]
        ids = [o["id"] for o in objs]
        ledger.sent("POST", ids)
        try:
            r = c.post(t.objects_path(cid), t.envelope(objs))
        except (OSError, http.client.HTTPException):
            return  # killed under us: this envelope is in doubt
        if r.status == 202:
            st = r.json()
            ok = [s["id"] for s in st.get("successes", [])]
            if st.get("success_count") != len(ok) or sorted(ok) != sorted(ids):
                ledger.errors.append("POST status does not list its objects: %r" % st)
            ledger.ack(ok, st.get("id"))
        elif r.status != 503:
            ledger.errors.append("POST answered %r" % r)
            return
        n += 1


def importer(db, cid, workdir, ledger, stop, procs, plock, name):
    n = 0
    while not stop.is_set():
        objs = [t.indicator() for _ in range(IMPORT_FILE)]
        ids = [o["id"] for o in objs]
        path = os.path.join(workdir, "%s-%d.json" % (name, n))
        n += 1
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": t.new_id("bundle"), "objects": objs}, f)
        ledger.sent("import", ids)
        with plock:
            if stop.is_set():
                return
            p = subprocess.Popen([t.TIX, "import", "--quiet", "--db", db, "--collection", cid,
                                  path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            procs.append(p)
        _, err = p.communicate()
        if p.returncode == 0:
            ledger.ack(ids)
        elif p.returncode != -signal.SIGKILL and b"busy" not in err.lower() \
                and b"locked" not in err.lower():
            ledger.errors.append("tix import exited %d: %s" % (p.returncode, err[-500:]))


def pg_count(db):
    """The distinct objects a PostgreSQL store holds, through psql."""
    r = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", db, "-c",
                        "SELECT count(DISTINCT id) FROM objects"], capture_output=True,
                       timeout=t.TIMEOUT)
    assert r.returncode == 0, "psql: %s" % r.stderr[-500:]
    return int(r.stdout)


def integrity(db, ledger, base):
    if PG:  # no file to check: what the store holds is all acknowledged, at most all sent
        n = pg_count(db) - base
        sent = set(i for _, ids in ledger.groups for i in ids)
        assert len(ledger.acked) <= n <= len(sent), "%d objects stored, %d acknowledged, " \
            "%d sent" % (n, len(ledger.acked), len(sent))
        return "%d objects stored" % n
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    assert rows == [("ok",)], "integrity_check: %r" % rows[:10]
    return "integrity_check ok"


def verify(srv, key, cid, ledger, round_no):
    c = t.Client(srv, t.bearer(key))
    present = set(o["id"] for o in t.page_all(c, t.manifest_path(cid), limit=1000)[0])
    lost = ledger.acked - present
    assert not lost, "round %d: %d acknowledged objects lost, e.g. %r" % (
        round_no, len(lost), sorted(lost)[:3])
    partial = 0
    for origin, ids in ledger.groups:
        seen = sum(1 for i in ids if i in present)
        if 0 < seen < len(ids):
            partial += 1
            print("    half-written %s: %d of %d objects visible" % (origin, seen, len(ids)))
    assert partial == 0, "round %d: %d envelopes or files half-written" % (round_no, partial)
    # A sample of the acknowledged statuses is still there, and still true.
    for sid in random.Random(round_no).sample(sorted(ledger.statuses),
                                                min(5, len(ledger.statuses))):
        st = t.expect(c.get("/api1/status/%s/" % sid), 200).json()
        assert st["success_count"] == len(ledger.statuses[sid]), st
    return len(present)


def main():
    if not os.path.exists(t.TIX):
        print("tix binary not found at %s (set TIX)" % t.TIX)
        return 2
    print("test_crash: seed %d (TIX_CRASH_SEED=%d repeats this run), %d rounds" % (
        SEED, SEED, LOOPS))
    sys.stdout.flush()
    rnd = random.Random(SEED)
    d = tempfile.mkdtemp(prefix="tix-crash-")
    ledger = Ledger()
    srv = None
    try:
        db, key, cid = t.small_store(d, os.environ.get("TIX_TEST_DB"))
        base = pg_count(db) if PG else 0  # what a new store holds before any write
        for round_no in range(LOOPS + 1):
            srv = t.Server(db, d, "crash%d" % round_no).start()
            n = verify(srv, key, cid, ledger, round_no)
            if round_no == LOOPS:
                srv.stop()  # a clean stop after the last check; no sanitizer report
                print("ok   %d rounds: %d objects stored, %d acknowledged, %d sent in %d "
                      "envelopes and files; none lost or half-written" % (
                          LOOPS, n, len(ledger.acked), sum(len(g[1]) for g in ledger.groups),
                          len(ledger.groups)))
                break
            stop = threading.Event()
            procs, plock = [], threading.Lock()
            threads = [threading.Thread(target=poster, args=(srv, key, cid, ledger, stop, i))
                       for i in range(POSTERS)]
            threads += [threading.Thread(target=importer, args=(
                db, cid, d, ledger, stop, procs, plock, "r%di%d" % (round_no, i)))
                for i in range(IMPORTERS)]
            for th in threads:
                th.start()
            time.sleep(rnd.uniform(0.2, 2.0))
            srv.proc.kill()              # SIGKILL, at a random moment of the load
            with plock:
                stop.set()
                for p in procs:
                    if p.poll() is None:
                        p.kill()
            srv.proc.wait()
            for th in threads:
                th.join(t.TIMEOUT)
            srv.proc = None
            srv.err.close()
            err = srv.stderr()
            bad = [m for m in t.SANITIZER_MARKS if m in err]
            assert not bad, "sanitizer report before the kill: %s" % err[-3000:]
            assert not ledger.errors, ledger.errors[:5]
            what = integrity(db, ledger, base)
            print("ok   round %d: killed after %d objects acknowledged; %s" % (
                round_no, len(ledger.acked), what))
            sys.stdout.flush()
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL test_crash (seed %d)" % SEED)
        return 1
    finally:
        if srv is not None:
            srv.kill()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
