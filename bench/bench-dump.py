#!/usr/bin/env python3
"""Benchmark `snakescope dump`: median wall time, CPU time (user+sys) and
peak RSS (GNU time, /usr/bin/time) of the snakescope process, paused and --no-pause, against a
10-thread target, a 200-thread target and a 300-frames-deep target, under
every supported interpreter found.

Usage: bench/bench-dump.py [--runs N] [--snakescope PATH] [PYTHON...]

Targets are tests/targets/{ten_threads,many_threads,deep}.py; each records
its own state (the same protocol as the live tests) so the dump is taken
with the target parked.  Goals (from the foundation issue) are printed as
ratios: <= 3 ms for 10 threads paused, <= 30 ms for 200 threads, <= 10 MiB.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import interpreters

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = [("ten_threads.py", "10 threads", 3.0),
           ("many_threads.py", "200 threads", 30.0),
           ("deep.py", "300 deep", 3.0)]
RSS_GOAL_KIB = 10 * 1024


def supported_ranges(snakescope):
    """[((2, 7), (2, 7)), ((3, 6), (3, 15))] from "supported: CPython
    2.7, 3.6-3.15"."""
    out = subprocess.run([snakescope, "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"^supported: CPython (.*)$", out, re.M)
    ranges = []
    for part in m[1].split(", "):
        r = re.fullmatch(r"(\d+)\.(\d+)(?:-(\d+)\.(\d+))?", part)
        lo = (int(r[1]), int(r[2]))
        ranges.append((lo, (int(r[3]), int(r[4])) if r[3] else lo))
    return ranges


def version_of(py):
    out = subprocess.run([py, "-c", "import sys; sys.stdout.write('%d %d %s' %"
                          " (sys.version_info[0], sys.version_info[1],"
                          " sys.version.split()[0]))"],
                         capture_output=True, text=True).stdout.split()
    return (int(out[0]), int(out[1])), out[2]


def start(py, target, tmp):
    # A fresh record path per start: an old record would look "ready".
    record = tempfile.mktemp(prefix=target + ".", suffix=".json", dir=tmp)
    proc = subprocess.Popen([py, "-B", os.path.join(TOP, "tests", "targets", target),
                             record], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while not os.path.exists(record):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("%s did not start: %s" % (target,
                               proc.stderr.read().decode(errors="replace")))
        time.sleep(0.02)
    with open(record) as f:
        rec = json.load(f)
    rtid = rec.get("recorder_native_id")
    while rtid and os.path.exists("/proc/%d/task/%d" % (proc.pid, rtid)):
        time.sleep(0.01)
    return proc


def peak_rss_kib(cmd):
    """Peak RSS of cmd, via GNU time.  os.wait4() from this script would
    report Python's own high-water mark: a forked child keeps its parent's
    maxrss across exec."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    m = re.search(r"^RSS (\d+)$", r.stderr, re.M)
    return int(m[1]) if m else None


def measure(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    if status != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd),
                           p.stderr.read().decode(errors="replace")))
    p.stderr.close()
    return wall, (ru.ru_utime + ru.ru_stime) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--snakescope", default=os.path.join(TOP, "snakescope"))
    ap.add_argument("pythons", nargs="*")
    args = ap.parse_args()
    ranges = supported_ranges(args.snakescope)
    print("median of %d runs; wall/CPU in ms, RSS in KiB; ratio = wall/goal"
          % args.runs)
    print("%-8s %-12s %-9s %8s %8s %8s %7s %8s" % (
        "python", "target", "mode", "wall", "cpu", "rss", "goal", "ratio"))
    worst = []
    with tempfile.TemporaryDirectory() as tmp:
        for py in args.pythons or interpreters():
            mm, full = version_of(py)
            if not any(lo <= mm <= hi for lo, hi in ranges):
                print("%-8s skipped (unsupported by this build)" % full)
                continue
            for target, label, goal in TARGETS:
                proc = start(py, target, tmp)
                try:
                    for mode, extra in (("paused", []),
                                        ("no-pause", ["--no-pause"])):
                        cmd = [args.snakescope, "dump"] + extra + [str(proc.pid)]
                        runs = [measure(cmd) for _ in range(args.runs)]
                        wall = statistics.median(r[0] for r in runs)
                        cpu = statistics.median(r[1] for r in runs)
                        rss = statistics.median(
                            [peak_rss_kib(cmd) or 0 for _ in range(3)])
                        print("%-8s %-12s %-9s %8.2f %8.2f %8s %7.1f %8.2f" % (
                            full, label, mode, wall, cpu, rss or "?", goal,
                            wall / goal))
                        worst.append((wall / goal, rss))
                finally:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    if worst:
        print("worst wall/goal ratio %.2f; peak RSS %d KiB (goal %d, ratio "
              "%.2f)" % (max(w for w, _ in worst), max(r for _, r in worst),
                         RSS_GOAL_KIB, max(r for _, r in worst) / RSS_GOAL_KIB))


if __name__ == "__main__":
    sys.exit(main())
