#!/usr/bin/env python3
"""End-to-end tests of the bounds one partner cannot push the node past
(issue 13): a sparse reader's walk (every visible object once, without
examining what it may not see), the examined-rows budget's short pages,
bounded match lists, and the store not created by read-only commands.

    TIX=build-asan/tix python3 tests/e2e/test_bound.py [TEST_NAME...]
"""

import json
import os
import re
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_taxii import (Client, Server, bearer, expect, expect_error, indicator,  # noqa: E402
                        malware, manifest_path, new_id, objects_path, page_all, tix, tix_ok)

STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
EXT = "extension-definition--da5a1e8b-49f4-5041-b48e-c59de73ab482"
OBJECTS = int(os.environ.get("BOUND_OBJECTS", "20000"))
VISIBLE_AT = (3, OBJECTS // 3, OBJECTS // 2 + 1, OBJECTS - 2, OBJECTS - 1)
MALWARE_EVERY = 997     # a few malware objects among the indicators, for match[type]
EXAMINE = 300           # --examine-max of the server: pages run out of budget often

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class World:
    """owner writes OBJECTS objects, all AMBER+STRICT but five AMBER for the
    sharing group "few", whose only member is sparse."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-bound-")
        self.db = os.path.join(self.dir, "tix.db")
        for org in ("owner", "sparse", "other"):
            tix_ok("admin", "org", "add", org, "--db", self.db)
        self.keys = {}
        for user, org, role in (("olga", "owner", "analyst"), ("sven", "sparse", "reader"),
                                ("otto", "other", "reader")):
            tix_ok("admin", "user", "add", user, "--org", org, "--role", role, "--db", self.db)
            out = tix_ok("admin", "key", "add", "--user", user, "--db", self.db)
            self.keys[user] = re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]
        out = tix_ok("admin", "collection", "add", "feed", "--read", "owner,sparse,other",
                     "--write", "owner", "--db", self.db)
        self.cid = re.search(r"[0-9a-f-]{36}", out).group(0)
        tix_ok("admin", "group", "add", "few", "--db", self.db)
        tix_ok("admin", "group", "member-add", "few", "--org", "sparse", "--db", self.db)
        objs, self.visible, self.malware = [], set(), set()
        for i in range(OBJECTS):
            o = malware() if i % MALWARE_EVERY == 5 else indicator()
            if i in VISIBLE_AT:
                o["object_marking_refs"] = [AMBER]
                o["tix_sharing_group"] = "few"
                o["extensions"] = {EXT: {"extension_type": "toplevel-property-extension"}}
                self.visible.add(o["id"])
            else:
                o["object_marking_refs"] = [STRICT]
            if o["type"] == "malware":
                self.malware.add(o["id"])
            objs.append(o)
        path = os.path.join(self.dir, "feed.json")
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": new_id("bundle"), "objects": objs}, f)
        tix_ok("import", "--quiet", "--org", "owner", "--collection", "feed", "--db", self.db,
               path)
        self.server = Server(self.db, self.dir, "bound",
                             ["--examine-max", str(EXAMINE)]).start()

    def client(self, user):
        return Client(self.server, bearer(self.keys[user]) if user else None)

    def close(self):
        self.server.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def once(ids):
    """The ids, asserting that none came twice."""
    seen = set()
    for i in ids:
        assert i not in seen, "%s listed twice" % i
        seen.add(i)
    return seen


@test
def a_sparse_reader_walks_the_collection_and_sees_each_visible_object_once(w):
    c = w.client("sven")
    for path, params in ((objects_path(w.cid), ()), (manifest_path(w.cid), ()),
                         (objects_path(w.cid), (("match[version]", "first"),)),
                         (objects_path(w.cid), (("match[version]", "all"),))):
        items, pages = page_all(c, path, params, limit=2)
        assert once(o["id"] for o in items) == w.visible, (path, params, len(items))
        # Five objects, two a page: three pages, however far apart they lie.
        assert len(pages) == 3, (path, params, len(pages))
    # Someone outside the group sees none of them, in one page.
    items, pages = page_all(w.client("otto"), objects_path(w.cid), (), limit=100)
    assert items == [] and len(pages) == 1, (len(items), len(pages))


@test
def when_the_budget_ends_first_the_page_is_short_and_the_walk_still_sees_everything(w):
    # The owner reads every row; malware is one in MALWARE_EVERY, so most
    # pages of match[type]=malware end on the examined-rows budget.
    c = w.client("olga")
    items, pages = page_all(c, objects_path(w.cid), (("match[type]", "malware"),), limit=50)
    assert once(o["id"] for o in items) == w.malware, (len(items), len(w.malware))
    short = [p for p in pages[:-1] if len(p.json().get("objects", [])) < 50]
    assert len(pages) >= OBJECTS // EXAMINE and short, (len(pages), len(short))
    # A plain walk with pages larger than the budget: short pages too, and
    # every object once.
    items, pages = page_all(c, manifest_path(w.cid), (), limit=1000)
    assert len(once(o["id"] for o in items)) == OBJECTS, len(items)
    assert all(len(p.json().get("objects", [])) <= EXAMINE for p in pages)


@test
def match_lists_are_bounded(w):
    c = w.client("sven")
    ids = sorted(w.visible) + [new_id("indicator") for _ in range(195)]
    r = expect(c.get(objects_path(w.cid), (("match[id]", ",".join(ids)),)), 200)
    assert once(o["id"] for o in r.json()["objects"]) == w.visible
    expect_error(c.get(objects_path(w.cid), (("match[id]", ",".join(ids + [new_id("x")])),)),
                 400)
    many = ",".join("2024-01-01T00:00:%02d.%03dZ" % (i // 1000, i % 1000) for i in range(201))
    expect_error(c.get(objects_path(w.cid), (("match[version]", many),)), 400)


def main():
    only = set(sys.argv[1:])
    passed = failed = 0
    try:
        w = World()
    except Exception:
        traceback.print_exc()
        print("FAIL setting up the bound world")
        return 1
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
        sys.stdout.flush()
    w.server.stop()
    w.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
