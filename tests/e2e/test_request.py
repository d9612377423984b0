#!/usr/bin/env python3
"""End-to-end tests of cross-border preservation requests (docs/preservation.md)
between real `tix serve` nodes federated with `tix sync`: the Article 29(2)
template checks, the life cycle with per-party transitions under a test
clock (TIX_NOW), signatures (forged, replayed, wrong key, tampered field),
the 24/7 directory and a key change signed by the old key, Article 30
chaining to a third node, and nothing of a request visible to a third node
or organisation (TAXII, export, audit listing).

    TIX=build/tix python3 tests/e2e/test_request.py [TEST_NAME...]
"""

import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import SANITIZER_MARKS, TIX, Client, Server  # noqa: E402

TIMEOUT = 120
TESTS = []
COLL = "preservation"


def test(fn):
    TESTS.append(fn)
    return fn


def run(*args, now=None, stdin=None):
    env = dict(os.environ)
    env.pop("TIX_NOW", None)
    if now:
        env["TIX_NOW"] = now
    r = subprocess.run([TIX] + [str(a) for a in args], input=stdin, capture_output=True,
                       timeout=TIMEOUT, env=env, text=True)
    bad = [m for m in SANITIZER_MARKS if m in r.stderr]
    assert not bad, "sanitizer report from tix %s: %s" % (args[0], r.stderr[-3000:])
    return r


def ok(*args, now=None, stdin=None):
    r = run(*args, now=now, stdin=stdin)
    assert r.returncode == 0, "tix %s: exit %d: %s" % (
        " ".join(map(str, args)), r.returncode, r.stderr[-2000:])
    return r.stdout


def refused(*args, now=None, why=""):
    r = run(*args, now=now)
    assert r.returncode != 0, "tix %s was not refused: %s" % (" ".join(map(str, args)), r.stdout)
    assert why in r.stderr + r.stdout, "tix %s: %r not in %r" % (
        " ".join(map(str, args)), why, r.stderr + r.stdout)
    return r.stderr


TEMPLATE = {
    "requesting_authority": "National Bureau of Investigation, Cybercrime Unit",
    "offence": "computer-related fraud (Convention Article 8)",
    "summary": "Phishing messages sent from the account below led to transfers of EUR 40,000.",
    "data": "subscriber data, connection logs and stored messages of the account",
    "relationship": "the account sent the phishing messages",
    "custodian": "Example Mail GmbH, Berlin",
    "necessity": "the provider deletes logs after 30 days",
    "mla_intent": True,
    "case_reference": "HU-2026-0042",
    "identifiers": [{"kind": "email", "value": "payments@example.de",
                     "from": "2025-12-01T00:00:00Z", "to": "2025-12-20T00:00:00Z"},
                    {"kind": "ipv4", "value": "198.51.100.7"}],
    "urgency": "urgent",
    "languages": ["en", "de"],
}

T0 = "2026-01-05T08:00:00Z"


def at(days, hours=0):
    """T0 plus days (and hours), as TIX_NOW."""
    t = time.gmtime(time.mktime(time.strptime(T0, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
                    + days * 86400 + hours * 3600)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


class Node:
    """A node with organisation `org` (a 24/7 contact point of `country`),
    collection 'preservation', and a server."""

    def __init__(self, root, name, org, country, serve=True):
        self.name, self.org, self.country = name, org, country
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "tix.db")
        self.orgs = set()
        self.ensure_org(org)
        out = ok("admin", "collection", "add", COLL, "--read", org, "--write", org,
                 "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        ok("request", "contact", "add", "--org", org, "--country", country, "--languages",
           "en", "--channels", "tix", "--db", self.db, now=at(-1))
        self.server = Server(self.db, self.dir, name).start() if serve else None

    def ensure_org(self, org):
        if org not in self.orgs:
            ok("admin", "org", "add", org, "--db", self.db)
            self.orgs.add(org)

    def key_for(self, org, role="analyst", grant=True):
        self.ensure_org(org)
        user = "u-" + org
        ok("admin", "user", "add", user, "--org", org, "--role", role, "--db", self.db)
        if grant:
            ok("admin", "collection", "grant", COLL, "--org", org, "--read", "--write",
               "--db", self.db)
        out = ok("admin", "key", "add", "--user", user, "--db", self.db)
        return re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]

    def add_peer(self, other):
        """Both directions; the peer's --org is its contact point's organisation."""
        key = other.key_for(self.org)
        self.ensure_org(other.org)
        ok("admin", "collection", "grant", COLL, "--org", other.org, "--read", "--write",
           "--db", self.db)
        ok("peer", "add", other.name, "--url", "http://127.0.0.1:%d/taxii2/" % other.server.port,
           "--remote-collection", other.cid, "--local-collection", COLL, "--key-stdin",
           "--direction", "both", "--org", other.org, "--db", self.db, stdin=key + "\n")

    def req(self, *args, now=None):
        return ok("request", *args, "--db", self.db, now=now)

    def req_run(self, *args, now=None):
        return run("request", *args, "--db", self.db, now=now)

    def sync(self):
        return run("sync", "--once", "--db", self.db)

    def types_held(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            return [r[0] for r in con.execute("SELECT id FROM objects")]
        finally:
            con.close()

    def close(self):
        if self.server:
            self.server.stop()


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-request-")
        self.nodes = []

    def node(self, name, org, country, serve=True):
        n = Node(self.dir, name, org, country, serve)
        self.nodes.append(n)
        return n

    def file(self, name, obj):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            json.dump(obj, f)
        return p

    def close(self, passed):
        for n in self.nodes:
            n.close()
        if passed:
            shutil.rmtree(self.dir, ignore_errors=True)


def converge(nodes, rounds=5):
    for _ in range(rounds):
        rcs = [n.sync() for n in nodes]
        if all(r.returncode == 0 for r in rcs):
            return
    raise AssertionError("no convergence: %s" % [r.stderr[-1500:] for r in rcs])


def new_request(node, to, tmpl_path, now):
    out = node.req("new", "--to", to, "--as", node.org, "--template", tmpl_path, now=now)
    rid = out.split()[-1]
    assert rid.startswith("x-tix-preservation-request--"), out
    return rid


def show(node, rid, org, now=None):
    return json.loads(node.req("show", rid, "--as", org, "--json", now=now))


@test
def template_and_life_cycle(w):
    """One node holding both contact points: Article 29(2) checks, order
    and party of transitions, the 60-day clock, reminders, extension."""
    a = w.node("a", "police-hu", "HU", serve=False)
    a.ensure_org("police-de")
    a.req("contact", "add", "--org", "police-de", "--country", "DE", now=at(-1))
    # Every Article 29(2) field is required, and mla_intent must be true.
    for key in ("requesting_authority", "offence", "summary", "data", "relationship",
                "custodian", "necessity", "case_reference", "identifiers", "mla_intent"):
        t = dict(TEMPLATE)
        del t[key]
        err = refused("request", "new", "--to", "DE", "--as", a.org, "--template",
                      w.file("t.json", t), "--db", a.db, now=at(0), why=key)
        assert "missing" in err, err
    for bad, why in ((dict(TEMPLATE, mla_intent=False), "29(2)(f)"),
                     (dict(TEMPLATE, identifiers=[]), "identifiers"),
                     (dict(TEMPLATE, identifiers=[{"kind": "email"}]), "value"),
                     (dict(TEMPLATE, summary="  "), "summary"),
                     (dict(TEMPLATE, urgency="asap"), "urgency"),
                     (dict(TEMPLATE, offense="typo"), "unknown key 'offense'")):
        refused("request", "new", "--to", "DE", "--as", a.org, "--template",
                w.file("t.json", bad), "--db", a.db, now=at(0), why=why)
    refused("request", "new", "--to", "FR", "--as", a.org, "--template",
            w.file("t.json", TEMPLATE), "--db", a.db, now=at(0), why="no verified contact")
    assert "no requests" in a.req("inbox", "--as", a.org, now=at(0))
    missing = os.path.join(w.dir, "missing.db")
    r = run("request", "inbox", "--as", a.org, "--db", missing)
    assert r.returncode == 3 and not os.path.exists(missing), r.stderr

    tp = w.file("t.json", TEMPLATE)
    rid = new_request(a, "DE", tp, at(0))
    inbox = a.req("inbox", "--as", "police-de", now=at(0, 1))
    assert rid in inbox and "waits for your acknowledgement" in inbox, inbox
    inbox = a.req("inbox", "--as", "police-hu", now=at(2))
    assert "not acknowledged by police-de after 48 hours" in inbox, inbox
    # Out of order, or by the wrong party: refused, nothing changes.
    refused("request", "execute", rid, "--as", "police-de", "--db", a.db, now=at(0, 2),
            why="cannot follow sent")
    refused("request", "ack", rid, "--as", "police-hu", "--db", a.db, now=at(0, 2),
            why="only police-de")
    refused("request", "extend", rid, "--as", "police-hu", "--db", a.db, now=at(0, 2),
            why="cannot follow sent")
    refused("request", "show", rid, "--as", "bank-x", "--db", a.db, why="no such request")
    assert len(show(a, rid, "police-hu")["versions"]) == 1
    a.req("ack", rid, "--as", "police-de", now=at(0, 3))
    refused("request", "decline", rid, "--as", "police-de", "--db", a.db, now=at(0, 4),
            why="--reason")
    a.req("execute", rid, "--as", "police-de", now=at(1))
    st = show(a, rid, "police-hu", now=at(1))["request"]
    assert st["state"] == "executed" and st["preserve_until"] == at(61).replace(
        "Z", ".000Z"), st
    # No reminder 10 days before the end; one 5 days before.
    assert "reminder" not in a.req("inbox", "--as", "police-hu", now=at(51))
    inbox = a.req("inbox", "--as", "police-hu", now=at(56))
    assert "preservation ends" in inbox and "in 5 days" in inbox and "extend" in inbox, inbox
    a.req("extend", rid, "--as", "police-hu", now=at(56))
    st = show(a, rid, "police-de", now=at(56))["request"]
    assert st["state"] == "extended" and st["preserve_until"].startswith(at(121)[:10]), st
    # After the end: expired, and acting on it is refused; the MLA
    # reference is still linked.
    st = show(a, rid, "police-hu", now=at(122))["request"]
    assert st["state"] == "expired", st
    a.req("mla", rid, "--as", "police-hu", "--reference", "MLA-HU-DE-2026-7", now=at(122))
    st = show(a, rid, "police-hu", now=at(123))["request"]
    assert st["state"] == "expired" and st["mla_reference"] == "MLA-HU-DE-2026-7", st
    refused("request", "extend", rid, "--as", "police-hu", "--db", a.db, now=at(122),
            why="expired")
    refused("request", "disclose", rid, "--as", "police-de", "--next-country", "FR",
            "--db", a.db, now=at(122), why="expired")
    assert len(show(a, rid, "police-hu")["versions"]) == 5
    assert "verified" in a.req("verify", rid, now=at(122))

    # --interactive asks for each field.
    answers = "\n".join(TEMPLATE[k] for k in (
        "requesting_authority", "offence", "summary", "data", "relationship", "custodian",
        "necessity", "case_reference")) + "\nemail x@example.de\nipv4 198.51.100.8\n\n"
    r = run("request", "new", "--to", "DE", "--as", a.org, "--interactive", "--db", a.db,
            now=at(125), stdin=answers)
    assert r.returncode == 0, r.stderr
    st = show(a, r.stdout.split()[-1], "police-de", now=at(125))
    assert [i["value"] for i in st["versions"][0]["identifiers"]] == [
        "x@example.de", "198.51.100.8"], st
    r = run("request", "new", "--to", "DE", "--as", a.org, "--interactive", "--db", a.db,
            now=at(125), stdin="NBI\n\n")
    assert r.returncode == 1 and "missing" in r.stderr, r.stderr

    # Declined with a reason.
    rid2 = new_request(a, "DE", tp, at(130))
    a.req("decline", rid2, "--as", "police-de", "--reason", "not an offence here",
          now=at(130, 1))
    st = show(a, rid2, "police-hu", now=at(131))
    assert st["request"]["state"] == "declined"
    assert st["versions"][-1]["tix_transition"]["reason"] == "not an offence here"
    refused("request", "ack", rid2, "--as", "police-de", "--db", a.db, now=at(131),
            why="cannot follow declined")


@test
def signatures(w):
    """Forged, replayed, wrong key and tampered copies are each detected."""
    a = w.node("a", "police-hu", "HU", serve=False)
    a.ensure_org("police-de")
    a.req("contact", "add", "--org", "police-de", "--country", "DE", now=at(-1))
    tp = w.file("t.json", TEMPLATE)
    rid = new_request(a, "DE", tp, at(0))
    a.req("ack", rid, "--as", "police-de", now=at(0, 1))
    a.req("execute", rid, "--as", "police-de", now=at(0, 2))
    other = new_request(a, "DE", tp, at(0, 3))
    a.req("ack", other, "--as", "police-de", now=at(0, 4))
    chain = show(a, rid, "police-hu")["versions"]
    chain2 = show(a, other, "police-hu")["versions"]
    assert "3 transitions" in a.req("verify", "--file", w.file("c.json", chain), now=at(1))
    assert "verified" in a.req("verify", "--file", w.file("one.json", chain[1]), now=at(1))

    def broken(name, versions, why):
        r = a.req_run("verify", "--file", w.file(name, versions), now=at(1))
        assert r.returncode == 1 and why in r.stdout, (name, r.stdout, r.stderr)

    # Tampered: a field changed after signing.
    t = json.loads(json.dumps(chain))
    t[0]["identifiers"][0]["value"] = "someone-else@example.de"
    broken("tampered.json", t, "signature does not verify")
    t = json.loads(json.dumps(chain))
    t[2]["tix_transition"]["preserve_until"] = "2027-01-01T00:00:00.000Z"
    broken("tampered2.json", t, "signature does not verify")
    # Forged: a signature that is not the key's.
    f = json.loads(json.dumps(chain))
    f[1]["tix_signature"]["value"] = base64.b64encode(os.urandom(64)).decode()
    broken("forged.json", f, "signature does not verify")
    broken("forged1.json", f[1], "signature does not verify")
    # Replayed: a genuine version again, or one of another request.
    broken("replay.json", chain + [chain[1]], "replayed")
    broken("replay2.json", chain[:1] + chain2[1:2], "another request")
    # Wrong key: another node, holding a's directory entry for police-hu and
    # the request, has its own key for "police-de" and acknowledges with it.
    b = w.node("b", "police-de", "DE", serve=False)
    b.ensure_org("police-hu")
    exported = json.loads(ok("export", "--collection", COLL, "--db", a.db))["objects"]
    hu_entry = [o for o in exported if o["type"] == "identity"
                and o["tix_contact_point"]["organisation"] == "police-hu"]
    bundle = w.file("b.json", {"type": "bundle", "id": "bundle--%s" % ("0" * 8 + "-0000-4000-8000-"
                                                                     + "0" * 12),
                               "objects": hu_entry + chain[:1]})
    ok("import", "--collection", COLL, "--org", "police-hu", bundle, "--db", b.db)
    b.req("ack", rid, "--as", "police-de", now=at(0, 1))
    b_ack = show(b, rid, "police-de")["versions"][1]
    assert b_ack["tix_signature"]["key"] != chain[1]["tix_signature"]["key"]
    broken("wrongkey.json", chain[:1] + [b_ack], "wrong key")
    broken("wrongkey1.json", b_ack, "wrong key")
    # and at b, a's own acknowledgement is signed by a key b does not know.
    r = run("request", "verify", "--file", w.file("c.json", chain), "--db", b.db, now=at(1))
    assert r.returncode == 1 and "wrong key" in r.stdout, r.stdout
    # A key change not signed by the old key: b's next version of its
    # police-de entry, arriving at a, breaks a's directory entry there; the
    # key a trusted still holds, b's never does.
    b.req("contact", "add", "--org", "police-de", "--country", "DE", "--hours", "08-20",
          now=at(0, 2))
    b_entries = [o for o in json.loads(ok("export", "--all-versions", "--collection", COLL,
                                          "--db", b.db))["objects"]
                 if o["type"] == "identity" and o["tix_contact_point"]["organisation"] ==
                 "police-de" and o["modified"].startswith(at(0, 2)[:13])]
    assert len(b_entries) == 1, b_entries
    ok("import", "--collection", COLL, "--org", "police-de",
       w.file("bkey.json", {"type": "bundle", "id": "bundle--%s" % ("1" * 8 + "-0000-4000-8000-"
                                                                    + "0" * 12),
                            "objects": b_entries}), "--db", a.db)
    d = [x for x in json.loads(a.req("directory", "--json")) if x["org"] == "police-de"][0]
    assert not d["verified"] and "not signed by the key of the version before" in d["problem"], d
    assert "3 transitions" in a.req("verify", rid, now=at(1))
    broken("wrongkey2.json", chain[:1] + [b_ack], "wrong key")

    # A backup without secrets holds no signing key.
    copy = os.path.join(w.dir, "copy.db")
    ok("backup", copy, "--db", a.db)
    con = sqlite3.connect(copy)
    assert con.execute("SELECT count(*), count(secret_key) FROM request_keys").fetchone() == (2, 0)
    con.close()
    # The stored chain is untouched by all of this.
    assert "3 transitions" in a.req("verify", rid, now=at(1))


def taxii_ids(node, key):
    c = Client(node.server, authorization="Bearer " + key)
    r = c.get("/api1/collections/%s/objects/" % node.cid)
    assert r.status == 200, r
    objs = r.json().get("objects", [])
    return {o["id"] for o in objs}


@test
def federation(w):
    """hu asks de over real servers and tix sync; de acknowledges, executes
    and discloses (Article 30: the next provider is in FR); hu follows to fr
    in one step. Nothing of the hu-de request reaches fr, nor a third
    organisation on either node, on any path."""
    hu = w.node("hu", "police-hu", "HU")
    de = w.node("de", "police-de", "DE")
    fr = w.node("fr", "police-fr", "FR")
    for x, y in ((hu, de), (de, hu), (hu, fr), (fr, hu)):
        x.add_peer(y)
    # A third organisation reading the collection on hu and on de.
    bank_hu = hu.key_for("bank-x")
    bank_de = de.key_for("bank-x")
    converge([hu, de, fr])
    d = hu.req("directory")
    assert "police-de" in d and "police-fr" in d, d
    assert "police-fr" not in de.req("directory"), "a directory entry was relayed"

    # A draft stays on its node; sent, it reaches de and its chain verifies there.
    out = hu.req("new", "--to", "DE", "--as", "police-hu", "--draft", "--template",
                 w.file("t.json", TEMPLATE), now=at(0))
    draft = out.split()[-1]
    assert out.startswith("draft "), out
    refused("request", "ack", draft, "--as", "police-de", "--db", hu.db, now=at(0),
            why="cannot follow draft")
    converge([hu, de, fr])
    assert draft not in de.types_held()
    hu.req("send", draft, "--as", "police-hu", now=at(0, 0.5))
    rid = new_request(hu, "DE", w.file("t.json", TEMPLATE), at(0))
    converge([hu, de, fr])
    assert "1 transition signed" in de.req("verify", draft, now=at(0, 1))
    assert "verified" in hu.req("verify", draft, now=at(0, 1))
    assert show(hu, draft, "police-hu", now=at(0, 1))["request"]["transitions"] == 1
    assert rid in de.req("inbox", "--as", "police-de", now=at(0, 1))
    de.req("ack", rid, "--as", "police-de", now=at(0, 1))
    de.req("ack", draft, "--as", "police-de", now=at(0, 1))
    de.req("execute", draft, "--as", "police-de", now=at(0, 5))
    # A key change at de, announced signed by the old key, between its transitions.
    de.req("contact", "rotate-key", "--org", "police-de", now=at(0, 6))
    traffic = w.file("traffic.json", [{"kind": "ipv4", "value": "203.0.113.9",
                                       "from": "2025-12-03T10:00:00Z"},
                                      {"kind": "domain", "value": "relay.example.fr"}])
    de.req("disclose", rid, "--as", "police-de", "--next-country", "FR", "--provider",
           "Example Hosting SAS", "--traffic", traffic, now=at(1))
    converge([hu, de, fr])
    st = show(hu, rid, "police-hu", now=at(2))["request"]
    assert st["state"] == "partially-disclosed" and st["next_country"] == "FR", st
    assert st["verified"] and st["preserve_until"].startswith(at(61)[:10]), st
    dirs = json.loads(hu.req("directory", "--json"))
    dep = [x for x in dirs if x["org"] == "police-de"][0]
    assert dep["verified"] and dep["versions"] == 2, dep
    # The acknowledgement (old key) and the disclosure (new key) both verify at hu.
    vs = show(hu, rid, "police-hu", now=at(2))["versions"]
    assert vs[2]["tix_signature"]["key"] == dep["public_key"] != vs[1]["tix_signature"]["key"]
    assert "3 transitions" in hu.req("verify", rid, now=at(2))
    # One party's turn at a time, so the two nodes never fork the chain:
    # after the disclosure only hu acts.
    refused("request", "disclose", rid, "--as", "police-de", "--next-country", "FR",
            "--db", de.db, now=at(1, 2), why="cannot follow partially-disclosed")
    hu.req("extend", rid, "--as", "police-hu", now=at(50))
    hu.req("extend", draft, "--as", "police-hu", now=at(50))
    converge([hu, de, fr])
    assert "4 transitions" in hu.req("verify", rid, now=at(50))
    assert "4 transitions" in de.req("verify", rid, now=at(50))
    assert show(de, draft, "police-de", now=at(50))["request"]["state"] == "extended"
    # Article 30: one step from the disclosure to a request to FR.
    out = hu.req("new", "--follow", rid, "--as", "police-hu", now=at(2))
    rid_fr = out.split()[-1]
    converge([hu, de, fr])
    fst = show(fr, rid_fr, "police-fr", now=at(2))
    assert fst["request"]["preceding_request_ref"] == rid
    assert {i["value"] for i in fst["versions"][0]["identifiers"]} == {
        "203.0.113.9", "relay.example.fr"}
    fr.req("ack", rid_fr, "--as", "police-fr", now=at(2, 1))
    converge([hu, de, fr])
    assert show(hu, rid_fr, "police-hu", now=at(3))["request"]["state"] == "acknowledged"

    # Nothing of the hu-de request on fr, nor of the hu-fr one on de.
    resp = "x-tix-preservation-response--"
    held_fr = fr.types_held()
    assert rid not in held_fr, held_fr
    assert {i for i in held_fr if i.startswith("x-tix-preservation-request--")} == {rid_fr}
    assert len({i for i in held_fr if i.startswith(resp)}) == 1  # fr's own response
    held_de = de.types_held()
    assert {i for i in held_de if i.startswith("x-tix-preservation-request--")} == {rid, draft}
    assert len({i for i in held_de if i.startswith(resp)}) == 2  # de's own responses
    refused("request", "show", rid, "--as", "police-fr", "--db", fr.db, why="no such request")
    assert rid not in ok("audit", "show", "--json", "--db", fr.db)
    # Nor for a third organisation: TAXII, export, the for-peer export.
    for node, key in ((hu, bank_hu), (de, bank_de)):
        seen = taxii_ids(node, key)
        assert not any(i.startswith("x-tix-preservation") for i in seen), seen
        exp = ok("export", "--collection", COLL, "--as-org", "bank-x", "--db", node.db)
        assert "x-tix-preservation" not in exp
        exp = ok("export", "--collection", COLL, "--for-peer", "bank-x", "--db", node.db)
        assert "x-tix-preservation" not in exp
        refused("request", "show", rid, "--as", "bank-x", "--db", node.db,
                why="no such request")
        assert "no requests" in node.req("inbox", "--as", "bank-x")
    # The audit listing: bank-x's reads named no request.
    for node in (hu, de):
        entries = [json.loads(x) for x in
                   ok("audit", "show", "--json", "--db", node.db).splitlines() if x.strip()]
        bank = [e for e in entries if e.get("org") == "bank-x"]
        assert bank, "bank-x's reads were not audited"
        for e in bank:
            assert "x-tix-preservation" not in json.dumps(e), e
    # fr's node read hu's collection over TAXII (its pulls): never the hu-de request.
    entries = [json.loads(x) for x in
               ok("audit", "show", "--json", "--db", hu.db).splitlines() if x.strip()]
    fr_reads = [e for e in entries if e.get("org") == "police-fr" and e.get("action") == "read"]
    assert any(rid_fr in json.dumps(e) for e in fr_reads), "fr's pulls were not audited"
    assert not any(rid in json.dumps(e) for e in fr_reads)


def main():
    names = sys.argv[1:]
    failed = 0
    for fn in TESTS:
        if names and fn.__name__ not in names:
            continue
        w = World()
        t0 = time.monotonic()
        passed = False
        try:
            fn(w)
            passed = True
            print("ok   %s (%.1f s)" % (fn.__name__, time.monotonic() - t0))
        except Exception:
            failed += 1
            print("FAIL %s\n%s" % (fn.__name__, traceback.format_exc()))
            print("     (kept %s)" % w.dir)
        finally:
            try:
                w.close(passed)
            except Exception:
                failed += 1
                print("FAIL %s (stopping)\n%s" % (fn.__name__, traceback.format_exc()))
    print("%d failed" % failed if failed else "all request tests passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
