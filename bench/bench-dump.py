#!/usr/bin/env python3
"""Benchmark `snakescope dump`: median wall time, CPU time (user+sys) and
peak RSS (GNU time, /usr/bin/time) of the snakescope process, paused,
--no-pause (each stack read twice to find torn frames) and --locals
(every frame's variables with their reprs), against a
10-thread target, a 200-thread target and a 300-frames-deep target, and
the text dump of 2,000 threads grouped (the default: threads with the
same stack told once) and --no-group (every stack), and `dump
--subprocesses` (text and --json) of a multiprocessing Pool of 32 workers
(33 processes, one worker stuck: the others told as groups), under every
supported interpreter found.

Usage: bench/bench-dump.py [--runs N] [--snakescope PATH] [--target S]
                           [PYTHON...]
(--target: only the targets whose label contains S, e.g. "2000")

Targets are tests/targets/{ten_threads,many_threads,deep,thousands,
mp_stuck}.py;
each records
its own state (the same protocol as the live tests) so the dump is taken
with the target parked.  Goals (from the foundation issue) are printed as
ratios: <= 3 ms for 10 threads paused, <= 30 ms for 200 threads, <= 10 MiB;
and 3 ms a process for the pool's 33 (each read and paused in turn).
"""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile

from benchlib import (interpreters, measure, peak_rss_kib, start,
                      supported_ranges, version_of)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DUMP_MODES = (("paused", []), ("no-pause", ["--no-pause"]),
              ("locals", ["--locals"]))
GROUP_MODES = (("grouped", []), ("no-group", ["--no-group"]))
PROC_MODES = (("subproc", ["--subprocesses"]),
              ("subp-json", ["--json", "--subprocesses"]))
# script, label, goal (ms), the script's arguments, modes
TARGETS = [("ten_threads.py", "10 threads", 3.0, [], DUMP_MODES),
           ("many_threads.py", "200 threads", 30.0, [], DUMP_MODES),
           ("deep.py", "300 deep", 3.0, [], DUMP_MODES),
           ("thousands.py", "2000 threads", 300.0, ["2000"], GROUP_MODES),
           ("mp_stuck.py", "32 processes", 99.0, ["32"], PROC_MODES)]
RSS_GOAL_KIB = 10 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--snakescope", default=os.path.join(TOP, "snakescope"))
    ap.add_argument("--target", default="")
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
            for target, label, goal, targs, modes in TARGETS:
                if args.target not in label:
                    continue
                proc = start(py, target, tmp, targs)
                try:
                    for mode, extra in modes:
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
                        if modes is not DUMP_MODES:
                            out = subprocess.run(cmd, stdout=subprocess.PIPE,
                                                 check=True).stdout
                            print("%-8s %-12s %-9s output %d lines, %d KiB"
                                  % ("", "", mode, out.count(b"\n"),
                                     len(out) // 1024))
                finally:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    if worst:
        print("worst wall/goal ratio %.2f; peak RSS %d KiB (goal %d, ratio "
              "%.2f)" % (max(w for w, _ in worst), max(r for _, r in worst),
                         RSS_GOAL_KIB, max(r for _, r in worst) / RSS_GOAL_KIB))


if __name__ == "__main__":
    sys.exit(main())
