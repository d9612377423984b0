#!/usr/bin/env python3
"""End-to-end tests of tix on PostgreSQL (issue 18): `--db postgresql://…`
for tix import, export and serve on a real PostgreSQL that tools/pg.sh starts
(this script runs itself under `tools/pg.sh run` when TIX_TEST_PG_URL is not
set). TAXII discovery, POST then GET with paging while a writer adds (every
object seen once), two `tix serve` on one database (what one stores the
other serves, its answer cache invalidated across processes), a wrong
password (exit 3, libpq's message, no password printed), a schema from a
newer tix (refused naming both versions), and PostgreSQL stopped under a
load (503s, then the server connects again; every acknowledged write kept),
`tix migrate` from SQLite to PostgreSQL and back to a new SQLite file
(the same rows and digests, exports, audit chain and API keys; a target
that is not empty refused; a wrong password exit 3), and a hub of three
servers on one database: concurrent writers to all three and pagers
following each next token on another server (every object seen once, none
missed), status resources and a removed key across servers, the limit of
failed attempts per process, and one audit chain after the load.

The servers run under the sharing policy, as a node does: the audience index
that TAXII listings read for every principal is written from C on both
engines (src/store/audience.c).

    TIX=build/tix python3 tests/e2e/test_pg.py [TEST_NAME...]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_taxii as t  # noqa: E402  the server, the client and STIX helpers

ROOT = t.ROOT
TIX = t.TIX
PG_SH = os.path.join(ROOT, "tools", "pg.sh")
SKIP = 77
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def psql(url, sql):
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, timeout=t.TIMEOUT)
    assert r.returncode == 0, "psql %s: %s" % (sql, r.stderr.decode(errors="replace"))
    return r.stdout.decode()


def pg_ctl(what):
    subprocess.run(["sh", PG_SH, "ctl", os.environ["TIX_TEST_PG_DIR"], what], check=True,
                   timeout=t.TIMEOUT)


class World:
    """A PostgreSQL store with an administrator, a collection and the sample."""

    def __init__(self):
        self.url = os.environ["TIX_TEST_PG_URL"]
        self.password = re.match(r"postgresql://[^:]+:([^@]+)@", self.url).group(1)
        self.dir = tempfile.mkdtemp(prefix="tix-e2e-pg-")
        self.servers = []
        psql(self.url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        t.tix_ok("admin", "org", "add", "acme", "--country", "GB", "--db", self.url)
        t.tix_ok("admin", "user", "add", "root", "--org", "acme", "--role", "admin",
                 "--db", self.url)
        out = t.tix_ok("admin", "key", "add", "--user", "root", "--db", self.url)
        self.key = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = t.tix_ok("admin", "collection", "add", "work", "--read", "acme", "--write", "acme",
                       "--db", self.url)
        self.cid = re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", out).group(0)
        with open(t.SAMPLE) as f:
            self.sample = json.load(f)["objects"]

    def server(self, name, extra=()):
        s = t.Server(self.url, self.dir, name, list(extra))
        self.servers.append(s)
        return s.start()

    def client(self, server):
        return t.Client(server, t.bearer(self.key))

    def close(self):
        for s in self.servers:
            s.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def versions(objs):
    return sorted((o["id"], t.version_of(o)) for o in objs)


def latest(objs):
    best = {}
    for o in objs:
        if o["id"] not in best or t.ts_key(t.version_of(o)) > t.ts_key(t.version_of(best[o["id"]])):
            best[o["id"]] = o
    return best


# ---- the command line -------------------------------------------------------------------

@test
def import_and_export_round_trip_on_postgresql(w):
    out = t.tix("import", "--db", w.url, "--collection", "sample", t.SAMPLE)
    assert out.returncode == 0, out.stderr
    assert ("%d added" % len(w.sample)).encode() in out.stderr, out.stderr
    again = t.tix_ok("import", "--db", w.url, "--collection", "sample", t.SAMPLE)
    exported = json.loads(t.tix_ok("export", "--db", w.url, "--all-versions",
                                   "--collection", "sample"))["objects"]
    assert versions(exported) == versions(w.sample), (len(exported), len(w.sample))
    by_version = {(o["id"], t.version_of(o)): t.canon(o) for o in w.sample}
    for o in exported:
        assert t.canon(o) == by_version[(o["id"], t.version_of(o))], o["id"]
    stats = t.tix("stats", "--db", w.url)
    assert stats.returncode == 0, stats.stderr
    assert w.password.encode() not in stats.stdout + stats.stderr
    assert b"postgresql://tix:***@" in stats.stdout, stats.stdout[:200]
    del again
    # The same store from $TIX_DB and from tix.conf's [store] path.
    conf = os.path.join(w.dir, "tix.conf")
    with open(conf, "w") as f:
        f.write("[store]\npath = %s\n" % w.url)
    os.chmod(conf, 0o600)
    for env in ({"TIX_DB": w.url}, {"TIX_CONFIG": conf}):
        r = subprocess.run([TIX, "stats", "--json"], capture_output=True, timeout=t.TIMEOUT,
                           env=dict(os.environ, **env), cwd=w.dir)
        assert r.returncode == 0, (env, r.stderr)
        s = json.loads(r.stdout)
        assert [c["objects"] for c in s["collections"] if c["title"] == "sample"] == \
            [len({o["id"] for o in w.sample})], s["collections"]
    # nothing made in the working directory for the URL (no "postgresql:" folder)
    assert not [n for n in os.listdir(w.dir) if n.startswith("postgres")], os.listdir(w.dir)


@test
def verify_store_skips_sqlites_check_and_says_so(w):
    r = t.tix("verify-store", "--db", w.url)
    out = r.stdout.decode()
    assert r.returncode == 0, (out, r.stderr)
    assert re.search(r"^skip integrity: .*PostgreSQL.*pg_amcheck", out, re.M), out
    assert re.search(r"^ok   audit log", out, re.M), out
    assert w.password not in out + r.stderr.decode()


@test
def a_wrong_password_exits_3_with_libpqs_message_and_no_password(w):
    wrong = "Wr0ngSecret" + w.password[:6]
    url = w.url.replace(":" + w.password + "@", ":" + wrong + "@")
    for args in (("stats",), ("import", t.SAMPLE), ("serve", "--listen", "127.0.0.1:%d" %
                                                   t.free_port())):
        r = t.tix(*(args + ("--db", url)))
        text = (r.stdout + r.stderr).decode()
        assert r.returncode == 3, (args, r.returncode, text)
        assert "password authentication failed" in text, text
        assert wrong not in text and w.password not in text, text
    # A URL that does not parse, and a server that is not there.
    for url, why in (("postgresql://tix:" + wrong + "@127.0.0.1:1/tix", "Connection refused"),
                     ("postgresql://tix:" + wrong + "@127.0.0.1:5432:9/tix", "invalid")):
        r = t.tix("stats", "--db", url)
        text = (r.stdout + r.stderr).decode()
        assert r.returncode == 3 and why in text and wrong not in text, (r.returncode, text)


# ---- TAXII ---------------------------------------------------------------------------------

@test
def discovery_post_and_paging_while_a_writer_adds(w):
    srv = w.server("paging")
    c = w.client(srv)
    d = t.expect(c.get("/taxii2/"), 200).json()
    assert d["api_roots"] and d["api_roots"][0].endswith("/api1/"), d
    t.expect(c.get("/api1/"), 200)
    first = [t.indicator() for _ in range(300)]
    for i in range(0, len(first), 100):
        t.post_ok(c, w.cid, first[i:i + 100])
    got = t.expect(c.get(t.objects_path(w.cid, first[0]["id"])), 200).json()["objects"]
    assert [t.canon(o) for o in got] == [t.canon(first[0])]
    added, stop, errors = [], threading.Event(), []

    def writer():
        wc = w.client(srv)
        try:
            while not stop.is_set():
                batch = [t.indicator() for _ in range(10)]
                t.post_ok(wc, w.cid, batch)
                added.extend(batch)
        except Exception as e:  # reported below
            errors.append(e)

    th = threading.Thread(target=writer)
    th.start()
    try:
        seen, _ = t.page_all(c, t.objects_path(w.cid), limit=25)
    finally:
        stop.set()
        th.join()
    assert not errors, errors
    ids = [o["id"] for o in seen]
    assert len(ids) == len(set(ids)), "an object was served twice"
    missing = {o["id"] for o in first} - set(ids)
    assert not missing, "%d objects stored before the paging were not seen" % len(missing)
    assert added, "the writer stored nothing meanwhile"
    # Afterwards every object is there, once.
    final, _ = t.page_all(c, t.objects_path(w.cid), limit=1000)
    fids = [o["id"] for o in final]
    assert len(fids) == len(set(fids))
    assert {o["id"] for o in first + added} <= set(fids)
    srv.stop()


@test
def two_servers_on_one_database_serve_each_others_writes(w):
    a, b = w.server("a"), w.server("b")
    ca, cb = w.client(a), w.client(b)
    o = t.indicator()
    # b answers the collection once (its answer cache keeps it) ...
    before = t.expect(cb.get(t.objects_path(w.cid), [("limit", 1000)]), 200).json()
    before_ids = {x["id"] for x in before.get("objects", [])}
    assert o["id"] not in before_ids
    t.expect(cb.get(t.objects_path(w.cid), [("limit", 1000)]), 200)
    # ... then a stores a new object, and a new version of one b has served.
    t.post_ok(ca, w.cid, [o])
    newer = dict(o, modified="2025-06-01T00:00:00.000Z", name="second version")
    t.post_ok(ca, w.cid, [newer])
    after = t.expect(cb.get(t.objects_path(w.cid), [("limit", 1000)]), 200).json()["objects"]
    mine = [x for x in after if x["id"] == o["id"]]
    assert [t.canon(x) for x in mine] == [t.canon(newer)], mine
    vs = t.expect(cb.get(t.objects_path(w.cid, o["id"], versions=True)), 200).json()
    assert sorted(vs["versions"]) == sorted([o["modified"], newer["modified"]]), vs
    # and the other way round
    p = t.indicator()
    t.expect(ca.get(t.objects_path(w.cid, p["id"])), 404)
    t.post_ok(cb, w.cid, [p])
    got = t.expect(ca.get(t.objects_path(w.cid, p["id"])), 200).json()["objects"]
    assert [x["id"] for x in got] == [p["id"]]
    a.stop()
    b.stop()


@test
def postgresql_stopped_under_load_gives_503_then_the_server_recovers(w):
    # A peer nobody answers, run every second by the server's sync thread:
    # its failures in the log show the thread going on after the outage.
    t.tix_ok("peer", "add", "nobody", "--url", "http://127.0.0.1:1/taxii2/",
             "--remote-collection", w.cid, "--local-collection", w.cid, "--key-stdin",
             "--direction", "pull", "--interval", "1", "--db", w.url, stdin=b"tix_x_y\n")
    srv = w.server("outage", ["--sync"])
    acked, statuses, stop = [], [], threading.Event()
    lock = threading.Lock()

    def writer():
        wc = w.client(srv)
        while not stop.is_set():
            batch = [t.indicator() for _ in range(5)]
            try:
                r = wc.post(t.objects_path(w.cid), t.envelope(batch))
            except OSError as e:  # the server must keep answering
                with lock:
                    statuses.append(repr(e))
                continue
            with lock:
                statuses.append(r.status)
            if r.status == 202:
                st = r.json()
                assert st["status"] == "complete" and st["success_count"] == 5, st
                with lock:
                    acked.extend(batch)
            elif r.status == 503:
                e = t.expect_error(r, 503)
                assert r.header("Retry-After"), r
                assert w.password not in r.body.decode(), r
                assert e.get("description"), e
            time.sleep(0.01)

    def reader():
        rc = w.client(srv)
        while not stop.is_set():
            try:
                r = rc.get(t.objects_path(w.cid), [("limit", 5)])
            except OSError as e:
                with lock:
                    statuses.append(repr(e))
                continue
            with lock:
                statuses.append(r.status)
            time.sleep(0.01)

    def wait_for(pred, what):
        deadline = time.monotonic() + 60
        while not pred():
            assert time.monotonic() < deadline, "%s: %r" % (what, statuses[-20:])
            time.sleep(0.05)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for th in threads:
        th.start()
    try:
        wait_for(lambda: len(acked) >= 20, "no write acknowledged before the outage")
        pg_ctl("stop")
        with lock:
            mark = len(statuses)
        wait_for(lambda: statuses[mark:].count(503) >= 6, "no 503 while PostgreSQL was down")
        pg_ctl("start")
        with lock:
            mark = len(statuses)
        runs = srv.stderr().count("peer nobody")
        wait_for(lambda: statuses[mark:].count(202) >= 3, "no write stored after the restart")
        wait_for(lambda: srv.stderr().count("peer nobody") > runs + 1,
                 "the sync thread stopped running its peers")
    finally:
        stop.set()
        for th in threads:
            th.join()
    odd = [s for s in statuses if s not in (200, 202, 503)]
    assert not odd, "answers other than 200, 202 and 503: %r" % odd[:10]
    assert srv.proc.poll() is None, "the server died: " + srv.stderr()[-2000:]
    # Every acknowledged write is in the database, through the server and
    # through a new process.
    c = w.client(srv)
    served, _ = t.page_all(c, t.objects_path(w.cid), limit=1000)
    lost = {o["id"] for o in acked} - {o["id"] for o in served}
    assert not lost, "%d acknowledged writes are missing" % len(lost)
    exported = json.loads(t.tix_ok("export", "--db", w.url, "--collection", "work"))["objects"]
    assert {o["id"] for o in acked} <= {o["id"] for o in exported}
    srv.stop()
    t.tix_ok("peer", "remove", "nobody", "--db", w.url)


@test
def a_schema_from_a_newer_tix_is_refused_naming_both_versions(w):
    mine = int(re.search(r"\(schema (\d+)\)", t.tix_ok("stats", "--db", w.url)).group(1))
    psql(w.url, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'" % (mine + 1))
    try:
        for args in (("stats",), ("serve", "--listen", "127.0.0.1:%d" % t.free_port())):
            r = t.tix(*(args + ("--db", w.url)))
            text = r.stderr.decode()
            assert r.returncode == 3, (args, r.returncode, text)
            assert "schema version %d is newer than this tix (%d)" % (mine + 1, mine) in text, text
            assert w.password not in text
    finally:
        psql(w.url, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'" % mine)


# ---- tix migrate ---------------------------------------------------------------------------

def migrate_table_lines(out):
    """TABLE SOURCE-ROWS TARGET-ROWS DIGEST lines of tix migrate, by table."""
    rows = {}
    for line in out.splitlines():
        f = line.split()
        assert len(f) == 4 and re.fullmatch(r"[0-9a-f]{64}", f[3]), line
        assert f[1] == f[2], line
        rows[f[0]] = (int(f[1]), f[3])
    return rows


def export_body(db):
    """tix export --all-versions without its bundle's id (new each time)."""
    out = t.tix_ok("export", "--db", db, "--all-versions")
    head, rest = out.split("\n", 1)
    assert head.startswith('{"type":"bundle","id":"bundle--'), head[:80]
    return rest


@test
def migrate_sqlite_to_postgresql_and_back_keeps_every_table(w):
    d = os.path.join(w.dir, "migrate")
    os.makedirs(d)
    src, back = os.path.join(d, "src.db"), os.path.join(d, "back.db")
    schema = "mig%d" % os.getpid()
    psql(w.url, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s" % (schema, schema))
    pg = w.url + ("&" if "?" in w.url else "?") + "options=-csearch_path%%3D%s" % schema
    try:
        t.tix_ok("admin", "org", "add", "acme", "--country", "GB", "--db", src)
        t.tix_ok("admin", "org", "add", "globex", "--db", src)
        for i in range(4):
            t.tix_ok("admin", "user", "add", "u%d" % i, "--org", "acme", "--role", "admin",
                     "--db", src)
        out = t.tix_ok("admin", "key", "add", "--user", "u0", "--db", src)
        key = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = t.tix_ok("admin", "collection", "add", "work", "--read", "acme", "--write", "acme",
                       "--db", src)
        cid = re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", out).group(0)
        t.tix_ok("import", "--db", src, "--collection", "sample", t.SAMPLE)
        mine = [t.indicator(name="migrated %d" % i, description="über ünïcode %d" % i)
                for i in range(300)]
        bundle = os.path.join(d, "mine.json")
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--" + mine[0]["id"][11:],
                       "objects": mine}, f)
        t.tix_ok("import", "--db", src, "--collection", "work", bundle)

        # SQLite -> PostgreSQL
        r = t.tix("migrate", "--db", src, "--to", pg)
        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert w.password not in r.stdout.decode() + err
        there = migrate_table_lines(r.stdout.decode())
        for table in ("objects", "collection_objects", "users", "api_keys", "audit", "meta",
                      "text_index", "value_index"):
            assert there[table][0] > 0, (table, there.get(table))
        assert there["objects"][0] == len(w.sample) + len(mine), there["objects"]
        # PostgreSQL -> a new SQLite file: the same rows, the same digests
        r = t.tix("migrate", "--db", pg, "--to", back)
        assert r.returncode == 0, r.stderr.decode()
        assert migrate_table_lines(r.stdout.decode()) == there
        body = export_body(src)
        assert export_body(pg) == body
        assert export_body(back) == body
        for db in (pg, back):
            v = t.tix("audit", "verify", "--db", db)
            assert v.returncode == 0 and b"audit log intact" in v.stdout, (db, v.stdout, v.stderr)

        # The API key authenticates against the PostgreSQL copy; it writes on.
        srv = t.Server(pg, w.dir, "migrated").start()
        w.servers.append(srv)
        c = t.Client(srv, t.bearer(key))
        t.expect(c.get("/taxii2/"), 200)
        got = t.expect(c.get(t.objects_path(cid, mine[7]["id"])), 200).json()["objects"]
        assert [t.canon(o) for o in got] == [t.canon(mine[7])]
        t.expect(t.Client(srv, t.bearer(key[:-2] + "xx")).get("/taxii2/"), 401)
        srv.stop()
        t.tix_ok("admin", "user", "add", "after", "--org", "acme", "--role", "reader", "--db", pg)
        t.tix_ok("admin", "key", "add", "--user", "after", "--db", pg)

        # A target that is not empty is refused and left as it was.
        r = t.tix("migrate", "--db", src, "--to", pg)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert b"is not empty" in r.stderr, r.stderr
        assert export_body(pg) == body
        # A wrong password: exit 3, the password never shown.
        wrong = "Wr0ngSecret" + w.password[:6]
        r = t.tix("migrate", "--db", src, "--to", pg.replace(":" + w.password + "@",
                                                             ":" + wrong + "@"))
        text = (r.stdout + r.stderr).decode()
        assert r.returncode == 3, (r.returncode, text)
        assert "password authentication failed" in text, text
        assert wrong not in text and w.password not in text, text
    finally:
        psql(w.url, "DROP SCHEMA IF EXISTS %s CASCADE" % schema)


def new_collection(w, title):
    """A collection of the test's own (w.cid holds the earlier tests' objects)."""
    out = t.tix_ok("admin", "collection", "add", title, "--read", "acme", "--write", "acme",
                   "--db", w.url)
    return re.search(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", out).group(0)


# ---- a hub: three servers on one database (issue 18, Deliver 4) ---------------------------

@test
def three_servers_share_paging_status_caches_and_one_audit_chain(w):
    """Three `tix serve` on one database with concurrent writers POSTing to
    all three and pagers that follow each `next` token on the next server
    (the tokens are MACed with the node secret, the same for all three)."""
    cid = new_collection(w, "hub")
    srvs = [w.server("hub%d" % i) for i in range(3)]
    cs = [w.client(s) for s in srvs]
    first = [t.indicator() for _ in range(120)]
    for i in range(0, len(first), 40):
        t.post_ok(cs[i // 40], cid, first[i:i + 40])
    acked, statuses, errors, lock = [], [], [], threading.Lock()

    def writer(i):
        try:
            for _ in range(12):
                batch = [t.indicator() for _ in range(10)]
                st = t.post_ok(cs[i], cid, batch)
                with lock:
                    acked.append((time.monotonic(), batch))
                    statuses.append((i, st))
        except Exception as e:  # reported below
            errors.append(e)

    def pager(i, out):
        try:
            seen, nxt, page = [], None, 0
            while True:
                params = [("limit", 20)] + ([("next", nxt)] if nxt else [])
                began = time.monotonic()
                r = t.expect(cs[(i + page) % 3].get(t.objects_path(cid), params), 200)
                j = r.json()
                seen += [o["id"] for o in j.get("objects", [])]
                page += 1
                if not j.get("more"):
                    break
                nxt = j["next"]
            out.append((seen, began, page))
        except Exception as e:  # reported below
            errors.append(e)

    results = [[] for _ in range(3)]
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)] + \
        [threading.Thread(target=pager, args=(i, results[i])) for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    every = {o["id"] for o in first} | {o["id"] for _, b in acked for o in b}
    for seen, last_page_began, pages in (r[0] for r in results):
        assert pages >= 6, pages
        assert len(seen) == len(set(seen)), "a pager was served an object twice"
        # every object acknowledged before the pager asked for its last page
        want = {o["id"] for o in first} | \
            {o["id"] for at, b in acked if at < last_page_began for o in b}
        missing = want - set(seen)
        assert not missing, "a pager missed %d objects" % len(missing)
        assert set(seen) <= every
    # Afterwards, each server lists every object, once.
    for c in cs:
        final, _ = t.page_all(c, t.objects_path(cid), limit=1000)
        ids = [o["id"] for o in final]
        assert len(ids) == len(set(ids)) and every <= set(ids), (len(ids), len(every))
    # The status of a POST on one server, from the two others.
    for i, st in statuses[::5]:
        for k in (1, 2):
            got = t.expect(cs[(i + k) % 3].get("/api1/status/%s/" % st["id"]), 200).json()
            assert got == st, (got, st)
    # The chain of audit entries the three appended to stayed one chain.
    r = t.tix("audit", "verify", "--db", w.url)
    assert r.returncode == 0, (r.stdout, r.stderr)
    for s in srvs:
        s.stop()


@test
def a_key_removed_is_refused_at_once_by_all_three_servers(w):
    srvs = [w.server("rev%d" % i) for i in range(3)]
    out = t.tix_ok("admin", "key", "add", "--user", "root", "--db", w.url)
    key = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
    cs = [t.Client(s, t.bearer(key)) for s in srvs]
    for _ in range(2):  # each server has the key in its caches
        for c in cs:
            t.expect(c.get(t.objects_path(w.cid), [("limit", 1)]), 200)
    t.tix_ok("admin", "key", "remove", key[4:16], "--db", w.url)
    for c in cs:
        t.expect_error(c.get(t.objects_path(w.cid), [("limit", 1)]), 401)
    for c in srvs:
        t.expect(w.client(c).get(t.objects_path(w.cid), [("limit", 1)]), 200)
    for s in srvs:
        s.stop()


@test
def failed_attempts_are_limited_per_server_process(w):
    """The limit of failed attempts is each process's own (docs/accounts.md):
    every server refuses 127.0.0.1 after its own 10 failures, and a lockout
    on one does not reach the others, whose limits still hold."""
    srvs = [w.server("lim%d" % i) for i in range(3)]
    path = t.objects_path(w.cid)
    for n, s in enumerate(srvs):
        c = t.Client(s, t.basic("root", "a wrong password"))
        got = []
        for _ in range(40):
            got.append(c.get(path).status)
            if got[-1] == 429:
                break
            assert got[-1] == 401, got
        assert got[-1] == 429 and len(got) == 11, got
        t.expect_error(w.client(s).get(path), 429)  # the address, even with a right key
        for other in srvs[n + 1:]:
            t.expect(w.client(other).get(path, [("limit", 1)]), 200)
    for s in srvs:
        s.stop()


def audit_seq(w):
    r = subprocess.run(["psql", "-X", "-At", "-d", w.url, "-c", "SELECT coalesce(max(seq), 0) FROM audit"],
                       capture_output=True, timeout=t.TIMEOUT)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def cache_hits(srv):
    r = t.Client(srv).get("/metrics", accept=None)
    assert r.status == 200, r
    return int(re.search(rb'^tix_taxii_cache_answers_total\{result="hit"\} (\d+)$', r.body,
                         re.M).group(1))


@test
def the_audit_entries_of_reads_leave_the_answer_caches_of_all_servers_valid(w):
    """Every TAXII GET is audited (a commit by the server's audit writer); on
    PostgreSQL that commit must not move the data version that the answer
    caches of all servers on the database compare, or no cache ever hits."""
    # one worker thread each: the answer cache is per thread
    a, b = w.server("cache-a", ["--threads", "1"]), w.server("cache-b", ["--threads", "1"])
    cs = [w.client(a), w.client(b)]
    cid = new_collection(w, "cached")
    path, params = t.objects_path(cid), [("limit", 10)]
    t.post_ok(cs[1], cid, [t.indicator() for _ in range(3)])  # a read of none is not audited

    def get_and_wait_for_its_audit_entry(c):
        before = audit_seq(w)
        r = t.expect(c.get(path, params), 200)
        deadline = time.monotonic() + 30
        while audit_seq(w) == before:
            assert time.monotonic() < deadline, "the read was never audited"
            time.sleep(0.05)
        return r.body

    first = [get_and_wait_for_its_audit_entry(c) for c in cs]  # fills both caches
    assert first[0] == first[1]
    hits = [cache_hits(a), cache_hits(b)]
    for _ in range(2):
        for c in cs:
            assert get_and_wait_for_its_audit_entry(c) == first[0]
    assert [cache_hits(a) - hits[0], cache_hits(b) - hits[1]] == [2, 2], \
        "the audit entries of reads emptied the answer caches"
    # A write still reaches both at once.
    o = t.indicator()
    t.post_ok(cs[0], cid, [o])
    for c in cs:
        got = t.expect(c.get(path, [("limit", 1000)]), 200).json()["objects"]
        assert o["id"] in {x["id"] for x in got}
    a.stop()
    b.stop()


def audience_rows_read(w):
    r = subprocess.run(["psql", "-X", "-At", "-d", w.url, "-c",
                        "SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) FROM"
                        " pg_stat_user_tables WHERE relname = 'collection_audience'"],
                       capture_output=True, timeout=t.TIMEOUT)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


@test
def a_page_for_a_reader_reads_a_chunk_per_audience_key_not_the_collection(w):
    """An analyst's page walks the audience index: one range per key the
    reader has, merged on date_added. PostgreSQL 15 sorts a UNION ALL
    under ORDER BY whole, so each range must be limited to the page itself,
    or every page reads every row of the collection."""
    t.tix_ok("admin", "user", "add", "ana", "--org", "acme", "--role", "analyst",
             "--db", w.url)
    out = t.tix_ok("admin", "key", "add", "--user", "ana", "--db", w.url)
    key = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
    cid = new_collection(w, "big")
    srv = w.server("chunk")
    root, ana = w.client(srv), t.Client(srv, t.bearer(key))
    for _ in range(4):
        t.post_ok(root, cid, [t.indicator() for _ in range(600)])
    t.expect(ana.get(t.objects_path(cid), [("limit", 10)]), 200)  # connects, prepares
    before, deadline = audience_rows_read(w), time.monotonic() + 30
    pages = 0
    # PostgreSQL publishes a backend's counts at most once a second: page on
    # until they have moved
    while audience_rows_read(w) == before:
        assert time.monotonic() < deadline, "PostgreSQL's counts never moved"
        got = t.expect(ana.get(t.objects_path(cid), [("limit", 10)]), 200).json()
        assert len(got["objects"]) == 10 and got["more"], got
        pages += 1
        time.sleep(0.2)
    read = audience_rows_read(w) - before
    assert read <= 200 * pages, "%d audience rows read for %d pages of 10 (2,400 objects)" % (
        read, pages)
    srv.stop()


def main():
    if "TIX_TEST_PG_URL" not in os.environ and "TIX_TEST_PG_SKIP" not in os.environ:
        os.execvp("sh", ["sh", PG_SH, "run", sys.executable] + sys.argv)
    if os.environ.get("TIX_TEST_PG_SKIP"):
        print("SKIPPED: no PostgreSQL: %s" % os.environ["TIX_TEST_PG_SKIP"])
        return SKIP
    if not os.path.exists(TIX):
        print("tix binary not found at %s (set TIX)" % TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    w = World()
    try:
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            try:
                fn(w)
                passed += 1
                print("ok   %s" % fn.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % fn.__name__)
                traceback.print_exc()
                for s in w.servers:
                    if s.proc is not None:
                        print("    server %s: %s" % (s.name, s.stderr()[-1500:]))
                        s.kill()
            sys.stdout.flush()
    finally:
        w.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
