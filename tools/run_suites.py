#!/usr/bin/env python3
"""Runs the test suites of `make test` JOBS at a time and says which failed.

Each argument is one suite: "asan:SCRIPT" or "release:SCRIPT" runs the Python
script with TIX set to that build's binary; "make:TARGET" runs `make TARGET`.
A suite's output is kept while it runs and printed whole when it ends, with
its time, so two suites' lines never mix; the exit status is non-zero when any
suite failed (every suite still runs, so one run shows every failure). A
suite that exits 77 was skipped (it says why, e.g. a kernel without network
namespaces): reported as SKIPPED, by name at the end, and not a failure.
Suites start in the order given: put the long ones first.
Usage: tools/run_suites.py [-j JOBS] [--asan DIR] [--release DIR] SUITE...
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

SKIP = 77  # the exit status of a suite that could not run here (said why)


def command(spec, root, builds):
    kind, _, what = spec.partition(":")
    if not what:
        raise SystemExit("run_suites: %r is not KIND:WHAT" % spec)
    if kind == "make":
        return ["make", "--no-print-directory", what], {}
    if kind not in builds:
        raise SystemExit("run_suites: unknown kind %r in %r (asan, release or make)" % (kind, spec))
    return [sys.executable, what], {"TIX": os.path.join(root, builds[kind], "tix")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--asan", default="build-asan")
    ap.add_argument("--release", default="build")
    ap.add_argument("suites", nargs="+")
    a = ap.parse_args()
    root = os.getcwd()
    builds = {"asan": a.asan, "release": a.release}
    pending = [(s,) + command(s, root, builds) for s in a.suites]
    running, failed, skipped, started_all = [], [], [], time.monotonic()

    def finish(entry):
        spec, proc, log, t0 = entry
        rc = proc.wait()
        log.seek(0)
        out = log.read().decode("utf-8", "replace")
        log.close()
        took = time.monotonic() - t0
        verdict = "ok" if rc == 0 else "SKIPPED" if rc == SKIP else "FAILED, exit %d" % rc
        sys.stdout.write("==== %s (%s, %.0f s)\n%s" % (spec, verdict, took, out))
        if out and not out.endswith("\n"):
            sys.stdout.write("\n")
        sys.stdout.flush()
        if rc == SKIP:
            skipped.append(spec)
        elif rc != 0:
            failed.append(spec)

    while pending or running:
        while pending and len(running) < max(1, a.j):
            spec, argv, env = pending.pop(0)
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, **env), cwd=root)
            running.append((spec, proc, log, time.monotonic()))
        done = None
        while done is None:
            for entry in running:
                if entry[1].poll() is not None:
                    done = entry
                    break
            else:
                time.sleep(0.2)
        running.remove(done)
        finish(done)

    took = time.monotonic() - started_all
    if skipped:
        print("run_suites: %d SKIPPED (see their output for why): %s" % (len(skipped),
                                                                       " ".join(skipped)))
    if failed:
        print("run_suites: %d of %d suites FAILED in %.0f s: %s" % (len(failed), len(a.suites), took,
                                                                    " ".join(failed)))
        return 1
    print("run_suites: all %d suites passed in %.0f s" % (len(a.suites) - len(skipped), took))
    return 0


if __name__ == "__main__":
    sys.exit(main())
