#!/usr/bin/env python3
"""End-to-end tests of the MISP feed `tix serve` answers (docs/formats.md):
GET /misp/<collection-id>/manifest.json, /<event-uuid>.json and hashes.csv
with API keys as TAXII takes them, application/json, through the caller's
sharing policy; and a MISP feed built from those answers read back by
`tix import DIR`.

    TIX=build-asan/tix python3 tests/e2e/test_misp_feed.py [TEST_NAME...]
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import Client, Server, bearer, tix, tix_ok  # noqa: E402

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
}


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
    assert set(man) == {EVENTS["green"]["Event"]["uuid"], EVENTS["red"]["Event"]["uuid"]}
    g = man[EVENTS["green"]["Event"]["uuid"]]
    assert g["info"] == EVENTS["green"]["Event"]["info"] and g["timestamp"] == "1700000000"
    assert g["Orgc"]["uuid"] == ORG["uuid"] and {"name": "tlp:green"} in g["Tag"]
    # another organisation of the collection: GREEN yes, RED (no recipients) never
    man = json.loads(w.get("bank-rita", "manifest.json").body)
    assert set(man) == {EVENTS["green"]["Event"]["uuid"]}, man
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


def main():
    only = sys.argv[1:]
    w = World()
    passed = failed = 0
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
    finally:
        w.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
