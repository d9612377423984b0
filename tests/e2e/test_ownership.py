#!/usr/bin/env python3
"""End-to-end tests of the write rules (docs/policy.md, "Who may change
what") against a real `tix serve`: organisations x roles x paths (TAXII
POST and DELETE, `tix import`, `tix sync` pull) trying to add versions of
another organisation's object, to re-post its (id, modified), to delete it,
to send a far-future `modified` or a changed `created`/`created_by_ref`;
observables kept per organisation with no existence oracle (200
observables); deleting never resurrecting a revoked object; status
resources for their author only; markings that arrive after their users.

    TIX=build-asan/tix python3 tests/e2e/test_ownership.py [TEST_NAME...]
"""

import json
import os
import re
import shutil
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, bearer, expect, expect_error, indicator,  # noqa: E402
                        malware, objects_path, tix, tix_ok)

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
BELONGS = ("belongs to another organisation; publish your own object and relate it "
           "(derived-from, sighting, note, opinion)")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# (user, org, role). cert-a owns the objects under attack.
USERS = [("alice", "cert-a", "analyst"), ("ada", "cert-a", "admin"),
         ("bob", "cert-b", "analyst"), ("bert", "cert-b", "admin"),
         ("bsensor", "cert-b", "sensor"), ("carl", "cert-c", "analyst"),
         ("carol", "cert-c", "reader")]
OTHERS = ("bob", "bert", "bsensor")   # writers of another organisation


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-own-")
        self.db = os.path.join(self.dir, "tix.db")
        for org in ("cert-a", "cert-b", "cert-c"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for name, org, role in USERS:
            tix_ok("admin", "user", "add", name, "--org", org, "--role", role, "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        self.coll = {}
        for title, read, write in (("shared", "cert-a,cert-b,cert-c", "cert-a,cert-b,cert-c"),
                                   ("bobs", "cert-b", "cert-b"),
                                   ("alices", "cert-a", "cert-a")):
            out = tix_ok("admin", "collection", "add", title, "--read", read, "--write", write,
                         "--db", self.db)
            self.coll[title] = re.search(r"[0-9a-f-]{36}", out).group(0)
        self.server = Server(self.db, self.dir, "own").start()
        # alice's indicator, GREEN: everyone in the collection reads it.
        self.x = indicator(object_marking_refs=[GREEN],
                           created_by_ref="identity--%s" % uuid.uuid4(),
                           pattern="[domain-name:value = 'alice-only.example']")
        # alice's AMBER+STRICT indicator: only cert-a reads it.
        self.y = indicator(object_marking_refs=[STRICT])
        for cid in (self.coll["shared"], self.coll["alices"]):
            self.post_ok("alice", cid, [self.x, self.y])

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]))

    def post(self, user, cid, objs):
        return expect(self.client(user).post(objects_path(self.coll.get(cid, cid)),
                                             {"objects": objs}), 202).json()

    def post_ok(self, user, cid, objs):
        st = self.post(user, cid, objs)
        assert st["success_count"] == len(objs) and st["failure_count"] == 0, st
        return st

    def get(self, user, cid, oid, params=()):
        return self.client(user).get(objects_path(self.coll.get(cid, cid), oid), params)

    def close(self):
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def later(o, **changes):
    v = dict(o)
    v.update(changes)
    return v


def takeovers(o):
    """Versions of o another organisation would like to be current."""
    return [
        later(o, modified="2025-06-01T00:00:00.000Z", pattern="[domain-name:value = 'x.example']",
              revoked=True, object_marking_refs=[CLEAR]),
        later(o, modified="9999-12-31T23:59:59.999Z"),
        later(o, modified="2025-07-01T00:00:00.000Z", object_marking_refs=[RED]),
    ]


def unchanged_for_everyone(w, o):
    """The owner's object is what the owner wrote, for every reader and path."""
    want = json.dumps(o, sort_keys=True)
    for user in ("alice", "bob", "carl", "carol"):
        r = expect(w.get(user, "shared", o["id"]), 200).json()
        assert [json.dumps(v, sort_keys=True) for v in r["objects"]] == [want], (user, r)
        vers = expect(w.client(user).get(objects_path(w.coll["shared"], o["id"], versions=True)),
                      200).json()["versions"]
        assert vers == [o["modified"]], (user, vers)
    got = json.loads(tix_ok("get", o["id"], "--db", w.db))
    assert json.dumps(got, sort_keys=True) == want, got
    exported = json.loads(tix_ok("export", "--db", w.db))["objects"]
    mine = [v for v in exported if v["id"] == o["id"]]
    assert [json.dumps(v, sort_keys=True) for v in mine] == [want], mine
    log = os.path.join(w.dir, "dns.log")
    with open(log, "w") as f:
        f.write("query alice-only.example A\n")
    r = tix("match", log, "--db", w.db)
    assert r.returncode == 0 and o["id"].encode() in r.stdout, (r.returncode, r.stdout[-500:])


@test
def new_versions_of_another_organisations_object_fail_on_taxii(w):
    for user in OTHERS:
        for cid in ("shared", "bobs"):
            if user == "bsensor" and cid == "bobs":
                continue
            for v in takeovers(w.x):
                st = w.post(user, cid, [v, malware()] if user != "bsensor" else [v])
                fails = st["failures"]
                assert len(fails) == 1 and fails[0]["id"] == w.x["id"], (user, cid, st)
                if user != "bsensor":   # a sensor is refused indicators anyway
                    assert fails[0]["message"] == "%s: %s" % (w.x["id"], BELONGS), fails
                    assert st["success_count"] == 1, st
    expect_error(w.get("bob", "bobs", w.x["id"]), 404)
    unchanged_for_everyone(w, w.x)


@test
def reposting_another_organisations_version_never_links_it(w):
    # bob sends a shell with y's id and timestamps into his own collection:
    # refused, and y (AMBER+STRICT) stays unreadable for him everywhere.
    shell = {"type": "indicator", "spec_version": "2.1", "id": w.y["id"],
             "created": w.y["created"], "modified": w.y["modified"], "pattern_type": "stix",
             "pattern": "[ipv4-addr:value = '192.0.2.1']", "valid_from": w.y["created"]}
    for obj in (shell, w.y, w.x):
        st = w.post("bob", "bobs", [obj])
        assert st["failures"][0]["message"] == "%s: %s" % (obj["id"], BELONGS), st
        expect_error(w.get("bob", "bobs", obj["id"]), 404)
    expect_error(w.get("bob", "shared", w.y["id"]), 404)
    expect(w.get("alice", "shared", w.y["id"]), 200)


@test
def import_refuses_another_organisations_ids_with_the_reason(w):
    path = os.path.join(w.dir, "takeover.json")
    fresh = malware()
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(),
                   "objects": [fresh, takeovers(w.x)[0]]}, f)
    r = tix("import", "--org", "cert-b", "--collection", "bobs", path, "--db", w.db)
    assert r.returncode == 1, r
    assert ("%s: %s" % (w.x["id"], BELONGS)).encode() in r.stderr, r.stderr
    assert b"nothing from this file was stored" in r.stderr, r.stderr
    assert tix("get", fresh["id"], "--db", w.db).returncode == 1   # the file is atomic
    rejects = os.path.join(w.dir, "rejects.jsonl")
    r = tix("import", "--org", "cert-b", "--collection", "bobs", "--skip-invalid", "--rejects",
            rejects, path, "--db", w.db)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in open(rejects)]
    assert len(lines) == 1 and BELONGS in lines[0]["errors"][0], lines
    tix_ok("get", fresh["id"], "--db", w.db)
    # the operator (an import without --org) is not cert-a either
    r = tix("import", path, "--db", w.db)
    assert r.returncode == 1 and BELONGS.encode() in r.stderr, r.stderr
    unchanged_for_everyone(w, w.x)


@test
def a_peer_sending_versions_of_local_objects_is_refused_and_counted(w):
    pdir = os.path.join(w.dir, "peer")
    os.makedirs(pdir)
    pdb = os.path.join(pdir, "tix.db")
    tix_ok("admin", "org", "add", "hub", "--db", pdb)
    out = tix_ok("admin", "collection", "add", "out", "--read", "hub", "--write", "hub",
                 "--db", pdb)
    pcid = re.search(r"[0-9a-f-]{36}", out).group(0)
    tix_ok("admin", "user", "add", "puller", "--org", "hub", "--role", "reader", "--db", pdb)
    key = re.findall(r"^\s*(tix_\S+)\s*$",
                     tix_ok("admin", "key", "add", "--user", "puller", "--db", pdb), re.M)[0]
    fresh = indicator(object_marking_refs=[CLEAR])
    bundle = os.path.join(pdir, "b.json")
    with open(bundle, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(),
                   "objects": [fresh] + takeovers(w.x)[:1] + [w.y]}, f)
    tix_ok("import", "--org", "hub", "--collection", "out", bundle, "--db", pdb)
    peer = Server(pdb, pdir, "peer").start()
    try:
        tix_ok("peer", "add", "hub", "--url", "http://127.0.0.1:%d/taxii2/" % peer.port,
               "--remote-collection", pcid, "--local-collection", "shared", "--key-stdin",
               "--direction", "pull", "--org", "partner-node", "--db", w.db, stdin=(key + "\n").encode())
        tix("sync", "--once", "--db", w.db)
        st = json.loads(tix_ok("peer", "status", "hub", "--json", "--db", w.db))
        st = st[0] if isinstance(st, list) else st
        assert st["objects_rejected"] == 2, st
        tix_ok("get", fresh["id"], "--db", w.db)
    finally:
        peer.kill()
    unchanged_for_everyone(w, w.x)


@test
def the_owner_keeps_created_created_by_ref_and_the_clock(w):
    o = indicator(object_marking_refs=[GREEN], created_by_ref="identity--%s" % uuid.uuid4())
    w.post_ok("alice", "shared", [o])
    for bad, why in ((later(o, modified="2099-01-01T00:00:00.000Z"), "ahead of this node's clock"),
                     (later(o, modified="2024-03-01T00:00:00.000Z",
                            created="2023-12-01T00:00:00.000Z"), "created does not change"),
                     (later(o, modified="2024-03-01T00:00:00.000Z",
                            created_by_ref="identity--%s" % uuid.uuid4()),
                      "created_by_ref does not change"),
                     (dict((k, v) for k, v in later(o, modified="2024-03-01T00:00:00.000Z")
                           .items() if k != "created_by_ref"), "created_by_ref does not change")):
        st = w.post("alice", "shared", [bad])
        assert st["failure_count"] == 1 and why in st["failures"][0]["message"], (why, st)
    # the node's skew is configurable
    tix_ok("admin", "node", "set", "--modified-skew", str(5 * 365 * 86400), "--db", w.db)
    try:
        w.post_ok("alice", "shared", [later(o, modified="2030-01-01T00:00:00.000Z")])
        # its own organisation's administrator adds versions
        w.post_ok("ada", "shared", [later(o, modified="2030-02-01T00:00:00.000Z")])
    finally:
        tix_ok("admin", "node", "set", "--modified-skew", "86400", "--db", w.db)
    assert "86400" in tix_ok("admin", "node", "show", "--db", w.db)


@test
def deleting_is_the_owners_right(w):
    o = indicator(object_marking_refs=[GREEN])
    w.post_ok("alice", "shared", [o])
    w.post_ok("alice", "alices", [o])
    for user in OTHERS:   # they read it: they are told they may not
        expect_error(w.client(user).delete(objects_path(w.coll["shared"], o["id"])), 403)
    expect_error(w.client("carol").delete(objects_path(w.coll["shared"], o["id"])), 403)
    for user in ("bob", "bert", "bsensor"):   # what they cannot read does not exist
        expect_error(w.client(user).delete(objects_path(w.coll["shared"], w.y["id"])), 404)
    expect(w.get("carl", "shared", o["id"]), 200)
    # the owner deletes it from one collection; the other keeps it
    expect(w.client("alice").delete(objects_path(w.coll["shared"], o["id"])), 200)
    expect_error(w.get("alice", "shared", o["id"]), 404)
    expect(w.get("alice", "alices", o["id"]), 200)
    tix_ok("get", o["id"], "--db", w.db)
    expect(w.client("ada").delete(objects_path(w.coll["alices"], o["id"])), 200)
    assert tix("get", o["id"], "--db", w.db).returncode == 1   # in no collection: gone
    # and the id stays cert-a's
    st = w.post("bob", "shared", [later(o, modified="2025-01-01T00:00:00.000Z")])
    assert st["failures"][0]["message"].endswith(BELONGS), st


@test
def deleting_a_revoked_version_never_resurrects_the_earlier_one(w):
    v1 = indicator(object_marking_refs=[GREEN])
    v2 = later(v1, modified="2024-05-01T00:00:00.000Z", revoked=True)
    w.post_ok("alice", "shared", [v1, v2])
    r = w.client("alice").delete(objects_path(w.coll["shared"], v1["id"]),
                                 [("match[version]", "last")])
    expect_error(r, 409)
    got = expect(w.get("carl", "shared", v1["id"]), 200).json()["objects"]
    assert [g.get("revoked") for g in got] == [True], got
    # named exactly, the owner may
    expect(w.client("alice").delete(objects_path(w.coll["shared"], v1["id"]),
                                    [("match[version]", v2["modified"])]), 200)
    got = expect(w.get("carl", "shared", v1["id"]), 200).json()["objects"]
    assert [g["modified"] for g in got] == [v1["modified"]], got
    # a revoked version that leaves its last collection while an earlier one
    # stays elsewhere is kept (in no collection): the object stays revoked
    # for tix get, export and tix match
    u1 = indicator(object_marking_refs=[GREEN],
                   pattern="[domain-name:value = 'revoked-once.example']")
    u2 = later(u1, modified="2024-05-01T00:00:00.000Z", revoked=True)
    w.post_ok("alice", "alices", [u1])
    w.post_ok("alice", "shared", [u1, u2])
    expect(w.client("alice").delete(objects_path(w.coll["shared"], u1["id"])), 200)
    assert json.loads(tix_ok("get", u1["id"], "--db", w.db)).get("revoked") is True
    log = os.path.join(w.dir, "revoked.log")
    with open(log, "w") as f:
        f.write("query revoked-once.example A\n")
    r = tix("match", log, "--db", w.db)
    assert u1["id"].encode() not in r.stdout, r.stdout
    expect(w.get("alice", "alices", u1["id"]), 200)


def normalised_status(st, oid):
    st = dict(st)
    st.pop("id")
    st.pop("request_timestamp")
    return json.dumps(st, sort_keys=True).replace(oid, "ID")


@test
def observables_are_per_organisation_with_no_existence_oracle(w):
    # bob holds half of 200 observables as RED with his own custom property
    values = ["198.51.%d.%d" % (i // 200, i % 200) for i in range(200)]
    held = [{"type": "ipv4-addr", "spec_version": "2.1", "value": v,
             "object_marking_refs": [RED], "x_bob_note": "bob's secret"} for v in values[::2]]
    st = w.post_ok("bob", "shared", held)
    ids = {v: s["id"] for v, s in zip(values[::2], st["successes"])}
    answers = []
    for v in values:
        mine = {"type": "ipv4-addr", "spec_version": "2.1", "value": v,
                "object_marking_refs": [GREEN], "x_carl_note": "carl's"}
        post = w.post("carl", "shared", [mine])
        oid = post["successes"][0]["id"]
        if v in ids:
            assert oid == ids[v]
        back = w.get("carl", "shared", oid)
        body = back.body.decode()
        assert "bob" not in body and "carl's" in body, body
        answers.append((normalised_status(post, oid), back.status,
                        body.replace(oid, "ID").replace(v, "VALUE")))
    first = answers[0]
    for i, a in enumerate(answers):
        assert a == first, (values[i], a, first)
    # bob still reads his own copy, unchanged; a reader of both copies gets both
    oid = ids[values[0]]
    got = expect(w.get("bob", "shared", oid), 200).json()["objects"]
    notes = sorted(g.get("x_bob_note", g.get("x_carl_note")) for g in got)
    assert notes == ["bob's secret", "carl's"], got
    got = expect(w.get("alice", "shared", oid), 200).json()["objects"]
    assert [g.get("x_carl_note") for g in got] == ["carl's"], got
    # carl deletes his copy; bob's stays
    expect(w.client("carl").delete(objects_path(w.coll["shared"], oid)), 200)
    expect_error(w.get("carl", "shared", oid), 404)
    got = expect(w.get("bob", "shared", oid), 200).json()["objects"]
    assert [g.get("x_bob_note") for g in got] == ["bob's secret"], got


STMT = "marking-definition--%s" % uuid.uuid4()
STATEMENT = {"type": "marking-definition", "spec_version": "2.1", "id": STMT,
             "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
             "definition": {"statement": "Copyright cert-a"}}
TLP_DEFS = {CLEAR: "clear", GREEN: "green", AMBER: "amber"}


def tlp_definition(mid, name):
    """The TLP 2.0 marking-definition exactly as the spec gives it."""
    return {"type": "marking-definition", "spec_version": "2.1", "id": mid,
            "created": "2022-10-01T00:00:00.000Z", "name": "TLP:%s" % name.upper(),
            "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension", "tlp_2_0": name}}}


def bundle_file(w, name, objs):
    path = os.path.join(w.dir, name)
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
    return path


def readable_by_carl(w, objs):
    return [w.get("carl", "shared", o["id"]).status for o in objs]


@test
def bundle_order_does_not_matter(w):
    global STMT
    # markings after their users, in one file: every TLP definition and a
    # statement the node does not know yet
    users = [indicator(object_marking_refs=[m, STMT]) for m in TLP_DEFS]
    defs = [tlp_definition(m, n) for m, n in TLP_DEFS.items()] + [STATEMENT]
    r = tix("import", "--org", "cert-a", "--collection", "shared",
            bundle_file(w, "late.json", users + defs), "--db", w.db)
    assert r.returncode == 0, r.stderr
    assert b"refer to a marking this node does not know" not in r.stderr, r.stderr
    assert readable_by_carl(w, users) == [200] * 3
    # across files: the definition comes in a later file (and the first
    # import says how many stored objects wait for it)
    later_def = dict(STATEMENT, id="marking-definition--%s" % uuid.uuid4())
    users2 = [indicator(object_marking_refs=[GREEN, later_def["id"]]) for _ in range(3)]
    r = tix("import", "--org", "cert-a", "--collection", "shared",
            bundle_file(w, "users.json", users2), "--db", w.db)
    assert r.returncode == 0 and b"3 stored versions refer to a marking" in r.stderr, r.stderr
    assert "versions referring to an unknown marking: 3" in tix_ok("stats", "--db", w.db)
    assert readable_by_carl(w, users2) == [404] * 3   # unknown: AMBER+STRICT meanwhile
    tix_ok("import", "--org", "cert-a", "--collection", "shared",
           bundle_file(w, "def.json", [later_def]), "--db", w.db)
    assert readable_by_carl(w, users2) == [200] * 3
    stats = json.loads(tix_ok("stats", "--json", "--db", w.db))
    assert stats["unknown_markings"] == 0, stats
    # across TAXII envelopes, and within one
    env_def = dict(STATEMENT, id="marking-definition--%s" % uuid.uuid4())
    users3 = [indicator(object_marking_refs=[GREEN, env_def["id"]]) for _ in range(2)]
    w.post_ok("alice", "shared", users3[:1])
    assert readable_by_carl(w, users3[:1]) == [404]
    st = w.post_ok("alice", "shared", users3[1:] + [env_def])
    assert "message" not in st["successes"][0], st   # resolved after the whole envelope
    assert readable_by_carl(w, users3) == [200, 200]
    # a marking nobody defines stays unknown: owner-only
    ghost = indicator(object_marking_refs=[GREEN, "marking-definition--%s" % uuid.uuid4()])
    st = w.post_ok("alice", "shared", [ghost])
    assert "does not know" in st["successes"][0]["message"], st
    assert readable_by_carl(w, [ghost]) == [404]
    expect(w.get("alice", "shared", ghost["id"]), 200)


@test
def markings_on_later_sync_pages_resolve_the_earlier_pages(w):
    pdir = os.path.join(w.dir, "peer2")
    os.makedirs(pdir)
    pdb = os.path.join(pdir, "tix.db")
    tix_ok("admin", "org", "add", "hub2", "--db", pdb)
    out = tix_ok("admin", "collection", "add", "out", "--read", "hub2", "--db", pdb)
    pcid = re.search(r"[0-9a-f-]{36}", out).group(0)
    tix_ok("admin", "user", "add", "puller", "--org", "hub2", "--role", "reader", "--db", pdb)
    key = re.findall(r"^\s*(tix_\S+)\s*$",
                     tix_ok("admin", "key", "add", "--user", "puller", "--db", pdb), re.M)[0]
    mdef = dict(STATEMENT, id="marking-definition--%s" % uuid.uuid4())
    users = [indicator(object_marking_refs=[CLEAR, mdef["id"]]) for _ in range(4)]
    tix_ok("import", "--org", "hub2", "--collection", "out",
           bundle_file(w, "p-users.json", users), "--db", pdb)
    tix_ok("import", "--org", "hub2", "--collection", "out",
           bundle_file(w, "p-def.json", [mdef]), "--db", pdb)
    peer = Server(pdb, pdir, "peer2").start()
    try:
        tix_ok("peer", "add", "hub2", "--url", "http://127.0.0.1:%d/taxii2/" % peer.port,
               "--remote-collection", pcid, "--local-collection", "shared", "--key-stdin",
               "--direction", "pull", "--org", "hub2-node", "--db", w.db,
               stdin=(key + "\n").encode())
        r = tix("sync", "--once", "--peer", "hub2", "--page-size", "2", "--db", w.db)
        assert r.returncode == 0, r.stderr
    finally:
        peer.kill()
    assert readable_by_carl(w, users) == [200] * 4


@test
def status_resources_are_their_authors(w):
    red = indicator(object_marking_refs=[RED])
    st = w.post_ok("bob", "shared", [red, malware()])
    path = "/api1/status/%s/" % st["id"]
    assert expect(w.client("bob").get(path), 200).json() == st
    for user in ("alice", "carl", "bsensor"):
        expect_error(w.client(user).get(path), 404)
    # an administrator of another organisation sees the counts, and ids only
    # of what it may read (not bob's RED indicator)
    seen = expect(w.client("ada").get(path), 200).json()
    for k in ("total_count", "success_count", "failure_count", "pending_count"):
        assert seen[k] == st[k], (k, seen)
    assert red["id"] not in json.dumps(seen), seen
    assert len(seen["successes"]) == 1, seen
    # bob's own administrator reads it all (same organisation: owner)
    assert expect(w.client("bert").get(path), 200).json()["successes"] == st["successes"]


def main():
    return run_world_tests(TESTS, World, "ownership")


if __name__ == "__main__":
    sys.exit(main())
