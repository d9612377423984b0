#!/usr/bin/env python3
"""Running tix as a daemon (issue 22), end to end on the real `tix serve`:
backups taken while the server writes, restores, `tix verify-store`.

    TIX=build/tix python3 tests/e2e/test_ops.py [TEST...]

Python's standard library only; loopback only; no timing assertion.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_taxii as t  # noqa: E402  (the servers, clients and STIX helpers)

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def stored_ids(db):
    out = t.tix_ok("export", "--all-versions", "--db", db)
    return {o["id"] for o in json.loads(out).get("objects", [])}


@test
def a_backup_under_write_load_has_every_write_acknowledged_before_it(work):
    db, key, cid = t.small_store(work)
    server = t.Server(db, work, "load").start()
    client = t.Client(server, t.bearer(key))
    acked, sent, lock, stop = [], set(), threading.Lock(), threading.Event()
    errors = []

    def writer():
        while not stop.is_set():
            o = t.indicator()
            with lock:
                sent.add(o["id"])
            try:
                r = client.post(t.objects_path(cid), t.envelope([o]))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                continue
            if r.status == 202 and r.json().get("success_count") == 1:
                with lock:
                    acked.append((time.monotonic(), o["id"]))

    threads = [threading.Thread(target=writer) for _ in range(3)]
    try:
        for th in threads:
            th.start()
        while len(acked) < 150:
            time.sleep(0.05)
        # everything acknowledged before `tix backup` starts must be in it
        before = time.monotonic()
        with lock:
            must = {oid for at, oid in acked if at < before}
        bk = os.path.join(work, "under-load.backup")
        r = t.tix("backup", "--db", db, bk)
        assert r.returncode == 0, r.stderr
        n_at_backup = len(acked)
        while len(acked) < n_at_backup + 100:   # and the writes go on meanwhile and after
            time.sleep(0.05)
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert not errors, errors[:3]
    assert oct(os.stat(bk).st_mode & 0o777) == oct(0o600)
    restored = os.path.join(work, "restored", "tix.db")
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 0, r.stderr
    assert b"new one was made" in r.stderr and b"tix admin key add" in r.stderr, r.stderr
    got = stored_ids(restored)
    missing = must - got
    assert not missing, "%d acknowledged writes missing from the backup" % len(missing)
    assert got <= sent, "the backup holds objects never sent"
    assert len(got) < len(stored_ids(db)), "the backup is not a copy of one earlier moment"
    r = t.tix("verify-store", "--db", restored)
    assert r.returncode == 0 and b"the store is sound" in r.stdout, r.stdout + r.stderr
    # Without the node secret the old key is refused; the password still works.
    server.stop()
    again = t.Server(restored, work, "restored").start()
    try:
        t.expect_error(t.Client(again, t.bearer(key)).get(t.objects_path(cid)), 401)
        r = t.Client(again, t.basic("writer", "correct horse battery staple")).get(t.objects_path(cid))
        t.expect(r, 200)
    finally:
        again.stop()


@test
def a_backup_with_the_secret_keeps_the_keys(work):
    db, key, cid = t.small_store(work)
    t.tix_ok("import", "--db", db, "--collection", "inbox", t.SAMPLE)
    bk = os.path.join(work, "with-secret.backup")
    t.tix_ok("backup", "--with-secret", "--db", db, bk)
    # a file that exists is never overwritten
    r = t.tix("backup", "--db", db, bk)
    assert r.returncode == 1 and b"never overwrites" in r.stderr
    restored = os.path.join(work, "r.db")
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 0 and b"new one was made" not in r.stderr, r.stderr
    assert stored_ids(restored) == stored_ids(db)
    server = t.Server(restored, work, "with-secret").start()
    try:
        t.expect(t.Client(server, t.bearer(key)).get(t.objects_path(cid)), 200)
    finally:
        server.stop()
    # restoring over a store that is not empty needs --force
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 1 and b"--force" in r.stderr
    assert t.tix("restore", "--force", "--db", restored, bk).returncode == 0
    # the audit log says who took and restored copies
    out = t.tix_ok("audit", "show", "--json", "--db", restored)
    details = [json.loads(l)["detail"] for l in out.splitlines()]
    assert any(d.startswith("tix restore ") for d in details), details


@test
def verify_store_names_what_is_wrong(work):
    db, key, cid = t.small_store(work)
    t.tix_ok("import", "--db", db, t.SAMPLE)
    r = t.tix("verify-store", "--db", db)
    assert r.returncode == 0, r.stdout + r.stderr
    for line in ("ok   integrity", "ok   schema", "ok   audit log", "ok   node secret"):
        assert line.encode() in r.stdout, r.stdout
    # an audit entry changed
    edited = os.path.join(work, "edited.db")
    shutil.copy(db, edited)
    con = sqlite3.connect(edited)
    con.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
    con.commit()
    con.close()
    r = t.tix("verify-store", "--db", edited)
    assert r.returncode == 1 and b"FAIL audit log: broken at entry 2" in r.stdout, r.stdout
    # damaged pages
    damaged = os.path.join(work, "damaged.db")
    shutil.copy(db, damaged)
    size = os.path.getsize(damaged)
    with open(damaged, "r+b") as f:
        for off in range(8192, size - 4096, 16384):
            f.seek(off + 100)
            f.write(os.urandom(600))
    r = t.tix("verify-store", "--db", damaged)
    assert r.returncode in (1, 3) and (b"FAIL" in r.stdout or b"malformed" in r.stderr), (r.stdout, r.stderr)
    assert b"the store is sound" not in r.stdout
    # nothing is created where there is no store
    nowhere = os.path.join(work, "none", "tix.db")
    assert t.tix("verify-store", "--db", nowhere).returncode == 3
    assert t.tix("backup", "--db", nowhere, os.path.join(work, "x.backup")).returncode == 3
    assert not os.path.exists(nowhere)
    # a file that is not a store is not restored
    junk = os.path.join(work, "junk.backup")
    with open(junk, "wb") as f:
        f.write(b"not a database" * 100)
    r = t.tix("restore", "--db", os.path.join(work, "j.db"), junk)
    assert r.returncode == 1, r.stderr
    assert not os.path.exists(os.path.join(work, "j.db"))


def main():
    if not os.path.exists(t.TIX):
        print("tix binary not found at %s (set TIX)" % t.TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        work = tempfile.mkdtemp(prefix="tix-ops-")
        try:
            fn(work)
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
