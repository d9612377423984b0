"""The .deb of `make deb` installed with dpkg -i into a minimal Debian 12
(debootstrap --variant=minbase, cached in build-chroot/) booted with systemd
as PID 1 (systemd-nspawn --boot, its own network namespace, the tree kept
pristine by --volatile=overlay): the unit started, reloaded, rated, stopped;
the package removed and purged."""

import glob
import hashlib
import os
import re
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(*args, ok=True, timeout=300, **kw):
    r = subprocess.run(list(args), capture_output=True, timeout=timeout, **kw)
    if ok:
        assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r


def base_tree(deb):
    """The cached bookworm tree with systemd and the package's Depends."""
    deps = sh("dpkg-deb", "-f", deb, "Depends").stdout.decode()
    names = {d.split("|")[0].split("(")[0].strip() for d in deps.split(",")}
    pkgs = sorted(names | {"systemd", "systemd-sysv", "dbus"})
    tag = hashlib.sha256(",".join(pkgs).encode()).hexdigest()[:12]
    tree = os.path.join(ROOT, "build-chroot", "bookworm-" + tag)
    if os.path.exists(os.path.join(tree, ".tix-complete")):
        return tree
    tmp = tree + ".part"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(tree), exist_ok=True)
    args = ["debootstrap", "--variant=minbase", "--include=" + ",".join(pkgs), "bookworm", tmp]
    if os.environ.get("TIX_DEBIAN_MIRROR"):
        args.append(os.environ["TIX_DEBIAN_MIRROR"])
    sh(*args, timeout=900)
    open(os.path.join(tmp, ".tix-complete"), "w").close()
    shutil.rmtree(tree, ignore_errors=True)
    os.rename(tmp, tree)
    return tree


def leader(nspawn_pid):
    """The container's PID 1 as the host sees it."""
    for _ in range(300):
        for st in glob.glob("/proc/[0-9]*/status"):
            try:
                text = open(st).read()
            except OSError:
                continue
            m = re.search(r"^NSpid:\s+(\d+)\s+1$", text, re.M)
            ppid = re.search(r"^PPid:\s+(\d+)$", text, re.M)
            if m and ppid:
                p = int(ppid.group(1))
                if p == nspawn_pid or _parent(p) == nspawn_pid:
                    return int(m.group(1))
        time.sleep(0.1)
    raise AssertionError("no container PID 1")


def _parent(pid):
    try:
        return int(re.search(r"^PPid:\s+(\d+)$", open("/proc/%d/status" % pid).read(),
                             re.M).group(1))
    except (OSError, AttributeError):
        return -1


def run_booted(deb, discovery):
    """discovery(run_in_netns, key, wait) fetches /taxii2/ from the container's loopback."""
    tree = base_tree(deb)
    log = open(os.path.join(ROOT, "build-chroot", "console.log"), "w")
    proc = subprocess.Popen(
        ["systemd-nspawn", "-D", tree, "--volatile=overlay", "--private-network",
         "--register=no", "--keep-unit", "--console=pipe", "-M", "tixdeb",
         "--bind-ro=%s:/srv/deb" % os.path.dirname(deb), "--boot"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        pid1 = leader(proc.pid)

        def inside(*args, ok=True):
            return sh("nsenter", "-t", str(pid1), "-m", "-u", "-i", "-n", "-p", "-r", "-w",
                      "--", *args, ok=ok)

        for _ in range(600):
            if os.path.exists("/proc/%d/root/run/systemd/private" % pid1):
                break
            time.sleep(0.1)
        r = inside("systemctl", "is-system-running", "--wait", ok=False)
        state = r.stdout.decode() + r.stderr.decode()
        assert state.strip() in ("running", "degraded"), state
        assert inside("cat", "/proc/1/comm").stdout.decode().strip() == "systemd"
        # dpkg -i: the postinst makes the user and, systemd running, starts the unit
        inside("dpkg", "-i", "/srv/deb/" + os.path.basename(deb))
        assert inside("systemctl", "is-enabled", "tix").stdout.decode().strip() == "enabled"
        for _ in range(100):
            if inside("systemctl", "is-active", "tix", ok=False).returncode == 0:
                break
            time.sleep(0.1)
        assert inside("systemctl", "is-active", "tix", ok=False).returncode == 0, \
            inside("journalctl", "-u", "tix", "--no-pager", ok=False).stdout
        assert inside("stat", "-c", "%U %a", "/var/lib/tix").stdout.decode().split() == \
            ["tix", "700"]
        env = ["runuser", "-u", "tix", "--", "tix"]
        inside(*env, "admin", "org", "add", "ops")
        inside(*env, "admin", "user", "add", "op", "--org", "ops", "--role", "admin")
        key = inside(*env, "admin", "key", "add", "--user", "op").stdout.decode().strip()

        def netns(*args):
            return sh("nsenter", "-t", str(pid1), "-n", "--", *args)

        discovery(netns, key, True)
        main = inside("systemctl", "show", "-p", "MainPID", "--value", "tix").stdout
        r = inside("systemctl", "reload", "tix", ok=False)
        assert r.returncode == 0, inside("journalctl", "-u", "tix", "--no-pager",
                                         ok=False).stdout.decode()[-3000:]
        time.sleep(1)
        assert inside("systemctl", "is-active", "tix", ok=False).returncode == 0
        assert inside("systemctl", "show", "-p", "MainPID", "--value", "tix").stdout == main
        discovery(netns, key, False)
        sec = inside("systemd-analyze", "security", "tix", ok=False).stdout.decode()
        score = float(re.search(r"Overall exposure level for tix.service: ([0-9.]+)",
                                sec).group(1))
        assert score <= 2.0, sec[-3000:]
        inside("systemctl", "stop", "tix")
        show = inside("systemctl", "show", "-p", "ActiveState,Result,ExecMainStatus",
                      "tix").stdout.decode()
        assert "ActiveState=inactive" in show and "Result=success" in show, show
        # remove: the conffile, the user and the store stay; purge: only the conffile goes
        inside("dpkg", "-r", "tix")
        assert inside("test", "-e", "/usr/bin/tix", ok=False).returncode != 0
        assert inside("test", "-f", "/etc/tix/tix.conf", ok=False).returncode == 0
        assert inside("test", "-f", "/var/lib/tix/tix.db", ok=False).returncode == 0
        assert inside("getent", "passwd", "tix", ok=False).returncode == 0
        inside("dpkg", "-P", "tix")
        assert inside("test", "-e", "/etc/tix/tix.conf", ok=False).returncode != 0
        assert inside("test", "-f", "/var/lib/tix/tix.db", ok=False).returncode == 0
        # the user stays with the store it owns (debian/tix.postrm says why)
        assert inside("getent", "passwd", "tix", ok=False).returncode == 0
        inside("systemctl", "poweroff", ok=False)
        assert proc.wait(timeout=60) == 0
        return score
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
