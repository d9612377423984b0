#!/usr/bin/env python3
"""End-to-end tests of correlation and sightings (docs/api.md) against a real
`tix serve` on a loopback port: GET /api/v1/correlate (by value, by id, CIDR
both ways) and /api/v1/objects/{id}/sightings for every kind of principal,
each answer checked against the sharing policy (what a caller may not read
is neither listed, nor counted, nor lets its organisation be named); the
over-correlation cap; warninglisted values marked; `tix correlate --as-org`
agreeing with the API; hostile parameters refused with 400, never a crash.

    TIX=build-asan/tix python3 tests/e2e/test_correlate.py [TEST_NAME...]
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, bearer, expect, indicator,  # noqa: E402
                        new_id, objects_path, tix, tix_ok, TIX as TIX_BIN)
from test_policy import (CLEAR, GREEN, RED, USERS, KINDS, OBJECTS, EXPECTED,  # noqa: E402
                         marked)

TESTS = []
CAP = 12
API = "/api/v1/"


def test(fn):
    TESTS.append(fn)
    return fn


def api_get(client, resource, params=()):
    r = client.get(API + resource, params, accept="application/json")
    ct = (r.header("Content-Type") or "")
    assert ct.startswith("application/json"), (ct, r)
    return r


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-correlate-")
        self.db = os.path.join(self.dir, "tix.db")
        for org, cc in (("cert", "KE"), ("bank", "DE"), ("telco", "FR"), ("police", "NL"),
                        ("hub", "")):
            tix_ok("admin", "org", "add", org, *(["--country", cc] if cc else []),
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
        wl = os.path.join(self.dir, "list.json")
        with open(wl, "w") as f:
            json.dump({"name": "test benign", "type": "hostname", "list": ["popular.example"],
                       "matching_attributes": ["domain", "hostname"]}, f)
        self.server = Server(self.db, self.dir, "correlate",
                             ["--anonymous-read", "--correlate-cap", str(CAP),
                              "--warninglists", wl]).start()
        # Every policy case carries shared.example and an address of 203.0.113.0/24.
        self.objs, self.name_of = {}, {}
        for i, (name, (refs, extra, kind)) in enumerate(OBJECTS.items()):
            if kind != "indicator":
                continue
            o = marked(refs, kind, **extra)
            o["pattern"] = ("[domain-name:value = 'Shared.Example'] OR "
                            "[ipv4-addr:value = '203.0.113.%d']" % (i + 1))
            o["description"] = "Cobalt Štrike beacon, case %s" % name
            o["labels"] = ["c2", name]
            self.objs[name] = o
        # bank's own GREEN report of the same domain, and a range holding them all
        bank = marked([GREEN], pattern="[domain-name:value = 'shared.example.'] OR "
                      "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
                      description="a COBALT strike beacon", labels=["c2"])
        r = expect(self.client("cert-ana").post(objects_path(self.cid),
                                                {"objects": list(self.objs.values())}), 202)
        assert r.json()["success_count"] == len(self.objs), r.json()
        # bank's readers may not write: its report is imported as bank by the operator
        self.objs["bank-green"] = bank
        self.import_as("bank", [bank])
        self.name_of = {o["id"]: n for n, o in self.objs.items()}

    def import_as(self, org, objs):
        path = os.path.join(self.dir, "in-%s.json" % new_id("x"))
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
        tix_ok("import", "--db", self.db, "--collection", self.cid, "--org", org, path)

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]) if user else None)

    def close(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def expected(kind):
    want = set(EXPECTED[kind]) - {"green-malware"}
    if kind != "anonymous":
        want.add("bank-green")  # GREEN: the community, sensors (an indicator) and admins too
    return want


def listed(w, answer):
    ids = [o["id"] for g in answer["organisations"] for o in g["objects"]]
    assert len(ids) == len(set(ids)), answer
    return {w.name_of.get(i, i) for i in ids}


def owners(w, names):
    return {"bank" if n == "bank-green" else "cert" for n in names}


@test
def every_principal_sees_only_what_it_may_read_in_each_correlation(w):
    bad = []
    for kind, user in KINDS.items():
        c, want = w.client(user), expected(kind)
        for value in ("shared.example", "SHARED.example.", "203.0.113.0/24"):
            a = expect_json(api_get(c, "correlate", [("value", value)]), 200)
            got = listed(w, a)
            if got != want or a["count"] != len(want) or not a["count_exact"]:
                bad.append((kind, value, sorted(got ^ want), a["count"]))
            orgs = {g["org"] for g in a["organisations"]}
            if orgs != owners(w, want):
                bad.append((kind, value, "orgs", orgs))
        # an address finds the ranges that hold it (bank's /24) and itself
        a = expect_json(api_get(c, "correlate", [("value", "203.0.113.1")]), 200)
        want1 = {n for n in want if n in ("clear", "bank-green")}
        if listed(w, a) != want1:
            bad.append((kind, "203.0.113.1", sorted(listed(w, a) ^ want1)))
    assert not bad, bad


@test
def groups_are_by_organisation_with_country_newest_first(w):
    a = expect_json(api_get(w.client("cert-ana"), "correlate", [("value", "shared.example")]), 200)
    assert [g["org"] for g in a["organisations"]] == ["bank", "cert"], a  # bank's is newer
    assert a["organisations"][0]["country"] == "DE" and a["organisations"][1]["country"] == "KE"
    assert a["kind"] == "domain" and a["value"] == "shared.example", a
    assert a["over_correlated"] is False and a["warninglist"] is None, a


@test
def correlating_an_id_needs_reading_it_and_leaves_it_out(w):
    red = w.objs["red"]["id"]
    for kind, user in KINDS.items():
        r = api_get(w.client(user), "correlate", [("id", red)])
        if "red" in expected(kind):
            a = expect_json(r, 200)
            for v in a["values"]:
                assert "red" not in listed(w, v), (kind, v)
            dom = [v for v in a["values"] if v["kind"] == "domain"][0]
            assert listed(w, dom) == expected(kind) - {"red"}, (kind, dom)
        else:
            assert r.status == 404, (kind, r)
            assert red not in r.body.decode(), r  # not even echoed


@test
def an_organisation_only_hidden_objects_name_is_never_revealed(w):
    lonely = marked([RED], pattern="[domain-name:value = 'lonely.example']")
    w.import_as("police", [lonely])
    w.name_of[lonely["id"]] = "lonely"
    for kind, user in KINDS.items():
        r = api_get(w.client(user), "correlate", [("value", "lonely.example")])
        a = expect_json(r, 200)
        if kind == "recipient":  # police reads its own
            assert a["count"] == 1, a
            continue
        assert a["count"] == 0 and a["organisations"] == [], (kind, a)
        assert b"police" not in r.body, (kind, r)
    out = json.loads(tix_ok("correlate", "--db", w.db, "--as-org", "telco", "--json",
                            "lonely.example"))
    assert out["count"] == 0 and "police" not in json.dumps(out), out
    out = json.loads(tix_ok("correlate", "--db", w.db, "--json", "lonely.example"))
    assert out["count"] == 1, out  # the operator sees it


@test
def over_correlated_values_are_a_count_and_a_flag_of_readable_objects_only(w):
    seen = [marked([CLEAR], pattern="[domain-name:value = 'popular.example']")
            for _ in range(CAP + 1)]
    hidden = [marked([RED], pattern="[domain-name:value = 'popular.example']")
              for _ in range(4)]
    w.import_as("cert", seen + hidden)
    a = expect_json(api_get(w.client("telco-tom"), "correlate",
                            [("value", "popular.example")]), 200)
    assert a["over_correlated"] is True and a["count"] == CAP + 1, a
    assert a["organisations"] == [], a  # never the fan-out
    assert a["warninglist"] == "test benign", a
    a = expect_json(api_get(w.client("cert-ana"), "correlate",
                            [("value", "popular.example")]), 200)
    assert a["count"] == CAP + 5 and a["over_correlated"] is True, a
    # the CLI's cap is its own; under it everything readable is listed
    out = json.loads(tix_ok("correlate", "--db", w.db, "--as-org", "telco", "--json",
                            "--cap", "50", "popular.example"))
    assert out["count"] == CAP + 1 and not out["over_correlated"], out
    assert sum(len(g["objects"]) for g in out["organisations"]) == CAP + 1, out


@test
def counts_follow_new_versions_and_deletions(w):
    """The index keeps each version's audience and whether it is the latest:
    a newer RED version stops counting for those who may not read it, and
    deleting it makes the older CLEAR version count again."""
    def count(user):
        return expect_json(api_get(w.client(user), "correlate",
                                   [("value", "versioned.example")]), 200)

    old = [marked([CLEAR], pattern="[domain-name:value = 'versioned.example']")
           for _ in range(CAP + 1)]
    r = expect(w.client("cert-ana").post(objects_path(w.cid), {"objects": old}), 202)
    assert r.json()["success_count"] == CAP + 1, r.json()
    a = count("telco-tom")
    assert a["count"] == CAP + 1 and a["over_correlated"] and a["count_exact"], a
    newer = [dict(o, modified="2025-06-01T00:00:00.000Z", object_marking_refs=[RED])
             for o in old[:3]]
    r = expect(w.client("cert-ana").post(objects_path(w.cid), {"objects": newer}), 202)
    assert r.json()["success_count"] == 3, r.json()
    a = count("telco-tom")
    assert a["count"] == CAP - 2 and not a["over_correlated"], a
    got = {o["id"] for g in a["organisations"] for o in g["objects"]}
    assert got == {o["id"] for o in old[3:]}, a  # neither the RED versions nor the old ones
    assert count("cert-ana")["count"] == CAP + 1  # its own RED versions, once each
    assert count("hub-root")["count"] == CAP - 2  # RED: not even the admin
    r = w.client("cert-ana").delete(objects_path(w.cid, newer[0]["id"]),
                                    [("match[version]", newer[0]["modified"])])
    assert r.status == 200, r
    a = count("telco-tom")
    assert a["count"] == CAP - 1 and newer[0]["id"] in {
        o["id"] for g in a["organisations"] for o in g["objects"]}, a


@test
def the_cli_as_an_organisation_agrees_with_the_api(w):
    for user, org, _ in USERS:
        if user in ("bank-sensor", "hub-root"):
            continue  # TAXII roles; --as-org reads as an analyst of the organisation
        a = expect_json(api_get(w.client(user), "correlate", [("value", "shared.example")]), 200)
        out = json.loads(tix_ok("correlate", "--db", w.db, "--as-org", org, "--json",
                                "shared.example"))
        assert listed(w, out) == listed(w, a) and out["count"] == a["count"], (org, out, a)
    text = tix_ok("correlate", "--db", w.db, "--as-org", "telco", "shared.example")
    assert "bank (DE)" in text and "cert (KE)" in text, text
    r = tix("correlate", "--db", w.db, "--as-org", "nobody", "shared.example")
    assert r.returncode == 1, r


@test
def sightings_and_their_counts_pass_the_policy(w):
    green = w.objs["green"]["id"]
    ident = {"type": "identity", "spec_version": "2.1", "id": new_id("identity"),
             "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
             "name": "bank sensor 1", "identity_class": "system"}
    mine = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
            "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
            "sighting_of_ref": green, "count": 3, "where_sighted_refs": [ident["id"]],
            "first_seen": "2024-04-30T10:00:00Z", "last_seen": "2024-04-30T12:00:00Z",
            "object_marking_refs": [GREEN]}
    st = expect(w.client("bank-sensor").post(objects_path(w.cid), {"objects": [ident, mine]}),
                202).json()
    assert st["success_count"] == 2, st
    secret = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
              "created": "2024-05-02T00:00:00.000Z", "modified": "2024-05-02T00:00:00.000Z",
              "sighting_of_ref": green, "count": 5, "object_marking_refs": [RED],
              "first_seen": "2024-05-01T00:00:00Z", "last_seen": "2024-05-01T01:00:00Z"}
    w.import_as("cert", [secret])
    for user, want in (("telco-tom", 3), ("cert-ana", 8), ("bank-rita", 3)):
        a = expect_json(api_get(w.client(user), "objects/%s/sightings" % green), 200)
        assert a["aggregate"]["count"] == want, (user, a)
        assert len(a["sightings"]) == (2 if want == 8 else 1), (user, a)
        if want == 3:
            assert set(a["aggregate"]["by_organisation"]) == {"bank"}, a
            assert a["aggregate"]["first_seen"].startswith("2024-04-30T10:00:00"), a
        c = expect_json(api_get(w.client(user), "correlate", [("value", "shared.example")]), 200)
        counts = {o["id"]: o["sightings"] for g in c["organisations"] for o in g["objects"]}
        assert counts[green] == want, (user, counts)
    # a sighting of what the caller may not read: the object is not there
    r = api_get(w.client("telco-tom"), "objects/%s/sightings" % w.objs["red"]["id"])
    assert r.status == 404, r


@test
def hostile_parameters_are_refused_never_a_crash(w):
    c = w.client("telco-tom")
    for params in ([("value", "GREEN")], [("value", "300.1.2.3")],
                   [("value", "' OR 1=1 --")], [("value", "a" * 3000)],
                   [("value", "x.example"), ("value", "y.example")],
                   [("value", "x.example"), ("id", w.objs["clear"]["id"])], [],
                   [("value", "x.example"), ("bogus", "1")],
                   [("value", "d41d8cd98f00b204e9800998ecf8427")]):
        r = api_get(c, "correlate", params)
        assert r.status == 400, (params, r)
        assert "description" in r.json(), r
    r = c.get(API + "correlate", [("value", "x" * (1 << 20))], accept="application/json")
    assert r.status in (400, 414, 431), r
    assert api_get(c, "nothing-here").status == 404
    r = c.request("POST", API + "correlate", body={"value": "x.example"},
                  content_type="application/json", accept="application/json")
    assert r.status == 405, r
    # the server is still there and answers
    expect_json(api_get(c, "correlate", [("value", "shared.example")]), 200)


@test
def callers_authenticate_as_for_taxii(w):
    s = Server(w.db, w.dir, "closed").start()
    try:
        r = api_get(Client(s), "correlate", [("value", "shared.example")])
        assert r.status == 401 and r.header("WWW-Authenticate"), r
        r = api_get(Client(s, bearer("tix_notakey")), "correlate", [("value", "shared.example")])
        assert r.status == 401, r
        expect_json(api_get(Client(s, bearer(w.keys["telco-tom"])), "correlate",
                            [("value", "shared.example")]), 200)
    finally:
        s.stop()


def search_names(w, answer):
    return {w.name_of.get(x["id"], x["id"]) for x in answer["results"]}


@test
def every_principal_searches_only_what_it_may_read(w):
    bad = []
    for kind, user in KINDS.items():
        c, want = w.client(user), expected(kind)
        for params in ([("q", "cobalt strike")], [("q", "COBALT ŠTRIKE")], [("q", "strik")],
                       [("q", "shared.example")], [("q", "203.0.113.0/24")],
                       [("q", "beacon"), ("type", "indicator"), ("label", "C2")]):
            a = expect_json(api_get(c, "search", params), 200)
            got = search_names(w, a)
            if got != want:
                bad.append((kind, params, sorted(got ^ want)))
        a = expect_json(api_get(c, "search", [("q", "beacon"), ("type", "malware")]), 200)
        if a["results"]:
            bad.append((kind, "malware", a))
    assert not bad, bad
    # filters: organisation, TLP, time, limit
    c = w.client("cert-ana")
    a = expect_json(api_get(c, "search", [("q", "beacon"), ("org", "bank")]), 200)
    assert search_names(w, a) == {"bank-green"}, a
    a = expect_json(api_get(c, "search", [("q", "beacon"), ("tlp", "red")]), 200)
    assert search_names(w, a) == {"red", "red-nobody", "contradictory"}, a
    a = expect_json(api_get(c, "search", [("q", "beacon"), ("since", "2030-01-01T00:00:00Z")]),
                    200)
    assert a["results"] == [], a
    a = expect_json(api_get(c, "search", [("q", "beacon"), ("limit", "2")]), 200)
    assert len(a["results"]) == 2 and a["more"] is True, a
    # the CLI agrees, as an organisation and as the operator
    out = tix_ok("search", "--db", w.db, "--as-org", "telco", "--json", "cobalt strike")
    got = {w.name_of.get(json.loads(x)["id"]) for x in out.splitlines()}
    assert got == expected("other-org"), got
    out = tix_ok("search", "--db", w.db, "--json", "--type", "indicator", "beacon")
    assert {w.name_of.get(json.loads(x)["id"]) for x in out.splitlines()} >= expected("same-org")


@test
def hostile_search_strings_are_words_or_refused(w):
    c = w.client("telco-tom")
    for q in ('"', "*", "NEAR(a b)", "beacon OR red", "cobalt AND NOT strike", "{labels}: c2",
              "'; DROP TABLE objects; --", "^beacon", "beacon -strike", "a" * 1000):
        r = api_get(c, "search", [("q", q)])
        assert r.status in (200, 400), (q, r)
        if r.status == 200:
            names = search_names(w, r.json())
            assert names <= expected("other-org"), (q, names)
    for params in ([], [("q", "")], [("q", "x" * 2000)], [("q", "a"), ("q", "b")],
                   [("q", "a"), ("type", "Not A Type")], [("q", "a"), ("tlp", "purple")],
                   [("q", "a"), ("since", "yesterday")], [("q", "a"), ("limit", "0")]):
        r = api_get(c, "search", params)
        assert r.status == 400, (params, r)
    r = tix("search", "--db", w.db, "--since", "yesterday", "x")
    assert r.returncode == 2 and b"since" in r.stderr, r
    # a 1 MB query: refused before any search, by the query's bound or the request's
    r = c.get(API + "search", [("q", "beacon " * (1 << 17))], accept="application/json")
    assert r.status in (400, 414, 431), r
    r = tix("search", "--db", w.db, "beacon " * 18000)  # an argument's most on Linux: 128 KiB
    assert r.returncode == 2 and b"longer than" in r.stderr, r
    expect_json(api_get(c, "search", [("q", "beacon")]), 200)


LOG_DAY = [
    '203.0.113.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl"',
    '<34>1 2026-11-30T11:00:00Z fw kernel - - - DROP SRC=203.0.113.1',
    '2026-11-30T12:00:00Z blocked 203.0.113.1',
    '{"timestamp":"2026-11-30T13:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.1"}',
    '{"ts":1796047200.5,"uid":"C1","id.orig_h":"203.0.113.1"}',
]


def match_sightings(w, log, sensor, *extra):
    return tix("match", "--db", w.db, "--sightings", "--sensor", sensor, "--collection", w.cid,
               "--quiet", *extra, log)


def sightings_of(w, name, user="telco-tom"):
    return expect_json(api_get(w.client(user), "objects/%s/sightings" % w.objs[name]["id"]), 200)


@test
def sightings_take_the_logs_times_are_idempotent_and_served_by_taxii(w):
    log = os.path.join(w.dir, "edge.log")
    with open(log, "w") as f:
        f.write("\n".join(LOG_DAY + ["seen 203.0.113.1 without a time"]) + "\n")
    r = match_sightings(w, log, "edge-1")
    assert r.returncode == 0, r.stderr
    a = sightings_of(w, "clear")
    days = sorted(a["sightings"], key=lambda x: x["first_seen"])
    assert len(days) == 2, a  # 30 November from the lines' times, today for the other line
    assert days[0]["count"] == 5, days
    assert days[0]["first_seen"].startswith("2026-11-30T10:00:00"), days
    assert days[0]["last_seen"].startswith("2026-11-30T14:00:00.5"), days
    assert days[1]["count"] == 1 and not days[1]["first_seen"].startswith("2026-11-30"), days
    assert a["aggregate"]["count"] == 6, a
    # TAXII serves them from the collection
    c = w.client("telco-tom")
    listed = expect(c.get(objects_path(w.cid), [("match[type]", "sighting")]), 200).json()
    ids = {o["id"] for o in listed.get("objects", [])}
    assert days[0]["id"] in ids and days[1]["id"] in ids, listed
    # the same lines again: nothing changes, not even a version
    r = match_sightings(w, log, "edge-1")
    assert r.returncode == 0 and b"0 sightings recorded" in r.stderr, r.stderr
    assert sightings_of(w, "clear") == a
    v = expect(c.get(objects_path(w.cid, days[0]["id"], versions=True)), 200).json()
    assert len(v["versions"]) == 1, v
    # a new line raises the count and moves last_seen, in a new version
    with open(log, "a") as f:
        f.write("2026-11-30T15:00:00Z again 203.0.113.1\n")
    r = match_sightings(w, log, "edge-1")
    assert r.returncode == 0, r.stderr
    day = [x for x in sightings_of(w, "clear")["sightings"] if x["id"] == days[0]["id"]][0]
    assert day["count"] == 6 and day["last_seen"].startswith("2026-11-30T15:00:00"), day
    v = expect(c.get(objects_path(w.cid, days[0]["id"], versions=True)), 200).json()
    assert len(v["versions"]) == 2, v
    out = json.loads(tix_ok("get", "--db", w.db, "--sightings", w.objs["clear"]["id"]))
    assert out["aggregate"]["count"] == 7, out


@test
def aggregates_stay_exact_under_concurrent_writers(w):
    procs = []
    for sensor in ("edge-a", "edge-b", "edge-c"):
        log = os.path.join(w.dir, "%s.log" % sensor)
        with open(log, "w") as f:
            for i in range(40):
                f.write("2026-11-29T%02d:%02d:00Z %s 203.0.113.1\n" % (i // 60, i % 60, sensor))
        procs.append(subprocess.Popen(
            [TIX_BIN, "match", "--db", w.db, "--sightings", "--sensor", sensor,
             "--collection", w.cid, "--quiet", log],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    a = sightings_of(w, "clear", "cert-ana")
    by = a["aggregate"]["by_sensor"]
    names = {x["sensor"] for x in a["sightings"] if x["first_seen"].startswith("2026-11-29")}
    assert len(names) == 3, a
    assert sorted(by[n]["count"] for n in names) == [40, 40, 40], by
    assert all(by[n]["first_seen"].startswith("2026-11-29T00:00:00") for n in names), by


def iso_days_ago(days):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@test
def decay_scores_thresholds_and_expire(w):
    d = tempfile.mkdtemp(prefix="tix-decay-", dir=w.dir)
    db = os.path.join(d, "tix.db")
    cases = {  # name: (pattern, confidence, days old, hand-computed score)
        "ip-quarter": ("[ipv4-addr:value = '192.0.2.1']", 80, 7.5, 40.0),
        "domain-half": ("[domain-name:value = 'half.example']", None, 45, 25.0),
        "hash-half": ("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", 100, 182.5,
                      75.0),
        "ip-gone": ("[ipv4-addr:value = '192.0.2.2']", 90, 40, 0.0),
    }
    objs, ids = [], {}
    for name, (pattern, conf, days, _) in cases.items():
        ts = iso_days_ago(days)
        o = indicator(created=ts, pattern=pattern, valid_from=ts)
        if conf is not None:
            o["confidence"] = conf
        objs.append(o)
        ids[o["id"]] = name
    revoked = indicator(pattern="[domain-name:value = 'revoked.example']", revoked=True)
    objs.append(revoked)
    path = os.path.join(d, "ind.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
    tix_ok("import", "--db", db, path)
    out = tix_ok("expire", "--db", db, "--dry-run", "--json", "--floor", "100")
    got = {ids[json.loads(x)["id"]]: json.loads(x)["score"] for x in out.splitlines()
           if json.loads(x)["id"] in ids}
    for name, (_, _, _, want) in cases.items():
        assert abs(got[name] - want) < 0.2, (name, got[name], want)
    # tix match --min-score leaves out what scores below it
    log = os.path.join(d, "a.log")
    with open(log, "w") as f:
        f.write("192.0.2.1 half.example 192.0.2.2 d41d8cd98f00b204e9800998ecf8427e\n")
    r = tix("match", "--db", db, "--min-score", "30", log)
    hits = {ids.get(json.loads(x)["indicator"]) for x in r.stdout.decode().splitlines()}
    assert hits == {"ip-quarter", "hash-half"}, (hits, r.stderr)
    # a fresh sighting raises the score back to its base
    dom = [i for i, n in ids.items() if n == "domain-half"][0]
    now = iso_days_ago(0)
    sighting = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
                "created": now, "modified": now, "sighting_of_ref": dom, "count": 1,
                "first_seen": now, "last_seen": now}
    with open(path, "w") as f:
        json.dump(sighting, f)
    tix_ok("import", "--db", db, path)
    out = tix_ok("expire", "--db", db, "--dry-run", "--json", "--floor", "100")
    got = {ids.get(json.loads(x)["id"]): json.loads(x)["score"] for x in out.splitlines()}
    assert abs(got["domain-half"] - 50.0) < 0.2, got
    # expire marks what fell below the floor; exports and the matcher leave it out
    out = tix_ok("expire", "--db", db, "--floor", "30", "--json")
    ids[revoked["id"]] = "revoked"
    marked = {ids.get(json.loads(x)["id"]) for x in out.splitlines()}
    assert marked == {"ip-gone", "revoked"}, marked
    assert tix_ok("expire", "--db", db, "--floor", "30", "--json") == ""  # marked once
    exported = {o["id"] for o in json.loads(tix_ok("export", "--db", db))["objects"]}
    assert {ids[i] for i in set(ids) - exported} == {"ip-gone", "revoked"}, exported
    every = {o["id"] for o in json.loads(tix_ok("export", "--db", db, "--include-inactive"))[
        "objects"]}
    assert set(ids) <= every  # history is kept
    r = tix("match", "--db", db, log)
    hits = {ids.get(json.loads(x)["indicator"]) for x in r.stdout.decode().splitlines()}
    assert "ip-gone" not in hits and "domain-half" in hits, hits


def expect_json(r, status):
    assert r.status == status, "expected %d, got %r" % (status, r)
    return r.json()


if __name__ == "__main__":
    sys.exit(run_world_tests(TESTS, World, "correlate"))
