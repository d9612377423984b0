#!/usr/bin/env python3
"""Federation over a thin, lossy link (issue 25, `make test-link`).

Two network namespaces, each running a real `tix serve`, joined by one link
of 64 kbit/s each way, 300 ms delay each way and 5% packet loss, with two
30-second outages during the run (all packets lost, then the link down).
Node B's `tix sync` pulls A's objects and pushes its own: both stores end
with the same 2,000 objects (every one present, the same digest), a run cut
by an outage resumes without fetching a stored page again (the peer's
counters: every object received exactly once), and the bytes on the wire
are reported (the sync's counters and the link's own). Then `tix peer add
--limit-rate` is shown honoured: a rate-limited pull over the same link
moves at most twice the limit on average (one-sided: a loaded machine only
makes it slower), while an unlimited pull of the same data is shown for
comparison.

The link is `tc netem` on a veth pair when the kernel has it (sch_netem);
a kernel built without netem gets the same link from a user-space
emulator in this process (a TUN device in each namespace; packets are
delayed, rate-limited and dropped as netem would), and the test says
which. Needs root. A kernel that refuses network namespaces (or has
neither netem nor TUN) makes the test say so and exit 77: skipped, which
tools/run_suites.py reports as such.

    TIX=build/tix python3 tests/e2e/test_link.py
    TIX_LINK=tun ...      (the user-space link even where netem exists)
"""

import collections
import fcntl
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

TIX = os.path.abspath(os.environ.get("TIX", "build/tix"))
SKIP = 77
RATE_BPS = 64000        # bits per second, each way
DELAY = 0.300           # seconds, each way
LOSS = 0.05
OUTAGE = 30.0           # seconds
A_OBJECTS, B_OBJECTS = 1500, 500   # 2,000 in all, on both nodes at the end
PAGE_BYTES = "16K"      # tix sync --page-bytes: a page is a few seconds of this link
LIMIT = 512             # tix peer add --limit-rate, bytes per second
RATED = 40              # objects of the rate-limited pull (about 16 KB gzipped)
PHASE_DEADLINE = 480    # seconds for the converging runs, outages included
PID = os.getpid()
NS_A, NS_B = "tixlink-a-%d" % PID, "tixlink-b-%d" % PID
IP_A, IP_B = "10.199.%d.1" % (PID % 250), "10.199.%d.2" % (PID % 250)
PORT = 8600
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


def log(msg):
    print("[%6.1f s] %s" % (time.monotonic() - T0, msg), flush=True)


def run(*argv, check=True, ns=None):
    argv = [str(a) for a in argv]
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                                 (r.stderr or r.stdout)[-2000:]))
    return r


def skip(why):
    print("SKIP test_link: %s" % why, flush=True)
    sys.exit(SKIP)


# ---- the link ---------------------------------------------------------------------------

class NetemLink:
    """A veth pair, tc netem on each end's egress."""

    name = "tc netem on a veth pair"

    def __init__(self):
        self.dev = {NS_A: "tixva%d" % (PID % 10000), NS_B: "tixvb%d" % (PID % 10000)}
        run("ip", "link", "add", self.dev[NS_A], "type", "veth", "peer", "name", self.dev[NS_B])
        for ns, ip in ((NS_A, IP_A), (NS_B, IP_B)):
            run("ip", "link", "set", self.dev[ns], "netns", ns)
            run("ip", "addr", "add", ip + "/24", "dev", self.dev[ns], ns=ns)
            run("ip", "link", "set", self.dev[ns], "up", ns=ns)
        for ns in (NS_A, NS_B):
            r = run("tc", "qdisc", "add", "dev", self.dev[ns], "root", *self.netem(LOSS),
                    ns=ns, check=False)
            if r.returncode != 0:
                raise OSError("tc netem: " + (r.stderr.strip() or "refused"))

    @staticmethod
    def netem(loss):
        return ["netem", "rate", "%dbit" % RATE_BPS, "delay", "%dms" % (DELAY * 1000),
                "loss", "%g%%" % (loss * 100), "limit", "1000"]

    def set_loss(self, loss):
        for ns in (NS_A, NS_B):
            run("tc", "qdisc", "change", "dev", self.dev[ns], "root", *self.netem(loss), ns=ns)

    def set_up(self, up):
        for ns in (NS_A, NS_B):
            run("ip", "link", "set", self.dev[ns], "up" if up else "down", ns=ns)

    def carried(self):
        """Bytes that left each end (IP packets): {A->B, B->A}."""
        out = {}
        for ns, key in ((NS_A, "A->B"), (NS_B, "B->A")):
            r = run("cat", "/sys/class/net/%s/statistics/tx_bytes" % self.dev[ns], ns=ns)
            out[key] = int(r.stdout)
        return out

    def close(self):
        pass  # the veth goes with its namespaces


TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000


class Direction:
    """One way of the emulated link: loss, then a queue drained at RATE_BPS,
    each packet delivered DELAY after it has been sent."""

    def __init__(self, link, src, dst, seed):
        self.link, self.src, self.dst = link, src, dst
        self.rnd = random.Random(seed)
        self.queue = collections.deque()
        self.cv = threading.Condition()
        self.free_at = 0.0
        self.delivered = self.dropped = 0
        for target in (self.reader, self.writer):
            threading.Thread(target=target, daemon=True).start()

    def reader(self):
        while not self.link.stopped:
            if not select.select([self.src], [], [], 0.2)[0]:
                continue
            try:
                pkt = os.read(self.src, 65536)
            except OSError:
                time.sleep(0.05)  # the device is down
                continue
            if self.rnd.random() < self.link.loss or len(self.queue) >= 1000:
                self.dropped += 1
                continue
            now = time.monotonic()
            self.free_at = max(now, self.free_at) + len(pkt) * 8.0 / RATE_BPS
            with self.cv:
                self.queue.append((self.free_at + DELAY, pkt))
                self.cv.notify()

    def writer(self):
        while not self.link.stopped:
            with self.cv:
                while not self.queue and not self.link.stopped:
                    self.cv.wait(0.2)
                if self.link.stopped:
                    return
                at, pkt = self.queue[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self.cv.wait(min(wait, 0.2))
                    continue
                self.queue.popleft()
            try:
                os.write(self.dst, pkt)
                self.delivered += len(pkt)
            except OSError:
                self.dropped += 1


class TunLink:
    """The same link from user space: a TUN device in each namespace, the
    packets between them carried by this process (for kernels without
    sch_netem)."""

    name = "a user-space emulator between TUN devices (this kernel has no sch_netem)"

    def __init__(self):
        self.stopped = False
        self.loss = LOSS
        self.fd, self.dev = {}, {NS_A: "tixta%d" % (PID % 10000), NS_B: "tixtb%d" % (PID % 10000)}
        for ns, ip, peer in ((NS_A, IP_A, IP_B), (NS_B, IP_B, IP_A)):
            fd = os.open("/dev/net/tun", os.O_RDWR)
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", self.dev[ns].encode(),
                                                  IFF_TUN | IFF_NO_PI))
            self.fd[ns] = fd
            run("ip", "link", "set", self.dev[ns], "netns", ns)
            run("ip", "addr", "add", ip, "peer", peer, "dev", self.dev[ns], ns=ns)
            run("ip", "link", "set", self.dev[ns], "up", ns=ns)
        self.ab = Direction(self, self.fd[NS_A], self.fd[NS_B], 25)
        self.ba = Direction(self, self.fd[NS_B], self.fd[NS_A], 52)

    def set_loss(self, loss):
        self.loss = loss

    def set_up(self, up):
        for ns in (NS_A, NS_B):
            run("ip", "link", "set", self.dev[ns], "up" if up else "down", ns=ns)
        if up:  # the peer route goes with the link; it comes back with the address
            for ns, ip, peer in ((NS_A, IP_A, IP_B), (NS_B, IP_B, IP_A)):
                run("ip", "addr", "replace", ip, "peer", peer, "dev", self.dev[ns], ns=ns)

    def carried(self):
        return {"A->B": self.ab.delivered, "B->A": self.ba.delivered}

    def close(self):
        self.stopped = True
        for d in (self.ab, self.ba):
            with d.cv:
                d.cv.notify_all()
        for fd in self.fd.values():
            os.close(fd)


# ---- the nodes ---------------------------------------------------------------------------

def indicator(n, node, description=None):
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uuid.uuid4(),
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": "link test %s %d" % (node, n),
         "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (ord(node) & 255, (n >> 8) & 255,
                                                           n & 255),
         "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
         "object_marking_refs": [CLEAR]}
    if description:
        o["description"] = description
    return o


class Node:
    def __init__(self, root, name, ns, ip):
        self.name, self.ns, self.ip, self.org = name, ns, ip, "org-" + name.lower()
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.db = os.path.join(self.dir, "tix.db")
        self.access_log = os.path.join(self.dir, "access.log")
        self.proc = None
        self.orgs = set()
        self.ensure_org(self.org)
        self.cid = {}

    def ensure_org(self, org):
        if org not in self.orgs:
            self.tix("admin", "org", "add", org)
            self.orgs.add(org)

    def tix(self, *args, stdin=None, ns=False):
        argv = [TIX] + [str(a) for a in args] + ["--db", self.db]
        if ns:
            argv = ["ip", "netns", "exec", self.ns] + argv
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, "tix %s (%s): exit %d: %s" % (
            " ".join(map(str, args)), self.name, r.returncode, r.stderr[-2000:])
        return r.stdout

    def collection(self, title, readers=()):
        out = self.tix("admin", "collection", "add", title, "--read", self.org, "--write",
                       self.org)
        self.cid[title] = re.search(r"[0-9a-f-]{36}", out).group(0)
        for org in readers:
            self.ensure_org(org)
            self.tix("admin", "collection", "grant", title, "--org", org, "--read", "--write")

    def load(self, title, objs):
        path = os.path.join(self.dir, "load-%s.json" % title)
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objs}, f)
        self.tix("import", "--quiet", "--collection", title, "--org", self.org, path)

    def account(self, other, collections):
        """A key here for node `other`'s sync, reading and writing collections."""
        self.ensure_org(other.org)
        user = "sync-" + other.name.lower()
        if user not in self.orgs:
            self.tix("admin", "user", "add", user, "--org", other.org, "--role", "analyst")
            self.orgs.add(user)
        for title in collections:
            self.tix("admin", "collection", "grant", title, "--org", other.org, "--read",
                     "--write")
        out = self.tix("admin", "key", "add", "--user", user)
        return re.findall(r"^\s*(tix_\S+)\s*$", out, re.M)[0]

    def add_peer(self, name, other, remote, local, direction, *extra):
        key = other.account(self, [remote])
        self.tix("peer", "add", name, "--url", "http://%s:%d/taxii2/" % (other.ip, PORT),
                 "--remote-collection", other.cid[remote], "--local-collection", local,
                 "--key-stdin", "--direction", direction, "--org", other.org, *extra,
                 stdin=key + "\n")

    def serve(self):
        self.err = open(os.path.join(self.dir, "serve.stderr"), "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, TIX, "serve", "--listen", "%s:%d" % (self.ip, PORT),
             "--insecure-http", "--threads", "2", "--db", self.db, "--access-log",
             self.access_log], stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        probe = "import socket; socket.create_connection(('%s', %d), timeout=1).close()" % (
            self.ip, PORT)
        for _ in range(200):
            if self.proc.poll() is not None:
                raise AssertionError("tix serve (%s) exited: %s" % (self.name, self.stderr()))
            if run("python3", "-c", probe, ns=self.ns, check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("tix serve (%s) never listened" % self.name)

    def stderr(self):
        with open(os.path.join(self.dir, "serve.stderr"), errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        self.err.close()
        err = self.stderr()
        assert rc == 0, "tix serve (%s) exited with %d: %s" % (self.name, rc, err)
        assert not [m for m in SANITIZER_MARKS if m in err], err

    def peer_state(self, peer):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM peer_state WHERE peer = ?", (peer,)).fetchone()
            return dict(row) if row else {}
        finally:
            con.close()

    def digests(self, title):
        """{id: SHA-256 of the object's canonical JSON} of a collection."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=30)
        try:
            rows = con.execute("SELECT o.id, o.body FROM objects o JOIN collection_objects m"
                               " ON m.vid = o.vid JOIN collections c ON c.ckey = m.ckey"
                               " WHERE c.title = ?", (title,)).fetchall()
        finally:
            con.close()
        out = {}
        for oid, body in rows:
            assert oid not in out, "%s holds %s twice" % (self.name, oid)
            canon = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
            out[oid] = hashlib.sha256(canon.encode()).hexdigest()
        return out

    def sync(self, *args):
        """Starts `tix sync --once` inside the namespace."""
        return subprocess.Popen(["ip", "netns", "exec", self.ns, TIX, "sync", "--once", "--db",
                                 self.db] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


REPORT = re.compile(r"pulled (\d+) objects in (\d+) pages \((\d+) new, (\d+) rejected\); pushed "
                    r"(\d+) \((\d+) refused, (\d+) kept home\); (\d+) bytes in, (\d+) out; (.*)")


def report_of(stderr):
    m = REPORT.search(stderr)
    assert m, "no report line from tix sync: %s" % stderr[-2000:]
    assert not [s for s in SANITIZER_MARKS if s in stderr], stderr[-3000:]
    g = m.groups()
    return {"in": int(g[0]), "pages": int(g[1]), "new": int(g[2]), "out": int(g[4]),
            "bytes_in": int(g[7]), "bytes_out": int(g[8]), "verdict": g[9]}


# ---- the test -----------------------------------------------------------------------------

def converge_through_outages(link, a, b):
    """B's sync runs (pull A's objects, push its own) until one converges;
    meanwhile one outage of lost packets during the pull and one of the
    link down during the push. Returns what was measured."""
    outages, runs = [], []
    started = time.monotonic()

    def outage(kind):
        log("outage %d: %s for %.0f s" % (len(outages) + 1, kind, OUTAGE))
        outages.append(kind)
        if kind == "all packets lost":
            link.set_loss(1.0)
            time.sleep(OUTAGE)
            link.set_loss(LOSS)
        else:
            link.set_up(False)
            time.sleep(OUTAGE)
            link.set_up(True)
        log("outage %d over" % len(outages))

    def watch():
        # The first outage once a few pages are stored, the second once a
        # bundle of the push is acknowledged: both cut a walk in progress.
        plan = [("objects_in", 300, A_OBJECTS, "all packets lost"),
                ("objects_out", 100, B_OBJECTS, "link down")]
        for field, low, high, kind in plan:
            while time.monotonic() - started < PHASE_DEADLINE:
                v = b.peer_state("a").get(field, 0)
                if low <= v < high:
                    outage(kind)
                    break
                if v >= high:
                    break
                time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    while True:
        assert time.monotonic() - started < PHASE_DEADLINE, \
            "no convergence in %d s: %s" % (PHASE_DEADLINE, runs)
        # Two attempts per request: an outage may end a run (as a node's
        # next interval would, the next run starts from what was committed).
        p = b.sync("--peer", "a", "--page-bytes", PAGE_BYTES, "--bundle-objects", "100",
                   "--timeout", "20", "--attempts", "2")
        _, err = p.communicate(timeout=PHASE_DEADLINE)
        rep = report_of(err)
        runs.append(rep)
        log("run %d: exit %d: %s" % (len(runs), p.returncode, REPORT.search(err).group(0)))
        if p.returncode == 0 and rep["verdict"] == "converged":
            break
        assert len(runs) < 30, "too many runs: %s" % runs
        time.sleep(3)  # the next run, a little later
    took = time.monotonic() - started
    watcher.join(timeout=2 * OUTAGE + 10)
    return outages, runs, took


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, a veth pair or TUN devices, tc)")
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            raise SystemExit("FAIL test_link: %s is missing (iproute2: sh tools/deps.sh test)"
                             % tool)
    r = run("ip", "netns", "add", NS_A, check=False)
    if r.returncode != 0:
        skip("the kernel refused a network namespace (ip netns add: %s)" % r.stderr.strip())
    root = tempfile.mkdtemp(prefix="tix-link-")
    link, nodes, ok = None, [], False
    try:
        run("ip", "netns", "add", NS_B)
        for ns in (NS_A, NS_B):
            run("ip", "link", "set", "lo", "up", ns=ns)
        why_not_netem = "TIX_LINK=tun"
        if os.environ.get("TIX_LINK", "") != "tun":
            try:
                link = NetemLink()
            except (OSError, AssertionError) as e:
                why_not_netem = str(e).strip().splitlines()[-1]
                for ns in (None, NS_A, NS_B):  # what a half-made veth left
                    run("ip", "link", "del", "tixva%d" % (PID % 10000), ns=ns, check=False)
                link = None
        if link is None:
            if not os.path.exists("/dev/net/tun"):
                skip("no tc netem (%s) and no /dev/net/tun" % why_not_netem)
            link = TunLink()
            log("the link: %s (%s)" % (link.name, why_not_netem))
        else:
            log("the link: %s" % link.name)
        log("%d bit/s each way, %.0f ms delay each way, %.0f%% loss, two %.0f s outages"
            % (RATE_BPS, DELAY * 1000, LOSS * 100, OUTAGE))

        a, b = Node(root, "A", NS_A, IP_A), Node(root, "B", NS_B, IP_B)
        nodes = [a, b]
        a.collection("shared")
        b.collection("shared", readers=[a.org])
        b.collection("rated")
        a.collection("rated")
        a.collection("free")
        a.load("shared", [indicator(i, "A") for i in range(A_OBJECTS)])
        b.load("shared", [indicator(i, "B") for i in range(B_OBJECTS)])
        rnd = random.Random(64)
        # Data that gzip cannot shrink much, for the rate limit's pull.
        b.load("rated", [indicator(i, "R", "".join("%032x" % rnd.getrandbits(128)
                                                    for _ in range(20))) for i in range(RATED)])
        a.ensure_org(b.org)
        a.tix("admin", "collection", "grant", "shared", "--org", b.org, "--read")
        b.add_peer("a", a, "shared", "shared", "both")
        a.add_peer("b-limited", b, "rated", "rated", "pull", "--limit-rate", str(LIMIT))
        a.add_peer("b-free", b, "rated", "free", "pull")
        a.serve()
        b.serve()
        log("A holds %d objects, B %d; both serve" % (A_OBJECTS, B_OBJECTS))

        # 1. Convergence both ways through two outages.
        outages, runs, took = converge_through_outages(link, a, b)
        da, db = a.digests("shared"), b.digests("shared")
        assert len(da) == A_OBJECTS + B_OBJECTS, len(da)
        assert da == db, "the stores differ: %d only on A, %d only on B, %d changed" % (
            len(set(da) - set(db)), len(set(db) - set(da)),
            sum(1 for k in da if k in db and da[k] != db[k]))
        whole = hashlib.sha256("".join(k + v for k, v in sorted(da.items())).encode())
        log("both stores hold the same %d objects; digest %s" % (len(da), whole.hexdigest()[:16]))
        assert len(outages) == 2, "the outages did not land inside the walks: %s" % outages
        st = b.peer_state("a")
        # Pages and their cursor commit together: a page stored before an
        # outage is never fetched again, so every object came exactly once.
        assert st["objects_in"] == A_OBJECTS and st["objects_stored"] == A_OBJECTS, st
        assert sum(r["in"] for r in runs) == A_OBJECTS, runs
        # A bundle whose acknowledgement an outage ate may go twice (the
        # store keeps one copy); no other.
        assert B_OBJECTS <= st["objects_out"] <= B_OBJECTS + 2 * 100, st
        pages = sum(r["pages"] for r in runs)
        with open(a.access_log) as f:
            served = sum(1 for line in f if " GET /api1/collections/%s/objects/ 200 "
                         % a.cid["shared"] in line)
        log("B stored %d pages in %d runs (%d ended by an outage, each next one resumed "
            "from the last committed page or bundle); A answered %d page requests (the "
            "rest were lost on the link)" % (pages, len(runs), len(runs) - 1, served))
        assert served >= pages, (served, pages)
        carried = link.carried()
        wire = st["bytes_in"] + st["bytes_out"]
        # tix's count of bytes sent is what the link carried B->A, give or
        # take headers, retransmissions and what an outage swallowed.
        assert st["bytes_out"] <= 1.5 * carried["B->A"], (st["bytes_out"], carried)
        log("converged in %.1f s (two outages of %.0f s included); on the wire (tix sync's "
            "count): %d bytes in, %d out, %.1f bytes per object; the link carried %d bytes "
            "A->B and %d B->A (IP, retransmissions included), %.1f per object"
            % (took, OUTAGE, st["bytes_in"], st["bytes_out"], wire / len(da),
               carried["A->B"], carried["B->A"],
               (carried["A->B"] + carried["B->A"]) / len(da)))

        # 2. --limit-rate: the same pull with and without the limit.
        rates = {}
        for peer in ("b-free", "b-limited"):
            t = time.monotonic()
            p = a.sync("--peer", peer, "--timeout", "60")
            _, err = p.communicate(timeout=600)
            secs = time.monotonic() - t
            rep = report_of(err)
            assert p.returncode == 0 and rep["in"] == RATED, err
            rates[peer] = rep["bytes_in"] / secs
            log("%s: %d bytes in %.1f s: %.0f bytes/s" % (peer, rep["bytes_in"], secs,
                                                         rates[peer]))
            assert rep["bytes_in"] > 10 * LIMIT, rep  # enough for the limit to matter
        assert rates["b-limited"] <= 2 * LIMIT, \
            "--limit-rate %d: the pull moved %.0f bytes/s" % (LIMIT, rates["b-limited"])
        log("--limit-rate %d honoured: %.0f bytes/s (%.2f of the limit); unlimited: %.0f"
            % (LIMIT, rates["b-limited"], rates["b-limited"] / LIMIT, rates["b-free"]))
        for n in nodes:
            n.stop()
        ok = True
        log("test_link passed")
    finally:
        for n in nodes:
            try:
                n.stop()
            except AssertionError as e:
                if ok:
                    raise
                print(e)
        if link is not None:
            link.close()
        for ns in (NS_A, NS_B):
            run("ip", "netns", "del", ns, check=False)
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("(kept %s)" % root)


if __name__ == "__main__":
    T0 = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        main()
    except AssertionError as e:
        print("FAIL test_link: %s" % e, flush=True)
        sys.exit(1)
