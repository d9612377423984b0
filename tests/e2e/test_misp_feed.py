#!/usr/bin/env python3
"""End-to-end tests of the MISP feed `tix serve` answers (docs/formats.md):
GET /misp/<collection-id>/manifest.json, /<event-uuid>.json and hashes.csv
with API keys as TAXII takes them, application/json, through the caller's
sharing policy; a MISP feed built from those answers read back by
`tix import DIR`; and a MISP feed served by a local HTTP server pulled by a
`--kind misp-feed` peer (`tix sync --once`).

    TIX=build-asan/tix python3 tests/e2e/test_misp_feed.py [TEST_NAME...]
"""

import hashlib
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import run_world_tests, SANITIZER_MARKS, Client, Server, bearer, tix, tix_ok  # noqa: E402

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


ORG = {"name": "CERT-Тест", "uuid": "a0c22599-9e58-4da4-96ac-7051603fa951"}


def event(uuid, tlp, ts, values):
    return {"Event": {
        "uuid": uuid, "info": "event %s (%s)" % (uuid[-4:], tlp), "timestamp": str(ts), "published": False,
        "Orgc": ORG, "Tag": [{"name": "tlp:" + tlp}],
        "Attribute": [{"uuid": "6a1b2c3d-%s-4aaa-8bbb-%012x" % (uuid[-4:], i + 1), "type": t, "category": "Network activity",
                       "value": v, "to_ids": True, "timestamp": str(ts)} for i, (t, v) in enumerate(values)]}}


EVENTS = {
    "green": event("5f0a1c2e-0a6b-4d1e-9c0a-00000000000a", "green", 1700000000,
                   [("domain", "green.example"), ("domain|ip", "gi.example|198.51.100.4")]),
    "red": event("5f0a1c2e-0a6b-4d1e-9c0a-00000000000b", "red", 1700000100, [("domain", "red.example")]),
    "mixed": event("5f0a1c2e-0a6b-4d1e-9c0a-00000000000c", "green", 1700000200,
                   [("domain", "open.example"), ("domain", "secret.example")]),
}
# one attribute of the GREEN "mixed" event is TLP:RED: an event file shows a
# caller only the part of the event it may see
EVENTS["mixed"]["Event"]["Attribute"][1]["Tag"] = [{"name": "tlp:red"}]


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-mispfeed-")
        self.db = os.path.join(self.dir, "tix.db")
        for org in ("cert", "bank"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for name, org in (("cert-ana", "cert"), ("bank-rita", "bank")):
            tix_ok("admin", "user", "add", name, "--org", org, "--role", "analyst", "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = tix_ok("admin", "collection", "add", "misp", "--read", "cert,bank", "--write", "cert",
                     "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        for name, ev in EVENTS.items():
            p = os.path.join(self.dir, name + ".json")
            with open(p, "w") as f:
                json.dump(ev, f, ensure_ascii=False)
            tix_ok("import", "--db", self.db, "--collection", self.cid, "--org", "cert", p)
        self.server = Server(self.db, self.dir, "mispfeed").start()

    def get(self, who, path, accept="application/json"):
        c = Client(self.server, bearer(self.keys[who]) if who else None)
        return c.get("/misp/%s/%s" % (self.cid, path), accept=accept)

    def close(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def manifest_events_and_hashes_through_the_policy(w):
    r = w.get("cert-ana", "manifest.json")
    assert r.status == 200, r.body
    assert r.headers["Content-Type"] == "application/json"
    man = json.loads(r.body)
    assert set(man) == {EVENTS[k]["Event"]["uuid"] for k in ("green", "red", "mixed")}
    g = man[EVENTS["green"]["Event"]["uuid"]]
    assert g["info"] == EVENTS["green"]["Event"]["info"] and g["timestamp"] == "1700000000"
    assert g["Orgc"]["uuid"] == ORG["uuid"] and {"name": "tlp:green"} in g["Tag"]
    # another organisation of the collection: GREEN yes, RED (no recipients) never
    man = json.loads(w.get("bank-rita", "manifest.json").body)
    assert set(man) == {EVENTS["green"]["Event"]["uuid"], EVENTS["mixed"]["Event"]["uuid"]}, man
    r = w.get("bank-rita", EVENTS["red"]["Event"]["uuid"] + ".json")
    assert r.status == 404, r.body
    r = w.get("bank-rita", EVENTS["green"]["Event"]["uuid"] + ".json")
    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
    ev = json.loads(r.body)["Event"]
    assert sorted(a["value"] for a in ev["Attribute"]) == ["gi.example|198.51.100.4", "green.example"]
    r = w.get("bank-rita", "hashes.csv")
    assert r.status == 200 and r.headers["Content-Type"] == "text/csv"
    lines = set(r.body.decode().split())
    for v in ("green.example", "gi.example|198.51.100.4", "gi.example", "198.51.100.4"):
        assert "%s,%s" % (hashlib.md5(v.encode()).hexdigest(), ev["uuid"]) in lines, v
    assert not any("red.example" in l or EVENTS["red"]["Event"]["uuid"] in l for l in lines)
    # part of an event: the GREEN attribute, never the RED one (nor its hash)
    assert "%s,%s" % (hashlib.md5(b"open.example").hexdigest(), EVENTS["mixed"]["Event"]["uuid"]) in lines
    assert not any(hashlib.md5(b"secret.example").hexdigest() in l for l in lines)
    r = w.get("bank-rita", EVENTS["mixed"]["Event"]["uuid"] + ".json")
    assert r.status == 200, r.body
    assert [a["value"] for a in json.loads(r.body)["Event"]["Attribute"]] == ["open.example"], r.body
    assert b"secret.example" not in r.body
    # the event's own organisation sees it whole
    r = w.get("cert-ana", EVENTS["mixed"]["Event"]["uuid"] + ".json")
    assert sorted(a["value"] for a in json.loads(r.body)["Event"]["Attribute"]) == ["open.example", "secret.example"]
    # no key: 401; a bad file name or collection: 404
    assert w.get(None, "manifest.json").status == 401
    assert w.get("cert-ana", "../../etc/passwd").status == 404
    assert w.get("cert-ana", "nope.json").status == 404
    c = Client(w.server, bearer(w.keys["cert-ana"]))
    assert c.get("/misp/00000000-0000-4000-8000-000000000000/manifest.json", accept="application/json").status == 404
    # the read is in the audit log, as TAXII reads are
    # (the server writes its audit queue in the background)
    for _ in range(100):
        out = tix_ok("audit", "show", "--db", w.db, "--object", "indicator--6a1b2c3d-000a-4aaa-8bbb-000000000001")
        if "bank-rita" in out:
            break
        time.sleep(0.1)
    assert "bank-rita" in out and "/misp/" in out, out


@test
def a_feed_made_of_the_answers_imports_into_another_node(w):
    d = os.path.join(w.dir, "feed")
    os.mkdir(d)
    man = w.get("bank-rita", "manifest.json").body
    with open(os.path.join(d, "manifest.json"), "wb") as f:
        f.write(man)
    for u in json.loads(man):
        with open(os.path.join(d, u + ".json"), "wb") as f:
            f.write(w.get("bank-rita", u + ".json").body)
    other = os.path.join(w.dir, "other.db")
    r = tix("import", "--db", other, d)
    assert r.returncode == 0, r.stderr
    ids = {o["id"] for o in json.loads(tix_ok("export", "--db", other))["objects"]}
    src = {o["id"] for o in json.loads(tix_ok("export", "--db", w.db, "--as-org", "bank",
                                               "--collection", w.cid))["objects"]}
    # the same objects (by id) as the GREEN event, none of the RED one's
    assert "grouping--" + EVENTS["green"]["Event"]["uuid"] in ids
    assert not any("-000b-4aaa-" in i for i in ids) and "grouping--" + EVENTS["red"]["Event"]["uuid"] not in ids
    assert ids <= src | {"identity--" + ORG["uuid"]}, ids - src


@test
def the_streamed_feed_is_the_export_event_by_event_and_day_by_day(w):
    # a collection of its own: events (one RED), and loose GREEN indicators
    # over four days, which the feed groups into one event a day
    out = tix_ok("admin", "collection", "add", "misp-days", "--read", "cert,bank", "--write", "cert",
                 "--db", w.db)
    cid = re.search(r"[0-9a-f-]{36}", out).group(0)
    evs = [event("5f0a1c2e-0a6b-4d1e-9c0a-0000000001%02x" % i, "red" if i == 1 else "green", 1700000000 + i,
                 [("domain", "e%d-%d.example" % (i, k)) for k in range(20)]) for i in range(3)]
    for i, ev in enumerate(evs):
        ev["Event"]["Attribute"] = [dict(a, uuid=a["uuid"][:-6] + "%02x%04x" % (i, k))
                                    for k, a in enumerate(ev["Event"]["Attribute"])]
        p = os.path.join(w.dir, "days%d.json" % i)
        with open(p, "w") as f:
            json.dump(ev, f)
        tix_ok("import", "--db", w.db, "--collection", cid, "--org", "cert", p)
    p = os.path.join(w.dir, "days.csv")
    with open(p, "w") as f:
        f.write("type,value,first_seen\n")
        for d in range(4):
            for k in range(150):
                f.write("domain,l%d-%d.days.example,2024-05-%02dT%02d:00:00Z\n" % (d, k, d + 1, k % 24))
    tix_ok("import", "--db", w.db, "--collection", cid, "--org", "cert", "--format", "csv", "--header",
           "--map", "type=1,value=2,first_seen=3", "--tlp", "green", p)
    c = {who: Client(w.server, bearer(w.keys[who])) for who in ("cert-ana", "bank-rita")}
    for who, org in (("cert-ana", "cert"), ("bank-rita", "bank")):
        want = [e["Event"] for e in json.loads(tix_ok("export", "--db", w.db, "--format", "misp",
                                                       "--collection", cid, "--as-org", org))["response"]]
        assert len(want) == (3 if org == "cert" else 2) + 4, [e["info"] for e in want]
        r = c[who].get("/misp/%s/manifest.json" % cid, accept="application/json")
        assert r.status == 200, r.body
        man = json.loads(r.body)
        assert list(man) == [e["uuid"] for e in want], (list(man), [e["uuid"] for e in want])
        hashes = set()
        for e in want:
            assert man[e["uuid"]]["info"] == e["info"] and man[e["uuid"]]["timestamp"] == e["timestamp"]
            # each event file, the report's or a day's, is the export's event
            r = c[who].get("/misp/%s/%s.json" % (cid, e["uuid"]), accept="application/json")
            assert r.status == 200, (who, e["info"], r.body)
            assert json.loads(r.body)["Event"] == e, (who, e["info"])
            for a in e["Attribute"]:
                hashes.add("%s,%s" % (hashlib.md5(a["value"].encode()).hexdigest(), e["uuid"]))
        r = c[who].get("/misp/%s/hashes.csv" % cid, accept="text/csv")
        assert set(r.body.decode().split()) == hashes, who
        days = [e for e in want if e["info"].startswith("misp-days: indicators of ")]
        assert [e["info"][-10:] for e in days] == ["2024-05-0%d" % (d + 1) for d in range(4)]
        assert all(len(e["Attribute"]) == 150 for e in days)
    # the RED event: its organisation's only, by name as in the manifest
    red = evs[1]["Event"]["uuid"]
    assert c["bank-rita"].get("/misp/%s/%s.json" % (cid, red), accept="application/json").status == 404
    assert c["cert-ana"].get("/misp/%s/%s.json" % (cid, red), accept="application/json").status == 200
    r = c["bank-rita"].get("/misp/%s/hashes.csv" % cid, accept="text/csv")
    assert red not in r.body.decode() and hashlib.md5(b"e1-0.example").hexdigest() not in r.body.decode()
    # an event uuid of another collection's day is not this collection's
    assert c["bank-rita"].get("/misp/%s/%s.json" % (w.cid, days[0]["uuid"]),
                              accept="application/json").status == 404
    # answers are cached per caller until the store changes: polling gives
    # the same bytes, and a new event is in the next answer at once
    first = c["bank-rita"].get("/misp/%s/manifest.json" % cid, accept="application/json")
    again = c["bank-rita"].get("/misp/%s/manifest.json" % cid, accept="application/json")
    assert again.status == 200 and again.body == first.body
    assert again.headers["Content-Type"] == "application/json"
    assert c["cert-ana"].get("/misp/%s/manifest.json" % cid, accept="application/json").body != first.body
    new = event("5f0a1c2e-0a6b-4d1e-9c0a-0000000001ff", "green", 1700000500, [("domain", "late.example")])
    p = os.path.join(w.dir, "late.json")
    with open(p, "w") as f:
        json.dump(new, f)
    tix_ok("import", "--db", w.db, "--collection", cid, "--org", "cert", p)
    man = json.loads(c["bank-rita"].get("/misp/%s/manifest.json" % cid, accept="application/json").body)
    assert new["Event"]["uuid"] in man and len(man) == len(json.loads(first.body)) + 1
    r = c["bank-rita"].get("/misp/%s/hashes.csv" % cid, accept="text/csv")
    assert r.headers["Content-Type"] == "text/csv"
    assert hashlib.md5(b"late.example").hexdigest() in r.body.decode()


class FeedServer:
    """A MISP feed directory on a free loopback port, with a request log."""

    def __init__(self, root):
        log = self.log = []
        auth = self.auth = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=root, **kw)

            def do_GET(self):
                log.append(self.path)
                auth.append(self.headers.get("Authorization"))
                super().do_GET()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/manifest.json" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def write_feed(d, events, manifest_extra=(), hashes_lie=None, raw=None):
    """manifest.json, <uuid>.json and hashes.csv as MISP writes them."""
    man, lines = {}, []
    for ev in events:
        e = ev["Event"]
        man[e["uuid"]] = {"info": e["info"], "timestamp": e["timestamp"], "Orgc": e["Orgc"]}
        with open(os.path.join(d, e["uuid"] + ".json"), "w") as f:
            json.dump(ev, f, ensure_ascii=False)
        for a in e["Attribute"]:
            vals = [a["value"]] + (a["value"].split("|") if "|" in a["value"] else [])
            lines += ["%s,%s" % (hashlib.md5(v.encode()).hexdigest(), e["uuid"]) for v in vals]
    for u, ts in manifest_extra:
        man[u] = {"info": "listed", "timestamp": str(ts), "Orgc": ORG}
    for u, text in (raw or {}).items():
        with open(os.path.join(d, u + ".json"), "w") as f:
            f.write(text)
    if hashes_lie:
        lines.append("%s,%s" % (hashlib.md5(b"not in the event").hexdigest(), hashes_lie))
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(man, f, ensure_ascii=False)
    with open(os.path.join(d, "hashes.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def peer_status(db, name):
    return [p for p in json.loads(tix_ok("peer", "status", name, "--json", "--db", db)) if p["name"] == name][0]


@test
def a_misp_feed_peer_pulls_new_and_changed_events_and_refuses_bad_ones(w):
    d = os.path.join(w.dir, "pulled")
    os.mkdir(d)
    db = os.path.join(w.dir, "puller.db")
    for org in ("feedorg", "other"):
        tix_ok("admin", "org", "add", org, "--db", db)
    out = tix_ok("admin", "collection", "add", "fromfeed", "--db", db)
    cid = re.search(r"[0-9a-f-]{36}", out).group(0)
    a = event("7b0a1c2e-0a6b-4d1e-9c0a-0000000000a1", "green", 1700000000,
              [("domain", "alpha.example"), ("domain|ip", "ai.example|198.51.100.7")])
    b = event("7b0a1c2e-0a6b-4d1e-9c0a-0000000000b2", "clear", 1700000050, [("domain", "beta.example")])
    b["Event"]["info"] = "Фишинг: 攻撃キャンペーン"
    write_feed(d, [a, b])
    srv = FeedServer(d)
    try:
        # pull-only, and the TAXII shape still needs what it needed
        r = tix("peer", "add", "bad", "--kind", "misp-feed", "--url", srv.url, "--local-collection", cid,
                "--org", "feedorg", "--direction", "both", "--db", db)
        assert r.returncode != 0 and b"pull-only" in r.stderr, r.stderr
        r = tix("peer", "add", "t", "--url", srv.url, "--local-collection", cid, "--db", db)
        assert r.returncode != 0 and b"--remote-collection" in r.stderr, r.stderr
        tix_ok("peer", "add", "misp", "--kind", "misp-feed", "--url", srv.url, "--local-collection", cid,
               "--org", "feedorg", "--key-stdin", "--db", db, stdin=b"feed-secret-123\n")
        listed = tix_ok("peer", "list", "--db", db)
        assert "misp-feed" in listed and "feed-secret-123" not in listed, listed
        assert json.loads(tix_ok("peer", "list", "--json", "--db", db))[0]["kind"] == "misp-feed"

        r = tix("sync", "--once", "--db", db)
        assert r.returncode == 0, r.stderr
        assert b"feed-secret-123" not in r.stderr
        assert set(srv.auth) == {"feed-secret-123"}, srv.auth  # sent as MISP feeds send it
        objs = {o["id"]: o for o in json.loads(tix_ok("export", "--db", db))["objects"]}
        for ev in (a, b):
            assert "grouping--" + ev["Event"]["uuid"] in objs, sorted(objs)
        assert objs["grouping--" + b["Event"]["uuid"]]["name"] == "Фишинг: 攻撃キャンペーン"
        # the ids MISP's own STIX export gives, as `tix import` of the same event
        direct = os.path.join(w.dir, "direct.db")
        p = os.path.join(w.dir, "a.json")
        with open(p, "w") as f:
            json.dump(a, f)
        tix_ok("import", "--db", direct, p)
        want = {o["id"] for o in json.loads(tix_ok("export", "--db", direct))["objects"]}
        assert want <= set(objs), want - set(objs)
        # owned by --org: another organisation cannot write a new version of them
        ind = dict(objs["indicator--6a1b2c3d-00a1-4aaa-8bbb-000000000001"])
        ind["modified"] = "2030-01-01T00:00:00.000Z"
        p = os.path.join(w.dir, "steal.json")
        with open(p, "w") as f:
            json.dump(ind, f)
        assert tix("import", "--db", db, "--org", "other", p).returncode != 0
        st = peer_status(db, "misp")
        assert st["kind"] == "misp-feed" and not st["failing"] and st["objects_stored"] > 0, st

        # a second run fetches no event file again
        n = len(srv.log)
        assert tix("sync", "--once", "--db", db).returncode == 0
        assert not any(x.endswith(".json") and "manifest" not in x for x in srv.log[n:]), srv.log[n:]

        # a changed event is fetched and its new version stored; a listed but
        # missing file, bad JSON and lying hashes are refused, nothing of them stored
        a["Event"]["timestamp"] = "1700000900"
        a["Event"]["Attribute"].append({"uuid": "6a1b2c3d-00a1-4aaa-8bbb-000000000009", "type": "domain",
                                        "category": "Network activity", "value": "gamma.example",
                                        "to_ids": True, "timestamp": "1700000900"})
        c = event("7b0a1c2e-0a6b-4d1e-9c0a-0000000000c3", "green", 1700000950, [("domain", "liar.example")])
        missing, broken = "7b0a1c2e-0a6b-4d1e-9c0a-0000000000d4", "7b0a1c2e-0a6b-4d1e-9c0a-0000000000e5"
        write_feed(d, [a, b, c], manifest_extra=[(missing, 1700000960), (broken, 1700000970)],
                   hashes_lie=c["Event"]["uuid"], raw={broken: '{"Event": {"uuid": "' + broken + '", "Attr'})
        n = len(srv.log)
        r = tix("sync", "--once", "--db", db)
        assert r.returncode == 1 and b"3 events refused" in r.stderr, r.stderr
        assert not any(m.encode() in r.stderr for m in SANITIZER_MARKS), r.stderr
        fetched = srv.log[n:]
        assert "/%s.json" % a["Event"]["uuid"] in fetched and "/%s.json" % b["Event"]["uuid"] not in fetched, fetched
        objs = {o["id"]: o for o in json.loads(tix_ok("export", "--db", db))["objects"]}
        assert "indicator--6a1b2c3d-00a1-4aaa-8bbb-000000000009" in objs
        assert objs["grouping--" + a["Event"]["uuid"]]["modified"].startswith("2023-11-14T22:28:20"), \
            objs["grouping--" + a["Event"]["uuid"]]
        for u in (missing, broken, c["Event"]["uuid"]):
            assert not any(u[-12:] in i for i in objs), u
        assert not any(u.endswith("0000000000c3") for u in objs) and "indicator--6a1b2c3d-00c3-4aaa-8bbb-000000000001" not in objs
        st = peer_status(db, "misp")
        assert st["failing"] and st["objects_rejected"] >= 3, st
        assert "refused" in st["last_error"], st
        text = tix_ok("peer", "status", "misp", "--db", db)
        assert "misp-feed" in text and "FAILING" in text and "last error" in text, text
    finally:
        srv.stop()


def main():
    return run_world_tests(TESTS, World, "misp feed")


if __name__ == "__main__":
    sys.exit(main())
