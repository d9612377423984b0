#!/usr/bin/env python3
"""footprint.py — tix's memory and size budgets (issue 25), measured.

  1. idle RSS of `tix serve` (default settings, an empty store): median of 3
     starts, read from /proc 2 s after it listens (goal <= 20 MB);
  2. RSS of `tix serve` while CLIENTS clients (100) page through a store of
     OBJECTS objects (1,000,000) for SECONDS, each from a random point of the
     collection, following `next`, on keep-alive connections: the peak
     (VmHWM) and the median of samples every 0.2 s (goal <= 200 MB);
  3. `tix match` RSS per indicator: peak RSS (getrusage of the child) with
     10,000 and 100,000 indicators, read from a bundle (--bundle) and from
     the compiled index file a sensor uses (--index), over the same small
     log; the difference over 90,000;
  4. the binary's size, as built and stripped.

The store is built once (bench/ingest/gen.py, 100,000 objects a file) and
kept in WORK/store-OBJECTS.db. Each figure is printed with its goal and as a
ratio to the reference recorded in bench/README.md (lines
"- reference NAME = VALUE" under "## Footprint"); without a reference the
script says so. Usage: see run.sh.
"""

import argparse
import gzip
import http.client
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

MIB = 1024 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Serve:
    def __init__(self, tix, db, work):
        self.port = free_port()
        self.err = open(os.path.join(work, "serve.stderr"), "ab")
        self.proc = subprocess.Popen([tix, "serve", "--db", db, "--listen",
                                      "127.0.0.1:%d" % self.port, "--access-log", "off"],
                                     stdout=self.err, stderr=self.err)
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise SystemExit("footprint: tix serve did not start (see %s)" % self.err.name)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)
        self.err.close()


def tix_ok(tix, *args, stdin=None):
    r = subprocess.run([tix] + [str(a) for a in args], input=stdin, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise SystemExit("footprint: tix %s: %s" % (" ".join(map(str, args)), r.stderr[-1500:]))
    return r.stdout


def make_reader(tix, db):
    """An organisation, a collection and an admin key; the key."""
    tix_ok(tix, "admin", "org", "add", "bench", "--db", db)
    tix_ok(tix, "admin", "collection", "add", "bench", "--read", "bench", "--write", "bench",
           "--db", db)
    tix_ok(tix, "admin", "user", "add", "bench-admin", "--org", "bench", "--role", "admin",
           "--db", db)
    out = tix_ok(tix, "admin", "key", "add", "--user", "bench-admin", "--db", db)
    return re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]


def build_store(tix, work, objects, root):
    db = os.path.join(work, "store-%d.db" % objects)
    if os.path.exists(db):
        print("store: %s (kept from an earlier run)" % db)
        return db
    tmp = db + ".building"
    for p in (tmp, tmp + "-wal", tmp + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    t0 = time.monotonic()
    make_reader(tix, tmp)
    chunk = 100000
    gen = os.path.join(root, "bench", "ingest", "gen.py")
    for k, at in enumerate(range(0, objects, chunk)):
        n = min(chunk, objects - at)
        path = os.path.join(work, "chunk.json")
        subprocess.run([sys.executable, gen, path, "--count", str(n), "--seed", str(1000 + k)],
                       check=True, stdout=subprocess.DEVNULL)
        tix_ok(tix, "import", "--quiet", "--collection", "bench", "--org", "bench", path,
               "--db", tmp)
        os.remove(path)
        print("store: %d of %d objects (%.0f s)" % (at + n, objects, time.monotonic() - t0),
              flush=True)
    os.rename(tmp, db)
    for ext in ("-wal", "-shm"):
        if os.path.exists(tmp + ext):
            os.rename(tmp + ext, db + ext)
    return db


def key_of(tix, db):
    out = tix_ok(tix, "admin", "key", "add", "--user", "bench-admin", "--db", db)
    return re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]


def idle_rss(tix, work):
    db = os.path.join(work, "idle.db")
    for p in (db, db + "-wal", db + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    make_reader(tix, db)
    samples = []
    for _ in range(3):
        s = Serve(tix, db, work)
        time.sleep(2)
        samples.append(rss_kib(s.proc.pid))
        s.stop()
    return statistics.median(samples) / 1024.0


def fmt_time(us):
    t = time.gmtime(us // 1000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%06dZ" % (us % 1000000)


def clients_rss(tix, db, work, clients, seconds):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    lo, hi = con.execute("SELECT min(date_added), max(date_added) FROM collection_objects"
                         ).fetchone()
    cid = con.execute("SELECT id FROM collections WHERE title = 'bench'").fetchone()[0]
    con.close()
    key = key_of(tix, db)
    s = Serve(tix, db, work)
    path = "/api1/collections/%s/objects/" % cid
    stop = time.monotonic() + seconds
    counts = {"pages": 0, "bytes": 0, "errors": 0}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(i):
        rnd = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)
        hdr = {"Accept": "application/taxii+json;version=2.1",
               "Authorization": "Bearer " + key, "Accept-Encoding": "gzip"}
        start.wait()
        nxt, after = None, fmt_time(rnd.randrange(lo, hi))
        while time.monotonic() < stop:
            q = "?limit=100&added_after=" + after + ("&next=" + nxt if nxt else "")
            try:
                conn.request("GET", path + q, headers=hdr)
                r = conn.getresponse()
                body = r.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    counts["errors"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)
                continue
            with lock:
                counts["pages"] += 1
                counts["bytes"] += len(body)
                if r.status != 200:
                    counts["errors"] += 1
            if r.status == 200 and r.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            m = re.search(rb'"next":"([^"]+)"', body[:400]) if r.status == 200 else None
            if m and rnd.random() < 0.9:
                nxt = m.group(1).decode()
            else:  # a new walk from another point
                nxt, after = None, fmt_time(rnd.randrange(lo, hi))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    samples = []
    t0 = time.monotonic()
    while time.monotonic() < stop:
        samples.append(rss_kib(s.proc.pid))
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=130)
    took = time.monotonic() - t0
    hwm = rss_kib(s.proc.pid, "VmHWM")
    s.stop()
    return {"peak": hwm / 1024.0, "median": statistics.median(samples) / 1024.0,
            "pages_s": counts["pages"] / took, "errors": counts["errors"],
            "mb_s": counts["bytes"] / took / MIB}


def match_rss(tix, work, counts=(10000, 100000)):
    log = os.path.join(work, "match.log")
    with open(log, "w") as f:
        for i in range(2000):
            f.write("2026-12-02T10:00:00Z deny 192.0.2.%d -> 198.51.%d.%d:443 host-%d.example\n"
                    % (i % 250, (i >> 8) & 255, i & 255, i))
    out = {}
    for n in counts:
        objs = []
        for i in range(n):
            pat = ("[ipv4-addr:value = '10.%d.%d.%d']" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
                   if i % 2 else "[domain-name:value = 'bad-%d.example']" % i)
            objs.append({"type": "indicator", "spec_version": "2.1",
                         "id": "indicator--%s" % uuid.UUID(int=i + 1),
                         "created": "2024-01-01T00:00:00.000Z",
                         "modified": "2024-01-01T00:00:00.000Z", "pattern": pat,
                         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})
        bundle = os.path.join(work, "match-%d.json" % n)
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
        del objs
        index = os.path.join(work, "match-%d.idx" % n)
        tix_ok(tix, "match", "--quiet", "--bundle", bundle, "--index-out", index)
        for how, src in (("bundle", ["--bundle", bundle]), ("index", ["--index", index])):
            peaks = []
            for _ in range(3):
                # GNU time, not this process's rusage of its child: a
                # child vforked from this (large) Python would report
                # Python's RSS as its own peak.
                r = subprocess.run(["/usr/bin/time", "-f", "maxrss %M", tix, "match", "--quiet",
                                    "--threads", "1"] + src + [log], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
                m = re.search(r"^maxrss (\d+)$", r.stderr, re.M)
                if r.returncode not in (0, 1) or not m:
                    raise SystemExit("footprint: tix match failed: %s" % r.stderr[-500:])
                peaks.append(int(m.group(1)))  # KiB
            out[(how, n)] = statistics.median(peaks) / 1024.0
        os.remove(index)
        os.remove(bundle)
    a, b = counts
    return out, {how: (out[(how, b)] - out[(how, a)]) * MIB / (b - a)
                 for how in ("bundle", "index")}


def binary_size(tix, work):
    stripped = os.path.join(work, "tix.stripped")
    subprocess.run(["strip", "-o", stripped, tix], check=True)
    return os.path.getsize(tix) / MIB, os.path.getsize(stripped) / MIB


def references(readme):
    refs, inside = {}, False
    with open(readme) as f:
        for line in f:
            if line.startswith("## "):
                inside = line.startswith("## Footprint")
            m = re.match(r"- reference (\w+) = ([0-9.]+)", line) if inside else None
            if m:
                refs[m.group(1)] = float(m.group(2))
    return refs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tix", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--objects", type=int, default=1000000)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--readme", required=True)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.makedirs(a.work, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="tix-footprint-")
    try:
        version = tix_ok(a.tix, "--version").strip()
        print("footprint of %s (%s), load %.1f" % (version, a.tix, os.getloadavg()[0]))
        size, stripped = binary_size(a.tix, scratch)
        idle = idle_rss(a.tix, scratch)
        per_n, per_ind = match_rss(a.tix, scratch)
        db = build_store(a.tix, a.work, a.objects, root)
        cl = clients_rss(a.tix, db, scratch, a.clients, a.seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    refs = references(a.readme)
    rows = [
        ("idle_rss_mib", "idle RSS of tix serve, MiB", idle, 20),
        ("clients_rss_mib", "peak RSS, %d clients on %d objects, MiB" % (a.clients, a.objects),
         cl["peak"], 200),
        ("clients_rss_median_mib", "median RSS over that run, MiB", cl["median"], 200),
        ("match_bytes_per_indicator", "tix match --bundle RSS per indicator, bytes",
         per_ind["bundle"], None),
        ("match_index_bytes_per_indicator", "tix match --index RSS per indicator, bytes",
         per_ind["index"], None),
        ("binary_mib", "binary size, MiB", size, None),
        ("binary_stripped_mib", "binary size stripped, MiB", stripped, None),
    ]
    print()
    print("| figure | this run | goal | vs goal | reference | ratio to reference |")
    print("|---|---|---|---|---|---|")
    for key, what, v, goal in rows:
        ref = refs.get(key)
        print("| %s | %.2f | %s | %s | %s | %s |" % (
            what, v, "<= %d" % goal if goal else "-",
            ("%s (%.2f)" % ("PASS" if v <= goal else "MISS", v / goal)) if goal else "-",
            "%.2f" % ref if ref else "none", "%.2f" % (v / ref) if ref else "-"))
    print()
    print("tix match peak RSS: %s" % ", ".join("--%s, %d indicators: %.1f MiB" % (how, n, m)
                                               for (how, n), m in sorted(per_n.items())))
    print("the clients read %.0f pages/s (%.1f MiB/s of answers), %d errors" % (
        cl["pages_s"], cl["mb_s"], cl["errors"]))
    if not refs:
        print("no reference figures in %s yet: record this run's as the reference "
              "(lines '- reference NAME = VALUE' under '## Footprint')" % a.readme)
    print("reference lines for this run:")
    for key, _, v, _ in rows:
        print("- reference %s = %.2f" % (key, v))


if __name__ == "__main__":
    main()
