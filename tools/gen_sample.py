#!/usr/bin/env python3
"""gen_sample.py — write data/sample.json, the demo STIX 2.1 bundle of tix.

One bundle of a few hundred objects for a threat-exchange demo between five
invented organisations of the (fictitious) Republic of Aurelia: a national CERT,
a police cybercrime unit, a bank, a telecom and a regional hub. It holds the
five TLP 2.0 marking definitions, indicators of every kind, the threat context
they point at (malware, actors, intrusion sets, campaigns, attack patterns,
vulnerabilities, tools, infrastructure), relationships, observed data with the
SCOs it references (deterministic UUIDv5 ids, STIX 2.1 section 2.9/3.4),
sightings, reports and a few objects in two versions.

Deterministic: a fixed seed, fixed timestamps and no clock or environment
input, so two runs give byte-identical output. Python 3 standard library only.
Every network value lies in documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) or reserved names (.example,
.test, example.com/net/org), so the sample never points at a real host.

Usage: tools/gen_sample.py [-o OUTPUT]   (default: data/sample.json)
"""

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import random
import sys
import uuid

SEED = 0x71C5A3
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
BASE = dt.datetime(2024, 2, 5, 8, 0, 0, tzinfo=dt.timezone.utc)

# TLP 2.0 marking definitions (shared/specs/tlp-2.0.md): ids and content exact.
TLP_EXT = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP = {
    "clear": ("TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
    "green": ("TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
    "amber": ("TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
    "amber+strict": ("TLP:AMBER+STRICT",
                     "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
    "red": ("TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
}
CLEAR, GREEN, AMBER, STRICT, RED = (TLP[k][1] for k in
                                    ("clear", "green", "amber", "amber+strict", "red"))

rng = random.Random(SEED)


# --------------------------------------------------------------------------
# helpers


def uuid4():
    """A UUIDv4 drawn from the seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_id(stix_type):
    return "%s--%s" % (stix_type, uuid4())


def canonical(obj):
    """RFC 8785 (JCS) serialisation; exact for the ASCII strings, integers,
    lists and objects used here."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sco_id(stix_type, contrib):
    """Deterministic SCO id: UUIDv5 over the canonical JSON of the
    ID-contributing properties that are present (STIX 2.1 section 2.9)."""
    return "%s--%s" % (stix_type, uuid.uuid5(SCO_NAMESPACE, canonical(contrib)))


def ts(when):
    """STIX timestamp with millisecond precision, UTC, 'Z'."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


def at(days, hours=0.0):
    """BASE + days + hours, plus a seeded jitter of whole milliseconds."""
    jitter = rng.randrange(0, 3600 * 1000)
    return BASE + dt.timedelta(days=days, hours=hours, milliseconds=jitter)


def parse_ts(value):
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=dt.timezone.utc)


def fake_hash(algo, seed):
    return hashlib.new(algo, ("tix-sample:" + seed).encode()).hexdigest()


def sq(value):
    """A STIX pattern string literal: quote and escape ' and \\."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------
# the bundle under construction

objects = []
by_key = {}


def add(obj, key=None):
    objects.append(obj)
    if key is not None:
        by_key[key] = obj
    return obj


def sdo(stix_type, creator, created, marking, props, key=None, modified=None):
    """An SDO/SRO in the property order: common properties, then the type's
    own, then markings."""
    obj = {
        "type": stix_type,
        "spec_version": "2.1",
        "id": new_id(stix_type),
        "created_by_ref": creator,
        "created": ts(created),
        "modified": ts(modified or created),
    }
    obj.update(props)
    if marking:
        obj["object_marking_refs"] = [marking]
    return add(obj, key)


def new_version(obj, modified, changes):
    """A later version of obj: same id and created, later modified."""
    v2 = {}
    for k, v in obj.items():
        if k == "object_marking_refs":
            # properties new in this version go before the markings
            v2.update((ck, cv) for ck, cv in changes.items()
                      if ck not in obj and ck != "revoked")
        v2[k] = copy.deepcopy(changes.get(k, v))
        if k == "modified":
            v2["modified"] = ts(modified)
            if "revoked" in changes:
                v2["revoked"] = changes["revoked"]
    for ck, cv in changes.items():
        v2.setdefault(ck, cv)
    assert v2["modified"] > obj["modified"]
    return add(v2)


scos = {}


def sco(stix_type, props, contrib_names, marking):
    """An SCO with its deterministic id; one copy per id in the bundle."""
    contrib = {}
    for name in contrib_names:
        if name not in props:
            continue
        value = props[name]
        if name == "hashes":
            # Section 6.7: include only one hash, by preference MD5, SHA-1,
            # SHA-256, SHA-512.
            for algo in ("MD5", "SHA-1", "SHA-256", "SHA-512"):
                if algo in value:
                    value = {algo: value[algo]}
                    break
        contrib[name] = value
    oid = sco_id(stix_type, contrib)
    if oid in scos:
        return scos[oid]
    obj = {"type": stix_type, "spec_version": "2.1", "id": oid}
    obj.update(props)
    if marking:
        obj["object_marking_refs"] = [marking]
    scos[oid] = obj
    return add(obj)


# --------------------------------------------------------------------------
# 1. marking definitions

for value, (name, mid) in TLP.items():
    add({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": mid,
        "created": "2022-10-01T00:00:00.000Z",
        "name": name,
        "extensions": {TLP_EXT: {"extension_type": "property-extension",
                                 "tlp_2_0": value}},
    })

# --------------------------------------------------------------------------
# 2. identities (each organisation describes itself)

ORGS = [
    ("cert", "AURCERT", "National Computer Emergency Response Team of the Republic "
     "of Aurelia: coordinates incident response and runs the national threat "
     "exchange.", ["government-national"], ["national-cert", "coordinator"],
     "incident@aurcert.example, +99 20 555 0100"),
    ("police", "Aurelian National Police - Cybercrime Unit (C3U)",
     "Investigates cybercrime, seizes criminal infrastructure and shares "
     "indicators from its cases.", ["emergency-services", "government-national"],
     ["law-enforcement"], "c3u-liaison@police.aurelia.example"),
    ("bank", "Meridian Cooperative Bank", "Retail and business bank; its SOC "
     "shares phishing and fraud indicators.", ["financial-services"],
     ["member", "soc"], "soc@meridian-bank.example"),
    ("telco", "Telvora Communications", "Mobile and fixed-line operator; shares "
     "network telemetry and mobile malware indicators.", ["telecommunications"],
     ["member", "noc", "soc"], "abuse@telvora.example"),
    ("hub", "Northern Regional Cyber Hub (NRCH)", "Regional hub that relays the "
     "national exchange to municipalities and small firms of Northern Aurelia.",
     ["government-regional"], ["hub", "relay"], "desk@nrch.example"),
]
ID = {}
ORG_NAME = {}
for i, (key, name, desc, sectors, roles, contact) in enumerate(ORGS):
    iid = new_id("identity")
    ID[key] = iid
    ORG_NAME[iid] = name
    created = at(i * 0.5 - 30)
    add({
        "type": "identity",
        "spec_version": "2.1",
        "id": iid,
        "created_by_ref": iid,
        "created": ts(created),
        "modified": ts(created),
        "name": name,
        "description": desc,
        "roles": roles,
        "identity_class": "organization",
        "sectors": sectors,
        "contact_information": contact,
        "object_marking_refs": [CLEAR],
    }, key="id:" + key)

# --------------------------------------------------------------------------
# 3. attack patterns (MITRE ATT&CK technique ids)

MITRE = "mitre-attack"
ATTACK_PATTERNS = [
    ("T1566.001", "Spearphishing Attachment", "initial-access", "CAPEC-163"),
    ("T1566.002", "Spearphishing Link", "initial-access", None),
    ("T1190", "Exploit Public-Facing Application", "initial-access", None),
    ("T1078", "Valid Accounts", "defense-evasion", "CAPEC-560"),
    ("T1110.003", "Password Spraying", "credential-access", "CAPEC-565"),
    ("T1204.002", "Malicious File", "execution", None),
    ("T1059.001", "PowerShell", "execution", None),
    ("T1547.001", "Registry Run Keys / Startup Folder", "persistence", "CAPEC-270"),
    ("T1003.001", "LSASS Memory", "credential-access", None),
    ("T1021.001", "Remote Desktop Protocol", "lateral-movement", "CAPEC-555"),
    ("T1071.001", "Web Protocols", "command-and-control", None),
    ("T1105", "Ingress Tool Transfer", "command-and-control", None),
    ("T1041", "Exfiltration Over C2 Channel", "exfiltration", None),
    ("T1486", "Data Encrypted for Impact", "impact", None),
    ("T1498", "Network Denial of Service", "impact", "CAPEC-125"),
    ("T1636.004", "Protected User Data: SMS Messages", "collection", None),
]
AP = {}
for i, (tid, name, phase, capec) in enumerate(ATTACK_PATTERNS):
    refs = [{"source_name": MITRE, "external_id": tid}]
    if capec:
        refs.append({"source_name": "capec", "external_id": capec})
    AP[tid] = sdo("attack-pattern", ID["cert"], at(-20 + i * 0.2), CLEAR, {
        "name": name,
        "description": "ATT&CK technique %s (%s), as seen in Aurelian incidents."
                       % (tid, name),
        "kill_chain_phases": [{"kill_chain_name": MITRE, "phase_name": phase}],
        "external_references": refs,
    })["id"]

# --------------------------------------------------------------------------
# 4. vulnerabilities (public CVE records)

VULNS = [
    ("CVE-2021-44228", "Apache Log4j2 JNDI lookup remote code execution (Log4Shell)."),
    ("CVE-2022-30190", "Microsoft Support Diagnostic Tool (MSDT) remote code "
     "execution via Office documents (Follina)."),
    ("CVE-2023-23397", "Microsoft Outlook elevation of privilege through a "
     "crafted reminder sound path (NTLM relay)."),
    ("CVE-2023-34362", "Progress MOVEit Transfer SQL injection leading to "
     "remote code execution."),
    ("CVE-2023-4966", "Citrix NetScaler ADC/Gateway session token disclosure "
     "(Citrix Bleed)."),
    ("CVE-2023-20198", "Cisco IOS XE web UI privilege escalation."),
    ("CVE-2024-3400", "Palo Alto Networks PAN-OS GlobalProtect command injection."),
    ("CVE-2024-21762", "Fortinet FortiOS SSL VPN out-of-bounds write."),
]
VULN = {}
for i, (cve, desc) in enumerate(VULNS):
    VULN[cve] = sdo("vulnerability", ID["cert"], at(-18 + i * 0.3), CLEAR, {
        "name": cve,
        "description": desc,
        "external_references": [{"source_name": "cve", "external_id": cve}],
    })["id"]

# --------------------------------------------------------------------------
# 5. tools

TOOLS = [
    ("cobalt", "Cobalt Strike", ["remote-access", "exploitation"],
     "Commercial adversary-simulation framework; cracked copies serve as C2."),
    ("mimikatz", "Mimikatz", ["credential-exploitation"],
     "Credential dumping utility used after initial access."),
    ("psexec", "PsExec", ["remote-access"],
     "Sysinternals remote execution tool abused for lateral movement."),
    ("rclone", "Rclone", ["unknown"],
     "Cloud sync utility abused to stage and exfiltrate data."),
    ("anydesk", "AnyDesk", ["remote-access"],
     "Remote support software installed by intruders for persistence."),
    ("nmap", "Nmap", ["information-gathering", "vulnerability-scanning"],
     "Network scanner used for internal reconnaissance."),
]
TOOL = {}
for i, (key, name, types, desc) in enumerate(TOOLS):
    TOOL[key] = sdo("tool", ID["cert"], at(-16 + i * 0.25), CLEAR, {
        "name": name,
        "description": desc,
        "tool_types": types,
    })["id"]

# --------------------------------------------------------------------------
# 6. threat actors, intrusion sets, malware, campaigns, infrastructure

ACTORS = [
    ("copper", "Copper Lynx", ["crime-syndicate"], ["Lynx Group"], "advanced",
     "organization", "personal-gain", ["steal banking credentials",
                                       "extort victims with ransomware"], GREEN),
    ("heron", "Salt Heron", ["nation-state", "spy"], ["SLT-17"], "expert",
     "government", "organizational-gain", ["collect subscriber and signalling "
                                           "data", "monitor government staff"], AMBER),
    ("fennec", "Quiet Fennec", ["activist"], ["Fennec Collective"], "minimal",
     "club", "ideology", ["disrupt online banking and telecom portals"], GREEN),
]
TA = {}
for i, (key, name, types, aliases, soph, res, motiv, goals, mark) in enumerate(ACTORS):
    TA[key] = sdo("threat-actor", ID["cert"], at(-12 + i), mark, {
        "name": name,
        "description": "%s: tracked by AURCERT since early 2024." % name,
        "threat_actor_types": types,
        "aliases": aliases,
        "first_seen": ts(at(-90 - 30 * i)),
        "roles": ["agent"] if key != "heron" else ["agent", "sponsor"],
        "goals": goals,
        "sophistication": soph,
        "resource_level": res,
        "primary_motivation": motiv,
    }, key="ta:" + key)

ISETS = [
    ("lynx", "Lynx Ledger Cluster", ["NRCH-IS-01"], "copper", "personal-gain", GREEN),
    ("tide", "Heron Tide", ["NRCH-IS-02"], "heron", "organizational-gain", AMBER),
    ("noise", "Fennec Noise", ["NRCH-IS-03"], "fennec", "ideology", GREEN),
]
IS = {}
for i, (key, name, aliases, actor, motiv, mark) in enumerate(ISETS):
    first = at(-80 - 20 * i)
    IS[key] = sdo("intrusion-set", ID["hub"], at(-10 + i), mark, {
        "name": name,
        "description": "Activity cluster linked to %s." % by_key["ta:" + actor]["name"],
        "aliases": aliases,
        "first_seen": ts(first),
        "last_seen": ts(at(200)),
        "goals": by_key["ta:" + actor]["goals"],
        "resource_level": by_key["ta:" + actor]["resource_level"],
        "primary_motivation": motiv,
    })["id"]

KC = [("lockheed-martin-cyber-kill-chain", "delivery"),
      ("lockheed-martin-cyber-kill-chain", "installation"),
      ("lockheed-martin-cyber-kill-chain", "command-and-control"),
      ("lockheed-martin-cyber-kill-chain", "actions-on-objectives")]

MALWARE = [
    ("ledgerleech", "LedgerLeech", ["trojan", "spyware"], ["LLeech"],
     ["steals-authentication-credentials", "captures-input-peripherals",
      "communicates-with-c2", "commits-fraud"], ["c++"], ["x86", "x86-64"], 1, GREEN),
    ("glassdrop", "GlassDrop", ["dropper", "downloader"], [],
     ["installs-other-components", "evades-av"], ["c"], ["x86-64"], 0, GREEN),
    ("nightquill", "NightQuill", ["ransomware"], ["NQ Locker"],
     ["compromises-data-availability", "exfiltrates-data", "hides-artifacts"],
     ["go"], ["x86-64"], 3, AMBER),
    ("boreal", "BorealRAT", ["remote-access-trojan", "backdoor"], ["Boreal"],
     ["accesses-remote-machines", "persists-after-system-reboot",
      "exfiltrates-data"], ["c#"], ["x86-64"], 2, AMBER),
    ("simspin", "SIMSpin", ["spyware"], ["SpinSMS"],
     ["captures-system-state-data", "exfiltrates-data"], ["java"], ["arm"], 2, AMBER),
    ("paperkite", "PaperKite", ["webshell", "backdoor"], [],
     ["controls-local-machine", "communicates-with-c2"], ["php"], ["x86-64"], 3, GREEN),
]
MAL = {}
for i, (key, name, types, aliases, caps, langs, archs, kc, mark) in enumerate(MALWARE):
    props = {
        "name": name,
        "description": "%s, %s family observed in Aurelia in 2024." %
                       (name, " / ".join(types)),
        "malware_types": types,
        "is_family": True,
    }
    if aliases:
        props["aliases"] = aliases
    props.update({
        "kill_chain_phases": [{"kill_chain_name": KC[kc][0], "phase_name": KC[kc][1]}],
        "first_seen": ts(at(-60 - 10 * i)),
        "implementation_languages": langs,
        "architecture_execution_envs": archs,
        "capabilities": caps,
    })
    creator = ID["telco"] if key == "simspin" else ID["cert"]
    MAL[key] = sdo("malware", creator, at(-8 + i * 0.5), mark, props,
                   key="mal:" + key)["id"]

CAMPAIGNS = [
    ("ledger", "Operation Ledger Frost", "lynx", "copper",
     "Credential phishing and LedgerLeech infections against Meridian "
     "Cooperative Bank customers and staff.", "bank", 0, GREEN),
    ("tower", "Operation Silent Tower", "tide", "heron",
     "Intrusions into Telvora core network and SIMSpin deployment on "
     "subscriber handsets.", "telco", 10, AMBER),
    ("lantern", "Operation Paper Lantern", "tide", "heron",
     "Spearphishing of ministry and municipal staff with Follina lures.",
     "hub", 25, AMBER),
    ("fennec", "Operation Loud Fennec", "noise", "fennec",
     "DDoS waves against online banking and telecom self-care portals.",
     "bank", 40, GREEN),
]
CAMP = {}
for key, name, iset, actor, objective, victim, start, mark in CAMPAIGNS:
    CAMP[key] = sdo("campaign", ID["cert"], at(start + 2), mark, {
        "name": name,
        "description": objective,
        "first_seen": ts(at(start - 5)),
        "last_seen": ts(at(start + 120)),
        "objective": objective.split(" against ")[0].split(" into ")[0],
    }, key="camp:" + key)["id"]

INFRA = [
    ("ledger-c2", "Ledger Frost C2 cluster", ["command-and-control"], "ledger", "cert"),
    ("ledger-phish", "Meridian look-alike phishing hosts", ["phishing"], "ledger", "bank"),
    ("quill-leak", "NightQuill leak and negotiation site", ["exfiltration"], "ledger",
     "police"),
    ("tower-relay", "Heron relay VPS network", ["anonymization", "staging"], "tower",
     "telco"),
    ("simspin-upd", "SIMSpin update servers", ["hosting-malware"], "tower", "telco"),
    ("lantern-mail", "Paper Lantern mail senders", ["phishing"], "lantern", "hub"),
    ("boreal-c2", "BorealRAT command servers", ["command-and-control"], "lantern",
     "cert"),
    ("fennec-booter", "Fennec booter botnet", ["botnet", "amplification"], "fennec",
     "telco"),
]
INF = {}
for i, (key, name, types, camp, creator) in enumerate(INFRA):
    INF[key] = sdo("infrastructure", ID[creator], at(5 + i * 3), AMBER if
                   camp in ("tower", "lantern") else GREEN, {
        "name": name,
        "description": "%s used in %s." % (name, by_key["camp:" + camp]["name"]),
        "infrastructure_types": types,
        "first_seen": ts(at(i * 3 - 10)),
        "last_seen": ts(at(150 + i)),
    })["id"]

# --------------------------------------------------------------------------
# 7. indicators

# Per campaign: who reports, which malware/infrastructure the IOCs point to,
# address pools (documentation ranges only) and name stems.
THEMES = {
    "ledger": dict(
        reporters=["bank", "cert", "police", "hub"],
        targets=["mal:ledgerleech", "mal:glassdrop", "mal:nightquill",
                 "inf:ledger-c2", "inf:ledger-phish", "camp:ledger"],
        v4="198.51.100.", v6="2001:db8:10:", net6="2001:db8:10::/48",
        words=["meridian-secure-login", "meridianbank-verify", "ebank-meridian",
               "mcb-online-auth", "meridian-card-check", "coop-bank-update"],
        tlds=[".example", ".test", ".example.com"],
        paths=["/auth/verify.php", "/login/session", "/secure/otp",
               "/dl/Invoice_0424.zip", "/gate.php", "/cards/confirm"],
        files=["Invoice_0424.exe", "statement_viewer.exe", "ledger.dll",
               "nq_locker.exe", "update_cert.scr", "payslip.iso"],
        mail=["security-alert", "no-reply", "cards", "billing"], subject="%invoice%"),
    "tower": dict(
        reporters=["telco", "cert", "hub"],
        targets=["mal:boreal", "mal:simspin", "inf:tower-relay", "inf:simspin-upd",
                 "camp:tower", "ta:heron"],
        v4="203.0.113.", v6="2001:db8:20:", net6="2001:db8:20::/48",
        words=["telvora-update", "tv-selfcare", "sim-config", "carrier-sync",
               "apn-settings", "roam-assist"],
        tlds=[".test", ".example.net", ".example"],
        paths=["/apk/SimToolkit.apk", "/cfg/pull", "/api/v2/beacon",
               "/ota/manifest.json"],
        files=["SimToolkit.apk", "svc_host64.dll", "netmond.so", "tvupdate.apk"],
        mail=["support", "provisioning"], subject="%SIM profile update%"),
    "lantern": dict(
        reporters=["hub", "cert", "police"],
        targets=["mal:paperkite", "mal:boreal", "inf:lantern-mail", "inf:boreal-c2",
                 "camp:lantern"],
        v4="192.0.2.", v6="2001:db8:30:", net6="2001:db8:30::/48",
        words=["gov-aurelia-portal", "ministry-docs", "municipal-payroll",
               "nrch-notice", "civil-service-hr"],
        tlds=[".example.org", ".test", ".example"],
        paths=["/docs/Circular_2024-17.docx", "/hr/form.html", "/upload.php",
               "/s/preview"],
        files=["Circular_2024-17.docx", "Salary_Review.rtf", "kite.php",
               "msdt_loader.dll"],
        mail=["hr-department", "registry", "minister.office"], subject="%circular%"),
    "fennec": dict(
        reporters=["telco", "bank", "cert"],
        targets=["inf:fennec-booter", "camp:fennec", "ta:fennec"],
        v4="203.0.113.", v6="2001:db8:40:", net6="2001:db8:40::/48",
        words=["fennec-stress", "booter-panel", "loud-fennec", "ddos-rent"],
        tlds=[".test", ".example"],
        paths=["/panel/attack", "/api/launch", "/hub.php"],
        files=["fennec_bot.elf", "fbot_arm7.bin"],
        mail=["fennec"], subject="%stress test%"),
}
# a few shared kinds with their weight; compound patterns are built separately
KINDS = ["ipv4", "ipv4", "cidr4", "ipv6", "cidr6", "domain", "domain", "url",
         "url", "email", "md5", "sha1", "sha256", "sha256"]
N_INDICATORS = {"ledger": 36, "tower": 28, "lantern": 24, "fennec": 16}

INDICATOR_MARKS = [CLEAR, GREEN, GREEN, GREEN, AMBER, AMBER, AMBER, STRICT, RED]
INDICATOR_TYPES = {
    "ipv4": ["malicious-activity"], "cidr4": ["malicious-activity", "anonymization"],
    "ipv6": ["malicious-activity"], "cidr6": ["malicious-activity"],
    "domain": ["malicious-activity"], "url": ["malicious-activity"],
    "email": ["malicious-activity", "attribution"], "md5": ["malicious-activity"],
    "sha1": ["malicious-activity"], "sha256": ["malicious-activity"],
    "compound": ["malicious-activity"],
}
PHASE_BY_KIND = {
    "ipv4": "command-and-control", "cidr4": "command-and-control",
    "ipv6": "command-and-control", "cidr6": "command-and-control",
    "domain": "delivery", "url": "delivery", "email": "delivery",
    "md5": "installation", "sha1": "installation", "sha256": "installation",
    "compound": "actions-on-objectives",
}

used_values = set()


def unique(make):
    for _ in range(1000):
        value = make()
        if value not in used_values:
            used_values.add(value)
            return value
    raise RuntimeError("value pool exhausted")


def random_cidr4(prefix24):
    """An aligned /26../29 block inside the documentation /24 `prefix24`."""
    plen = rng.choice([26, 27, 28, 29])
    size = 1 << (32 - plen)
    return "%s%d/%d" % (prefix24, rng.randrange(0, 256 // size) * size, plen)


def random_cidr6(prefix48):
    """An aligned /56 or /64 inside the documentation /48 `prefix48`."""
    if rng.random() < 0.5:
        return "%s%x::/56" % (prefix48, rng.randrange(1, 256) << 8)
    return "%s%x::/64" % (prefix48, rng.randrange(1, 0x10000))


def make_ioc(camp, kind, n):
    """(pattern, name, description, sco-spec or None) for one IOC."""
    th = THEMES[camp]
    cname = by_key["camp:" + camp]["name"]
    if kind == "ipv4":
        ip = unique(lambda: th["v4"] + str(rng.randrange(2, 254)))
        return ("[ipv4-addr:value = %s]" % sq(ip), "C2 address %s" % ip,
                "IPv4 address contacted by implants in %s." % cname,
                ("ipv4-addr", {"value": ip}))
    if kind == "cidr4":
        net = unique(lambda: random_cidr4(th["v4"]))
        op = rng.choice(["=", "ISSUBSET"])
        return ("[ipv4-addr:value %s %s]" % (op, sq(net)), "Hostile range %s" % net,
                "Address block rented by the operators of %s." % cname, None)
    if kind == "ipv6":
        ip = unique(lambda: "%s%x::%x" % (th["v6"], rng.randrange(1, 0xffff),
                                          rng.randrange(1, 0xffff)))
        return ("[ipv6-addr:value = %s]" % sq(ip), "IPv6 C2 address %s" % ip,
                "IPv6 address of a server used in %s." % cname,
                ("ipv6-addr", {"value": ip}))
    if kind == "cidr6":
        net = unique(lambda: random_cidr6(th["v6"]))
        return ("[ipv6-addr:value ISSUBSET %s]" % sq(net), "Hostile IPv6 range %s" % net,
                "IPv6 prefix announced for %s infrastructure." % cname, None)
    if kind == "domain":
        dom = unique(lambda: "%s%s%s" % (rng.choice(["", "www.", "cdn.", "m.", "api."]),
                                         rng.choice(th["words"]), rng.choice(th["tlds"])))
        return ("[domain-name:value = %s]" % sq(dom), "Malicious domain %s" % dom,
                "Look-alike domain registered for %s." % cname,
                ("domain-name", {"value": dom}))
    if kind == "url":
        url = unique(lambda: "https://%s%s%s" % (rng.choice(th["words"]),
                                                 rng.choice(th["tlds"]),
                                                 rng.choice(th["paths"])))
        return ("[url:value = %s]" % sq(url), "Malicious URL %s" % url,
                "URL delivered in lures of %s." % cname, ("url", {"value": url}))
    if kind == "email":
        addr = unique(lambda: "%s@%s%s" % (rng.choice(th["mail"]), rng.choice(th["words"]),
                                           rng.choice(th["tlds"])))
        return ("[email-addr:value = %s]" % sq(addr), "Phishing sender %s" % addr,
                "Sender address of phishing mail in %s." % cname,
                ("email-addr", {"value": addr}))
    if kind in ("md5", "sha1", "sha256"):
        fname = rng.choice(th["files"])
        seed = "%s-%s-%d" % (camp, fname, n)
        algo, key = {"md5": ("md5", "MD5"), "sha1": ("sha1", "SHA-1"),
                     "sha256": ("sha256", "SHA-256")}[kind]
        digest = fake_hash(algo, seed)
        used_values.add(digest)
        path = "file:hashes.MD5" if key == "MD5" else "file:hashes.%s" % sq(key)
        hashes = {key: digest}
        if key != "SHA-256":
            hashes["SHA-256"] = fake_hash("sha256", seed)
        return ("[%s = %s]" % (path, sq(digest)), "%s %s of %s" % (key, digest[:12], fname),
                "Sample %s collected during %s." % (fname, cname),
                ("file", {"name": fname, "hashes": hashes,
                          "size": rng.randrange(20000, 4000000)}))
    raise ValueError(kind)


compound_no = [0]


def make_compound(camp, n):
    """Compound patterns: AND/OR inside one observation, across observations,
    FOLLOWEDBY with WITHIN, START/STOP, REPEATS, LIKE, MATCHES, IN."""
    th = THEMES[camp]
    cname = by_key["camp:" + camp]["name"]
    d1 = unique(lambda: "%s%s" % (rng.choice(th["words"]), rng.choice(th["tlds"])))
    d2 = unique(lambda: "%s-%d%s" % (rng.choice(th["words"]), rng.randrange(2, 99),
                                     rng.choice(th["tlds"])))
    ip = unique(lambda: th["v4"] + str(rng.randrange(2, 254)))
    fname = rng.choice(th["files"])
    sha = fake_hash("sha256", "%s-compound-%d" % (camp, n))
    md5 = fake_hash("md5", "%s-compound-%d" % (camp, n))
    variant = compound_no[0] % 8
    compound_no[0] += 1
    if variant == 0:
        pat = "[domain-name:value = %s OR domain-name:value = %s]" % (sq(d1), sq(d2))
        name = "Domain pair %s / %s" % (d1, d2)
    elif variant == 1:
        pat = "[file:hashes.'SHA-256' = %s AND file:name = %s]" % (sq(sha), sq(fname))
        name = "Dropped file %s (SHA-256 + name)" % fname
    elif variant == 2:
        pat = "[ipv4-addr:value = %s] AND [domain-name:value = %s]" % (sq(ip), sq(d1))
        name = "C2 address %s with domain %s" % (ip, d1)
    elif variant == 3:
        pat = ("([url:value = %s] FOLLOWEDBY [file:hashes.MD5 = %s]) WITHIN 600 SECONDS"
               % (sq("https://" + d1 + rng.choice(th["paths"])), sq(md5)))
        name = "Download from %s followed by payload" % d1
    elif variant == 4:
        pat = ("[network-traffic:dst_ref.value = %s AND network-traffic:dst_port = 443] "
               "START t'2024-04-01T00:00:00Z' STOP t'2024-10-01T00:00:00Z'" % sq(ip))
        name = "TLS sessions to %s (Apr-Sep 2024)" % ip
    elif variant == 5:
        pat = ("[email-message:from_ref.value LIKE %s AND email-message:subject LIKE %s]"
               % (sq("%@" + d1), sq(th["subject"])))
        name = "Lures '%s' sent from %s" % (th["subject"].strip("%"), d1)
    elif variant == 6:
        pat = ("[url:value MATCHES %s] REPEATS 3 TIMES"
               % sq("^https://[a-z0-9-]+[.]" + d1.replace(".", "[.]") + "/"))
        name = "Repeated hits on sub-domains of %s" % d1
    else:
        pat = ("[ipv4-addr:value IN (%s, %s)] OR [ipv6-addr:value ISSUBSET %s]"
               % (sq(ip), sq(th["v4"] + "1"), sq(th["net6"])))
        name = "Address set of %s" % cname
    return pat, name, "Compound detection logic for %s." % cname


INDICATORS = {camp: [] for camp in THEMES}   # camp -> [(indicator, sco spec, kind)]
ind_no = 0
for camp, count in N_INDICATORS.items():
    th = THEMES[camp]
    start = {c[0]: c[6] for c in CAMPAIGNS}[camp]
    for n in range(count):
        ind_no += 1
        compound = n % 6 == 5
        if compound:
            kind = "compound"
            pattern, name, desc = make_compound(camp, n)
            spec = None
        else:
            kind = KINDS[(n + rng.randrange(0, 3)) % len(KINDS)]
            pattern, name, desc, spec = make_ioc(camp, kind, n)
        creator = ID[th["reporters"][n % len(th["reporters"])]]
        created = at(start + n * 0.9 + 1)
        props = {
            "name": name,
            "description": desc,
            "indicator_types": INDICATOR_TYPES[kind],
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": ts(created),
        }
        if n % 7 == 3:
            props["valid_until"] = ts(created + dt.timedelta(days=90 + 15 * (n % 4)))
        props["kill_chain_phases"] = [{
            "kill_chain_name": "lockheed-martin-cyber-kill-chain",
            "phase_name": PHASE_BY_KIND[kind]}]
        if n % 4 == 0:
            props["labels"] = [camp, "aurelia-exchange"]
        props["confidence"] = [50, 60, 75, 85, 95][n % 5]
        if n % 5 == 2:
            adv = "AUR-2024-%04d" % (100 + ind_no)
            props["external_references"] = [{
                "source_name": "AURCERT",
                "description": "AURCERT advisory %s" % adv,
                "external_id": adv,
                "url": "https://www.aurcert.example/advisories/%s" % adv,
            }]
        mark = INDICATOR_MARKS[(ind_no * 5) % len(INDICATOR_MARKS)]
        ind = sdo("indicator", creator, created, mark, props)
        INDICATORS[camp].append((ind, spec, kind))

# --------------------------------------------------------------------------
# 8. relationships


def ref(key):
    """The id behind a 'mal:x', 'inf:x', 'camp:x' or 'ta:x' key."""
    kind, name = key.split(":", 1)
    if kind == "ta":
        return TA[name]["id"]
    return {"mal": MAL, "inf": INF, "camp": CAMP}[kind][name]


def rel(rtype, src, dst, creator, when, mark=GREEN, desc=None, start=None, stop=None):
    props = {"relationship_type": rtype}
    if desc:
        props["description"] = desc
    props["source_ref"] = src
    props["target_ref"] = dst
    if start is not None:
        props["start_time"] = ts(start)
    if stop is not None:
        props["stop_time"] = ts(stop)
    return sdo("relationship", creator, when, mark, props)


RELS = {camp: [] for camp in THEMES}

# indicator -> indicates -> malware / infrastructure / campaign / actor
for camp, items in INDICATORS.items():
    targets = THEMES[camp]["targets"]
    for i, (ind, spec, kind) in enumerate(items):
        tgt = targets[i % len(targets)]
        r = rel("indicates", ind["id"], ref(tgt), ind["created_by_ref"],
                parse_ts(ind["created"]) + dt.timedelta(hours=2, milliseconds=i),
                ind["object_marking_refs"][0])
        RELS[camp].append(r)

# campaign / intrusion-set / actor context
C = ID["cert"]
ctx = [
    ("attributed-to", CAMP["ledger"], IS["lynx"], "ledger"),
    ("attributed-to", CAMP["tower"], IS["tide"], "tower"),
    ("attributed-to", CAMP["lantern"], IS["tide"], "lantern"),
    ("attributed-to", CAMP["fennec"], IS["noise"], "fennec"),
    ("attributed-to", IS["lynx"], TA["copper"]["id"], "ledger"),
    ("attributed-to", IS["tide"], TA["heron"]["id"], "tower"),
    ("attributed-to", IS["noise"], TA["fennec"]["id"], "fennec"),
    ("targets", CAMP["ledger"], ID["bank"], "ledger"),
    ("targets", CAMP["tower"], ID["telco"], "tower"),
    ("targets", CAMP["lantern"], ID["hub"], "lantern"),
    ("targets", CAMP["lantern"], ID["cert"], "lantern"),
    ("targets", CAMP["fennec"], ID["bank"], "fennec"),
    ("targets", CAMP["fennec"], ID["telco"], "fennec"),
    ("targets", TA["copper"]["id"], ID["bank"], "ledger"),
    ("targets", TA["heron"]["id"], ID["telco"], "tower"),
    ("targets", CAMP["tower"], VULN["CVE-2023-20198"], "tower"),
    ("targets", CAMP["tower"], VULN["CVE-2024-3400"], "tower"),
    ("targets", CAMP["ledger"], VULN["CVE-2023-4966"], "ledger"),
    ("targets", CAMP["lantern"], VULN["CVE-2022-30190"], "lantern"),
    ("targets", CAMP["lantern"], VULN["CVE-2023-23397"], "lantern"),
    ("uses", IS["lynx"], MAL["ledgerleech"], "ledger"),
    ("uses", IS["lynx"], MAL["glassdrop"], "ledger"),
    ("uses", IS["lynx"], MAL["nightquill"], "ledger"),
    ("uses", IS["lynx"], TOOL["cobalt"], "ledger"),
    ("uses", IS["lynx"], TOOL["rclone"], "ledger"),
    ("uses", IS["lynx"], TOOL["anydesk"], "ledger"),
    ("uses", IS["tide"], MAL["boreal"], "tower"),
    ("uses", IS["tide"], MAL["simspin"], "tower"),
    ("uses", IS["tide"], MAL["paperkite"], "lantern"),
    ("uses", IS["tide"], TOOL["mimikatz"], "tower"),
    ("uses", IS["tide"], TOOL["psexec"], "tower"),
    ("uses", IS["tide"], TOOL["nmap"], "tower"),
    ("uses", CAMP["ledger"], AP["T1566.002"], "ledger"),
    ("uses", CAMP["ledger"], AP["T1204.002"], "ledger"),
    ("uses", CAMP["ledger"], AP["T1486"], "ledger"),
    ("uses", CAMP["tower"], AP["T1190"], "tower"),
    ("uses", CAMP["tower"], AP["T1078"], "tower"),
    ("uses", CAMP["tower"], AP["T1636.004"], "tower"),
    ("uses", CAMP["lantern"], AP["T1566.001"], "lantern"),
    ("uses", CAMP["lantern"], AP["T1059.001"], "lantern"),
    ("uses", CAMP["fennec"], AP["T1498"], "fennec"),
    ("uses", TA["fennec"]["id"], AP["T1498"], "fennec"),
    ("uses", CAMP["ledger"], INF["ledger-c2"], "ledger"),
    ("uses", CAMP["ledger"], INF["ledger-phish"], "ledger"),
    ("uses", CAMP["tower"], INF["tower-relay"], "tower"),
    ("uses", CAMP["lantern"], INF["lantern-mail"], "lantern"),
    ("uses", CAMP["fennec"], INF["fennec-booter"], "fennec"),
    ("uses", MAL["ledgerleech"], AP["T1071.001"], "ledger"),
    ("uses", MAL["ledgerleech"], AP["T1547.001"], "ledger"),
    ("uses", MAL["nightquill"], AP["T1486"], "ledger"),
    ("uses", MAL["nightquill"], AP["T1041"], "ledger"),
    ("uses", MAL["boreal"], AP["T1105"], "tower"),
    ("uses", MAL["boreal"], AP["T1003.001"], "tower"),
    ("uses", MAL["simspin"], AP["T1636.004"], "tower"),
    ("uses", MAL["paperkite"], AP["T1071.001"], "lantern"),
    ("downloads", MAL["glassdrop"], MAL["ledgerleech"], "ledger"),
    ("drops", MAL["glassdrop"], MAL["nightquill"], "ledger"),
    ("exploits", MAL["paperkite"], VULN["CVE-2023-34362"], "lantern"),
    ("exploits", MAL["boreal"], VULN["CVE-2024-21762"], "tower"),
    ("exploits", MAL["glassdrop"], VULN["CVE-2022-30190"], "ledger"),
    ("targets", AP["T1190"], VULN["CVE-2021-44228"], "tower"),
    ("beacons-to", MAL["ledgerleech"], INF["ledger-c2"], "ledger"),
    ("beacons-to", MAL["boreal"], INF["boreal-c2"], "lantern"),
    ("hosts", INF["simspin-upd"], MAL["simspin"], "tower"),
    ("hosts", INF["quill-leak"], MAL["nightquill"], "ledger"),
    ("controls", INF["boreal-c2"], MAL["boreal"], "lantern"),
    ("variant-of", MAL["paperkite"], MAL["boreal"], "lantern"),
]
for i, (rtype, src, dst, camp) in enumerate(ctx):
    start = stop = None
    if rtype in ("uses", "targets") and i % 3 == 0:
        start = at(-30 + i)
        stop = start + dt.timedelta(days=180)
    RELS[camp].append(rel(rtype, src, dst, C, at(60 + i * 0.1),
                          AMBER if camp in ("tower", "lantern") else GREEN,
                          start=start, stop=stop))

# --------------------------------------------------------------------------
# 9. observed data with SCOs, sightings

SCO_CONTRIB = {
    "ipv4-addr": ["value"], "ipv6-addr": ["value"], "domain-name": ["value"],
    "url": ["value"], "email-addr": ["value"],
    "file": ["hashes", "name", "extensions", "parent_directory_ref"],
    "network-traffic": ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port",
                        "protocols", "extensions"],
}

OBSERVED = {camp: [] for camp in THEMES}
SIGHTINGS = {camp: [] for camp in THEMES}
od_no = 0
for camp, items in INDICATORS.items():
    th = THEMES[camp]
    with_sco = [x for x in items if x[1] is not None]
    for j, (ind, spec, kind) in enumerate(with_sco[:6]):
        od_no += 1
        reporter = ID[th["reporters"][(j + 1) % len(th["reporters"])]]
        mark = AMBER if j % 3 else STRICT
        stype, sprops = spec
        main = sco(stype, sprops, SCO_CONTRIB[stype], mark)
        refs = [main["id"]]
        first = parse_ts(ind["created"]) + dt.timedelta(days=3 + j, hours=rng.randrange(0, 24))
        last = first + dt.timedelta(hours=rng.randrange(1, 72))
        if stype in ("ipv4-addr", "ipv6-addr") and j % 2 == 0:
            # a connection from a (documentation-range) victim host to the C2
            host = ("192.0.2.%d" if stype == "ipv4-addr" else "2001:db8:ff::%x") % (10 + od_no)
            assert host not in used_values, host   # a victim is never an IOC
            victim = sco(stype, {"value": host}, ["value"], mark)
            nt = sco("network-traffic", {
                "start": ts(first), "src_ref": victim["id"], "dst_ref": main["id"],
                "src_port": 49152 + od_no, "dst_port": 443,
                "protocols": ["ipv4" if stype == "ipv4-addr" else "ipv6", "tcp", "tls"],
            }, SCO_CONTRIB["network-traffic"], mark)
            refs = [nt["id"], victim["id"], main["id"]]
        od = sdo("observed-data", reporter, last + dt.timedelta(hours=2), mark, {
            "first_observed": ts(first),
            "last_observed": ts(last),
            "number_observed": rng.randrange(1, 40),
            "object_refs": refs,
        })
        OBSERVED[camp].append(od)
        sg = sdo("sighting", reporter, last + dt.timedelta(hours=3), mark, {
            "description": "%s matched at %s." % (ind["name"], ORG_NAME[reporter]),
            "first_seen": ts(first),
            "last_seen": ts(last),
            "count": od["number_observed"],
            "sighting_of_ref": ind["id"],
            "observed_data_refs": [od["id"]],
            "where_sighted_refs": [reporter],
        })
        SIGHTINGS[camp].append(sg)
        if j % 2 == 1:
            RELS[camp].append(rel("based-on", ind["id"], od["id"], ind["created_by_ref"],
                                  last + dt.timedelta(hours=4), mark))
        # infrastructure consists-of / malware communicates-with the SCO
        if stype in ("ipv4-addr", "domain-name", "url") and camp != "fennec":
            infra = [t for t in th["targets"] if t.startswith("inf:")][0]
            RELS[camp].append(rel("consists-of", ref(infra), main["id"], C,
                                  last + dt.timedelta(hours=5), mark))
        if stype in ("ipv4-addr", "ipv6-addr", "domain-name") and camp != "fennec":
            mal = [t for t in th["targets"] if t.startswith("mal:")][0]
            RELS[camp].append(rel("communicates-with", ref(mal), main["id"], C,
                                  last + dt.timedelta(hours=5), mark))
    # more sightings without raw data, by other members
    for j, (ind, spec, kind) in enumerate(items[::5]):
        who = [k for k in ("bank", "telco", "hub", "police") if ID[k] != ind["created_by_ref"]]
        seer = ID[who[j % len(who)]]
        first = parse_ts(ind["created"]) + dt.timedelta(days=5 + j, hours=rng.randrange(0, 24))
        SIGHTINGS[camp].append(sdo("sighting", seer, first + dt.timedelta(days=1),
                                   [AMBER, STRICT, RED][j % 3], {
            "first_seen": ts(first),
            "last_seen": ts(first + dt.timedelta(hours=rng.randrange(1, 200))),
            "count": rng.randrange(1, 500),
            "sighting_of_ref": ind["id"],
            "where_sighted_refs": [seer],
        }))

# --------------------------------------------------------------------------
# 10. reports


def report(creator, when, mark, name, desc, types, camp_keys, extra=()):
    refs = []
    for camp in camp_keys:
        refs.append(CAMP[camp])
        refs += [x[0]["id"] for x in INDICATORS[camp]]
        refs += [r["id"] for r in RELS[camp]]
        refs += [o["id"] for o in OBSERVED[camp]]
        for o in OBSERVED[camp]:
            refs += [r for r in o["object_refs"] if r not in refs]
        refs += [s["id"] for s in SIGHTINGS[camp]]
    refs += [r for r in extra if r not in refs]
    return sdo("report", creator, when, mark, {
        "name": name,
        "description": desc,
        "report_types": types,
        "published": ts(when + dt.timedelta(hours=6)),
        "object_refs": refs,
    })


REPORTS = [
    report(ID["cert"], at(170), GREEN, "AURCERT TR-2024-07: Operation Ledger Frost",
           "Phishing, LedgerLeech and NightQuill activity of Copper Lynx against "
           "Meridian Cooperative Bank and its customers.",
           ["threat-report", "campaign"], ["ledger"],
           [IS["lynx"], TA["copper"]["id"], MAL["ledgerleech"], MAL["glassdrop"],
            MAL["nightquill"], INF["ledger-c2"], INF["ledger-phish"], INF["quill-leak"]]),
    report(ID["telco"], at(175), AMBER, "Joint advisory Telvora/AURCERT: SIMSpin and "
           "Operation Silent Tower",
           "Salt Heron intrusion into operator networks and SIMSpin spyware on "
           "subscriber handsets.", ["threat-report", "malware", "intrusion-set"],
           ["tower"], [IS["tide"], TA["heron"]["id"], MAL["simspin"], MAL["boreal"],
                       VULN["CVE-2023-20198"], VULN["CVE-2024-3400"]]),
    report(ID["hub"], at(180), AMBER, "NRCH bulletin: Paper Lantern phishing and "
           "Loud Fennec DDoS", "Indicators relayed to municipalities of Northern "
           "Aurelia.", ["threat-report", "indicator"], ["lantern", "fennec"],
           [MAL["paperkite"], VULN["CVE-2022-30190"], TA["fennec"]["id"]]),
]

# --------------------------------------------------------------------------
# 11. second versions


def later(obj, days):
    return parse_ts(obj["modified"]) + dt.timedelta(days=days, milliseconds=250)


new_version(by_key["mal:ledgerleech"], later(by_key["mal:ledgerleech"], 95), {
    "aliases": ["LLeech", "LedgerSteal"],
    "last_seen": ts(at(190)),
    "capabilities": by_key["mal:ledgerleech"]["capabilities"] + ["anti-sandbox"],
})
new_version(by_key["ta:copper"], later(by_key["ta:copper"], 120), {
    "aliases": ["Lynx Group", "Ledger Lynx"],
    "last_seen": ts(at(185)),
})
hub = by_key["id:hub"]
new_version(hub, later(hub, 150), {
    "contact_information": "desk@nrch.example, +99 40 555 0199 (24/7 since October)",
})
ind_up = INDICATORS["ledger"][2][0]
new_version(ind_up, later(ind_up, 30), {
    "confidence": 95,
    "valid_until": ts(later(ind_up, 210)),
    "description": ind_up["description"] + " Confirmed by two members.",
})
ind_fp = INDICATORS["fennec"][1][0]
new_version(ind_fp, later(ind_fp, 12), {
    "description": ind_fp["description"] + " Revoked: range reassigned to a "
                   "legitimate hosting customer.",
    "revoked": True,
})
rep = REPORTS[0]
new_version(rep, later(rep, 4), {
    "description": rep["description"] + " Updated with the ransomware stage.",
    "object_refs": rep["object_refs"] + [AP["T1486"], TOOL["rclone"], TOOL["anydesk"]],
})

# --------------------------------------------------------------------------
# self-checks and output


def check(objs):
    seen = set()
    ids = {o["id"] for o in objs}
    for o in objs:
        key = (o["id"], o.get("modified"))
        assert key not in seen, key
        seen.add(key)
        if "created" in o and "modified" in o:
            assert o["modified"] >= o["created"], o["id"]
        for k, v in o.items():
            if k.endswith("_ref"):
                assert v in ids, (o["id"], k, v)
            if k.endswith("_refs"):
                for r in v:
                    assert r in ids, (o["id"], k, r)
    assert 300 <= len(objs) <= 500, len(objs)


check(objects)
bundle = {"type": "bundle", "id": new_id("bundle"), "objects": objects}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output",
                    default=os.path.join(here, "..", "data", "sample.json"))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        json.dump(bundle, f, indent=2, sort_keys=False, ensure_ascii=False)
        f.write("\n")
    counts = {}
    for o in objects:
        counts[o["type"]] = counts.get(o["type"], 0) + 1
    print("wrote %s: %d objects (%s)" % (os.path.normpath(args.output), len(objects),
          ", ".join("%s %d" % kv for kv in sorted(counts.items()))), file=sys.stderr)


if __name__ == "__main__":
    main()
