#!/usr/bin/env python3
"""Benchmark how snakescope finds the runtime: median wall time of
`snakescope dump --json` with the default lookup (symbols, then the
.PyRuntime section) and with SNAKESCOPE_LOCATE=scan (what a binary with
neither symbols nor section headers costs: the debug-offsets cookie on
3.13+, a pointer scan plus a validating walk before), under every
interpreter found, against tests/targets/ten_threads.py.

Usage: bench/bench-locate.py [--runs N] [--snakescope PATH] [PYTHON...]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import interpreters

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(TOP, "tests", "targets", "ten_threads.py")


def start(py, workdir):
    record = os.path.join(workdir, "rec-%d.json" % time.monotonic_ns())
    p = subprocess.Popen([py, "-E", "-s", "-B", TARGET, record],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, LC_ALL="C.UTF-8"))
    deadline = time.monotonic() + 30
    while not os.path.exists(record):
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            return None
        time.sleep(0.01)
    time.sleep(0.2)
    return p


def median_ms(snakescope, pid, env, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([snakescope, "dump", "--json", str(pid)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--snakescope", default=os.path.join(TOP, "snakescope"))
    ap.add_argument("python", nargs="*")
    args = ap.parse_args()
    print("%-40s %12s %12s %7s" % ("interpreter", "default ms", "scan ms",
                                   "ratio"))
    with tempfile.TemporaryDirectory() as workdir:
        for py in args.python or interpreters():
            p = start(py, workdir)
            if p is None:
                print("%-40s  (target did not start)" % py)
                continue
            try:
                base = median_ms(args.snakescope, p.pid, dict(os.environ),
                                 args.runs)
                scan = median_ms(args.snakescope, p.pid,
                                 dict(os.environ, SNAKESCOPE_LOCATE="scan"),
                                 args.runs)
            except subprocess.CalledProcessError as e:
                print("%-40s  dump failed: %s" % (py, e))
                continue
            finally:
                p.kill()
                p.wait()
            print("%-40s %12.1f %12.1f %7.2f" % (py, base, scan, scan / base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
