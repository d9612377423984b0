#!/usr/bin/env python3
"""The Debian package of `make deb` (build-deb/tix_*.deb): its files, its
conffile and maintainer scripts, and the service started as its unit would
start it — the unpacked binary with the packaged configuration (a free
port, a temporary store) — answering TAXII discovery.

First it unpacks the package with dpkg-deb and runs the unit's
ExecStartPre and ExecStart from there; then (deb_boot.py) it installs it
with dpkg -i into a debootstrapped bookworm booted with systemd as PID 1
(systemd-nspawn --boot), never into this machine's /etc and /usr.

    make deb && python3 tests/e2e/test_deb.py
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_taxii as t  # noqa: E402
import deb_boot  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, **kw):
    r = subprocess.run(list(args), capture_output=True, timeout=300, **kw)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout.decode()


def main():
    debs = glob.glob(os.path.join(ROOT, "build-deb", "tix_*.deb"))
    if not debs:
        print("no build-deb/tix_*.deb: run `make deb` first")
        return 2
    deb = debs[0]
    work = tempfile.mkdtemp(prefix="tix-deb-")
    try:
        info = run("dpkg-deb", "-I", deb)
        assert re.search(r"^ Package: tix$", info, re.M) and "adduser" in info, info
        files = run("dpkg-deb", "-c", deb)
        for f in ("./usr/bin/tix", "./lib/systemd/system/tix.service", "./etc/tix/tix.conf",
                  "./usr/share/man/man1/tix.1.gz", "./usr/share/man/man8/tix-serve.8.gz",
                  "./usr/share/man/man5/tix.conf.5.gz", "./usr/share/doc/tix/tix.conf.example"):
            assert f in files, (f, files)
        ctl = os.path.join(work, "DEBIAN")
        run("dpkg-deb", "-e", deb, ctl)
        assert open(os.path.join(ctl, "conffiles")).read().split() == ["/etc/tix/tix.conf"]
        postinst = open(os.path.join(ctl, "postinst")).read()
        assert "adduser --system" in postinst and "tix.service" in postinst, postinst
        root = os.path.join(work, "root")
        run("dpkg-deb", "-x", deb, root)
        tix = os.path.join(root, "usr/bin/tix")
        # the packaged configuration, with a free port and a store of its own
        conf = os.path.join(work, "tix.conf")
        port = t.free_port()
        text = open(os.path.join(root, "etc/tix/tix.conf")).read()
        text = text.replace("path = /var/lib/tix/tix.db", "path = %s/state/tix.db" % work)
        text = text.replace("listen = 127.0.0.1:8600", "listen = 127.0.0.1:%d" % port)
        open(conf, "w").write(text)
        unit = open(os.path.join(root, "lib/systemd/system/tix.service")).read()
        def command(key):
            line = re.search(r"^%s=(.*)$" % key, unit, re.M).group(1).split()
            return [tix if a == "/usr/bin/tix" else conf if a == "/etc/tix/tix.conf" else a
                    for a in line]
        env = dict(os.environ, TIX_CONFIG=conf)
        env.pop("TIX_DB", None)
        run(*command("ExecStartPre"), env=env)
        # an account, through the configured store
        run(tix, "admin", "org", "add", "ops", env=env)
        run(tix, "admin", "user", "add", "op", "--org", "ops", "--role", "admin", env=env)
        key = run(tix, "admin", "key", "add", "--user", "op", env=env).strip()
        assert os.stat(os.path.join(work, "state", "tix.db")).st_mode & 0o077 == 0
        proc = subprocess.Popen(command("ExecStart"), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            import socket
            import time
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    break
                except OSError:
                    assert proc.poll() is None, proc.stderr.read()
                    assert time.monotonic() < deadline, "never listened"
                    time.sleep(0.1)
            srv = type("S", (), {"port": port})()
            d = t.expect(t.Client(srv, t.bearer(key)).get("/taxii2/"), 200).json()
            assert d["title"] == "tix" and d["api_roots"], d
        finally:
            proc.terminate()
            assert proc.wait(timeout=60) == 0
        print("ok   the package unpacks, its unit's commands start the server, discovery answers")

        def discovery(netns, key, wait):
            # wait: the unit is active once forked, listening a moment later
            code = ("import sys, http.client, json, socket, time\n"
                    "end = time.monotonic() + (60 if sys.argv[2] == '1' else 0)\n"
                    "while True:\n"
                    "    try:\n"
                    "        socket.create_connection(('127.0.0.1', 8600), timeout=5).close()\n"
                    "        break\n"
                    "    except OSError:\n"
                    "        if time.monotonic() > end: raise\n"
                    "        time.sleep(0.1)\n"
                    "c = http.client.HTTPConnection('127.0.0.1', 8600, timeout=30)\n"
                    "c.request('GET', '/taxii2/', headers={'Accept': '%s',"
                    " 'Authorization': 'Bearer ' + sys.argv[1]})\n"
                    "r = c.getresponse(); d = json.loads(r.read())\n"
                    "assert r.status == 200 and d['title'] == 'tix', (r.status, d)\n") % t.TAXII
            netns(sys.executable, "-c", code, key, "1" if wait else "0")

        score = deb_boot.run_booted(deb, discovery)
        print("ok   dpkg -i in a booted bookworm: tix.service started, reloaded, stopped; "
              "systemd-analyze security %.1f; dpkg -r keeps the conffile, the store and the "
              "user, purge removes only the conffile" % score)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
