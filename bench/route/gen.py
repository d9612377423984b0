#!/usr/bin/env python3
"""gen.py — the route benchmark's input (bench/route/run.sh): constituents
with RANGES ranges (nine in ten IPv4 /24s, one in ten IPv6 /48s, and every
hundredth constituent also an enclosing /16, so longest prefix matters) and
DOMAINS domains, and ROWS report rows in IntelMQ's fields: four in five
about an IPv4 address, one in ten IPv6, one in ten a host name (a subdomain
of a constituent's domain), about one in ten owned by nobody. Deterministic.

    gen.py OUT_PREFIX ROWS RANGES DOMAINS
"""
import random
import sys

CLASSES = ["infected-system", "vulnerable-system", "scanner", "brute-force", "phishing",
           "ddos-amplifier", "c2-server", "malware-distribution"]


def v4(n):
    return "%d.%d.%d.%d" % (n >> 24 & 255, n >> 16 & 255, n >> 8 & 255, n & 255)


def main():
    out, rows, ranges, domains = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(19)
    nconst = domains
    per = max(1, ranges // nconst)
    n4 = ranges * 9 // 10
    base4 = 11 << 24
    with open(out + ".constituents.csv", "w") as f:
        f.write("name,org,contacts,ranges,asns,domains,lang\n")
        r = 0
        for c in range(nconst):
            rs = []
            for _ in range(per):
                if r < ranges:
                    if r < n4:
                        rs.append("%s/24" % v4(base4 + r * 256))
                    else:
                        rs.append("2001:db8:%x::/48" % (r - n4))
                    r += 1
            if c % 100 == 0 and c // 100 < 200:
                rs.append("%s/16" % v4((200 << 24) + (c // 100) * 65536))
            f.write("c%d,org%d,noc@c%d.example,%s,%d,c%d.example,en\n"
                    % (c, c % 1000, c, " ".join(rs), 64512 + c, c))
    ts = "2026-11-%02dT%02d:%02d:%02dZ"
    with open(out + ".rows.csv", "w") as f:
        f.write("time.source,source.ip,source.fqdn,classification.type,source.port\n")
        for i in range(rows):
            t = ts % (1 + i % 28, i % 24, i % 60, (i * 7) % 60)
            k = rnd.random()
            cls = CLASSES[i % len(CLASSES)]
            port = rnd.randrange(1, 65536)
            if k < 0.8:
                if k < 0.72:
                    a = v4(base4 + rnd.randrange(n4) * 256 + rnd.randrange(256))
                elif k < 0.76:
                    a = v4((200 << 24) + rnd.randrange(200) * 65536 + rnd.randrange(65536))
                else:
                    a = v4((150 << 24) + rnd.randrange(1 << 20))   # nobody's
                f.write("%s,%s,,%s,%d\n" % (t, a, cls, port))
            elif k < 0.9:
                f.write("%s,2001:db8:%x::%x,,%s,%d\n"
                        % (t, rnd.randrange(ranges - n4 + 500), rnd.randrange(1 << 16), cls, port))
            else:
                c = rnd.randrange(nconst + nconst // 10)
                f.write("%s,,www%d.c%d.example,%s,\n" % (t, i % 7, c, cls))


if __name__ == "__main__":
    main()
