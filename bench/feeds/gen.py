#!/usr/bin/env python3
"""gen.py OUT COUNT — a STIX bundle of COUNT indicators for the feeds
benchmark: domains (40%), IPv4 addresses and networks (30%), http URLs
(10%), SHA-256 hashes (10%), IPv6 addresses (10%), all TLP:CLEAR, live."""
import json
import sys
import uuid

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def pattern(i):
    k = i % 10
    if k < 4:
        return "[domain-name:value = 'h%d.bench-%d.example']" % (i, i % 977)
    if k < 6:
        return "[ipv4-addr:value = '%d.%d.%d.%d']" % (10 + (i >> 24) % 200, (i >> 16) & 255,
                                                     (i >> 8) & 255, i & 255)
    if k < 7:
        return "[ipv4-addr:value ISSUBSET '%d.%d.%d.0/24']" % (100 + (i >> 24) % 100,
                                                               (i >> 16) & 255, (i >> 8) & 255)
    if k < 8:
        return "[url:value = 'http://u%d.example/p/%d?q=%d']" % (i % 5000, i, i % 7)
    if k < 9:
        return "[file:hashes.'SHA-256' = '%064x']" % (i * 2654435761)
    return "[ipv6-addr:value = '2001:db8:%x:%x::%x']" % ((i >> 16) & 0xffff, i & 0xffff, i % 65535 + 1)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    with open(out, "w") as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid4())
        for i in range(count):
            o = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--%s" % uuid.uuid4(),
                 "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
                 "name": "bench indicator %d" % i, "indicator_types": ["malicious-activity"],
                 "pattern": pattern(i), "pattern_type": "stix",
                 "valid_from": "2025-01-01T00:00:00Z", "object_marking_refs": [CLEAR]}
            f.write(("," if i else "") + "\n" + json.dumps(o, separators=(",", ":")))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
