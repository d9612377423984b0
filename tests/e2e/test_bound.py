#!/usr/bin/env python3
"""End-to-end tests of the bounds one partner cannot push the node past
(issue 13): a sparse reader's walk (every visible object once, without
examining what it may not see), the examined-rows budget's short pages,
bounded match lists, the store not created by read-only commands, and the
principals' turns: one principal's loop of requests never keeps another's
waiting, and a principal alone runs beyond its share on idle cores.

    TIX=build-asan/tix python3 tests/e2e/test_bound.py [TEST_NAME...]
"""

import json
import os
import hashlib
import http.client
import re
import shutil
import socket
import sqlite3
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, basic, bearer, expect, expect_error, indicator,  # noqa: E402
                        malware, manifest_path, new_id, objects_path, page_all, tix, tix_ok)

STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
EXT = "extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482"
OBJECTS = int(os.environ.get("BOUND_OBJECTS", "20000"))
VISIBLE_AT = (3, OBJECTS // 3, OBJECTS // 2 + 1, OBJECTS - 2, OBJECTS - 1)
MALWARE_EVERY = 997     # a few malware objects among the indicators, for match[type]
EXAMINE = 300           # --examine-max of the server: pages run out of budget often

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class World:
    """owner writes OBJECTS objects, all AMBER+STRICT but five AMBER for the
    sharing group "few", whose only member is sparse."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-bound-")
        self.db = os.path.join(self.dir, "tix.db")
        for org in ("owner", "sparse", "other"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for user, org, role in (("olga", "owner", "analyst"), ("sven", "sparse", "reader"),
                                ("otto", "other", "reader")):
            tix_ok("admin", "user", "add", user, "--org", org, "--role", role, "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", user, "--db", self.db)
            self.keys[user] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        tix_ok("admin", "user", "add", "pat", "--org", "owner", "--role", "analyst",
               "--password-stdin", "--db", self.db, stdin=b"right-password\n")
        out = tix_ok("admin", "collection", "add", "feed", "--read", "owner,sparse,other",
                     "--write", "owner", "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        tix_ok("admin", "group", "add", "few", "--db", self.db)
        tix_ok("admin", "group", "member-add", "few", "--org", "sparse", "--db", self.db)
        objs, self.visible, self.malware = [], set(), set()
        for i in range(OBJECTS):
            o = malware() if i % MALWARE_EVERY == 5 else indicator()
            if i in VISIBLE_AT:
                o["object_marking_refs"] = [AMBER]
                o["tix_sharing_group"] = "few"
                o["extensions"] = {EXT: {"extension_type": "toplevel-property-extension"}}
                self.visible.add(o["id"])
            else:
                o["object_marking_refs"] = [STRICT]
            if o["type"] == "malware":
                self.malware.add(o["id"])
            objs.append(o)
        path = os.path.join(self.dir, "feed.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
        tix_ok("import", "--quiet", "--org", "owner", "--collection", "feed", "--db", self.db,
               path)
        self.server = Server(self.db, self.dir, "bound",
                             ["--examine-max", str(EXAMINE)]).start()

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]) if user else None)

    def close(self):
        feeds = getattr(self, "feeds", None)
        try:
            self.server.stop()  # a clean exit, and no sanitizer report
            if feeds:
                feeds["server"].stop()
        finally:
            self.server.kill()
            if feeds:
                feeds["server"].kill()
            shutil.rmtree(self.dir, ignore_errors=True)


def once(ids):
    """The ids, asserting that none came twice."""
    seen = set()
    for i in ids:
        assert i not in seen, "%s listed twice" % i
        seen.add(i)
    return seen


@test
def a_sparse_reader_walks_the_collection_and_sees_each_visible_object_once(w):
    c = w.client("sven")
    for path, params in ((objects_path(w.cid), ()), (manifest_path(w.cid), ()),
                         (objects_path(w.cid), (("match[version]", "first"),)),
                         (objects_path(w.cid), (("match[version]", "all"),))):
        items, pages = page_all(c, path, params, limit=2)
        assert once(o["id"] for o in items) == w.visible, (path, params, len(items))
        # Five objects, two a page: three pages, however far apart they lie.
        assert len(pages) == 3, (path, params, len(pages))
    # Someone outside the group sees none of them, in one page.
    items, pages = page_all(w.client("otto"), objects_path(w.cid), (), limit=100)
    assert items == [] and len(pages) == 1, (len(items), len(pages))


@test
def when_the_budget_ends_first_the_page_is_short_and_the_walk_still_sees_everything(w):
    # The owner reads every row; malware is one in MALWARE_EVERY, so most
    # pages of match[type]=malware end on the examined-rows budget.
    c = w.client("olga")
    items, pages = page_all(c, objects_path(w.cid), (("match[type]", "malware"),), limit=50)
    assert once(o["id"] for o in items) == w.malware, (len(items), len(w.malware))
    short = [p for p in pages[:-1] if len(p.json().get("objects", [])) < 50]
    assert len(pages) >= OBJECTS // EXAMINE and short, (len(pages), len(short))
    # A plain walk with pages larger than the budget: short pages too, and
    # every object once.
    items, pages = page_all(c, manifest_path(w.cid), (), limit=1000)
    assert len(once(o["id"] for o in items)) == OBJECTS, len(items)
    assert all(len(p.json().get("objects", [])) <= EXAMINE for p in pages)


@test
def match_lists_are_bounded(w):
    c = w.client("sven")
    ids = sorted(w.visible) + [new_id("indicator") for _ in range(195)]
    r = expect(c.get(objects_path(w.cid), (("match[id]", ",".join(ids)),)), 200)
    assert once(o["id"] for o in r.json()["objects"]) == w.visible
    expect_error(c.get(objects_path(w.cid), (("match[id]", ",".join(ids + [new_id("x")])),)),
                 400)
    many = ",".join("2024-01-01T00:00:%02d.%03dZ" % (i // 1000, i % 1000) for i in range(201))
    expect_error(c.get(objects_path(w.cid), (("match[version]", many),)), 400)


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


BODY = 16 << 20


def raw_post(port, path, authorization, length=BODY, send=True, source="127.0.0.1"):
    """A POST declaring a 16 MiB body: the status line of the answer, and
    how many body bytes the server let us send before answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            "application/taxii+json;version=2.1\r\nAccept: application/taxii+json;version=2.1"
            "\r\nContent-Length: %d\r\n" % (path, length))
    if authorization:
        head += "Authorization: %s\r\n" % authorization
    s.sendall((head + "\r\n").encode())
    sent, chunk = 0, b"x" * (1 << 16)
    s.settimeout(0.5)
    answer = b""
    try:
        while send and sent < length:
            try:
                answer += s.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass
            if answer:
                break
            sent += s.send(chunk[:length - sent])
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    s.settimeout(60)
    try:
        while b"\r\n" not in answer:
            more = s.recv(65536)
            if not more:
                break
            answer += more
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return answer.split(b"\r\n", 1)[0].decode(errors="replace"), sent, answer


@test
def bodies_of_callers_who_may_not_write_are_never_read(w):
    srv = Server(w.db, w.dir, "bodies", ["--max-body", "17M", "--threads", "4"]).start()
    try:
        path = objects_path(w.cid)
        before = rss_kib(srv.proc.pid)
        for who in (None, "Bearer tix_nobody_0000000000000000", bearer(w.keys["sven"])):
            out, threads = [], []

            def one():
                # Wrong keys from an address of their own: its lock-out
                # must not shut out the others.
                out.append(raw_post(srv.port, path, who, source="127.0.0.9"
                                    if who and "nobody" in who else "127.0.0.1"))
            for _ in range(40):
                t = threading.Thread(target=one)
                t.start()
                threads.append(t)
            for t in threads:
                t.join()
            # A wrong key: 401, or 429 once failures from this address add up.
            want = ("403",) if who and "nobody" not in who else ("401", "429")
            assert len(out) == 40 and all(o[0].split(" ")[1] in want for o in out), \
                (who, out[:3])
            assert sum(o[1] for o in out) < 40 * BODY // 4, [o[1] for o in out]
        after = rss_kib(srv.proc.pid)
        peak = rss_kib(srv.proc.pid, "VmHWM")
        assert after - before < 64 * 1024 and peak - before < 64 * 1024, (before, after, peak)
        # A writer still posts normally.
        o = indicator()
        r = expect(Client(srv, bearer(w.keys["olga"])).post(path, {"objects": [o]}), 202)
        assert r.json()["success_count"] == 1
    finally:
        srv.stop()


@test
def past_the_body_budget_the_answer_is_503_with_retry_after(w):
    srv = Server(w.db, w.dir, "budget", ["--max-body", "17M", "--body-budget", "20M",
                                          "--body-share", "20M"]).start()
    try:
        path = objects_path(w.cid)
        olga = bearer(w.keys["olga"])
        # One upload holds 16 MiB of the 20: a second is told to come back.
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/taxii+json;"
                   "version=2.1\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n"
                   % (path, olga, BODY)).encode() + b"{")
        time.sleep(0.5)
        status, _, answer = raw_post(srv.port, path, olga, send=False)
        assert "503" in status and b"Retry-After:" in answer, answer[:300]
        s.close()
        time.sleep(0.5)
        r = expect(Client(srv, olga).post(path, {"objects": [indicator()]}), 202)
        assert r.json()["success_count"] == 1
    finally:
        srv.stop()


def get_from(port, source, authorization, path="/taxii2/"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    try:
        c.request("GET", path, headers={"Authorization": authorization,
                                        "Accept": "application/taxii+json;version=2.1"})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


@test
def a_locked_user_stays_locked_through_a_flood_from_4096_addresses(w):
    srv = Server(w.db, w.dir, "flood", ["--threads", "4"]).start()
    try:
        for i in range(10):
            assert get_from(srv.port, "127.0.0.7", basic("pat", "guess-%d" % i)) == 401
        assert get_from(srv.port, "127.0.0.8", basic("pat", "right-password")) == 429

        def flood(k):
            for i in range(k, 4096, 8):
                get_from(srv.port, "127.2.%d.%d" % (i // 250, 1 + i % 250),
                         bearer("tix_aaaaaaaaaaaa_" + "A" * 43))
        threads = [threading.Thread(target=flood, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Still locked, for the right password and for fresh guesses, from
        # an address of its own; others are not shut out.
        assert get_from(srv.port, "127.0.0.8", basic("pat", "right-password")) == 429
        for i in range(3):
            assert get_from(srv.port, "127.0.0.9", basic("pat", "fresh-%d" % i)) == 429
        assert get_from(srv.port, "127.0.0.10", bearer(w.keys["sven"])) == 200
    finally:
        srv.stop()
    # The flood is a few rows of counts per source prefix, not one row each.
    db = sqlite3.connect(w.db)
    rows = db.execute("SELECT action, detail FROM audit WHERE action LIKE 'auth-failure%'"
                      " AND detail LIKE '%127.2.%'").fetchall()
    db.close()
    counted = sum(int(d.split()[0]) for a, d in rows if a == "auth-failures")
    singles = sum(1 for a, d in rows if a == "auth-failure")
    assert len(rows) < 100 and counted > 1000 and singles <= 17, (len(rows), counted, singles)


def within_a_second(check):
    deadline = time.monotonic() + 1.0
    while True:
        if check():
            return
        assert time.monotonic() < deadline, "not applied within a second"
        time.sleep(0.05)


@test
def node_settings_apply_to_a_running_server(w):
    srv = Server(w.db, w.dir, "live", []).start()
    try:
        anon, otto = Client(srv), Client(srv, bearer(w.keys["otto"]))
        path = objects_path(w.cid)
        unmarked = indicator()
        expect(Client(srv, bearer(w.keys["olga"])).post(path, {"objects": [unmarked]}), 202)
        one = objects_path(w.cid, unmarked["id"])
        assert anon.get(path).status == 401
        assert otto.get(one).status == 200  # unmarked: the default, AMBER, for readers
        r = tix("admin", "node", "set", "--anonymous-read", "on", "--db", w.db)
        assert r.returncode == 0 and b"next request" in r.stderr, r.stderr
        within_a_second(lambda: anon.get(path).status == 200)
        tix_ok("admin", "node", "set", "--default-tlp", "amber+strict", "--db", w.db)
        within_a_second(lambda: otto.get(one).status == 404)
        tix_ok("admin", "node", "set", "--default-tlp", "amber", "--anonymous-read", "off",
               "--db", w.db)
        within_a_second(lambda: otto.get(one).status == 200 and anon.get(path).status == 401)
    finally:
        srv.stop()
    # A server started with --default-tlp keeps it.
    srv = Server(w.db, w.dir, "fixed", ["--default-tlp", "amber+strict"]).start()
    try:
        otto = Client(srv, bearer(w.keys["otto"]))
        tix_ok("admin", "node", "set", "--default-tlp", "green", "--db", w.db)
        time.sleep(0.3)
        assert otto.get(one).status == 404
    finally:
        srv.stop()
        tix_ok("admin", "node", "set", "--default-tlp", "amber", "--db", w.db)


def legacy_hash(prev, seq, row):
    """The unkeyed chain of stores before the audit key: what anyone could
    recompute without the node secret."""
    h = hashlib.blake2b(digest_size=32)
    h.update(prev)
    for v in (seq, row[0]):
        h.update(struct.pack("<Q", v))
    for text in row[1:]:
        b = (text or "").encode()
        h.update(struct.pack("<Q", len(b)))
        h.update(b)
    return h.digest()


def audit_verify(db, *extra):
    r = tix("audit", "verify", "--db", db, *extra)
    return r.returncode, (r.stdout + r.stderr).decode()


@test
def a_truncated_or_rewritten_audit_chain_fails_verify_and_the_anchor(w):
    for i in range(3):
        expect(w.client("sven").get(objects_path(w.cid)), 200)  # read entries
    time.sleep(1.5)  # the server's audit queue writes them
    anchor = tix_ok("audit", "anchor", "--db", w.db).strip()
    seq = int(anchor.split(":")[0])
    assert seq >= 3 and re.fullmatch(r"\d+:[0-9a-f]{64}", anchor), anchor
    assert audit_verify(w.db, "--anchor", anchor)[0] == 0
    bad = "%d:%s" % (seq, "0" * 64)
    assert audit_verify(w.db, "--anchor", bad)[0] == 1
    for kind in ("truncate", "rewrite"):
        db = os.path.join(w.dir, "tampered-%s.db" % kind)
        src = sqlite3.connect(w.db)
        dst = sqlite3.connect(db)
        src.backup(dst)
        src.close()
        if kind == "truncate":
            # Cut the last entry off and move the head back onto the one before.
            prev_hash = dst.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()[0]
            dst.execute("DELETE FROM audit WHERE seq = ?", (seq,))
            dst.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'",
                        ("%d %s" % (seq - 1, prev_hash.hex()),))
        else:
            # Change an actor and recompute the whole chain without the key.
            dst.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = ?", (seq - 1,))
            prev = bytes(32)
            for row in dst.execute("SELECT seq, at, action, actor, org, objects, detail"
                                   " FROM audit ORDER BY seq").fetchall():
                prev = legacy_hash(prev, row[0], row[1:])
                dst.execute("UPDATE audit SET hash = ? WHERE seq = ?", (prev, row[0]))
            dst.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'",
                        ("%d %s" % (seq, prev.hex()),))
            dst.execute("UPDATE meta SET value = ? WHERE key = 'audit_keyed_from'",
                        ("%d 0" % seq,))
        dst.commit()
        dst.close()
        rc, out = audit_verify(db)
        assert rc == 1 and "BROKEN" in out, (kind, rc, out)
        rc, out = audit_verify(db, "--anchor", anchor)
        assert rc == 1 and "BROKEN" in out, (kind, rc, out)
    assert audit_verify(w.db, "--anchor", anchor)[0] == 0


@test
def one_principal_s_requests_take_turns_and_all_are_answered(w):
    """The server runs one request of a principal at a time here (two cores:
    --principal-requests defaults to 1); the others wait, suspended. Eight
    connections of olga reading large pages at once: every answer is whole,
    otto's reads meanwhile are answered, and the waits are counted."""
    before = waited(w)
    errors, pages = [], []

    def olga(k):
        try:
            c = w.client("olga")
            for i in range(6):
                # the same first page, each under a query of its own: the
                # answer cache (which an audited read no longer empties)
                # answers none of them, so each runs the query and they overlap
                after = "1970-01-01T00:%02d:%02d.000Z" % (k, i)
                r = expect(c.get(objects_path(w.cid), (("limit", "1000"), ("added_after", after))),
                           200)
                pages.append(len(r.json()["objects"]))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=olga, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    o = w.client("otto")
    for _ in range(10):
        expect(o.get("/taxii2/"), 200)
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert len(pages) == 48 and min(pages) > 0, pages
    # the examine budget shortens pages; each is the same first page
    assert len(set(pages)) == 1, pages
    assert waited(w) > before, "no request waited its turn"


def waited(w, server=None):
    r = Client(server or w.server, None).get("/metrics", accept=None)
    m = re.search(r"^tix_http_waited_turn_total (\d+)$", r.body.decode(), re.M)
    assert m, r.body[:400]
    return int(m.group(1))


CORES = os.sysconf("SC_NPROCESSORS_ONLN")
HOLD_WAIT = 60  # seconds a held feed's answer or a request's may take to begin


def feed_world(w):
    """A store of its own (made once): 4,000 indicators of long URLs, whose
    list feed (7.7 MB) is far more than the socket buffers hold, and a
    server whose share per principal is one request, with a thread for each
    core and one more; two users, una and vic, of one organisation."""
    if getattr(w, "feeds", None):
        return w.feeds
    db = os.path.join(w.dir, "feeds.db")
    tix_ok("admin", "org", "add", "feeder", "--db", db)
    keys = {}
    for user in ("una", "vic"):
        tix_ok("admin", "user", "add", user, "--org", "feeder", "--role", "analyst", "--db", db)
        out = tix_ok("admin", "key", "add", "--user", user, "--db", db)
        keys[user] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
    out = tix_ok("admin", "collection", "add", "urls", "--read", "feeder", "--write", "feeder",
                 "--db", db)
    cid = re.search(r"[0-9a-f-]{36}", out).group(0)
    objs = [indicator(pattern="[url:value = 'http://big.example/%d/%s']" % (i, "a" * 1900))
            for i in range(4000)]
    path = os.path.join(w.dir, "urls.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
    tix_ok("import", "--quiet", "--org", "feeder", "--collection", "urls", "--db", db, path)
    # beyond a share, requests never take the pool's last thread: one more
    # thread than cores; a held feed is not closed as idle meanwhile
    server = Server(db, w.dir, "feeds", ["--principal-requests", "1", "--threads",
                                         str(CORES + 1), "--idle-timeout", "600"]).start()
    w.feeds = {"server": server, "cid": cid, "keys": keys}
    return w.feeds


class HeldFeed:
    """A GET of the big feed whose answer began (its head was read) and is
    then not read on: the request keeps running, and holds its turn, until
    close(). Raises when its answer does not begin (it waited its turn)."""

    def __init__(self, f, user):
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.settimeout(HOLD_WAIT)
        self.s.connect(("127.0.0.1", f["server"].port))
        self.s.sendall(("GET /feeds/%s/list HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Authorization: Bearer %s\r\n\r\n" % (f["cid"], f["keys"][user])).encode())
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = self.s.recv(1024)
                assert chunk, "the feed's connection closed: %r" % head
                head += chunk
        except socket.timeout:
            self.s.close()
            raise AssertionError("a feed of %s never began: it waited its turn" % user)
        assert head.startswith(b"HTTP/1.1 200"), head[:200]

    def close(self):
        self.s.close()


def get_collections(f, user, out):
    """GET of the collections as user, with HOLD_WAIT to begin; its status into out."""
    c = http.client.HTTPConnection("127.0.0.1", f["server"].port, timeout=HOLD_WAIT)
    try:
        c.request("GET", "/api1/collections/", headers={
            "Accept": "application/taxii+json;version=2.1",
            "Authorization": "Bearer " + f["keys"][user]})
        r = c.getresponse()
        r.read()
        out.append(r.status)
    except OSError as e:
        out.append(repr(e))
    finally:
        c.close()


@test
def a_principal_alone_runs_beyond_its_share_on_idle_cores(w):
    """The share of a principal is one request here, but while fewer
    requests run than there are cores and no one waits, its requests beyond
    the share run too: with cores - 1 feeds of una's held open (each one
    running, its answer not read), her next request is answered, and none
    waited its turn."""
    if CORES < 2:
        print("     (one core: nothing to run beyond the share)")
        return
    f = feed_world(w)
    before = waited(w, f["server"])
    held, got = [], []
    try:
        for _ in range(CORES - 1):
            held.append(HeldFeed(f, "una"))
        get_collections(f, "una", got)
    finally:
        for h in held:
            h.close()
    assert got == [200], "una's request waited behind her own feed on an idle core: %s" % got
    assert waited(w, f["server"]) == before, "a request waited its turn on an idle core"


@test
def beyond_its_share_a_principal_never_keeps_another_waiting(w):
    """una holds as many feeds as there are cores (those beyond her share ran
    because the cores were idle); her next request now waits its turn, while
    vic's, within his own share, is answered at once: running requests are
    not preempted, and they never make another principal wait. When one of
    una's feeds ends, her waiting request is resumed and answered."""
    if CORES < 2:
        print("     (one core: nothing to run beyond the share)")
        return
    f = feed_world(w)
    held, got, vic = [], [], []
    t = threading.Thread(target=get_collections, args=(f, "una", got))
    try:
        for _ in range(CORES):
            held.append(HeldFeed(f, "una"))
        # counted from here: a held feed may have waited for the end of one
        # of the test before, which the server may not have seen close yet
        before = waited(w, f["server"])
        t.start()
        for _ in range(HOLD_WAIT * 10):  # until her request is counted as waiting
            if waited(w, f["server"]) > before:
                break
            time.sleep(0.1)
        assert waited(w, f["server"]) == before + 1, "una's request beyond the cores did not wait"
        get_collections(f, "vic", vic)
        assert vic == [200], "vic waited behind una's feeds: %s" % vic
        assert not got, "una's request ran beyond the cores: %s" % got
        held.pop(0).close()
        t.join(HOLD_WAIT + 10)
    finally:
        for h in held:
            h.close()
        if t.ident:
            t.join(HOLD_WAIT + 10)
    assert got == [200], "una's waiting request was not resumed when her feed ended: %s" % got


@test
def a_flood_beyond_the_share_still_leaves_room_for_another(w):
    """On the server where requests may run beyond a share: una's feeds
    hold every core, and eight connections of hers reading large pages
    all wait their turn; vic's reads meanwhile are answered; when the feeds
    end, every one of una's requests is resumed in turn and its answer is
    whole."""
    if CORES < 2:
        print("     (one core: nothing to run beyond the share)")
        return
    f = feed_world(w)
    errors, pages, held = [], [], []

    def una(k):
        try:
            c = Client(f["server"], bearer(f["keys"]["una"]))
            for i in range(4):
                after = "1970-01-01T00:%02d:%02d.000Z" % (k, i)  # no answer cached
                params = (("limit", "200"), ("added_after", after))
                r = expect(c.get(objects_path(f["cid"]), params), 200)
                pages.append(len(r.json()["objects"]))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=una, args=(k,)) for k in range(8)]
    try:
        for _ in range(CORES):
            held.append(HeldFeed(f, "una"))
        before = waited(w, f["server"])  # as in the test before
        for t in threads:
            t.start()
        for _ in range(HOLD_WAIT * 10):  # until all eight wait
            if waited(w, f["server"]) >= before + 8:
                break
            time.sleep(0.1)
        assert waited(w, f["server"]) == before + 8, "una's requests did not all wait"
        v = Client(f["server"], bearer(f["keys"]["vic"]))
        for _ in range(10):
            expect(v.get("/taxii2/"), 200)
        assert not pages, "una's requests ran beyond the cores: %s" % pages
    finally:
        for h in held:
            h.close()
        for t in threads:
            if t.ident:
                t.join(120)
    assert not errors, errors[:3]
    assert pages == [200] * 32, pages


@test
def read_only_commands_never_create_a_store(w):
    missing = os.path.join(w.dir, "typo", "tix.db")
    log = os.path.join(w.dir, "proxy.log")
    with open(log, "w") as f:
        f.write("GET http://example.org/ 200\n")
    for args in (["export"], ["get", "indicator--" + "0" * 8 + "-0000-4000-8000-" + "0" * 12],
                 ["stats"], ["match", log], ["audit", "verify"], ["audit", "show"],
                 ["peer", "list"], ["peer", "status"]):
        r = tix(*args, "--db", missing)
        err = r.stderr.decode()
        assert r.returncode == 3, (args, r.returncode, err)
        assert "no store at %s (tix import or tix admin creates one)" % missing in err, (args, err)
        assert not os.path.exists(missing) and not os.path.exists(os.path.dirname(missing)), args
    # Writing commands still create it.
    tix_ok("admin", "org", "add", "newcomer", "--db", missing)
    assert os.path.exists(missing)
    assert json.loads(tix_ok("export", "--db", missing))["type"] == "bundle"


def main():
    return run_world_tests(TESTS, World, "bound")


if __name__ == "__main__":
    sys.exit(main())
