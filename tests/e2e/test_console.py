#!/usr/bin/env python3
"""End-to-end tests of the analyst console (docs/console.md) against a real
`tix serve` on a loopback port with seeded data: its static files' headers
(CSP, ETag and 304, caching, gzip), sign-in and its refusals, sessions ended
by a password change or the user's removal, and in a real browser (npm's
playwright-core driving Debian's chromium, tests/e2e/console_browser.js):
sign-in, dashboard, search, object view with correlation and sightings, a
TLP:RED object of another organisation invisible everywhere, hostile strings
rendered as text, forged cross-site changes refused, sign-out.

Screenshots go to $TIX_ARTEFACTS (default: console-shots/ beside $TIX); the
first-load bytes are printed as FIGURE lines (figures, not assertions).

    TIX=build/tix python3 tests/e2e/test_console.py [TEST_NAME...]
"""

import datetime
import fcntl
import gzip
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_drill  # noqa: E402
from test_taxii import (ROOT, TIX, Client, Server, bearer, expect, indicator,  # noqa: E402
                        make_certificates, new_id, objects_path, raw_exchange, run_world_tests,
                        tix_ok)

GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = os.environ.get("TIX_ARTEFACTS") or os.path.join(os.path.dirname(os.path.abspath(TIX)),
                                                        "console-shots")
SHARED = "evil-c2.example"
RED_VALUE = "red-secret.example"
RED_WORDS = "Quokka secret operation"
PEER_URL = "http://127.0.0.1:9/taxii2/?<img src=x onerror=window.__pwned=4>"

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def ensure_playwright():
    """playwright-core and axe-core from the committed lock (npm ci), once, into
    node_modules/ (git-ignored); no browser is downloaded: Debian's chromium is
    driven. Under a lock: the sanitizer and release runs may start together."""
    with open(os.path.join(tempfile.gettempdir(), "tix-console-npm.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(os.path.exists(os.path.join(ROOT, "node_modules", m, "package.json"))
                   for m in ("playwright-core", "axe-core")):
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                               cwd=ROOT, capture_output=True, timeout=600)
            assert r.returncode == 0, "npm ci: %s" % r.stderr.decode(errors="replace")[-2000:]


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-console-")
        self.db = os.path.join(self.dir, "tix.db")
        for org, country in (("cert", "KE"), ("bank", "DE")):
            tix_ok("admin", "org", "add", org, "--country", country, "--db", self.db)
        self.passwords, self.keys = {}, {}
        for name, org, role in (("ana", "cert", "analyst"), ("bob", "bank", "analyst"),
                                ("tmp", "bank", "analyst"), ("ada", "cert", "admin")):
            self.passwords[name] = "pw-%s-%s" % (name, os.urandom(4).hex())
            tix_ok("admin", "user", "add", name, "--org", org, "--role", role,
                   "--password-stdin", "--db", self.db, stdin=(self.passwords[name] + "\n").encode())
            out = tix_ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        tix_ok("admin", "group", "add", "quill-responders", "--db", self.db)
        tix_ok("admin", "group", "member-add", "quill-responders", "--org", "cert", "--db", self.db)
        out = tix_ok("admin", "collection", "add", "feed", "--read", "cert,bank", "--write",
                     "cert,bank", "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        # A peer whose one run failed (nothing listens on port 9): the
        # peers page shows its error.
        tix_ok("peer", "add", "regional-hub", "--url", PEER_URL,
               "--remote-collection", "x", "--local-collection", self.cid, "--key-stdin",
               "--direction", "pull", "--org", "bank", "--db", self.db, stdin=b"tix_k\n")
        subprocess.run([TIX, "sync", "--peer", "regional-hub", "--once", "--attempts", "1",
                        "--timeout", "2", "--db", self.db], capture_output=True, timeout=60)
        # A drill (tix drill, docs/drill.md) whose inject is out: its
        # scoreboard on #/drills (no team reported: each missed it).
        sc = test_drill.scenario()
        self.drill = sc["exercise"]["uuid"]
        p = test_drill.write(os.path.join(self.dir, "drill.json"), sc)
        test_drill.ok("drill", "load", p, "--db", self.db, now=test_drill.T0)
        test_drill.ok("drill", "start", self.drill, "--db", self.db, now=test_drill.T0)
        test_drill.ok("drill", "tick", self.drill, "--db", self.db, now=test_drill.DUE)
        self.server = Server(self.db, self.dir, "console").start()
        self.url = "http://127.0.0.1:%d" % self.server.port
        try:
            self._seed()
        except BaseException:
            self.close()  # no server left running when seeding fails
            raise

    def _seed(self):
        self.ids = {}
        green = [GREEN]
        shared_cert = indicator(name="C2 of the Quill campaign", object_marking_refs=green,
                                pattern="[domain-name:value = '%s']" % SHARED)
        shared_bank = indicator(name="Phishing landing seen by bank", object_marking_refs=green,
                                pattern="[domain-name:value = '%s']" % SHARED)
        ident = {"type": "identity", "spec_version": "2.1", "id": new_id("identity"),
                 "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
                 "name": "bank sensor 1", "identity_class": "system", "object_marking_refs": green}
        sighting = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
                    "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
                    "sighting_of_ref": shared_cert["id"], "count": 3,
                    "where_sighted_refs": [ident["id"]], "first_seen": "2024-04-30T10:00:00Z",
                    "last_seen": "2024-04-30T12:00:00Z", "object_marking_refs": green}
        red = indicator(name=RED_WORDS, object_marking_refs=[RED],
                        pattern="[domain-name:value = '%s']" % RED_VALUE)
        self.hostile = {
            "name": "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">",
            "rtl": "invoice\u202Egpj.exe",
            "bad_url": "javascript:window.__pwned=3",
            "good_url": "https://example.org/report",
            "long_len": 100000,
            "nlabels": 2000,
        }
        hostile = indicator(
            name=self.hostile["name"], object_marking_refs=green,
            description=self.hostile["rtl"] + " " + "A" * self.hostile["long_len"],
            labels=["<b>l%d</b>" % i for i in range(self.hostile["nlabels"])],
            external_references=[{"source_name": "evil", "url": self.hostile["bad_url"]},
                                 {"source_name": "<svg onload=alert(1)>", "url": "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E"},
                                 {"source_name": "report", "url": self.hostile["good_url"]}])
        malware = {"type": "malware", "spec_version": "2.1", "id": new_id("malware"),
                   "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
                   "name": "QuillRAT", "is_family": True, "object_marking_refs": green}

        def rel(src, kind, tgt, marks):
            return {"type": "relationship", "spec_version": "2.1", "id": new_id("relationship"),
                    "created": "2024-05-02T00:00:00.000Z", "modified": "2024-05-02T00:00:00.000Z",
                    "relationship_type": kind, "source_ref": src, "target_ref": tgt,
                    "object_marking_refs": marks}
        rels = {"indicates": rel(shared_cert["id"], "indicates", malware["id"], green),
                "bank": rel(shared_bank["id"], "related-to", shared_cert["id"], green),
                "hostile": rel(hostile["id"], "related-to", shared_cert["id"], green),
                "red": rel(red["id"], "related-to", shared_cert["id"], [RED])}
        # A second version of the shared indicator (the version list).
        later = datetime.datetime.strptime(shared_cert["modified"][:19], "%Y-%m-%dT%H:%M:%S")
        v2 = dict(shared_cert, modified=(later + datetime.timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"))
        self.post("ana", [shared_cert, hostile, malware, rels["indicates"], rels["hostile"]])
        self.post("ana", [v2])
        self.post("bob", [shared_bank, ident, sighting, red, rels["bank"], rels["red"]])
        self.ids = {"shared_cert": shared_cert["id"], "shared_bank": shared_bank["id"],
                    "red": red["id"], "hostile": hostile["id"], "malware": malware["id"]}
        self.rels = {k: r["id"] for k, r in rels.items()}
        # What each may read, counted from what was written: ana (cert) all
        # of cert's and bank's GREEN ones; bob (bank) all eleven.
        self.expect = {"ana_total": 9, "bob_total": 11, "ana_relationships": 3,
                       "versions": [shared_cert["modified"], v2["modified"]]}

    def post(self, user, objs):
        r = expect(Client(self.server, bearer(self.keys[user])).post(objects_path(self.cid),
                                                                      {"objects": objs}), 202)
        assert r.json()["success_count"] == len(objs), r.json()

    def request(self, method, path, body=None, cookie=None, headers=None, content_type=None):
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = "tix_session=" + cookie
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        return Client(self.server).request(method, path, body=body, accept=None,
                                           content_type=content_type or "application/json",
                                           headers=h)

    def sign_in(self, user, password=None):
        r = self.request("POST", "/ui/session", {"username": user,
                                                 "password": password or self.passwords[user]},
                         headers={"Origin": self.url})
        assert r.status == 200, r
        m = re.match(r"tix_session=([A-Za-z0-9_-]{43});", r.header("Set-Cookie") or "")
        assert m, r.header("Set-Cookie")
        return m.group(1), r.json()

    def close(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def static_files_have_caching_and_security_headers(w):
    c = Client(w.server)
    r = c.get("/ui/", accept=None)
    assert r.status == 200, r
    assert r.header("Content-Security-Policy") == CSP, r.header("Content-Security-Policy")
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Cache-Control") == "no-cache", r.header("Cache-Control")
    html = r.body.decode()
    assert "<script>" not in html and "onload" not in html and "style=" not in html, html
    assets = re.findall(r'"\./(app\.[0-9a-f]{12}\.(?:js|css))"', html)
    assert len(assets) == 2, html
    etag = r.header("ETag")
    assert c.get("/ui/", accept=None, headers={"If-None-Match": etag}).status == 304
    for a in assets:
        r = c.get("/ui/" + a, accept=None, headers={"Accept-Encoding": "gzip"})
        assert r.status == 200 and r.header("Content-Encoding") == "gzip", r
        assert "immutable" in r.header("Cache-Control"), r.header("Cache-Control")
        assert r.header("Content-Security-Policy") == CSP
        plain = c.get("/ui/" + a, accept=None)
        assert gzip.decompress(r.body) == plain.body
        assert len(r.body) < len(plain.body)
        assert r.header("ETag") != plain.header("ETag")
        assert c.get("/ui/" + a, accept=None, headers={
            "If-None-Match": plain.header("ETag")}).status == 304
    assert c.get("/ui/app.js", accept=None).status == 404  # only hashed names are served
    assert c.get("/ui/../tix.db", accept=None).status in (400, 404)
    r = c.get("/ui", accept=None)
    assert r.status == 301 and r.header("Location") == "/ui/", r
    assert c.request("PUT", "/ui/", accept=None).status == 405


@test
def sign_in_refusals(w):
    # Wrong password: 401, no cookie; the failure is audited.
    r = w.request("POST", "/ui/session", {"username": "ana", "password": "nope"})
    assert r.status == 401 and r.header("Set-Cookie") is None, r
    r = w.request("POST", "/ui/session", {"username": "nobody", "password": "nope"})
    assert r.status == 401, r
    for bad in (b"", b"{", b"[]", b'{"username":"ana"}', b'{"username":"ana","password":1}',
                b'{"username":"ana","password":"x","admin":true}',
                b'{"username":"a:b","password":"x"}', b'{"username":"","password":"x"}',
                b'{"username":"ana","password":"x","username":"bob"}'):
        r = w.request("POST", "/ui/session", bad)
        assert r.status == 400, (bad, r)
    r = w.request("POST", "/ui/session", b'{"username":"ana","password":"' + b"x" * 5000 + b'"}')
    assert r.status == 413, r
    # From another site's page: refused before the password is checked.
    r = w.request("POST", "/ui/session", {"username": "ana", "password": w.passwords["ana"]},
                  headers={"Origin": "http://evil.example"})
    assert r.status == 403 and r.header("Set-Cookie") is None, r
    deadline = time.monotonic() + 20  # the audit log is written behind the answers
    while "POST /ui/session" not in tix_ok("audit", "show", "--db", w.db):
        assert time.monotonic() < deadline, "the failed sign-in is not in the audit log"
        time.sleep(0.2)
    # Right: a cookie as the brief says, and the same principal as the key.
    token, who = w.sign_in("ana")
    assert who["user"] == "ana" and who["org"] == "cert" and len(who["csrf"]) == 43, who
    r = w.request("POST", "/ui/session", {"username": "ana", "password": w.passwords["ana"]})
    cookie = r.header("Set-Cookie")
    for part in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert part in cookie, cookie
    assert "Secure" not in cookie  # plain HTTP on loopback; Secure with TLS
    by_cookie = w.request("GET", "/api/v1/summary", cookie=token).json()
    by_key = Client(w.server, bearer(w.keys["ana"])).get("/api/v1/summary", accept=None).json()
    for k in ("total", "by_type", "by_tlp", "by_org"):
        assert by_cookie[k] == by_key[k], (k, by_cookie[k], by_key[k])
    # A malformed or unknown cookie is no one.
    for bad in ("x", "A" * 43, token[:-1] + "!"):
        assert w.request("GET", "/api/v1/summary", cookie=bad).status == 401


@test
def password_change_and_user_removal_end_sessions(w):
    token, _ = w.sign_in("tmp")
    assert w.request("GET", "/ui/session", cookie=token).status == 200
    new = "pw-tmp-changed"
    tix_ok("admin", "user", "passwd", "tmp", "--password-stdin", "--db", w.db,
           stdin=(new + "\n").encode())
    assert w.request("GET", "/ui/session", cookie=token).status == 401
    assert w.request("GET", "/api/v1/summary", cookie=token).status == 401
    token, _ = w.sign_in("tmp", new)
    assert w.request("GET", "/api/v1/summary", cookie=token).status == 200
    tix_ok("admin", "user", "remove", "tmp", "--db", w.db)
    assert w.request("GET", "/api/v1/summary", cookie=token).status == 401
    # Only a digest of the token is stored.
    import sqlite3
    db = sqlite3.connect(w.db)
    rows = db.execute("SELECT digest FROM sessions").fetchall()
    db.close()
    assert all(token.encode() not in bytes(r[0]) for r in rows)


@test
def changes_by_cookie_need_the_token_and_the_nodes_origin(w):
    token, who = w.sign_in("bob")
    ok = {"X-CSRF-Token": who["csrf"]}
    for headers in ({}, {"Origin": w.url}, dict(ok, Origin="null"),
                    dict(ok, Origin=w.url + ".evil.example"), dict(ok, Referer="http://evil.example/"),
                    dict(ok, Referer=w.url + ".evil.example/ui/"), ok,
                    {"X-CSRF-Token": who["csrf"][:-1], "Origin": w.url}):
        r = w.request("DELETE", "/ui/session", cookie=token, headers=headers)
        assert r.status == 403, (headers, r)
    # A TAXII POST by cookie is refused before its body is read.
    r = w.request("POST", objects_path(w.cid), {"objects": [indicator()]}, cookie=token,
                  content_type="application/taxii+json;version=2.1", headers={"Origin": w.url})
    assert r.status == 403, r
    # With no Origin, a Referer under the node's own origin will do.
    r = w.request("DELETE", "/ui/session", cookie=token, headers=dict(ok, Referer=w.url + "/ui/"))
    assert r.status == 200 and "Max-Age=0" in r.header("Set-Cookie"), r
    assert w.request("GET", "/ui/session", cookie=token).status == 401


@test
def over_tls_the_cookie_is_secure(w):
    d = os.path.join(w.dir, "tls")
    os.mkdir(d)
    ca, cert, key = make_certificates(d)
    srv = Server(w.db, w.dir, "console-tls", tls=(cert, key)).start()
    try:
        c = Client(srv, context=ssl.create_default_context(cafile=ca))
        origin = "https://127.0.0.1:%d" % srv.port
        r = c.request("POST", "/ui/session", body=json.dumps(
            {"username": "ana", "password": w.passwords["ana"]}).encode(), accept=None,
            content_type="application/json", headers={"Origin": origin})
        assert r.status == 200, r
        cookie = r.header("Set-Cookie")
        assert cookie.endswith("; Secure") and "HttpOnly" in cookie, cookie
        token = re.match(r"tix_session=([^;]+);", cookie).group(1)
        csrf = r.json()["csrf"]
        # The origin of a TLS node is https: the plain-HTTP spelling is another.
        h = {"Cookie": "tix_session=" + token, "X-CSRF-Token": csrf}
        r = c.request("DELETE", "/ui/session", accept=None,
                      headers=dict(h, Origin="http://127.0.0.1:%d" % srv.port))
        assert r.status == 403, r
        r = c.request("DELETE", "/ui/session", accept=None, headers=dict(h, Origin=origin))
        assert r.status == 200, r
        assert c.request("GET", "/ui/session", accept=None, headers=h).status == 401
    finally:
        srv.stop()


@test
def pattern_check_answers_with_the_checkers_position_and_reason(w):
    c = Client(w.server, bearer(w.keys["ana"]))

    def check(body, **kw):
        return c.request("POST", "/api/v1/patterns/check", body=body, accept=None,
                         content_type="application/json", **kw)

    r = check({"pattern": "[domain-name:value = 'x.example'"})
    assert r.status == 200, r
    e = r.json()["error"]
    assert r.json()["valid"] is False and e["line"] == 1 and e["column"] == 33, r.json()
    assert e["reason"] and not e["reason"].startswith("column"), e
    # The same message `tix pattern check` prints.
    cli = subprocess.run([TIX, "pattern", "check", "[domain-name:value = 'x.example'"],
                         capture_output=True)
    assert cli.returncode == 1 and e["message"] in cli.stderr.decode(), (e, cli.stderr)
    # Names are checked too, as on every write.
    r = check({"pattern": "[file:hashes.MD5 = 'nothex']"}).json()
    assert r["valid"] is False and "MD5" in r["error"]["message"], r
    r = check({"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_version": "2.1"})
    assert r.status == 200 and r.json()["valid"] is True, r.json()
    assert r.json()["canonical"] == "[ipv4-addr:value = '198.51.100.7']", r.json()
    for bad in (b"", b"[]", b'{"pattern": 1}', b'{"pattern": "[a:b = 1]", "x": 1}'):
        assert check(bad).status == 400, bad
    # Never anonymous; by cookie only with the CSRF token from the node's pages.
    anon = Client(w.server).request("POST", "/api/v1/patterns/check", body={"pattern": "[x:y = 1]"},
                                    accept=None, content_type="application/json")
    assert anon.status == 401, anon
    token, who = w.sign_in("ana")
    body = {"pattern": "[ipv4-addr:value = '198.51.100.7']"}
    r = w.request("POST", "/api/v1/patterns/check", body, cookie=token, headers={"Origin": w.url})
    assert r.status == 403, r
    r = w.request("POST", "/api/v1/patterns/check", body, cookie=token,
                  headers={"Origin": w.url, "X-CSRF-Token": who["csrf"]})
    assert r.status == 200 and r.json()["valid"] is True, r
    # Bounded: a body over 1 MiB and the JSON around it is refused unread.
    head = ("POST /api/v1/patterns/check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (bearer(w.keys["ana"]), (1 << 20) + 5000))
    assert raw_exchange(w.server.port, head.encode())[0] == 413
    assert c.request("POST", "/api/v1/search", body={}, accept=None,
                     content_type="application/json").status == 405


@test
def relationships_and_versions_pass_the_policy(w):
    def expect(r, status):
        assert r.status == status, r
        return r
    ana = Client(w.server, bearer(w.keys["ana"]))
    bob = Client(w.server, bearer(w.keys["bob"]))
    path = "/api/v1/objects/%s/relationships" % w.ids["shared_cert"]
    got = expect(ana.get(path, accept=None), 200).json()
    ids = {r["id"]: r for r in got["relationships"]}
    assert set(ids) == {w.rels["indicates"], w.rels["bank"], w.rels["hostile"]}, got
    out = ids[w.rels["indicates"]]
    assert out["direction"] == "out" and out["other"] == w.ids["malware"], out
    assert out["other_name"] == "QuillRAT" and out["other_type"] == "malware", out
    assert ids[w.rels["bank"]]["direction"] == "in", got
    assert RED_WORDS not in json.dumps(got) and w.ids["red"] not in json.dumps(got), got
    # Its owner sees the RED one, and the RED object's name at its end.
    got = expect(bob.get(path, accept=None), 200).json()
    red = [r for r in got["relationships"] if r["id"] == w.rels["red"]]
    assert len(got["relationships"]) == 4 and red and red[0]["other_name"] == RED_WORDS, got
    # What one may not read has no relationships and no versions to show.
    for sub in ("relationships", "versions"):
        r = ana.get("/api/v1/objects/%s/%s" % (w.ids["red"], sub), accept=None)
        assert r.status == 404, r
    v = expect(ana.get("/api/v1/objects/%s/versions" % w.ids["shared_cert"], accept=None),
               200).json()
    assert [x["modified"] for x in v["versions"]] == w.expect["versions"], v
    assert all(x["org"] == "cert" for x in v["versions"]), v


@test
def admin_pages_answer_admins_only(w):
    ada = Client(w.server, bearer(w.keys["ada"]))
    for user in ("ana", "bob"):
        c = Client(w.server, bearer(w.keys[user]))
        for path in ("collections", "peers", "audit?object=" + w.ids["shared_cert"]):
            r = c.get("/api/v1/admin/" + path, accept=None)
            assert r.status == 403 and "admin" in r.json()["description"], (user, path, r)
    a = ada.get("/api/v1/admin/collections", accept=None).json()
    feed = [c for c in a["collections"] if c["id"] == w.cid][0]
    assert {(g["org"], g["read"], g["write"]) for g in feed["grants"]} == {
        ("cert", True, True), ("bank", True, True)}, feed
    # Its organisation's users only: bank's are bank's affair.
    assert {u["name"] for u in a["users"]} == {"ana", "ada"}, a["users"]
    assert "password_hash" not in json.dumps(a) and "$argon2" not in json.dumps(a)
    assert {"name": "quill-responders", "members": ["cert"]} in a["groups"], a["groups"]
    p = ada.get("/api/v1/admin/peers", accept=None).json()["peers"]
    assert len(p) == 1 and p[0]["name"] == "regional-hub" and p[0]["errors"] >= 1, p
    assert p[0]["failing"] and p[0]["last_error"] and "tix_k" not in json.dumps(p), p
    # Who has seen it: bob's read of ana's object is in the audit log.
    Client(w.server, bearer(w.keys["bob"])).get("/api/v1/objects/" + w.ids["shared_cert"],
                                                 accept=None)
    deadline = time.monotonic() + 20
    while True:
        au = ada.get("/api/v1/admin/audit", params=(("object", w.ids["shared_cert"]),),
                     accept=None).json()
        if any(x["user"] == "bob" and x["action"] == "read" for x in au["who"]):
            break
        assert time.monotonic() < deadline, au
        time.sleep(0.2)
    assert any(x["user"] == "ana" and x["action"] == "write" for x in au["who"]), au
    assert ada.get("/api/v1/admin/audit", accept=None).status == 400
    # The admin reads by the policy too: not the audit of bank's RED object
    # (who read it would tell of it), as for one that does not exist.
    for oid in (w.ids["red"], "indicator--00000000-0000-4000-8000-000000000000"):
        r = ada.get("/api/v1/admin/audit", params=(("object", oid),), accept=None)
        assert r.status == 404, r
    assert ada.get("/api/v1/admin/nothing", accept=None).status == 404


@test
def drill_scoreboards_answer_admins_only(w):
    for user in ("ana", "bob"):
        c = Client(w.server, bearer(w.keys[user]))
        for path in ("/api/v1/drills", "/api/v1/drills/%s/score" % w.drill):
            r = c.get(path, accept=None)
            assert r.status == 403 and "admin" in r.json()["description"], (user, path, r)
    ada = Client(w.server, bearer(w.keys["ada"]))
    d = ada.get("/api/v1/drills", accept=None).json()["drills"]
    assert [(x["id"], x["name"], x["state"]) for x in d] == [
        (w.drill, "Regional drill", "running")], d
    sc = ada.get("/api/v1/drills/%s/score" % w.drill, accept=None).json()
    assert [t["team"] for t in sc["teams"]] == ["alpha", "bravo", "charlie"], sc
    for t in sc["teams"]:
        assert (t["detected"], t["missed"], t["false_detections"]) == (0, 1, 0), t
        assert [(x["name"], x["result"], x["time_to_detect_s"]) for x in t["injects"]] == [
            ("C2 beacon", "missed", None)], t
    for path in ("/api/v1/drills/%s/score" % "11111111-2222-4333-8444-555555555555",
                 "/api/v1/drills/%s" % w.drill, "/api/v1/drills/%s/scores" % w.drill):
        assert ada.get(path, accept=None).status == 404, path


def browser_world(w):
    return {"url": w.url, "chromium": CHROMIUM, "shots": SHOTS,
            "users": {"ana": {"name": "ana", "password": w.passwords["ana"]},
                      "ada": {"name": "ada", "password": w.passwords["ada"]},
                      "bob": {"name": "bob", "password": w.passwords["bob"], "key": w.keys["bob"]}},
            "peer_url": PEER_URL, "ids": w.ids, "rels": w.rels, "expect": w.expect, "shared_value": SHARED, "red_value": RED_VALUE,
            "red_words": RED_WORDS, "hostile": w.hostile, "objects_path": objects_path(w.cid),
            "new_object": indicator(name="posted from the console", object_marking_refs=[GREEN]),
            "collection": w.cid, "drill": w.drill,
            "new_indicator": {"name": "Typed in the console <b>form</b>",
                              "bad_pattern": "[domain-name:value = 'typed.example'",
                              "pattern": "[domain-name:value = 'typed-in-console.example']",
                              "value": "typed-in-console.example", "group": "quill-responders"}}


@test
def in_a_real_browser(w):
    assert os.path.exists(CHROMIUM), "no %s (sh tools/deps.sh test installs chromium)" % CHROMIUM
    ensure_playwright()
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(w.dir, "world.json")
    world = browser_world(w)
    # A MISP event of its own (other uuids and values than the API test's).
    event = json.loads(json.dumps(MISP_EVENT))
    event["Event"]["uuid"] = str(uuid.uuid4())
    for a in event["Event"]["Attribute"]:
        a["uuid"] = str(uuid.uuid4())
    event["Event"]["Attribute"][0]["value"] = MISP_BROWSER_VALUE
    world["misp"] = {"path": os.path.join(w.dir, "quill-event.json"), "value": MISP_BROWSER_VALUE}
    with open(world["misp"]["path"], "w") as f:
        json.dump(event, f)
    with open(path, "w") as f:
        json.dump(world, f)
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "e2e", "console_browser.js"), path],
                       cwd=ROOT, capture_output=True, timeout=600)
    out = r.stdout.decode(errors="replace")
    print(out, end="")
    fails = [l for l in out.splitlines() if l.startswith("FAIL")]
    oks = [l for l in out.splitlines() if l.startswith("ok ")]
    assert r.returncode == 0 and not fails and len(oks) >= 12, (
        "browser checks failed: %s\n%s" % (fails, r.stderr.decode(errors="replace")[-3000:]))
    print("screenshots in %s" % SHOTS)


MISP_EVENT = {"Event": {
    "uuid": "5d7e3f5a-1c2b-4e6f-9a0b-8c7d6e5f4a3b", "info": "Quill phishing wave <script>x</script>",
    "date": "2026-11-30", "timestamp": "1796000000", "threat_level_id": "2", "analysis": "2",
    "Orgc": {"name": "cert", "uuid": "a0c22599-9e58-4da4-96ac-7051603fa951"},
    "Attribute": [
        {"uuid": "8b1c4d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", "type": "domain", "category": "Network activity",
         "value": "quill-wave.example", "to_ids": True, "timestamp": "1796000000", "comment": "landing"},
        {"uuid": "9c2d5e3f-4a5b-4c6d-9e7f-8091a2b3c4d5", "type": "ip-dst", "category": "Network activity",
         "value": "203.0.113.77", "to_ids": True, "timestamp": "1796000000"},
        {"uuid": "ad3e6f4a-5b6c-4d7e-8f80-91a2b3c4d5e6", "type": "ip-dst", "category": "Network activity",
         "value": "not-an-address", "to_ids": True, "timestamp": "1796000000"},
        {"uuid": "be4f7a5b-6c7d-4e8f-9081-a2b3c4d5e6f7", "type": "domain",
         "category": "Network activity", "value": 42, "timestamp": "1796000000"}],
    "Object": [], "Tag": [{"name": "tlp:green"}]}}
MISP_VALUE = "quill-wave.example"
MISP_BROWSER_VALUE = "quill-upload.example"


def import_file(w, user, data, params, cookie=None, headers=None):
    path = "/api/v1/import?" + "&".join("%s=%s" % kv for kv in params.items())
    if cookie:
        return w.request("POST", path, data, cookie=cookie, headers=headers,
                         content_type="application/octet-stream")
    return Client(w.server, bearer(w.keys[user])).request(
        "POST", path, body=data, accept=None, content_type="application/octet-stream",
        headers=headers)


@test
def import_reports_each_object_and_writes_as_taxii_does(w):
    # A STIX array: one new indicator, one invalid object, and a new
    # version of another organisation's object (ownership refuses it).
    theirs = indicator(name="ana's C2, changed by bob", object_marking_refs=[GREEN],
                       pattern="[domain-name:value = '%s']" % SHARED)
    theirs["id"] = w.ids["shared_cert"]
    new = indicator(name="imported by bob", object_marking_refs=[GREEN],
                    pattern="[domain-name:value = 'bob-import.example']")
    broken = indicator(name="no pattern")
    del broken["pattern"]
    r = import_file(w, "bob", json.dumps([new, broken, theirs]).encode(),
                    {"collection": w.cid, "name": "bob.json"})
    assert r.status == 200, r
    rep = r.json()
    assert (rep["format"], rep["total"], rep["accepted"], rep["refused"]) == ("stix", 3, 1, 2), rep
    by_id = {(o["id"], o["result"]): o for o in rep["objects"]}
    assert (new["id"], "accepted") in by_id, rep
    assert "pattern" in by_id[(broken["id"], "refused")]["message"], rep
    assert "organisation" in by_id[(w.ids["shared_cert"], "refused")]["message"], rep
    ana = Client(w.server, bearer(w.keys["ana"]))
    got = ana.get("/api/v1/objects/" + w.ids["shared_cert"], accept=None).json()
    assert got["object"]["name"] == "C2 of the Quill campaign", got  # unchanged
    # MISP: converted by src/formats, a record it cannot map reported.
    r = import_file(w, "ana", json.dumps(MISP_EVENT).encode(), {"collection": w.cid,
                                                               "name": "event.json"})
    rep = r.json()
    assert r.status == 200 and rep["format"] == "misp" and rep["accepted"] >= 6, rep
    # The validator refuses the address that is none, the converter the
    # attribute it cannot map: each with its reason.
    refused = [o for o in rep["objects"] if o["result"] == "refused"]
    assert len(refused) == 1 and "not-an-address" in refused[0]["message"], rep
    assert len(rep["records_refused"]) == 1, rep
    assert rep["records_refused"][0]["where"] == "event.json: .Event.Attribute[3]", rep
    assert "value" in rep["records_refused"][0]["reason"], rep
    found = ana.get("/api/v1/search", params=(("q", MISP_VALUE),), accept=None).json()
    assert [x for x in found["results"] if x.get("org") == "cert"], found
    # Again: nothing new (the same versions).
    again = import_file(w, "ana", json.dumps(MISP_EVENT).encode(), {"collection": w.cid}).json()
    assert again["accepted"] == rep["accepted"], again
    # CSV with its columns named, marked as asked.
    csv_data = b"value,type\ncsv-import.example,domain-name\n198.51.100.200,ipv4-addr\n,\n"
    r = import_file(w, "ana", csv_data, {"collection": w.cid, "format": "csv",
                                         "map": "value=1,type=2", "header": "1", "tlp": "green",
                                         "file_time": "2026-12-01T10:00:00Z"})
    rep = r.json()
    assert r.status == 200 and rep["accepted"] == 2 and len(rep["records_refused"]) == 1, rep
    # Refusals: no collection, a collection the caller may not write, text
    # that is not JSON without a CSV map, a bad parameter, a forged cookie
    # POST, anonymous, and a declared body over max_content_length.
    assert import_file(w, "ana", b"{}", {}).status == 400
    ro = re.search(r"[0-9a-f-]{36}", tix_ok("admin", "collection", "add", "read-only", "--read",
                                            "cert", "--db", w.db)).group(0)
    r = import_file(w, "ana", json.dumps([indicator()]).encode(), {"collection": ro})
    assert r.status == 403, r
    r = import_file(w, "ana", b"a,b\n", {"collection": w.cid})
    assert r.status == 400 and "CSV" in r.json()["description"], r
    assert import_file(w, "ana", b"[]", {"collection": w.cid, "format": "xml"}).status == 400
    # An unknown parameter whose name the refusal cuts at 60 bytes, inside a
    # character: still a JSON refusal that says why (it was an empty body).
    r = import_file(w, "ana", b"[]", {"collection": w.cid, "a" * 59 + "%C3%A9": "1"})
    assert r.status == 400 and "unknown parameter" in r.json()["description"], r
    token, who = w.sign_in("ana")
    r = import_file(w, None, json.dumps([indicator()]).encode(), {"collection": w.cid},
                    cookie=token, headers={"Origin": w.url})
    assert r.status == 403, r
    r = import_file(w, None, json.dumps([indicator()]).encode(), {"collection": w.cid},
                    cookie=token, headers={"Origin": w.url, "X-CSRF-Token": who["csrf"]})
    assert r.status == 200 and r.json()["accepted"] == 1, r
    r = Client(w.server).request("POST", "/api/v1/import?collection=" + w.cid, body=b"[]",
                                 accept=None, content_type="application/octet-stream")
    assert r.status == 401, r
    head = ("POST /api/v1/import?collection=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s"
            "\r\nContent-Length: %d\r\n\r\n" % (w.cid, bearer(w.keys["ana"]), (1 << 20) + 1))
    assert raw_exchange(w.server.port, head.encode())[0] == 413


@test
def summary_is_cached_per_caller_until_the_store_changes(w):
    # Last: it adds objects the counts of the tests above do not hold.
    ana = Client(w.server, bearer(w.keys["ana"]))
    bob = Client(w.server, bearer(w.keys["bob"]))

    def summary(c):
        r = c.get("/api/v1/summary", accept=None)
        assert r.status == 200, r
        return r.json()

    def recent_ids(s):
        return [o["id"] for o in s["recent"]]

    a0, b0 = summary(ana), summary(bob)
    assert summary(ana) == a0 and summary(bob) == b0
    # bob's RED object: in bob's next summary at once (cached ones of
    # before are stale), never in ana's, cached or not.
    red = indicator(name="Quokka cached summary", object_marking_refs=[RED],
                    pattern="[domain-name:value = 'cached-%s.example']" % os.urandom(4).hex())
    w.post("bob", [red])
    b1 = summary(bob)
    assert b1["total"] == b0["total"] + 1 and red["id"] in recent_ids(b1), b1
    assert b1["by_tlp"].get("red", 0) == b0["by_tlp"].get("red", 0) + 1, b1
    assert summary(bob) == b1
    for _ in range(3):
        a1 = summary(ana)
        assert a1 == a0, (a0, a1)
        assert red["id"] not in json.dumps(a1) and "Quokka" not in json.dumps(a1), a1
    # ana's own new object shows up in her next summary, and in bob's.
    # Its name is longer than the 200 bytes listed, cut inside an "é":
    # listed up to the character before.
    green = indicator(name="a" * 199 + "\u00e9 posted for the cached summary",
                      object_marking_refs=[GREEN])
    w.post("ana", [green])
    a2, b2 = summary(ana), summary(bob)
    assert a2["total"] == a0["total"] + 1 and green["id"] in recent_ids(a2), a2
    listed = [o for o in a2["recent"] if o["id"] == green["id"]][0]
    assert listed.get("name") == "a" * 199, listed
    assert b2["total"] == b1["total"] + 1 and green["id"] in recent_ids(b2), b2
    assert red["id"] not in json.dumps(a2), a2


if __name__ == "__main__":
    sys.exit(run_world_tests(TESTS, World, "console"))
