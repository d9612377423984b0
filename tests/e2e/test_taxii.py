#!/usr/bin/env python3
"""End-to-end tests of the TAXII 2.1 server: the real `tix serve` ($TIX,
default build/tix) on free loopback ports, over a temporary store set up the
way an operator would (`tix admin` for organisations, users of every role,
API keys and collections with grants; `tix import` for the data). Every
endpoint and filter, paging 10,000 objects while others write, versions,
deletion, access control and authentication, content negotiation, bad bodies,
pagination tokens, HEAD, keep-alive, HTTPS, idle clients and SIGTERM.

Python's standard library only (plus the `openssl` command for the HTTPS
test). Loopback only; no assertion is about how long something took: the
timeouts below only keep a broken server from hanging the run.

    TIX=build-asan/tix python3 tests/e2e/test_taxii.py [TEST_NAME...]

TIX_TEST_DB, when set, is the shared world's store instead of a new file:
an empty database, e.g. a PostgreSQL URL (issue 18; tests that make a
store of their own keep theirs on SQLite).
"""

import base64
import collections
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIX = os.path.abspath(os.environ.get("TIX", os.path.join(ROOT, "build", "tix")))
SAMPLE = os.path.join(ROOT, "data", "sample.json")

TAXII = "application/taxii+json;version=2.1"
STIX21 = "application/stix+json;version=2.1"
TIMEOUT = 120          # the most one request or command may take (ASan builds are slow)
MAX_BODY = 1 << 20     # --max-body of the servers under test
BIG = 10000            # objects in the collection paged under concurrent writes

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ---- STIX objects -------------------------------------------------------------

def new_id(kind):
    return "%s--%s" % (kind, uuid.uuid4())


def indicator(oid=None, created="2024-01-01T00:00:00.000Z", modified=None, **extra):
    o = {
        "type": "indicator", "spec_version": "2.1", "id": oid or new_id("indicator"),
        "created": created, "modified": modified or created,
        "name": "e2e indicator", "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.%d']" % secrets.randbelow(250),
        "pattern_type": "stix", "valid_from": created,
    }
    o.update(extra)
    return o


def malware(oid=None, created="2024-02-01T00:00:00.000Z", modified=None):
    return {"type": "malware", "spec_version": "2.1", "id": oid or new_id("malware"),
            "created": created, "modified": modified or created,
            "name": "GlassDrop", "is_family": True}


def envelope(objs):
    return {"objects": objs}


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"))


def version_of(o):
    """The TAXII version of a STIX object: modified, else created."""
    return o.get("modified") or o.get("created")


def ts_key(ts):
    """Orders STIX timestamps of any precision."""
    head, _, frac = ts.rstrip("Z").partition(".")
    return head + "." + frac.ljust(9, "0")


# ---- processes ------------------------------------------------------------------

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tix(*args, stdin=None):
    return subprocess.run([TIX] + [str(a) for a in args], input=stdin, capture_output=True,
                          timeout=TIMEOUT)


def tix_ok(*args, stdin=None):
    r = tix(*args, stdin=stdin)
    assert r.returncode == 0, "tix %s: exit %d: %s" % (
        " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace")[-2000:])
    return r.stdout.decode()


SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "ThreadSanitizer")


class Server:
    """One `tix serve` process on a free loopback port."""

    def __init__(self, db, workdir, name, extra=(), tls=None):
        self.db, self.name, self.tls = db, name, tls
        self.extra = list(extra)
        self.errpath = os.path.join(workdir, "%s.stderr" % name)
        self.logpath = os.path.join(workdir, "%s.access.log" % name)
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        args = [TIX, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", self.db,
                "--threads", "2", "--max-body", str(MAX_BODY), "--access-log", self.logpath]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        args += self.extra
        self.err = open(self.errpath, "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err)
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("tix serve (%s) exited with %d: %s" % (
                    self.name, self.proc.returncode, self.stderr()[-2000:]))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.proc.kill()
                    raise AssertionError("tix serve (%s) never listened" % self.name)
                time.sleep(0.05)

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, expect_clean=True):
        """SIGTERM; returns the exit code. With expect_clean, asserts a
        clean exit (0) and no sanitizer report."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tix serve (%s) ignored SIGTERM" % self.name)
        rc = self.proc.returncode
        self.proc = None
        self.err.close()
        if expect_clean:
            err = self.stderr()
            assert rc == 0, "tix serve (%s) exited with %d after SIGTERM: %s" % (
                self.name, rc, err[-3000:])
            bad = [m for m in SANITIZER_MARKS if m in err]
            assert not bad, "sanitizer report from tix serve (%s): %s" % (self.name, err[-3000:])
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


# ---- HTTP ----------------------------------------------------------------------------

def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def bearer(key):
    return "Bearer " + key


class Resp:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.body = body
        self.will_close = r.will_close

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError("not JSON (HTTP %d): %r" % (self.status, self.body[:300]))

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:400].decode(errors="replace"))


def query(params):
    return urllib.parse.urlencode(list(params), safe="[],:", quote_via=urllib.parse.quote)


class Client:
    """Requests as one caller; a new connection each time unless conn is given."""

    def __init__(self, server, authorization=None, context=None):
        self.server, self.authorization, self.context = server, authorization, context

    def connect(self):
        if self.context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=TIMEOUT,
                                               context=self.context)
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)

    def request(self, method, path, params=(), body=None, accept=TAXII, content_type=None,
                headers=None, conn=None):
        h = {}
        if accept is not None:
            h["Accept"] = accept
        if self.authorization is not None:
            h["Authorization"] = self.authorization
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            h["Content-Type"] = TAXII if content_type is None else content_type
            if content_type == "":
                del h["Content-Type"]
        h.update(headers or {})
        q = query(params)
        own = conn is None
        c = self.connect() if own else conn
        try:
            c.request(method, path + ("?" + q if q else ""), body=body, headers=h)
            r = c.getresponse()
            return Resp(r, r.read())
        finally:
            if own:
                c.close()

    def get(self, path, params=(), **kw):
        return self.request("GET", path, params, **kw)

    def head(self, path, params=(), **kw):
        return self.request("HEAD", path, params, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, (), body=body, **kw)

    def delete(self, path, params=(), **kw):
        return self.request("DELETE", path, params, **kw)


def expect(r, status):
    assert r.status == status, "expected %d, got %r" % (status, r)
    ct = (r.header("Content-Type") or "").replace(" ", "")
    assert ct == TAXII, "Content-Type %r on %r" % (ct, r)
    return r


def expect_error(r, status):
    """A TAXII error resource (3.6.1) with a matching http_status."""
    expect(r, status)
    e = r.json()
    assert isinstance(e, dict) and isinstance(e.get("title"), str) and e["title"], e
    if "http_status" in e:
        assert str(e["http_status"]) == str(status), (status, e)
    return e


def objects_path(cid, oid=None, versions=False):
    p = "/api1/collections/%s/objects/" % cid
    if oid:
        p += oid + "/"
        if versions:
            p += "versions/"
    return p


def manifest_path(cid):
    return "/api1/collections/%s/manifest/" % cid


def page_all(client, path, params=(), limit=None, key="objects", max_pages=100000):
    """Follows next tokens; returns (items, responses)."""
    items, pages, nxt = [], [], None
    while len(pages) < max_pages:
        p = list(params)
        if limit:
            p.append(("limit", limit))
        if nxt:
            p.append(("next", nxt))
        r = expect(client.get(path, p), 200)
        j = r.json()
        got = j.get(key, [])
        if limit:
            assert len(got) <= limit, (len(got), limit)
        items += got
        pages.append(r)
        if not j.get("more"):
            break
        assert j.get("next"), "more is true but no next token: %r" % j
        nxt = j["next"]
    return items, pages


def post_ok(client, cid, objs):
    r = expect(client.post(objects_path(cid), envelope(objs)), 202)
    st = r.json()
    assert st["status"] == "complete" and st["success_count"] == len(objs) \
        and st["failure_count"] == 0, st
    return st


# ---- the shared world: one store, one server -------------------------------------------

class World:
    """Organisations, users of every role with passwords and keys,
    collections with grants, the sample data and BIG indicators, and one
    server over them.

        collection  read          write
        shared      acme, beta    acme        (data/sample.json)
        work        acme          acme        (tests post and delete here)
        dropbox     acme          acme, beta  (write-only for beta)
        private     beta          beta        (acme's non-admins see nothing)
        big         acme          acme        (BIG indicators)
    """

    USERS = [("root", "acme", "admin"), ("ana", "acme", "analyst"), ("rita", "acme", "reader"),
             ("sam", "acme", "sensor"), ("bob", "beta", "analyst"), ("otto", "outsider", "analyst")]
    GRANTS = {"shared": ("acme,beta", "acme"), "work": ("acme", "acme"),
              "dropbox": ("acme", "acme,beta"), "private": ("beta", "beta"),
              "big": ("acme", "acme")}

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-e2e-")
        self.db = os.environ.get("TIX_TEST_DB") or os.path.join(self.dir, "tix.db")
        self.servers = []
        for org, cc in (("acme", "GB"), ("beta", "FR"), ("outsider", "NZ")):
            tix_ok("admin", "org", "add", org, "--country", cc, "--db", self.db)
        self.passwords, self.keys = {}, {}
        for name, org, role in self.USERS:
            self.passwords[name] = secrets.token_urlsafe(12)
            tix_ok("admin", "user", "add", name, "--org", org, "--role", role, "--password-stdin",
                   "--db", self.db, stdin=(self.passwords[name] + "\n").encode())
            self.keys[name] = self.add_key(name)
        self.coll = {}
        for title, (read, write) in self.GRANTS.items():
            out = tix_ok("admin", "collection", "add", title, "--read", read, "--write", write,
                         "--db", self.db)
            m = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out)
            assert m, "no collection id in the output of collection add: %r" % out
            self.coll[title] = m.group(0)
        with open(SAMPLE) as f:
            self.sample = json.load(f)["objects"]
        tix_ok("import", "--quiet", "--db", self.db, "--collection", self.coll["shared"], SAMPLE)
        self.big_ids = []
        objs = []
        for i in range(BIG):
            o = indicator(created="2024-03-01T00:00:00.000Z")
            self.big_ids.append(o["id"])
            objs.append(o)
        path = os.path.join(self.dir, "big.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
        tix_ok("import", "--quiet", "--db", self.db, "--collection", self.coll["big"], path)
        self.server = self.new_server("main").start()

    def add_key(self, user):
        out = tix_ok("admin", "key", "add", "--user", user, "--db", self.db)
        keys = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)
        assert len(keys) == 1, "expected the key alone on one line: %r" % out
        return keys[0]

    def new_server(self, name, extra=(), tls=None):
        s = Server(self.db, self.dir, name, extra, tls)
        self.servers.append(s)
        return s

    def client(self, user, password=False, server=None, context=None):
        auth = basic(user, self.passwords[user]) if password else bearer(self.keys[user])
        return Client(server or self.server, auth, context)

    def stats(self):
        s = json.loads(tix_ok("stats", "--json", "--db", self.db))
        s.pop("store", None)
        return s

    def close(self):
        for s in self.servers:
            s.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def small_store(workdir, db=None):
    """A store of its own (a new file in workdir, or db: an empty database):
    one organisation, one analyst with a key, one collection it may read and
    write. Returns (db, key, collection id)."""
    db = db or os.path.join(workdir, "small.db")
    tix_ok("admin", "org", "add", "solo", "--db", db)
    tix_ok("admin", "user", "add", "writer", "--org", "solo", "--role", "analyst",
           "--password-stdin", "--db", db, stdin=b"correct horse battery staple\n")
    out = tix_ok("admin", "key", "add", "--user", "writer", "--db", db)
    key = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
    out = tix_ok("admin", "collection", "add", "inbox", "--read", "solo", "--write", "solo",
                 "--db", db)
    cid = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out).group(0)
    return db, key, cid


# ---- server information (section 4) -------------------------------------------------------

@test
def discovery_and_api_root(w):
    c = w.client("ana")
    d = expect(c.get("/taxii2/"), 200).json()
    assert isinstance(d.get("title"), str) and d["title"], d
    roots = d.get("api_roots") or []
    assert len(roots) == 1, d
    if "default" in d:
        assert d["default"] in roots, d
    # API root URLs are absolute https URLs or relative (section 4.1.1)
    assert all(r.startswith("https://") or (r.startswith("/") and not r.startswith("//"))
               for r in roots), roots
    base = "http://127.0.0.1:%d/taxii2/" % w.server.port
    url = urllib.parse.urlsplit(urllib.parse.urljoin(base, roots[0]))
    assert url.path == "/api1/" and not url.query, roots
    assert url.port in (None, w.server.port), roots
    a = expect(c.get(url.path), 200).json()
    assert isinstance(a.get("title"), str) and a["title"], a
    assert TAXII in a["versions"], a
    assert a["max_content_length"] == MAX_BODY, a
    expect_error(c.get("/api2/"), 404)
    expect_error(c.get("/api1/nothing-here/"), 404)
    expect_error(c.get("/api1/status/%s/" % uuid.uuid4()), 404)


@test
def every_role_authenticates_by_password_and_by_key(w):
    for name, _, _ in World.USERS:
        for password in (True, False):
            r = w.client(name, password=password).get("/api1/collections/")
            expect(r, 200)


# ---- collections (5.1, 5.2) -------------------------------------------------------------

def expected_access(w, user):
    """{title: (can_read, can_write)} from the grants and the role."""
    org, role = {n: (o, r) for n, o, r in World.USERS}[user]
    out = {}
    for title, (read, write) in World.GRANTS.items():
        r, wr = org in read.split(","), org in write.split(",")
        if role == "admin":
            r = wr = True
        if role == "reader":
            wr = False
        if r or wr:
            out[title] = (r, wr)
    return out


@test
def collections_show_what_each_user_may_do(w):
    titles = {v: k for k, v in w.coll.items()}
    for user, _, _ in World.USERS:
        c = w.client(user)
        r = expect(c.get("/api1/collections/"), 200)
        body = r.json()
        want = expected_access(w, user)
        if not want:
            assert "collections" not in body, (user, body)
            continue
        got = {}
        for col in body["collections"]:
            assert col["id"] in titles, (user, col)
            assert col["title"] == titles[col["id"]], col
            assert STIX21 in col.get("media_types", [STIX21]), col
            got[col["title"]] = (col["can_read"], col["can_write"])
        assert got == want, (user, got, want)
        # 3.3: a consistent order across requests
        again = expect(c.get("/api1/collections/"), 200).json()
        assert [x["id"] for x in again["collections"]] == [x["id"] for x in body["collections"]]
        # 5.2: each one alone, or 404 when the user may not use it
        for title, cid in w.coll.items():
            r = c.get("/api1/collections/%s/" % cid)
            if title in want:
                one = expect(r, 200).json()
                assert one["id"] == cid and one["title"] == title, one
                assert (one["can_read"], one["can_write"]) == want[title], (user, title, one)
            else:
                expect_error(r, 404)
    expect_error(w.client("root").get("/api1/collections/%s/" % uuid.uuid4()), 404)


@test
def access_to_objects_follows_grants_and_roles(w):
    work, shared, drop, priv = (w.coll[t] for t in ("work", "shared", "dropbox", "private"))
    ana, rita, sam, bob, otto, root = (w.client(u) for u in
                                      ("ana", "rita", "sam", "bob", "otto", "root"))

    # Neither read nor write: the collection is not revealed to exist.
    for c, cid in ((otto, shared), (otto, work), (ana, priv), (rita, priv), (bob, work)):
        for r in (c.get(objects_path(cid)), c.get(manifest_path(cid)),
                  c.get(objects_path(cid, w.sample[0]["id"])),
                  c.get(objects_path(cid, w.sample[0]["id"], versions=True)),
                  c.post(objects_path(cid), envelope([indicator()])),
                  c.delete(objects_path(cid, w.sample[0]["id"]))):
            expect_error(r, 404)

    # Read but not write: GET works, POST and DELETE are forbidden.
    probe = indicator()
    for c, cid in ((bob, shared), (rita, shared), (rita, work)):
        expect(c.get(objects_path(cid), [("limit", 1)]), 200)
        expect(c.get(manifest_path(cid), [("limit", 1)]), 200)
        expect_error(c.post(objects_path(cid), envelope([probe])), 403)
        expect_error(c.delete(objects_path(cid, w.sample[0]["id"])), 403)
    expect(sam.get(objects_path(shared), [("limit", 1)]), 200)
    for cid in (shared, work):
        expect_error(ana.get(objects_path(cid, probe["id"])), 404)  # nothing was stored

    # Write but not read: POST works, GET and DELETE are forbidden.
    dropped = indicator()
    post_ok(bob, drop, [dropped])
    for r in (bob.get(objects_path(drop)), bob.get(manifest_path(drop)),
              bob.get(objects_path(drop, dropped["id"])),
              bob.get(objects_path(drop, dropped["id"], versions=True)),
              bob.delete(objects_path(drop, dropped["id"]))):
        expect_error(r, 403)
    got = expect(ana.get(objects_path(drop, dropped["id"])), 200).json()["objects"]
    assert [canon(o) for o in got] == [canon(dropped)]

    # An administrator reads and writes everything, granted or not.
    mine = indicator()
    post_ok(root, priv, [mine])
    got = expect(bob.get(objects_path(priv, mine["id"])), 200).json()["objects"]
    assert [canon(o) for o in got] == [canon(mine)]
    expect(root.get(objects_path(priv, mine["id"])), 200)
    expect(root.delete(objects_path(priv, mine["id"])), 200)
    expect_error(bob.get(objects_path(priv, mine["id"])), 404)


# ---- objects and filters (3.4, 5.3, 5.4) ------------------------------------------------

# The sample is imported without an owning organisation: its TLP:AMBER+STRICT
# and TLP:RED versions are readable by no organisation over TAXII (docs/policy.md).
OWNER_ONLY = ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
              "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")


def community_visible(o):
    return not any(m in OWNER_ONLY for m in o.get("object_marking_refs", []))


def sample_versions(w):
    """{id: [versions sorted by version]} of data/sample.json."""
    by_id = collections.defaultdict(list)
    for o in w.sample:
        by_id[o["id"]].append(o)
    for v in by_id.values():
        v.sort(key=lambda o: ts_key(version_of(o) or "0"))
    return by_id


@test
def objects_and_manifest_return_the_latest_versions_in_date_added_order(w):
    c, cid = w.client("bob", password=True), w.coll["shared"]
    by_id = sample_versions(w)
    objs, _ = page_all(c, objects_path(cid), limit=100)
    visible = [v[-1] for v in by_id.values() if community_visible(v[-1])]
    assert sorted(canon(o) for o in objs) == sorted(canon(o) for o in visible)
    man, pages = page_all(c, manifest_path(cid), limit=1000)
    assert len(pages) == 1 and len(man) == len(visible), (len(pages), len(man))
    assert [m["id"] for m in man] == [o["id"] for o in objs], "objects and manifest disagree"
    added = [ts_key(m["date_added"]) for m in man]
    assert added == sorted(added) and len(set(added)) == len(added), "not in date_added order"
    for m in man:
        latest = by_id[m["id"]][-1]
        assert m["media_type"] == STIX21, m
        if version_of(latest):   # the server picks versions of SCOs itself
            assert m["version"] == version_of(latest), (m, version_of(latest))
    h = pages[0]
    assert h.header("X-TAXII-Date-Added-First") == man[0]["date_added"]
    assert h.header("X-TAXII-Date-Added-Last") == man[-1]["date_added"]


@test
def default_page_is_100_and_the_most_is_1000(w):
    c, cid = w.client("ana"), w.coll["big"]
    j = expect(c.get(objects_path(cid)), 200).json()
    assert len(j["objects"]) == 100 and j["more"] is True and j.get("next"), len(j["objects"])
    j = expect(c.get(objects_path(cid), [("limit", 1000)]), 200).json()
    assert len(j["objects"]) == 1000 and j["more"] is True
    j = expect(c.get(objects_path(cid), [("limit", 5000)]), 200).json()
    assert len(j["objects"]) == 1000 and j["more"] is True, len(j["objects"])
    j = expect(c.get(manifest_path(cid), [("limit", 7)]), 200).json()
    assert len(j["objects"]) == 7 and j["more"] is True


@test
def match_type_id_version_and_spec_version(w):
    c, cid = w.client("ana"), w.coll["shared"]
    by_id = sample_versions(w)
    latest = [v[-1] for v in by_id.values()]
    everything = [o for v in by_id.values() for o in v]

    def fetch(params, limit=1000):
        return page_all(c, objects_path(cid), params, limit=limit)[0]

    def same(got, want):
        want = [o for o in want if community_visible(o)]
        assert sorted(canon(o) for o in got) == sorted(canon(o) for o in want), \
            (len(got), len(want))

    same(fetch([("match[type]", "indicator")]), [o for o in latest if o["type"] == "indicator"])
    same(fetch([("match[type]", "indicator,malware")]),
         [o for o in latest if o["type"] in ("indicator", "malware")])
    same(fetch([("match[type]", "x-no-such-type")]), [])
    same(fetch([("match[type]", "campaign")]), [o for o in latest if o["type"] == "campaign"])

    multi = sorted((v for v in by_id.values() if len(v) >= 2), key=len)[-1]
    single = next(v for v in by_id.values() if len(v) == 1)
    ids = "%s,%s" % (multi[0]["id"], single[0]["id"])
    same(fetch([("match[id]", ids)]), [multi[-1], single[0]])
    same(fetch([("match[id]", ids), ("match[version]", "all")]), multi + single)
    same(fetch([("match[id]", multi[0]["id"]), ("match[version]", "first")]), [multi[0]])
    same(fetch([("match[id]", multi[0]["id"]), ("match[version]", "last")]), [multi[-1]])
    same(fetch([("match[id]", multi[0]["id"]), ("match[version]", version_of(multi[0]))]),
         [multi[0]])

    same(fetch([("match[version]", "all")], limit=100), everything)
    same(fetch([("match[version]", "first")]), [v[0] for v in by_id.values()])
    first_last = [v[0] for v in by_id.values()] + [v[-1] for v in by_id.values() if len(v) > 1]
    same(fetch([("match[version]", "first,last")]), first_last)
    same(fetch([("match[type]", "indicator"), ("match[version]", "all")]),
         [o for o in everything if o["type"] == "indicator"])

    same(fetch([("match[spec_version]", "2.1")]), latest)
    same(fetch([("match[spec_version]", "2.0")]), [])
    same(fetch([("match[spec_version]", "2.0,2.1")]), latest)

    # The manifest filters the same way.
    man = page_all(c, manifest_path(cid), [("match[type]", "indicator,malware"),
                                           ("match[version]", "all")], limit=1000)[0]
    assert sorted((m["id"], m["version"]) for m in man) == sorted(
        (o["id"], version_of(o)) for o in everything
        if o["type"] in ("indicator", "malware") and community_visible(o))


@test
def spec_version_filter_tells_stix_20_from_21(w):
    """An SCO without spec_version is STIX 2.1 (its default, STIX 2.1 section
    3.2); an SDO without it is STIX 2.0. match[spec_version] MUST NOT return
    other specification versions (TAXII 3.4.1)."""
    c, cid = w.client("ana"), w.coll["work"]
    sco = {"type": "ipv4-addr", "id": "ipv4-addr--%s" % uuid.uuid4(), "value": "203.0.113.77"}
    old = {"type": "indicator", "id": new_id("indicator"), "created": "2016-04-06T20:03:48.000Z",
           "modified": "2016-04-06T20:03:48.000Z", "labels": ["malicious-activity"],
           "pattern": "[ipv4-addr:value = '198.51.100.1']", "valid_from": "2016-01-01T00:00:00Z"}
    new = indicator()
    post_ok(c, cid, [sco, old, new])
    ids = ",".join(o["id"] for o in (sco, old, new))

    def got(sv):
        p = [("match[id]", ids)] + ([("match[spec_version]", sv)] if sv else [])
        return sorted(o["id"] for o in expect(c.get(objects_path(cid), p), 200).json()
                      .get("objects", []))

    assert got(None) == sorted([sco["id"], old["id"], new["id"]])
    assert sco["id"] not in got("2.0"), \
        "match[spec_version]=2.0 returned a STIX 2.1 SCO (one without spec_version)"
    assert sco["id"] in got("2.1"), \
        "match[spec_version]=2.1 left out a STIX 2.1 SCO (one without spec_version)"
    assert got("2.0") == [old["id"]], got("2.0")
    assert got("2.1") == sorted([sco["id"], new["id"]]), got("2.1")


@test
def added_after_and_the_date_headers(w):
    c, cid = w.client("ana"), w.coll["shared"]
    man = page_all(c, manifest_path(cid), limit=1000)[0]
    cut = man[199]["date_added"]
    after = page_all(c, manifest_path(cid), [("added_after", cut)], limit=1000)[0]
    assert [m["id"] for m in after] == [m["id"] for m in man[200:]]
    objs = page_all(c, objects_path(cid), [("added_after", cut)], limit=1000)[0]
    assert [o["id"] for o in objs] == [m["id"] for m in man[200:]]

    # 3.5: paging by added_after = X-TAXII-Date-Added-Last sees everything once.
    seen, since = [], None
    for _ in range(100):
        p = [("limit", 100)] + ([("added_after", since)] if since else [])
        r = expect(c.get(objects_path(cid), p), 200)
        page = r.json().get("objects", [])
        if not page:
            break
        assert r.header("X-TAXII-Date-Added-First") and r.header("X-TAXII-Date-Added-Last")
        if since:
            assert ts_key(r.header("X-TAXII-Date-Added-First")) > ts_key(since)
        seen += [o["id"] for o in page]
        since = r.header("X-TAXII-Date-Added-Last")
        if not r.json().get("more"):
            break
    assert seen == [m["id"] for m in man], (len(seen), len(man))

    # Each endpoint that returns objects says the date_added of the first and
    # last, and they agree with the manifest.
    params = [("match[type]", "indicator"), ("limit", 25)]
    rm = expect(c.get(manifest_path(cid), params), 200)
    ro = expect(c.get(objects_path(cid), params), 200)
    recs = rm.json()["objects"]
    for r in (rm, ro):
        assert r.header("X-TAXII-Date-Added-First") == recs[0]["date_added"], r.headers
        assert r.header("X-TAXII-Date-Added-Last") == recs[-1]["date_added"], r.headers
    by_id = sample_versions(w)
    one = next(m for m in recs if len(by_id[m["id"]]) == 1)
    for path in (objects_path(cid, one["id"]), objects_path(cid, one["id"], versions=True)):
        r = expect(c.get(path), 200)
        assert r.header("X-TAXII-Date-Added-First") == one["date_added"], (path, r.headers)
        assert r.header("X-TAXII-Date-Added-Last") == one["date_added"], (path, r.headers)

    # Nothing matched: 200 with an empty envelope.
    r = expect(c.get(objects_path(cid), [("added_after", man[-1]["date_added"])]), 200)
    assert "objects" not in r.json() and not r.json().get("more"), r
    r = expect(c.get(manifest_path(cid), [("match[type]", "x-none")]), 200)
    assert "objects" not in r.json(), r


@test
def malformed_filters_are_400(w):
    c, cid = w.client("ana"), w.coll["shared"]
    oid = w.sample[10]["id"]
    for params in ([("limit", "0")], [("limit", "-5")], [("limit", "ten")], [("limit", "")],
                   [("added_after", "yesterday")], [("added_after", "2024-13-45T00:00:00Z")],
                   [("added_after", "2024-01-01T00:00:00Z"), ("added_after", "2024-01-02T00:00:00Z")],
                   [("match[version]", "all,first")], [("match[version]", "newest")],
                   [("match[version]", "2024-02-30T00:00:00.000Z")],
                   [("next", "not-a-token")]):
        for path in (objects_path(cid), manifest_path(cid)):
            expect_error(c.get(path, params), 400)
    expect_error(c.get(objects_path(cid, oid), [("match[version]", "sometime")]), 400)
    expect_error(c.get(objects_path(cid, oid, versions=True), [("limit", "0")]), 400)


# ---- adding, versions, deleting, status (4.3, 5.5-5.8) ------------------------------------

@test
def versions_object_and_manifest_agree_with_what_was_posted(w):
    ana, cid = w.client("ana"), w.coll["work"]
    oid = new_id("indicator")
    v1 = indicator(oid, modified="2024-05-01T00:00:00.000Z")
    v2 = indicator(oid, modified="2024-05-02T00:00:00.000Z")
    v3 = indicator(oid, modified="2024-05-03T00:00:00.123Z")
    posted = [v2, v1, v3]  # added in this order: first added is not first version
    for v in posted:
        st = post_ok(ana, cid, [v])
        assert st["successes"][0]["id"] == oid and st["successes"][0]["version"] == v["modified"]

    def get(params=()):
        r = expect(ana.get(objects_path(cid, oid), params), 200)
        return [canon(o) for o in r.json()["objects"]]

    assert get() == [canon(v3)]
    assert get([("match[version]", "last")]) == [canon(v3)]
    assert get([("match[version]", "first")]) == [canon(v1)]
    assert get([("match[version]", "all")]) == [canon(v) for v in posted]  # date_added order
    assert get([("match[version]", v2["modified"])]) == [canon(v2)]
    assert sorted(get([("match[version]", "%s,%s" % (v1["modified"], v3["modified"]))])) == \
        sorted([canon(v1), canon(v3)])
    assert sorted(get([("match[version]", "first,last")])) == sorted([canon(v1), canon(v3)])
    # A version that is not there is not found, as one deleted would be (5.7).
    expect_error(ana.get(objects_path(cid, oid), [("match[version]", "2024-05-09T00:00:00.000Z")]),
                 404)

    vers = expect(ana.get(objects_path(cid, oid, versions=True)), 200).json()
    assert sorted(vers["versions"]) == sorted(v["modified"] for v in posted), vers
    assert not vers.get("more")
    vpage = expect(ana.get(objects_path(cid, oid, versions=True), [("limit", 2)]), 200).json()
    assert len(vpage["versions"]) == 2 and vpage["more"] is True and vpage.get("next"), vpage

    man = expect(ana.get(manifest_path(cid), [("match[id]", oid)]), 200).json()["objects"]
    assert [(m["id"], m["version"]) for m in man] == [(oid, v3["modified"])], man
    man = expect(ana.get(manifest_path(cid), [("match[id]", oid), ("match[version]", "all")]),
                 200).json()["objects"]
    assert [m["version"] for m in man] == [v["modified"] for v in posted], man
    assert [ts_key(m["date_added"]) for m in man] == sorted(ts_key(m["date_added"]) for m in man)
    r = expect(ana.get(objects_path(cid, oid, versions=True)), 200)
    assert r.header("X-TAXII-Date-Added-First") == man[0]["date_added"], r.headers
    assert r.header("X-TAXII-Date-Added-Last") == man[-1]["date_added"], r.headers
    r = expect(ana.get(objects_path(cid, oid), [("match[version]", "all")]), 200)
    assert r.header("X-TAXII-Date-Added-First") == man[0]["date_added"], r.headers
    assert r.header("X-TAXII-Date-Added-Last") == man[-1]["date_added"], r.headers

    # An exact duplicate is not an error (5.5) and adds no version.
    post_ok(ana, cid, [v2])
    vers = expect(ana.get(objects_path(cid, oid, versions=True)), 200).json()["versions"]
    assert len(vers) == 3, vers

    # An object with created but no modified: its version is created.
    md = {"type": "marking-definition", "spec_version": "2.1", "id": new_id("marking-definition"),
          "created": "2024-06-01T00:00:00.000Z", "definition_type": "statement",
          "definition": {"statement": "Copyright e2e"}}
    post_ok(ana, cid, [md])
    man = expect(ana.get(manifest_path(cid), [("match[id]", md["id"])]), 200).json()["objects"]
    assert [m["version"] for m in man] == [md["created"]], man
    assert get_ids(ana, cid, [("match[id]", md["id"]), ("match[version]", md["created"])]) == \
        [md["id"]]


def get_ids(c, cid, params):
    return [o["id"] for o in expect(c.get(objects_path(cid), params), 200).json().get("objects", [])]


@test
def delete_removes_from_get_versions_and_manifest(w):
    ana, cid = w.client("ana"), w.coll["work"]
    oid = new_id("malware")
    vs = [malware(oid, modified="2024-07-0%dT00:00:00.000Z" % d) for d in (1, 2, 3)]
    post_ok(ana, cid, vs)
    other = malware()
    post_ok(ana, cid, [other])

    # One version only.
    expect(ana.delete(objects_path(cid, oid), [("match[version]", "first")]), 200)
    vers = expect(ana.get(objects_path(cid, oid, versions=True)), 200).json()["versions"]
    assert sorted(vers) == sorted(v["modified"] for v in vs[1:]), vers
    got = expect(ana.get(objects_path(cid, oid), [("match[version]", "first")]), 200).json()
    assert [canon(o) for o in got["objects"]] == [canon(vs[1])]
    expect_error(ana.get(objects_path(cid, oid), [("match[version]", vs[0]["modified"])]), 404)

    # Then the whole object.
    expect(ana.delete(objects_path(cid, oid)), 200)
    expect_error(ana.get(objects_path(cid, oid)), 404)
    expect_error(ana.get(objects_path(cid, oid, versions=True)), 404)
    for params in ([("match[id]", oid)], [("match[id]", oid), ("match[version]", "all")]):
        assert "objects" not in expect(ana.get(manifest_path(cid), params), 200).json()
        assert "objects" not in expect(ana.get(objects_path(cid), params), 200).json()
    man = page_all(ana, manifest_path(cid), limit=1000)[0]
    assert oid not in {m["id"] for m in man}
    assert other["id"] in {m["id"] for m in man}, "deleting one object removed another"
    expect_error(ana.delete(objects_path(cid, oid)), 404)
    expect_error(ana.delete(objects_path(cid, new_id("malware"))), 404)
    # Administrators of the owning organisation may delete; other
    # collections keep their copy.
    shared_one = malware()
    post_ok(ana, w.coll["shared"], [shared_one])
    post_ok(ana, cid, [shared_one])
    expect(w.client("root").delete(objects_path(cid, shared_one["id"])), 200)
    expect_error(ana.get(objects_path(cid, shared_one["id"])), 404)
    expect(ana.get(objects_path(w.coll["shared"], shared_one["id"])), 200)


@test
def listings_follow_a_new_latest_version_and_its_deletion(w):
    # The listing without match[id] walks the audience index, which keeps
    # its own copy of "a later version is in the collection" (migration 17).
    ana, cid = w.client("ana"), w.coll["work"]
    oid = new_id("malware")
    v1, v2 = [malware(oid, modified="2024-08-0%dT00:00:00.000Z" % d) for d in (1, 2)]

    def listed(path):
        objs, _ = page_all(ana, path(cid), limit=1000)
        return [o.get("version") or version_of(o) for o in objs if o["id"] == oid]

    post_ok(ana, cid, [v1])
    assert listed(objects_path) == [v1["modified"]]
    post_ok(ana, cid, [v2])
    assert listed(objects_path) == [v2["modified"]], "the superseded version is still listed"
    assert listed(manifest_path) == [v2["modified"]]
    expect(ana.delete(objects_path(cid, oid), [("match[version]", "last")]), 200)
    assert listed(objects_path) == [v1["modified"]], "the earlier version did not come back"
    assert listed(manifest_path) == [v1["modified"]]


@test
def post_returns_a_status_that_its_author_can_fetch_again(w):
    ana, cid = w.client("ana"), w.coll["work"]
    objs = [indicator(), malware(), indicator()]
    r = expect(ana.post(objects_path(cid), envelope(objs)), 202)
    st = r.json()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", st["id"]), st
    assert st["status"] == "complete", st
    assert (st["total_count"], st["success_count"], st["failure_count"], st["pending_count"]) == \
        (3, 3, 0, 0), st
    assert sorted((s["id"], s["version"]) for s in st["successes"]) == \
        sorted((o["id"], o["modified"]) for o in objs), st
    assert not st.get("failures") and not st.get("pendings"), st
    path = "/api1/status/%s/" % st["id"]
    assert expect(ana.get(path), 200).json() == st
    assert expect(w.client("ana", password=True).get(path), 200).json() == st
    assert expect(w.client("root").get(path), 200).json() == st
    for other in ("bob", "rita", "otto"):
        expect_error(w.client(other).get(path), 404)
    for o in objs:
        expect(ana.get(objects_path(cid, o["id"])), 200)


@test
def invalid_objects_fail_one_by_one_and_valid_ones_are_stored(w):
    ana, cid = w.client("ana"), w.coll["work"]
    good = [indicator(), malware()]
    no_pattern = indicator()
    del no_pattern["pattern"]
    bad_id = malware()
    bad_id["id"] = "malware--not-a-uuid"
    bad_time = indicator(modified="2023-01-01T00:00:00.000Z")  # modified before created
    bad_pattern = indicator()
    bad_pattern["pattern"] = "[ipv4-addr:value = '198.51.100.7'"
    objs = [good[0], no_pattern, bad_id, good[1], bad_time, 42, bad_pattern]
    st = expect(ana.post(objects_path(cid), envelope(objs)), 202).json()
    assert st["status"] == "complete"
    assert (st["total_count"], st["success_count"], st["failure_count"]) == (7, 2, 5), st
    assert sorted(s["id"] for s in st["successes"]) == sorted(o["id"] for o in good), st
    failed = {f.get("id"): f for f in st["failures"]}
    for o in (no_pattern, bad_id, bad_time):
        assert o["id"] in failed, (o["id"], st["failures"])
        assert isinstance(failed[o["id"]].get("message"), str) and failed[o["id"]]["message"]
    assert all(isinstance(f.get("message"), str) and f["message"] for f in st["failures"]), st
    assert "pattern" in failed[no_pattern["id"]]["message"], failed[no_pattern["id"]]
    # an invalid STIX pattern is refused with the column the parser stopped at
    assert "pattern" in failed[bad_pattern["id"]]["message"], failed[bad_pattern["id"]]
    assert "column" in failed[bad_pattern["id"]]["message"], failed[bad_pattern["id"]]
    for o in good:
        expect(ana.get(objects_path(cid, o["id"])), 200)
    for o in (no_pattern, bad_time, bad_pattern):
        expect_error(ana.get(objects_path(cid, o["id"])), 404)
    assert expect(ana.get("/api1/status/%s/" % st["id"]), 200).json() == st


@test
def bad_bodies_leave_the_store_unchanged(w):
    ana, cid = w.client("ana"), w.coll["work"]
    before = w.stats()
    probe = indicator()
    good = json.dumps(envelope([probe])).encode()
    for body in (b"{\"objects\": [", b"not json", b"", b"{\"objects\": [1,]}", b"\xff\xfe{}"):
        expect_error(ana.post(objects_path(cid), body), 400)
    for body in (b"[]", b"\"objects\"", b"{\"objects\": 5}", b"{\"objects\": {}}",
                 json.dumps([probe]).encode()):
        expect_error(ana.post(objects_path(cid), body), 422)
    for ctype in ("application/json", "text/plain", "application/stix+json;version=2.1",
                  "application/taxii+json;version=2.0", ""):
        expect_error(ana.post(objects_path(cid), good, content_type=ctype), 415)
    assert w.stats() == before
    expect_error(ana.get(objects_path(cid, probe["id"])), 404)

    # Over max_content_length: refused as soon as the length is declared...
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nAccept: %s\r\n"
            "Content-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
                objects_path(cid), bearer(w.keys["ana"]), TAXII, TAXII, MAX_BODY + 1))
    status, _ = raw_exchange(w.server.port, head.encode())
    assert status == 413, status
    big = envelope([indicator(description="x" * (MAX_BODY + 10))])
    assert w.stats() == before

    # Just under the limit is accepted (4.2.1).
    fits = indicator()
    fits["description"] = ""
    n = MAX_BODY - len(json.dumps(envelope([fits])).encode()) - 16
    fits["description"] = "y" * n
    body = json.dumps(envelope([fits])).encode()
    assert MAX_BODY - 64 < len(body) < MAX_BODY
    post_ok(ana, cid, [fits])
    expect(ana.get(objects_path(cid, fits["id"])), 200)


@test
def a_chunked_body_over_the_limit_is_413(w):
    """Without a declared length the server only learns the body is too
    large while reading it; the client must still be told 413."""
    ana, cid = w.client("ana"), w.coll["work"]
    before = w.stats()
    big = envelope([indicator(description="x" * (MAX_BODY + 10))])
    r = raw_post_tolerant(w.server.port, objects_path(cid), bearer(w.keys["ana"]),
                          json.dumps(big).encode())
    assert w.stats() == before
    expect_error(ana.get(objects_path(cid, big["objects"][0]["id"])), 404)
    assert r == 413, "a chunked body over the limit got %s, not 413" % (
        "no answer (the connection was closed)" if r is None else r)


def raw_exchange(port, data, read_timeout=TIMEOUT):
    """Sends data on a fresh socket and reads until the server closes or a
    whole response is in. Returns (status or None, raw bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    buf = b""
    try:
        s.sendall(data)
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return (int(m.group(1)) if m else None), buf


def raw_post_tolerant(port, path, authorization, body):
    """POSTs a body larger than the server takes. The server may answer
    before it has read everything and close; returns the status it sent, or
    None when the connection was reset before any answer could be read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nAccept: %s\r\n"
            "Content-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (
                path, authorization, TAXII, TAXII)).encode()
    buf = b""
    try:
        s.sendall(head)
        for i in range(0, len(body), 65536):
            chunk = body[i:i + 65536]
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if b"\r\n\r\n" in buf:
                break
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return int(m.group(1)) if m else None


@test
def answers_follow_changes_made_while_the_server_runs(w):
    """Whatever the server keeps between requests, a POST, a DELETE or a
    change made with `tix admin` shows in the very next answer (each GET is
    repeated on new connections, so that every worker thread answers)."""
    ana, cid = w.client("ana"), w.coll["work"]
    o = indicator()
    by_id = [("match[id]", o["id"])]
    for _ in range(4):
        assert "objects" not in expect(ana.get(objects_path(cid), by_id), 200).json()
        assert "objects" not in expect(ana.get(manifest_path(cid), by_id), 200).json()
    post_ok(ana, cid, [o])
    for _ in range(4):
        assert get_ids(ana, cid, by_id) == [o["id"]]
        assert [m["id"] for m in expect(ana.get(manifest_path(cid), by_id), 200).json()
                .get("objects", [])] == [o["id"]]
        expect(ana.get(objects_path(cid, o["id"])), 200)
    expect(ana.delete(objects_path(cid, o["id"])), 200)
    for _ in range(4):
        expect_error(ana.get(objects_path(cid, o["id"])), 404)
        assert get_ids(ana, cid, by_id) == []
    out = tix_ok("admin", "collection", "add", "late", "--read", "acme", "--write", "acme",
                 "--db", w.db)
    late = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out).group(0)
    for _ in range(4):
        ids = [c["id"] for c in expect(ana.get("/api1/collections/"), 200).json()["collections"]]
        assert late in ids, ids
        expect(ana.get("/api1/collections/%s/" % late), 200)
    tix_ok("admin", "collection", "remove", late, "--db", w.db)
    for _ in range(4):
        ids = [c["id"] for c in expect(ana.get("/api1/collections/"), 200).json()["collections"]]
        assert late not in ids, ids
        expect_error(ana.get("/api1/collections/%s/" % late), 404)
        expect_error(ana.get(objects_path(late)), 404)


@test
def the_same_objects_posted_at_once_by_many_are_stored_once(w):
    """Duplicates are not errors (5.5), even when they race."""
    cid = w.coll["work"]
    objs = [indicator() for _ in range(20)]
    results, errors = [], []

    def post(c):
        try:
            for _ in range(5):
                results.append(post_ok(c, cid, objs)["success_count"])
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=post, args=(w.client(u),))
               for u in ("ana", "root", "ana", "root")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors, errors
    assert results == [20] * 20, results
    ids = ",".join(o["id"] for o in objs)
    man = expect(w.client("ana").get(manifest_path(cid), [("match[id]", ids),
                                                          ("match[version]", "all")]), 200)
    assert sorted(m["id"] for m in man.json()["objects"]) == sorted(o["id"] for o in objs)


# ---- content negotiation (1.6.8, 3.1) ------------------------------------------------------

@test
def accept_header_negotiation(w):
    c, cid = w.client("ana"), w.coll["shared"]
    for accept in (TAXII, "application/taxii+json", "application/taxii+json; version=2.1",
                   "text/html, application/taxii+json;version=2.1;q=0.9",
                   "application/taxii+json;version=2.1,application/stix+json;version=2.1"):
        for path in ("/taxii2/", objects_path(cid), manifest_path(cid)):
            expect(c.get(path, [("limit", 1)] if "collections" in path else (), accept=accept), 200)
    for accept in ("application/json", "text/html", "application/taxii+json;version=2.0",
                   "application/stix+json;version=2.1"):
        for path in ("/taxii2/", "/api1/", "/api1/collections/", objects_path(cid)):
            expect_error(c.get(path, accept=accept), 406)


# ---- authentication (1.6.9) -------------------------------------------------------------

@test
def authentication_failures_are_401_then_429(w):
    """On a server of its own: failed attempts are rate-limited per client
    address, and all these tests come from 127.0.0.1."""
    srv = w.new_server("auth").start()
    try:
        spare = w.add_key("ana")
        tix_ok("admin", "key", "remove", spare[4:16], "--db", w.db)
        path = "/api1/collections/"
        expect(w.client("ana", server=srv).get(path), 200)
        k = w.keys["ana"]
        # Not credentials at all: not counted as failed attempts.
        for auth in (None, "Basic %%%not-base64%%%",
                     "Basic " + base64.b64encode(b"no-colon-here").decode(), "Basic",
                     "Digest username=\"ana\""):
            for p in (path, "/taxii2/", objects_path(w.coll["shared"])):
                r = Client(srv, auth).get(p)
                expect_error(r, 401)
                assert "basic" in (r.header("WWW-Authenticate") or "").lower(), (auth, r.headers)
        # Wrong credentials: 7 failed attempts, fewer than the limit (10).
        for auth in (basic("ana", "wrong password"), basic("nobody-here", "whatever"),
                     "Bearer " + k[:-4] + ("AAAA" if not k.endswith("AAAA") else "BBBB"),
                     "Bearer tix_aaaaaaaaaaaa_" + "A" * 43, "Bearer not-a-key",
                     "Bearer " + spare, basic("ana", k)):
            r = Client(srv, auth).get(path)
            expect_error(r, 401)
            assert "basic" in (r.header("WWW-Authenticate") or "").lower(), (auth, r.headers)
        # Credentials that fail again and again are refused for a while.
        statuses = []
        for i in range(40):
            r = Client(srv, basic("ana", "guess %d" % i)).get(path)
            statuses.append(r.status)
            if r.status == 429:
                expect_error(r, 429)
                break
            expect_error(r, 401)
        assert statuses[-1] == 429, statuses
    finally:
        srv.stop()


@test
def credentials_per_rfc_7617_and_7235(w):
    """A password may hold colons and any UTF-8; scheme names are not case
    sensitive."""
    pw = "p\u00e4ss:w\u00f6rd: with spaces"
    tix_ok("admin", "user", "add", "colon", "--org", "acme", "--role", "reader",
           "--password-stdin", "--db", w.db, stdin=(pw + "\n").encode())
    token = base64.b64encode(("colon:" + pw).encode()).decode()
    for auth in ("Basic " + token, "basic " + token, "BASIC " + token,
                 "bearer " + w.keys["ana"], "BEARER " + w.keys["ana"]):
        expect(Client(w.server, auth).get("/api1/collections/"), 200)


@test
def removed_users_and_unused_keys_are_refused(w):
    tix_ok("admin", "org", "add", "gone", "--db", w.db)
    tix_ok("admin", "user", "add", "ghost", "--org", "gone", "--role", "analyst",
           "--password-stdin", "--db", w.db, stdin=b"boo boo boo\n")
    key = w.add_key("ghost")
    tix_ok("admin", "user", "remove", "ghost", "--db", w.db)
    for auth in (bearer(key), basic("ghost", "boo boo boo")):
        expect_error(Client(w.server, auth).get("/api1/collections/"), 401)


@test
def a_removed_key_that_was_in_use_is_refused_after_a_restart(w):
    """A key in use when it is removed is refused by a server started
    afterwards. (A running server keeps accepting it for up to the 60 s its
    check is remembered: docs/accounts.md, "What the cache means for
    revocation".)"""
    key = w.add_key("ana")
    expect(Client(w.server, bearer(key)).get("/api1/collections/"), 200)
    tix_ok("admin", "key", "remove", key[4:16], "--db", w.db)
    srv = w.new_server("after-removal").start()
    try:
        expect_error(Client(srv, bearer(key)).get("/api1/collections/"), 401)
        expect(w.client("ana", server=srv).get("/api1/collections/"), 200)
    finally:
        srv.stop()


@test
def revocations_are_refused_on_the_very_next_request(w):
    """Each worker thread remembers the credentials and the collection
    rights it checked until the store changes (docs/accounts.md): a key
    removed, a grant revoked, a password changed or a user made again with
    another role takes effect on the very next request, on the connection
    that used the old state (so on a thread that remembers it) and on new
    ones. On a server of its own, so the refusals do not add up with other
    tests' towards the rate limit (10)."""
    tix_ok("admin", "org", "add", "revo", "--db", w.db)
    tix_ok("admin", "user", "add", "reva", "--org", "revo", "--role", "analyst",
           "--password-stdin", "--db", w.db, stdin=b"first secret words\n")
    key = w.add_key("reva")
    out = tix_ok("admin", "collection", "add", "revoked-things", "--read", "revo", "--write",
                 "revo", "--db", w.db)
    cid = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", out).group(0)
    srv = w.new_server("revocation").start()
    by_key, by_pw = Client(srv, bearer(key)), Client(srv, basic("reva", "first secret words"))
    conn = by_key.connect()
    try:
        post_ok(by_key, cid, [indicator()])

        def warm():
            for c in (by_key, by_pw):
                for _ in range(4):
                    assert len(expect(c.get(objects_path(cid)), 200).json()["objects"]) == 1
                    expect(c.get(objects_path(cid), conn=conn), 200)

        def refused(c, status, path=None):
            expect_error(c.get(path or objects_path(cid), conn=conn), status)
            for _ in range(3):
                expect_error(c.get(path or objects_path(cid)), status)

        # A grant revoked: the collection is not shown, then shown again.
        warm()
        tix_ok("admin", "collection", "grant", cid, "--org", "revo", "--revoke", "--db", w.db)
        refused(by_key, 404)
        refused(by_pw, 404)
        tix_ok("admin", "collection", "grant", cid, "--org", "revo", "--read", "--write",
               "--db", w.db)
        warm()
        # The key removed: refused, the password still works.
        tix_ok("admin", "key", "remove", key[4:16], "--db", w.db)
        refused(by_key, 401)
        expect(by_pw.get(objects_path(cid), conn=conn), 200)
        # The password changed: the old one refused, the new one works.
        warm_pw = Client(srv, basic("reva", "first secret words"))
        for _ in range(4):
            expect(warm_pw.get(objects_path(cid), conn=conn), 200)
        tix_ok("admin", "user", "passwd", "reva", "--password-stdin", "--db", w.db,
               stdin=b"second secret words\n")
        expect_error(warm_pw.get(objects_path(cid), conn=conn), 401)
        expect_error(warm_pw.get(objects_path(cid)), 401)
        by_pw = Client(srv, basic("reva", "second secret words"))
        for _ in range(4):
            expect(by_pw.post(objects_path(cid), envelope([indicator()]), conn=conn), 202)
        # Made again as a reader, with the same password: it reads, and may
        # no longer write.
        tix_ok("admin", "user", "remove", "reva", "--db", w.db)
        tix_ok("admin", "user", "add", "reva", "--org", "revo", "--role", "reader",
               "--password-stdin", "--db", w.db, stdin=b"second secret words\n")
        expect_error(by_pw.post(objects_path(cid), envelope([indicator()]), conn=conn), 403)
        for _ in range(3):
            expect_error(by_pw.post(objects_path(cid), envelope([indicator()])), 403)
        expect(by_pw.get(objects_path(cid), conn=conn), 200)
    finally:
        conn.close()
        srv.stop()


# ---- next tokens ---------------------------------------------------------------------------

@test
def next_tokens_are_bound_to_the_caller_and_the_query(w):
    ana, rita, root = w.client("ana"), w.client("rita"), w.client("root")
    cid = w.coll["shared"]
    q = [("match[type]", "indicator,relationship")]
    j = expect(ana.get(objects_path(cid), q + [("limit", 10)]), 200).json()
    tok = j["next"]
    ok = expect(ana.get(objects_path(cid), q + [("limit", 10), ("next", tok)]), 200).json()
    assert not {o["id"] for o in ok["objects"]} & {o["id"] for o in j["objects"]}
    # Same caller by password: still the same user.
    expect(w.client("ana", password=True).get(objects_path(cid), q + [("limit", 10),
                                                                      ("next", tok)]), 200)
    for c, params, path in (
            (rita, q + [("next", tok)], objects_path(cid)),
            (root, q + [("next", tok)], objects_path(cid)),
            (ana, [("match[type]", "indicator")] + [("next", tok)], objects_path(cid)),
            (ana, q + [("match[version]", "all"), ("next", tok)], objects_path(cid)),
            (ana, [("next", tok)], objects_path(cid)),
            (ana, q + [("next", tok)], manifest_path(cid)),
            (ana, q + [("next", tok)], objects_path(w.coll["work"])),
            (ana, q + [("next", tok[:-2] + ("AA" if not tok.endswith("AA") else "BB"))],
             objects_path(cid)),
            (ana, q + [("next", tok + "A")], objects_path(cid)),
            (ana, q + [("next", "")], objects_path(cid))):
        expect_error(c.get(path, params), 400)


# ---- HEAD and keep-alive ------------------------------------------------------------------

@test
def head_is_get_without_a_body(w):
    c, cid = w.client("ana"), w.coll["shared"]
    oid = w.sample[30]["id"]
    for path, params in (("/taxii2/", ()), ("/api1/", ()), ("/api1/collections/", ()),
                         (objects_path(cid), [("limit", 5)]), (manifest_path(cid), [("limit", 5)]),
                         (objects_path(cid, oid), ()), (objects_path(cid, oid, versions=True), ()),
                         (objects_path(cid, new_id("indicator")), ())):
        g, h = c.get(path, params), c.head(path, params)
        assert h.status == g.status, (path, g, h)
        assert h.body == b"", (path, h.body[:100])
        for name in ("Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
            assert h.header(name) == g.header(name), (path, name, g.headers, h.headers)
    h = Client(w.server).head("/api1/collections/")
    assert h.status == 401 and h.body == b"" and h.header("WWW-Authenticate"), h


@test
def keep_alive_serves_many_requests_on_one_connection(w):
    ana, cid = w.client("ana"), w.coll["work"]
    conn = ana.connect()
    try:
        seen = set()
        st = None
        steps = [
            ("GET", "/taxii2/", (), None, 200),
            ("GET", "/api1/", (), None, 200),
            ("GET", "/api1/collections/", (), None, 200),
            ("GET", objects_path(cid), [("limit", 3)], None, 200),
            ("HEAD", objects_path(cid), [("limit", 3)], None, 200),
            ("POST", objects_path(cid), (), envelope([indicator()]), 202),
            ("GET", "status", (), None, 200),
            ("GET", objects_path(cid, new_id("indicator")), (), None, 404),
            ("GET", objects_path(cid), [("limit", "zero")], None, 400),
            ("GET", "/api1/collections/", (), None, 200),
        ]
        for i in range(3):
            for method, path, params, body, status in steps:
                if path == "status":
                    path = "/api1/status/%s/" % st["id"]
                r = ana.request(method, path, params, body=body, conn=conn)
                expect(r, status)
                if status == 202:
                    st = r.json()
                assert not r.will_close, (method, path, r.headers)
                seen.add(conn.sock.getsockname())
        # An unauthenticated request and its 401 do not end the connection
        # either, so a client can answer the challenge on it.
        r = Client(w.server).request("GET", "/api1/collections/", conn=conn)
        expect_error(r, 401)
        assert not r.will_close, r.headers
        seen.add(conn.sock.getsockname())
        expect(ana.request("GET", "/taxii2/", conn=conn), 200)
        seen.add(conn.sock.getsockname())
        assert len(seen) == 1, "the client had to reconnect: %r" % seen
    finally:
        conn.close()


# ---- paging under concurrent writes ----------------------------------------------------------

@test
def paging_10000_objects_while_others_write(w):
    cid = w.coll["big"]
    reader = w.client("ana")
    writers = [w.client("ana"), w.client("root"), w.client("ana", password=True)]
    done = threading.Event()
    written, errors = [], []
    lock = threading.Lock()

    def write(c):
        try:
            for _ in range(60):
                if done.is_set():
                    return
                objs = [indicator(created="2024-04-01T00:00:00.000Z") for _ in range(10)]
                st = post_ok(c, cid, objs)
                with lock:
                    written.extend(o["id"] for o in objs)
                    assert len(st["successes"]) == 10
        except Exception as e:  # reported by the main thread
            errors.append(repr(e))

    threads = [threading.Thread(target=write, args=(c,)) for c in writers]
    for t in threads:
        t.start()
    seen, pages, nxt, last_added = [], 0, None, None
    try:
        while True:
            p = [("limit", 100)] + ([("next", nxt)] if nxt else [])
            r = expect(reader.get(objects_path(cid), p), 200)
            j = r.json()
            objs = j.get("objects", [])
            assert len(objs) <= 100
            pages += 1
            if objs:
                first = r.header("X-TAXII-Date-Added-First")
                assert first and r.header("X-TAXII-Date-Added-Last"), r.headers
                if last_added:
                    assert ts_key(first) > ts_key(last_added), (first, last_added)
                last_added = r.header("X-TAXII-Date-Added-Last")
            seen += [o["id"] for o in objs]
            if not j.get("more"):
                break
            nxt = j["next"]
            assert pages < 1000, "paging does not end"
    finally:
        done.set()
        for t in threads:
            t.join(TIMEOUT)
    assert not errors, errors
    counts = collections.Counter(seen)
    twice = [i for i, n in counts.items() if n > 1]
    assert not twice, "seen more than once: %r" % twice[:5]
    missing = set(w.big_ids) - set(counts)
    assert not missing, "%d objects of the start never seen, e.g. %r" % (len(missing),
                                                                       sorted(missing)[:3])
    assert set(counts) <= set(w.big_ids) | set(written), "objects from nowhere"
    assert pages >= BIG // 100
    print("    paged %d objects in %d pages while 3 writers added %d" % (len(seen), pages,
                                                                        len(written)))
    # Every acknowledged write is there.
    man = page_all(reader, manifest_path(cid), limit=1000)[0]
    ids = collections.Counter(m["id"] for m in man)
    assert max(ids.values()) == 1
    assert set(ids) == set(w.big_ids) | set(written), (len(ids), len(w.big_ids), len(written))


# ---- HTTPS (8.2.2) --------------------------------------------------------------------------

def make_certificates(d):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    def run(*args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=TIMEOUT, cwd=d)
        assert r.returncode == 0, r.stderr.decode()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=tix e2e test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return [os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key")]


@test
def https_end_to_end(w):
    if shutil.which("openssl") is None:
        raise AssertionError("the openssl command is needed (tools/deps.sh test)")
    d = os.path.join(w.dir, "tls")
    os.mkdir(d)
    ca, cert, key = make_certificates(d)
    srv = w.new_server("tls", tls=(cert, key)).start()
    try:
        ctx = ssl.create_default_context(cafile=ca)
        c = w.client("ana", server=srv, context=ctx)
        disc = expect(c.get("/taxii2/"), 200).json()
        assert all(not u.startswith("http:") for u in disc["api_roots"]), disc
        conn = c.connect()
        try:
            cid = w.coll["work"]
            obj = indicator()
            expect(c.request("POST", objects_path(cid), body=envelope([obj]), conn=conn), 202)
            got = expect(c.request("GET", objects_path(cid, obj["id"]), conn=conn), 200)
            assert [canon(o) for o in got.json()["objects"]] == [canon(obj)]
            expect(w.client("bob", password=True, server=srv, context=ctx)
                   .request("GET", "/api1/collections/", conn=conn), 200)
            with open(cert) as f:
                der = ssl.PEM_cert_to_DER_cert(f.read())
            assert conn.sock.getpeercert(binary_form=True) == der, "not our certificate"
        finally:
            conn.close()
        # TLS 1.2 MUST be accepted (8.2.2).
        ctx12 = ssl.create_default_context(cafile=ca)
        ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
        c12 = w.client("ana", server=srv, context=ctx12)
        conn = c12.connect()
        try:
            expect(c12.request("GET", "/api1/", conn=conn), 200)
            assert conn.sock.version() == "TLSv1.2", conn.sock.version()
        finally:
            conn.close()
        # Plain HTTP on the HTTPS port is not served.
        status, _ = raw_exchange(srv.port, b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n\r\n", 30)
        assert status != 200, status
    finally:
        srv.stop()


# ---- clients that send nothing ----------------------------------------------------------------

@test
def idle_and_half_open_clients_do_not_block_others(w):
    srv = w.new_server("idle", extra=["--idle-timeout", "2"]).start()
    socks = []
    try:
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
            if i % 2:
                s.sendall(b"GET /api1/collections/ HT")
            socks.append(s)
        c = w.client("ana", server=srv)
        expect(c.get("/api1/collections/"), 200)
        expect(c.get(objects_path(w.coll["shared"]), [("limit", 50)]), 200)
        # Garbage and oversized heads are refused without harm to others.
        for junk in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
                     b"POST /api1/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                     b"GET /api1/collections/" + b"%" * 5000 + b"/ HTTP/1.1\r\nHost: x\r\n\r\n"):
            status, _ = raw_exchange(srv.port, junk, 60)
            assert status != 200, (junk[:40], status)
        expect(c.get("/api1/collections/"), 200)
        # The server drops them in the end (--idle-timeout); a generous wait.
        for s in socks:
            s.settimeout(60)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("an idle connection was never closed by the server")
        expect(c.get("/api1/collections/"), 200)
    finally:
        for s in socks:
            s.close()
        srv.stop()


# ---- starting and stopping ---------------------------------------------------------------------

@test
def config_file_settings_and_command_line_precedence(w):
    conf = os.path.join(w.dir, "serve.conf")
    with open(conf, "w") as f:
        f.write("# e2e\ntitle = E2E node\ndescription = set by a file\npage-size = 7\n"
                "page-max = 20\nmax-body = 2048\n")
    srv = w.new_server("config", extra=["--config", conf]).start()
    try:
        c = w.client("ana", server=srv)
        d = expect(c.get("/taxii2/"), 200).json()
        assert d["title"] == "E2E node" and d.get("description") == "set by a file", d
        # --max-body on the command line wins over the file.
        assert expect(c.get("/api1/"), 200).json()["max_content_length"] == MAX_BODY
        cid = w.coll["big"]
        j = expect(c.get(objects_path(cid)), 200).json()
        assert len(j["objects"]) == 7 and j["more"] is True, len(j["objects"])
        j = expect(c.get(objects_path(cid), [("limit", 100)]), 200).json()
        assert len(j["objects"]) == 20 and j["more"] is True, len(j["objects"])
    finally:
        srv.stop()
    bad = os.path.join(w.dir, "bad.conf")
    with open(bad, "w") as f:
        f.write("page-size = many\n")
    r = tix("serve", "--listen", "127.0.0.1:%d" % free_port(), "--db", w.db, "--config", bad)
    assert r.returncode == 2, (r.returncode, r.stderr)


@test
def access_log_has_a_line_per_request_and_no_secrets(w):
    c = w.client("rita")
    path = "/api1/collections/%s/" % w.coll["shared"]

    def mine():
        with open(w.server.logpath) as f:
            text = f.read()
        return text, [l for l in text.splitlines() if " GET %s " % path in l]

    before = len(mine()[1])
    expect(c.get(path), 200)
    expect(w.client("rita", password=True).get(path), 200)
    expect_error(Client(w.server).get(path), 401)
    for _ in range(100):  # a line is written once its answer has gone out
        text, lines = mine()
        if len(lines) >= before + 3:
            break
        time.sleep(0.1)
    lines = lines[before:]
    assert len(lines) == 3, lines
    # (in the order the answers completed, which need not be the order sent)
    assert sum(" 200 " in l and l.endswith(" rita") for l in lines) == 2, lines
    assert sum(" 401 " in l and l.endswith(" -") for l in lines) == 1, lines
    logged = text + w.server.stderr()
    for secret in list(w.keys.values()) + list(w.passwords.values()):
        assert secret not in logged, "a credential is in the access log or stderr"
    assert base64.b64encode(("rita:%s" % w.passwords["rita"]).encode()).decode() not in logged



@test
def plain_http_is_refused_off_loopback_and_bad_options_are_usage_errors(w):
    port = free_port()
    for args in (["--listen", "0.0.0.0:%d" % port],
                 ["--listen", "127.0.0.1:%d" % port, "--tls-cert", os.path.join(w.dir, "nope.pem")],
                 ["--listen", "127.0.0.1:%d" % port, "--no-such-option"],
                 ["--listen", "nowhere"]):
        try:
            r = subprocess.run([TIX, "serve", "--db", w.db, "--access-log", "off"] + args,
                               capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError("tix serve %s started serving" % args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr, args


@test
def only_the_waiting_thread_can_take_a_sigterm(w):
    # A SIGTERM the kernel hands to a thread that does not block it kills the
    # server instead of stopping it (the audit writer did: exit -15 now and
    # then). Every thread of a listening server but the one in sigwait must
    # block SIGTERM and SIGINT.
    d = os.path.join(w.dir, "sigmask")
    os.mkdir(d)
    db, key, cid = small_store(d)
    srv = Server(db, d, "sigmask").start()
    try:
        expect(Client(srv, bearer(key)).get(objects_path(cid)), 200)
        open_to = []
        tasks = "/proc/%d/task" % srv.proc.pid
        for tid in os.listdir(tasks):
            with open(os.path.join(tasks, tid, "status")) as f:
                blk = int(re.search(r"^SigBlk:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
            if not (blk >> (signal.SIGTERM - 1)) & 1 or not (blk >> (signal.SIGINT - 1)) & 1:
                open_to.append(tid)
        assert len(open_to) <= 1, "threads not blocking SIGTERM/SIGINT: %s of %d" % (
            open_to, len(os.listdir(tasks)))
    finally:
        srv.stop()


@test
def sigterm_during_posts_keeps_every_acknowledged_object(w):
    d = os.path.join(w.dir, "sigterm")
    os.mkdir(d)
    db, key, cid = small_store(d)
    srv = Server(db, d, "sigterm").start()
    acked, errors = [], []
    lock = threading.Lock()
    enough = threading.Event()

    def post_until_refused():
        c = Client(srv, bearer(key))
        while True:
            objs = [indicator() for _ in range(5)]
            try:
                r = c.post(objects_path(cid), envelope(objs))
            except (OSError, http.client.HTTPException):
                return  # the server has gone
            if r.status == 202:
                st = r.json()
                with lock:
                    acked.extend(s["id"] for s in st["successes"])
                    if len(acked) >= 200:
                        enough.set()
            elif r.status != 503:
                errors.append(repr(r))
                return

    threads = [threading.Thread(target=post_until_refused) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        assert enough.wait(TIMEOUT), "the POSTs did not get through"
        srv.stop()  # SIGTERM while the four keep posting; exit 0
    finally:
        srv.kill()
        for t in threads:
            t.join(TIMEOUT)
    assert not errors, errors
    again = Server(db, d, "sigterm-again").start()
    try:
        c = Client(again, bearer(key))
        ids = collections.Counter()
        for o in page_all(c, manifest_path(cid), limit=1000)[0]:
            ids[o["id"]] += 1
        lost = set(acked) - set(ids)
        assert not lost, "%d acknowledged objects lost, e.g. %r" % (len(lost), sorted(lost)[:3])
    finally:
        again.stop()


def sensor_with_index(w, prefix, pattern, log_name, lines):
    """A sensor's directory: an index file built from one indicator with
    pattern (`tix match --index-out`) and a log of lines. Returns the
    indicator and the index and log paths."""
    d = tempfile.mkdtemp(prefix=prefix, dir=w.dir)
    ind = indicator(pattern=pattern)
    bpath = os.path.join(d, "ind.json")
    with open(bpath, "w") as f:
        json.dump({"type": "bundle", "id": new_id("bundle"), "objects": [ind]}, f)
    idx = os.path.join(d, "sensor.tix")
    tix_ok("match", "--bundle", bpath, "--index-out", idx)
    log = os.path.join(d, log_name)
    with open(log, "w") as f:
        f.write(lines)
    return ind, idx, log


@test
def match_report_posts_sightings_to_a_remote_collection(w):
    """A sensor with only an index file runs `tix match --report` against
    this node: the sightings and the sensor's identity arrive in the
    collection, readable by the node's analysts; a bad key is refused."""
    ind, idx, log = sensor_with_index(
        w, "tix-e2e-match-", "[ipv4-addr:value = '203.0.113.77']", "fw.log",
        "deny 10.0.0.1 -> 203.0.113.77:443\nallow 10.0.0.1 -> 203.0.113.7:443\n"
        "deny 10.0.0.2 -> 203.0.113.77:80\n")
    cid = w.coll["dropbox"]
    url = "http://127.0.0.1:%d/api1/collections/%s/" % (w.server.port, cid)
    env = dict(os.environ, TIX_API_KEY=w.keys["sam"])
    r = subprocess.run([TIX, "match", "--index", idx, "--report", url, "--sensor", "fw-gw-1", log],
                       capture_output=True, timeout=TIMEOUT, env=env)
    assert r.returncode == 0, r.stderr
    assert b"1 sightings reported" in r.stderr and b"2 stored, 0 failed" in r.stderr, r.stderr
    objs = expect(w.client("ana").get(objects_path(cid), [("match[type]", "sighting,identity")]),
                  200).json()["objects"]
    sight = [o for o in objs if o["type"] == "sighting" and o["sighting_of_ref"] == ind["id"]]
    ident = [o for o in objs if o["type"] == "identity" and o.get("name") == "fw-gw-1"]
    assert len(sight) == 1 and len(ident) == 1, objs
    assert sight[0]["count"] == 2 and sight[0]["where_sighted_refs"] == [ident[0]["id"]]
    env["TIX_API_KEY"] = "tix_not-a-key"
    r = subprocess.run([TIX, "match", "--index", idx, "--report", url, log],
                       capture_output=True, timeout=TIMEOUT, env=env)
    assert r.returncode == 2 and b"HTTP 401" in r.stderr, r.stderr


@test
def match_report_retries_and_follows_the_status(w):
    """`tix match --report` uses the federation client: a node answering
    503 is asked again after a back-off, a 202 "pending" status is polled
    until it is complete, and a status with failures is exit 2 with the
    server's reason. The node here is a small fake TAXII server, since a
    real one answers at once."""
    import http.server
    ind, idx, log = sensor_with_index(w, "tix-e2e-report-",
                                      "[domain-name:value = 'report-retry.example']", "dns.log",
                                      "query report-retry.example A\n")
    seen = []
    fail_status = {"on": False}

    class Fake(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, code, doc):
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/taxii+json;version=2.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            env = json.loads(self.rfile.read(n))
            seen.append(("POST", self.path, self.headers.get("Authorization"), len(env["objects"])))
            if sum(1 for s in seen if s[0] == "POST") == 1:
                return self.answer(503, {"title": "busy"})
            self.answer(202, {"id": "st-1", "status": "pending", "total_count": len(env["objects"]),
                              "success_count": 0, "failure_count": 0, "pending_count": len(env["objects"])})

        def do_GET(self):
            seen.append(("GET", self.path, self.headers.get("Authorization"), 0))
            polls = sum(1 for s in seen if s[0] == "GET")
            if polls < 2:
                return self.answer(200, {"id": "st-1", "status": "pending", "total_count": 2,
                                         "success_count": 1, "failure_count": 0, "pending_count": 1})
            if fail_status["on"]:
                return self.answer(200, {"id": "st-1", "status": "complete", "total_count": 2,
                                         "success_count": 1, "failure_count": 1, "pending_count": 0,
                                         "failures": [{"id": ind["id"], "message": "not allowed here"}]})
            self.answer(200, {"id": "st-1", "status": "complete", "total_count": 2,
                              "success_count": 2, "failure_count": 0, "pending_count": 0})

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = "http://127.0.0.1:%d/root1/collections/c1/" % srv.server_address[1]
        env = dict(os.environ, TIX_API_KEY="tix_fake-key")
        r = subprocess.run([TIX, "match", "--index", idx, "--report", url, log],
                           capture_output=True, timeout=TIMEOUT, env=env)
        assert r.returncode == 0, r.stderr
        assert b"2 stored, 0 failed" in r.stderr and b"st-1" in r.stderr, r.stderr
        posts = [s for s in seen if s[0] == "POST"]
        polls = [s for s in seen if s[0] == "GET"]
        assert len(posts) == 2 and all(p[1] == "/root1/collections/c1/objects/" for p in posts), seen
        assert all(p[2] == "Bearer tix_fake-key" for p in posts + polls), seen
        assert len(polls) == 2 and all(p[1] == "/root1/status/st-1/" for p in polls), seen
        assert posts[1][3] == 2, posts  # the sensor's identity and one sighting
        seen.clear()
        fail_status["on"] = True
        r = subprocess.run([TIX, "match", "--index", idx, "--report", url, log],
                           capture_output=True, timeout=TIMEOUT, env=env)
        assert r.returncode == 2, r.stderr
        assert b"1 failed" in r.stderr and b"not allowed here" in r.stderr, r.stderr
        assert b"tix_fake-key" not in r.stderr, r.stderr
        r = subprocess.run([TIX, "match", "--index", idx, "--report",
                            "http://127.0.0.1:%d/not-a-collection/" % srv.server_address[1], log],
                           capture_output=True, timeout=TIMEOUT, env=env)
        assert r.returncode == 2 and b"collection URL" in r.stderr, r.stderr
    finally:
        srv.shutdown()
        srv.server_close()


@test
def answers_are_gzipped_for_clients_that_take_it(w):
    """A page of objects asked for with Accept-Encoding: gzip comes
    compressed (Content-Encoding, Vary) and unpacks to the very bytes of the
    plain answer; q=0 or no header gets the plain answer; small answers
    (discovery) go as they are; HEAD announces what GET sends."""
    import gzip as gz
    c, cid = w.client("ana"), w.coll["work"]
    post_ok(c, cid, [indicator(description="gzip on the wire %d" % i) for i in range(40)])
    params = [("limit", "40")]
    plain = expect(c.get(objects_path(cid), params), 200)
    assert plain.header("Content-Encoding") is None and plain.header("Vary") == "Accept-Encoding"
    assert len(plain.body) > 4096, len(plain.body)
    zipped = expect(c.get(objects_path(cid), params, headers={"Accept-Encoding": "gzip, br"}), 200)
    assert zipped.header("Content-Encoding") == "gzip", zipped.headers
    assert zipped.header("Vary") == "Accept-Encoding"
    assert gz.decompress(zipped.body) == plain.body
    assert len(zipped.body) * 3 < len(plain.body), (len(zipped.body), len(plain.body))
    assert int(zipped.header("Content-Length")) == len(zipped.body)
    head = c.head(objects_path(cid), params, headers={"Accept-Encoding": "gzip"})
    assert head.status == 200 and head.header("Content-Encoding") == "gzip"
    assert head.header("Content-Length") == zipped.header("Content-Length")
    for ae in ("gzip;q=0", "identity", "deflate"):
        r = expect(c.get(objects_path(cid), params, headers={"Accept-Encoding": ae}), 200)
        assert r.header("Content-Encoding") is None and r.body == plain.body, ae
    small = c.get("/taxii2/", headers={"Accept-Encoding": "gzip"})
    assert small.status == 200 and small.header("Content-Encoding") is None
    # an error (here 404) is compressed or not by the same rule, and says the same
    e = c.get(objects_path("no-such-collection"), headers={"Accept-Encoding": "gzip"})
    assert e.status == 404 and e.header("Content-Encoding") is None


@test
def main_server_stops_cleanly_on_sigterm(w):
    """With a keep-alive client idle and another half-way through a request."""
    conn = w.client("ana").connect()
    half = socket.create_connection(("127.0.0.1", w.server.port), timeout=TIMEOUT)
    try:
        w.client("ana").request("GET", "/taxii2/", conn=conn)
        half.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc")
        w.server.stop()
    finally:
        conn.close()
        half.close()


def run_world_tests(tests, make_world, name):
    """Runs each test of tests (or those named on the command line) on one
    world that make_world() builds, printing "ok"/"FAIL" per test and the
    closing "N passed, N failed" line; the world's close() runs last and a
    failure there (an unclean server stop) counts. Returns the exit code."""
    only = set(sys.argv[1:])
    passed = failed = 0
    try:
        w = make_world()
    except Exception:
        traceback.print_exc()
        print("FAIL setting up the %s world" % name)
        return 1
    try:
        for fn in tests:
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
            sys.stdout.flush()
    finally:
        try:
            w.close()
        except Exception:
            traceback.print_exc()
            print("FAIL closing the %s world" % name)
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    if not os.path.exists(TIX):
        print("tix binary not found at %s (set TIX)" % TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    w = None
    try:
        w = World()
    except Exception:
        traceback.print_exc()
        print("FAIL setting up the store and server")
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        if w is None:
            failed += 1
            print("FAIL %s (no store or server)" % fn.__name__)
            continue
        try:
            fn(w)
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
            if w.server.proc is not None and w.server.proc.poll() is not None:
                print("    the main server died (exit %d): %s" % (
                    w.server.proc.returncode, w.server.stderr()[-3000:]))
                try:
                    w.server.proc = None
                    w.server.start()
                except Exception:
                    traceback.print_exc()
        sys.stdout.flush()
    if w is not None:
        if w.server.proc is not None:
            try:
                w.server.stop()
            except Exception:
                traceback.print_exc()
                failed += 1
        w.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
