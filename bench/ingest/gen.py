#!/usr/bin/env python3
"""gen.py — the input of the ingest benchmark: one STIX 2.1 bundle of N
indicators (default 100,000, about 50 MB, ~500 bytes each), preceded by the
5 TLP 2.0 marking definitions and 5 producer identities they refer to.

Deterministic (fixed seed, fixed timestamps): the same N gives the same bytes.
Patterns vary over ipv4 / domain / url / sha256 / md5 (values in documentation
ranges and reserved names only); names, descriptions, labels, kill chain
phases, external references, markings and creators vary too. One object per
line, compact JSON.

Usage: gen.py OUTPUT [--count N] [--seed S]
"""

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import uuid

TLP_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP = [
    ("TLP:CLEAR", "clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    ("TLP:GREEN", "green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    ("TLP:AMBER", "amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    ("TLP:AMBER+STRICT", "amber+strict",
     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    ("TLP:RED", "red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
]
# weights of the markings on indicators: mostly GREEN/AMBER
TLP_WEIGHTS = [10, 40, 35, 10, 5]

PRODUCERS = ["Bench National CERT", "Bench Police Cyber Unit", "Bench Bank SOC",
             "Bench Telecom NOC", "Bench Regional Hub"]

WORDS = ["account", "secure", "login", "verify", "update", "billing", "support",
         "portal", "cloud", "mail", "cdn", "auth", "invoice", "payment", "wallet",
         "office", "docs", "share", "drive", "sync", "notice", "service", "access",
         "online", "bank", "id", "token", "signin", "reset", "alert"]
TLDS = [".example", ".test", ".example.com", ".example.net", ".example.org"]
PATHS = ["/login.php", "/auth/verify", "/gate.php", "/dl/update.exe", "/invoice.zip",
         "/wp-admin/x.php", "/api/v1/beacon", "/s/doc", "/secure/otp", "/c2/poll"]
FILES = ["invoice.exe", "update.exe", "setup.msi", "payload.dll", "loader.bin",
         "report.docm", "scan.pdf.exe", "driver.sys", "agent.apk", "kit.zip"]
FAMILIES = ["LedgerLeech", "NightQuill", "BorealRAT", "GlassDrop", "PaperKite",
            "SIMSpin", "FrostByte", "Quillwork", "Tidewater", "Kestrel"]
KILL_CHAIN = [("lockheed-martin-cyber-kill-chain", p) for p in
              ("reconnaissance", "weaponization", "delivery", "exploitation",
               "installation", "command-and-control", "actions-on-objectives")] + \
             [("mitre-attack", p) for p in
              ("initial-access", "execution", "persistence", "command-and-control",
               "exfiltration", "impact")]
LABELS = ["phishing", "c2", "malware-distribution", "botnet", "ransomware",
          "banking", "credential-theft", "ddos", "scanning", "exchange-feed"]
KINDS = ["ipv4", "domain", "url", "sha256", "md5"]

BASE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def ts(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--count", type=int, default=100000,
                    help="number of indicators (default 100000)")
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args()
    if args.count < 1:
        ap.error("--count must be positive")

    rng = random.Random(args.seed)

    def uuid4():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def sq(value):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    head = []
    for name, value, mid in TLP:
        head.append({"type": "marking-definition", "spec_version": "2.1", "id": mid,
                     "created": "2022-10-01T00:00:00.000Z", "name": name,
                     "extensions": {TLP_EXT: {"extension_type": "property-extension",
                                              "tlp_2_0": value}}})
    creators = []
    for i, name in enumerate(PRODUCERS):
        iid = "identity--" + uuid4()
        creators.append(iid)
        when = ts(BASE + dt.timedelta(hours=i))
        head.append({"type": "identity", "spec_version": "2.1", "id": iid,
                     "created_by_ref": iid, "created": when, "modified": when,
                     "name": name, "identity_class": "organization",
                     "object_marking_refs": [TLP[0][2]]})
    markings = [m[2] for m in TLP]

    def indicator(n):
        kind = KINDS[n % len(KINDS)]
        family = rng.choice(FAMILIES)
        if kind == "ipv4":
            value = "%s.%d" % (rng.choice(["192.0.2", "198.51.100", "203.0.113"]),
                               rng.randrange(1, 255))
            pattern = "[ipv4-addr:value = %s]" % sq(value)
            name = "%s C2 address" % family
        elif kind == "domain":
            value = "%s-%s%d%s" % (rng.choice(WORDS), rng.choice(WORDS), n,
                                   rng.choice(TLDS))
            pattern = "[domain-name:value = %s]" % sq(value)
            name = "%s domain" % family
        elif kind == "url":
            value = "https://%s%d%s%s" % (rng.choice(WORDS), n, rng.choice(TLDS),
                                          rng.choice(PATHS))
            pattern = "[url:value = %s]" % sq(value)
            name = "%s URL" % family
        elif kind == "sha256":
            value = hashlib.sha256(b"bench-%d" % n).hexdigest()
            pattern = "[file:hashes.'SHA-256' = %s]" % sq(value)
            name = "%s %s" % (family, rng.choice(FILES))
        else:
            value = hashlib.md5(b"bench-%d" % n).hexdigest()
            pattern = "[file:hashes.MD5 = %s]" % sq(value)
            name = "%s %s" % (family, rng.choice(FILES))
        created = BASE + dt.timedelta(seconds=60 * n + rng.randrange(0, 60),
                                      milliseconds=rng.randrange(0, 1000))
        modified = created if rng.random() < 0.7 else \
            created + dt.timedelta(hours=rng.randrange(1, 500))
        obj = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--" + uuid4(),
            "created_by_ref": rng.choice(creators),
            "created": ts(created),
            "modified": ts(modified),
            "name": name,
        }
        if n % 4 == 1:
            obj["description"] = "Seen %d times last week." % rng.randrange(1, 900)
        if n % 2 == 0:
            obj["indicator_types"] = ["malicious-activity"]
        obj["pattern"] = pattern
        obj["pattern_type"] = "stix"
        obj["valid_from"] = ts(created)
        if n % 4 == 0:
            obj["valid_until"] = ts(created + dt.timedelta(days=rng.randrange(30, 365)))
        if n % 5 == 2:
            k, p = rng.choice(KILL_CHAIN)
            obj["kill_chain_phases"] = [{"kill_chain_name": k, "phase_name": p}]
        if n % 3 == 1:
            obj["labels"] = rng.sample(LABELS, rng.randrange(1, 3))
        if n % 2 == 1:
            obj["confidence"] = rng.choice([30, 50, 70, 85, 95])
        if n % 7 == 3:
            obj["external_references"] = [{"source_name": "bx",
                                           "external_id": "BX-%06d" % n}]
        obj["object_marking_refs"] = rng.choices(markings, TLP_WEIGHTS)
        return obj

    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        f.write('{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid4())
        first = True
        for obj in head:
            f.write(("" if first else ",\n") + json.dumps(obj, separators=(",", ":")))
            first = False
        for n in range(args.count):
            f.write(",\n" + json.dumps(indicator(n), separators=(",", ":")))
        f.write("\n]}\n")
        size = f.tell()
    print("wrote %s: %d indicators + %d supporting objects, %.1f MB" %
          (args.output, args.count, len(head), size / 1e6), file=sys.stderr)


if __name__ == "__main__":
    main()
