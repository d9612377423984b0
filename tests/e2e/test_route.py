#!/usr/bin/env python3
"""End-to-end tests of constituency routing (docs/route.md): constituents
(ranges, ASNs, domains, contacts), report rows of the common shapes routed by
longest prefix, ASN and registrable domain (IPv6, overlapping ranges,
ASN-only owners, subdomains, internationalised names), unrouted rows with
their reason, bad input per row, reports stored as TLP:AMBER STIX that only
the owning organisation reads over a real `tix serve`, digests golden-tested,
and `--send` against a fake `sendmail` on PATH that records its input (never
twice).

    TIX=build-asan/tix python3 tests/e2e/test_route.py [TEST_NAME...]
"""

import email
import json
import os
import re
import shutil
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (run_world_tests, Client, Server, bearer, expect, objects_path, tix,  # noqa: E402
                        tix_ok)

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "route_golden")
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


FAKE_SENDMAIL = """#!/bin/sh
# records each mail tix hands over (arguments, then the message)
n=$(ls "$ROUTE_MAILDIR" | wc -l)
{ echo "ARGS: $*"; cat; } > "$ROUTE_MAILDIR/mail.$n"
exit ${ROUTE_SENDMAIL_EXIT:-0}
"""


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-route-")
        self.db = os.path.join(self.dir, "tix.db")
        for org in ("cert", "bank-a", "bank-b", "isp-c"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for name, org in (("anna", "bank-a"), ("bert", "bank-b")):
            tix_ok("admin", "user", "add", name, "--org", org, "--role", "reader", "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = tix_ok("admin", "collection", "add", "route-reports", "--read", "bank-a,bank-b",
                     "--db", self.db)
        self.coll = re.search(r"[0-9a-f-]{36}", out).group(0)
        self.bin = os.path.join(self.dir, "bin")
        self.maildir = os.path.join(self.dir, "mails")
        os.makedirs(self.bin)
        os.makedirs(self.maildir)
        fake = os.path.join(self.bin, "sendmail")
        with open(fake, "w") as f:
            f.write(FAKE_SENDMAIL)
        os.chmod(fake, stat.S_IRWXU)
        # The constituents every test routes against.
        self.t("constituent", "add", "bank-a-net", "--org", "bank-a",
               "--contact", "noc@bank-a.example", "sec@bank-a.example",
               "--range", "192.0.2.0/24", "2001:db8::/32", "--domain", "bank-a.example",
               "--domain", "münchen.de")
        self.t("constituent", "add", "bank-a-dmz", "--org", "bank-a",
               "--contact", "dmz@bank-a.example", "--range", "192.0.2.128/25",
               "--range", "2001:db8:1::/48", "--domain", "shop.bank-a.example")
        self.t("constituent", "add", "bank-b", "--org", "bank-b", "--lang", "de",
               "--contact", "cert@bank-b.example", "--range", "198.51.100.0/24",
               "--domain", "bank-b.example.co.uk")
        self.t("constituent", "add", "isp-c", "--org", "isp-c", "--contact", "abuse@isp-c.example",
               "--asn", "AS64510")
        self.server = Server(self.db, self.dir, "route").start()

    def t(self, *args, ok=True, env=None):
        import subprocess
        from test_taxii import TIX, TIMEOUT
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([TIX] + [str(a) for a in args[:2]] + ["--db", self.db] +
                           [str(a) for a in args[2:]], capture_output=True, timeout=TIMEOUT, env=e)
        if ok:
            assert r.returncode == 0, "tix %s: exit %d: %s" % (
                " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace")[-2000:])
        return r

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        return p

    def reports(self):
        out = json.loads(tix_ok("export", "--type", "x-tix-report", "--db", self.db))
        return out["objects"]

    def report_of(self, address):
        got = [o for o in self.reports()
               if address in (o.get("source_ip"), o.get("source_fqdn"), o.get("source_url"))]
        return got

    def unrouted(self):
        return json.loads(self.t("route", "unrouted", "--json").stdout)

    def mails(self):
        out = []
        for n in sorted(os.listdir(self.maildir), key=lambda s: int(s.split(".")[1])):
            with open(os.path.join(self.maildir, n), "rb") as f:
                out.append(f.read().decode())
        return out

    def send_env(self, **extra):
        env = {"PATH": self.bin + ":" + os.environ.get("PATH", ""), "ROUTE_MAILDIR": self.maildir}
        env.update(extra)
        return env

    def close(self):
        self.server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def owner(w, address):
    got = w.report_of(address)
    assert len(got) == 1, (address, got)
    return got[0]["constituent"]


def reason_of(w, text):
    got = [u for u in w.unrouted() if text in u["row"]]
    assert got, (text, w.unrouted())
    return got[-1]["reason"]


# ---- constituents ---------------------------------------------------------------------

@test
def constituents_are_listed_with_their_intervals_and_refused_when_wrong(w):
    got = {c["name"]: c for c in json.loads(w.t("constituent", "list", "--json").stdout)}
    assert got["bank-a-net"]["ranges"] == ["192.0.2.0/24", "2001:db8::/32"], got["bank-a-net"]
    assert got["bank-a-net"]["contacts"] == ["noc@bank-a.example", "sec@bank-a.example"]
    assert got["bank-a-net"]["domains"] == ["bank-a.example", "xn--mnchen-3ya.de"]
    assert got["isp-c"]["asns"] == [64510] and got["bank-b"]["lang"] == "de"
    before = w.t("constituent", "list", "--json").stdout
    for bad, why in ((["--range", "192.0.2.1/24"], "bits set after the prefix"),
                     (["--range", "192.0.2.0/33"], "not an address range"),
                     (["--contact", "a@b.example\r\nBcc: x@y.example"], "not an e-mail"),
                     (["--asn", "AS0"], "not an AS number"),
                     (["--domain", "-bad-.exa mple"], "not a domain")):
        r = w.t("constituent", "add", "x1", "--org", "bank-a", "--contact", "a@b.example", *bad,
                ok=False)
        assert r.returncode == 1 and why in r.stderr.decode(), (bad, r.stderr)
    r = w.t("constituent", "add", "bank-b", "--org", "bank-b", "--contact", "a@b.example", ok=False)
    assert r.returncode == 1 and b"exists" in r.stderr, r.stderr
    r = w.t("constituent", "add", "../evil", "--org", "bank-b", ok=False)
    assert r.returncode == 1 and b"constituent name" in r.stderr, r.stderr
    assert w.t("constituent", "list", "--json").stdout == before


@test
def import_adds_and_replaces_all_or_nothing_and_remove_removes(w):
    csv = w.write("c.csv", "name,org,contacts,ranges,asns,domains,lang\n"
                           "imp-1,bank-b,a@imp.example;b@imp.example,203.0.113.0/26 2001:db8:ff::/48,"
                           "64999,imp.example,fr\n"
                           "imp-2,bank-b,,203.0.113.64/26,,,\n")
    w.t("constituent", "import", csv)
    got = {c["name"]: c for c in json.loads(w.t("constituent", "list", "--json").stdout)}
    assert got["imp-1"]["ranges"] == ["203.0.113.0/26", "2001:db8:ff::/48"], got["imp-1"]
    assert got["imp-1"]["asns"] == [64999] and got["imp-1"]["lang"] == "fr"
    assert got["imp-2"]["contacts"] == []
    # one bad row: nothing of the file is written
    bad = w.write("bad.csv", "name,org,contacts,ranges\n"
                             "imp-1,bank-b,c@imp.example,203.0.113.0/26\n"
                             "imp-3,bank-b,c@imp.example,203.0.113.300/26\n")
    r = w.t("constituent", "import", bad, ok=False)
    assert r.returncode == 1 and b"bad.csv:3:" in r.stderr, r.stderr
    got2 = {c["name"]: c for c in json.loads(w.t("constituent", "list", "--json").stdout)}
    assert got2 == got
    # a good file replaces the constituents it names
    w.t("constituent", "import", w.write("c2.csv", "name,org,contacts,ranges\n"
                                                   "imp-1,bank-b,c@imp.example,203.0.113.0/27\n"))
    got = {c["name"]: c for c in json.loads(w.t("constituent", "list", "--json").stdout)}
    assert got["imp-1"]["ranges"] == ["203.0.113.0/27"] and got["imp-1"]["asns"] == []
    w.t("constituent", "remove", "imp-1")
    w.t("constituent", "remove", "imp-2")
    r = w.t("constituent", "remove", "imp-2", ok=False)
    assert r.returncode == 1 and b"no such constituent" in r.stderr
    names = [c["name"] for c in json.loads(w.t("constituent", "list", "--json").stdout)]
    assert "imp-1" not in names and "imp-2" not in names


# ---- routing ----------------------------------------------------------------------------

@test
def longest_prefix_wins_for_ipv4_and_ipv6(w):
    f = w.write("lpm.csv", "time.source,source.ip,classification.type\n"
                           "2026-11-30T10:00:00Z,192.0.2.10,infected-system\n"
                           "2026-11-30T10:00:00Z,192.0.2.200,infected-system\n"
                           "2026-11-30T10:00:00Z,2001:db8:0:1::5,vulnerable-system\n"
                           "2026-11-30T10:00:00Z,2001:DB8:1:0::7,vulnerable-system\n"
                           "2026-11-30T10:00:00Z,198.51.100.255,scanner\n")
    w.t("route", "import", "--feed", "lpm", "--org", "cert", f)
    assert owner(w, "192.0.2.10") == "bank-a-net"
    assert owner(w, "192.0.2.200") == "bank-a-dmz"
    assert owner(w, "2001:db8:0:1::5") == "bank-a-net"
    assert owner(w, "2001:db8:1::7") == "bank-a-dmz"       # normalised, then the /48
    assert owner(w, "198.51.100.255") == "bank-b"
    o = w.report_of("192.0.2.200")[0]
    assert o["routed_by"] == "range 192.0.2.128/25", o


@test
def asn_only_owners_route_through_the_loaded_table(w):
    bad = w.write("bad-asn.txt", "100.64.0.0/16 64510\n100.65.0.0 16 ASX\n")
    r = w.t("route", "load-asn", bad, ok=False)
    assert r.returncode == 1 and b"bad-asn.txt:2:" in r.stderr, r.stderr
    table = w.write("pfx2as.txt", "# RouteViews pfx2as and CIDR lines\n"
                                  "100.64.0.0\t16\t64510\n"
                                  "100.66.0.0/16 64511_64510\n"
                                  "2001:db9:aa::/48 64510\n")
    w.t("route", "load-asn", table)
    f = w.write("asn.csv", "time.source,source.ip,classification.type\n"
                           "2026-11-30T10:00:00Z,100.64.3.4,scanner\n"
                           "2026-11-30T10:00:00Z,2001:db9:aa::9,scanner\n"
                           "2026-11-30T10:00:00Z,100.66.1.1,scanner\n")
    r = w.t("route", "import", "--feed", "asn", "--org", "cert", f, ok=False)
    assert r.returncode == 1, r.stderr           # 100.66/16's first origin is 64511: nobody's
    assert owner(w, "100.64.3.4") == "isp-c" and owner(w, "2001:db9:aa::9") == "isp-c"
    o = w.report_of("100.64.3.4")[0]
    assert o["routed_by"] == "asn AS64510" and o["source_asn"] == 64510, o
    assert reason_of(w, "100.66.1.1") == "no-owner"


@test
def domains_route_by_subdomain_and_idn_and_never_above_the_registrable_domain(w):
    f = w.write("dom.csv", "time.source,source.fqdn,source.url,classification.type\n"
                           "2026-11-30T10:00:00Z,www.bank-a.example,,phishing\n"
                           "2026-11-30T10:00:00Z,a.b.shop.BANK-A.example.,,phishing\n"
                           "2026-11-30T10:00:00Z,www.MÜNCHEN.de,,phishing\n"
                           "2026-11-30T10:00:00Z,,https://login.bank-b.example.co.uk/x?y=1,phishing\n"
                           "2026-11-30T10:00:00Z,other.example.co.uk,,phishing\n"
                           "2026-11-30T10:00:00Z,,http://192.0.2.99:8080/a,malware-distribution\n")
    r = w.t("route", "import", "--feed", "dom", "--org", "cert", f, ok=False)
    assert r.returncode == 1
    assert owner(w, "www.bank-a.example") == "bank-a-net"
    assert owner(w, "a.b.shop.bank-a.example") == "bank-a-dmz"
    assert owner(w, "www.xn--mnchen-3ya.de") == "bank-a-net"
    assert owner(w, "https://login.bank-b.example.co.uk/x?y=1") == "bank-b"
    assert owner(w, "http://192.0.2.99:8080/a") == "bank-a-net"   # the host is an address
    assert reason_of(w, "other.example.co.uk") == "no-owner"


@test
def a_constituent_without_contacts_is_an_error_not_silence(w):
    w.t("constituent", "add", "silent", "--org", "bank-b", "--range", "203.0.113.128/25")
    f = w.write("nc.csv", "time.source,source.ip,classification.type\n"
                          "2026-11-30T10:00:00Z,203.0.113.130,infected-system\n")
    r = w.t("route", "import", "--feed", "nc", "--org", "cert", f, ok=False)
    assert r.returncode == 1 and b"no-contact" in r.stderr and b"silent" in r.stderr, r.stderr
    assert reason_of(w, "203.0.113.130") == "no-contact"
    assert w.report_of("203.0.113.130") == []
    # once it has a contact, the same row routes and leaves the unrouted list
    w.t("constituent", "import", w.write("silent.csv", "name,org,contacts,ranges\n"
                                                       "silent,bank-b,x@silent.example,203.0.113.128/25\n"))
    w.t("route", "import", "--feed", "nc", "--org", "cert", f)
    assert owner(w, "203.0.113.130") == "silent"
    assert not [u for u in w.unrouted() if "203.0.113.130" in u["row"]]
    w.t("constituent", "remove", "silent")


@test
def shipped_shadowserver_mappings_read_the_report_shapes(w):
    http = w.write("scan_http.csv",
                   "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,http,"
                   "http_code,http_reason,content_type,server\n"
                   "2026-11-30 01:02:03,192.0.2.21,tcp,8080,h.bank-a.example,http,64496,AT,"
                   "WIEN,VIENNA,0,0,HTTP/1.1,200,OK,text/html,nginx\n")
    w.t("route", "import", "--feed", "shadowserver-scan-http", "--org", "cert", http)
    o = w.report_of("192.0.2.21")[0]
    assert (o["classification_type"], o["classification_taxonomy"],
            o["classification_identifier"]) == ("vulnerable-system", "vulnerable", "accessible-http")
    assert o["source_port"] == 8080 and o["time_source"] == "2026-11-30T01:02:03.000Z", o
    assert o["report_fields"]["source.reverse_dns"] == "h.bank-a.example", o
    assert o["report_fields"]["extra.server"] == "nginx", o
    sink = w.write("sinkhole.csv",
                   "timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,"
                   "src_hostname,dst_ip,dst_port,dst_asn,dst_geo,infection,family,tag,http_url,"
                   "http_host,http_agent\n"
                   "2026-11-30T04:00:00Z,tcp,2001:db8::44,50000,64496,AT,,,,203.0.113.9,80,"
                   "64497,US,andromeda,andromeda,,/gate.php,c2.example,Mozilla\n")
    w.t("route", "import", "--feed", "shadowserver-event4-sinkhole", "--org", "cert", sink)
    o = w.report_of("2001:db8::44")[0]
    assert o["classification_type"] == "infected-system", o
    assert o["report_fields"]["malware.name"] == "andromeda", o
    comp = w.write("compromised.csv",
                   "timestamp,ip,port,hostname,tag,application,asn,geo,region,city,naics,sic,"
                   "http_host,category,system,detected_since,server,redirect_target\n"
                   "2026-11-30T05:00:00Z,,443,,wp,wordpress,,AT,,,,,blog.bank-b.example.co.uk,"
                   "defacement,,2026-11-01,apache,\n")
    w.t("route", "import", "--feed", "shadowserver-compromised-website", "--org", "cert", comp)
    assert owner(w, "blog.bank-b.example.co.uk") == "bank-b"
    names = w.t("route", "feeds").stdout.decode().split()
    assert "shadowserver-scan-http" in names and "shadowserver-event4-sinkhole" in names
    # an operator's own mapping
    mapping = w.write("my.map", "# our partner's sightings\ncolumn when time.source\n"
                                "column addr source.ip\nset classification.type scanner\n")
    rows = w.write("partner.csv", "when,addr,note\n2026-11-30T06:00:00Z,192.0.2.77,seen twice\n")
    w.t("route", "import", "--feed", "partner", "--mapping", mapping, "--org", "cert", rows)
    o = w.report_of("192.0.2.77")[0]
    assert o["classification_type"] == "scanner" and o["report_fields"]["note"] == "seen twice"
    r = w.t("route", "import", "--feed", "partner", "--mapping",
            w.write("bad.map", "column when time.source\nset classification.type nonsense\n"),
            rows, ok=False)
    assert r.returncode == 1 and b"bad.map:2: unknown classification.type" in r.stderr, r.stderr


@test
def bad_rows_are_reported_one_by_one_and_kept_as_malformed(w):
    long_field = "x" * 70000
    text = ("time.source,source.ip,source.fqdn,classification.type,extra.note\n"
            "2026-11-30T07:00:00Z,192.0.2.300,,scanner,a\n"
            "2026-11-30T07:00:00Z,192.0.2.31,,scanner\n"
            "2026-11-30T07:00:00Z,192.0.2.32,,not-a-class,b\n"
            "yesterday,192.0.2.33,,scanner,c\n"
            "2099-01-01T00:00:00Z,192.0.2.34,,scanner,d\n"
            "2026-11-30T07:00:00Z,,\"evil.bank-a.example\r\nBcc: victim@x.example\",phishing,e\n"
            "2026-11-30T07:00:00Z,192.0.2.35,,scanner,\"unclosed\n")
    f = w.write("bad.csv", text)
    f2 = os.path.join(w.dir, "long.csv")
    with open(f2, "wb") as fh:
        fh.write(b"time.source,source.ip,classification.type,extra.note\n"
                 b"2026-11-30T07:00:00Z,192.0.2.36,scanner," + long_field.encode() + b"\n"
                 b"2026-11-30T07:00:00Z,192.0.2.37,scanner,ok\n"
                 b"2026-11-30T07:00:00Z,192.0.2.38,scanner,\xff\xfe\n")
    r = w.t("route", "import", "--feed", "bad", "--org", "cert", f, f2, ok=False)
    assert r.returncode == 1, r.stderr
    err = r.stderr.decode()
    for line, why in ((2, "is not an IP address"), (3, "4 columns, the header has 5"),
                      (4, "unknown classification.type"), (5, "is not a time"),
                      (6, "more than a day ahead"), (7, "a control character"),
                      (9, "not closed")):   # line 7's quoted field holds a line end
        assert "bad.csv:%d: malformed: " % line in err and why in err, (line, why, err)
    assert "long.csv:2: malformed: record longer than the limit" in err, err
    assert "long.csv:4: malformed: not UTF-8" in err, err
    assert owner(w, "192.0.2.37") == "bank-a-net"
    kept = [u for u in w.unrouted() if u["source"].endswith("bad.csv")]
    assert len(kept) == 7 and all(u["reason"] == "malformed" for u in kept), kept
    assert all(len(u["row"]) <= 4096 for u in w.unrouted())
    # header problems are the file's, with the line
    r = w.t("route", "import", "--feed", "x",
            w.write("nohdr.csv", "a,b\n1,2\n"), ok=False)
    assert r.returncode == 1 and b"nohdr.csv:1: no time.source column" in r.stderr, r.stderr


@test
def reports_are_amber_for_the_owning_organisation_only_over_taxii(w):
    anna, bert = (Client(w.server, bearer(w.keys[u])) for u in ("anna", "bert"))

    def seen(c):
        objs = expect(c.get(objects_path(w.coll), [("match[type]", "x-tix-report"),
                                                   ("limit", "1000")]), 200).json()
        return objs.get("objects", [])

    a, b = seen(anna), seen(bert)
    assert a and b
    assert {o["constituent_org"] for o in a} == {"bank-a"}, {o["constituent_org"] for o in a}
    assert {o["constituent_org"] for o in b} == {"bank-b"}
    for o in a + b:
        assert o["object_marking_refs"] == [AMBER], o
        assert o["tix_sharing_group"] == "route:" + o["constituent_org"], o
    # the reports are the CERT's: nobody else may change them
    mine = a[0]
    r = json.loads(tix_ok("admin", "group", "list", "--json", "--db", w.db))
    groups = {g["name"]: g["members"] for g in r} if isinstance(r, list) else r
    assert groups["route:bank-a"] == ["bank-a"], groups
    again = dict(mine, modified="2026-11-30T23:00:00.000Z", constituent_org="bank-b")
    p = w.write("steal.json", json.dumps({"type": "bundle", "id": "bundle--" + "1" * 8 +
                                          "-1111-4111-8111-111111111111", "objects": [again]}))
    r = tix("import", "--db", w.db, "--org", "bank-b", p)
    assert r.returncode != 0 and b"belongs to another organisation" in r.stderr, r.stderr


# ---- digests --------------------------------------------------------------------------------

def golden(name, got):
    p = os.path.join(GOLDEN, name)
    if os.environ.get("ROUTE_GOLDEN_WRITE"):
        with open(p, "w") as f:
            f.write(got)
    with open(p) as f:
        want = f.read()
    assert got == want, "%s differs:\n--- want\n%s\n--- got\n%s" % (name, want, got)


@test
def digests_aggregate_per_address_classification_and_day_golden(w):
    # a fresh store, so the golden files hold only these rows
    d = World.__new__(World)
    d.dir = tempfile.mkdtemp(prefix="tix-route-golden-")
    d.db = os.path.join(d.dir, "tix.db")
    try:
        d.t("constituent", "add", "bank-a-net", "--org", "bank-a", "--contact", "noc@bank-a.example",
            "--range", "192.0.2.0/24", "--domain", "bank-a.example")
        d.t("constituent", "add", "bank-b", "--org", "bank-b", "--lang", "de",
            "--contact", "cert@bank-b.example", "--range", "198.51.100.0/24")
        rows = ("time.source,source.ip,source.fqdn,classification.type,source.port\n"
                "2026-11-29T08:00:00Z,192.0.2.1,,infected-system,80\n"
                "2026-11-29T09:30:00Z,192.0.2.1,,infected-system,81\n"
                "2026-11-29T23:59:59Z,192.0.2.1,,infected-system,82\n"
                "2026-11-30T00:00:01Z,192.0.2.1,,infected-system,83\n"
                "2026-11-29T10:00:00Z,192.0.2.1,,vulnerable-system,443\n"
                "2026-11-29T10:00:00Z,,\"www.bank-a.example\",phishing,\n"
                "2026-11-29T11:00:00Z,198.51.100.7,,scanner,\n"
                "2026-11-29T12:00:00Z,198.51.100.7,,scanner,22\n")
        f = d.write("day.csv", rows)
        d.t("route", "import", "--feed", "golden", f)
        d.t("route", "import", "--feed", "golden", f)   # the same rows again: nothing new
        out = os.path.join(d.dir, "out")
        d.t("route", "digest", "--since", "3650d", "--now", "2030-01-01T00:00:00Z", "--out", out)
        assert sorted(os.listdir(out)) == ["bank-a-net.csv", "bank-a-net.txt", "bank-b.csv",
                                           "bank-b.txt"]
        for n in sorted(os.listdir(out)):
            with open(os.path.join(out, n)) as fh:
                golden(n, fh.read())
        r = d.t("route", "digest", "--since", "3650d", "--now", "2030-01-01T00:00:00Z",
                "--constituent", "bank-b")
        assert r.stdout.decode().startswith("bank-b: 1 rows (2 reports)"), r.stdout
        r = d.t("route", "digest", "--since", "1h", "--now", "2030-01-01T00:00:00Z")
        assert r.stdout == b"", r.stdout           # imported long before that hour
        r = d.t("route", "digest", "--since", "soon", ok=False)
        assert r.returncode == 2
        r = d.t("route", "digest", "--since", "1d", "--constituent", "nobody", ok=False)
        assert r.returncode == 1 and b"no such constituent" in r.stderr
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


@test
def send_hands_each_digest_to_sendmail_once_and_records_it(w):
    # replacing a constituent (same name) keeps what digests owe it
    w.t("constituent", "import", w.write("again.csv",
                                         "name,org,contacts,ranges,domains\n"
                                         "bank-a-net,bank-a,noc@bank-a.example sec@bank-a.example,"
                                         "192.0.2.0/24 2001:db8::/32,bank-a.example münchen.de\n"))
    r = w.t("route", "digest", "--since", "24h", "--send", "--from", "cert@cert.example",
            env=w.send_env())
    mails = w.mails()
    sent = json.loads(w.t("route", "sent", "--json").stdout)
    assert len(mails) == len(sent) >= 3, (r.stdout, r.stderr, sent)
    by_to = {}
    for m in mails:
        head, _, _ = m.partition("\n")
        assert head == "ARGS: -t -oi", head
        msg = email.message_from_bytes(m.split("\n", 1)[1].encode())
        by_to[msg["To"].replace("\n ", " ")] = msg
    a = by_to["noc@bank-a.example, sec@bank-a.example"]
    assert a["From"] == "cert@cert.example"
    assert a["Subject"].startswith("[tix] bank-a-net: "), a["Subject"]
    parts = a.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert "Dear bank-a-net team" in parts[0].get_payload(decode=True).decode()
    csv = parts[1].get_payload(decode=True).decode()
    assert parts[1].get_filename() == "bank-a-net.csv"
    assert csv.startswith("day,address,classification.taxonomy"), csv
    assert "192.0.2.10" in csv and "192.0.2.200" not in csv, csv   # that one is bank-a-dmz's
    # nothing from a row reaches a header
    for m in by_to.values():
        for k, v in m.items():
            assert "victim" not in v and "\r" not in v, (k, v)
    b = by_to["cert@bank-b.example"]
    assert "Sehr geehrtes bank-b-Team" in b.get_payload()[0].get_payload(decode=True).decode()
    rec = {s["constituent"]: s for s in sent}
    assert rec["bank-a-net"]["recipients"] == "noc@bank-a.example,sec@bank-a.example"
    # again: nothing is sent twice
    r = w.t("route", "digest", "--since", "24h", "--send", env=w.send_env())
    assert r.stdout.strip() == b"nothing to send", r.stdout
    assert len(w.mails()) == len(mails)
    # a new report goes out alone; a failing sendmail records nothing
    f = w.write("new.csv", "time.source,source.ip,source.account,classification.type\n"
                           "2026-11-30T12:00:00Z,192.0.2.250,,brute-force\n"
                           "2026-11-30T12:00:00Z,,=cmd|' /C calc'!A0@shop.bank-a.example,"
                           "unprivileged-account-compromise\n")
    w.t("route", "import", "--feed", "late", "--org", "cert", f)
    r = w.t("route", "digest", "--since", "24h", "--send", env=w.send_env(ROUTE_SENDMAIL_EXIT="75"),
            ok=False)
    assert r.returncode == 1 and b"not sent: sendmail exited with 75" in r.stderr, r.stderr
    assert len(json.loads(w.t("route", "sent", "--json").stdout)) == len(sent)
    w.t("route", "digest", "--since", "24h", "--send", env=w.send_env())
    last = w.mails()[-1]
    assert "To: dmz@bank-a.example" in last, last
    msg = email.message_from_bytes(last.split("\n", 1)[1].encode())
    csv = msg.get_payload()[1].get_payload(decode=True).decode()
    assert csv.count("\r\n") == 3 and "192.0.2.250" in csv, csv
    # an account a spreadsheet would take for a formula is written as text
    assert "\"'=cmd|' /C calc'!A0@shop.bank-a.example\"" in csv, csv
    assert len(json.loads(w.t("route", "sent", "--json").stdout)) == len(sent) + 1
    # a constituent whose contacts went while it had reports: an error, not silence
    w.t("constituent", "add", "gone", "--org", "bank-b", "--contact", "x@gone.example",
        "--range", "203.0.113.200/29")
    w.t("route", "import", "--feed", "late", "--org", "cert",
        w.write("gone.csv", "time.source,source.ip,classification.type\n"
                            "2026-11-30T12:00:00Z,203.0.113.201,scanner\n"))
    w.t("constituent", "import", w.write("gone-c.csv", "name,org,contacts,ranges\n"
                                                       "gone,bank-b,,203.0.113.200/29\n"))
    n = len(w.mails())
    r = w.t("route", "digest", "--since", "24h", "--send", env=w.send_env(), ok=False)
    assert r.returncode == 1 and b"gone: 1 rows but no contact" in r.stderr, r.stderr
    assert len(w.mails()) == n
    w.t("constituent", "remove", "gone")


def main():
    return run_world_tests(TESTS, World, "route")


if __name__ == "__main__":
    sys.exit(main())
