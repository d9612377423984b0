#!/usr/bin/env python3
"""End-to-end tests of the resource library (docs/library.md, issue 24):
resources in six scripts (Latin with diacritics, Cyrillic, Arabic,
Devanagari, Thai, CJK) imported from CSV and found by a word of each, facets
that count what was found, bad input (a missing title, bad language and
country codes, markup, a blocked host) refused with nothing written, reviews
as the reviewer's own objects, the JSON API under the sharing policy, and an
offline pack that round-trips through `tix library unpack` and searches in
headless Chromium with the network off.

    TIX=build/tix python3 tests/e2e/test_library.py [TEST_NAME...]
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import SANITIZER_MARKS, TIX, Client, Server, bearer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 120
TESTS = []
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
# test_library_pg.py: the world's store on PostgreSQL (packs unpack into SQLite)
PG_DB = os.environ.get("TIX_TEST_DB", "")
ON_PG = PG_DB.startswith("postgres")

# title, the word each is found by, and the CSV fields
RESOURCES = [
    {"title": "Protección de la niñez en línea", "find": ["proteccion", "NIÑEZ"],
     "find_pg": ["protección", "niñez"],
     "description": "Guía para familias: el acoso y el grooming, 1 < 2 & 3 > 2",
     "inLanguage": "es;es-MX", "country": "MX;ES", "audience": "parents;educators",
     "topic": "grooming;privacy", "license": "CC-BY-4.0", "publisher": "Pantallas Amigas",
     "url": "https://pantallas.example/es", "title@en": "Child protection online"},
    {"title": "Травля в интернете: памятка для школьников", "find": ["травля"],
     "inLanguage": "ru", "country": "RU;KZ", "audience": "children", "ageRange": "10-14",
     "topic": "cyberbullying", "license": "CC-BY-SA-4.0"},
    {"title": "الحماية من الابتزاز الجنسي عبر الإنترنت", "find": ["الابتزاز"],
     "inLanguage": "ar", "country": "EG;JO", "audience": "children;parents",
     "topic": "sextortion;reporting-abuse", "license": "All rights reserved",
     "url": "https://amen.example/ar", "file": "amen.pdf"},
    {"title": "ऑनलाइन सुरक्षा: शिक्षकों के लिए मार्गदर्शिका", "find": ["सुरक्षा"],
     "inLanguage": "hi", "country": "IN", "audience": "educators", "topic": "privacy",
     "license": "CC0-1.0", "file": "suraksha.pdf"},
    {"title": "การกลั่นแกล้งทางไซเบอร์ คู่มือสำหรับครู", "find": ["กลั่นแกล้ง", "ครู"],
     "inLanguage": "th", "country": "TH", "audience": "educators", "topic": "cyberbullying",
     "license": "CC-BY-4.0"},
    {"title": "网络欺凌防治指南", "find": ["欺凌", "防治指南"], "inLanguage": "zh-Hans",
     "country": "CN", "audience": "parents", "topic": "cyberbullying;x-school-policy",
     "license": "CC-BY-4.0"},
    {"title": "Evidence of online grooming: a bench book", "find": ["bench"],
     "inLanguage": "en", "country": "KE;UG", "audience": "judges;prosecutors",
     "topic": "grooming", "license": "CC-BY-4.0", "tlp": "green"},
]
COLUMNS = ["title", "description", "inLanguage", "country", "audience", "ageRange", "topic",
           "license", "publisher", "url", "file", "title@en", "tlp"]


def test(fn):
    TESTS.append(fn)
    return fn


def run(*args, db=None, stdin=None):
    env = dict(os.environ)
    if db:
        env["TIX_DB"] = db
    r = subprocess.run([TIX] + [str(a) for a in args], input=stdin, capture_output=True,
                       timeout=TIMEOUT, env=env, text=True)
    bad = [m for m in SANITIZER_MARKS if m in r.stderr]
    assert not bad, "sanitizer report from tix %s: %s" % (args[0], r.stderr[-3000:])
    return r


def ok(*args, db=None, stdin=None):
    r = run(*args, db=db, stdin=stdin)
    assert r.returncode == 0, "tix %s: exit %d: %s" % (
        " ".join(map(str, args)), r.returncode, r.stderr[-2000:])
    return r.stdout


def refused(*args, db=None, why=""):
    r = run(*args, db=db)
    assert r.returncode != 0, "tix %s was not refused: %s" % (" ".join(map(str, args)), r.stdout)
    assert why in r.stderr, "tix %s: %r not in %r" % (" ".join(map(str, args)), why, r.stderr)
    return r.stderr


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def search(db, *args):
    """The JSON answer; exit 1 when nothing is found (and 0 otherwise)."""
    r = run("library", "search", *args, "--json", db=db)
    got = json.loads(r.stdout)
    assert r.returncode == (0 if got["results"] else 1), (args, r.returncode, r.stderr)
    return got


def titles(answer):
    return sorted(r["title"] for r in answer["results"])


class World:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-library-")
        self.db = PG_DB if ON_PG else os.path.join(self.dir, "tix.db")
        for org, cc in (("cert", "KE"), ("school", "TH"), ("other", "BR")):
            ok("admin", "org", "add", org, "--country", cc, "--db", self.db)
        out = ok("admin", "collection", "add", "library", "--read", "cert,school", "--write",
                 "cert", "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        self.keys = {}
        for name, org, role in (("ana", "school", "reader"), ("bob", "other", "reader"),
                                ("carl", "cert", "analyst")):
            ok("admin", "user", "add", name, "--org", org, "--role", role, "--db", self.db)
            out = ok("admin", "key", "add", "--user", name, "--db", self.db)
            self.keys[name] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        self.password = "pw-dora-%s" % os.urandom(4).hex()
        ok("admin", "user", "add", "dora", "--org", "school", "--role", "reader",
           "--password-stdin", "--db", self.db, stdin=self.password + "\n")
        path = os.path.join(self.dir, "library.csv")
        write_csv(path, RESOURCES)
        ids = ok("library", "import", path, "--org", "cert", db=self.db).split()
        assert len(ids) == len(RESOURCES), ids
        self.id_of = dict(zip((r["title"] for r in RESOURCES), ids))
        self.server = Server(self.db, self.dir, "library").start()

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]) if user else None)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def a_word_of_each_script_finds_its_resource(w):
    for r in RESOURCES:
        for word in r.get("find_pg", r["find"]) if ON_PG else r["find"]:
            got = search(w.db, word)
            assert titles(got) == [r["title"]], (word, titles(got))
            assert got["results"][0]["id"] == w.id_of[r["title"]]
    # a translation's title is searched too; two words must both be there
    assert titles(search(w.db, "child protection")) == [RESOURCES[0]["title"]]
    assert titles(search(w.db, "травля bench")) == []
    # PostgreSQL folds no diacritics (docs/library.md, "On PostgreSQL")
    assert titles(search(w.db, "linea")) == ([] if ON_PG else [RESOURCES[0]["title"]])
    # the shape of the text output (a script reads it)
    out = ok("library", "search", "欺凌", db=w.db)
    assert out.splitlines()[0].startswith(w.id_of[RESOURCES[5]["title"]] + "  网络欺凌防治指南  [zh-Hans]")


def expected_facets(rows):
    want = {"audience": {}, "language": {}, "country": {}, "topic": {}, "license": {}}
    for r in rows:
        for facet, col in (("audience", "audience"), ("language", "inLanguage"),
                           ("country", "country"), ("topic", "topic"), ("license", "license")):
            for v in [x for x in r.get(col, "").split(";") if x]:
                want[facet][v] = want[facet].get(v, 0) + 1
    return want


@test
def facets_count_what_is_found(w):
    got = search(w.db, "--facets")
    assert got["total"] == len(RESOURCES)
    assert got["facets"] == expected_facets(RESOURCES), got["facets"]
    # with a filter, the facets count the resources it leaves
    edu = [r for r in RESOURCES if "educators" in r["audience"].split(";")]
    got = search(w.db, "--audience", "educators", "--facets")
    assert titles(got) == sorted(r["title"] for r in edu)
    assert got["facets"] == expected_facets(edu), got["facets"]
    # --lang es finds es and es-MX (one resource), --country and --topic
    assert titles(search(w.db, "--lang", "es")) == [RESOURCES[0]["title"]]
    assert len(search(w.db, "--country", "jo")["results"]) == 1
    assert len(search(w.db, "--topic", "cyberbullying")["results"]) == 3
    assert titles(search(w.db, "online", "--audience", "judges")) == [RESOURCES[6]["title"]]
    out = ok("library", "search", "--topic", "grooming", "--facets", db=w.db)
    assert "topic: grooming=2 privacy=1" in out, out


@test
def bad_input_is_refused_with_its_reason_and_nothing_written(w):
    before = search(w.db)["total"]
    ok("library", "block", "abuse.example", "--reason", "reported by the hotline", db=w.db)
    assert "abuse.example  reported by the hotline" in ok("library", "blocked", db=w.db)
    cases = [
        (["--title", "A", "--url", "https://cdn.Abuse.Example./x"],
         "the host cdn.abuse.example is on the library's block list"),
        (["--title", "A", "--url", "ftp://files.example/a"], "only http:// and https://"),
        (["--title", "A", "--url", "javascript:alert(1)"], "only http:// and https://"),
        (["--title", "A", "--lang", "english"], "'english' is not a BCP 47 language tag"),
        (["--title", "A", "--country", "XZ"], "'XZ' is not an ISO 3166-1 alpha-2"),
        (["--title", "A", "--description", "<img src=x onerror=alert(1)>"], "HTML markup"),
        (["--title", "A", "--topic", "gambling"], "not in the topic list"),
        (["--title", "A", "--tlp", "red"], "clear or green"),
        (["--description", "no title"], "--title"),
    ]
    for args, why in cases:
        refused("library", "add", *args, db=w.db, why=why)
    # one bad row of a CSV: the file is refused, its line named, nothing stored
    path = os.path.join(w.dir, "bad.csv")
    rows = [{"title": "Fine one", "inLanguage": "en"}, {"inLanguage": "fr"},
            {"title": "Fine two", "inLanguage": "en"}]
    write_csv(path, rows)
    refused("library", "import", path, db=w.db, why="line 3: ")
    refused("library", "import", path, db=w.db, why="title: missing")
    with open(path, "w") as f:
        f.write("title,colour\nA,red\n")
    refused("library", "import", path, db=w.db, why="column 'colour' is not a field")
    assert search(w.db)["total"] == before
    ok("library", "unblock", "abuse.example", db=w.db)
    assert "abuse.example" not in ok("library", "blocked", db=w.db)


@test
def reviews_are_the_reviewers_own_versions(w):
    rid = w.id_of[RESOURCES[1]["title"]]
    one = ok("library", "review", rid, "--org", "school", "--status", "approved", db=w.db).strip()
    two = ok("library", "review", rid, "--org", "school", "--status", "needs-changes",
             "--comment", "add a version for parents", db=w.db).strip()
    assert one == two and one.startswith("x-tix-resource-review--")
    shown = json.loads(ok("library", "show", rid, "--json", db=w.db))
    assert [(v["reviewer"], v["review_status"]) for v in shown["reviews"]] == [
        ("school", "needs-changes")]
    assert "review: needs-changes by school" in ok("library", "show", rid, db=w.db)
    refused("library", "review", rid, "--status", "approved", db=w.db, why="--org")
    refused("library", "review", rid, "--org", "school", "--status", "great", db=w.db,
            why="approved, needs-changes or rejected")
    # another organisation cannot write a version of cert's resource
    obj = dict(shown["resource"], description="rewritten")
    obj["modified"] = "2099-01-01T00:00:00.000Z"
    path = os.path.join(w.dir, "takeover.json")
    with open(path, "w") as f:
        json.dump(obj, f)
    refused("library", "import", path, "--org", "school", db=w.db,
            why="belongs to another organisation")


def api(w, user, **params):
    r = w.client(user).get("/api/v1/library/search", list(params.items()),
                           accept="application/json")
    return r.status, (r.json() if r.status == 200 else None)


@test
def the_json_api_searches_under_the_policy(w):
    status, _ = api(w, None, q="bench")
    assert status == 401
    status, got = api(w, "ana", q="bench", facets="1")
    assert status == 200 and titles(got) == [RESOURCES[6]["title"]], got
    # GREEN: the collection's community (school reads it, other does not)
    status, got = api(w, "bob", q="bench")
    assert status == 200 and got["results"] == [], got
    status, got = api(w, "bob", facets="1")
    assert got["total"] == len(RESOURCES) - 1
    assert got["facets"] == expected_facets(RESOURCES[:-1]), got["facets"]
    status, got = api(w, "ana", q="กลั่นแกล้ง", audience="educators")
    assert titles(got) == [RESOURCES[4]["title"]]
    assert api(w, "ana", q="x", colour="red")[0] == 400
    assert api(w, "ana", q="!!!")[0] == 400


@test
def the_json_api_refuses_bad_filters_with_a_json_error(w):
    """Filters checked as the fields are: a filter that is not UTF-8, an
    unknown audience or topic, a malformed language, an unassigned country:
    400 with a JSON error naming the parameter (before: 200 and nothing
    found, as if the library held no such resource)."""
    c = w.client("ana")
    for params, name in (([("lang", b"\xff")], "lang"), ([("q", b"caf\xe9")], "query"),
                         ([("audience", b"\xc3")], "audience"),
                         ([("audience", "aliens")], "audience"),
                         ([("topic", "nope")], "topic"), ([("lang", "12")], "lang"),
                         ([("lang", "e" * 300)], "lang"), ([("country", "ZZ")], "country"),
                         ([("license", b"CC\x01")], "license")):
        r = c.get("/api/v1/library/search", params, accept="application/json")
        assert r.status == 400, (params, r.status, r.body[:200])
        err = r.json()
        assert err["description"].startswith(name + ":"), (params, err)
    # good filters still answer, and the CLI refuses the same way
    status, got = api(w, "ana", lang="th", country="th", audience="Educators",
                      topic="cyberbullying")
    assert status == 200 and titles(got) == [RESOURCES[4]["title"]], got
    refused("library", "search", "--country", "ZZ", db=w.db, why="country: not an ISO 3166-1")


@test
def the_json_api_takes_each_parameter_once(w):
    """As every other query of the API: a parameter given twice is 400
    "NAME: given twice" (before, the last one won silently: lang=th&lang=ar
    searched Arabic), and limit is digits only."""
    c = w.client("ana")
    for params in ([("lang", "th"), ("lang", "ar")], [("q", "ครู"), ("q", "bench")],
                   [("facets", "1"), ("facets", "0")], [("limit", "5"), ("limit", "7")],
                   [("topic", "grooming"), ("topic", "privacy")]):
        r = c.get("/api/v1/library/search", params, accept="application/json")
        assert r.status == 400, (params, r.status, r.body[:200])
        assert r.json()["description"] == params[0][0] + ": given twice", r.json()
    for v in ("+5", " 5", "5x", "0", "1001"):
        r = c.get("/api/v1/library/search", [("limit", v)], accept="application/json")
        assert r.status == 400 and r.json()["description"] == "limit: 1 to 1000", (v, r.body)
    status, got = api(w, "ana", limit="1", facets="1")
    assert status == 200 and len(got["results"]) == 1 and got["more"], got


def export_objects(db):
    b = json.loads(ok("library", "export", db=db))
    return sorted((o for o in b["objects"] if o["type"] == "x-tix-resource"),
                  key=lambda o: o["id"])


@test
def a_pack_round_trips_and_carries_what_the_licence_allows(w):
    files = os.path.join(w.dir, "files")
    os.makedirs(files, exist_ok=True)
    for name in ("amen.pdf", "suraksha.pdf"):
        with open(os.path.join(files, name), "w") as f:
            f.write("%PDF-1.4 " + name)
    out = os.path.join(w.dir, "pack")
    said = ok("library", "pack", "--files", files, "--out", out, db=w.db)
    assert "packed %d resources and 1 file" % len(RESOURCES) in said, said
    assert os.listdir(os.path.join(out, "files")) == ["suraksha.pdf"]  # CC0, not "All rights reserved"
    db2 = os.path.join(w.dir, "school.db")
    assert "unpacked %d resources" % len(RESOURCES) in ok("library", "unpack", out, db=db2)
    assert export_objects(db2) == export_objects(w.db)
    assert titles(search(db2, "ครู")) == [RESOURCES[4]["title"]]
    # again: the same versions, nothing new
    ok("library", "unpack", out, db=db2)
    assert len(export_objects(db2)) == len(RESOURCES)
    th = os.path.join(w.dir, "pack-th")
    assert "packed 1 resource and 0 files" in ok("library", "pack", "--lang", "th", "--out", th,
                                                  db=w.db)
    with open(os.path.join(th, "index.html"), encoding="utf-8") as f:
        html = f.read()
    assert RESOURCES[4]["title"] in html and RESOURCES[0]["title"] not in html
    # a pack whose resources.json was tampered with is checked like any input
    bad = os.path.join(w.dir, "pack-bad")
    shutil.copytree(th, bad)
    with open(os.path.join(bad, "resources.json"), encoding="utf-8") as f:
        bundle = json.load(f)
    for o in bundle["objects"]:
        if o["type"] == "x-tix-resource":
            o["description"] = "<script>alert(1)</script>"
    with open(os.path.join(bad, "resources.json"), "w") as f:
        json.dump(bundle, f)
    refused("library", "unpack", bad, db=os.path.join(w.dir, "three.db"), why="HTML markup")


@test
def a_pack_writes_nothing_through_a_link(w):
    """--out over an old directory (one unpacked from elsewhere, say) whose
    index.html, resources.json or files/ are symbolic links: refused, the
    files they point to untouched; a link in --files is not carried."""
    victim = os.path.join(w.dir, "victim.txt")
    elsewhere = os.path.join(w.dir, "elsewhere")
    os.makedirs(elsewhere, exist_ok=True)
    for member in ("index.html", "resources.json"):
        with open(victim, "w") as f:
            f.write("keep me")
        out = os.path.join(w.dir, "linked-" + member)
        os.makedirs(out)
        os.symlink(victim, os.path.join(out, member))
        if member == "resources.json":  # index.html is written first: a real file here
            with open(os.path.join(out, "index.html"), "w") as f:
                f.write("old")
        refused("library", "pack", "--out", out, db=w.db, why="is a symbolic link")
        with open(victim) as f:
            assert f.read() == "keep me", member
    files = os.path.join(w.dir, "files-linked")
    os.makedirs(files)
    with open(os.path.join(files, "suraksha.pdf"), "w") as f:
        f.write("%PDF-1.4 suraksha")
    out = os.path.join(w.dir, "linked-files")
    os.makedirs(out)
    os.symlink(elsewhere, os.path.join(out, "files"))
    refused("library", "pack", "--files", files, "--out", out, db=w.db, why="is a symbolic link")
    assert os.listdir(elsewhere) == []
    # a file of --files that is a link to something else is not carried
    secret = os.path.join(w.dir, "secret.txt")
    with open(secret, "w") as f:
        f.write("not for a pack")
    os.remove(os.path.join(files, "suraksha.pdf"))
    os.symlink(secret, os.path.join(files, "suraksha.pdf"))
    out = os.path.join(w.dir, "pack-no-links")
    said = ok("library", "pack", "--files", files, "--out", out, db=w.db)
    assert "and 0 files" in said, said
    assert not os.path.exists(os.path.join(out, "files", "suraksha.pdf"))


@test
def unpack_reads_only_the_packs_own_bounded_resources_json(w):
    """A pack whose resources.json is a link (to a good bundle elsewhere, or
    to any file) or is larger than 64 MiB: refused with the reason, nothing
    written, and nothing of the linked file shown."""
    good = os.path.join(w.dir, "pack-good")
    ok("library", "pack", "--lang", "th", "--out", good, db=w.db)
    db = os.path.join(w.dir, "unpack-links.db")
    linked = os.path.join(w.dir, "pack-linked")
    os.makedirs(linked)
    os.symlink(os.path.join(good, "resources.json"), os.path.join(linked, "resources.json"))
    refused("library", "unpack", linked, db=db, why="is a symbolic link")
    secret = os.path.join(w.dir, "secret-words.txt")
    with open(secret, "w") as f:
        f.write("hunter2 is the password\n")
    linked2 = os.path.join(w.dir, "pack-linked2")
    os.makedirs(linked2)
    os.symlink(secret, os.path.join(linked2, "resources.json"))
    said = refused("library", "unpack", linked2, db=db, why="is a symbolic link")
    assert "hunter2" not in said, said
    big = os.path.join(w.dir, "pack-big")
    os.makedirs(big)
    with open(os.path.join(big, "resources.json"), "wb") as f:
        f.truncate((64 << 20) + 1)
    refused("library", "unpack", big, db=db, why="larger than 64 MiB")
    assert "0 resources" in ok("library", "list", db=db)
    assert "unpacked 1 resource" in ok("library", "unpack", good, db=db)


@test
def a_write_naming_one_resource_twice_is_refused(w):
    """A pack whose resources.json holds one id twice (the second changed),
    or a CSV with two rows of one URL: refused, naming both, nothing
    written (before, the second was silently dropped and the count lied)."""
    good = os.path.join(w.dir, "pack-dup-src")
    ok("library", "pack", "--lang", "th", "--out", good, db=w.db)
    with open(os.path.join(good, "resources.json"), encoding="utf-8") as f:
        bundle = json.load(f)
    res = [o for o in bundle["objects"] if o["type"] == "x-tix-resource"]
    again = dict(res[0], title="Another title under the same id")
    bundle["objects"].append(again)
    dup = os.path.join(w.dir, "pack-dup")
    os.makedirs(dup)
    with open(os.path.join(dup, "resources.json"), "w", encoding="utf-8") as f:
        json.dump(bundle, f)
    db = os.path.join(w.dir, "dup.db")
    refused("library", "unpack", dup, db=db, why="resource 2: the same id as resource 1")
    assert "0 resources" in ok("library", "list", db=db)
    path = os.path.join(w.dir, "dup.csv")
    write_csv(path, [
        {"title": "One", "url": "https://one.example/", "inLanguage": "en"},
        {"title": "Two", "url": "https://two.example/", "inLanguage": "en"},
        {"title": "One again", "url": "https://one.example/", "inLanguage": "fr"},
    ])
    refused("library", "import", path, db=db, why="line 4: the same resource as line 2")
    assert "0 resources" in ok("library", "list", db=db)


@test
def a_host_blocked_later_takes_its_resources_out(w):
    """tix library block HOST after resources linking to it were written:
    they leave the search (the CLI's, as the API's: one library_search) and
    the packs at once; unblocked, they come back (before, only new writes
    were checked). Its own store: the world's counts stay as they are."""
    db = os.path.join(w.dir, "block-later.db")
    rid = ok("library", "add", "--title", "Zanzibar helpline leaflet", "--url",
             "https://leaflets.later-bad.example/z", "--lang", "sw", db=db).split()[0]
    ok("library", "add", "--title", "Zanzibar school guide", "--url",
       "https://good.example/z", "--lang", "sw", db=db)
    assert len(search(db, "zanzibar")["results"]) == 2
    ok("library", "block", "later-bad.example", db=db)
    assert titles(search(db, "zanzibar")) == ["Zanzibar school guide"]
    out = os.path.join(w.dir, "pack-after-block")
    assert "packed 1 resource" in ok("library", "pack", "--lang", "sw", "--out", out, db=db)
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        assert "later-bad.example" not in f.read()
    ok("library", "unblock", "later-bad.example", db=db)
    assert rid in [r["id"] for r in search(db, "zanzibar")["results"]]
    assert len(search(db, "zanzibar")["results"]) == 2


def ensure_playwright():
    if not os.path.exists(os.path.join(ROOT, "node_modules", "playwright-core", "package.json")):
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                           cwd=ROOT, capture_output=True, timeout=600)
        assert r.returncode == 0, "npm ci: %s" % r.stderr.decode(errors="replace")[-2000:]


@test
def the_offline_pack_searches_in_chromium_with_the_network_off(w):
    assert os.path.exists(CHROMIUM), "no %s (sh tools/deps.sh test installs chromium)" % CHROMIUM
    ensure_playwright()
    out = os.path.join(w.dir, "pack-browser")
    ok("library", "pack", "--out", out, db=w.db)
    words = [[word, r["title"]] for r in RESOURCES for word in r["find"]]
    words.append(["proteccion línea", RESOURCES[0]["title"]])
    world = {"chromium": CHROMIUM, "index": os.path.join(out, "index.html"), "words": words,
             "total": len(RESOURCES), "literal": "1 < 2 & 3 > 2"}
    path = os.path.join(w.dir, "browser.json")
    with open(path, "w") as f:
        json.dump(world, f)
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "e2e", "library_browser.js"), path],
                       cwd=ROOT, capture_output=True, timeout=300)
    text = r.stdout.decode(errors="replace")
    print(text, end="")
    fails = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert r.returncode == 0 and not fails and text.count("ok ") >= len(words) + 3, (
        fails, r.stderr.decode(errors="replace")[-2000:])


@test
def resources_that_come_over_taxii_are_found_when_they_pass_the_checks(w):
    """TAXII is the route sync and peers use: a resource stored that way is
    indexed at the next search, unless it fails a resource's checks."""
    ext = {"extension-definition--06277f08-518c-5d26-ba8f-bc645a41e1b6":
           {"extension_type": "new-sdo"}}

    def resource(n, **fields):
        o = {"type": "x-tix-resource", "spec_version": "2.1",
             "id": "x-tix-resource--00000000-0000-4000-8000-00000000000%d" % n,
             "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
             "object_marking_refs": [GREEN], "extensions": ext}
        o.update(fields)
        return o
    ok("library", "block", "peer-blocked.example", db=w.db)
    objs = [resource(1, title="Kujilinda mtandaoni: mwongozo wa walimu", in_language=["sw"]),
            resource(2, title="Mwongozo hatari", description="<script>alert(1)</script>"),
            resource(3, title="Mwongozo mbaya", url="https://x.peer-blocked.example/")]
    r = w.client("carl").post("/api1/collections/%s/objects/" % w.cid, {"objects": objs})
    assert r.status == 202 and r.json()["success_count"] == 3, (r.status, r.body)
    status, got = api(w, "ana", q="mwongozo")
    assert status == 200 and titles(got) == ["Kujilinda mtandaoni: mwongozo wa walimu"], got
    assert titles(search(w.db, "mwongozo")) == ["Kujilinda mtandaoni: mwongozo wa walimu"]


@test
def the_console_page_searches_the_library(w):
    assert os.path.exists(CHROMIUM), "no %s (sh tools/deps.sh test installs chromium)" % CHROMIUM
    ensure_playwright()
    words = [[word, r["title"]] for r in RESOURCES for word in r["find"][:1]]
    if ON_PG:
        words = words[1:]  # no diacritics folded there
    edu = [r for r in RESOURCES if "educators" in r["audience"].split(";")]
    world = {"chromium": CHROMIUM, "words": words,
             "console": {"url": "http://127.0.0.1:%d" % w.server.port, "user": "dora",
                         "password": w.password, "total": len(RESOURCES) + 1,
                         "educators": len(edu)}}
    path = os.path.join(w.dir, "console.json")
    with open(path, "w") as f:
        json.dump(world, f)
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "e2e", "library_browser.js"), path],
                       cwd=ROOT, capture_output=True, timeout=300)
    text = r.stdout.decode(errors="replace")
    print(text, end="")
    fails = [line for line in text.splitlines() if line.startswith("FAIL")]
    assert r.returncode == 0 and not fails and text.count("ok ") == len(words) + 1, (
        fails, r.stderr.decode(errors="replace")[-2000:])


@test
def resources_travel_over_sync(w):
    """A ministry's node pulls the library from the CERT's over TAXII (tix
    sync): the resources it may read are found there by the same words."""
    db = os.path.join(w.dir, "ministry.db")
    ok("admin", "org", "add", "cert", "--db", db)
    out = ok("admin", "collection", "add", "library", "--db", db)
    local = re.search(r"[0-9a-f-]{36}", out).group(0)
    ok("peer", "add", "cert-node", "--url", "http://127.0.0.1:%d/taxii2/" % w.server.port,
       "--remote-collection", w.cid, "--local-collection", local, "--key-stdin",
       "--direction", "pull", "--org", "cert", "--db", db, stdin=w.keys["ana"] + "\n")
    ok("sync", "--once", "--db", db)
    for r in RESOURCES:
        word = r.get("find_pg", r["find"])[0] if ON_PG else r["find"][0]
        assert titles(search(db, word)) == [r["title"]], word
    # the GREEN bench book came too (school reads the collection)
    got = search(db, "--facets")
    assert got["facets"]["audience"].get("judges") == 1, got["facets"]


def main():
    if not os.path.exists(TIX):
        print("tix binary not found at %s (set TIX)" % TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    w = None
    try:
        w = World()
    except Exception:
        traceback.print_exc()
        print("FAIL setting up the store and server")
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        if w is None:
            failed += 1
            print("FAIL %s (no store or server)" % fn.__name__)
            continue
        try:
            fn(w)
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
        sys.stdout.flush()
    if w is not None:
        try:
            w.server.stop()
        except Exception:
            traceback.print_exc()
            failed += 1
        w.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
