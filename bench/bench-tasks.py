#!/usr/bin/env python3
"""Benchmark reading asyncio tasks: `snakescope dump --json` of a target
with 10,000 sleeping tasks (tests/targets/async_many.py), median wall
time, CPU time and peak RSS, against the same dump with --tasks=none (the
threads alone), under every interpreter from 3.8 found; and on 3.14+ the
interpreter's own `python -m asyncio ps PID` on the same target.

Usage: bench/bench-tasks.py [--runs N] [--snakescope PATH] [PYTHON...]

The goal (from the asyncio issue) is "10,000 tasks in well under a
second": ratio = wall / 1000 ms.
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import (TOP, interpreters, measure, peak_rss_kib, start,
                      supported_ranges, version_of)

GOAL_MS = 1000.0


def median_run(cmd, runs):
    res = [measure(cmd) for _ in range(runs)]
    return (statistics.median(r[0] for r in res),
            statistics.median(r[1] for r in res))


def peer_ms(py, pid, runs):
    """Median wall time of `python -m asyncio ps PID` (3.14+), or None."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run([py, "-m", "asyncio", "ps", str(pid)],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return None
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--snakescope", default=os.path.join(TOP, "snakescope"))
    ap.add_argument("pythons", nargs="*")
    args = ap.parse_args()
    ranges = supported_ranges(args.snakescope)
    print("10,000 tasks; median of %d runs; wall/CPU in ms, RSS in KiB; "
          "ratio = wall / %.0f ms" % (args.runs, GOAL_MS))
    print("%-8s %9s %9s %8s %12s %8s %14s %10s" % (
        "python", "wall", "cpu", "rss", "threads-only", "ratio",
        "asyncio ps", "ps/ours"))
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for py in args.pythons or interpreters():
            mm, full = version_of(py)
            if mm < (3, 8) or not any(lo <= mm <= hi for lo, hi in ranges):
                print("%-8s skipped (no asyncio tasks read before 3.8)"
                      % full)
                continue
            proc = start(py, "async_many.py", tmp)
            try:
                cmd = [args.snakescope, "dump", "--json", str(proc.pid)]
                wall, cpu = median_run(cmd, args.runs)
                base, _ = median_run(cmd[:2] + ["--tasks=none"] + cmd[2:],
                                     args.runs)
                rss = peak_rss_kib(cmd)
                peer = peer_ms(py, proc.pid, 3) if mm >= (3, 14) else None
                print("%-8s %9.1f %9.1f %8s %12.1f %8.3f %14s %10s" % (
                    full, wall, cpu, rss or "?", base, wall / GOAL_MS,
                    "%.1f" % peer if peer else "-",
                    "%.1f" % (peer / wall) if peer else "-"))
                worst = max(worst, wall / GOAL_MS)
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    print("worst wall/goal ratio %.3f" % worst)


if __name__ == "__main__":
    sys.exit(main())
