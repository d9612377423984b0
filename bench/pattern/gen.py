#!/usr/bin/env python3
"""gen.py — inputs of the pattern benchmark (bench/README.md), deterministic
for a given --count and --observed:

  patterns.txt     one STIX 2.1 pattern a line, the mix real feeds send
  patterns.jsonl   the same patterns as JSON documents of equal content (a
                   tree of the same comparisons), one a line: the baseline
  observed.json    a bundle of observed-data with the SCOs they refer to
  observed.jsonl   each observed-data with its SCOs embedded, one a line:
                   the baseline of the evaluation

Values come from small pools shared by patterns and observations, so a part
of the evaluations match. Addresses and names are documentation ranges."""

import argparse
import json
import os
import random
import uuid

R = random.Random(20261127)


def ip(r):
    return "198.51.100.%d" % r.randrange(1, 255) if r.random() < 0.5 else "203.0.113.%d" % r.randrange(1, 255)


def domain(r):
    return "host%d.example.%s" % (r.randrange(500), r.choice(["com", "net", "org"]))


def url(r):
    return "https://%s/path/%d" % (domain(r), r.randrange(100))


def sha256(r):
    return "%064x" % r.getrandbits(256) if r.random() < 0.7 else "%064x" % r.randrange(300)


def md5(r):
    return "%032x" % r.randrange(300)


def filename(r):
    return "%s%d.%s" % (r.choice(["invoice", "report", "setup", "update"]), r.randrange(50),
                        r.choice(["exe", "dll", "pdf", "js"]))


def quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


# A comparison is (type, path list, path text, op, value); value is str or int.
def leaf(r):
    k = r.random()
    if k < 0.25:
        return ("ipv4-addr", ["value"], "value", "=", ip(r))
    if k < 0.40:
        return ("domain-name", ["value"], "value", "=", domain(r))
    if k < 0.50:
        return ("url", ["value"], "value", "=", url(r))
    if k < 0.65:
        return ("file", ["hashes", "SHA-256"], "hashes.'SHA-256'", "=", sha256(r))
    if k < 0.75:
        return ("file", ["hashes", "MD5"], "hashes.MD5", "=", md5(r))
    if k < 0.80:
        return ("file", ["name"], "name", "LIKE", "%s%%" % r.choice(["invoice", "setup"]))
    if k < 0.85:
        return ("url", ["value"], "value", "MATCHES", "^https://host%d\\." % r.randrange(500))
    if k < 0.90:
        return ("ipv4-addr", ["value"], "value", "ISSUBSET", "198.51.100.%d/30" % (4 * r.randrange(60)))
    if k < 0.95:
        return ("file", ["size"], "size", r.choice([">", "<", ">="]), r.randrange(100, 100000))
    return ("network-traffic", ["dst_ref", "value"], "dst_ref.value", "=", ip(r))


def leaf_text(c):
    t, _, ptext, op, v = c
    return "%s:%s %s %s" % (t, ptext, op, v if isinstance(v, int) else quote(v))


def leaf_json(c):
    t, path, _, op, v = c
    return {"type": t, "path": path, "op": op, "value": v}


def observation(r):
    """A comparison expression: one leaf, an OR of leaves of any types, an
    AND of file properties, or an IN set."""
    k = r.random()
    if k < 0.55:
        c = leaf(r)
        return leaf_text(c), leaf_json(c)
    if k < 0.80:
        cs = [leaf(r) for _ in range(r.randrange(2, 6))]
        return " OR ".join(leaf_text(c) for c in cs), {"or": [leaf_json(c) for c in cs]}
    if k < 0.90:
        a, b = ("file", ["name"], "name", "=", filename(r)), ("file", ["size"], "size", ">", r.randrange(1000))
        return "%s AND %s" % (leaf_text(a), leaf_text(b)), {"and": [leaf_json(a), leaf_json(b)]}
    vals = [ip(r) for _ in range(r.randrange(3, 9))]
    return ("ipv4-addr:value IN (%s)" % ", ".join(quote(v) for v in vals),
            {"type": "ipv4-addr", "path": ["value"], "op": "IN", "value": vals})


def pattern(r):
    """One pattern and its JSON equivalent."""
    k = r.random()
    if k < 0.85:
        t, j = observation(r)
        return "[%s]" % t, {"observation": j}
    (t1, j1), (t2, j2) = observation(r), observation(r)
    op = r.choice(["AND", "OR", "FOLLOWEDBY"])
    text = "[%s] %s [%s]" % (t1, op, t2)
    doc = {"op": op, "args": [{"observation": j1}, {"observation": j2}]}
    q = r.random()
    if q < 0.4:
        text = "(%s) WITHIN %d SECONDS" % (text, r.choice([60, 300, 3600]))
        doc = {"within": doc}
    elif q < 0.6:
        text = "%s REPEATS %d TIMES" % (text, r.choice([2, 3]))
        doc["repeats"] = True
    return text, {"pattern": doc}


def sco_set(r, n):
    """SCOs of one observation: (objects by local key, 2.1 objects by id)."""
    objs = []
    for _ in range(n):
        k = r.random()
        if k < 0.3:
            objs.append({"type": "ipv4-addr", "value": ip(r)})
        elif k < 0.5:
            objs.append({"type": "domain-name", "value": domain(r)})
        elif k < 0.65:
            objs.append({"type": "url", "value": url(r)})
        elif k < 0.85:
            objs.append({"type": "file", "name": filename(r), "size": r.randrange(100, 100000),
                         "hashes": {"SHA-256": sha256(r), "MD5": md5(r)}})
        else:
            objs.append({"type": "ipv4-addr", "value": ip(r)})
            objs.append({"type": "network-traffic", "dst_ref": str(len(objs) - 1),
                         "protocols": ["tcp"], "dst_port": 443})
    return objs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--observed", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "patterns.txt"), "w") as ft, \
            open(os.path.join(a.dir, "patterns.jsonl"), "w") as fj:
        for _ in range(a.count):
            text, doc = pattern(R)
            ft.write(text + "\n")
            fj.write(json.dumps(doc, separators=(",", ":")) + "\n")
    bundle, lines = [], []
    ns = uuid.UUID("6f0c2a43-8b5e-4a8f-9a35-7c3c1d7e2b10")
    for i in range(a.observed):
        objs = sco_set(R, R.randrange(1, 5))
        sec = i * 86400 // a.observed
        first = "2026-01-01T%02d:%02d:%02dZ" % (sec // 3600, sec // 60 % 60, sec % 60)
        od = {"type": "observed-data", "spec_version": "2.1",
              "id": "observed-data--%s" % uuid.uuid5(ns, "od%d" % i),
              "created": first, "modified": first, "first_observed": first, "last_observed": first,
              "number_observed": R.randrange(1, 4)}
        ids = ["%s--%s" % (o["type"], uuid.uuid5(ns, "o%d-%d" % (i, k))) for k, o in enumerate(objs)]
        refs = []
        for k, o in enumerate(objs):
            o21 = dict(o, spec_version="2.1", id=ids[k])
            if "dst_ref" in o21:
                o21["dst_ref"] = ids[int(o["dst_ref"])]
            bundle.append(o21)
            refs.append(ids[k])
        bundle.append(dict(od, object_refs=refs))
        lines.append(json.dumps(dict(od, objects={str(k): o for k, o in enumerate(objs)}),
                                separators=(",", ":")))
    with open(os.path.join(a.dir, "observed.json"), "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid5(ns, "bundle"), "objects": bundle}, f)
    with open(os.path.join(a.dir, "observed.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
