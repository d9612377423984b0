#!/usr/bin/env python3
"""measure.py PORT PID CID KEYS IDS — the measuring half of bench/sparse/run.sh:
server CPU per page (utime+stime of PID from /proc) for each reader and
request, as ratios to the owner's page; then a light client's p99 idle and
while eight sparse readers loop."""

import http.client
import json
import multiprocessing
import os
import sys
import time

PORT, PID, CID = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
KEYS = dict(line.split() for line in open(sys.argv[4]))
IDS = json.load(open(sys.argv[5]))
PAGES = int(os.environ.get("PAGES", "200"))
LIGHT = int(os.environ.get("LIGHT", "400"))
TAXII = "application/taxii+json;version=2.1"
TICK = os.sysconf("SC_CLK_TCK")
BASE = "/api1/collections/%s/" % CID
REQUESTS = {
    "objects": BASE + "objects/?limit=100",
    "manifest": BASE + "manifest/?limit=100",
    "first": BASE + "objects/?match[version]=first&limit=100",
    "200 ids": BASE + "objects/?limit=100&match[id]=" + ",".join(IDS),
}


def cpu_s():
    with open("/proc/%d/stat" % PID) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def get(conn, path, key):
    conn.request("GET", path, headers={"Accept": TAXII, "Authorization": "Bearer " + key})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, (r.status, body[:200])
    return body


def per_page(path, key):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    n = len(json.loads(get(conn, path, key)).get("objects", []))
    t0 = cpu_s()
    for _ in range(PAGES):
        get(conn, path, key)
    conn.close()
    return (cpu_s() - t0) / PAGES, n


def loop(key, stop):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    while not stop.is_set():
        for path in REQUESTS.values():
            get(conn, path, key)


def p99():
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    times = []
    for _ in range(LIGHT):
        t0 = time.perf_counter()
        get(conn, "/taxii2/", KEYS["owner"])
        times.append(time.perf_counter() - t0)
    conn.close()
    times.sort()
    return times[int(len(times) * 0.99) - 1]


def main():
    readers = ["owner", "r5", "r500", "r50000"]
    if os.environ.get("P99_ONLY"):
        light_p99(os.environ["P99_ONLY"])
        return
    print("== server CPU per page (%d pages each), ratio to the owner's page" % PAGES)
    print("%-9s %-8s %9s %8s %7s" % ("request", "reader", "ms/page", "objects", "ratio"))
    worst = 0.0
    for name, path in REQUESTS.items():
        owner = None
        for r in readers:
            s, n = per_page(path, KEYS[r])
            # /proc ticks are 10 ms: below that per run, the page is too cheap to resolve.
            owner = owner if owner is not None else max(s, 1e-9)
            ratio = s / owner
            worst = max(worst, ratio) if r != "owner" else worst
            print("%-9s %-8s %9.3f %8d %7.2f" % (name, r, s * 1e3, n, ratio))
    print("RESULT worst_ratio %.2f (goal <= 3)" % worst)
    light_p99("turns")


def light_p99(label):
    idle = p99()
    stop = multiprocessing.Event()
    procs = [multiprocessing.Process(target=loop, args=(KEYS["r5"], stop)) for _ in range(8)]
    for p in procs:
        p.start()
    time.sleep(1)
    busy = p99()
    stop.set()
    for p in procs:
        p.join()
    print("== GET /taxii2/ p99 (%s): idle %.2f ms, eight sparse readers looping %.2f ms: %.2fx"
          " (goal <= 1.5x)" % (label, idle * 1e3, busy * 1e3, busy / idle))
    print("RESULT p99_ratio_%s %.2f" % (label, busy / idle))


if __name__ == "__main__":
    main()
