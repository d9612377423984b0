#!/usr/bin/env python3
"""gen.py — the formats benchmark's inputs (bench/formats/run.sh): COUNT values
(domains, IPv4 addresses, SHA-256 hashes, URLs in turn; documentation ranges
and reserved names) as one MISP event with COUNT to_ids attributes, as a CSV
file (type,value,first_seen) and as a list of domains. Deterministic.

`gen.py --export OUT COUNT` writes the MISP export's store instead: COUNT
attributes, 1% of them in MISP events of 500 attributes (OUT.events.json, a
{"response":[…]} list) and the others loose, 1,000 a day over as many days
as it takes (OUT.loose.csv): a feed that grows day by day."""
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


def unique_values(count):
    """As values(), but never the same twice however many (IPv6 in 2001:db8::/32)."""
    for i, (t, v) in enumerate(values(count)):
        if t == "ip-dst":
            v = "2001:db8::%x:%x" % (i >> 16, i & 0xffff)
        yield t, v


def export_store(out, count):
    in_events = max(500, count // 100 // 500 * 500)
    events = []
    vals = unique_values(count)
    for e in range(in_events // 500):
        ts = 1700000000 + e * 3600
        attrs = []
        for i in range(500):
            t, v = next(vals)
            attrs.append({"uuid": "5e1c%04x-0000-4000-8000-%012x" % (e, i), "type": t,
                          "category": "Network activity", "value": v, "to_ids": True, "timestamp": str(ts)})
        events.append({"Event": {"uuid": "5e1c%04x-ffff-4000-8000-000000000000" % e, "info": "bench event %d" % e,
                                 "timestamp": str(ts), "published": True, "publish_timestamp": str(ts),
                                 "Orgc": {"name": "bench", "uuid": "5e1c0000-eeee-4000-8000-000000000000"},
                                 "Tag": [{"name": "tlp:green"}], "Attribute": attrs}})
    with open(out + ".events.json", "w") as f:
        json.dump({"response": events}, f, separators=(",", ":"))
    csvtype = {"domain": "domain-name", "ip-dst": "ipv6-addr", "sha256": "file-sha256", "url": "url"}
    with open(out + ".loose.csv", "w") as f:
        f.write("type,value,first_seen\n")
        for i, (t, v) in enumerate(vals):
            day = 1700006400 + (i // 1000) * 86400
            f.write("%s,%s,%d\n" % (csvtype[t], v, day + i % 1000))


def main():
    if sys.argv[1] == "--export":
        export_store(sys.argv[2], int(sys.argv[3]))
        return
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
