#!/usr/bin/env python3
"""End-to-end tests of the feeds for defences (docs/feeds.md): `tix export
--format suricata|suricata-dataset|zeek|rpz|nft|ipset|hosts|csv|list` and
GET /feeds/<collection>/<format>, each file checked by the real consumer
where Debian packages one: the RPZ by named-checkzone and a real Unbound on
a loopback port (dig answers, refreshed), the nftables sets by `nft -c -f`
and `nft -f` in a network namespace the test creates, the ipset file by
`ipset restore` there, the Suricata rules by suricata-update's rule parser
(suricata.update.rule), the Zeek Intel file by a strict parser of the Intel
framework's documented format. Hostile indicators must not change the
meaning of the rest of any file; the sharing policy (--as-org, API keys),
lifecycle and warninglists decide what is in it.

    TIX=build-asan/tix python3 tests/e2e/test_feeds.py [TEST_NAME...]
"""

import base64
import csv
import gzip
import io
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, bearer, expect, free_port, new_id,  # noqa: E402
                        tix, tix_ok, TIX)

try:
    import suricata.update.rule as suricata_rule
except ImportError:  # Debian's package installs into the system python's dist-packages
    sys.path.append("/usr/lib/python3/dist-packages")
    import suricata.update.rule as suricata_rule

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

FORMATS = ["suricata", "suricata-dataset", "zeek", "rpz", "nft", "ipset", "hosts", "csv", "list"]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def ind(pattern, marking=CLEAR, name="feed test", created="2024-01-01T00:00:00.000Z", oid=None,
        **extra):
    o = {"type": "indicator", "spec_version": "2.1", "id": oid or new_id("indicator"),
         "created": created, "modified": extra.pop("modified", created), "name": name,
         "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    if marking:
        o["object_marking_refs"] = [marking]
    o.update(extra)
    return o


def q(s):
    """A STIX pattern string literal."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Hostile indicators: values and names that would end a rule, a record or a
# line, or add a zone entry, if written raw.
HOSTILE_NAMES = ['evil "name"; sid:1; rev:1;) alert ip any any -> any any (msg:"x',
                 "tab\there\nnewline\r* CNAME .", "-", "(empty)"]
HOSTILE_VALUES = [
    "[domain-name:value = %s]" % q("inject.example\n* CNAME ."),
    "[domain-name:value = %s]" % q("semi;colon.example"),
    "[domain-name:value = %s]" % q('quo"te.example'),
    "[domain-name:value = %s]" % q("sp ace.example"),
    "[url:value = %s]" % q('http://x.example/a";sid:1;'),
    "[url:value = %s]" % q("http://x.example/a\tb"),
    "[ipv4-addr:value = '10.0.0.1/33']",
]


class World:
    """A store with three organisations: acme owns everything written;
    beta reads the 'feeds' collection; gamma has no grant. Indicators of
    every TLP level, lifecycle state and value kind, and hostile ones."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-feeds-")
        self.db = os.path.join(self.dir, "tix.db")
        self.servers = []
        for org in ("acme", "beta", "gamma"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for user, org, role in (("ana", "acme", "analyst"), ("bea", "beta", "reader"),
                                ("gus", "gamma", "reader")):
            tix_ok("admin", "user", "add", user, "--org", org, "--role", role,
                   "--password-stdin", "--db", self.db, stdin=b"correct horse battery\n")
            out = tix_ok("admin", "key", "add", "--user", user, "--db", self.db)
            self.keys[user] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = tix_ok("admin", "collection", "add", "feeds", "--read", "acme,beta", "--write",
                     "acme", "--db", self.db)
        self.cid = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", out).group(0)
        self.objs = {
            "clear-domain": ind("[domain-name:value = 'evil.example']", CLEAR,
                                name=HOSTILE_NAMES[0]),
            "green-sub": ind("[domain-name:value LIKE '%.wild.example']", GREEN),
            "amber-ip": ind("[ipv4-addr:value = '198.51.100.7']", AMBER, name=HOSTILE_NAMES[1]),
            "clear-cidr": ind("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", CLEAR,
                              name=HOSTILE_NAMES[2]),
            "clear-ip6": ind("[ipv6-addr:value = '2001:DB8:0:0::1']", CLEAR,
                             name=HOSTILE_NAMES[3]),
            "clear-url": ind("[url:value = 'HTTP://Bad.Example:80/path/dl.php?id=1']", CLEAR),
            "clear-email": ind("[email-addr:value = 'phish@bad.example']", CLEAR),
            "clear-md5": ind("[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']", CLEAR),
            "clear-sha256": ind("[file:hashes.'SHA-256' = '%s']" % ("ab" * 32), CLEAR),
            "clear-idn": ind("[domain-name:value = 'bücher.example']", CLEAR),
            "clear-in": ind("[domain-name:value IN ('one.example', 'two.example')]", CLEAR),
            "clear-and": ind("[domain-name:value = 'and.example'] AND [ipv4-addr:value = '192.0.2.9']"),
            "clear-regex": ind("[domain-name:value MATCHES '^regex']"),
            "clear-not": ind("[domain-name:value != 'not.example']"),
            "expired": ind("[domain-name:value = 'expired.example']",
                           valid_until="2024-06-01T00:00:00Z"),
            "future": ind("[domain-name:value = 'future.example']",
                          valid_from="2999-01-01T00:00:00Z"),
            "revoked": ind("[domain-name:value = 'revoked.example']", revoked=True),
            "listed": ind("[domain-name:value = 'benign.example']"),
            "red": ind("[domain-name:value = 'red.example']", RED),
            "strict": ind("[domain-name:value = 'strict.example']", STRICT),
            "amber-domain": ind("[domain-name:value = 'amber.example']", AMBER),
            "dup": ind("[domain-name:value = 'evil.example']", CLEAR),
        }
        self.hostile = [ind(p, CLEAR) for p in HOSTILE_VALUES]
        path = os.path.join(self.dir, "feed.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"),
                       "objects": list(self.objs.values()) + self.hostile}, f)
        r = tix("import", "--quiet", "--skip-invalid", "--org", "acme", "--collection",
                self.cid, "--db", self.db, path)
        assert r.returncode in (0, 1), r.stderr
        self.stored = set(json.loads(l)["id"] for l in [])  # filled below
        ids = set(o["id"] for o in json.loads(tix_ok("export", "--db", self.db))["objects"])
        self.imported_hostile = [o for o in self.hostile if o["id"] in ids]
        assert self.objs["clear-domain"]["id"] in ids
        self.wl = os.path.join(self.dir, "warninglists")
        os.makedirs(os.path.join(self.wl, "benign"))
        with open(os.path.join(self.wl, "benign", "list.json"), "w") as f:
            json.dump({"name": "Known benign test names", "type": "hostname",
                       "matching_attributes": ["domain", "hostname"],
                       "list": ["benign.example"], "version": 1,
                       "description": "test"}, f)
        self.server = None

    def export(self, fmt, *args, ok=True):
        r = tix("export", "--db", self.db, "--format", fmt, *args)
        if ok:
            assert r.returncode == 0, "export %s: %s" % (fmt, r.stderr.decode(errors="replace"))
        return r.stdout.decode(), r.stderr.decode()

    def path(self, name):
        return os.path.join(self.dir, name)

    def start_server(self):
        if self.server is None:
            self.server = Server(self.db, self.dir, "feeds")
            self.servers.append(self.server)
            self.server.start()
        return self.server

    def close(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- strict readers of each format ---------------------------------------------------

SURICATA_KEYWORDS = {  # the options tix may write, each a real Suricata 7 keyword
    "msg", "sid", "rev", "metadata", "content", "nocase", "bsize", "endswith", "dotprefix",
    "dns.query", "tls.sni", "http.host", "http.uri", "flow", "dataset", "ip.src", "ip.dst",
    "filemd5", "filesha1", "filesha256"}
RULE_FIELDS = {"enabled", "action", "proto", "source_addr", "source_port", "direction",
               "dest_addr", "dest_port", "group", "gid", "sid", "rev", "msg", "flowbits",
               "metadata", "references", "classtype", "priority", "noalert", "features", "raw",
               "header"}


def suricata_rules(text):
    """Every non-comment line must be one rule suricata-update parses, with
    only known keywords, a unique sid and the option list intact."""
    rules = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        r = suricata_rule.parse(line)
        assert r is not None, "suricata-update cannot parse: %r" % line
        assert r["raw"] == line, "the parser read a different rule: %r" % line
        opts = set(r.keys()) - RULE_FIELDS
        assert opts <= SURICATA_KEYWORDS, "unknown keywords %s in %r" % (opts - SURICATA_KEYWORDS,
                                                                        line)
        # The option list splits into exactly the options written: nothing
        # in a value ended an option early.
        body = line[line.index("(") + 1:line.rindex(")")]
        names = [o.strip().split(":", 1)[0] for o in re.split(r'(?<!\\);', body) if o.strip()]
        assert set(names) <= SURICATA_KEYWORDS, "option split of %r gave %s" % (line, names)
        assert r["msg"] and '"' not in r["msg"]
        rules.append(r)
    sids = [r["sid"] for r in rules]
    assert len(sids) == len(set(sids)), "duplicate sids"
    return rules


ZEEK_TYPES = {"Intel::ADDR", "Intel::SUBNET", "Intel::URL", "Intel::SOFTWARE", "Intel::EMAIL",
              "Intel::DOMAIN", "Intel::USER_NAME", "Intel::CERT_HASH", "Intel::PUBKEY_HASH",
              "Intel::FILE_HASH", "Intel::FILE_NAME"}


def zeek_intel(text):
    """The Intel framework's input format: a '#fields' line naming the
    columns (tab-separated), then one tab-separated record per line with as
    many fields, '-' for unset; indicator values of their type's syntax."""
    lines = text.split("\n")
    assert lines[-1] == "", "no final newline"
    lines = lines[:-1]
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = []
    for line in lines[1:]:
        assert not line.startswith("#"), line
        assert "\r" not in line
        f = line.split("\t")
        assert len(f) == 5, "record with %d fields: %r" % (len(f), line)
        assert all(x != "" for x in f), "empty field (Zeek wants '-' or (empty)): %r" % line
        value, typ = f[0], f[1]
        assert typ in ZEEK_TYPES, typ
        if typ == "Intel::ADDR":
            ipaddress.ip_address(value)
        elif typ == "Intel::SUBNET":
            ipaddress.ip_network(value)
        elif typ == "Intel::DOMAIN":
            assert re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)+", value), value
        elif typ == "Intel::URL":
            assert "://" not in value and re.fullmatch(r"[!-~]+", value), value
        elif typ == "Intel::FILE_HASH":
            assert re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}", value), value
        for x in f[2:]:
            assert x == "-" or not x.startswith("-"), x
        rows.append(f)
    return rows


def rpz_entries(text):
    """Owner -> action of a zone file in the shape tix writes; every
    non-comment line after the header is one 'owner CNAME target'."""
    lines = [l for l in text.split("\n") if l and not l.startswith(";")]
    assert lines[0].startswith("$TTL ") and lines[1].startswith("$ORIGIN ")
    assert "\tSOA\t" in lines[2] and "\tNS\t" in lines[3]
    out = {}
    for l in lines[4:]:
        owner, kind, target = l.split("\t")
        assert kind == "CNAME", l
        assert re.fullmatch(r"(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*", owner), l
        assert owner not in out, "duplicate owner %s" % owner
        out[owner] = target
    return out


def serial_of(text):
    return int(re.search(r"\tSOA\t\S+ \S+ (\d+) ", text).group(1))


# ---- the exports themselves ------------------------------------------------------------

@test
def every_format_writes_what_it_can_carry(w):
    out, err = w.export("list")
    vals = out.splitlines()
    assert "evil.example" in vals and "*.wild.example" in vals
    assert "198.51.100.7" in vals and "203.0.113.0/24" in vals and "2001:db8::1" in vals
    assert "http://bad.example/path/dl.php?id=1" in vals  # normalised: scheme, host, port
    assert "phish@bad.example" in vals and "d41d8cd98f00b204e9800998ecf8427e" in vals
    assert "xn--bcher-kva.example" in vals  # punycode
    assert "one.example" in vals and "two.example" in vals
    assert vals.count("evil.example") == 1  # two indicators, one line
    out, _ = w.export("hosts")
    body = [l for l in out.splitlines() if not l.startswith("#")]
    assert all(re.fullmatch(r"0\.0\.0\.0 [a-z0-9_.-]+", l) for l in body), body
    assert "0.0.0.0 evil.example" in body and not any("wild" in l for l in body)
    out, _ = w.export("hosts", "--address", "::")
    assert ":: evil.example" in out.splitlines()
    out, _ = w.export("csv")
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["value", "kind", "indicator_id", "name", "tlp", "valid_from",
                       "valid_until", "modified", "sightings", "first_seen", "last_seen"]
    assert all(len(r) == 11 for r in rows), rows
    byid = {r[2]: r for r in rows[1:]}
    row = byid[w.objs["clear-domain"]["id"]]
    assert row[0] == "evil.example" and row[1] == "domain" and row[4] == "clear"
    assert row[3] == HOSTILE_NAMES[0]  # the quote doubled and read back intact
    # control characters in free text become spaces: one record a line
    assert byid[w.objs["amber-ip"]["id"]][3] == "tab here newline * CNAME ."


@test
def lifecycle_and_patterns_a_feed_cannot_express_are_left_out_and_counted(w):
    out, err = w.export("list")
    for gone in ("expired.example", "future.example", "revoked.example", "and.example",
                 "192.0.2.9", "regex", "not.example"):
        assert gone not in out, gone
    for reason in ("1 revoked", "1 expired (valid_until passed)",
                   "1 not yet valid (valid_from ahead)",
                   "1 pattern combines comparisons (AND, FOLLOWEDBY or a qualifier)",
                   "1 regular expression (MATCHES)",
                   "comparison the format cannot express"):
        assert reason in err, (reason, err)
    assert re.search(r"\d+ value refused \(would break the format's syntax\)", err), err
    _, err = w.export("nft", "--report")
    assert "left out %s: kind of value the format cannot carry: domain evil.example" % \
        w.objs["clear-domain"]["id"] in err, err


@test
def warninglists_leave_values_out_and_say_which(w):
    out, _ = w.export("list")
    assert "benign.example" in out.splitlines()
    out, err = w.export("list", "--warninglists", w.wl)
    assert "benign.example" not in out.splitlines()
    assert "left out %s: on a warninglist: domain benign.example: on warninglist " \
        "'Known benign test names'" % w.objs["listed"]["id"] in err, err
    assert "1 on a warninglist" in err
    r = tix("export", "--db", w.db, "--format", "list", "--warninglists", w.path("nothing"))
    assert r.returncode != 0 and r.stdout == b""


@test
def hostile_values_never_change_the_meaning_of_a_file(w):
    for fmt in ("list", "hosts", "rpz", "zeek", "csv", "nft", "ipset", "suricata"):
        out, err = w.export(fmt)
        for bad in ("inject", "semi", "quo", "sp ace", "x.example/a", "10.0.0.1"):
            assert bad not in out, (fmt, bad)
        if fmt not in ("zeek", "csv"):  # names are free text there, escaped
            assert "sid:1;" not in out, fmt
        if fmt not in ("zeek", "csv", "suricata"):
            assert "* CNAME ." not in out, fmt
        assert len(w.imported_hostile) >= 5, "the store refused the hostile indicators"
        assert re.search(r"value refused", err), (fmt, err)
    # Each hostile name stays inside its field.
    rules = suricata_rules(w.export("suricata")[0])
    assert all(r["action"] == "alert" for r in rules)
    assert not any(r["dest_addr"] == "any" and r["proto"] == "ip" for r in rules)
    zeek_intel(w.export("zeek")[0])


@test
def sharing_policy_decides_what_each_organisation_gets(w):
    full, _ = w.export("list")
    for v in ("red.example", "strict.example", "amber.example", "198.51.100.7"):
        assert v in full.splitlines(), v
    beta, _ = w.export("list", "--as-org", "beta", "--collection", w.cid)
    vals = beta.splitlines()
    assert "evil.example" in vals and "amber.example" in vals and "198.51.100.7" in vals
    assert "red.example" not in vals and "strict.example" not in vals
    gamma, _ = w.export("list", "--as-org", "gamma", "--collection", w.cid)
    vals = gamma.splitlines()
    assert "evil.example" in vals  # CLEAR
    assert "amber.example" not in vals and "red.example" not in vals
    pub, _ = w.export("rpz", "--public")
    assert "amber.example" not in pub and "evil.example\tCNAME" in pub
    # Every export is in the audit log with its format.
    log = tix_ok("audit", "show", "--db", w.db)
    assert "tix export --collection %s --as-org beta --format list" % w.cid in log, log[-2000:]


@test
def suricata_rules_parse_with_stable_sids_and_the_id_and_tlp_in_metadata(w):
    text, err = w.export("suricata")
    rules = suricata_rules(text)
    byid = {}
    for r in rules:
        md = dict(m.split(" ", 1) for m in r["metadata"][0].split(", ")) if r["metadata"] else {}
        assert md.get("tix_id", "").startswith("indicator--"), r["raw"]
        byid.setdefault(md["tix_id"], []).append(r)
    dom = byid[w.objs["clear-domain"]["id"]]
    assert sorted(r["proto"] for r in dom) == ["dns", "tls"]
    assert all("tlp clear" in r["raw"] for r in dom)
    amber = byid[w.objs["amber-ip"]["id"]][0]
    assert "tlp amber" in amber["raw"] and amber["dest_addr"] == "198.51.100.7"
    url = byid[w.objs["clear-url"]["id"]][0]
    assert url["proto"] == "http" and 'content:"bad.example"' in url["raw"] and \
        'content:"/path/dl.php?id=1"' in url["raw"]
    sub = byid[w.objs["green-sub"]["id"]]
    assert all("dotprefix" in r["raw"] and 'content:".wild.example"' in r["raw"] for r in sub)
    # A refresh does not renumber; a new version keeps the sid, raises rev.
    again = suricata_rules(w.export("suricata")[0])
    assert [r["sid"] for r in again] == [r["sid"] for r in rules]
    old = {r["sid"]: r["rev"] for r in dom}
    o = dict(w.objs["clear-domain"])
    o["modified"] = "2025-01-01T00:00:00.000Z"
    w.objs["clear-domain"] = o
    p = w.path("v2.json")
    with open(p, "w") as f:
        json.dump(o, f)
    tix_ok("import", "--quiet", "--org", "acme", "--collection", w.cid, "--db", w.db, p)
    new = [r for r in suricata_rules(w.export("suricata")[0])
           if w.objs["clear-domain"]["id"] in r["raw"]]
    assert sorted(r["sid"] for r in new) == sorted(old)
    assert all(r["rev"] > old[r["sid"]] for r in new)


@test
def suricata_datasets_follow_the_documented_file_formats(w):
    d = w.path("datasets")
    os.makedirs(d, exist_ok=True)
    r = tix("export", "--db", w.db, "--format", "suricata-dataset")
    assert r.returncode == 2 and b"--output DIR" in r.stderr
    _, err = w.export("suricata-dataset", "--output", d)
    files = sorted(os.listdir(d))
    assert files == ["tix-domains.lst", "tix-ipv4.lst", "tix-ipv6.lst", "tix-md5.lst",
                     "tix-sha1.lst", "tix-sha256.lst", "tix.rules"], files
    rules = suricata_rules(open(os.path.join(d, "tix.rules")).read())
    for r in rules:
        m = re.search(r"dataset:isset,([\w-]+),type (string|ipv4|ipv6),load ([\w.-]+)", r["raw"])
        if m:
            assert os.path.exists(os.path.join(d, m.group(3))), m.group(3)
        else:
            m = re.search(r"file(md5|sha1|sha256):([\w.-]+);", r["raw"])
            assert m and os.path.exists(os.path.join(d, m.group(2))), r["raw"]
    # string sets: one base64 value a line; ip sets: one address; hashes: hex.
    names = [base64.b64decode(l, validate=True).decode()
             for l in open(os.path.join(d, "tix-domains.lst")).read().splitlines()]
    assert "evil.example" in names and "xn--bcher-kva.example" in names
    assert len(names) == len(set(names))
    for l in open(os.path.join(d, "tix-ipv4.lst")).read().splitlines():
        assert isinstance(ipaddress.ip_address(l), ipaddress.IPv4Address)
    for l in open(os.path.join(d, "tix-ipv6.lst")).read().splitlines():
        assert isinstance(ipaddress.ip_address(l), ipaddress.IPv6Address)
    md5 = open(os.path.join(d, "tix-md5.lst")).read().splitlines()
    assert md5 == ["d41d8cd98f00b204e9800998ecf8427e"]
    assert all(re.fullmatch("[0-9a-f]{64}", l)
               for l in open(os.path.join(d, "tix-sha256.lst")).read().splitlines())
    assert "datasets hold single addresses" not in err  # only with --report
    assert not [f for f in os.listdir(d) if ".tmp." in f]


@test
def zeek_intel_file_is_strictly_well_formed(w):
    rows = zeek_intel(w.export("zeek", "--source", "CERT-X")[0])
    by = {(r[0], r[1]) for r in rows}
    assert ("evil.example", "Intel::DOMAIN") in by
    assert ("198.51.100.7", "Intel::ADDR") in by and ("203.0.113.0/24", "Intel::SUBNET") in by
    assert ("bad.example/path/dl.php?id=1", "Intel::URL") in by
    assert ("phish@bad.example", "Intel::EMAIL") in by
    assert ("d41d8cd98f00b204e9800998ecf8427e", "Intel::FILE_HASH") in by
    assert all(r[2] == "CERT-X" for r in rows)
    desc = [r[3] for r in rows if r[0] == "198.51.100.7"][0]
    assert desc.startswith("tab\\x09here\\x0anewline\\x0d* CNAME .") and "TLP:amber" in desc
    assert [r[3] for r in rows if r[0] == "203.0.113.0/24"][0].startswith("\\x2d (indicator--")


# ---- the real consumers ---------------------------------------------------------------------

def need(tool):
    path = shutil.which(tool) or next((p for p in ("/usr/sbin/" + tool, "/sbin/" + tool)
                                       if os.path.exists(p)), None)
    assert path, "%s is not installed (sh tools/deps.sh test installs it)" % tool
    return path


def run(*args, stdin=None, check=True):
    r = subprocess.run(list(args), input=stdin, capture_output=True, timeout=60)
    if check:
        assert r.returncode == 0, "%s: exit %d: %s %s" % (" ".join(args), r.returncode,
                                                         r.stdout.decode(), r.stderr.decode())
    return r


def netns_ok():
    """Whether this machine lets the test create a network namespace."""
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return r.returncode == 0, r.stderr.decode().strip()


@test
def rpz_passes_named_checkzone(w):
    text, _ = w.export("rpz", "--rpz-zone", "rpz.test.")
    p = w.path("rpz.zone")
    with open(p, "w") as f:
        f.write(text)
    r = run(need("named-checkzone"), "rpz.test", p)
    assert b"OK" in r.stdout
    entries = rpz_entries(text)
    assert entries["evil.example"] == "." and entries["*.wild.example"] == "."
    assert entries["32.7.100.198.rpz-ip".replace("32.7.100.198", "32.7.100.51.198")] == "."
    assert entries["24.0.113.0.203.rpz-ip"] == "."
    assert entries["128.1.0.0.0.0.0.db8.2001.rpz-ip"] == "."
    for pol, target in (("nodata", "*."), ("passthru", "rpz-passthru."), ("drop", "rpz-drop."),
                        ("cname:walled.example", "walled.example.")):
        t2, _ = w.export("rpz", "--rpz-policy", pol)
        assert rpz_entries(t2)["evil.example"] == target
    r = tix("export", "--db", w.db, "--format", "rpz", "--rpz-policy", "cname:bad;name")
    assert r.returncode == 2


class Unbound:
    """A real Unbound on a loopback port: RPZ from a zone file, and an
    authoritative zone of its own ('example.') it resolves from."""

    def __init__(self, w, rpz_path):
        self.dir = w.path("unbound")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port_udp()
        with open(os.path.join(self.dir, "example.zone"), "w") as f:
            f.write("$ORIGIN example.\n$TTL 60\n@ SOA ns.example. h.example. 1 3600 600 86400 60\n"
                    "@ NS ns.example.\nns A 127.0.0.1\nevil A 192.0.2.66\nwww.wild A 192.0.2.67\n"
                    "wild A 192.0.2.68\ngood A 192.0.2.1\nlater A 192.0.2.70\n"
                    "one A 192.0.2.71\n")
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write("""server:
  interface: 127.0.0.1
  port: %d
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "%s"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "respip iterator"
  do-not-query-localhost: no
  cache-max-ttl: 0
  cache-max-negative-ttl: 0
rpz:
  name: "rpz.tix."
  zonefile: "%s"
  rpz-log: yes
auth-zone:
  name: "example."
  zonefile: "%s/example.zone"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
""" % (self.port, self.dir, rpz_path, self.dir))
        run(need("unbound-checkconf"), self.conf)
        self.log = open(os.path.join(self.dir, "unbound.log"), "wb")
        self.proc = subprocess.Popen([need("unbound"), "-d", "-c", self.conf],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while self.ask("good.example")[0] != "NOERROR":
            assert self.proc.poll() is None, "unbound exited"
            assert time.monotonic() < deadline, "unbound never answered"
            time.sleep(0.2)

    def ask(self, name):
        r = subprocess.run([need("dig"), "@127.0.0.1", "-p", str(self.port), "+time=2",
                            "+tries=1", name, "A"], capture_output=True, timeout=30)
        out = r.stdout.decode()
        m = re.search(r"status: ([A-Z]+)", out)
        addrs = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", out, re.M)
        return (m.group(1) if m else "NO ANSWER", addrs)

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


def free_port_udp():
    while True:
        port = free_port()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()


@test
def unbound_applies_the_rpz_and_a_refresh_changes_the_answers(w):
    rpz = w.path("live.rpz")
    text, _ = w.export("rpz", "--output", rpz)
    assert text == ""
    first = open(rpz).read()
    ub = Unbound(w, rpz)
    try:
        assert ub.ask("evil.example") == ("NXDOMAIN", [])
        assert ub.ask("www.wild.example") == ("NXDOMAIN", [])  # *.wild.example
        assert ub.ask("wild.example") == ("NOERROR", ["192.0.2.68"])  # only below it
        assert ub.ask("good.example") == ("NOERROR", ["192.0.2.1"])  # unlisted: as usual
        assert ub.ask("one.example") == ("NXDOMAIN", [])
        assert ub.ask("later.example") == ("NOERROR", ["192.0.2.70"])
        # A changed feed: later.example listed, one.example's indicator revoked.
        o = dict(w.objs["clear-in"])
        o["modified"] = "2025-02-01T00:00:00.000Z"
        o["revoked"] = True
        new = ind("[domain-name:value = 'later.example']", CLEAR)
        p = w.path("change.json")
        with open(p, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"), "objects": [o, new]}, f)
        tix_ok("import", "--quiet", "--org", "acme", "--collection", w.cid, "--db", w.db, p)
        time.sleep(1.1)  # the default serial is the time in seconds
        w.export("rpz", "--output", rpz)
        assert serial_of(open(rpz).read()) > serial_of(first)
        ub.reload()
        assert ub.ask("later.example") == ("NXDOMAIN", [])
        assert ub.ask("one.example") == ("NOERROR", ["192.0.2.71"])
        assert ub.ask("evil.example") == ("NXDOMAIN", [])
    finally:
        ub.stop()


@test
def nft_sets_load_in_check_mode_and_in_a_namespace(w):
    text, _ = w.export("nft")
    p = w.path("sets.nft")
    with open(p, "w") as f:
        f.write(text)
    nft = need("nft")
    ok, why = netns_ok()
    if not ok:
        r = run(nft, "-c", "-f", p, check=False)
        assert r.returncode == 0 or b"Operation not permitted" in r.stderr, r.stderr
        print("  (no network namespace on this machine: %s; nft -c only)" % why)
        return
    # Check mode, then a real load twice (a refresh) in a namespace of its own.
    r = run("unshare", "-n", "sh", "-c",
            "%s -c -f %s && %s -f %s && %s -f %s && %s list set inet tix tix_v4 && "
            "%s list set inet tix tix_v6" % (nft, p, nft, p, nft, p, nft, nft))
    out = r.stdout.decode()
    assert "198.51.100.7" in out and "203.0.113.0/24" in out and "2001:db8::1" in out, out
    assert "10.0.0.1" not in out


@test
def ipset_restore_loads_and_refreshes_the_sets_in_a_namespace(w):
    text, _ = w.export("ipset")
    p = w.path("sets.ipset")
    with open(p, "w") as f:
        f.write(text)
    ipset = need("ipset")
    ok, why = netns_ok()
    if not ok:
        print("  (cannot create a network namespace here: %s; ipset not loaded)" % why)
        return
    r = run("unshare", "-n", "sh", "-c",
            "%s restore < %s && %s restore < %s && %s list tix-v4 && %s list tix-v6 && "
            "%s list -n" % (ipset, p, ipset, p, ipset, ipset, ipset))
    out = r.stdout.decode()
    assert "198.51.100.7" in out and "203.0.113.0/24" in out and "2001:db8::1" in out, out
    assert "tix-v4-tmp" not in out.split("Members:")[-1]


@test
def repeats_past_the_memory_bound_are_still_written_once(w):
    # 150 names and 150 addresses, each in three indicators (one of them
    # naming it twice); with 8 keys in memory the no-repeat sets live in
    # their temporary file almost at once. Each entry must still be written
    # once, the consumers must load the files, and the files must be the
    # ones a store-sized set writes.
    db = w.path("repeats.db")
    tix_ok("admin", "org", "add", "acme", "--db", db)
    out = tix_ok("admin", "collection", "add", "rep", "--read", "acme", "--write", "acme",
                 "--db", db)
    objs = []
    for k in range(3):
        for i in range(150):
            d, a = "r%d.repeat.example" % i, "198.18.%d.%d" % (i // 200, i % 200 + 1)
            p = ("[domain-name:value = '%s'] OR [domain-name:value = '%s']" % (d, d.upper())
                 if k == 1 else "[domain-name:value = '%s']" % d)
            objs.append(ind(p, CLEAR))
            objs.append(ind("[ipv4-addr:value = '%s'] OR [ipv4-addr:value = '%s/32']" % (a, a)
                            if k == 2 else "[ipv4-addr:value = '%s']" % a, CLEAR))
    path = w.path("repeats.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
    tix_ok("import", "--quiet", "--org", "acme", "--collection", "rep", "--db", db, path)

    def export(fmt, bound):
        env = dict(os.environ)
        if bound:
            env["TIX_SEEN_MEM_KEYS"] = "8"
        r = subprocess.run([TIX, "export", "--db", db, "--format", fmt, "--rpz-zone",
                            "rpz.test."] if fmt == "rpz" else
                           [TIX, "export", "--db", db, "--format", fmt],
                           capture_output=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout.decode()

    for fmt in ("rpz", "hosts", "list", "nft", "suricata"):
        small, big = export(fmt, True), export(fmt, False)
        assert body_without_serial(small) == body_without_serial(big), fmt
    zone = export("rpz", True)
    owners = [l.split("\t")[0] for l in zone.splitlines() if "\tCNAME\t" in l]
    assert len(owners) == 300 and len(set(owners)) == 300, len(owners)
    p = w.path("repeats.zone")
    with open(p, "w") as f:
        f.write(zone)
    assert b"OK" in run(need("named-checkzone"), "rpz.test", p).stdout
    for fmt, want in (("hosts", 150), ("list", 300)):
        lines = [l for l in export(fmt, True).splitlines() if l and not l.startswith("#")]
        assert len(lines) == want and len(set(lines)) == want, (fmt, len(lines))
    rules = suricata_rules(export("suricata", True))
    sids = [r["sid"] for r in rules]
    assert len(rules) == 3 * (2 * 150 + 150) and len(set(sids)) == len(sids), len(rules)
    text = export("nft", True)
    assert len(re.findall(r"198\.18\.\d+\.\d+", text)) == 150
    p = w.path("repeats.nft")
    with open(p, "w") as f:
        f.write(text)
    ok, why = netns_ok()
    if ok:
        run("unshare", "-n", need("nft"), "-c", "-f", p)
    else:
        print("  (no network namespace on this machine: %s; nft not run)" % why)


# ---- feeds over HTTP --------------------------------------------------------------------

def feed_get(w, user, path, headers=None, method="GET"):
    c = Client(w.start_server(), bearer(w.keys[user]) if user else None)
    return c.request(method, path, accept=None, headers=headers or {})


def body_without_serial(text):
    return re.sub(r"(\tSOA\t\S+ \S+ )\d+", r"\g<1>SERIAL", text)


@test
def http_feeds_answer_with_the_callers_policy_like_export(w):
    for fmt in ("list", "rpz", "zeek", "csv", "suricata", "nft", "hosts", "ipset"):
        r = feed_get(w, "bea", "/feeds/%s/%s" % (w.cid, fmt))
        assert r.status == 200, r
        assert r.header("ETag") and r.header("Transfer-Encoding") == "chunked"  # streamed
        want, _ = w.export(fmt, "--as-org", "beta", "--collection", w.cid)
        assert body_without_serial(r.body.decode()) == body_without_serial(want), fmt
    body = feed_get(w, "bea", "/feeds/%s/list" % w.cid).body.decode().splitlines()
    assert "amber.example" in body and "red.example" not in body and \
        "strict.example" not in body
    owner = feed_get(w, "ana", "/feeds/%s/list" % w.cid).body.decode().splitlines()
    assert "red.example" in owner and "strict.example" in owner
    assert feed_get(w, None, "/feeds/%s/list" % w.cid).status == 401
    assert feed_get(w, "gus", "/feeds/%s/list" % w.cid).status == 404  # not revealed
    assert feed_get(w, "bea", "/feeds/%s/list" % uuid.uuid4()).status == 404
    assert feed_get(w, "bea", "/feeds/%s/stix" % w.cid).status == 404
    assert feed_get(w, "bea", "/feeds/%s/list" % w.cid, method="DELETE").status == 405
    r = feed_get(w, "bea", "/feeds/%s/suricata-dataset/tix-domains.lst" % w.cid)
    assert r.status == 200
    names = [base64.b64decode(l).decode() for l in r.body.decode().splitlines()]
    assert "evil.example" in names and "red.example" not in names
    assert feed_get(w, "bea", "/feeds/%s/suricata-dataset/../../etc" % w.cid).status == 404
    log = tix_ok("audit", "show", "--db", w.db)
    assert "GET /feeds/%s/list" % w.cid in log


@test
def http_feeds_etag_304_until_the_feed_changes(w):
    path = "/feeds/%s/rpz" % w.cid
    r1 = feed_get(w, "bea", path)
    etag = r1.header("ETag")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
    r2 = feed_get(w, "bea", path, {"If-None-Match": etag})
    assert r2.status == 304 and r2.body == b"" and r2.header("ETag") == etag
    assert feed_get(w, "bea", path, {"If-None-Match": 'W/"x", ' + etag}).status == 304
    assert feed_get(w, "bea", path, {"If-None-Match": '"other"'}).status == 200
    # Another caller's view has its own ETag.
    assert feed_get(w, "ana", path).header("ETag") != etag
    # A new indicator: a new ETag, a higher serial, the new name in the body.
    p = w.path("etag.json")
    with open(p, "w") as f:
        json.dump(ind("[domain-name:value = 'etag-new.example']", CLEAR), f)
    tix_ok("import", "--quiet", "--org", "acme", "--collection", w.cid, "--db", w.db, p)
    r3 = feed_get(w, "bea", path, {"If-None-Match": etag})
    assert r3.status == 200 and r3.header("ETag") != etag
    assert "etag-new.example\tCNAME\t." in r3.body.decode()
    assert serial_of(r3.body.decode()) > serial_of(r1.body.decode())
    assert feed_get(w, "bea", path, {"If-None-Match": r3.header("ETag")}).status == 304


@test
def http_feeds_gzip_when_asked(w):
    path = "/feeds/%s/csv" % w.cid
    plain = feed_get(w, "bea", path)
    gz = feed_get(w, "bea", path, {"Accept-Encoding": "gzip, deflate"})
    assert gz.status == 200 and gz.header("Content-Encoding") == "gzip"
    assert gzip.decompress(gz.body) == plain.body
    assert gz.header("ETag") != plain.header("ETag")
    assert "Accept-Encoding" in gz.header("Vary")
    no = feed_get(w, "bea", path, {"Accept-Encoding": "gzip;q=0"})
    assert no.header("Content-Encoding") is None and no.body == plain.body
    assert feed_get(w, "bea", path, {"Accept-Encoding": "gzip",
                                     "If-None-Match": gz.header("ETag")}).status == 304


@test
def named_feeds_are_served_at_their_name(w):
    out = tix_ok("feed", "add", "resolvers", "--collection", "feeds", "--format", "rpz",
                 "--rpz-policy", "nodata", "--rpz-zone", "cert.rpz.", "--db", w.db)
    assert "/feeds/resolvers" in out
    tix_ok("feed", "add", "edge", "--collection", w.cid, "--format", "list",
           "--warninglists", w.wl, "--db", w.db)
    r = tix("feed", "add", "bad", "--collection", w.cid, "--format", "rpz", "--rpz-policy",
            "cname:x;y", "--db", w.db)
    assert r.returncode == 2
    r = tix("feed", "add", str(uuid.uuid4()), "--collection", w.cid, "--format", "rpz",
            "--db", w.db)
    assert r.returncode == 2
    listed = json.loads(tix_ok("feed", "list", "--json", "--db", w.db))
    assert [f["name"] for f in listed] == ["edge", "resolvers"]
    assert listed[1]["options"] == {"policy": "nodata", "zone": "cert.rpz."}
    r = feed_get(w, "bea", "/feeds/resolvers")
    assert r.status == 200, r
    entries = rpz_entries(r.body.decode())
    assert entries["evil.example"] == "*." and "$ORIGIN cert.rpz." in r.body.decode()
    assert "red.example" not in entries
    edge = feed_get(w, "bea", "/feeds/edge").body.decode().splitlines()
    assert "evil.example" in edge and "benign.example" not in edge
    assert feed_get(w, None, "/feeds/resolvers").status == 401
    assert feed_get(w, "gus", "/feeds/resolvers").status == 404
    tix_ok("feed", "remove", "edge", "--db", w.db)
    assert feed_get(w, "bea", "/feeds/edge").status == 404
    assert tix("feed", "remove", "edge", "--db", w.db).returncode == 1



@test
def a_feed_of_several_audit_parts_leaves_every_indicator_findable(w):
    # A server whose audit parts hold 4 ids (20,000 in use): bea's feed is
    # several parts, and "who has seen" finds each indicator it was sent.
    os.environ["TIX_AUDIT_PART_IDS"] = "4"
    try:
        srv = Server(w.db, w.dir, "feeds-parts").start()
        w.servers.append(srv)
        tix_ok("export", "--db", w.db, "--format", "list", "--as-org", "beta",
               "--collection", w.cid)
    finally:
        os.environ.pop("TIX_AUDIT_PART_IDS", None)
    rows = [json.loads(l) for l in tix_ok("audit", "show", "--json", "--db", w.db).splitlines()]
    sent = [i for r in rows if r["action"] == "export" and "--as-org beta" in r["detail"] and
            "part" in r["detail"] for i in r["objects"]]
    assert len(sent) > 8, rows[-3:]
    path = "/feeds/%s/list" % w.cid
    r = Client(srv, bearer(w.keys["bea"])).request("GET", path, accept=None)
    assert r.status == 200, r
    deadline = time.monotonic() + 10  # the audit queue writes within ~50 ms
    while True:
        rows = [json.loads(l) for l in
                tix_ok("audit", "show", "--json", "--db", w.db).splitlines()]
        parts = [r for r in rows if r["action"] == "read" and
                 r["detail"].startswith("GET " + path) and "(part " in r["detail"]]
        if parts or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    n = len(parts)
    assert n == (len(sent) + 3) // 4 and [p["detail"] for p in parts] == [
        "GET %s from 127.0.0.1 (part %d of %d)" % (path, i, n) for i in range(1, n + 1)], parts
    assert sorted(i for p in parts for i in p["objects"]) == sorted(sent)
    for oid in sent:
        seen = [json.loads(l) for l in tix_ok("audit", "show", "--object", oid, "--json",
                                              "--db", w.db).splitlines()]
        assert any(e["action"] == "read" and e["actor"] == "bea" and
                   e["detail"].startswith("GET " + path) for e in seen), (oid, seen)
    assert "intact" in tix_ok("audit", "verify", "--db", w.db)


@test
def csv_carries_the_sightings_its_reader_may_read(w):
    dom = w.objs["clear-domain"]["id"]
    seen = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
            "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
            "sighting_of_ref": dom, "count": 3, "object_marking_refs": [GREEN],
            "first_seen": "2024-04-30T10:00:00Z", "last_seen": "2024-04-30T12:00:00Z"}
    secret = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
              "created": "2024-05-02T00:00:00.000Z", "modified": "2024-05-02T00:00:00.000Z",
              "sighting_of_ref": dom, "count": 5, "object_marking_refs": [RED],
              "first_seen": "2024-05-01T00:00:00Z", "last_seen": "2024-05-03T01:00:00Z"}
    for org, o, where in (("acme", seen, ["--collection", w.cid]), ("gamma", secret, [])):
        p = w.path("sighting-%s.json" % org)
        with open(p, "w") as f:
            json.dump(o, f)
        tix_ok("import", "--quiet", "--org", org, "--db", w.db, p, *where)

    def row(*args):
        rows = list(csv.reader(io.StringIO(w.export("csv", *args)[0], newline="")))
        byid = {r[2]: r for r in rows[1:]}
        return byid[dom][8:], byid[w.objs["clear-url"]["id"]][8:]

    # the operator sees both; beta may not read gamma's TLP:RED one
    assert row() == (["8", "2024-04-30T10:00:00.000Z", "2024-05-03T01:00:00.000Z"],
                     ["0", "", ""]), row()
    got = row("--as-org", "beta", "--collection", w.cid)
    assert got[0] == ["3", "2024-04-30T10:00:00.000Z", "2024-04-30T12:00:00.000Z"], got
    # the HTTP feed counts as its caller may read, as the CLI does
    body = feed_get(w, "bea", "/feeds/%s/csv" % w.cid).body.decode()
    rows = {r[2]: r for r in csv.reader(io.StringIO(body, newline=""))}
    assert rows[dom][8] == "3", rows[dom]
    # suricata: the same aggregate in each rule's metadata
    for args, want in (((), "8"), (("--as-org", "beta", "--collection", w.cid), "3")):
        rules = [r for r in suricata_rules(w.export("suricata", *args)[0]) if dom in r["raw"]]
        assert rules and all(", tix_sightings %s, tix_first_seen 2024-04-30T10:00:00Z, "
                             "tix_last_seen " % want in r["raw"] for r in rules), rules
    # zeek: the same at the end of meta.desc, the file as strict as before
    for args, want in (((), "8, first_seen 2024-04-30T10:00:00Z, last_seen 2024-05-03T01:00:00Z"),
                       (("--as-org", "beta", "--collection", w.cid),
                        "3, first_seen 2024-04-30T10:00:00Z, last_seen 2024-04-30T12:00:00Z")):
        descs = {r[3] for r in zeek_intel(w.export("zeek", *args)[0])}
        tail = "(%s, TLP:clear, sightings %s)" % (dom, want)
        assert any(d.endswith(tail) for d in descs), descs
        url = [d for d in descs if w.objs["clear-url"]["id"] in d]
        assert url and "sightings" not in url[0], url


def sighting(of, count, marking, seen="2024-06-01T00:00:00Z"):
    t = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
            "created": t, "modified": t, "sighting_of_ref": of, "count": count,
            "object_marking_refs": [marking], "first_seen": seen, "last_seen": seen}


def import_as(w, org, objs, *args):
    p = w.path("import-%s.json" % uuid.uuid4())
    with open(p, "w") as f:
        json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
    tix_ok("import", "--quiet", "--org", org, "--db", w.db, p, *args)


@test
def http_feed_etag_changes_when_a_readable_sighting_is_added(w):
    url = w.objs["clear-url"]["id"]
    path = "/feeds/%s/csv" % w.cid

    def count(r):
        return {row[2]: row[8] for row in csv.reader(io.StringIO(r.body.decode(),
                                                                 newline=""))}[url]

    r1 = feed_get(w, "bea", path)
    lst = feed_get(w, "bea", "/feeds/%s/list" % w.cid)
    # a sensor's sighting, stored in another collection beta reads: the
    # feed's own collection does not change, its counts do
    out = tix_ok("admin", "collection", "add", "sensors", "--read", "acme,beta", "--write",
                 "acme", "--db", w.db)
    sensors = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", out).group(0)
    import_as(w, "acme", [sighting(url, 2, GREEN)], "--collection", sensors)
    r2 = feed_get(w, "bea", path, {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and r2.header("ETag") != r1.header("ETag"), r2
    assert (count(r1), count(r2)) == ("0", "2")
    assert feed_get(w, "bea", path, {"If-None-Match": r2.header("ETag")}).status == 304
    # a format without the aggregate keeps its ETag (an RPZ keeps its serial)
    assert feed_get(w, "bea", "/feeds/%s/list" % w.cid,
                    {"If-None-Match": lst.header("ETag")}).status == 304


@test
def http_feed_etag_changes_when_a_stored_sighting_joins_a_collection_its_reader_reads(w):
    # A sighting stored in a collection beta may not read, then the same
    # version (no new one: the same bytes, found by their digest) added to
    # one beta reads: beta's count grows, so the old ETag must not get 304.
    ip6 = w.objs["clear-ip6"]["id"]
    path = "/feeds/%s/csv" % w.cid

    def count(r):
        return int({row[2]: row[8] for row in csv.reader(io.StringIO(r.body.decode(),
                                                                     newline=""))}[ip6])

    cids = {}
    for title, readers in (("acme-only", "acme"), ("beta-too", "acme,beta")):
        out = tix_ok("admin", "collection", "add", title, "--read", readers, "--write", "acme",
                     "--db", w.db)
        cids[title] = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", out).group(0)
    seen = sighting(ip6, 4, GREEN)
    import_as(w, "acme", [seen], "--collection", cids["acme-only"])
    r1 = feed_get(w, "bea", path)
    assert r1.status == 200, r1
    assert feed_get(w, "bea", path, {"If-None-Match": r1.header("ETag")}).status == 304
    import_as(w, "acme", [seen], "--collection", cids["beta-too"])
    versions = tix_ok("get", "--db", w.db, "--all-versions", seen["id"])
    assert versions.count('"modified"') == 1, versions  # one version, in two collections
    r2 = feed_get(w, "bea", path, {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and r2.header("ETag") != r1.header("ETag"), r2
    assert count(r2) == count(r1) + 4, (count(r1), count(r2))
    assert feed_get(w, "bea", path, {"If-None-Match": r2.header("ETag")}).status == 304


@test
def http_feed_etag_changes_when_a_grant_lets_its_reader_count_a_sighting(w):
    # A sighting in a collection only acme reads; then beta is granted it:
    # beta's count grows, so the old ETag must not get 304.
    granted = ind("[domain-name:value = 'granted.example']")
    import_as(w, "acme", [granted], "--collection", w.cid)
    tix_ok("admin", "collection", "add", "acme-sensors", "--read", "acme", "--write", "acme",
           "--db", w.db)
    import_as(w, "acme", [sighting(granted["id"], 3, GREEN)], "--collection", "acme-sensors")
    path = "/feeds/%s/csv" % w.cid

    def count(r):
        return {row[2]: row[8] for row in csv.reader(io.StringIO(r.body.decode(),
                                                                 newline=""))}[granted["id"]]

    r1 = feed_get(w, "bea", path)
    assert r1.status == 200 and count(r1) == "0", r1
    tix_ok("admin", "collection", "grant", "acme-sensors", "--org", "beta", "--read",
           "--db", w.db)
    r2 = feed_get(w, "bea", path, {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and r2.header("ETag") != r1.header("ETag"), r2
    assert count(r2) == "3", count(r2)
    assert feed_get(w, "bea", path, {"If-None-Match": r2.header("ETag")}).status == 304


@test
def http_feed_etag_changes_when_a_late_marking_lets_its_reader_count_a_sighting(w):
    # A sighting marked GREEN and with a marking-definition not stored yet
    # (so AMBER+STRICT: beta may not count it); then the definition comes:
    # GREEN, beta's count grows, so the old ETag must not get 304.
    late = ind("[domain-name:value = 'late-marking.example']")
    import_as(w, "acme", [late], "--collection", w.cid)
    tix_ok("admin", "collection", "add", "late-sensors", "--read", "acme,beta", "--write",
           "acme", "--db", w.db)
    marking = new_id("marking-definition")
    seen = sighting(late["id"], 5, GREEN)
    seen["object_marking_refs"].append(marking)
    import_as(w, "acme", [seen], "--collection", "late-sensors")
    path = "/feeds/%s/csv" % w.cid

    def count(r):
        return {row[2]: row[8] for row in csv.reader(io.StringIO(r.body.decode(),
                                                                 newline=""))}[late["id"]]

    r1 = feed_get(w, "bea", path)
    assert r1.status == 200 and count(r1) == "0", r1
    import_as(w, "acme", [{"type": "marking-definition", "spec_version": "2.1", "id": marking,
                           "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement",
                           "definition": {"statement": "late"}}], "--collection", "late-sensors")
    r2 = feed_get(w, "bea", path, {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and r2.header("ETag") != r1.header("ETag"), r2
    assert count(r2) == "5", count(r2)
    assert feed_get(w, "bea", path, {"If-None-Match": r2.header("ETag")}).status == 304


@test
def min_sightings_counts_only_the_sightings_its_reader_may_read(w):
    email, md5 = w.objs["clear-email"]["id"], w.objs["clear-md5"]["id"]
    # email: sighted twice where beta reads; md5 once there, once in
    # gamma's TLP:RED sighting that only the operator may read
    import_as(w, "acme", [sighting(email, 1, GREEN), sighting(email, 1, GREEN),
                          sighting(md5, 1, GREEN)], "--collection", w.cid)
    import_as(w, "gamma", [sighting(md5, 1, RED)])
    beta = ("--as-org", "beta", "--collection", w.cid)

    def kept(*args):
        body, err = w.export("csv", "--min-sightings", "2", *args)
        ids = {r[2] for r in list(csv.reader(io.StringIO(body, newline="")))[1:]}
        assert "fewer sightings than --min-sightings" in err, err
        return email in ids, md5 in ids, w.objs["clear-cidr"]["id"] in ids

    assert kept() == (True, True, False)
    assert kept(*beta) == (True, False, False), "gamma's TLP:RED sighting counted for beta"
    # a STIX export too: the indicators below it left out, nothing else
    objs = json.loads(tix_ok("export", "--db", w.db, "--min-sightings", "2", *beta))["objects"]
    ids = {o["id"] for o in objs}
    assert email in ids and md5 not in ids and any(o["type"] == "sighting" for o in objs)
    assert tix("export", "--db", w.db, "--min-sightings", "-1").returncode == 2


@test
def a_named_feed_with_min_sightings_counts_what_its_caller_may_read(w):
    twice = ind("[domain-name:value = 'seen-twice.example']")
    once = ind("[domain-name:value = 'seen-once.example']")
    import_as(w, "acme", [twice, once], "--collection", w.cid)
    import_as(w, "acme", [sighting(twice["id"], 2, GREEN), sighting(once["id"], 1, GREEN)],
              "--collection", w.cid)
    import_as(w, "gamma", [sighting(once["id"], 4, RED)])  # beta may not read it
    tix_ok("feed", "add", "sighted", "--collection", w.cid, "--format", "list",
           "--min-sightings", "2", "--db", w.db)
    listed = json.loads(tix_ok("feed", "list", "--json", "--db", w.db))
    assert [f["options"] for f in listed if f["name"] == "sighted"] == [{"min_sightings": 2}]
    assert tix("feed", "add", "bad", "--collection", w.cid, "--format", "list",
               "--min-sightings", "-1", "--db", w.db).returncode == 2
    r1 = feed_get(w, "bea", "/feeds/sighted")
    got = set(r1.body.decode().splitlines())
    assert r1.status == 200 and "seen-twice.example" in got, r1
    assert "seen-once.example" not in got, "gamma's TLP:RED sighting counted for beta"
    # the operator's export counts it: the feed's filter is its caller's
    assert "seen-once.example" in w.export("list", "--min-sightings", "2")[0].splitlines()
    # a format without the aggregate, but the filter reads sightings: a
    # new one beta may read changes the ETag and the feed
    import_as(w, "acme", [sighting(once["id"], 1, GREEN)], "--collection", w.cid)
    r2 = feed_get(w, "bea", "/feeds/sighted", {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and "seen-once.example" in r2.body.decode().splitlines(), r2
    assert feed_get(w, "bea", "/feeds/sighted",
                    {"If-None-Match": r2.header("ETag")}).status == 304
    tix_ok("feed", "remove", "sighted", "--db", w.db)


@test
def min_score_counts_only_the_sightings_its_reader_may_read(w):
    # An old indicator scores nothing by now; a fresh TLP:RED sighting of
    # gamma's raises it back to its base, but only for whom may read it: an
    # --as-org export must not reveal, by what it keeps, a sighting hidden
    # from its reader.
    ind = w.objs["clear-domain"]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    fresh = {"type": "sighting", "spec_version": "2.1", "id": new_id("sighting"),
             "created": now, "modified": now, "sighting_of_ref": ind["id"], "count": 1,
             "object_marking_refs": [RED], "first_seen": now, "last_seen": now}
    p = w.path("sighting-fresh.json")
    with open(p, "w") as f:
        json.dump(fresh, f)
    tix_ok("import", "--quiet", "--org", "gamma", "--db", w.db, p)

    def kept(*args):
        return ind["id"] in w.export("csv", "--min-score", "1", *args)[0]

    assert kept(), "the operator reads the fresh sighting: the indicator scores its base"
    assert not kept("--as-org", "beta", "--collection", w.cid), \
        "beta may not read gamma's TLP:RED sighting: to beta the indicator has decayed"


@test
def indicators_decay_expired_leave_every_feed_and_change_its_etag(w):
    # Last of the suite: it marks every indicator expired.
    path = "/feeds/%s/list" % w.cid
    r1 = feed_get(w, "ana", path)
    assert "evil.example" in r1.body.decode().splitlines()
    out = tix_ok("expire", "--db", w.db, "--floor", "100", "--json")
    marked = [json.loads(l)["id"] for l in out.splitlines()]
    assert marked, out
    r2 = feed_get(w, "ana", path, {"If-None-Match": r1.header("ETag")})
    assert r2.status == 200 and r2.header("ETag") != r1.header("ETag"), r2
    assert "evil.example" not in r2.body.decode().splitlines()
    assert feed_get(w, "ana", path, {"If-None-Match": r2.header("ETag")}).status == 304
    body, err = w.export("list", "--collection", w.cid)
    assert "evil.example" not in body.splitlines()
    assert "expired by its decay score (tix expire)" in err, err


def main():
    if not os.path.exists(TIX):
        print("tix binary not found at %s (set TIX)" % TIX)
        return 2
    return run_world_tests(TESTS, World, "feeds")


if __name__ == "__main__":
    sys.exit(main())
