#!/usr/bin/env python3
"""Abuse of the TAXII server: slow-loris clients, half-open connections, a
1 GB body, 100,000 query parameters and header floods, each against the
real `tix serve` on a free loopback port, while a well-behaved client keeps
asking for a known page and must get the right answer every time within a
liveness bound (LIVE_S: generous, a hang detector, not a benchmark).

Each abuse must also end the way the server promises: an oversized body is
refused (413, or the connection is closed) long before a gigabyte is read,
oversized request heads are refused, and the abusers' connections do not
stop the server from answering or from stopping cleanly (no sanitizer
report).

    TIX=build-asan/tix python3 tests/e2e/test_abuse.py [TEST_NAME...]
"""

import os
import re
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_taxii as t  # noqa: E402  (the servers, clients and STIX helpers)

LIVE_S = 10.0        # the most one probe may take before the server counts as stuck
GIB = 1 << 30
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Probe:
    """A well-behaved client: the same page again and again, each on a new
    connection, checked against what is known to be there."""

    def __init__(self, env):
        self.env, self.stop, self.failures, self.count = env, threading.Event(), [], 0
        self.thread = threading.Thread(target=self.run)

    def run(self):
        c = t.Client(self.env.srv, t.bearer(self.env.key))
        path = t.objects_path(self.env.cid)
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                conn = c.connect()
                conn.timeout = LIVE_S
                r = c.request("GET", path, [("limit", 1000)], conn=conn)
                conn.close()
                ids = sorted(o["id"] for o in r.json().get("objects", [])) \
                    if r.status == 200 else None
                if r.status != 200 or ids != self.env.ids:
                    self.failures.append("wrong answer: %r" % r)
            except Exception as e:  # a timeout, a reset: the server is not answering
                self.failures.append("no answer after %.1f s: %r" % (
                    time.monotonic() - start, e))
            took = time.monotonic() - start
            if took > LIVE_S:
                self.failures.append("an answer took %.1f s" % took)
            self.count += 1
            self.stop.wait(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(LIVE_S * 3)
        if exc[0] is None:
            assert self.count > 0, "the probe never ran"
            assert not self.failures, "the well-behaved client suffered: %s" % (
                self.failures[:5],)
        return False


class Env:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tix-abuse-")
        self.db, self.key, self.cid = t.small_store(self.dir)
        self.srv = t.Server(self.db, self.dir, "abuse",
                            extra=["--threads", "4", "--idle-timeout", "5"]).start()
        objs = [t.indicator() for _ in range(20)]
        t.post_ok(t.Client(self.srv, t.bearer(self.key)), self.cid, objs)
        self.ids = sorted(o["id"] for o in objs)
        self.auth = t.bearer(self.key)

    def head(self, method, path, extra=""):
        return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nAccept: %s\r\n%s" % (
            method, path, self.auth, t.TAXII, extra)).encode()

    def close(self):
        try:
            self.srv.stop()  # exit 0 and no sanitizer report, abusers or not
        finally:
            self.srv.kill()
            shutil.rmtree(self.dir, ignore_errors=True)


def connect(env, timeout=30):
    return socket.create_connection(("127.0.0.1", env.srv.port), timeout=timeout)


def read_status(s, limit=1 << 20):
    """Reads until the head of a response is in, or the server closes.
    Returns the status, or None when it closed (or reset) first."""
    buf = b""
    try:
        while b"\r\n\r\n" not in buf and len(buf) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return int(m.group(1)) if m else None


@test
def slow_loris_clients_do_not_starve_others(env):
    """200 connections send their request heads one byte at a time."""
    head = env.head("GET", "/taxii2/") + b"X-Slow: " + b"z" * 200 + b"\r\n\r\n"
    socks = []
    try:
        with Probe(env):
            for _ in range(200):
                socks.append(connect(env))
            deadline = time.monotonic() + 8
            i = 0
            while time.monotonic() < deadline and i < len(head) - 4:
                for s in socks:
                    try:
                        s.send(head[i:i + 1])
                    except OSError:
                        pass
                i += 1
                time.sleep(0.02)
    finally:
        for s in socks:
            s.close()


@test
def half_open_connections_do_not_starve_others(env):
    """Connections that say nothing, stop half-way through a head or a body,
    or send a request and never read the answer (nor close)."""
    socks = []
    try:
        with Probe(env):
            for i in range(300):
                s = connect(env)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                kind = i % 4
                if kind == 1:
                    s.sendall(env.head("GET", "/api1/")[:30])
                elif kind == 2:
                    s.sendall(env.head("POST", t.objects_path(env.cid),
                                       "Content-Type: %s\r\nContent-Length: 100000\r\n\r\n"
                                       % t.TAXII) + b'{"objects": [')
                elif kind == 3:
                    # Many answers asked for, none read: the server's sends block.
                    req = env.head("GET", t.objects_path(env.cid) + "?limit=1000", "\r\n")
                    s.sendall(req * 20)
                socks.append(s)
            time.sleep(3)
            # Clients that vanish without a word: shut down, no FIN read back.
            for s in socks[::7]:
                s.shutdown(socket.SHUT_WR)
            time.sleep(7)  # past --idle-timeout: the server must drop the silent ones
    finally:
        for s in socks:
            s.close()


def stream_body(env, extra_head, total, chunked):
    """Sends a POST declaring (or streaming) `total` bytes and keeps sending
    whole pieces until the server answers or closes. Returns (status or
    None, bytes sent)."""
    s = connect(env, timeout=60)
    s.sendall(env.head("POST", t.objects_path(env.cid),
                       "Content-Type: %s\r\n%s\r\n" % (t.TAXII, extra_head)))
    piece = b"x" * 65536
    if chunked:
        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
    sent, start, buf = 0, time.monotonic(), b""
    try:
        while sent < total and b"\r\n\r\n" not in buf:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                buf += chunk
                continue
            try:
                s.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
            if time.monotonic() - start > 120:
                raise AssertionError("a 1 GB body was still being read after 120 s "
                                     "(%d MB sent)" % (sent >> 20))
        s.settimeout(30)
        try:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except (ConnectionResetError, socket.timeout, BrokenPipeError):
            pass
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return (int(m.group(1)) if m else None), sent


@test
def a_1_gb_body_is_refused_without_being_read(env):
    """Declared with Content-Length: 413 at once. Streamed chunked: 413 or a
    closed connection once the server has read a few times --max-body.
    Either way far less than a gigabyte goes in."""
    before = len(t.page_all(t.Client(env.srv, env.auth), t.manifest_path(env.cid))[0])
    with Probe(env):
        status, sent = stream_body(env, "Content-Length: %d\r\n" % GIB, GIB, False)
        assert status in (413, None), status
        assert sent < 256 << 20, "%d MB of a declared 1 GB body were taken in" % (sent >> 20)
        status, sent = stream_body(env, "Transfer-Encoding: chunked\r\n", GIB, True)
        assert status in (413, None), status
        assert sent < 256 << 20, "%d MB of a chunked 1 GB body were taken in" % (sent >> 20)
    after = len(t.page_all(t.Client(env.srv, env.auth), t.manifest_path(env.cid))[0])
    assert before == after, "the store changed: %d -> %d objects" % (before, after)


@test
def a_hundred_thousand_query_parameters_are_refused(env):
    """100,000 parameters in one URL (too long a head), and 300 in a short
    one (more than the server takes): refused, and others are served."""
    c = t.Client(env.srv, env.auth)
    with Probe(env):
        q = "&".join("match[type]=x%d" % i for i in range(100000))
        s = connect(env)
        try:
            s.sendall(("GET %s?%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n\r\n" % (
                t.objects_path(env.cid), q, env.auth)).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        status = read_status(s)
        s.close()
        assert status in (None, 400, 413, 414, 431), status
        r = c.get(t.objects_path(env.cid), [("a%d" % i, "1") for i in range(300)])
        t.expect_error(r, 400)
        # Many values in one filter: refused or answered, never a crash.
        r = c.get(t.objects_path(env.cid), [("match[type]", ",".join(
            "t%d" % i for i in range(5000)))])
        assert r.status in (200, 400), r


@test
def header_floods_are_refused(env):
    """Thousands of headers, one huge header, and twenty clients doing it at
    once: each refused (431/413/400) or cut off, never a 200, never a hang."""
    floods = [
        env.head("GET", "/taxii2/") + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) +
        b"\r\n",
        env.head("GET", "/taxii2/") + b"X-Huge: " + b"h" * (4 << 20) + b"\r\n\r\n",
        env.head("GET", "/taxii2/") + b"Accept: " + b"a/b;" * 100000 + b"\r\n\r\n",
        env.head("GET", "/taxii2/") + b"Cookie: c\r\n" * 50000 + b"\r\n",
    ]
    results, lock = [], threading.Lock()

    def flood(data):
        s = connect(env)
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            st = read_status(s)
        finally:
            s.close()
        with lock:
            results.append(st)

    with Probe(env):
        threads = [threading.Thread(target=flood, args=(floods[i % len(floods)],))
                   for i in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not any(th.is_alive() for th in threads), "a flood was never answered nor cut"
    assert len(results) == 20 and all(st != 200 for st in results), results


@test
def many_connections_at_once_leave_room_for_others(env):
    """500 connections held open (idle and keep-alive) while others work."""
    socks = []
    try:
        with Probe(env):
            for i in range(500):
                try:
                    socks.append(connect(env))
                except OSError:
                    break
            time.sleep(2)
    finally:
        for s in socks:
            s.close()


def main():
    if not os.path.exists(t.TIX):
        print("tix binary not found at %s (set TIX)" % t.TIX)
        return 2
    only = sys.argv[1:]
    passed = failed = 0
    env = Env()
    try:
        for fn in TESTS:
            if only and fn.__name__ not in only:
                continue
            try:
                fn(env)
                passed += 1
                print("ok   %s" % fn.__name__)
            except Exception:
                failed += 1
                print("FAIL %s" % fn.__name__)
                traceback.print_exc()
                if env.srv.proc is None or env.srv.proc.poll() is not None:
                    print("    the server died: %s" % env.srv.stderr()[-3000:])
                    env.srv.proc = None
                    env.srv.start()
            sys.stdout.flush()
    finally:
        try:
            env.close()
        except Exception:
            traceback.print_exc()
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
