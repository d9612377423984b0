#!/usr/bin/env python3
"""End-to-end tests of the sharing policy (docs/policy.md) against a real
`tix serve` on a loopback port: the exhaustive matrix of TLP level x
principal kind x read path (TAXII objects, object, versions, manifest, and
`tix export`), answered twice so the per-thread answer cache is exercised,
plus sensors' writes, the status of contradictory and unknown markings,
redaction under granular markings, the node's default TLP, anonymous reads,
and the audit log (who has seen an object; `tix audit verify` before and
after tampering).

    TIX=build-asan/tix python3 tests/e2e/test_policy.py [TEST_NAME...]

TIX_TEST_DB, when set, is the world's store instead of a new file: an empty
database, e.g. a PostgreSQL URL (issue 18; test_policy_pg.py). There the
audit log is tampered with in place through `psql`, and restored after.
"""

import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, basic, bearer, expect, expect_error, indicator,  # noqa: E402
                        malware, manifest_path, new_id, objects_path, page_all, tix, tix_ok)

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
UNKNOWN = "marking-definition--00000000-0000-4000-8000-00000000dead"
EXT = "extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482"

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def marked(refs, kind="indicator", **extra):
    o = indicator(**extra) if kind == "indicator" else malware()
    if refs:
        o["object_marking_refs"] = refs
    if "tix_recipients" in extra or "tix_sharing_group" in extra:
        o["extensions"] = {EXT: {"extension_type": "toplevel-property-extension"}}
    return o


# Principal kinds: (user, org, role). cert owns everything written; bank is in
# the sharing group "banks"; telco is another organisation of the collection;
# police is the RED object's named recipient; hub's admin has no grant (the
# admin role reads every collection as a member of its community).
USERS = [("cert-ana", "cert", "analyst"), ("bank-rita", "bank", "reader"),
         ("telco-tom", "telco", "reader"), ("police-pia", "police", "reader"),
         ("bank-sensor", "bank", "sensor"), ("hub-root", "hub", "admin")]
KINDS = {"same-org": "cert-ana", "sharing-group": "bank-rita", "other-org": "telco-tom",
         "recipient": "police-pia", "sensor": "bank-sensor", "admin": "hub-root",
         "anonymous": None}

# The objects, and who reads each (by kind).
OBJECTS = {
    "clear": ([CLEAR], {}, "indicator"),
    "green": ([GREEN], {}, "indicator"),
    "green-malware": ([GREEN], {}, "malware"),
    "amber": ([AMBER], {}, "indicator"),
    "amber-group": ([AMBER], {"tix_sharing_group": "banks"}, "indicator"),
    "unmarked": ([], {}, "indicator"),
    "amber-strict": ([STRICT], {}, "indicator"),
    "red": ([RED], {"tix_recipients": ["police"]}, "indicator"),
    "red-nobody": ([RED], {}, "indicator"),
    "contradictory": ([GREEN, RED], {}, "indicator"),
    "unknown": ([GREEN, UNKNOWN], {}, "indicator"),
}
ALL = set(OBJECTS)
COMMUNITY = {"clear", "green", "green-malware", "amber", "unmarked"}
EXPECTED = {
    "same-org": ALL,
    "sharing-group": COMMUNITY | {"amber-group"},
    "other-org": COMMUNITY,
    "recipient": COMMUNITY | {"red"},
    "sensor": {"clear", "green", "amber", "unmarked", "amber-group"},  # indicators only
    "admin": COMMUNITY,       # reads every collection, but no AMBER+STRICT, RED or groups
    "anonymous": {"clear"},   # the server below enables anonymous reading
}


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-policy-")
        self.db = os.environ.get("TIX_TEST_DB") or os.path.join(self.dir, "tix.db")
        for org in ("cert", "bank", "telco", "police", "hub"):
            tix_ok("admin", "org", "add", org, "--country", "KE", "--sector", "finance",
                   "--db", self.db)
        self.keys = {}
        for name, org, role in USERS:
            tix_ok("admin", "user", "add", name, "--org", org, "--role", role, "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = tix_ok("admin", "collection", "add", "feed", "--read",
                     "cert,bank,telco,police", "--write", "cert,bank", "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        tix_ok("admin", "group", "add", "banks", "--db", self.db)
        tix_ok("admin", "group", "member-add", "banks", "--org", "bank", "--db", self.db)
        tix_ok("admin", "group", "member-add", "banks", "--remote", "--org", "remote-bank@other-node",
               "--db", self.db)
        self.server = Server(self.db, self.dir, "policy", ["--anonymous-read"]).start()
        self.objs = {}
        for name, (refs, extra, kind) in OBJECTS.items():
            o = marked(refs, kind, **extra)
            if name == "red":  # a second version: the versions path has two
                self.objs[name] = o
                o2 = dict(o, modified="2024-06-01T00:00:00.000Z")
                r = expect(self.client("cert-ana").post(objects_path(self.cid),
                                                        {"objects": [o, o2]}), 202)
                assert r.json()["success_count"] == 2, r.json()
                continue
            self.objs[name] = o
            r = expect(self.client("cert-ana").post(objects_path(self.cid), {"objects": [o]}),
                       202)
            self.last_status = r.json()
            assert r.json()["success_count"] == 1, (name, r.json())
        self.name_of = {o["id"]: n for n, o in self.objs.items()}

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]) if user else None)

    def close(self):
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def names(w, objs):
    return {w.name_of[o["id"]] for o in objs if o["id"] in w.name_of}


@test
def every_tlp_level_for_every_principal_on_every_taxii_read_path(w):
    bad = []
    for kind, user in KINDS.items():
        c, want = w.client(user), EXPECTED[kind]
        for attempt in range(2):   # the second answer may come from the cache
            got = names(w, page_all(c, objects_path(w.cid), limit=3)[0])
            if got != want:
                bad.append(("objects", kind, sorted(got ^ want)))
            man = page_all(c, manifest_path(w.cid), limit=4)[0]
            got = {w.name_of[m["id"]] for m in man if m["id"] in w.name_of}
            if got != want:
                bad.append(("manifest", kind, sorted(got ^ want)))
            for name, o in w.objs.items():
                r = c.get(objects_path(w.cid, o["id"]))
                seen = r.status == 200 and [x["id"] for x in r.json().get("objects", [])] == [
                    o["id"]]
                if r.status not in (200, 404) or seen != (name in want):
                    bad.append(("object", kind, name, r.status))
                r = c.get(objects_path(w.cid, o["id"], versions=True))
                seen = r.status == 200 and len(r.json().get("versions", [])) >= 1
                if r.status not in (200, 404) or seen != (name in want):
                    bad.append(("versions", kind, name, r.status))
                if name == "red" and seen:
                    assert len(r.json()["versions"]) == 2, r.json()
    assert not bad, bad


@test
def export_for_an_audience_matches_taxii(w):
    for kind, user in KINDS.items():
        if kind in ("sensor", "admin"):
            continue  # roles of TAXII callers; export filters for organisations
        args = ["--public"] if user is None else ["--as-org", dict(
            (u, o) for u, o, _ in USERS)[user]]
        out = tix_ok("export", "--db", w.db, "--collection", w.cid, *args)
        got = names(w, json.loads(out)["objects"])
        assert got == EXPECTED[kind], (kind, sorted(got ^ EXPECTED[kind]))
    # what may be sent to a peer node of each organisation (policy_may_forward)
    peers = {"police": COMMUNITY | {"red"}, "bank": COMMUNITY | {"amber-group"},
             "telco": COMMUNITY, "cert": ALL, "stranger": {"clear"}}
    for org, want in peers.items():
        out = tix_ok("export", "--db", w.db, "--collection", w.cid, "--for-peer", org)
        got = names(w, json.loads(out)["objects"])
        assert got == want, (org, sorted(got ^ want))
    r = tix("export", "--db", w.db, "--as-org", "bank", "--for-peer", "bank")
    assert r.returncode == 2, r
    # the operator, unfiltered, exports everything
    got = names(w, json.loads(tix_ok("export", "--db", w.db))["objects"])
    assert got == ALL, sorted(ALL - got)


@test
def anonymous_callers_are_refused_unless_the_node_allows_them(w):
    s = Server(w.db, w.dir, "closed").start()
    try:
        r = Client(s).get(objects_path(w.cid))
        assert r.status == 401, r
        expect(Client(s, bearer(w.keys["telco-tom"])).get(objects_path(w.cid)), 200)
    finally:
        s.kill()
    # anonymous readers never write or read statuses
    r = Client(w.server).post(objects_path(w.cid), {"objects": [indicator()]})
    assert r.status == 401, r


@test
def the_node_default_tlp_decides_for_unmarked_objects(w):
    unmarked = w.objs["unmarked"]["id"]
    s = Server(w.db, w.dir, "default-red", ["--default-tlp", "red"]).start()
    try:
        expect(Client(s, bearer(w.keys["cert-ana"])).get(objects_path(w.cid, unmarked)), 200)
        expect_error(Client(s, bearer(w.keys["telco-tom"])).get(objects_path(w.cid, unmarked)),
                     404)
    finally:
        s.kill()
    tix_ok("admin", "node", "set", "--default-tlp", "clear", "--db", w.db)
    try:
        out = json.loads(tix_ok("admin", "node", "show", "--json", "--db", w.db))
        assert out == {"default_tlp": "clear", "anonymous_read": False, "modified_skew": 86400}, out
        s = Server(w.db, w.dir, "default-clear", ["--anonymous-read"]).start()
        try:
            expect(Client(s).get(objects_path(w.cid, unmarked)), 200)
        finally:
            s.kill()
    finally:
        tix_ok("admin", "node", "set", "--default-tlp", "amber", "--db", w.db)
    r = tix("admin", "node", "set", "--default-tlp", "purple", "--db", w.db)
    assert r.returncode == 2, r


@test
def sensors_write_sightings_only_and_readers_nothing(w):
    c = w.client("bank-sensor")
    sighting = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
                "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
                "sighting_of_ref": w.objs["green"]["id"], "count": 3}
    st = expect(c.post(objects_path(w.cid), {"objects": [sighting, indicator()]}), 202).json()
    assert st["success_count"] == 1 and st["failure_count"] == 1, st
    assert "sensor" in st["failures"][0]["message"], st
    r = w.client("bank-rita").post(objects_path(w.cid), {"objects": [indicator()]})
    assert r.status == 403, r
    # the sighting belongs to bank: telco, in the collection, reads it (AMBER by default)
    expect(w.client("telco-tom").get(objects_path(w.cid, sighting["id"])), 200)


@test
def the_status_says_when_markings_are_contradictory_or_unknown(w):
    c = w.client("cert-ana")
    a, b = marked([GREEN, RED]), marked([UNKNOWN])
    st = expect(c.post(objects_path(w.cid), {"objects": [a, b]}), 202).json()
    msgs = {s["id"]: s.get("message", "") for s in st["successes"]}
    assert "contradictory" in msgs[a["id"]], st
    assert "does not know" in msgs[b["id"]], st


@test
def bad_policy_properties_are_refused(w):
    c = w.client("cert-ana")
    for extra in ({"tix_recipients": "police"}, {"tix_recipients": [7]},
                  {"tix_sharing_group": ["banks"]}, {"tix_sharing_group": ""}):
        o = indicator(**extra)
        st = expect(c.post(objects_path(w.cid), {"objects": [o]}), 202).json()
        assert st["failure_count"] == 1, (extra, st)


@test
def granular_markings_withhold_the_whole_object_from_who_may_not_see_a_part(w):
    o = marked([GREEN], description="only for cert", name="visible name")
    o["granular_markings"] = [{"selectors": ["description"], "marking_ref": STRICT}]
    ok = marked([GREEN], description="for everyone", name="whole")
    ok["granular_markings"] = [{"selectors": ["description"], "marking_ref": CLEAR}]
    post = expect(w.client("cert-ana").post(objects_path(w.cid), {"objects": [o, ok]}),
                  202).json()
    assert post["success_count"] == 2, post
    mine = expect(w.client("cert-ana").get(objects_path(w.cid, o["id"])), 200).json()
    assert mine["objects"] == [o], mine
    # never a body that differs from the stored one under the same id and modified
    expect_error(w.client("telco-tom").get(objects_path(w.cid, o["id"])), 404)
    expect_error(w.client("telco-tom").get(objects_path(w.cid, o["id"], versions=True)), 404)
    listed = page_all(w.client("telco-tom"), objects_path(w.cid))[0]
    assert o["id"] not in {x["id"] for x in listed}
    assert [x for x in listed if x["id"] == ok["id"]] == [ok], listed
    man = page_all(w.client("telco-tom"), manifest_path(w.cid), key="objects")[0]
    assert o["id"] not in {x["id"] for x in man}
    for args in (["--as-org", "telco", "--collection", w.cid],
                 ["--for-peer", "telco", "--collection", w.cid]):
        out = json.loads(tix_ok("export", "--db", w.db, *args))
        assert o["id"] not in {x["id"] for x in out["objects"]}, args
        assert [x for x in out["objects"] if x["id"] == ok["id"]] == [ok], args


@test
def deleting_what_one_may_not_read_is_refused(w):
    strict = w.objs["amber-strict"]["id"]
    c = Client(w.server, bearer(w.keys["hub-root"]))   # an admin may write anywhere
    expect_error(c.delete(objects_path(w.cid, strict)), 404)
    expect(w.client("cert-ana").get(objects_path(w.cid, strict)), 200)


@test
def the_audit_log_knows_who_has_seen_an_object(w):
    red = w.objs["red"]["id"]
    expect(w.client("police-pia").get(objects_path(w.cid, red)), 200)
    expect_error(w.client("telco-tom").get(objects_path(w.cid, red)), 404)
    deadline = time.monotonic() + 30
    while True:   # reads are logged by a writer thread within ~50 ms
        out = tix_ok("audit", "show", "--object", red, "--json", "--db", w.db)
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        readers = {r["actor"] for r in rows if r["action"] == "read"}
        if "police-pia" in readers or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "police-pia" in readers, rows
    assert "telco-tom" not in readers and "bank-rita" not in readers, readers
    assert any(r["action"] == "write" and r["actor"] == "cert-ana" for r in rows), rows
    # a deletion is logged with it
    gone = indicator()
    post = expect(w.client("cert-ana").post(objects_path(w.cid), {"objects": [gone]}), 202)
    assert post.json()["success_count"] == 1
    expect(w.client("cert-ana").delete(objects_path(w.cid, gone["id"])), 200)
    out = tix_ok("audit", "show", "--object", gone["id"], "--json", "--db", w.db)
    acts = [json.loads(line)["action"] for line in out.splitlines() if line.strip()]
    assert acts == ["write", "delete"], acts
    # an authentication failure and an administrative change are logged too
    r = Client(w.server, bearer("tix_nope_nope")).get(objects_path(w.cid))
    assert r.status == 401, r
    tix_ok("admin", "group", "add", "audited", "--db", w.db)
    time.sleep(0.3)
    out = tix_ok("audit", "show", "--json", "--db", w.db)
    actions = [json.loads(line)["action"] for line in out.splitlines() if line.strip()]
    assert "auth-failure" in actions and "admin" in actions and "export" in actions, actions
    assert "intact" in tix_ok("audit", "verify", "--db", w.db)


def psql(url, sql):
    r = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-X", url, "-c", sql],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, (sql, r.stderr)


@test
def tampering_with_the_audit_log_is_detected(w):
    on_pg = re.match(r"postgres(ql)?://", w.db)
    copy = os.path.join(w.dir, "tampered.db")
    for kind, sql in (("edit", "UPDATE audit SET actor = 'someone' WHERE seq = 3"),
                      ("delete", "DELETE FROM audit WHERE seq = 4"),
                      ("reorder", "UPDATE audit SET seq = -1 WHERE seq = 2;"
                                  "UPDATE audit SET seq = 2 WHERE seq = 3;"
                                  "UPDATE audit SET seq = 3 WHERE seq = -1")):
        if on_pg:  # no file to copy: tamper in place, put the log back after
            psql(w.db, "CREATE TABLE audit_saved AS SELECT * FROM audit;" + sql)
            copy = w.db
        else:
            db = sqlite3.connect(w.db)
            backup = sqlite3.connect(copy)
            db.backup(backup)
            db.close()
            backup.executescript(sql)
            backup.commit()
            backup.close()
        r = tix("audit", "verify", "--db", copy)
        assert r.returncode == 1, (kind, r.returncode, r.stdout, r.stderr)
        assert b"BROKEN at entry" in r.stderr, (kind, r.stderr)
        if on_pg:
            psql(w.db, "DELETE FROM audit; INSERT INTO audit SELECT * FROM audit_saved;"
                       "DROP TABLE audit_saved")
            assert "intact" in tix_ok("audit", "verify", "--db", w.db)
        else:
            os.unlink(copy)


@test
def principals_of_a_removed_organisation_read_nothing(w):
    # last: it changes the world. The key of a removed organisation's user is
    # refused at once, with 401, even on a node that lets anonymous callers
    # read CLEAR objects.
    c = w.client("telco-tom")
    expect(c.get(objects_path(w.cid, w.objs["clear"]["id"])), 200)
    tix_ok("admin", "org", "remove", "telco", "--force", "--db", w.db)
    for path in (objects_path(w.cid), objects_path(w.cid, w.objs["clear"]["id"]),
                 manifest_path(w.cid)):
        r = c.get(path)
        assert r.status == 401, (path, r)


def main():
    return run_world_tests(TESTS, World, "policy")


if __name__ == "__main__":
    sys.exit(main())
