#!/usr/bin/env python3
"""gen.py — the formats benchmark's inputs (bench/formats/run.sh): COUNT values
(domains, IPv4 addresses, SHA-256 hashes, URLs in turn; documentation ranges
and reserved names) as one MISP event with COUNT to_ids attributes, as a CSV
file (type,value,first_seen) and as a list of domains. Deterministic."""
import hashlib
import json
import sys


def values(count):
    for i in range(count):
        k = i % 4
        if k == 0:
            yield "domain", "host-%d.bench.example" % i
        elif k == 1:
            yield "ip-dst", "198.%d.%d.%d" % (18 + (i >> 16) % 2, (i >> 8) & 255, i & 255)
        elif k == 2:
            yield "sha256", hashlib.sha256(b"%d" % i).hexdigest()
        else:
            yield "url", "https://bench.example/p/%d" % i


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    ts = 1700000000
    attrs = []
    for i, (t, v) in enumerate(values(count)):
        attrs.append({"uuid": "5e1c0000-0000-4000-8000-%012x" % i, "type": t, "category": "Network activity",
                      "value": v, "to_ids": True, "timestamp": str(ts), "comment": "bench %d" % i})
    ev = {"Event": {"uuid": "5e1c0000-ffff-4000-8000-000000000000", "info": "formats benchmark",
                    "timestamp": str(ts), "published": False,
                    "Orgc": {"name": "bench", "uuid": "5e1c0000-eeee-4000-8000-000000000000"},
                    "Tag": [{"name": "tlp:green"}], "Attribute": attrs}}
    with open(out + ".misp.json", "w") as f:
        json.dump(ev, f, separators=(",", ":"))
    csvtype = {"domain": "domain-name", "ip-dst": "ipv4-addr", "sha256": "file-sha256", "url": "url"}
    with open(out + ".csv", "w") as f:
        f.write("type,value,first_seen\n")
        for t, v in values(count):
            f.write("%s,%s,2023-11-14T22:13:20Z\n" % (csvtype[t], v))


if __name__ == "__main__":
    main()
