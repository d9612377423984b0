#!/usr/bin/env python3
"""End-to-end tests of the `tix` command line: the official STIX validator's
verdicts, round trips, atomic imports, bad input and exit codes. They run the
real binary ($TIX) on temporary stores; Python's standard library only."""

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TIX = os.path.abspath(os.environ.get("TIX", os.path.join(ROOT, "build", "tix")))
SHARED = os.environ.get("TIX_SHARED", os.path.join(ROOT, "..", "shared"))
CORPUS = os.path.join(SHARED, "corpora", "stix")
SAMPLE = os.path.join(ROOT, "data", "sample.json")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Env:
    """A temporary directory with a store in it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-cli-")
        self.db = os.path.join(self.dir, "var", "tix.db")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, content):
        p = self.path(name)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(p, mode) as f:
            f.write(content if isinstance(content, (str, bytes)) else json.dumps(content))
        return p

    def tix(self, *args, stdin=None, db=True):
        cmd = [TIX] + list(args[:1]) + (["--db", self.db] if db and args else []) + list(args[1:])
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)

    def objects(self, *extra):
        r = self.tix("export", "--all-versions", *extra)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["objects"]

    def snapshot(self):
        """Everything a user could observe about the store."""
        if not os.path.exists(self.db):
            return None
        con = sqlite3.connect(self.db)
        try:
            rows = con.execute("SELECT id, modified, date_added, body FROM objects ORDER BY vid").fetchall()
            members = con.execute("SELECT * FROM collection_objects ORDER BY date_added").fetchall()
            colls = con.execute("SELECT id, title FROM collections ORDER BY id").fetchall()
        finally:
            con.close()
        return rows, members, colls

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def canon(objs):
    return sorted(json.dumps(o, sort_keys=True, separators=(",", ":")) for o in objs)


def ident(n, **extra):
    o = {
        "type": "identity", "spec_version": "2.1",
        "id": "identity--%08d-1111-4111-8111-111111111111" % n,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "Org %d" % n, "identity_class": "organization",
    }
    o.update(extra)
    return o


def bundle(objs):
    return {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs}


# ---- the official validator's verdicts ------------------------------------

@test
def manifest_documents_match_the_validator(env):
    with open(os.path.join(CORPUS, "manifest.jsonl")) as f:
        cases = [json.loads(l) for l in f]
    assert len(cases) == 18
    for c in cases:
        e = Env()
        try:
            r = e.tix("import", "--quiet", os.path.join(CORPUS, c["file"]))
            assert r.returncode in (0, 1), (c["file"], r.returncode, r.stderr)
            got = r.returncode == 0
            assert got == c["validator_default"], (c["file"], r.stderr.decode()[:500])
            if not got:
                assert e.snapshot() == ([], [], []), "a rejected file left objects behind"
        finally:
            e.close()


@test
def inline_objects_agree_with_the_validator(env):
    """Every disagreement must be one of those explained in
    docs/conformance.md (tests/cli/conformance_known.json lists them)."""
    with open(os.path.join(CORPUS, "validator_inline_v21.jsonl")) as f:
        cases = [json.loads(l) for l in f]
    with open(os.path.join(HERE, "conformance_known.json")) as f:
        known = {int(k): v for k, v in json.load(f).items()}
    agree, unexpected, fixed = 0, [], []
    for i, c in enumerate(cases):
        p = env.write("case.json", c["instance"])
        db = env.path("case-%d.db" % i)
        r = subprocess.run([TIX, "import", "--quiet", "--db", db, p], capture_output=True, timeout=60)
        assert r.returncode in (0, 1), (i, r.returncode, r.stderr)
        ok = (r.returncode == 0) == c["valid_default"]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        if ok:
            agree += 1
            if i in known:
                fixed.append(i)
        elif i not in known:
            unexpected.append((i, c["valid_default"], r.stderr.decode()[:300]))
    print("    inline conformance: %d of %d agree (%.1f%%), %d documented disagreements"
          % (agree, len(cases), 100.0 * agree / len(cases), len(known)))
    assert not unexpected, "disagreements not in docs/conformance.md: %r" % unexpected
    assert not fixed, "now agreeing, remove from conformance_known.json and the docs: %r" % fixed


# ---- round trips and idempotence ----------------------------------------------

@test
def sample_imports_and_round_trips_byte_for_byte(env):
    r = env.tix("import", SAMPLE)
    assert r.returncode == 0, r.stderr
    with open(SAMPLE) as f:
        original = json.load(f)["objects"]
    first = env.objects()
    assert canon(first) == canon(original)
    p = env.write("export.json", env.tix("export", "--all-versions").stdout)
    e2 = Env()
    try:
        r = e2.tix("import", p)
        assert r.returncode == 0, r.stderr
        assert canon(e2.objects()) == canon(first)
    finally:
        e2.close()


@test
def reimporting_the_same_file_changes_nothing(env):
    assert env.tix("import", "--collection", "c1", SAMPLE).returncode == 0
    before = env.snapshot()
    r = env.tix("import", "--collection", "c1", SAMPLE)
    assert r.returncode == 0, r.stderr
    assert b"0 added" in r.stderr, r.stderr
    assert env.snapshot() == before


@test
def versions_are_kept_and_latest_is_default(env):
    v1 = ident(1)
    v2 = ident(1, modified="2024-02-01T00:00:00.000Z", name="Org 1 renamed")
    assert env.tix("import", env.write("b.json", bundle([v2, v1]))).returncode == 0
    r = env.tix("get", v1["id"])
    assert r.returncode == 0 and json.loads(r.stdout)["name"] == "Org 1 renamed"
    r = env.tix("get", "--all-versions", v1["id"])
    lines = r.stdout.decode().strip().split("\n")
    assert len(lines) == 2
    assert len(env.objects()) == 2
    assert len(json.loads(env.tix("export").stdout)["objects"]) == 1
    # the same instant written with another precision is the same version
    v1b = dict(v1, modified="2024-01-01T00:00:00Z", created="2024-01-01T00:00:00Z")
    r = env.tix("import", env.write("c.json", bundle([dict(v1, modified="2024-01-01T00:00:00.000000Z")])))
    assert r.returncode == 0 and b"1 unchanged" in r.stderr, r.stderr
    del v1b


@test
def same_objects_in_other_bytes_or_collections(env):
    objs = [ident(1), ident(2)]
    assert env.tix("import", env.write("compact.json", bundle(objs))).returncode == 0
    before = env.snapshot()
    # the same objects written differently are recognised as stored
    pretty = env.write("pretty.json", json.dumps(bundle(objs), indent=4))
    r = env.tix("import", pretty)
    assert r.returncode == 0 and b"2 unchanged" in r.stderr, r.stderr
    assert env.snapshot()[0] == before[0]
    # bytes seen before still join a collection they are not in yet
    r = env.tix("import", "--collection", "later", env.write("again.json", bundle(objs)))
    assert r.returncode == 0 and b"2 added" in r.stderr, r.stderr
    assert len(env.objects("--collection", "later")) == 2
    # known bytes do not excuse an invalid neighbour
    bad = dict(ident(3), created="yesterday")
    r = env.tix("import", env.write("mixed.json", bundle(objs + [bad])))
    assert r.returncode == 1 and b"objects[2].created" in r.stderr, r.stderr


@test
def options_may_follow_the_arguments(env):
    p = env.write("a.json", bundle([ident(1)]))
    r = subprocess.run([TIX, "import", p, "--db", env.db], capture_output=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([TIX, "get", ident(1)["id"], "--all-versions", "--db", env.db], capture_output=True)
    assert r.returncode == 0 and json.loads(r.stdout)["name"] == "Org 1", r.stderr


@test
def sco_without_id_gets_the_deterministic_id(env):
    obj = {"type": "ipv4-addr", "value": "198.51.100.3"}
    assert env.tix("import", env.write("a.json", [obj])).returncode == 0
    r = env.tix("get", "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["value"] == "198.51.100.3"


@test
def export_filters_by_type_time_and_collection(env):
    assert env.tix("import", "--collection", "first", env.write("a.json", bundle([ident(1), ident(2)]))).returncode == 0
    mid = json.loads(env.tix("stats", "--json").stdout)
    assert mid["objects"] == 2
    con = sqlite3.connect(env.db)
    (last_us,) = con.execute("SELECT max(date_added) FROM objects").fetchone()
    con.close()
    import datetime
    ts = datetime.datetime.fromtimestamp(last_us / 1e6, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ind = {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000001-2222-4222-8222-222222222222",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
           "valid_from": "2024-01-01T00:00:00Z"}
    assert env.tix("import", "--collection", "second", env.write("b.json", [ind])).returncode == 0
    assert [o["id"] for o in env.objects("--type", "indicator")] == [ind["id"]]
    assert len(env.objects("--type", "indicator", "--type", "identity")) == 3
    assert [o["id"] for o in env.objects("--added-after", ts)] == [ind["id"]]
    assert len(env.objects("--collection", "first")) == 2
    assert [o["id"] for o in env.objects("--collection", "second")] == [ind["id"]]
    r = env.tix("export", "--collection", "no-such-collection")
    assert r.returncode == 1 and b"no such collection" in r.stderr


@test
def stdin_is_read_with_dash(env):
    r = env.tix("import", "-", stdin=json.dumps(bundle([ident(3)])).encode())
    assert r.returncode == 0, r.stderr
    assert env.tix("get", ident(3)["id"]).returncode == 0


# ---- atomicity and bad input --------------------------------------------------

@test
def one_invalid_object_rejects_the_whole_file(env):
    assert env.tix("import", env.write("ok.json", bundle([ident(9)]))).returncode == 0
    before = env.snapshot()
    bad = ident(5)
    bad["created"] = "2024-02-30T00:00:00.000Z"
    objs = [ident(1), ident(2), bad, ident(3)]
    r = env.tix("import", env.write("b.json", bundle(objs)))
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "objects[2].created" in err and "day out of range" in err, err
    assert "nothing from this file was stored" in err
    assert env.snapshot() == before


@test
def skip_invalid_keeps_the_valid_part_and_writes_rejects(env):
    bad = ident(5)
    del bad["name"]
    objs = [ident(1), bad, ident(3)]
    rejects = env.path("rejects.jsonl")
    r = env.tix("import", "--skip-invalid", "--rejects", rejects, env.write("b.json", bundle(objs)))
    assert r.returncode == 0, r.stderr
    assert len(env.objects()) == 2
    with open(rejects) as f:
        lines = [json.loads(l) for l in f]
    assert len(lines) == 1 and lines[0]["path"] == "objects[1]"
    assert any("objects[1].name" in e for e in lines[0]["errors"]), lines


@test
def bad_input_gets_a_clear_error_and_leaves_the_store_alone(env):
    assert env.tix("import", env.write("ok.json", bundle([ident(9)]))).returncode == 0
    before = env.snapshot()
    deep = {"type": "x-deep", "spec_version": "2.1", "id": "x-deep--00000001-3333-4333-8333-333333333333",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z"}
    nested = "x"
    for _ in range(70):
        nested = [nested]
    deep["x_nested"] = nested
    unknown = dict(ident(4), type="my-thing", id="my-thing--00000001-1111-4111-8111-111111111111")
    cases = [
        ("malformed.json", '{"type": "bundle",\n "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",\n "objects": [{"a": 1,,}]}', 1, "malformed.json:3:"),
        ("dupkeys.json", '{"type":"identity","type":"identity"}', 1, "duplicate"),
        ("utf8.json", b'{"type": "identity", "name": "\xff\xfe"}', 1, "UTF-8"),
        ("types.json", json.dumps(dict(ident(4), revoked="yes")), 1, "revoked: must be true or false"),
        ("deep.json", json.dumps(deep), 1, "nested deeper than 64"),
        ("unknown.json", json.dumps(unknown), 1, "not a STIX 2.1 type"),
        ("empty.json", "", 1, "empty document"),
        ("scalar.json", "42", 1, "expected a STIX bundle"),
        ("trailing.json", json.dumps(bundle([ident(4)])) + " {}", 1, "end of file expected"),
        ("notobject.json", json.dumps(bundle([ident(4), 7])), 1, "objects[1]: not a JSON object"),
        ("tlp2.json", json.dumps({"type": "marking-definition", "spec_version": "2.1",
                                  "id": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
                                  "created": "2022-10-01T00:00:00.000Z", "name": "TLP:RED",
                                  "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
                                                 {"extension_type": "property-extension", "tlp_2_0": "green"}}}),
         1, "exactly as the TLP 2.0 extension defines it"),
    ]
    for name, content, code, needle in cases:
        r = env.tix("import", env.write(name, content))
        assert r.returncode == code, (name, r.returncode, r.stderr)
        assert needle.encode() in r.stderr, (name, r.stderr)
        assert env.snapshot() == before, name
    r = env.tix("import", "--max-size", "100", SAMPLE)
    assert r.returncode == 1 and b"over the limit" in r.stderr, r.stderr
    r = env.tix("import", "--max-size", "100", "-", stdin=open(SAMPLE, "rb").read())
    assert r.returncode == 1 and b"over the limit" in r.stderr, r.stderr
    r = env.tix("import", env.path("missing.json"))
    assert r.returncode == 3 and b"cannot open" in r.stderr, r.stderr
    assert env.snapshot() == before


@test
def a_good_file_after_a_bad_one_is_still_stored(env):
    bad = env.write("bad.json", "{")
    good = env.write("good.json", bundle([ident(1)]))
    r = env.tix("import", bad, good)
    assert r.returncode == 1
    assert env.tix("get", ident(1)["id"]).returncode == 0


@test
def a_killed_import_leaves_all_or_nothing(env):
    """kill -9 in the middle of an import: the store passes SQLite's
    integrity check and holds what was committed before, plus either all of
    the interrupted file or none of it."""
    import random
    import time
    first = env.write("first.json", bundle([ident(1), ident(2)]))
    assert env.tix("import", first).returncode == 0
    big = env.write("big.json", bundle([ident(1000 + i) for i in range(40000)]))
    rng = random.Random(7)
    outcomes = set()
    for _ in range(4):
        p = subprocess.Popen([TIX, "import", "--quiet", "--db", env.db, big],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        p.kill()
        p.wait()
        con = sqlite3.connect(env.db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            (n,) = con.execute("SELECT count(*) FROM objects").fetchone()
        finally:
            con.close()
        assert n in (2, 40002), n
        outcomes.add(n)
        if n == 40002:  # it finished before the kill: start again from the first file
            os.unlink(env.db)
            for suffix in ("-wal", "-shm"):
                if os.path.exists(env.db + suffix):
                    os.unlink(env.db + suffix)
            assert env.tix("import", first).returncode == 0
    assert env.tix("get", ident(1)["id"]).returncode == 0
    print("    outcomes after kill -9: %s" % sorted(outcomes))


# ---- the command line -----------------------------------------------------------

@test
def exit_codes_and_help(env):
    assert subprocess.run([TIX, "--version"], capture_output=True).returncode == 0
    assert subprocess.run([TIX, "--help"], capture_output=True).returncode == 0
    assert subprocess.run([TIX], capture_output=True).returncode == 2
    assert subprocess.run([TIX, "frobnicate"], capture_output=True).returncode == 2
    for cmd in ("import", "export", "get", "stats"):
        r = subprocess.run([TIX, cmd, "--help"], capture_output=True)
        assert r.returncode == 0 and b"usage: tix " + cmd.encode() in r.stdout, cmd
        assert subprocess.run([TIX, cmd, "--no-such-option"], capture_output=True).returncode == 2, cmd
    assert env.tix("import").returncode == 2
    # An id not in the store is 1, on a store that exists (`tix admin`
    # creates it; on a missing store, get is 3: tests/e2e/test_bound.py).
    assert env.tix("admin", "org", "list").returncode == 0
    assert env.tix("get", "identity--00000001-1111-4111-8111-111111111111").returncode == 1
    assert env.tix("export", "--added-after", "yesterday").returncode == 2


@test
def workflow_verbs_take_one_operand_at_most(env):
    # `tix drill status A B` once could have meant two exercises; each of the
    # workflows' verbs takes one operand and refuses a second (exit 2, the
    # store as it was), naming the tool and the verb.
    assert env.tix("admin", "org", "list").returncode == 0
    before = env.snapshot()
    for tool, verb in (("drill", "status"), ("library", "show"), ("request", "verify")):
        r = subprocess.run([TIX, tool, verb, "--db", env.db, "a", "b"], capture_output=True, timeout=60)
        assert r.returncode == 2, (tool, r.returncode, r.stderr)
        assert ("tix %s %s: one argument at most" % (tool, verb)).encode() in r.stderr, r.stderr
    assert env.snapshot() == before


@test
def tix_db_environment_variable_is_the_default_store(env):
    db = env.path("from-env.db")
    r = subprocess.run([TIX, "import", env.write("a.json", [ident(1)])], capture_output=True,
                       env=dict(os.environ, TIX_DB=db))
    assert r.returncode == 0, r.stderr
    assert os.path.exists(db)


@test
def database_urls_create_nothing_and_never_show_the_password(env):
    # --db postgresql://… once made a folder named "postgresql:" with an
    # SQLite file in it. Now it is PostgreSQL's (tests/e2e/test_pg.py):
    # one that cannot be reached is exit 3 with libpq's message; a scheme
    # tix does not know is refused as a URL. Never a file, never the password.
    f = env.write("a.json", [ident(1)])
    for url, said in (("postgresql://analyst:s3cret-pw@127.0.0.1:1/tix", b"Connection refused"),
                      ("postgres://analyst:s3cret-pw@127.0.0.1:1/tix", b"Connection refused"),
                      ("mysql://analyst:s3cret-pw@127.0.0.1:1/tix", b"database URL")):
        for args, extra in ((["import", f], {}), (["stats"], {}),
                            (["serve", "--listen", "127.0.0.1:1"], {}), (["stats"], {"TIX_DB": url})):
            if extra:
                cmd = [TIX] + args
            else:
                cmd = [TIX, args[0], "--db", url] + args[1:]
            r = subprocess.run(cmd, capture_output=True, cwd=env.dir, timeout=30,
                               env=dict(os.environ, **extra))
            assert r.returncode == 3, (url, args, r.returncode, r.stderr)
            assert said in r.stderr, (url, args, r.stderr)
            assert b"s3cret-pw" not in r.stderr + r.stdout, r.stderr
    assert sorted(os.listdir(env.dir)) == ["a.json"], os.listdir(env.dir)


@test
def stats_counts_types_versions_and_collections(env):
    assert env.tix("import", "--collection", "feed", env.write("a.json", bundle([ident(1), ident(2), ident(1, modified="2024-03-01T00:00:00.000Z")]))).returncode == 0
    s = json.loads(env.tix("stats", "--json").stdout)
    assert s["types"]["identity"] == {"objects": 2, "versions": 3}
    assert s["collections"][0]["title"] == "feed" and s["collections"][0]["objects"] == 2
    r = env.tix("stats")
    assert r.returncode == 0 and b"identity" in r.stdout
    assert s["values_refused"] == 0
    # a value the correlation index cannot hold is counted, not silently lost
    bad = {"type": "indicator", "spec_version": "2.1",
           "id": "indicator--00000001-2222-4222-8222-222222222222",
           "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
           "pattern": "[email-addr:value = 'not an address']", "pattern_type": "stix",
           "valid_from": "2024-01-01T00:00:00Z"}
    assert env.tix("import", env.write("b.json", bundle([bad]))).returncode == 0
    assert json.loads(env.tix("stats", "--json").stdout)["values_refused"] == 1
    assert b"left out of the correlation index (malformed): 1" in env.tix("stats").stdout


# ---- tix admin: accounts, keys, collections and grants ---------------------

def _db_bytes(env):
    """Every byte of the store's files (the database, and any WAL left)."""
    data = b""
    for p in glob.glob(env.db + "*"):
        with open(p, "rb") as f:
            data += f.read()
    return data


def _admin_json(env, *args):
    r = env.tix("admin", *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@test
def admin_org_add_list_remove(env):
    assert env.tix("admin", "org", "add", "acme", "--country", "de").returncode == 0
    assert env.tix("admin", "org", "add", "--country", "FR", "gendarmerie").returncode == 0
    r = env.tix("admin", "org", "add", "acme")
    assert r.returncode == 1 and b"organisation 'acme' already exists" in r.stderr, r.stderr
    assert _admin_json(env, "org", "list") == [
        {"name": "acme", "country": "DE"}, {"name": "gendarmerie", "country": "FR"}]
    r = env.tix("admin", "org", "list")
    assert r.returncode == 0 and b"acme" in r.stdout and b"NAME" in r.stdout
    assert env.tix("admin", "org", "remove", "acme").returncode == 0
    r = env.tix("admin", "org", "remove", "acme")
    assert r.returncode == 1 and b"no organisation 'acme'" in r.stderr
    assert env.tix("admin", "org", "add", "bad,name").returncode == 1
    assert env.tix("admin", "org", "add").returncode == 2
    assert env.tix("admin", "org", "add", "x", "y").returncode == 2
    assert env.tix("admin", "org", "add", "x", "--country", "DEU").returncode == 2
    assert [o["name"] for o in _admin_json(env, "org", "list")] == ["gendarmerie"]


@test
def admin_user_add_list_remove_and_passwords_never_in_clear(env):
    password = "Tr0ub4dor-and-3-horses"
    assert env.tix("admin", "org", "add", "acme").returncode == 0
    r = env.tix("admin", "user", "add", "alice", "--org", "acme", "--role", "analyst",
                "--password-stdin", stdin=(password + "\n").encode())
    assert r.returncode == 0, r.stderr
    assert env.tix("admin", "user", "add", "sensor1", "--org", "acme", "--role", "sensor").returncode == 0
    r = env.tix("admin", "user", "add", "alice", "--org", "acme", "--role", "reader")
    assert r.returncode == 1 and b"user 'alice' already exists" in r.stderr
    r = env.tix("admin", "user", "add", "bob", "--org", "nope", "--role", "reader")
    assert r.returncode == 1 and b"no organisation 'nope'" in r.stderr
    assert env.tix("admin", "user", "add", "bob", "--org", "acme", "--role", "boss").returncode == 2
    assert env.tix("admin", "user", "add", "bob", "--org", "acme").returncode == 2
    assert env.tix("admin", "user", "add", "bob", "--role", "reader").returncode == 2
    for empty in (b"", b"\n", b"\r\n"):
        r = env.tix("admin", "user", "add", "bob", "--org", "acme", "--role", "reader",
                    "--password-stdin", stdin=empty)
        assert r.returncode == 1 and b"empty" in r.stderr, (empty, r.stderr)
    users = _admin_json(env, "user", "list")
    assert users == [
        {"name": "alice", "org": "acme", "role": "analyst", "password": True},
        {"name": "sensor1", "org": "acme", "role": "sensor", "password": False}]
    r = env.tix("admin", "user", "list")
    assert r.returncode == 0 and b"alice" in r.stdout and b"argon2" not in r.stdout
    con = sqlite3.connect(env.db)
    try:
        (h,) = con.execute("SELECT password_hash FROM users WHERE name = 'alice'").fetchone()
    finally:
        con.close()
    assert h.startswith("$argon2id$"), h
    data = _db_bytes(env)
    assert password.encode() not in data
    assert env.tix("admin", "user", "remove", "sensor1").returncode == 0
    assert env.tix("admin", "user", "remove", "sensor1").returncode == 1
    assert [u["name"] for u in _admin_json(env, "user", "list")] == ["alice"]


@test
def admin_key_is_printed_once_and_only_its_digest_stored(env):
    import hashlib
    import re
    assert env.tix("admin", "org", "add", "acme").returncode == 0
    assert env.tix("admin", "user", "add", "alice", "--org", "acme", "--role", "sensor").returncode == 0
    r = env.tix("admin", "key", "add", "--user", "alice")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert re.fullmatch(r"tix_[a-z2-7]{12}_[A-Za-z0-9_-]{43}\n", out), out
    key = out.strip()
    key_id, secret = key[4:16], key[17:]
    assert key.encode() not in r.stderr
    # Listing shows the public id, never the secret.
    r = env.tix("admin", "key", "list")
    assert r.returncode == 0 and key_id.encode() in r.stdout and secret.encode() not in r.stdout
    keys = _admin_json(env, "key", "list", "--user", "alice")
    assert [(k["key_id"], k["user"], k["last_used"]) for k in keys] == [(key_id, "alice", None)]
    # Only BLAKE2b-256 of the whole key, keyed with the node secret, is kept.
    con = sqlite3.connect(env.db)
    try:
        (digest,) = con.execute("SELECT hash FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        (node,) = con.execute("SELECT value FROM meta WHERE key = 'node_secret'").fetchone()
    finally:
        con.close()
    assert digest == hashlib.blake2b(key.encode(), key=bytes.fromhex(node), digest_size=32).digest()
    data = _db_bytes(env)
    assert key.encode() not in data and secret.encode() not in data
    # A second key is another key.
    r2 = env.tix("admin", "key", "add", "--user", "alice")
    assert r2.returncode == 0 and r2.stdout.strip() != key.encode()
    assert len(_admin_json(env, "key", "list")) == 2
    r = env.tix("admin", "key", "add", "--user", "nobody")
    assert r.returncode == 1 and b"no user 'nobody'" in r.stderr and r.stdout == b""
    assert env.tix("admin", "key", "add").returncode == 2
    assert env.tix("admin", "key", "list", "--user", "nobody").returncode == 1
    assert env.tix("admin", "key", "remove", key_id).returncode == 0
    assert env.tix("admin", "key", "remove", key_id).returncode == 1
    assert len(_admin_json(env, "key", "list")) == 1


@test
def admin_collections_and_grants(env):
    import uuid
    for o in ("acme", "police", "cert"):
        assert env.tix("admin", "org", "add", o).returncode == 0
    r = env.tix("admin", "collection", "add", "Phishing", "--read", "acme,police", "--write", "police")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.decode().strip()
    assert uuid.UUID(cid).version == 4 and r.stdout.decode() == cid + "\n"
    # Writing without reading is allowed: the lists are kept apart.
    r = env.tix("admin", "collection", "add", "Sensors", "--write", "cert", "--description", "drop box")
    assert r.returncode == 0, r.stderr
    colls = {c["title"]: c for c in _admin_json(env, "collection", "list")}
    assert colls["Phishing"]["id"] == cid
    assert (colls["Phishing"]["read"], colls["Phishing"]["write"]) == (["acme", "police"], ["police"])
    assert (colls["Sensors"]["read"], colls["Sensors"]["write"]) == ([], ["cert"])
    assert colls["Sensors"]["description"] == "drop box"
    r = env.tix("admin", "collection", "list")
    assert r.returncode == 0 and cid.encode() in r.stdout and b"acme,police" in r.stdout

    r = env.tix("admin", "collection", "add", "Phishing")
    assert r.returncode == 1 and b"collection 'Phishing' already exists" in r.stderr
    r = env.tix("admin", "collection", "add", "Other", "--read", "acme,nope")
    assert r.returncode == 1 and b"no organisation 'nope'" in r.stderr
    assert "Other" not in [c["title"] for c in _admin_json(env, "collection", "list")]
    assert env.tix("admin", "collection", "add", "Other", "--read", "acme,").returncode == 2
    assert env.tix("admin", "collection", "add").returncode == 2

    # grant: by title or id; replaces the earlier grant; --revoke takes access away.
    assert env.tix("admin", "collection", "grant", "Phishing", "--org", "acme", "--write").returncode == 0
    assert env.tix("admin", "collection", "grant", cid, "--org", "cert", "--read", "--write").returncode == 0
    assert env.tix("admin", "collection", "grant", "Phishing", "--org", "police", "--revoke").returncode == 0
    c = {c["title"]: c for c in _admin_json(env, "collection", "list")}["Phishing"]
    assert (c["read"], c["write"]) == (["cert"], ["acme", "cert"])
    assert env.tix("admin", "collection", "grant", "Nope", "--org", "acme", "--read").returncode == 1
    assert env.tix("admin", "collection", "grant", "Phishing", "--org", "nope", "--read").returncode == 1
    assert env.tix("admin", "collection", "grant", "Phishing", "--read").returncode == 2

    # remove: by title or id; the objects stay.
    assert env.tix("import", "--collection", "Phishing", env.write("a.json", [ident(1)])).returncode == 0
    assert env.tix("admin", "collection", "remove", cid).returncode == 0
    assert env.tix("admin", "collection", "remove", "Phishing").returncode == 1
    assert env.tix("admin", "collection", "remove", "Sensors").returncode == 0
    assert _admin_json(env, "collection", "list") == []
    assert len(env.objects()) == 1


@test
def admin_org_removal_takes_users_keys_and_grants(env):
    assert env.tix("admin", "org", "add", "acme").returncode == 0
    assert env.tix("admin", "org", "add", "cert").returncode == 0
    assert env.tix("admin", "user", "add", "alice", "--org", "acme", "--role", "admin").returncode == 0
    assert env.tix("admin", "user", "add", "carl", "--org", "cert", "--role", "reader").returncode == 0
    assert env.tix("admin", "key", "add", "--user", "alice").returncode == 0
    assert env.tix("admin", "collection", "add", "Feed", "--read", "acme,cert", "--write", "acme").returncode == 0
    assert env.tix("admin", "org", "remove", "acme", "--force").returncode == 0
    assert [u["name"] for u in _admin_json(env, "user", "list")] == ["carl"]
    assert _admin_json(env, "key", "list") == []
    c = _admin_json(env, "collection", "list")[0]
    assert (c["read"], c["write"]) == (["cert"], [])


@test
def admin_usage_help_and_option_order(env):
    shapes = [("org", "add"), ("org", "list"), ("org", "remove"), ("user", "add"), ("user", "list"),
              ("user", "remove"), ("user", "passwd"), ("key", "add"), ("key", "list"), ("key", "remove"),
              ("collection", "add"), ("collection", "list"), ("collection", "remove"),
              ("collection", "grant")]
    for obj, verb in shapes:
        r = subprocess.run([TIX, "admin", obj, verb, "--help"], capture_output=True)
        assert r.returncode == 0 and ("usage: tix admin %s %s" % (obj, verb)).encode() in r.stdout, (obj, verb)
        r = subprocess.run([TIX, "admin", obj, verb, "--no-such-option"], capture_output=True)
        assert r.returncode == 2, (obj, verb)
    for args in (["admin", "--help"], ["admin", "org", "--help"]):
        r = subprocess.run([TIX] + args, capture_output=True)
        assert r.returncode == 0 and b"usage: tix admin" in r.stdout, args
    for args in (["admin"], ["admin", "frob"], ["admin", "org"], ["admin", "org", "frob"]):
        assert subprocess.run([TIX] + args, capture_output=True).returncode == 2, args
    assert env.tix("admin", "org", "list", "--country", "DE").returncode == 2  # not for list
    assert env.tix("admin", "org", "list", "extra").returncode == 2
    assert env.tix("admin", "collection", "grant", "x", "--org", "a", "--read=y").returncode == 2
    # Options before, between and after the words; --db anywhere.
    db = env.path("other.db")
    r = subprocess.run([TIX, "admin", "org", "add", "--country", "se", "acme", "--db", db], capture_output=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([TIX, "admin", "--db", db, "org", "--json", "list"], capture_output=True)
    assert r.returncode == 0 and json.loads(r.stdout) == [{"name": "acme", "country": "SE"}]
    r = subprocess.run([TIX, "--help"], capture_output=True)
    assert b"admin" in r.stdout


# ---- the operator's papercuts (issue 22) -----------------------------------

def _umask_022():
    os.umask(0o022)


@test
def store_and_wal_files_are_created_0600(env):
    r = subprocess.run([TIX, "import", "--db", env.db, env.write("a.json", [ident(1)])],
                       capture_output=True, preexec_fn=_umask_022)
    assert r.returncode == 0, r.stderr
    # a second handle keeps the WAL and shared-memory files while we look
    con = sqlite3.connect(env.db)
    con.execute("SELECT count(*) FROM objects").fetchall()
    try:
        for suffix in ("", "-wal", "-shm"):
            if suffix and not os.path.exists(env.db + suffix):
                continue
            mode = os.stat(env.db + suffix).st_mode & 0o777
            assert mode == 0o600, (suffix, oct(mode))
    finally:
        con.close()
    assert os.path.exists(env.db + "-wal") or True


@test
def unknown_options_suggest_the_nearest(env):
    r = env.tix("export", "--colection", "x")
    assert r.returncode == 2 and b"did you mean --collection?" in r.stderr, r.stderr
    r = env.tix("import", "--skip-invald", "x.json")
    assert r.returncode == 2 and b"did you mean --skip-invalid?" in r.stderr, r.stderr
    r = env.tix("admin", "org", "add", "acme", "--contry", "DE")
    assert r.returncode == 2 and b"did you mean --country?" in r.stderr, r.stderr
    r = env.tix("serve", "--listn", "127.0.0.1:1")
    assert r.returncode == 2 and b"did you mean --listen?" in r.stderr, r.stderr
    r = env.tix("export", "--zzzzzzzz")
    assert r.returncode == 2 and b"unknown option '--zzzzzzzz'" in r.stderr
    assert b"did you mean" not in r.stderr
    r = env.tix("export", "--type")
    assert r.returncode == 2 and b"--type needs a value" in r.stderr, r.stderr


@test
def org_remove_refuses_without_force_and_says_what_would_go(env):
    for args in (("org", "add", "acme"), ("user", "add", "alice", "--org", "acme", "--role", "analyst"),
                 ("key", "add", "--user", "alice"),
                 ("collection", "add", "Feed", "--read", "acme"), ("org", "add", "empty")):
        assert env.tix("admin", *args).returncode == 0, args
    r = env.tix("admin", "org", "remove", "acme")
    assert r.returncode == 1, r.stderr
    err = r.stderr.decode()
    assert "1 user, 1 API key and 1 collection grant" in err and "user alice" in err, err
    assert "grant on collection Feed (read)" in err and "--force" in err, err
    assert [u["name"] for u in _admin_json(env, "user", "list")] == ["alice"]
    assert len(_admin_json(env, "key", "list")) == 1
    # an organisation with nothing attached goes without --force
    assert env.tix("admin", "org", "remove", "empty").returncode == 0
    assert env.tix("admin", "org", "remove", "acme", "--force").returncode == 0
    assert _admin_json(env, "user", "list") == [] and _admin_json(env, "key", "list") == []
    assert [o["name"] for o in _admin_json(env, "org", "list")] == []


@test
def group_member_add_refuses_an_unknown_organisation(env):
    assert env.tix("admin", "org", "add", "bank-a").returncode == 0
    assert env.tix("admin", "group", "add", "banks").returncode == 0
    r = env.tix("admin", "group", "member-add", "banks", "--org", "bank-b")
    assert r.returncode == 1 and b"no organisation 'bank-b'" in r.stderr and b"--remote" in r.stderr
    assert env.tix("admin", "group", "member-add", "banks", "--org", "bank-a").returncode == 0
    assert env.tix("admin", "group", "member-add", "banks", "--remote", "--org", "bank-b@hub").returncode == 0
    assert _admin_json(env, "group", "list") == [{"name": "banks", "members": ["bank-a", "bank-b@hub"]}]


@test
def collection_grant_without_read_write_or_revoke_is_a_usage_error(env):
    assert env.tix("admin", "org", "add", "police").returncode == 0
    assert env.tix("admin", "collection", "add", "Feed", "--read", "police").returncode == 0
    r = env.tix("admin", "collection", "grant", "Feed", "--org", "police")
    assert r.returncode == 2 and b"--revoke" in r.stderr, r.stderr
    c = _admin_json(env, "collection", "list")[0]
    assert c["read"] == ["police"], c   # nothing was taken away
    assert env.tix("admin", "collection", "grant", "Feed", "--org", "police", "--revoke", "--read").returncode == 2
    assert env.tix("admin", "collection", "grant", "Feed", "--org", "police", "--revoke").returncode == 0
    assert _admin_json(env, "collection", "list")[0]["read"] == []


@test
def user_passwd_sets_a_new_password(env):
    assert env.tix("admin", "org", "add", "acme").returncode == 0
    assert env.tix("admin", "user", "add", "alice", "--org", "acme", "--role", "analyst",
                   "--password-stdin", stdin=b"first password\n").returncode == 0
    def stored():
        con = sqlite3.connect(env.db)
        try:
            return con.execute("SELECT password_hash FROM users WHERE name='alice'").fetchone()[0]
        finally:
            con.close()
    before = stored()
    r = env.tix("admin", "user", "passwd", "alice", "--password-stdin", stdin=b"second password\n")
    assert r.returncode == 0, r.stderr
    after = stored()
    assert after.startswith("$argon2id$") and after != before
    assert b"second password" not in open(env.db, "rb").read()
    assert env.tix("admin", "user", "passwd", "alice").returncode == 2            # --password-stdin required
    assert env.tix("admin", "user", "passwd", "bob", "--password-stdin", stdin=b"x\n").returncode == 1
    assert env.tix("admin", "user", "passwd", "alice", "--password-stdin", stdin=b"\n").returncode == 1
    assert stored() == after
    out = env.tix("audit", "show", "--json").stdout.decode()
    assert "tix admin user passwd alice" in out and "second password" not in out


@test
def serve_help_is_correct_and_complete(env):
    r = subprocess.run([TIX, "serve", "--help"], capture_output=True)
    assert r.returncode == 0
    text = r.stdout.decode()
    synopsis = text.split("\n\n")[0]
    import re
    # every option serve accepts is in the synopsis and described
    for opt in ("--listen", "--db", "--config", "--tls-cert", "--tls-key", "--threads", "--max-body",
                "--max-connections", "--idle-timeout", "--access-log", "--insecure-http", "--cache",
                "--default-tlp", "--anonymous-read", "--sync", "--insecure-no-policy", "--check"):
        assert opt in synopsis, opt
        assert re.search(r"^  (--[a-z-]+/)?" + re.escape(opt) + r"[ /]", text, re.M), opt
    # the node-set syntax it points at is the real one
    assert "tix admin node set default-tlp" not in text
    for cmd in re.findall(r"`(tix admin node set [^`]*)`", text.replace("\n", " ")):
        words = re.sub(r"\s+", " ", cmd).split()
        args = [w for w in words[4:] if not w.isupper()]
        opts = [w for w in args if w.startswith("--")]
        for o in opts:
            assert o in ("--default-tlp", "--anonymous-read"), cmd


@test
def match_exits_3_on_a_file_that_cannot_be_opened(env):
    _match_setup(env)
    r = env.tix("match", env.path("no-such.log"))
    assert r.returncode == 3, (r.returncode, r.stderr)
    os.mkdir(env.path("adir"))
    lp = env.write("ok.log", "nothing here\n")
    assert env.tix("match", lp).returncode == 1
    assert env.tix("match", lp, env.path("no-such.log")).returncode == 3


@test
def export_of_an_unknown_type_is_a_usage_error(env):
    custom = {"type": "x-acme-widget", "spec_version": "2.1", "id": "x-acme-widget--6b0e4b35-0bd7-4c35-9a8a-4b1d6c8e7a11",
              "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z"}
    assert env.tix("import", env.write("a.json", [ident(1), custom])).returncode == 0
    r = env.tix("export", "--type", "indicatr")
    assert r.returncode == 2 and b"did you mean indicator?" in r.stderr and r.stdout == b"", r.stderr
    r = env.tix("export", "--type", "identity", "--type", "x-acme-widget")
    assert r.returncode == 0 and len(json.loads(r.stdout)["objects"]) == 2
    r = env.tix("export", "--type", "indicator")   # a STIX type with nothing stored: empty, fine
    assert r.returncode == 0 and json.loads(r.stdout).get("objects", []) == []


@test
def audit_show_json_gives_objects_as_an_array(env):
    assert env.tix("import", env.write("a.json", [ident(1), ident(2)])).returncode == 0
    rows = [json.loads(l) for l in env.tix("audit", "show", "--json").stdout.splitlines()]
    assert rows and all(isinstance(r["objects"], list) for r in rows), rows
    write = [r for r in rows if r["action"] == "write"][0]
    assert sorted(write["objects"]) == sorted([ident(1)["id"], ident(2)["id"]])


class part_size:
    """TIX_AUDIT_PART_IDS for the commands run inside: a small audit part
    (20,000 ids in use) makes an export of several parts need few objects."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        os.environ["TIX_AUDIT_PART_IDS"] = str(self.n)

    def __exit__(self, *exc):
        os.environ.pop("TIX_AUDIT_PART_IDS", None)


def export_entries(env):
    rows = [json.loads(l) for l in env.tix("audit", "show", "--json").stdout.splitlines()]
    return [r for r in rows if r["action"] == "export"]


@test
def a_large_export_is_audited_in_parts_without_holding_every_id(env):
    # Parts of 100 ids (20,000 in use): 250 exported ids are three entries,
    # each chained, and "who has seen" finds every exported id in its part.
    objs = [indicator(n, "[ipv4-addr:value = '10.0.%d.%d']" % (n >> 8 & 255, n & 255))
            for n in range(1, 251)]
    assert env.tix("import", "--quiet", env.write("big.json", bundle(objs))).returncode == 0
    with part_size(100):
        r = env.tix("export")
        assert r.returncode == 0, r.stderr
        exported = [o["id"] for o in json.loads(r.stdout)["objects"]]
        assert len(exported) == 250
        parts = export_entries(env)
        assert [p["detail"] for p in parts] == ["tix export (part %d of 3)" % i for i in (1, 2, 3)], parts
        assert [len(p["objects"]) for p in parts] == [100, 100, 50]
        assert [i for p in parts for i in p["objects"]] == exported, "every id once, in order"
        for i, oid in enumerate(exported):
            seen = [json.loads(l) for l in
                    env.tix("audit", "show", "--object", oid, "--json").stdout.splitlines()]
            assert [e["detail"] for e in seen if e["action"] == "export"] == \
                ["tix export (part %d of 3)" % (i // 100 + 1)], (oid, seen)
        # a feed written to a file: its indicators' parts, then the file
        out = env.path("rules")
        r = env.tix("export", "--format", "suricata", "--output", out)
        assert r.returncode == 0, r.stderr
        assert os.path.exists(out)
        feed = [p for p in export_entries(env) if "--format suricata" in p["detail"]]
        assert len(feed) == 3 and [i for p in feed for i in p["objects"]] == exported
    assert b"intact" in env.tix("audit", "verify").stdout


@test
def an_export_whose_audit_cannot_be_written_fails_and_claims_nothing(env):
    objs = [indicator(n, "[ipv4-addr:value = '10.1.0.%d']" % n) for n in range(1, 31)]
    assert env.tix("import", "--quiet", env.write("some.json", bundle(objs))).returncode == 0
    con = sqlite3.connect(env.db)
    # the third part's entry cannot be written (the first two could)
    con.execute("CREATE TRIGGER no_room BEFORE INSERT ON audit WHEN NEW.detail LIKE"
                " '%(part 3 of %' BEGIN SELECT RAISE(ABORT, 'no room left'); END")
    con.commit()
    con.close()
    with part_size(10):
        r = env.tix("export")
        assert r.returncode != 0 and b"audit log" in r.stderr, r.stderr
        out = env.path("feed.txt")
        r = env.tix("export", "--format", "list", "--output", out)
        assert r.returncode != 0 and b"no room left" in r.stderr, r.stderr
        assert not os.path.exists(out), "a feed file whose reads are not recorded"
        assert not [f for f in os.listdir(env.dir) if f.startswith("feed.txt")]
    assert export_entries(env) == [], "no part of a failed audit stays"
    assert b"intact" in env.tix("audit", "verify").stdout
    con = sqlite3.connect(env.db)
    con.execute("DROP TRIGGER no_room")
    con.commit()
    con.close()
    with part_size(10):
        assert env.tix("export").returncode == 0
    assert len(export_entries(env)) == 3
    assert b"intact" in env.tix("audit", "verify").stdout


@test
def cli_imports_are_in_the_audit_log(env):
    p = env.write("feed.json", [ident(1)])
    r = subprocess.run([TIX, "import", "--db", env.db, "--collection", "Feed", "--org", "cert", p],
                       capture_output=True, env=dict(os.environ, USER="operator-olga"))
    assert r.returncode == 0, r.stderr
    # nothing new: no entry (the same organisation: the id is cert's)
    assert env.tix("import", "--collection", "Feed", "--org", "cert", p).returncode == 0
    bad = env.write("bad.json", [ident(2), dict(ident(3), created="yesterday")])
    assert env.tix("import", bad).returncode == 1  # nothing stored: no entry
    rows = [json.loads(l) for l in env.tix("audit", "show", "--json").stdout.splitlines()]
    writes = [r for r in rows if r["action"] == "write"]
    assert len(writes) == 1, rows
    w = writes[0]
    assert w["actor"] == "operator-olga" and w["org"] == "cert" and w["objects"] == [ident(1)["id"]]
    assert "tix import" in w["detail"] and "--collection Feed" in w["detail"], w
    assert [r["action"] for r in json.loads("[" + ",".join(
        l.decode() for l in env.tix("audit", "show", "--object", ident(1)["id"], "--json").stdout.splitlines()) + "]")][:1] == ["write"]
    assert b"intact" in env.tix("audit", "verify").stdout


@test
def readme_admin_example_runs_as_written(env):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split("Accounts, keys and who may")[1].split("```sh")[1].split("```")[0]
    ran = 0
    for line in block.splitlines():
        line = line.split("#")[0].strip()
        for cmd in (c.strip() for c in line.split(";")):
            if not cmd.startswith("tix admin ") or "|" in cmd or "[" in cmd:
                continue
            stdin = None
            if "<" in cmd:
                cmd, _ = cmd.split("<", 1)
                stdin = b"a long enough password\n"
            r = env.tix(*cmd.split()[1:], stdin=stdin)
            assert r.returncode == 0, (cmd, r.stderr)
            ran += 1
    assert ran >= 10, ran
    c = _admin_json(env, "collection", "list")[0]
    assert "police" in c["read"] and "police" in c["write"], c


def _free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _make_run(env, port, timeout=60):
    """tools/run.sh as `make run PORT=...` runs it; returns (exit code or None while
    serving, output). A server it started is stopped."""
    import time
    p = subprocess.Popen(["sh", os.path.join(ROOT, "tools", "run.sh")], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, TIX=TIX, DB=env.db, PORT=str(port), LISTEN=""))
    out = b""
    deadline = time.monotonic() + timeout
    import select
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return p.wait(timeout=60), out.decode()
            out += chunk
            if b"TAXII 2.1 at" in out:
                break
    if p.poll() is None:
        p.terminate()
        rest = p.communicate(timeout=60)[0]
        return None, (out + rest).decode()
    return p.wait(), (out + p.stdout.read()).decode()


@test
def make_run_checks_the_port_and_keeps_one_admin_key(env):
    import socket
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        rc, out = _make_run(env, busy.getsockname()[1])
    finally:
        busy.close()
    assert rc == 1 and "PORT=" in out and "Address already in use" in out, out
    assert "tix_" not in out and not os.path.exists(env.db), out   # nothing minted
    port = _free_port()
    rc, out = _make_run(env, port)
    assert rc is None and "127.0.0.1:%d" % port in out, out
    first = [k["key_id"] for k in _admin_json(env, "key", "list", "--user", "admin")]
    assert len(first) == 1
    rc, out = _make_run(env, _free_port())
    assert rc is None and "revoked the previous run's admin key " + first[0] in out, out
    second = [k["key_id"] for k in _admin_json(env, "key", "list", "--user", "admin")]
    assert len(second) == 1 and second != first
    with open(os.path.join(ROOT, "README.md")) as f:
        assert "make run PORT=" in f.read()


# ---- tix.conf and `tix config check` (issue 22) ----------------------------

@test
def config_check_accepts_the_example_and_prints_the_effective_settings(env):
    example = os.path.join(ROOT, "docs", "tix.conf.example")
    r = subprocess.run([TIX, "config", "check", "--config", example], capture_output=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "path = /var/lib/tix/tix.db" in out and "tix.conf.example:" in out, out
    assert "max-body = 16M" in out and "# default" in out, out
    # every setting of the table is shown, and documented in tix.conf(5)
    man = open(os.path.join(ROOT, "docs", "man", "tix.conf.5.scd")).read()
    for key in ("path", "listen", "tls-cert", "tls-key", "insecure-http", "threads", "max-body",
                "max-connections", "idle-timeout", "cache", "access-log", "sync", "title",
                "description", "contact", "page-size", "page-max", "insecure-no-policy",
                "default-tlp", "anonymous-read"):
        assert ("\n%s = " % key in out) or ("# %s =" % key in out), key
        assert "*%s*" % key in man, key


@test
def config_check_refuses_bad_files_with_file_line_and_reason(env):
    cases = [
        ("[serve]\nthreds = 4\n", 2, "unknown key 'threds' in [serve]; did you mean 'threads'?"),
        ("[serve]\nthreads = many\n", 2, "threads is a whole number"),
        ("[serve]\nmax-body = 0\n", 2, "max-body is a size"),
        ("[serve]\nlisten = 8600\n", 2, "listen is HOST:PORT"),
        ("[policy]\ndefault-tlp = amberr\n", 2, "default-tlp is clear, green"),
        ("[policy]\nanonymous-read = maybe\n", 2, "anonymous-read is true or false"),
        ("[serve]\nsync = on\nsync = off\n", 3, "sync is set twice: also at line 2"),
        ("\n[polcy]\nx = 1\n", 2, "unknown section [polcy] (did you mean [policy]?)"),
        ("[serve]\ntls-cert = /x.pem\n", 2, "tls-cert is set but tls-key is not"),
        ("[serve]\npage-size = 50\npage-max = 10\n", 2, "page-size 50 is larger than page-max 10"),
        ("[serve]\nlisten = 0.0.0.0:8600\ninsecure-no-policy = true\n", 3, "loopback"),
        ("[peer hub]\nkey = tix_abc\n", 2, "credentials are not kept in the configuration"),
        ("[peer hub]\nurl = ftp://hub\n", 2, "url is an http:// or https:// URL"),
        ("[peer hub]\ndirection = sideways\n", 2, "direction is pull, push or both"),
        ("[peer hub]\n[peer hub]\n", 2, "[peer hub] again: it began at line 1"),
        ("[peer]\n", 1, "[peer NAME] needs the peer's name"),
        ("[serve]\njust words\n", 2, "expected 'key = value'"),
        ("[serve]\ntitle = \"open\n", 2, "quote is not closed"),
    ]
    for text, line, reason in cases:
        p = env.write("bad.conf", text)
        r = subprocess.run([TIX, "config", "check", "--config", p], capture_output=True)
        err = r.stderr.decode()
        assert r.returncode == 1, (text, r.returncode, err)
        assert "%s:%d: " % (p, line) in err and reason in err, (text, err)
        assert r.stdout == b"", text
        # the server refuses it too, before it listens or opens the store
        s = subprocess.run([TIX, "serve", "--config", p, "--db", env.db, "--listen", "127.0.0.1:1"],
                           capture_output=True, timeout=60)
        assert s.returncode == 2 and reason in s.stderr.decode(), (text, s.stderr)
        assert not os.path.exists(env.db)
    p = env.write("nul.conf", b"[serve]\x00\n")
    assert subprocess.run([TIX, "config", "check", "--config", p], capture_output=True).returncode == 1
    r = subprocess.run([TIX, "config", "check", "--config", env.path("missing.conf")], capture_output=True)
    assert r.returncode == 3 and b"cannot open" in r.stderr


@test
def config_names_the_store_for_every_command(env):
    db = env.path("from-config.db")
    conf = env.write("tix.conf", "[store]\npath = %s\n" % db)
    cfg_env = dict(os.environ, TIX_CONFIG=conf)
    cfg_env.pop("TIX_DB", None)
    p = env.write("a.json", [ident(1)])
    r = subprocess.run([TIX, "import", p], capture_output=True, env=cfg_env)
    assert r.returncode == 0 and os.path.exists(db), r.stderr
    r = subprocess.run([TIX, "export"], capture_output=True, env=cfg_env)
    assert len(json.loads(r.stdout)["objects"]) == 1
    # --db and $TIX_DB still win
    r = subprocess.run([TIX, "import", "--db", env.db, p], capture_output=True, env=cfg_env)
    assert r.returncode == 0 and os.path.exists(env.db)
    r = subprocess.run([TIX, "stats", "--json", "--db", env.db], capture_output=True, env=cfg_env)
    assert r.returncode == 0 and json.loads(r.stdout)["objects"] == 1, r.stdout
    # a refused configuration is never replaced by another store
    bad = env.write("bad.conf", "[store]\npaht = /tmp/x\n")
    os.mkdir(env.path("cwd"))
    r = subprocess.run([TIX, "stats"], capture_output=True, cwd=env.path("cwd"),
                       env=dict(cfg_env, TIX_CONFIG=bad))
    assert r.returncode == 2 and b"did you mean 'path'" in r.stderr, r.stderr
    assert os.listdir(env.path("cwd")) == []


@test
def config_check_reads_the_flat_format_of_serve_config(env):
    p = env.write("flat.conf", "# old style\nlisten = 127.0.0.1:9999\ndb = /srv/tix.db\n"
                               "default-tlp = green\npage-size = 7\n")
    r = subprocess.run([TIX, "config", "check", "--config", p], capture_output=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    for line in ("path = /srv/tix.db", "listen = 127.0.0.1:9999", "default-tlp = green", "page-size = 7"):
        assert line in out, (line, out)


@test
def config_peer_sections_replace_the_stored_settings_but_not_the_key(env):
    assert env.tix("admin", "collection", "add", "feed").returncode == 0
    r = subprocess.run([TIX, "peer", "add", "hub", "--url", "http://127.0.0.1:1/taxii2/", "--remote-collection",
                        "r", "--local-collection", "feed", "--key-stdin", "--direction", "pull", "--db", env.db],
                       input=b"tix_secret_key\n", capture_output=True)
    assert r.returncode == 0, r.stderr
    conf = env.write("tix.conf", "[peer hub]\ndirection = push\ninterval = 77\norg = regional-hub\n"
                                 "limit-rate = 64K\nurl = http://127.0.0.1:2/taxii2/\n\n"
                                 "[peer ghost]\ninterval = 5\n")
    r = subprocess.run([TIX, "sync", "--once", "--attempts", "1", "--db", env.db], capture_output=True,
                       timeout=120, env=dict(os.environ, TIX_CONFIG=conf))
    assert b"[peer ghost] is not in the store" in r.stderr and b"tix.conf:9" in r.stderr, r.stderr
    assert b"127.0.0.1 port 2" in r.stderr   # the run used the configured URL
    p = _json_of(subprocess.run([TIX, "peer", "list", "--json", "--db", env.db], capture_output=True))[0]
    assert (p["direction"], p["interval"], p["org"], p["limit_rate"], p["url"]) == \
        ("push", 77, "regional-hub", 65536, "http://127.0.0.1:2/taxii2/"), p
    assert p["has_secret"] and p["remote_collection"] == "r"   # the rest is as stored
    assert b"tix_secret_key" not in r.stderr + r.stdout


def _json_of(r):
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@test
def man_pages_document_every_command_and_option(env):
    import re
    man = {n: open(os.path.join(ROOT, "docs", "man", n + ".scd")).read()
           for n in ("tix.1", "tix-serve.8", "tix.conf.5")}
    top = subprocess.run([TIX, "--help"], capture_output=True).stdout.decode()
    commands = re.findall(r"^  ([a-z][a-z-]*) ", top, re.M)
    assert len(commands) >= 15, commands
    for cmd in commands:
        assert "\n## %s\n" % cmd in man["tix.1"], "tix(1) has no section for %s" % cmd
        help_text = subprocess.run([TIX, cmd, "--help"], capture_output=True).stdout.decode()
        page = man["tix-serve.8"] if cmd == "serve" else man["tix.1"]
        for opt in set(re.findall(r"(--[a-z][a-z0-9-]*)", help_text)) - {"--help"}:
            assert re.search(r"\*[^*\n]*%s(?![a-z-])[^*\n]*\*" % re.escape(opt), page), \
                "%s: %s is not in the man page" % (cmd, opt)
    admin = subprocess.run([TIX, "admin", "--help"], capture_output=True).stdout.decode()
    for obj, verb in re.findall(r"tix admin ([a-z]+) ([a-z-]+)", admin):
        assert re.search(r"\*%s %s\*" % (obj, verb), man["tix.1"]) or \
            "*%s %s* " % (obj, verb) in man["tix.1"] or \
            ("*%s %s*" % (obj, verb)) in man["tix.1"].replace(", *", " *"), (obj, verb)
    # the build turned them into roff (beside the binary; under qemu,
    # TIX is the wrapper and TIX_ARM64 the arm64 build's binary)
    built = os.path.join(os.path.dirname(os.environ.get("TIX_ARM64") or TIX), "man")
    if shutil.which("scdoc"):
        for n in man:
            with open(os.path.join(built, n)) as f:
                assert f.read().startswith(".\\\" Generated by scdoc"), n


@test
def make_install_puts_everything_under_destdir(env):
    if not os.path.exists(os.path.join(ROOT, "build", "CMakeCache.txt")):
        return  # `make test` builds it first
    dest = env.path("root")
    def install():
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "install", "DESTDIR=" + dest,
                            "PREFIX=/usr", "JOBS=2"], capture_output=True, timeout=900)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    install()
    for p in ("usr/bin/tix", "usr/share/man/man1/tix.1", "usr/share/man/man8/tix-serve.8",
              "usr/share/man/man5/tix.conf.5", "usr/lib/systemd/system/tix.service",
              "usr/lib/sysusers.d/tix.conf", "usr/lib/tmpfiles.d/tix.conf",
              "usr/share/doc/tix/tix.conf.example", "etc/tix/tix.conf"):
        assert os.path.exists(os.path.join(dest, p)), p
    conf = os.path.join(dest, "etc/tix/tix.conf")
    r = subprocess.run([os.path.join(dest, "usr/bin/tix"), "config", "check", "--config", conf],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    # an operator's configuration is never overwritten
    with open(conf, "a") as f:
        f.write("\n# mine\n")
    install()
    assert open(conf).read().endswith("# mine\n")
    unit = open(os.path.join(dest, "usr/lib/systemd/system/tix.service")).read()
    for line in ("StateDirectory=tix", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "RestrictAddressFamilies=", "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n",
                 "User=tix"):
        assert line in unit, line


# ---- STIX patterns (`tix pattern`, and patterns on import) -------------------

PATTERNS = os.path.join(SHARED, "corpora", "patterns", "validity.jsonl")


def _observed(oid, first, refs=None, objects=None, n=1, last=None):
    o = {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--%s" % oid,
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "first_observed": first, "last_observed": last or first, "number_observed": n}
    if refs is not None:
        o["object_refs"] = refs
    if objects is not None:
        o["objects"] = objects
    return o


def _indicator(n, pattern, **extra):
    o = {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--%08d-2222-4222-8222-222222222222" % n,
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
    o.update(extra)
    return o


@test
def pattern_check_points_at_the_column(env):
    r = env.tix("pattern", "check", "[ipv4-addr:value = '198.51.100.1']", db=False)
    assert r.returncode == 0 and b"valid STIX 2.1 pattern" in r.stdout, r.stderr
    r = env.tix("pattern", "check", "[file:size = ]", db=False)
    assert r.returncode == 1
    lines = r.stderr.decode().split("\n")
    assert lines[0] == "tix pattern: column 14: expected a constant after '=', found ']'", lines
    assert lines[1] == "  [file:size = ]" and lines[2] == "  " + " " * 13 + "^", lines
    # the column counts characters, not bytes
    r = env.tix("pattern", "check", "[file:name = 'caf\u00e9' AND file:size = ]", db=False)
    lines = r.stderr.decode().split("\n")
    assert r.returncode == 1 and lines[2].index("^") == lines[1].index("]"), lines
    for pattern, needle in [
        ("[file:name = 'unterminated]", "unterminated string"),
        ("[file:created = t'2024-13-01T00:00:00Z']", "month must be 01 to 12"),
        ("[file:magic_number_hex = h'abc']", "even number of hex digits"),
        ("[artifact:payload_bin = b'====']", "not a binary constant"),
        ("[file:name MATCHES '(']", "does not compile"),
        ("[file:hashes.MD5 = 'f00']", "not a valid MD5 hash"),
        ("[file:name = 'a'] within 5 seconds", "keywords are written in capitals"),
        ("(" * 10000 + "[file:name = 'a']" + ")" * 10000, "nested deeper than 64"),
    ]:
        r = env.tix("pattern", "check", pattern, db=False)
        assert r.returncode == 1 and needle.encode() in r.stderr, (pattern[:60], r.stderr[:300])
    # a pattern too long for the command line comes on standard input
    r = env.tix("pattern", "check", "-", db=False, stdin=b"[a:b = 1]" + b" " * (1 << 20))
    assert r.returncode == 1 and b"more than the limit" in r.stderr, r.stderr[:200]
    r = env.tix("pattern", "check", "--quiet", "-", db=False, stdin=b"[file:name = 'a']\n")
    assert r.returncode == 0 and r.stdout == b"", r.stderr
    # names are checked as import checks them, unless --syntax-only
    r = env.tix("pattern", "check", "[ab:name = 'a']", db=False)
    assert r.returncode == 1 and b"'ab' is not a valid observable type name" in r.stderr
    assert env.tix("pattern", "check", "--syntax-only", "[ab:name = 'a']", db=False).returncode == 0
    r = env.tix("pattern", "check", "[foo:name = 'a']", db=False)
    assert r.returncode == 0 and b"warning: custom observable type 'foo'" in r.stderr, r.stderr
    # the 2.0 grammar differs slightly
    dup = "[file:name = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES"
    assert env.tix("pattern", "check", dup, db=False).returncode == 1
    assert env.tix("pattern", "check", "--stix-version", "2.0", dup, db=False).returncode == 0
    assert env.tix("pattern", "check", "--stix-version", "2.2", dup, db=False).returncode == 2
    # usage
    for args in (["pattern"], ["pattern", "check"], ["pattern", "frob", "x"],
                 ["pattern", "match", "[a:b = 1]"], ["pattern", "check", "--nope", "x"]):
        assert subprocess.run([TIX] + args, capture_output=True).returncode == 2, args
    r = subprocess.run([TIX, "pattern", "--help"], capture_output=True)
    assert r.returncode == 0 and b"usage: tix pattern check" in r.stdout
    assert b"pattern" in subprocess.run([TIX, "--help"], capture_output=True).stdout


@test
def pattern_corpus_through_the_command_line(env):
    """The validator's cases, through `tix pattern check --syntax-only`
    (the grammar and constants; the unit test checks the columns)."""
    with open(PATTERNS) as f:
        rows = [json.loads(l) for l in f]
    agree = {"2.0": [0, 0], "2.1": [0, 0]}
    for row in rows:
        r = env.tix("pattern", "check", "--syntax-only", "--quiet", "--stix-version",
                    row["stix_version"], row["pattern"], db=False)
        assert r.returncode in (0, 1), (row, r.stderr)
        a = agree[row["stix_version"]]
        a[1] += 1
        if (r.returncode == 0) == row["valid"]:
            a[0] += 1
        else:
            print("    disagree: %r: %s" % (row, r.stderr.decode()))
    print("    pattern corpus: STIX 2.1 %d of %d agree, STIX 2.0 %d of %d"
          % (agree["2.1"][0], agree["2.1"][1], agree["2.0"][0], agree["2.0"][1]))
    assert agree["2.1"][0] == agree["2.1"][1] and agree["2.0"][0] == agree["2.0"][1]


@test
def pattern_explain_shows_the_tree_and_atoms(env):
    r = env.tix("pattern", "explain",
                "([ipv4-addr:value='198.51.100.1' OR ipv4-addr:value ISSUBSET '203.0.113.0/24'] "
                "FOLLOWEDBY [file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']) WITHIN 60 SECONDS",
                db=False)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("([ipv4-addr:value = '198.51.100.1' OR "), out
    assert "WITHIN 60 SECONDS\n    FOLLOWEDBY" in out, out
    assert "atoms: 3, not simple" in out, out
    assert "#2 file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' (string)" in out, out
    r = env.tix("pattern", "explain", "[ipv4-addr:value = '198.51.100.1'] OR [url:value = 'x']",
                db=False)
    assert r.returncode == 0 and b"atoms: 2, simple" in r.stdout, r.stdout
    assert env.tix("pattern", "explain", "[a:b =]", db=False).returncode == 1


@test
def pattern_match_exit_codes_like_grep(env):
    objs = [
        _observed("00000000-0000-4000-8000-000000000001", "2024-01-01T00:00:00Z",
                  refs=["ipv4-addr--00000000-0000-4000-8000-0000000000a1",
                        "network-traffic--00000000-0000-4000-8000-0000000000a2"]),
        {"type": "ipv4-addr", "spec_version": "2.1",
         "id": "ipv4-addr--00000000-0000-4000-8000-0000000000a1", "value": "198.51.100.7"},
        {"type": "network-traffic", "spec_version": "2.1",
         "id": "network-traffic--00000000-0000-4000-8000-0000000000a2",
         "dst_ref": "ipv4-addr--00000000-0000-4000-8000-0000000000a1", "protocols": ["tcp"]},
        _observed("00000000-0000-4000-8000-000000000002", "2024-01-01T00:05:00Z",
                  refs=["file--00000000-0000-4000-8000-0000000000b1"]),
        {"type": "file", "spec_version": "2.1", "id": "file--00000000-0000-4000-8000-0000000000b1",
         "name": "invoice.exe", "size": 4096},
    ]
    data = env.write("data.json", bundle(objs))
    r = env.tix("pattern", "match", "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24'] "
                "FOLLOWEDBY [file:name LIKE '%.exe']", data, db=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split("\n")[1:3] == [
        "  observation expression #1: observed-data--00000000-0000-4000-8000-000000000001",
        "  observation expression #2: observed-data--00000000-0000-4000-8000-000000000002"], r.stdout
    r = env.tix("pattern", "match", "[file:name LIKE '%.exe'] FOLLOWEDBY [ipv4-addr:value = "
                "'198.51.100.7']", data, db=False)
    assert r.returncode == 1 and b"no match" in r.stdout, (r.returncode, r.stderr)
    r = env.tix("pattern", "match", "([ipv4-addr:value = '198.51.100.7'] AND [file:size > 1000]) "
                "WITHIN 300 SECONDS", data, db=False)
    assert r.returncode == 1, r.stderr
    r = env.tix("pattern", "match", "([ipv4-addr:value = '198.51.100.7'] AND [file:size > 1000]) "
                "WITHIN 301 SECONDS", data, db=False)
    assert r.returncode == 0, r.stderr
    # 2.0 style: embedded objects, in a JSON array of observed-data, read from stdin
    old = [_observed("00000000-0000-4000-8000-000000000003", "2016-01-01T00:00:00Z", n=3,
                     objects={"0": {"type": "domain-name", "value": "example.com",
                                    "resolves_to_refs": ["1"]},
                              "1": {"type": "ipv4-addr", "value": "203.0.113.5"}})]
    r = env.tix("pattern", "match", "--stix-version", "2.0",
                "[domain-name:resolves_to_refs[*].value = '203.0.113.5'] REPEATS 3 TIMES", "-",
                db=False, stdin=json.dumps(old).encode())
    assert r.returncode == 0 and r.stdout.count(b"observed-data--") == 3, (r.stdout, r.stderr)
    # invalid pattern or data: 2
    assert env.tix("pattern", "match", "[a:b = ]", data, db=False).returncode == 2
    assert env.tix("pattern", "match", "[a:b = 1]", env.write("bad.json", "{\"type\": "),
                   db=False).returncode == 2
    assert env.tix("pattern", "match", "[a:b = 1]", env.path("missing.json"), db=False).returncode == 2
    bad = [_observed("00000000-0000-4000-8000-000000000004", "2024-01-01T00:00:00Z", objects={}, n=0)]
    r = env.tix("pattern", "match", "[a:b = 1]", env.write("bad2.json", bad), db=False)
    assert r.returncode == 2 and b"number_observed" in r.stderr, r.stderr
    # a runaway regular expression is stopped, not waited for
    slow = [_observed("00000000-0000-4000-8000-000000000005", "2024-01-01T00:00:00Z",
                      objects={"0": {"type": "x-s", "v": "a" * 20000 + "!"}})]
    r = env.tix("pattern", "match", "[x-s:v MATCHES '^(a|aa)+$']", env.write("slow.json", slow),
                db=False)
    assert r.returncode == 1 and b"stopped at the PCRE2 limits" in r.stderr, r.stderr


@test
def import_checks_indicator_patterns(env):
    good = _indicator(1, "[ipv4-addr:value = '198.51.100.1']")
    custom = _indicator(2, "[x-acme-sensor:x_acme_alert_id = 7]")
    sigma = _indicator(3, "title: not a STIX pattern", pattern_type="sigma")
    old = _indicator(4, "[file:name = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES", pattern_version="2.0")
    r = env.tix("import", env.write("ok.json", bundle([good, custom, sigma, old])))
    assert r.returncode == 0, r.stderr
    before = env.snapshot()
    for i, (pattern, needle) in enumerate([
        ("[ipv4-addr:value = ]", "objects[0].pattern: column 20: expected a constant after '='"),
        ("[ab:name = 'x']", "'ab' is not a valid observable type name"),
        ("[file:n = 'x']", "'n' is not a valid observable property name"),
        ("[file:name = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES", "a second REPEATS qualifier"),
        ("[file:hashes.'SHA-256' = 'f00']", "not a valid SHA-256 hash"),
    ]):
        r = env.tix("import", env.write("bad%d.json" % i, bundle([_indicator(10 + i, pattern)])))
        assert r.returncode == 1 and needle.encode() in r.stderr, (pattern, r.stderr)
        assert env.snapshot() == before

# ---- tix match: indicators against logs --------------------------------------

WARNINGLISTS = os.path.join(SHARED, "corpora", "warninglists")


def indicator(n, pattern, **extra):
    o = {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--%08d-0000-4000-8000-000000000000" % n,
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "ind %d" % n, "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    o.update(extra)
    return o


MATCH_INDICATORS = [
    indicator(1, "[ipv4-addr:value = '72.191.13.1']",
              object_marking_refs=["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]),
    indicator(2, "[domain-name:value = 'evil.example']"),
    indicator(3, "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
    indicator(4, "[url:value = 'http://bad.example/dl.php?id=7']"),
    indicator(5, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    indicator(6, "[ipv6-addr:value = '2001:db8::bad']"),
    indicator(7, "[email-addr:value = 'ceo@phish.example']"),
    indicator(8, "[domain-name:value = 'wild.example' OR domain-name:value LIKE '%.wild.example']"),
    indicator(9, "[ipv4-addr:value = '8.8.8.8']"),  # on the public-dns-v4 warninglist
    indicator(10, "[ipv4-addr:value = '192.0.2.99']", revoked=True),
    indicator(11, "[ipv4-addr:value = '192.0.2.98']", valid_until="2025-01-01T00:00:00Z"),
]


def _match_setup(env):
    r = env.tix("import", env.write("ind.json", bundle(MATCH_INDICATORS)))
    assert r.returncode == 0, r.stderr


def _matches(r):
    return [json.loads(l) for l in r.stdout.decode().splitlines()]


def _generated_log(seed_lines=3000):
    """A log with planted hits (line number -> value) among noise and near misses."""
    import random
    rnd = random.Random(5)
    lines, planted = [], {}
    hits = ["72.191.13.1", "evil.example", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "http://bad.example/dl.php?id=7", "198.51.100.200", "2001:db8::bad", "ceo@phish.example",
            "cdn.wild.example"]
    misses = ["172.191.13.123", "72.191.13.10", "72.191.13.1.4", "notevil.example", "evil.example.org",
              "a.evil.example", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8551",
              "http://bad.example/dl.php?id=77", "198.51.101.1", "2001:db8::bade", "xceo@phish.example.net",
              "192.0.2.99", "192.0.2.98"]
    for i in range(1, seed_lines + 1):
        roll = rnd.random()
        if roll < 0.01:
            v = rnd.choice(hits)
            planted[i] = v
        elif roll < 0.05:
            v = rnd.choice(misses)
        else:
            v = "host%d.example.com" % rnd.randrange(100000)
        lines.append("%d.%03d 10.0.%d.%d GET %s 200 %d" % (1700000000 + i, i % 1000, i % 256,
                                                          rnd.randrange(1, 255), v, rnd.randrange(9999)))
    return "\n".join(lines) + "\n", planted


@test
def match_finds_planted_hits_and_nothing_else(env):
    _match_setup(env)
    log, planted = _generated_log()
    r = env.tix("match", env.write("proxy.log", log))
    assert r.returncode == 0, r.stderr
    got = {m["line"]: m["value"] for m in _matches(r)}
    assert got == planted, (sorted(set(got.items()) ^ set(planted.items())))[:10]
    m = [m for m in _matches(r) if m["value"] == "72.191.13.1"][0]
    assert m["indicator"] == "indicator--00000001-0000-4000-8000-000000000000"
    assert m["name"] == "ind 1" and m["tlp"] == "green" and m["source"].endswith("proxy.log")
    off = m["offset"]
    assert log.encode()[off:off + len("72.191.13.1")] == b"72.191.13.1"
    assert b"11 indicators read" in r.stderr and b"2 inactive" in r.stderr, r.stderr
    assert ("matches on %d lines" % len(planted)).encode() in r.stderr
    # --subdomains: a.evil.example now matches evil.example too
    r2 = env.tix("match", "--subdomains", "--quiet", env.path("proxy.log"))
    extra = log.count(" a.evil.example ")
    assert ("matches on %d lines" % (len(planted) + extra)).encode() in r2.stderr, r2.stderr
    # the same on two threads, and through stdin
    r3 = env.tix("match", "--threads", "2", env.path("proxy.log"))
    assert r3.stdout == r.stdout
    r4 = env.tix("match", "-", stdin=log.encode())
    assert {m["line"]: m["value"] for m in _matches(r4)} == planted
    assert _matches(r4)[0]["source"] == "<stdin>"


@test
def match_reads_json_lines_zeek_and_gzip(env):
    import gzip
    _match_setup(env)
    eve = "\n".join(json.dumps(o) for o in [
        {"event_type": "dns", "src_ip": "10.0.0.1", "dest_ip": "10.0.0.53", "dns": {"rrname": "Evil.Example"}},
        {"event_type": "alert", "src_ip": "172.191.13.123", "dest_ip": "72.191.13.1"},
        {"event_type": "fileinfo", "fileinfo": {"sha256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}},
    ]) + "\n"
    r = env.tix("match", "--format", "jsonl", env.write("eve.json", eve))
    assert r.returncode == 0, r.stderr
    assert [(m["line"], m["field"], m["value"]) for m in _matches(r)] == [
        (1, "dns.rrname", "evil.example"), (2, "dest_ip", "72.191.13.1"),
        (3, "fileinfo.sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    zeek = ("#separator \\x09\n#set_separator\t,\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\n"
            "#types\ttime\tstring\taddr\taddr\tstring\n"
            "1.0\tC1\t10.0.0.1\t198.51.100.7\t-\n"
            "2.0\tC2\t10.0.0.1\t10.0.0.53\tx.wild.example\n"
            "3.0\tC3\t10.0.0.1\t10.0.0.53\tnotwild.example\n")
    r = env.tix("match", env.write("dns.log", zeek))
    assert [(m["line"], m["field"], m["value"]) for m in _matches(r)] == [
        (5, "id.resp_h", "198.51.100.7"), (6, "query", "x.wild.example")], r.stdout
    with gzip.open(env.path("old.log.gz"), "wt") as f:
        f.write("a 2001:DB8:0::BAD b\nc ceo@Phish.Example d\n")
    r = env.tix("match", env.path("old.log.gz"))
    assert [(m["line"], m["value"]) for m in _matches(r)] == [(1, "2001:db8::bad"), (2, "ceo@phish.example")]
    # a glob the shell did not expand
    r = env.tix("match", "--quiet", os.path.join(env.dir, "*.log*"))
    assert r.returncode == 0 and b"2 files" in r.stderr, r.stderr
    # nothing matched: 1; a missing file: 3 (as for every command)
    assert env.tix("match", env.write("clean.log", "nothing 172.191.13.123 here\n")).returncode == 1
    r = env.tix("match", env.path("no-such.log"))
    assert r.returncode == 3 and b"no-such.log" in r.stderr


@test
def match_bad_input_is_counted_not_fatal(env):
    import gzip
    _match_setup(env)
    junk = bytes(range(256)) * 64 + b"\n72.191.13.1 ok\n" + b"x" * (3 << 20) + b" 72.191.13.1\n" \
        + b"bad \xff\xfe 72.191.13.1\n" + b"nul \x00 72.191.13.1\n" + b"last 72.191.13.1"
    r = env.tix("match", env.write("junk.log", junk))
    assert r.returncode == 0, r.stderr
    assert [m["line"] for m in _matches(r)] == [66, 70], r.stdout
    assert b"1 lines over the line limit" in r.stderr and b"invalid UTF-8" in r.stderr, r.stderr
    data = gzip.compress(b"72.191.13.1\n" * 10000)
    r = env.tix("match", "--quiet", env.write("cut.gz", data[:len(data) // 2]))
    assert r.returncode in (0, 1) and b"truncated gzip" in r.stderr, r.stderr
    r = env.tix("match", "--format", "xml", env.path("junk.log"))
    assert r.returncode == 2


@test
def match_index_file_serves_without_a_database(env):
    _match_setup(env)
    log, planted = _generated_log(500)
    lp = env.write("p.log", log)
    r = env.tix("match", "--index-out", env.path("ind.tix"))
    assert r.returncode == 0 and os.path.getsize(env.path("ind.tix")) > 0, r.stderr
    r1 = env.tix("match", lp)
    r2 = env.tix("match", "--index", env.path("ind.tix"), lp, db=False)
    assert r2.returncode == 0 and r2.stdout == r1.stdout, r2.stderr
    data = open(env.path("ind.tix"), "rb").read()
    for bad in (data[:100], b"TIXMIDX\0" + b"\xff" * 200, data[:-8], b""):
        r = env.tix("match", "--index", env.write("bad.tix", bad), lp, db=False)
        assert r.returncode == 2 and b"corrupt index" in r.stderr, r.stderr
    r = env.tix("match", "--index", env.path("ind.tix"), "--warninglists", WARNINGLISTS, lp, db=False)
    assert r.returncode == 2


@test
def match_sightings_are_stored_once_per_indicator(env):
    _match_setup(env)
    log = "a 72.191.13.1\nb 72.191.13.1 evil.example\nc 198.51.100.1\n"
    r = env.tix("match", "--sightings", "--sensor", "ministry-proxy", env.write("s.log", log))
    assert r.returncode == 0 and b"3 sightings recorded" in r.stderr, r.stderr
    objs = env.objects()
    sightings = [o for o in objs if o["type"] == "sighting"]
    idents = [o for o in objs if o["type"] == "identity" and o["name"] == "ministry-proxy"]
    assert len(idents) == 1
    counts = {s["sighting_of_ref"]: s["count"] for s in sightings}
    assert counts == {"indicator--00000001-0000-4000-8000-000000000000": 2,
                      "indicator--00000002-0000-4000-8000-000000000000": 1,
                      "indicator--00000005-0000-4000-8000-000000000000": 1}
    for s in sightings:
        assert s["where_sighted_refs"] == [idents[0]["id"]] and s["first_seen"] <= s["last_seen"]
    r = env.tix("get", sightings[0]["id"])
    assert r.returncode == 0 and b"sighting" in r.stdout
    # a second run over the same lines reuses the identity and changes nothing
    r = env.tix("match", "--sightings", "--sensor", "ministry-proxy", env.path("s.log"))
    assert r.returncode == 0 and b"0 sightings recorded" in r.stderr, r.stderr
    objs = env.objects()
    assert len([o for o in objs if o["type"] == "identity" and o["name"] == "ministry-proxy"]) == 1
    again = [o for o in objs if o["type"] == "sighting"]
    assert sorted(map(json.dumps, again)) == sorted(map(json.dumps, sightings))


@test
def match_warninglists_flag_and_suppress(env):
    _match_setup(env)
    lp = env.write("w.log", "dns 8.8.8.8\n")
    assert env.tix("match", lp).returncode == 0
    r = env.tix("match", "--warninglists", WARNINGLISTS, "--list-flagged", lp)
    assert r.returncode == 1 and r.stdout == b"", r.stdout
    assert b"3 flagged by warninglists" in r.stderr and b"1 suppressed" in r.stderr, r.stderr
    assert b"indicator--00000009-0000-4000-8000-000000000000 (ind 9) on warninglist" in r.stderr
    r = env.tix("match", "--warninglists", os.path.join(WARNINGLISTS, "public-dns-v4", "list.json"),
                "--no-warninglists", lp)
    assert r.returncode == 0 and _matches(r)[0]["warninglist"].startswith("List of known IPv4 public DNS"), r.stdout
    r = env.tix("import", "--warninglists", WARNINGLISTS, env.write("again.json", bundle([
        indicator(12, "[domain-name:value = 'google.com']"), indicator(13, "[domain-name:value = 'evil.example']")])))
    assert r.returncode == 0, r.stderr
    assert b"indicator--00000012-0000-4000-8000-000000000000" in r.stderr and b"warninglist" in r.stderr
    assert b"indicator--00000013" not in r.stderr
    r = env.tix("match", "--warninglists", env.write("notalist.json", {"x": 1}), lp)
    assert r.returncode == 2 and b"not a MISP warninglist" in r.stderr



@test
def match_follow_reads_a_growing_log_across_rotation(env):
    import time
    _match_setup(env)
    lp = env.write("f.log", "start 10.0.0.1\n")
    p = subprocess.Popen([TIX, "match", "--db", env.db, "--follow", lp], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)
        with open(lp, "a") as f:
            f.write("hit 72.191.13.1\n")
        time.sleep(1.0)
        os.rename(lp, lp + ".1")
        with open(lp, "w") as f:
            f.write("after rotation evil.example\n")
        time.sleep(1.5)
    finally:
        p.terminate()
        out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    got = [(m["line"], m["value"]) for m in (json.loads(l) for l in out.decode().splitlines())]
    assert got == [(2, "72.191.13.1"), (1, "evil.example")], (got, err)
    assert b"2 matches on 2 lines" in err, err


@test
def match_threads_keep_order_and_bounded_memory(env):
    _match_setup(env)
    # 9 MB (threads are used from 8 MB), a match on every 3rd line
    lines = []
    for i in range(200000):
        lines.append("%d GET http://host%d.example.com/a %s" % (i, i, "72.191.13.1" if i % 3 == 0 else "10.1.1.1"))
    lp = env.write("big.log", "\n".join(lines) + "\n")
    one = env.tix("match", "--threads", "1", lp)
    assert one.returncode == 0 and len(one.stdout.splitlines()) == 66667, one.stderr
    two = env.tix("match", "--threads", "2", lp)
    assert two.stdout == one.stdout
    # the second part's buffer limited to 4 KB: it stops, and is finished after the first
    r = subprocess.run([TIX, "match", "--db", env.db, "--threads", "2", lp], capture_output=True,
                       timeout=300, env=dict(os.environ, TIX_MATCH_PART_BUFFER="4096"))
    assert r.stdout == one.stdout
    assert b"66667 matches on 66667 lines" in r.stderr and b"200000 lines" in r.stderr, r.stderr

# ---- other formats: MISP, CSV, lists (docs/formats.md) ----------------------

MISP_CORPUS = os.path.join(SHARED, "corpora", "misp")
ORG = {"name": "CERT-Тест", "uuid": "a0c22599-9e58-4da4-96ac-7051603fa951"}


def _pattern_set(p):
    return sorted(p.strip("[]").split(" AND "))


def _misp_key(o):
    # The corpus was converted by a MISP that gave relationships random ids;
    # today's converter (and tix) derive them, so they are compared by ends.
    if o["type"] == "relationship":
        return ("relationship", o["source_ref"], o["relationship_type"], o["target_ref"])
    return o["id"]


@test
def misp_corpus_maps_as_misps_own_stix_export(env):
    fields = ("type", "spec_version", "created", "modified", "created_by_ref", "name", "value",
              "hashes", "number", "labels", "kill_chain_phases", "description", "context",
              "first_observed", "last_observed", "number_observed", "valid_from", "from_ref",
              "to_refs", "subject", "message_id", "resolves_to_refs", "parent_directory_ref",
              "path", "size", "user_id", "credential", "src_ref", "dst_ref", "identity_class")
    for name in ("events", "attributes", "objects"):
        e = Env()
        try:
            for n in (1, 2):
                r = e.tix("import", "--format", "misp",
                          os.path.join(MISP_CORPUS, "test_%s_collection_%d.json" % (name, n)))
                assert r.returncode == 0, r.stderr
            mine = {_misp_key(o): o for o in e.objects()}
            with open(os.path.join(MISP_CORPUS, "test_%s_collection_stix21.json" % name)) as f:
                theirs = {_misp_key(o): o for o in json.load(f)["objects"]}
            assert set(mine) == set(theirs), (name, set(mine) ^ set(theirs))
            for k, b in theirs.items():
                a = mine[k]
                for fld in fields:
                    assert a.get(fld) == b.get(fld), (name, k, fld, a.get(fld), b.get(fld))
                if "pattern" in b:
                    assert _pattern_set(a["pattern"]) == _pattern_set(b["pattern"]), (k, a["pattern"])
                if b["type"] in ("grouping", "observed-data"):
                    strip = lambda refs: sorted(x for x in refs if not x.startswith("relationship--"))
                    assert strip(a["object_refs"]) == strip(b["object_refs"]), k
        finally:
            e.close()


@test
def misp_json_and_misps_stix_of_one_event_are_stored_once(env):
    files = [os.path.join(MISP_CORPUS, "test_events_collection_%d.json" % n) for n in (1, 2)]
    r = env.tix("import", *files)  # --format auto (the default) sees MISP
    assert r.returncode == 0, r.stderr
    before = len(env.objects())
    r = env.tix("import", *files)
    assert r.returncode == 0 and b"0 added" in r.stderr and len(env.objects()) == before, r.stderr
    stix = os.path.join(MISP_CORPUS, "test_events_collection_stix21.json")
    with open(stix) as f:
        rels = [o for o in json.load(f)["objects"] if o["type"] == "relationship"]
    r = env.tix("import", stix)
    assert r.returncode == 0, r.stderr
    # only the corpus's randomly named relationships are new
    assert len(env.objects()) == before + len(rels)


def _rich_event(uuid="5f0a1c2e-0a6b-4d1e-9c0a-3b1a2c3d4e5f", ts="1700000000", extra=None):
    ev = {"Event": {
        "uuid": uuid, "info": "Фишинг-кампания против банков — 銀行", "timestamp": ts,
        "date": "2023-11-14", "published": True, "publish_timestamp": ts,
        "Orgc": ORG,
        "Tag": [{"name": "tlp:amber"}, {"name": "type:OSINT"}],
        "Attribute": [
            {"uuid": "6a1b2c3d-1111-4aaa-8bbb-000000000001", "type": "domain", "category": "Network activity",
             "value": "пример.example", "to_ids": True, "timestamp": ts, "comment": "домен злоумышленника",
             "Tag": [{"name": "tlp:white"}, {"name": "kill-chain:Delivery"}],
             "Sighting": [{"uuid": "6a1b2c3d-1111-4aaa-8bbb-000000000001", "date_sighting": "1700000500",
                           "type": "0", "source": "sensor-7",
                           "Organisation": {"uuid": "7b2c3d4e-2222-4bbb-8ccc-000000000002", "name": "CIRCL"}}]},
            {"uuid": "6a1b2c3d-1111-4aaa-8bbb-000000000002", "type": "ip-dst|port", "category": "Network activity",
             "value": "198.51.100.7|8443", "to_ids": True, "timestamp": ts},
            {"uuid": "6a1b2c3d-1111-4aaa-8bbb-000000000003", "type": "sha256", "category": "Payload delivery",
             "value": "ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b", "to_ids": False,
             "timestamp": ts},
            {"uuid": "6a1b2c3d-1111-4aaa-8bbb-000000000004", "type": "btc", "category": "Financial fraud",
             "value": "1E38kt7ryhbRXUzbam6iQ6sd93VHUUdjEE", "to_ids": True, "timestamp": ts},
        ] + (extra or []),
        "Object": [{"name": "file", "meta-category": "file", "uuid": "8c3d4e5f-3333-4ccc-8ddd-000000000003",
                    "timestamp": ts, "Attribute": [
                        {"uuid": "9d4e5f60-4444-4ddd-8eee-000000000004", "type": "filename", "object_relation": "filename",
                         "value": "счёт.pdf.exe", "to_ids": True, "timestamp": ts},
                        {"uuid": "9d4e5f60-4444-4ddd-8eee-000000000005", "type": "md5", "object_relation": "md5",
                         "value": "8764605c6f388c89096b534d33565802", "to_ids": True, "timestamp": ts}]}],
        "Galaxy": [
            {"name": "Threat Actor", "type": "threat-actor", "GalaxyCluster": [
                {"uuid": "11e17436-6ede-4733-8547-4ce0254ea19e", "type": "threat-actor", "value": "Cutting Kitten",
                 "description": "An actor.", "meta": {"synonyms": ["Ghambar"]}}]},
            {"name": "Attack Pattern", "type": "mitre-attack-pattern", "GalaxyCluster": [
                {"uuid": "e042a41b-5ecf-4f3a-8f1f-1b528c534772", "type": "mitre-attack-pattern",
                 "value": "Access Token Manipulation - T1134", "meta": {"external_id": "T1134",
                 "kill_chain": ["mitre-attack:defense-evasion"]}}]},
            {"name": "Sector", "type": "sector-x", "GalaxyCluster": [
                {"uuid": "75597b7f-54e8-4f14-88c9-e81485ece483", "type": "sector-x", "value": "Finance"}]}],
    }}
    return ev


@test
def misp_event_tags_markings_galaxies_sightings_and_unknown_types(env):
    f = env.write("event.json", _rich_event())
    r = env.tix("import", f)
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert "Attribute[3]" in err and "btc" in err and "x-misp-object-btc" in err, err  # warned
    objs = {o["id"]: o for o in env.objects()}
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
    rep = objs["report--5f0a1c2e-0a6b-4d1e-9c0a-3b1a2c3d4e5f"]
    assert rep["name"].startswith("Фишинг") and rep["object_marking_refs"] == [amber]
    assert "type:OSINT" in rep["labels"] and 'misp-galaxy:sector-x="Finance"' in rep["labels"]
    assert rep["created_by_ref"] == "identity--" + ORG["uuid"]
    assert objs["identity--" + ORG["uuid"]]["name"] == "CERT-Тест"
    ind = objs["indicator--6a1b2c3d-1111-4aaa-8bbb-000000000001"]
    assert ind["pattern"] == "[domain-name:value = 'пример.example']"
    assert ind["object_marking_refs"] == [clear]  # the attribute's own tlp:white, as TLP 2.0
    assert "kill-chain:Delivery" in ind["labels"] and ind["description"] == "домен злоумышленника"
    port = objs["indicator--6a1b2c3d-1111-4aaa-8bbb-000000000002"]
    assert _pattern_set(port["pattern"]) == _pattern_set(
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7'"
        " AND network-traffic:dst_port = '8443']")
    # no to_ids: an observable, no indicator
    assert "indicator--6a1b2c3d-1111-4aaa-8bbb-000000000003" not in objs
    assert objs["file--6a1b2c3d-1111-4aaa-8bbb-000000000003"]["hashes"]["SHA-256"].startswith("ec5a")
    assert objs["x-misp-object-btc--6a1b2c3d-1111-4aaa-8bbb-000000000004"]["x_misp_value"].startswith("1E38")
    fobj = objs["file--8c3d4e5f-3333-4ccc-8ddd-000000000003"]
    assert fobj["name"] == "счёт.pdf.exe" and fobj["hashes"] == {"MD5": "8764605c6f388c89096b534d33565802"}
    assert objs["threat-actor--11e17436-6ede-4733-8547-4ce0254ea19e"]["aliases"] == ["Ghambar"]
    ap = objs["attack-pattern--e042a41b-5ecf-4f3a-8f1f-1b528c534772"]
    assert ap["name"] == "Access Token Manipulation" and ap["external_references"][0]["external_id"] == "T1134"
    sights = [o for o in objs.values() if o["type"] == "sighting"]
    assert len(sights) == 1 and sights[0]["sighting_of_ref"] == ind["id"]
    assert sights[0]["where_sighted_refs"] == ["identity--7b2c3d4e-2222-4bbb-8ccc-000000000002"]
    for ref in rep["object_refs"]:
        assert ref in objs, ref
    # the same event again changes nothing
    r = env.tix("import", f)
    assert r.returncode == 0 and b" 0 added" in r.stderr, r.stderr


@test
def misp_bad_attributes_are_reported_and_the_file_is_atomic(env):
    bad = [{"uuid": "6a1b2c3d-1111-4aaa-8bbb-0000000000aa", "type": "ip-src|port", "category": "Network activity",
            "value": "198.51.100.9|99999", "to_ids": True, "timestamp": "1700000000"},
           {"uuid": "not-a-uuid", "type": "domain", "value": "x.example", "timestamp": "1700000000"},
           {"uuid": "6a1b2c3d-1111-4aaa-8bbb-0000000000ab", "type": "Weird Type!", "value": "v",
            "timestamp": "1700000000"}]
    f = env.write("bad.json", _rich_event(extra=bad))
    r = env.tix("import", f)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "Attribute[4]" in err and "99999" in err and "port" in err, err
    assert "Attribute[5]" in err and "uuid" in err, err
    assert "Attribute[6]" in err and "Weird Type!" in err, err
    assert "nothing from this file was stored" in err
    assert env.snapshot() in (None, ([], [], [])), "a rejected file left objects behind"
    rej = env.path("rej.jsonl")
    r = env.tix("import", "--skip-invalid", "--rejects", rej, f)
    assert r.returncode == 0, r.stderr
    with open(rej) as fh:
        lines = [json.loads(l) for l in fh]
    assert len(lines) == 3 and all(l["errors"] for l in lines), lines
    ids = {o["id"] for o in env.objects()}
    assert "indicator--6a1b2c3d-1111-4aaa-8bbb-000000000001" in ids
    assert not any("0000000000aa" in i or "0000000000ab" in i for i in ids)
    # not MISP and not STIX: told what to do
    r = env.tix("import", "--format", "misp", env.write("x.json", {"type": "bundle", "objects": []}))
    assert r.returncode == 1 and b"not MISP JSON" in r.stderr, r.stderr


@test
def misp_feed_directory_skips_what_is_stored(env):
    feed = env.path("feed")
    os.mkdir(feed)
    a = "5f0a1c2e-0a6b-4d1e-9c0a-00000000000a"
    b = "5f0a1c2e-0a6b-4d1e-9c0a-00000000000b"
    man = {}
    for u, ts in ((a, "1700000000"), (b, "1700000100")):
        ev = _rich_event(uuid=u, ts=ts)
        for at in ev["Event"]["Attribute"] + ev["Event"]["Object"]:
            at["uuid"] = u[:-12] + at["uuid"][-12:] if u == b else at["uuid"]
        ev["Event"]["Object"][0]["Attribute"][0]["uuid"] = u[:-12] + "0000000000f1"
        ev["Event"]["Object"][0]["Attribute"][1]["uuid"] = u[:-12] + "0000000000f2"
        env.write("feed/%s.json" % u, ev)
        man[u] = {"info": ev["Event"]["info"], "timestamp": ts, "Orgc": ORG, "Tag": []}
    env.write("feed/manifest.json", man)
    r = env.tix("import", "--collection", "misp", feed)
    assert r.returncode == 0, r.stderr
    assert b"2 events listed: 2 read, 0 already stored" in r.stderr, r.stderr
    ids = {o["id"] for o in env.objects()}
    assert "report--" + a in ids and "report--" + b in ids
    r = env.tix("import", feed)
    assert r.returncode == 0 and b"0 read, 2 already stored" in r.stderr, r.stderr
    # a listed file that is missing is reported; the rest is still read
    c = "5f0a1c2e-0a6b-4d1e-9c0a-00000000000c"
    man[c] = {"info": "gone", "timestamp": "1700000200"}
    man["../../etc/passwd"] = {"timestamp": "1"}
    env.write("feed/manifest.json", man)
    r = env.tix("import", feed)
    err = r.stderr.decode()
    assert r.returncode == 1 and c + ".json is missing" in err and "not an event uuid" in err, err


def _csv_env(env, text, *args):
    f = env.write("in.csv", text)
    return f, env.tix("import", *args, f)


@test
def csv_rfc4180_with_bom_crlf_quotes_and_inferred_types(env):
    text = ("\ufefftype,value,comment,first_seen\r\n"
            "domain,evil.example,\"a \"\"quoted\"\", note\r\nover two lines\",2024-01-02T03:04:05Z\r\n"
            ",198.51.100.23,,\r\n"
            ",2001:db8::1,,\r\n"
            ",hxxp://bad[.]example/x,,\r\n"
            ",44d88612fea8a8f36de82e1278abb02f,,1704164645\r\n"
            ",phish@bad.example,,\r\n").encode()
    f, r = _csv_env(env, text, "--format", "csv", "--header", "--map", "type=1,value=2,description=3,first_seen=4",
                    "--source", "partner-ug", "--tlp", "green")
    assert r.returncode == 0, r.stderr
    objs = env.objects()
    inds = {o["name"]: o for o in objs if o["type"] == "indicator"}
    assert set(inds) == {"evil.example", "198.51.100.23", "2001:db8::1", "http://bad.example/x",
                         "44d88612fea8a8f36de82e1278abb02f", "phish@bad.example"}, set(inds)
    assert inds["evil.example"]["description"] == 'a "quoted", note\r\nover two lines'
    assert inds["evil.example"]["valid_from"] == "2024-01-02T03:04:05Z"
    assert inds["2001:db8::1"]["pattern"] == "[ipv6-addr:value = '2001:db8::1']"
    assert inds["44d88612fea8a8f36de82e1278abb02f"]["pattern"] == "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"
    assert inds["phish@bad.example"]["pattern"] == "[email-addr:value = 'phish@bad.example']"
    src = [o for o in objs if o["type"] == "identity"]
    assert len(src) == 1 and src[0]["name"] == "partner-ug"
    green = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    for o in inds.values():
        assert o["created_by_ref"] == src[0]["id"] and o["object_marking_refs"] == [green]
    assert b"defanged" in r.stderr
    r = env.tix("import", "--format", "csv", "--header", "--map", "type=1,value=2,description=3,first_seen=4",
                "--source", "partner-ug", "--tlp", "green", f)
    assert r.returncode == 0 and b" 0 added" in r.stderr, r.stderr


@test
def csv_bad_records_name_the_line_and_leave_the_store_alone(env):
    good, r = _csv_env(env, "evil.example,1\n", "--format", "csv", "--map", "value=1")
    assert r.returncode == 0, r.stderr
    before = env.snapshot()
    text = (b"value,type\n"
            b"ok.example,domain\n"
            b"1.2.3.999,ipv4-addr\n"          # line 3: not an address
            b"\"unclosed,domain\n")           # line 4: bad quoting, to the end
    f, r = _csv_env(env, text, "--format", "csv", "--header", "--map", "value=1,type=2")
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "in.csv:3: '1.2.3.999' is not a valid ipv4-addr" in err, err
    assert "in.csv:4: a quoted field is not closed" in err, err
    assert env.snapshot() == before
    f, r = _csv_env(env, b"a,b\nlonely\nx,y\"z\nok.example,\xff\xfe\n", "--format", "csv", "--map", "value=1,type=2")
    err = r.stderr.decode()
    assert "in.csv:2: 1 columns, the map needs 2" in err, err
    assert "in.csv:3: a quote inside an unquoted field" in err, err
    assert "in.csv:4: not UTF-8" in err, err
    f, r = _csv_env(env, b"ok.example\nunknowable value\n", "--format", "csv", "--map", "value=1", "--skip-invalid")
    assert r.returncode == 0 and b"in.csv:2: cannot tell the type" in r.stderr, r.stderr
    assert any(o.get("name") == "ok.example" for o in env.objects())
    r = env.tix("import", "--format", "csv", good)
    assert r.returncode == 2 and b"--map" in r.stderr
    r = env.tix("import", "--format", "csv", "--map", "type=1", good)
    assert r.returncode == 2 and b"value=N" in r.stderr


@test
def lists_of_each_type_with_observables(env):
    cases = {"domain-name": ("bad.example", "[domain-name:value = 'bad.example']"),
             "ipv4-addr": ("203.0.113.0/24", "[ipv4-addr:value = '203.0.113.0/24']"),
             "ipv6-addr": ("2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"),
             "url": ("https://bad.example/a?b=c", "[url:value = 'https://bad.example/a?b=c']"),
             "email-addr": ("x@bad.example", "[email-addr:value = 'x@bad.example']"),
             "file-md5": ("44D88612FEA8A8F36DE82E1278ABB02F", "[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"),
             "file-sha1": ("3395856ce81f2b7382dee72602f798b642f14140", "[file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']"),
             "file-sha256": ("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
                             "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']")}
    for t, (v, pat) in cases.items():
        f = env.write("l-%s.txt" % t, "# a comment\n\n  %s  \r\n" % v)
        r = env.tix("import", "--format", "list", "--type", t, "--observables", f)
        assert r.returncode == 0, (t, r.stderr)
    objs = env.objects()
    pats = {o["pattern"] for o in objs if o["type"] == "indicator"}
    assert pats == {p for _, p in cases.values()}, pats
    assert len([o for o in objs if o["type"] == "observed-data"]) == len(cases)
    assert len([o for o in objs if o["type"] == "relationship"]) == len(cases)
    r = env.tix("import", "--format", "list", "--type", "ipv4-addr", env.write("bad.txt", "1.2.3.4\nexample.com\n"))
    assert r.returncode == 1 and b"bad.txt:2: 'example.com' is not a valid ipv4-addr" in r.stderr, r.stderr
    r = env.tix("import", "--format", "list", env.write("n.txt", "x\n"))
    assert r.returncode == 2 and b"--type" in r.stderr
    # auto: text that is not JSON needs to be told what it is
    r = env.tix("import", env.write("plain.txt", "bad.example\n"))
    assert r.returncode == 1 and b"--format list --type" in r.stderr, r.stderr
    r = env.tix("import", "--format", "csv", "--map", "value=1", env.dir)
    assert r.returncode == 2 and b"MISP feed" in r.stderr, r.stderr
    r = env.tix("import", "--type", "domain-name", env.write("plain2.txt", "bad2.example\n"))
    assert r.returncode == 0, r.stderr


def _attack_bundle(n=6, unfixable=False):
    """ATT&CK-shaped objects with the mechanical faults of the ICS and mobile
    releases: empty lists, empty custom strings, empty object_marking_refs,
    white space around URLs, custom _ref properties holding no identifier."""
    ident = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
    marking = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
    objs = [{"type": "identity", "spec_version": "2.1", "id": ident, "created": "2017-06-01T00:00:00.000Z",
             "modified": "2017-06-01T00:00:00.000Z", "name": "The MITRE Corporation", "identity_class": "organization"},
            {"type": "marking-definition", "spec_version": "2.1", "id": marking, "created": "2017-06-01T00:00:00.000Z",
             "definition_type": "statement", "definition": {"statement": "Copyright MITRE"}}]
    for i in range(n):
        objs.append({
            "type": "attack-pattern", "spec_version": "2.1",
            "id": "attack-pattern--%08x-0000-4000-8000-000000000000" % (i + 1),
            "created": "2020-05-21T17:43:26.506Z", "modified": "2023-10-13T17:56:17.000Z",
            "created_by_ref": ident, "name": "Technique %d" % i,
            "object_marking_refs": [] if i % 2 else [marking],
            "external_references": [{"source_name": "mitre-attack", "external_id": "T08%02d" % i,
                                     "url": "https://attack.mitre.org/techniques/T08%02d " % i}],
            "kill_chain_phases": [],
            "x_mitre_aliases": [], "x_mitre_data_sources": [],
            "x_mitre_data_source_ref": "", "x_mitre_version": "1.0",
        })
    objs.append({"type": "x-mitre-data-component", "spec_version": "2.1",
                 "id": "x-mitre-data-component--11111111-0000-4000-8000-000000000000",
                 "created": "2021-10-20T15:05:19.274Z", "modified": "2021-10-20T15:05:19.274Z",
                 "name": "Process Creation", "x_mitre_data_source_ref": "", "object_marking_refs": []})
    if unfixable:
        objs.append({"type": "attack-pattern", "spec_version": "2.1",
                     "id": "attack-pattern--22222222-0000-4000-8000-000000000000",
                     "created": "2023-10-13T17:56:17.000Z", "modified": "2020-05-21T17:43:26.506Z",
                     "name": "modified before created", "x_mitre_aliases": []})
    return bundle(objs)


@test
def repair_fixes_what_does_not_change_meaning_and_reports_each(env):
    f = env.write("ics.json", _attack_bundle())
    r = env.tix("import", f)
    err = r.stderr.decode()
    assert r.returncode == 1 and "must not be an empty list" in err, err
    assert env.snapshot() in (None, ([], [], []))
    rep = env.path("repairs.jsonl")
    r = env.tix("import", "--repair", "--repairs", rep, f)
    assert r.returncode == 0, r.stderr
    with open(rep) as fh:
        lines = [json.loads(l) for l in fh]
    assert len(lines) == 7, lines  # six attack-patterns and the data component
    first = {l["id"]: l for l in lines}["attack-pattern--00000001-0000-4000-8000-000000000000"]
    assert set(first["repairs"]) == {"kill_chain_phases: empty list removed",
                                     "x_mitre_aliases: empty list removed",
                                     "x_mitre_data_sources: empty list removed",
                                     "x_mitre_data_source_ref: empty custom string removed",
                                     "external_references[0].url: white space around the URL removed"}, first
    assert first["path"] == "objects[2]" and first["file"].endswith("ics.json")
    objs = {o["id"]: o for o in env.objects()}
    ap = objs["attack-pattern--00000002-0000-4000-8000-000000000000"]
    assert "object_marking_refs" not in ap and "kill_chain_phases" not in ap and "x_mitre_data_source_ref" not in ap
    assert ap["external_references"][0]["url"] == "https://attack.mitre.org/techniques/T0801"
    assert ap["x_mitre_version"] == "1.0" and ap["name"] == "Technique 1"
    # a re-import of the same file changes nothing
    r = env.tix("import", "--repair", f)
    assert r.returncode == 0 and b" 0 added" in r.stderr, r.stderr
    # what a repair cannot fix stays refused, and nothing from the file is stored
    e2 = Env()
    try:
        r = e2.tix("import", "--repair", e2.write("bad.json", _attack_bundle(unfixable=True)))
        assert r.returncode == 1 and b"nothing from this file was stored" in r.stderr, r.stderr
        assert e2.snapshot() in (None, ([], [], []))
    finally:
        e2.close()


@test
def custom_ref_properties_need_not_hold_identifiers(env):
    o = {"type": "x-mitre-data-component", "spec_version": "2.1",
         "id": "x-mitre-data-component--33333333-0000-4000-8000-000000000000",
         "created": "2021-10-20T15:05:19.274Z", "modified": "2021-10-20T15:05:19.274Z",
         "name": "Process Creation", "x_mitre_data_source_ref": "Process", "x_other_refs": ["a", "b"]}
    f = env.write("c.json", bundle([o]))
    r = env.tix("import", "--strict", f)
    assert r.returncode == 1 and b"x_mitre_data_source_ref" in r.stderr, r.stderr
    r = env.tix("import", f)
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "warning: objects[0].x_mitre_data_source_ref" in err and "x_other_refs[1]" in err, err
    assert env.objects()[0]["x_mitre_data_source_ref"] == "Process"


@test
def stix20_bundles_from_misps_converter_are_stored_as_they_came(env):
    files = sorted(glob.glob(os.path.join(MISP_CORPUS, "*_stix20.json")))
    assert len(files) == 5
    for f in files:
        r = env.tix("import", f)
        assert r.returncode == 0, (f, r.stderr)
    with open(os.path.join(MISP_CORPUS, "test_objects_collection_stix20.json")) as fh:
        want = {o["id"]: o for o in json.load(fh)["objects"]}
    got = {o["id"]: o for o in env.objects()}
    for i, o in want.items():
        assert got[i] == o, i  # as it came: no spec_version added, refs kept
    od = next(o for o in want.values() if o["type"] == "observed-data")
    assert "spec_version" not in got[od["id"]]
    # a reference to a key the dictionary does not have is still refused, in 2.0 and 2.1
    for spec in ({}, {"spec_version": "2.1"}):
        bad = dict(od, **spec)
        bad["id"] = "observed-data--44444444-0000-4000-8000-00000000000%d" % len(spec)
        bad["objects"] = {"0": {"type": "domain-name", "value": "a.example", "resolves_to_refs": ["7"]}}
        r = env.tix("import", env.write("bad20.json", bad))
        assert r.returncode == 1 and b"'7' is not a key of this objects dictionary" in r.stderr, r.stderr
        good = dict(bad)
        good["objects"] = {"0": {"type": "domain-name", "value": "a.example", "resolves_to_refs": ["1"]},
                           "1": {"type": "ipv4-addr", "value": "198.51.100.1"}}
        r = env.tix("import", env.write("good20.json", good))
        assert r.returncode == 0, r.stderr


@test
def export_stix_version_21_upgrades_20_objects(env):
    for f in sorted(glob.glob(os.path.join(MISP_CORPUS, "*_stix20.json"))):
        assert env.tix("import", "--quiet", f).returncode == 0
    green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"  # TLP 1.0, as 2.0 wrote it
    od = {"type": "observed-data", "id": "observed-data--55555555-0000-4000-8000-000000000000",
          "created": "2016-04-06T19:58:16Z", "modified": "2016-04-06T19:58:16Z",
          "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z",
          "number_observed": 1, "object_marking_refs": [green],
          "objects": {"0": {"type": "ipv4-addr", "value": "198.51.100.3"},
                      "1": {"type": "network-traffic", "src_ref": "0", "protocols": ["tcp"]}}}
    assert env.tix("import", env.write("od20.json", od)).returncode == 0
    stored = env.objects()
    assert all("spec_version" not in o for o in stored if o["type"] != "marking-definition")
    r = env.tix("export", "--stix-version", "2.1")
    assert r.returncode == 0, r.stderr
    up = json.loads(r.stdout)["objects"]
    byid = {o["id"]: o for o in up}
    assert all(o.get("spec_version") == "2.1" for o in up)
    o = byid[od["id"]]
    assert "objects" not in o and len(o["object_refs"]) == 2 and o["created"] == "2016-04-06T19:58:16.000Z"
    nt = next(byid[i] for i in o["object_refs"] if i.startswith("network-traffic--"))
    assert byid[nt["src_ref"]]["value"] == "198.51.100.3"
    assert nt["object_marking_refs"] == [green]  # the SCOs keep the marking
    assert all(byid[i].get("pattern_type") == "stix" for i in byid if i.startswith("indicator--"))
    e2 = Env()
    try:
        r = e2.tix("import", e2.write("up.json", r.stdout))
        assert r.returncode == 0, r.stderr  # valid STIX 2.1
    finally:
        e2.close()
    # by default objects leave as they were stored
    assert {json.dumps(x, sort_keys=True) for x in env.objects()} == {json.dumps(x, sort_keys=True) for x in stored}


def _misp_fields(ev):
    """The fields docs/formats.md's table maps, of one MISP event."""
    e = ev["Event"]
    attr = lambda a: (a["uuid"], a["type"], a.get("category"), a["value"], bool(a.get("to_ids")),
                      a.get("comment") or None, str(a["timestamp"]),
                      sorted(t["name"].replace("tlp:white", "tlp:clear") for t in a.get("Tag", [])),
                      sorted((str(s["date_sighting"]), s.get("source"), (s.get("Organisation") or {}).get("uuid"))
                             for s in a.get("Sighting", [])))
    obj = lambda o: (o["uuid"], o["name"], o["meta-category"],
                     sorted((x["object_relation"], x["type"], x["value"], bool(x.get("to_ids"))) for x in o["Attribute"]))
    gal = sorted((g["type"], c["uuid"], c["value"]) for g in e.get("Galaxy", []) for c in g["GalaxyCluster"]
                 if g["type"] != "sector-x")
    return (e["uuid"], e["info"], str(e["timestamp"]), bool(e.get("published")), e["Orgc"]["uuid"], e["Orgc"]["name"],
            sorted(t["name"] for t in e.get("Tag", [])), sorted(map(attr, e["Attribute"])),
            sorted(map(obj, e.get("Object", []))), gal)


@test
def misp_round_trip_keeps_the_mapped_fields(env):
    ev = _rich_event()
    ev["Event"]["Attribute"] = ev["Event"]["Attribute"][:4]
    assert env.tix("import", env.write("ev.json", ev)).returncode == 0
    r = env.tix("export", "--format", "misp")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)["response"]
    assert len(out) == 1
    want = _misp_fields(ev)
    got = _misp_fields(out[0])
    # the event's sector cluster travels as its galaxy tag
    assert got[6] == sorted(want[6] + ['misp-galaxy:sector-x="Finance"']), got[6]
    assert got[:6] == want[:6] and got[7:] == want[7:], (got, want)
    # and back: the same STIX objects, nothing new
    e2 = Env()
    try:
        assert e2.tix("import", e2.write("back.json", r.stdout)).returncode == 0
        assert canon(e2.objects()) == canon(env.objects())
    finally:
        e2.close()
    # loose indicators (a CSV import) become one event per day
    f = env.write("l.txt", "loose.example\n")
    assert env.tix("import", "--format", "list", "--type", "domain-name", "--source", "p", f).returncode == 0
    out = json.loads(env.tix("export", "--format", "misp").stdout)["response"]
    loose = [e["Event"] for e in out if e["Event"]["uuid"] != ev["Event"]["uuid"]]
    assert len(loose) == 1 and loose[0]["Attribute"][0]["value"] == "loose.example"
    assert loose[0]["Attribute"][0]["type"] == "domain" and loose[0]["Attribute"][0]["to_ids"] is True


@test
def misp_export_passes_through_the_sharing_policy(env):
    red = _rich_event()
    red["Event"]["Tag"] = [{"name": "tlp:red"}]
    for a in red["Event"]["Attribute"]:
        a.pop("Tag", None)
    assert env.tix("admin", "org", "add", "owner").returncode == 0
    assert env.tix("admin", "org", "add", "other").returncode == 0
    assert env.tix("import", "--org", "owner", env.write("red.json", red)).returncode == 0
    r = env.tix("export", "--format", "misp", "--as-org", "other")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["response"] == [], r.stdout[:300]
    r = env.tix("export", "--format", "misp", "--as-org", "owner")
    assert len(json.loads(r.stdout)["response"]) == 1


def _misp_stream_store(env, days=8, per_day=300):
    """Six events (published, not, one TL:RED of one organisation, one of
    another), with objects, galaxies and sightings, and loose indicators over
    several days (a GREEN CSV feed; RED observables): what the streamed MISP
    export is compared on. Returns the RED event's attribute uuids."""
    for o in ("owner", "other"):
        assert env.tix("admin", "org", "add", o).returncode == 0
    r = env.tix("admin", "collection", "add", "shared", "--read", "owner,other", "--write", "owner,other")
    assert r.returncode == 0, r.stderr
    red = []
    for i in range(6):
        ev = _rich_event(uuid="5f0a1c2e-0a6b-4d1e-9c0a-3b1a2c3d4e%02d" % i, ts=str(1700000000 + i * 86400))
        text = json.dumps(ev)
        for k in ("8bbb", "8ddd", "8eee"):
            text = text.replace(k + "-0000000000", k + "-00000000%02d" % i)
        ev = json.loads(text)
        args = []
        if i == 2:
            ev["Event"]["published"] = False
        if i == 3:
            ev["Event"]["Tag"] = [{"name": "tlp:red"}]
            for a in ev["Event"]["Attribute"]:
                a.pop("Tag", None)
            args = ["--org", "owner"]
            red = [a["uuid"] for a in ev["Event"]["Attribute"]] + [o["uuid"] for o in ev["Event"]["Object"]]
        if i == 4:
            ev["Event"]["Tag"] = [{"name": "tlp:green"}]
            args = ["--org", "other"]
        r = env.tix("import", "--collection", "shared", *args, env.write("ev%d.json" % i, ev))
        assert r.returncode == 0, r.stderr
    for name, tlp, extra, rows in (
            ("loose.csv", "green", [], ["domain,d%d-%d.loose.example,2024-03-%02dT%02d:00:00Z" % (d, k, d + 1, k % 24)
                                        for d in range(days) for k in range(per_day)]),
            ("ips.csv", "red", ["--observables"], ["ip,198.18.%d.%d,2024-04-%02dT01:00:00Z" % (d, k, d + 1)
                                                   for d in range(3) for k in range(50)])):
        f = env.write(name, "type,value,first_seen\n" + "\n".join(rows) + "\n")
        os.utime(f, (1710000000, 1710000000))  # the --source identity's time
        r = env.tix("import", "--collection", "shared", "--format", "csv", "--header", "--map",
                    "type=1,value=2,first_seen=3", "--source", "feed-" + tlp, "--tlp", tlp, *extra, f)
        assert r.returncode == 0, r.stderr
    return red


# sha256 of `tix export --format misp ARGS` of _misp_stream_store's store, as
# the writer that held the whole export in memory wrote it (before it
# streamed): the streamed writer writes the very same bytes.
MISP_EXPORT_BEFORE_STREAMING = {
    (): "ae7ce311e54d16685e3e02260655da38eb00f675cea55dac9abce7b426c12616",
    ('--as-org', 'other'): "dedb3edec916241d34b08fe736a5b86648bd84e14235c1d969884020f4f27ab2",
    ('--as-org', 'owner'): "f0843cb6759de993136008fba76cb18e6f9f344ec77f6b87adf43aa123e34e5e",
    ('--collection', 'shared'): "236383da154df921914aedb8a845799b506276c4eed0224275111b34d8b5b6c5",
    ('--collection', 'shared', '--as-org', 'other'): "f49095d3c27fa774a25e87f91372562a9f6f504e96d43d71852ccaf1003706c9",
    ('--public',): "c33ad262b00b1a8549543b1903f18b3f38ec973b34d7398bdffde287b9feebd9",
}


@test
def misp_export_streams_the_same_events_through_the_policy(env):
    red = _misp_stream_store(env)
    for args, digest in MISP_EXPORT_BEFORE_STREAMING.items():
        r = env.tix("export", "--format", "misp", *args)
        assert r.returncode == 0, r.stderr
        assert hashlib.sha256(r.stdout).hexdigest() == digest, (args, r.stdout[:400])
    out = {}
    for who in ("owner", "other"):
        r = env.tix("export", "--format", "misp", "--collection", "shared", "--as-org", who)
        assert r.returncode == 0, r.stderr
        out[who] = [e["Event"] for e in json.loads(r.stdout)["response"]]
    events = lambda who: {e["uuid"]: e for e in out[who]}
    attrs = lambda who: [a["uuid"] for e in out[who] for a in e["Attribute"]] + \
        [o["uuid"] for e in out[who] for o in e.get("Object", [])]
    red_event = "5f0a1c2e-0a6b-4d1e-9c0a-3b1a2c3d4e03"
    # the RED event and everything in it: its organisation only
    assert red_event in events("owner") and red_event not in events("other")
    assert set(red) <= set(attrs("owner")) and not set(red) & set(attrs("other"))
    # every attribute once; the loose ones one event a day, oldest day first
    for who in ("owner", "other"):
        assert len(attrs(who)) == len(set(attrs(who))), who
        loose = [e for e in out[who] if e["info"].startswith("shared: indicators of ")]
        assert [e["info"][-10:] for e in loose] == ["2024-03-%02d" % (d + 1) for d in range(8)], who
        assert all(len(e["Attribute"]) == 300 for e in loose)
        assert all(a["value"].startswith("d%d-" % d) for d, e in enumerate(loose) for a in e["Attribute"])
        assert not any(a["value"].startswith("198.18.") for e in out[who] for a in e["Attribute"])  # RED
    # the operator sees the RED observables too, as three more days
    r = env.tix("export", "--format", "misp", "--collection", "shared")
    days = [e["Event"]["info"][-10:] for e in json.loads(r.stdout)["response"]
            if e["Event"]["info"].startswith("shared: indicators of ")]
    assert days == ["2024-03-%02d" % (d + 1) for d in range(8)] + ["2024-04-01", "2024-04-02", "2024-04-03"], days
    r = env.tix("export", "--format", "misp", "--all-versions")
    assert r.returncode == 2 and b"latest version" in r.stderr


def _refs_event():
    u = lambda n: "7a1b0000-0000-4000-8000-0000000000%02x" % n
    ts = "1700000000"
    return {"Event": {
        "uuid": u(1), "info": "references and reports", "timestamp": ts, "published": True, "publish_timestamp": ts,
        "Orgc": ORG, "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {"uuid": u(0x11), "type": "domain", "category": "Network activity", "value": "c2.example",
             "to_ids": True, "timestamp": ts},
            {"uuid": u(0x12), "type": "ip-dst", "category": "Network activity", "value": "198.51.100.9",
             "to_ids": False, "timestamp": ts, "Tag": [{"name": "tlp:red"}]}],
        "Object": [{"name": "file", "meta-category": "file", "uuid": u(0x21), "timestamp": ts, "Attribute": [
            {"uuid": u(0x22), "type": "md5", "object_relation": "md5", "value": "8764605c6f388c89096b534d33565802",
             "to_ids": True, "timestamp": ts}],
            "ObjectReference": [
                {"uuid": u(0x31), "object_uuid": u(0x21), "referenced_uuid": u(0x11),
                 "relationship_type": "communicates-with", "timestamp": ts},
                {"uuid": u(0x32), "object_uuid": u(0x21), "referenced_uuid": u(0x12),
                 "relationship_type": "connects-to", "timestamp": ts},
                {"uuid": u(0x33), "object_uuid": u(0x21), "referenced_uuid": u(0xff),
                 "relationship_type": "related-to", "timestamp": ts}]}],
        "EventReport": [
            {"uuid": u(0x41), "name": "Analysis", "timestamp": "1700000100", "distribution": "5", "deleted": False,
             "content": "The dropper @[object](%s) calls @[attribute](%s)." % (u(0x21), u(0x11))},
            {"uuid": u(0x42), "name": "Internal", "timestamp": "1700000100", "distribution": "0", "deleted": False,
             "content": "Our own notes."}]}}


@test
def misp_object_references_and_event_reports_both_ways(env):
    for o in ("owner", "other"):
        assert env.tix("admin", "org", "add", o).returncode == 0
    assert env.tix("admin", "collection", "add", "c", "--read", "owner,other", "--write", "owner").returncode == 0
    ev = _refs_event()
    r = env.tix("import", "--collection", "c", "--org", "owner", env.write("refs.json", ev))
    assert r.returncode == 0, r.stderr
    assert b"ObjectReference[2]" in r.stderr and b"not in this event" in r.stderr, r.stderr  # the missing target
    objs = {o["id"]: o for o in env.objects()}
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    rels = {o["relationship_type"]: o for o in objs.values() if o["type"] == "relationship"}
    f, d, ip = "indicator--" + ev["Event"]["Object"][0]["uuid"], "indicator--7a1b0000-0000-4000-8000-000000000011", \
        "observed-data--7a1b0000-0000-4000-8000-000000000012"
    assert (rels["communicates-with"]["source_ref"], rels["communicates-with"]["target_ref"]) == (f, d)
    # ids as MISP's export derives them; marked as the stricter end (the RED observable)
    assert rels["connects-to"]["target_ref"] == ip and rels["connects-to"]["object_marking_refs"] == [red]
    assert "related-to" not in rels
    notes = {o["abstract"]: o for o in objs.values() if o["type"] == "note"}
    assert notes["Analysis"]["id"] == "note--7a1b0000-0000-4000-8000-000000000041"
    assert sorted(notes["Analysis"]["object_refs"]) == sorted([f, d])
    assert notes["Internal"]["object_refs"] == ["report--" + ev["Event"]["uuid"]]  # points at nothing: the event
    rep = objs["report--" + ev["Event"]["uuid"]]
    assert set(n["id"] for n in notes.values()) | {rels["communicates-with"]["id"]} <= set(rep["object_refs"])
    # out: the owner gets them back as MISP has them, the other organisation
    # never the RED reference nor the owner-only report
    got = {}
    for who in ("owner", "other"):
        r = env.tix("export", "--format", "misp", "--collection", "c", "--as-org", who)
        assert r.returncode == 0, r.stderr
        (e,) = [x["Event"] for x in json.loads(r.stdout)["response"]]
        got[who] = (r.stdout, e)
    e = got["owner"][1]
    refs = {(x["referenced_uuid"], x["relationship_type"]) for x in e["Object"][0]["ObjectReference"]}
    assert refs == {("7a1b0000-0000-4000-8000-000000000011", "communicates-with"),
                    ("7a1b0000-0000-4000-8000-000000000012", "connects-to")}, refs
    reports = {x["name"]: x for x in e["EventReport"]}
    assert reports["Analysis"]["content"] == ev["Event"]["EventReport"][0]["content"]
    assert reports["Analysis"]["distribution"] == "5" and reports["Internal"]["distribution"] == "0"
    e = got["other"][1]
    assert [(x["relationship_type"]) for x in e["Object"][0]["ObjectReference"]] == ["communicates-with"]
    assert [x["name"] for x in e["EventReport"]] == ["Analysis"]
    assert b"198.51.100.9" not in got["other"][0] and b"Our own notes" not in got["other"][0]
    # and back: the same STIX objects
    e2 = Env()
    try:
        r = e2.tix("import", "--org", "owner", e2.write("back.json", got["owner"][0]))
        assert r.returncode == 0, r.stderr
        assert canon(e2.objects()) == canon(env.objects())
    finally:
        e2.close()


@test
def misp_distribution_and_sharing_groups_become_tix_audiences(env):
    strict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    ev = _rich_event()
    ev["Event"]["Tag"] = []
    ev["Event"]["distribution"] = "4"
    ev["Event"]["SharingGroup"] = {"name": "banks", "uuid": "5d5d5d5d-0000-4000-8000-000000000000"}
    for a in ev["Event"]["Attribute"]:
        a.pop("Tag", None)
    ev["Event"]["Attribute"][1]["distribution"] = "0"  # "your organisation only"
    assert env.tix("import", env.write("sg.json", ev)).returncode == 0
    objs = {o["id"]: o for o in env.objects()}
    rep = objs["report--" + ev["Event"]["uuid"]]
    assert rep["object_marking_refs"] == [amber] and rep["tix_sharing_group"] == "banks"
    one = objs["indicator--6a1b2c3d-1111-4aaa-8bbb-000000000001"]
    assert one["object_marking_refs"] == [amber] and one["tix_sharing_group"] == "banks"
    two = [o for i, o in objs.items() if i.endswith("6a1b2c3d-1111-4aaa-8bbb-000000000002")]
    assert two and all(o["object_marking_refs"] == [strict] and "tix_sharing_group" not in o for o in two)
    rels = [o for o in objs.values() if o["type"] == "relationship"]
    assert rels and all(o.get("object_marking_refs") for o in rels)  # never the node default
    out = json.loads(env.tix("export", "--format", "misp").stdout)["response"][0]["Event"]
    assert out["distribution"] == "4" and out["SharingGroup"]["name"] == "banks"
    e2 = Env()
    try:
        assert e2.tix("import", e2.write("back.json", {"response": [{"Event": out}]})).returncode == 0
        assert canon(e2.objects()) == canon(env.objects())
    finally:
        e2.close()


def main():
    if not os.path.exists(TIX):
        print("tix binary not found at %s (set TIX)" % TIX)
        return 2
    passed = failed = 0
    only = sys.argv[1:]
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        env = Env()
        try:
            fn(env)
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
        finally:
            env.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
