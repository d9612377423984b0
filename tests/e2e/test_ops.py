#!/usr/bin/env python3
"""Running tix as a daemon (issue 22), end to end on the real `tix serve`:
backups taken while the server writes, restores, `tix verify-store`.

    TIX=build/tix python3 tests/e2e/test_ops.py [TEST...]

Python's standard library only; loopback only; no timing assertion.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_taxii as t  # noqa: E402  (the servers, clients and STIX helpers)

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def stored_ids(db):
    out = t.tix_ok("export", "--all-versions", "--db", db)
    return {o["id"] for o in json.loads(out).get("objects", [])}


@test
def a_backup_under_write_load_has_every_write_acknowledged_before_it(work):
    db, key, cid = t.small_store(work)
    server = t.Server(db, work, "load").start()
    client = t.Client(server, t.bearer(key))
    acked, sent, lock, stop = [], set(), threading.Lock(), threading.Event()
    errors = []

    def writer():
        while not stop.is_set():
            o = t.indicator()
            with lock:
                sent.add(o["id"])
            try:
                r = client.post(t.objects_path(cid), t.envelope([o]))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                continue
            if r.status == 202 and r.json().get("success_count") == 1:
                with lock:
                    acked.append((time.monotonic(), o["id"]))

    threads = [threading.Thread(target=writer) for _ in range(3)]
    try:
        for th in threads:
            th.start()
        while len(acked) < 150:
            time.sleep(0.05)
        # everything acknowledged before `tix backup` starts must be in it
        before = time.monotonic()
        with lock:
            must = {oid for at, oid in acked if at < before}
        bk = os.path.join(work, "under-load.backup")
        r = t.tix("backup", "--db", db, bk)
        assert r.returncode == 0, r.stderr
        n_at_backup = len(acked)
        while len(acked) < n_at_backup + 100:   # and the writes go on meanwhile and after
            time.sleep(0.05)
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert not errors, errors[:3]
    assert oct(os.stat(bk).st_mode & 0o777) == oct(0o600)
    restored = os.path.join(work, "restored", "tix.db")
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 0, r.stderr
    assert b"new one was made" in r.stderr and b"tix admin key add" in r.stderr, r.stderr
    got = stored_ids(restored)
    missing = must - got
    assert not missing, "%d acknowledged writes missing from the backup" % len(missing)
    assert got <= sent, "the backup holds objects never sent"
    assert len(got) < len(stored_ids(db)), "the backup is not a copy of one earlier moment"
    r = t.tix("verify-store", "--db", restored)
    assert r.returncode == 0 and b"the store is sound" in r.stdout, r.stdout + r.stderr
    # Without the node secret the old key is refused; the password still works.
    server.stop()
    again = t.Server(restored, work, "restored").start()
    try:
        t.expect_error(t.Client(again, t.bearer(key)).get(t.objects_path(cid)), 401)
        r = t.Client(again, t.basic("writer", "correct horse battery staple")).get(t.objects_path(cid))
        t.expect(r, 200)
    finally:
        again.stop()


@test
def a_backup_with_the_secret_keeps_the_keys(work):
    db, key, cid = t.small_store(work)
    t.tix_ok("import", "--db", db, "--collection", "inbox", t.SAMPLE)
    bk = os.path.join(work, "with-secret.backup")
    t.tix_ok("backup", "--with-secret", "--db", db, bk)
    # a file that exists is never overwritten
    r = t.tix("backup", "--db", db, bk)
    assert r.returncode == 1 and b"never overwrites" in r.stderr
    restored = os.path.join(work, "r.db")
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 0 and b"new one was made" not in r.stderr, r.stderr
    assert stored_ids(restored) == stored_ids(db)
    server = t.Server(restored, work, "with-secret").start()
    try:
        t.expect(t.Client(server, t.bearer(key)).get(t.objects_path(cid)), 200)
    finally:
        server.stop()
    # restoring over a store that is not empty needs --force
    r = t.tix("restore", "--db", restored, bk)
    assert r.returncode == 1 and b"--force" in r.stderr
    assert t.tix("restore", "--force", "--db", restored, bk).returncode == 0
    # the audit log says who took and restored copies
    out = t.tix_ok("audit", "show", "--json", "--db", restored)
    details = [json.loads(l)["detail"] for l in out.splitlines()]
    assert any(d.startswith("tix restore ") for d in details), details


@test
def verify_store_names_what_is_wrong(work):
    db, key, cid = t.small_store(work)
    t.tix_ok("import", "--db", db, t.SAMPLE)
    r = t.tix("verify-store", "--db", db)
    assert r.returncode == 0, r.stdout + r.stderr
    for line in ("ok   integrity", "ok   schema", "ok   audit log", "ok   node secret"):
        assert line.encode() in r.stdout, r.stdout
    # an audit entry changed
    edited = os.path.join(work, "edited.db")
    shutil.copy(db, edited)
    con = sqlite3.connect(edited)
    con.execute("UPDATE audit SET actor = 'someone else' WHERE seq = 2")
    con.commit()
    con.close()
    r = t.tix("verify-store", "--db", edited)
    assert r.returncode == 1 and b"FAIL audit log: broken at entry 2" in r.stdout, r.stdout
    # damaged pages
    damaged = os.path.join(work, "damaged.db")
    shutil.copy(db, damaged)
    size = os.path.getsize(damaged)
    with open(damaged, "r+b") as f:
        for off in range(8192, size - 4096, 16384):
            f.seek(off + 100)
            f.write(os.urandom(600))
    r = t.tix("verify-store", "--db", damaged)
    assert r.returncode in (1, 3) and (b"FAIL" in r.stdout or b"malformed" in r.stderr), (r.stdout, r.stderr)
    assert b"the store is sound" not in r.stdout
    # nothing is created where there is no store
    nowhere = os.path.join(work, "none", "tix.db")
    assert t.tix("verify-store", "--db", nowhere).returncode == 3
    assert t.tix("backup", "--db", nowhere, os.path.join(work, "x.backup")).returncode == 3
    assert not os.path.exists(nowhere)
    # a file that is not a store is not restored
    junk = os.path.join(work, "junk.backup")
    with open(junk, "wb") as f:
        f.write(b"not a database" * 100)
    r = t.tix("restore", "--db", os.path.join(work, "j.db"), junk)
    assert r.returncode == 1, r.stderr
    assert not os.path.exists(os.path.join(work, "j.db"))


@test
def serve_reads_a_sectioned_configuration_and_the_command_line_wins(work):
    db, key, cid = t.small_store(work)
    clear = t.indicator()
    conf = os.path.join(work, "tix.conf")
    with open(conf, "w") as f:
        f.write("# the new format\n[store]\npath = %s\n\n[serve]\ntitle = \"  Sectioned node \"\n"
                "page-size = 3\nmax-body = 4K\n\n[policy]\ndefault-tlp = clear\n"
                "anonymous-read = on\n" % db)
    r = t.tix("config", "check", "--config", conf)
    assert r.returncode == 0, r.stderr
    server = t.Server(db, work, "sectioned", ["--config", conf]).start()
    try:
        c = t.Client(server, t.bearer(key))
        t.post_ok(c, cid, [clear] + [t.indicator() for _ in range(4)])
        d = t.expect(c.get("/taxii2/"), 200).json()
        assert d["title"] == "  Sectioned node ", d
        # --max-body of the command line (t.MAX_BODY) wins over the file's 4K
        assert t.expect(c.get("/api1/"), 200).json()["max_content_length"] == t.MAX_BODY
        j = t.expect(c.get(t.objects_path(cid)), 200).json()
        assert len(j["objects"]) == 3 and j["more"] is True, j
        # [policy]: unmarked objects are CLEAR here, and anonymous callers read them
        anon = t.Client(server)
        got = t.expect(anon.get(t.objects_path(cid, clear["id"])), 200).json()["objects"]
        assert got[0]["id"] == clear["id"]
    finally:
        server.stop()
    # a refused file keeps the server from starting, naming the line
    with open(conf, "a") as f:
        f.write("[serve]\n")
    with open(conf, "a") as f:
        f.write("threads = lots\n")
    r = t.tix("serve", "--config", conf, "--listen", "127.0.0.1:%d" % t.free_port())
    assert r.returncode == 2 and (conf + ":").encode() in r.stderr, r.stderr


class ConfiguredServer(t.Server):
    """`tix serve --config F` with the address and the store only in F (so
    that a reload can see them change)."""

    def start(self):
        self.err = open(self.errpath, "ab")
        self.proc = subprocess.Popen(
            [t.TIX, "serve", "--config", self.extra[0], "--threads", "2",
             "--access-log", self.logpath],
            stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        deadline = time.monotonic() + t.TIMEOUT
        while True:
            assert self.proc.poll() is None, self.stderr()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "tix serve never listened"
                time.sleep(0.05)

    def reload(self):
        """SIGHUP; waits for the server to log the outcome, returns its log of it."""
        done = ("reloaded:", "reload refused")
        before = self.stderr()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + t.TIMEOUT
        while True:
            now = self.stderr()
            if sum(now.count(m) for m in done) > sum(before.count(m) for m in done):
                return now[len(before):]
            assert time.monotonic() < deadline and self.proc.poll() is None, now[-2000:]
            time.sleep(0.05)


def served_certificate(port):
    """The SHA-256 of the certificate a new TLS connection is shown."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=t.TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def pem_fingerprint(path):
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


@test
def sighup_reloads_the_configuration_and_certificate_without_dropping_anything(work):
    if shutil.which("openssl") is None:
        raise AssertionError("the openssl command is needed (tools/deps.sh test)")
    db, key, cid = t.small_store(work)
    pairs = []
    for name in ("a", "b"):
        d = os.path.join(work, name)
        os.mkdir(d)
        pairs.append(t.make_certificates(d))
    (ca_a, cert_a, key_a), (ca_b, cert_b, key_b) = pairs
    cert, tls_key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    shutil.copy(cert_a, cert)
    shutil.copy(key_a, tls_key)
    conf = os.path.join(work, "tix.conf")
    server = ConfiguredServer(db, work, "reload", [conf])
    server.port = t.free_port()

    def write_conf(page_size, port=server.port, extra=""):
        with open(conf, "w") as f:
            f.write("[store]\npath = %s\n[serve]\nlisten = 127.0.0.1:%d\ntls-cert = %s\n"
                    "tls-key = %s\nmax-body = 1M\npage-size = %d\n%s"
                    % (db, port, cert, tls_key, page_size, extra))
    write_conf(2)
    server.start()
    ctx = ssl.create_default_context(cafile=ca_a)
    ctx.load_verify_locations(cafile=ca_b)
    c = t.Client(server, t.bearer(key), context=ctx)
    try:
        t.post_ok(c, cid, [t.indicator() for _ in range(5)])

        def page(conn=None):
            return len(t.expect(c.get(t.objects_path(cid), conn=conn), 200).json()["objects"])
        held = c.connect()
        assert page(held) == 2
        assert served_certificate(server.port) == pem_fingerprint(cert_a)
        # a POST in progress: its head and half its body sent before the reload
        body = json.dumps(t.envelope([t.indicator()])).encode()
        slow = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port),
                                                        timeout=t.TIMEOUT),
                               server_hostname="127.0.0.1")
        slow.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                      "Accept: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                      % (t.objects_path(cid), key, t.TAXII, t.TAXII, len(body))).encode()
                     + body[:len(body) // 2])
        # new certificate and key, a live setting changed, the log rotated
        shutil.copy(cert_b, cert)
        shutil.copy(key_b, tls_key)
        write_conf(3)
        os.rename(server.logpath, server.logpath + ".1")
        log = server.reload()
        assert "reloaded:" in log and "needs a restart" not in log, log
        slow.sendall(body[len(body) // 2:])
        answer = slow.recv(65536).decode(errors="replace")
        slow.close()
        assert answer.startswith("HTTP/1.1 202"), answer[:300]
        assert page(held) == 3, "the held connection sees the new page size"
        held.close()
        assert served_certificate(server.port) == pem_fingerprint(cert_b)
        assert page() == 3
        with open(server.logpath) as f:
            assert t.objects_path(cid) in f.read(), "the reopened access log is written"
        # a config the server refuses, naming the line: nothing changes
        write_conf(4, extra="no-such-key = 1\n")
        log = server.reload()
        assert "%s:9:" % conf in log and "no-such-key" in log and "reload refused" in log, log
        assert page() == 3
        # a key that is not the certificate's: nothing changes
        write_conf(4)
        shutil.copy(key_a, tls_key)
        log = server.reload()
        assert "reload refused" in log and tls_key in log, log
        assert page() == 3
        assert served_certificate(server.port) == pem_fingerprint(cert_b)
        # the address needs a restart: reported, kept; the rest applies
        shutil.copy(key_b, tls_key)
        write_conf(4, port=t.free_port())
        log = server.reload()
        assert "needs a restart: listen" in log and "reloaded:" in log, log
        assert page() == 4
    finally:
        server.stop()


def scrape(server, authorization=None):
    r = t.Client(server, authorization).get("/metrics", accept=None)
    return r


def samples(text):
    """name{labels} -> value, checking each line is in the text format."""
    import re
    out = {}
    line_re = re.compile(r'^([a-z_:][a-z0-9_:]*)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$')
    for line in text.splitlines():
        if line.startswith("#") or not line:
            assert line == "" or line.startswith("# HELP ") or line.startswith("# TYPE "), line
            continue
        m = line_re.match(line)
        assert m, "not in the Prometheus text format: %r" % line
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


@test
def matcher_counters_reach_metrics_through_its_stats_file(work):
    db, key, cid = t.small_store(work)
    c_ind = t.indicator(pattern="[ipv4-addr:value = '203.0.113.77']")
    stats = os.path.join(work, "match-stats")
    os.makedirs(stats)
    server = t.Server(db, work, "match-metrics", ["--match-stats", stats]).start()
    try:
        t.post_ok(t.Client(server, t.bearer(key)), cid, [c_ind])
        log = os.path.join(work, "proxy.log")
        with open(log, "w") as f:
            for i in range(40):
                f.write("2026-12-01T10:00:%02dZ GET http://example.org/ from %s\n"
                        % (i, "203.0.113.77" if i % 10 == 3 else "198.51.100.%d" % i))
        r = t.tix("match", "--db", db, "--quiet", "--sensor", "gate-1",
                  "--stats-file", os.path.join(stats, "gate-1.prom"), log)
        assert r.returncode == 0, r.stderr
        # something else in the directory: other metrics, garbage, a half line
        with open(os.path.join(stats, "evil.prom"), "w") as f:
            f.write('tix_http_requests_total{endpoint="objects"} 1e9\n'
                    'tix_match_lines_total{sensor="x"} 5 } junk\n'
                    'tix_match_lines_total{sensor="x\n')
        with open(os.path.join(stats, "ignored.txt"), "w") as f:
            f.write('tix_match_lines_total{sensor="txt"} 7\n')
        text = scrape(server).body.decode()
        m = samples(text)
        assert m['tix_match_lines_total{sensor="gate-1"}'] == 40, m
        assert m['tix_match_matches_total{sensor="gate-1"}'] == 4, m
        assert m['tix_match_matched_lines_total{sensor="gate-1"}'] == 4, m
        assert m['tix_match_indicators{sensor="gate-1"}'] == 1, m
        assert m['tix_match_skipped_lines_total{sensor="gate-1",reason="too_long"}'] == 0, m
        assert m["tix_match_stats_rejected_lines_total"] == 3, m
        assert 'sensor="txt"' not in text and 'sensor="x"' not in text
        assert m.get('tix_http_requests_total{endpoint="objects"}') is None, m
        assert text.count("# TYPE tix_match_lines_total counter") == 1
    finally:
        server.stop()


@test
def metrics_count_requests_latency_bytes_and_the_store(work):
    db, key, cid = t.small_store(work)
    server = t.Server(db, work, "metrics").start()
    try:
        c = t.Client(server, t.bearer(key))
        t.expect(c.get("/taxii2/"), 200)
        t.post_ok(c, cid, [t.indicator() for _ in range(3)])
        bad = t.indicator()
        del bad["pattern"]
        st = t.expect(c.post(t.objects_path(cid), t.envelope([bad])), 202).json()
        assert st["failure_count"] == 1, st
        t.expect(c.get(t.objects_path(cid)), 200)
        t.expect_error(t.Client(server, t.bearer("tix_nope_nope")).get(t.objects_path(cid)), 401)
        # A request is counted when libmicrohttpd reports it complete, which
        # may be just after its client has the answer: scrape until the 401
        # is in (a few tries at most), then check every figure.
        for _ in range(50):
            r = scrape(server)
            assert r.status == 200, r
            m = samples(r.body.decode())
            if m.get('tix_http_request_duration_seconds_count{endpoint="objects"}') == 4:
                break
            time.sleep(0.05)
        assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), r.header("Content-Type")
        assert m['tix_http_requests_total{endpoint="discovery",method="GET",status="200"}'] >= 1, m
        assert m['tix_http_requests_total{endpoint="objects",method="POST",status="202"}'] == 2
        # the refused object, by its reason; the others are at zero
        assert m['tix_taxii_objects_rejected_total{reason="invalid"}'] == 1, m
        assert m['tix_taxii_objects_rejected_total{reason="write_rule"}'] == 0, m
        # the audit queue: present, bounded, and it drains (reads are logged)
        assert m["tix_audit_queue_capacity"] > 0 and "tix_audit_queue_depth" in m, m
        assert m['tix_http_requests_total{endpoint="objects",method="GET",status="200"}'] == 1
        assert m['tix_http_rejected_total{reason="unauthenticated"}'] >= 1
        # a histogram: buckets grow, +Inf is the count
        b = [v for k, v in m.items() if k.startswith('tix_http_request_duration_seconds_bucket{endpoint="objects"')]
        assert b == sorted(b) and b[-1] == m['tix_http_request_duration_seconds_count{endpoint="objects"}'] == 4, b  # 2 POST, GET, 401
        assert m['tix_http_request_bytes_total{endpoint="objects"}'] > 500
        assert m['tix_http_response_bytes_total{endpoint="objects"}'] > 500
        assert m['tix_store_objects{type="indicator"}'] == 3 and m["tix_store_size_bytes"] > 4096
        # the scrape itself is counted by the next one; the audit entries of
        # the reads are written within moments (the queue gathers 50 ms)
        for _ in range(100):
            m2 = samples(scrape(server).body.decode())
            if m2["tix_audit_entries_total"] >= 2 and m2["tix_audit_queue_depth"] == 0:
                break
            time.sleep(0.05)
        assert m2['tix_http_requests_total{endpoint="metrics",method="GET",status="200"}'] >= 1
        assert m2["tix_audit_entries_total"] >= 2 and m2["tix_audit_queue_depth"] == 0, m2
        assert m2["tix_audit_entries_lost_total"] == 0, m2
        # a peer that cannot be reached: each failed attempt is counted
        dead = t.free_port()
        t.tix_ok("peer", "add", "nowhere", "--db", db, "--url", "http://127.0.0.1:%d/taxii2/" % dead,
                 "--remote-collection", "c1", "--local-collection", cid, "--direction", "pull",
                 "--key-stdin", stdin=b"tix_some-key\n")
        for n in (1, 2):
            r = t.tix("sync", "--peer", "nowhere", "--once", "--db", db)
            assert r.returncode != 0, r
            m3 = samples(scrape(server).body.decode())
            assert m3['tix_peer_errors_total{peer="nowhere"}'] == n, m3
            assert m3['tix_peer_failing{peer="nowhere"}'] == 1, m3
    finally:
        server.stop()
    # its own key: required from everywhere, loopback too
    keyfile = os.path.join(work, "metrics.key")
    with open(keyfile, "w") as f:
        f.write("a-metrics-key-of-some-length\n")
    server = t.Server(db, work, "metrics-key", ["--metrics-key-file", keyfile]).start()
    try:
        assert scrape(server).status == 401
        assert scrape(server, "Bearer wrong-key-of-some-length").status == 401
        assert scrape(server, t.bearer(key)).status == 401   # a user's key is not it
        assert scrape(server, "Bearer a-metrics-key-of-some-length").status == 200
    finally:
        server.stop()
    server = t.Server(db, work, "no-metrics", ["--no-metrics"]).start()
    try:
        assert scrape(server).status in (401, 404), "GET /metrics answered with --no-metrics"
        assert b"tix_http" not in scrape(server).body
    finally:
        server.stop()


@test
def an_audited_read_leaves_the_answer_cache_as_it_was(work):
    # Every read is written to the audit log by its own writer; that commit
    # changes nothing an answer shows, so the same page asked again is
    # answered from the cache. A write still empties it.
    db, key, cid = t.small_store(work)
    server = t.Server(db, work, "cache", extra=["--threads", "1"]).start()
    try:
        c = t.Client(server, t.bearer(key))
        t.post_ok(c, cid, [t.indicator() for _ in range(3)])

        def counts():
            m = samples(scrape(server).body.decode())
            return (m['tix_taxii_cache_answers_total{result="hit"}'],
                    m['tix_taxii_cache_answers_total{result="miss"}'],
                    m["tix_audit_queue_depth"])

        def audited():
            # the counts once the audit writer has committed the reads so far
            for _ in range(100):
                hits, misses, depth = counts()
                if depth == 0:
                    return hits, misses
                time.sleep(0.05)
            raise AssertionError("the audit queue never drained")

        first = t.expect(c.get(t.objects_path(cid)), 200).body
        hits0, misses0 = audited()
        time.sleep(0.3)  # the writer commits in batches
        hits0, misses0 = audited()
        again = t.expect(c.get(t.objects_path(cid)), 200).body
        assert again == first
        hits1, misses1 = audited()
        assert (hits1, misses1) == (hits0 + 1, misses0), (hits0, misses0, hits1, misses1)
        # a write empties it: the page is made again, with the new object
        new = t.indicator()
        t.post_ok(c, cid, [new])
        after = t.expect(c.get(t.objects_path(cid)), 200).json()
        assert new["id"] in {o["id"] for o in after["objects"]}
        hits2, misses2 = audited()
        assert (hits2, misses2) == (hits1, misses1 + 1), (hits1, misses1, hits2, misses2)
    finally:
        server.stop()


@test
def json_logs_carry_the_request_id_of_the_header_and_the_error_body(work):
    db, key, cid = t.small_store(work)
    server = t.Server(db, work, "jsonlog", ["--log-format", "json"]).start()
    try:
        c = t.Client(server, t.bearer(key))
        ok = t.expect(c.get("/taxii2/"), 200)
        missing = t.expect_error(c.get(t.objects_path(cid, "indicator--00000000-0000-4000-8000-000000000000")), 404)
        denied = t.Client(server, t.bearer("tix_nope_nope")).get(t.objects_path(cid))
        ids = [r.header("X-Request-Id") for r in (ok, denied)]
        rid404 = None
        # the error body names the request: error_id is its X-Request-Id
        r = c.get(t.objects_path(cid, "indicator--00000000-0000-4000-8000-000000000000"))
        rid404 = r.header("X-Request-Id")
        assert r.json()["error_id"] == rid404, (r.json(), rid404)
        assert denied.json()["error_id"] == ids[1]
        assert missing.get("error_id") and len(set(ids + [rid404])) == 3, ids
        deadline = time.monotonic() + 10
        while True:
            lines = [json.loads(l) for l in open(server.logpath) if l.strip()]
            if len(lines) >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        by_id = {l["request_id"]: l for l in lines}
        assert by_id[ids[0]]["path"] == "/taxii2/" and by_id[ids[0]]["status"] == 200
        assert by_id[ids[0]]["user"] == "writer"
        assert by_id[ids[1]]["status"] == 401 and by_id[ids[1]].get("user") is None
        assert by_id[rid404]["status"] == 404
    finally:
        server.stop()
    # messages on stderr are JSON lines too
    for line in server.stderr().splitlines():
        if line.startswith("{"):
            assert json.loads(line)["level"] in ("error", "warn", "info", "debug")
    # the text log has the id as well, before the user
    server = t.Server(db, work, "textlog").start()
    try:
        r = t.expect(t.Client(server, t.bearer(key)).get("/taxii2/"), 200)
        rid = r.header("X-Request-Id")
        deadline = time.monotonic() + 10
        while rid not in open(server.logpath).read() and time.monotonic() < deadline:
            time.sleep(0.1)
        line = [l for l in open(server.logpath) if rid in l][0]
        assert line.rstrip().endswith(" %s writer" % rid), line
    finally:
        server.stop()


def main():
    if not os.path.exists(t.TIX):
        print("tix binary not found at %s (set TIX)" % t.TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        work = tempfile.mkdtemp(prefix="tix-ops-")
        try:
            fn(work)
            passed += 1
            print("ok   %s" % fn.__name__)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__)
            traceback.print_exc()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
