#!/usr/bin/env python3
"""End-to-end test of cyber drills (docs/drill.md, issue 23): an organiser's
node and three teams' nodes on loopback under a test clock (TIX_NOW). Bad
scenarios are refused with the reason before anything is stored; the inject
goes out on time into the exercise collection; exercise objects stay out of
every production path (export, feeds, matcher, search, correlation, TAXII,
sync pull and push) unless the exercise is asked for; a paused clock stands
still; the teams pull the injects over
TAXII, scan the logs `tix drill logs` wrote for them and report their
sightings back over TAXII; the scoreboard says who detected, who was late,
who missed; purge removes the exercise and keeps the audit log.

    TIX=build/tix python3 tests/e2e/test_drill.py
"""

import base64
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import SANITIZER_MARKS, TIX, Client, Server  # noqa: E402

TIMEOUT = 120
ENVELOPE = "application/taxii+json;version=2.1"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# The drill's clock: two hours ago, so that what it publishes is in the
# past of the real clock the matcher and the store's skew check use.
T0 = int(time.time()) // 60 * 60 - 7200
START = T0 + 1800          # exercise.x_tix_start
AT = 300                   # the inject's triggered_at
DUE = START + AT
WINDOW = 600


def run(*args, now=None, stdin=None, env_extra=None):
    env = dict(os.environ)
    env.pop("TIX_NOW", None)
    if now:
        env["TIX_NOW"] = iso(now)
    env.update(env_extra or {})
    r = subprocess.run([TIX] + [str(a) for a in args], input=stdin, capture_output=True,
                       timeout=TIMEOUT, env=env, text=True)
    bad = [m for m in SANITIZER_MARKS if m in r.stderr]
    assert not bad, "sanitizer report from tix %s: %s" % (args[0], r.stderr[-3000:])
    return r


def ok(*args, **kw):
    r = run(*args, **kw)
    assert r.returncode == 0, "tix %s: exit %d: %s" % (
        " ".join(map(str, args)), r.returncode, r.stderr[-2000:])
    return r.stdout


def scenario():
    ind = "indicator--8e2e2d2b-17d4-4cbb-93ef-aa3bc2c5a001"
    return {
        "exercise": {
            "uuid": "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00023",
            "name": "Regional drill", "description": "one C2 domain", "namespace": "tix",
            "tags": ["exercise:type=\"drill\""], "total_duration": "3600", "version": "1",
            "meta": {"author": "test"},
            "x_tix_start": iso(START), "x_tix_teams": ["alpha", "bravo", "charlie"],
        },
        "inject_flow": [
            {"description": "briefing", "inject_uuid": "0b7f2d1e-0000-4000-8000-000000000001",
             "timing": {"triggered_at": None}},
            {"description": "the C2 domain appears",
             "inject_uuid": "0b7f2d1e-0000-4000-8000-000000000002",
             "timing": {"triggered_at": AT}},
        ],
        "inject_payloads": [
            {"uuid": "c0c0c0c0-0000-4000-8000-000000000001", "name": "briefing",
             "type": "file",
             "parameters": {"content": base64.b64encode(b"Welcome").decode(),
                            "content-type": "base64", "filename": "brief.txt"}},
            {"uuid": "c0c0c0c0-0000-4000-8000-000000000002", "name": "c2", "type": "x-tix-stix",
             "parameters": {"objects": [{
                 "type": "indicator", "spec_version": "2.1", "id": ind,
                 "created": iso(T0 - 86400)[:19] + ".000Z",
                 "modified": iso(T0 - 86400)[:19] + ".000Z",
                 "name": "drill C2", "pattern": "[domain-name:value = 'c2.drill.example']",
                 "pattern_type": "stix", "valid_from": iso(T0 - 86400)}]}},
        ],
        "injects": [
            {"uuid": "0b7f2d1e-0000-4000-8000-000000000001", "name": "briefing",
             "action": "email_to_participants",
             "action_payload_resource_uuid": "c0c0c0c0-0000-4000-8000-000000000001",
             "target_tool": "MISP", "inject_evaluation": []},
            {"uuid": "0b7f2d1e-0000-4000-8000-000000000002", "name": "C2 beacon",
             "action": "network_connection",
             "action_payload_resource_uuid": "c0c0c0c0-0000-4000-8000-000000000002",
             "target_tool": "Suricata",
             "x_tix_expect": {"indicator": ind, "value": "c2.drill.example", "kind": "domain",
                              "teams": ["alpha", "bravo", "charlie"], "window": WINDOW}},
        ],
    }


PROD = {"type": "bundle", "id": "bundle--6b0c3a53-9f3c-4f3e-8a43-3b3a1d2e0001", "objects": [
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--6b0c3a53-9f3c-4f3e-8a43-3b3a1d2e0002",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
     "name": "production", "pattern": "[domain-name:value = 'prod.example']",
     "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"},
    # drill data someone put in a production collection: the policy's one
    # decision keeps it out there too
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--6b0c3a53-9f3c-4f3e-8a43-3b3a1d2e0003",
     "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
     "name": "stray drill", "pattern": "[domain-name:value = 'stray.drill.example']",
     "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
     "x_tix_exercise": "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00023"},
]}


class Node:
    def __init__(self, root, name):
        self.name = name
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "tix.db")

    def tix(self, *args, **kw):
        return ok(*args, "--db", self.db, **kw)

    def tix_run(self, *args, **kw):
        return run(*args, "--db", self.db, **kw)

    def key(self, user, org, role):
        self.tix("admin", "user", "add", user, "--org", org, "--role", role)
        out = self.tix("admin", "key", "add", "--user", user)
        return re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]


def audit_entries(node):
    return [line for line in node.tix("audit", "show").splitlines() if line.strip()]


def ids(bundle_text):
    return {o["id"] for o in json.loads(bundle_text)["objects"]}


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def drill(root):
    org = Node(root, "control")
    teams = {t: Node(root, t) for t in ("alpha", "bravo", "charlie")}
    keys = {}
    for t in teams:
        org.tix("admin", "org", "add", t)
    out = org.tix("admin", "collection", "add", "shared")
    shared = re.search(r"[0-9a-f-]{36}", out).group(0)
    for t in teams:
        org.tix("admin", "collection", "grant", "shared", "--org", t, "--read")
    org.tix("import", "--collection", "shared", write(os.path.join(root, "prod.json"), PROD))
    for t in teams:
        keys[t] = org.key("sensor-" + t, t, "sensor")
        keys[t + "-a"] = org.key("analyst-" + t, t, "analyst")

    # --- bad scenarios: refused with the reason, nothing stored ----------------
    def refused(sc, why):
        p = write(os.path.join(root, "bad.json"), sc)
        r = org.tix_run("drill", "load", p, now=T0)
        assert r.returncode != 0 and why in r.stderr, (why, r.stderr)
    sc = scenario()
    bad = copy.deepcopy(sc)
    bad["injects"][1]["x_tix_expect"]["colour"] = "red"
    refused(bad, "unknown field 'colour'")
    bad = copy.deepcopy(sc)
    bad["exercise"]["x_tix_sart"] = iso(START)
    refused(bad, "unknown field 'x_tix_sart'")
    bad = copy.deepcopy(sc)
    bad["inject_flow"][0]["timing"]["triggered_at"] = AT + 60
    refused(bad, "injects out of order")
    bad = copy.deepcopy(sc)
    bad["injects"][1]["action_payload_resource_uuid"] = "c0c0c0c0-0000-4000-8000-00000000dead"
    refused(bad, "names no inject_payloads entry")
    bad = copy.deepcopy(sc)
    bad["exercise"]["x_tix_start"] = iso(T0 - 60)
    refused(bad, "the schedule is in the past")
    # offsets that would overflow the µs clock (UBSan aborts the old code's
    # score and status) are refused at load, saying where and the bound
    bad = copy.deepcopy(sc)
    bad["inject_flow"][1]["timing"]["triggered_at"] = 2 ** 63 - 1
    refused(bad, "inject_flow[1].timing: triggered_at: seconds after the start, 0 to 31622400")
    bad = copy.deepcopy(sc)
    bad["inject_flow"][1]["timing"]["triggered_at"] = 1e300
    refused(bad, "0 to 31622400 (366 days)")
    bad = copy.deepcopy(sc)
    bad["injects"][1]["x_tix_expect"]["window"] = 2 ** 62
    refused(bad, "injects[1].x_tix_expect: window: whole seconds, 1 to 31622400")
    # ids are UUIDs / STIX ids, planted values are values of their kind
    bad = copy.deepcopy(sc)
    bad["injects"][0]["uuid"] = "briefing"
    refused(bad, "injects[0]: an inject has a uuid of its own (a UUID")
    bad = copy.deepcopy(sc)
    bad["inject_payloads"][0]["uuid"] = "brief,ing"
    refused(bad, "inject_payloads[0]: a payload has a uuid (a UUID)")
    bad = copy.deepcopy(sc)
    bad["injects"][1]["x_tix_expect"]["indicator"] = "indicator--c2"
    refused(bad, "indicator: a STIX indicator id (indicator--UUID)")
    for kind, value in (("ipv4", "999.1.2.3"), ("domain", "localhost"),
                        ("url", "c2.drill.example")):
        bad = copy.deepcopy(sc)
        bad["injects"][1]["x_tix_expect"].update(kind=kind, value=value)
        refused(bad, "value '%s' is not a valid %s" % (value, kind))
    bad = copy.deepcopy(sc)
    bad["injects"][1]["x_tix_expect"]["teams"] = ["delta"]
    refused(bad, "team 'delta' is not in exercise.x_tix_teams")
    r = org.tix_run("drill", "status", sc["exercise"]["uuid"], now=T0)
    assert r.returncode != 0 and "no exercise" in r.stderr, r.stderr
    assert "exercise" not in org.tix("admin", "collection", "list")  # nothing stored
    # the starter loads; its clock pauses and resumes (its inject: +600 s)
    starter = os.path.join(root, "starter.json")
    org.tix("drill", "new", "--out", starter, now=T0)
    sid = org.tix("drill", "load", starter, now=T0).split()[-1]
    org.tix("drill", "start", sid, "--now", now=T0)
    org.tix("drill", "pause", sid, now=T0 + 100)
    assert "published" not in org.tix("drill", "status", sid, now=T0 + 700)
    st = org.tix("drill", "start", sid, now=T0 + 1000)  # 900 s paused
    assert "due %s" % iso(T0 + 1500) in st, st
    assert "published" not in org.tix("drill", "status", sid, now=T0 + 1499)
    assert "published %s" % iso(T0 + 1500) in org.tix("drill", "status", sid, now=T0 + 1500)

    # --- load, start on schedule; a reused id refused ---------------------------
    p = write(os.path.join(root, "scenario.json"), sc)
    xid = org.tix("drill", "load", p, now=T0).split()[-1]
    assert xid == sc["exercise"]["uuid"], xid
    r = org.tix_run("drill", "load", p, now=T0)
    assert r.returncode != 0 and "loaded before" in r.stderr, r.stderr
    st = org.tix("drill", "start", xid, now=T0)
    excoll = re.search(r"collection ([0-9a-f-]{36})", st).group(1)
    assert "+   300s  due %s" % iso(DUE) in st, st
    st = org.tix("drill", "status", xid, now=DUE - 1)
    assert "published" in st and "due %s" % iso(DUE) in st, st  # the briefing only
    assert len(ids(org.tix("export", "--exercise", xid, "--collection", excoll))) == 1
    st = org.tix("drill", "status", xid, now=DUE)
    assert "+   300s  published %s" % iso(DUE) in st, st
    exported = json.loads(org.tix("export", "--exercise", xid, "--collection", excoll))
    inds = [o for o in exported["objects"] if o["type"] == "indicator"]
    assert len(inds) == 1 and inds[0]["x_tix_exercise"] == xid, exported
    assert inds[0]["created"].startswith(iso(DUE)[:19]), inds[0]
    mark = [o["id"] for o in exported["objects"] if o["type"] == "marking-definition"]
    assert mark and mark[0] in inds[0]["object_marking_refs"], exported
    drill_ind = inds[0]["id"]

    # --- isolation on every path of the organiser's node --------------------------
    stray = PROD["objects"][1]["id"]
    prod = PROD["objects"][0]["id"]
    held = ids(org.tix("export"))
    assert prod in held and drill_ind not in held and stray not in held, held
    held = ids(org.tix("export", "--exercise", xid))
    assert drill_ind in held and stray in held and prod in held, held
    assert ids(org.tix("export", "--exercise", "11111111-2222-4333-8444-555555555555")) == \
        {prod}
    held = ids(org.tix("export", "--as-org", "alpha", "--collection", "shared"))
    assert held == {prod}, held
    feed = org.tix("export", "--format", "rpz")
    assert "prod.example" in feed and "drill.example" not in feed, feed
    logline = os.path.join(root, "probe.log")
    with open(logline, "w") as f:
        f.write("%s named[1]: client 10.0.0.1#5: query: c2.drill.example IN A +\n" % iso(DUE))
        f.write("%s named[1]: client 10.0.0.1#5: query: stray.drill.example IN A +\n" % iso(DUE))
    r = org.tix_run("match", logline)
    assert r.returncode == 1 and "drill.example" not in r.stdout, r.stdout
    r = org.tix_run("match", "--exercise", xid, logline)
    assert r.returncode == 0 and drill_ind in r.stdout, r.stdout
    for q in ("c2.drill.example", "stray.drill.example"):
        assert org.tix_run("search", q).stdout.count("indicator--") == 0
        assert "indicator--" not in org.tix_run("correlate", q).stdout
    srv = Server(org.db, org.dir, "control").start()
    try:
        base = "/api1/collections/%s/objects/"
        c = Client(srv, "Bearer " + keys["alpha-a"])
        got = {o["id"] for o in c.get(base % shared).json().get("objects", [])}
        assert got == {prod}, got
        r = c.get("/feeds/%s/rpz" % shared, accept=None)
        assert r.status == 200 and b"prod.example" in r.body, r
        assert b"drill.example" not in r.body, r
        got = {o["id"] for o in c.get(base % excoll).json().get("objects", [])}
        assert drill_ind in got and stray not in got, got
        # the exercise's collection is the HTTP way to ask for it: its feed too
        r = c.get("/feeds/%s/rpz" % excoll, accept=None)
        assert r.status == 200 and b"c2.drill.example" in r.body, r
        r = c.get("/api/v1/search", params=[("q", "c2.drill.example")])
        assert b"indicator--" not in r.body, r.body[:300]

        # --- the teams: pull the injects, scan their logs, report back ------------
        url = "http://127.0.0.1:%d/taxii2/" % srv.port
        for t, node in teams.items():
            node.tix("admin", "org", "add", "control")
            node.tix("admin", "collection", "add", "drill")
            node.tix("peer", "add", "control", "--url", url, "--remote-collection", excoll,
                     "--local-collection", "drill", "--key-stdin", "--direction", "pull",
                     "--org", "control", stdin=keys[t + "-a"] + "\n")
            node.tix("sync", "--once")
            assert drill_ind not in ids(node.tix("export")), t  # production there too
            assert drill_ind in ids(node.tix("export", "--exercise", xid)), t
        delays = {"alpha": 120, "bravo": WINDOW + 300, "charlie": 60}
        for t, node in teams.items():
            log = os.path.join(node.dir, "drill.log")
            org.tix("drill", "logs", xid, "--team", t, "--out", log, "--delay", delays[t],
                    now=DUE + 1200)
            text = open(log).read()
            assert "c2.drill.example" in text and iso(DUE + delays[t])[:19] in text, text
            args = ["match", "--sensor", t + "-ids", "--report",
                    "http://127.0.0.1:%d/api1/collections/%s/" % (srv.port, excoll), log]
            if t != "charlie":  # charlie's sensor runs without the exercise: it misses
                args[1:1] = ["--exercise", xid]
            r = node.tix_run(*args, env_extra={"TIX_API_KEY": keys[t]})
            assert r.returncode == (1 if t == "charlie" else 0), (t, r.stderr[-1500:])

        # --- federation pushes no drill data: alpha's own exercise sighting
        # (recorded locally) stays home, its production indicator goes
        alpha = teams["alpha"]
        org.tix("admin", "collection", "grant", "shared", "--org", "alpha", "--read", "--write")
        alpha.tix("admin", "collection", "add", "home")
        # control is in home's community: AMBER (the sighting's default) may go
        alpha.tix("admin", "collection", "grant", "home", "--org", "control", "--read")
        alpha.tix("import", "--collection", "home",
                  write(os.path.join(root, "alpha-prod.json"), {
                      "type": "indicator", "spec_version": "2.1",
                      "id": "indicator--6b0c3a53-9f3c-4f3e-8a43-3b3a1d2e00a1",
                      "created": "2026-01-02T00:00:00.000Z",
                      "modified": "2026-01-02T00:00:00.000Z", "name": "alpha's own",
                      "pattern": "[domain-name:value = 'alpha.example']",
                      "pattern_type": "stix", "valid_from": "2026-01-02T00:00:00Z",
                      "object_marking_refs": [
                          "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}))
        alpha.tix("match", "--exercise", xid, "--sightings", "--sensor", "alpha-local",
                  "--collection", "home", os.path.join(alpha.dir, "drill.log"))
        local = ids(alpha.tix("export", "--exercise", xid, "--type", "sighting"))
        assert len(local) == 1, local
        alpha.tix("peer", "add", "control-shared", "--url", url, "--remote-collection", shared,
                  "--local-collection", "home", "--key-stdin", "--direction", "push",
                  "--org", "control", stdin=keys["alpha-a"] + "\n")
        alpha.tix("sync", "--once")
        arrived = ids(org.tix("export", "--exercise", xid, "--collection", "shared"))
        assert "indicator--6b0c3a53-9f3c-4f3e-8a43-3b3a1d2e00a1" in arrived, arrived
        assert not (local & arrived), arrived

        # a sighting charlie dates before the inject: a false detection
        ident = "identity--0c0c0c0c-0000-4000-8000-0000000000cc"
        r = Client(srv, "Bearer " + keys["charlie"]).request(
            "POST", "/api1/collections/%s/objects/" % excoll, body={"objects": [
                {"type": "identity", "spec_version": "2.1", "id": ident,
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "name": "charlie-guess", "identity_class": "system"},
                {"type": "sighting", "spec_version": "2.1",
                 "id": "sighting--0c0c0c0c-0000-4000-8000-0000000000c1",
                 "created": iso(DUE - 600)[:19] + ".000Z",
                 "modified": iso(DUE - 600)[:19] + ".000Z",
                 "first_seen": iso(DUE - 600)[:19] + ".000Z", "sighting_of_ref": drill_ind,
                 "where_sighted_refs": [ident], "x_tix_exercise": xid}]})
        assert r.status == 202 and r.json()["success_count"] == 2, r

        # --- the scoreboard ----------------------------------------------------------
        csvp, svgp = os.path.join(root, "score.csv"), os.path.join(root, "score.svg")
        table = org.tix("drill", "score", xid, "--csv", csvp, "--svg", svgp, now=DUE + 1800)
        rows = {r["team"]: r for r in csv.DictReader(open(csvp)) if r["inject"]}
        assert rows["alpha"]["result"] == "detected", table
        assert rows["alpha"]["time_to_detect_s"] == "120", table
        assert rows["alpha"]["time_to_report_s"] not in ("", "-"), table
        assert rows["bravo"]["result"] == "late", table
        assert rows["bravo"]["time_to_detect_s"] == str(WINDOW + 300), table
        assert rows["charlie"]["result"] == "missed", table
        false = {r["team"]: r["false_detections"] for r in csv.DictReader(open(csvp))
                 if r["result"] == "false"}
        assert false == {"charlie": "1"}, false
        assert "alpha" in table and "missed 1" in table, table
        # the same scoreboard over the JSON API, for the node's admins only
        org.tix("admin", "org", "add", "control")
        ada = Client(srv, "Bearer " + org.key("ada", "control", "admin"))
        r = Client(srv, "Bearer " + keys["alpha-a"]).get("/api/v1/drills/%s/score" % xid,
                                                          accept=None)
        assert r.status == 403, r
        js = {t["team"]: t for t in ada.get("/api/v1/drills/%s/score" % xid,
                                            accept=None).json()["teams"]}
        for t in ("alpha", "bravo", "charlie"):
            got = js[t]["injects"][0]
            assert got["result"] == rows[t]["result"], (t, got, table)
            assert str(got["time_to_detect_s"] if got["time_to_detect_s"] is not None
                       else "-") == rows[t]["time_to_detect_s"], (t, got, table)
        assert [js[t]["false_detections"] for t in ("alpha", "bravo", "charlie")] == \
            [0, 0, 1], js
        assert js["alpha"]["mean_time_to_detect_s"] == 120, js
        svg = open(svgp).read()
        assert svg.startswith("<svg") and "missed" in svg and "late" in svg, svg[:400]
        # sightings of the exercise stay out of production on the organiser too
        assert "sighting--" not in org.tix("export", "--type", "sighting")
        assert "sighting--" in org.tix("export", "--type", "sighting", "--exercise", xid)
    finally:
        srv.stop()

    # --- purge: the objects gone, production kept, one audit entry ----------------
    before = audit_entries(org)
    out = org.tix("drill", "purge", xid, now=DUE + 3600)
    assert "purged" in out, out
    after = audit_entries(org)
    assert len(after) == len(before) + 1 and "drill purge %s" % xid in after[-1], after[-3:]
    held = ids(org.tix("export", "--exercise", xid))
    assert drill_ind not in held and not any(i.startswith("sighting--") for i in held), held
    assert prod in held and stray in held, held  # production (and the stray) survive
    assert prod in ids(org.tix("export")), "production object purged"
    audit = org.tix("audit", "show")
    assert "drill load %s" % xid in audit, audit[-2000:]
    org.tix("audit", "verify")


def served_clock(root):
    """A running `tix serve` publishes the due injects of running exercises
    by itself (no `tix drill` command), not those of a paused one, and a
    `tix drill tick` beside it publishes nothing twice."""
    org = Node(root, "clock")
    org.tix("admin", "org", "add", "alpha")
    key = org.key("analyst-alpha", "alpha", "analyst")
    sc = scenario()
    sc["exercise"]["uuid"] = xid = "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00024"
    xcoll = re.search(r"collection ([0-9a-f-]{36})", org.tix(
        "drill", "start", org.tix("drill", "load", write(os.path.join(root, "x.json"), sc),
                                  now=T0).split()[-1], now=T0)).group(1)
    sc["exercise"]["uuid"] = pid = "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00025"
    sc["exercise"]["name"] = "Paused drill"
    org.tix("drill", "load", write(os.path.join(root, "p.json"), sc), now=T0)
    pcoll = re.search(r"collection ([0-9a-f-]{36})",
                      org.tix("drill", "start", pid, "--now", now=T0)).group(1)
    org.tix("drill", "pause", pid, now=T0 + 10)  # its inject would be due at T0 + 300

    def indicators(coll, c):
        r = c.get("/api1/collections/%s/objects/" % coll)
        assert r.status == 200, r
        return [o for o in r.json().get("objects", []) if o["type"] == "indicator"]

    os.environ["TIX_NOW"] = iso(DUE)  # the server's clock; run() leaves it out
    try:
        srv = Server(org.db, org.dir, "clock").start()
    finally:
        del os.environ["TIX_NOW"]
    try:
        c = Client(srv, "Bearer " + key)
        deadline = time.monotonic() + TIMEOUT
        while not indicators(xcoll, c):
            assert time.monotonic() < deadline, "no inject published by the server: %s" % (
                srv.stderr()[-2000:])
            time.sleep(0.2)
        got = indicators(xcoll, c)
        assert len(got) == 1 and got[0]["created"].startswith(iso(DUE)[:19]), got
        r = run("drill", "tick", xid, "--db", org.db, now=DUE)
        assert r.returncode == 0 and "published" not in r.stderr, r.stderr
        assert not indicators(pcoll, c)  # paused: its clock stands still
    finally:
        srv.stop()
    audit = org.tix("audit", "show")
    assert audit.count("drill %s inject 0b7f2d1e-0000-4000-8000-000000000002" % xid) == 1, \
        audit[-2000:]
    assert "drill %s inject 0b7f2d1e-0000-4000-8000-000000000002" % pid not in audit
    # purging the paused exercise publishes nothing first: one audit entry,
    # the purge's, and nothing of it left to publish afterwards
    before = audit_entries(org)
    org.tix("drill", "purge", pid, now=DUE + 600)
    after = audit_entries(org)
    assert len(after) == len(before) + 1 and "drill purge %s" % pid in after[-1], after[-3:]
    r = run("drill", "tick", pid, "--db", org.db, now=DUE + 900)
    assert r.returncode == 0 and "published" not in r.stderr, r.stderr
    assert len(audit_entries(org)) == len(after)


def load_all_or_nothing(root):
    """A load that fails midway (the exercise row or a team's grant refused
    by the store) leaves no collection and no audit entry behind; grant
    failures are not ignored."""
    import sqlite3
    org = Node(root, "aon")
    org.tix("admin", "org", "add", "alpha")
    p = write(os.path.join(root, "s.json"), scenario())
    org.tix("admin", "collection", "list")  # the store exists
    before = audit_entries(org)
    for table, why in (("drill_exercises", "storing an exercise"),
                       ("collection_grants", "granting team 'alpha'")):
        db = sqlite3.connect(org.db)
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON %s"
                   " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END" % table)
        db.commit()
        db.close()
        r = org.tix_run("drill", "load", p, now=T0)
        assert r.returncode != 0 and why in r.stderr, (table, r.stderr)
        assert "exercise" not in org.tix("admin", "collection", "list"), table
        db = sqlite3.connect(org.db)
        db.execute("DROP TRIGGER refuse")
        db.commit()
        db.close()
    assert [e for e in audit_entries(org) if "drill load" in e] == [], audit_entries(org)
    # and the same file loads once the store takes it
    xid = org.tix("drill", "load", p, now=T0).split()[-1]
    assert "exercise %s" % xid[:8] in org.tix("admin", "collection", "list")
    assert len(audit_entries(org)) >= len(before) + 1


def stored_offsets_bounded(root):
    """A scenario an older tix stored with offsets beyond today's bounds
    (written into the store here) is played and scored without the µs clock
    overflowing (UBSan aborted the old code's score)."""
    import sqlite3
    org = Node(root, "old")
    sc = scenario()
    xid = org.tix("drill", "load", write(os.path.join(root, "s.json"), sc), now=T0).split()[-1]
    sc["inject_flow"][1]["timing"]["triggered_at"] = 1e300
    sc["injects"][1]["x_tix_expect"]["window"] = 2 ** 62
    db = sqlite3.connect(org.db)
    db.execute("UPDATE drill_exercises SET scenario = ? WHERE id = ?", (json.dumps(sc), xid))
    db.commit()
    db.close()
    org.tix("drill", "start", xid, now=T0)
    assert "missed" in org.tix("drill", "score", xid, now=DUE)
    assert "C2 beacon" in org.tix("drill", "status", xid, now=DUE)


def outputs_escaped(root):
    """Team and inject names are markup-escaped in the SVG and quoted per
    RFC 4180 in the CSV."""
    import xml.etree.ElementTree as ET
    org = Node(root, "esc")
    sc = scenario()
    team = 'Blue "Team" <&> \'red\''
    sc["exercise"]["x_tix_teams"] = ["alpha", team]
    sc["injects"][1]["name"] = "<C2 & beacon>"
    sc["injects"][1]["x_tix_expect"]["teams"] = ["alpha", team]
    xid = org.tix("drill", "load", write(os.path.join(root, "e.json"), sc), now=T0).split()[-1]
    org.tix("drill", "start", xid, now=T0)
    csvp, svgp = os.path.join(root, "score.csv"), os.path.join(root, "score.svg")
    org.tix("drill", "score", xid, "--csv", csvp, "--svg", svgp, now=DUE + 60)
    with open(csvp, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["team"] for r in rows] == ["alpha", team], rows
    assert all(r["result"] == "missed" for r in rows), rows
    assert '"Blue ""Team"" <&> \'red\'"' in open(csvp).read()
    svg = ET.parse(svgp).getroot()  # well-formed XML
    texts = ["".join(e.itertext()) for e in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert team in texts, texts
    titles = [e.text for e in svg.iter("{http://www.w3.org/2000/svg}title")]
    assert "<C2 & beacon> window" in titles, titles


def one_bad_exercise(root):
    """The server's clock ticks each running exercise on its own: one that
    cannot publish (its collection removed by hand) is reported, naming it,
    and the others still publish."""
    org = Node(root, "bad")
    org.tix("admin", "org", "add", "alpha")
    key = org.key("analyst-alpha", "alpha", "analyst")
    sc = scenario()
    # listed first (same load time, smaller id): its failure came first
    sc["exercise"]["uuid"] = bad = "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00031"
    org.tix("drill", "load", write(os.path.join(root, "b.json"), sc), now=T0)
    bcoll = re.search(r"collection ([0-9a-f-]{36})",
                      org.tix("drill", "start", bad, now=T0)).group(1)
    sc["exercise"]["uuid"] = good = "5a1d9c1e-6a0b-4c8e-9d51-0c0ffee00032"
    sc["exercise"]["name"] = "Good drill"
    org.tix("drill", "load", write(os.path.join(root, "g.json"), sc), now=T0)
    gcoll = re.search(r"collection ([0-9a-f-]{36})",
                      org.tix("drill", "start", good, now=T0)).group(1)
    org.tix("admin", "collection", "remove", bcoll)
    os.environ["TIX_NOW"] = iso(DUE)
    try:
        srv = Server(org.db, org.dir, "bad").start()
    finally:
        del os.environ["TIX_NOW"]
    try:
        # the good one's inject goes out although the bad one, ticked
        # before it, fails
        deadline = time.monotonic() + TIMEOUT
        while True:
            r = Client(srv, "Bearer " + key).get("/api1/collections/%s/objects/" % gcoll)
            assert r.status == 200, r
            got = [o for o in r.json().get("objects", []) if o["type"] == "indicator"]
            if got:
                break
            assert time.monotonic() < deadline, srv.stderr()[-2000:]
            time.sleep(0.2)
        assert len(got) == 1, (got, srv.stderr()[-2000:])
        assert "exercise %s" % bad in srv.stderr(), srv.stderr()[-2000:]
        # and it is said once, not at every tick of the clock (once a
        # second: the old server wrote a line a second for as long as it ran)
        time.sleep(3.5)
        said = srv.stderr().count("exercise %s" % bad)
        assert said == 1, (said, srv.stderr()[-2000:])
    finally:
        srv.stop()


def main():
    root = tempfile.mkdtemp(prefix="tix-drill-")
    for name, fn in (("drill", drill), ("served_clock", served_clock),
                     ("one_bad_exercise", one_bad_exercise),
                     ("outputs_escaped", outputs_escaped),
                     ("load_all_or_nothing", load_all_or_nothing),
                     ("stored_offsets_bounded", stored_offsets_bounded)):
        t0 = time.monotonic()
        try:
            fn(os.path.join(root, name))
        except Exception:
            print("FAIL %s\n%s" % (name, traceback.format_exc()))
            print("     (kept %s)" % root)
            sys.exit(1)
        print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
    shutil.rmtree(root, ignore_errors=True)
    print("all drill tests passed")


if __name__ == "__main__":
    main()
