#!/usr/bin/env python3
"""Benchmark what naming blocked calls' waits costs a `dump`: the system
calls of one dump (strace -c: process_vm_readv, ptrace - the registers
read while the target is held - and the /proc reads and scans: openat,
getdents64, newfstatat, readlink) and the median wall and
CPU time (user+sys) of RUNS dumps, for each snakescope binary given
(e.g. main's and a branch's), against:

  many_threads.py   200 threads parked on locks, events, sleeps, queues:
                    nothing waits on a descriptor or a child
  fdwait.py         threads in recv, accept, poll, a pipe, a FIFO,
                    flock, waitpid (one /proc scan for the pipe's and the
                    FIFO's other ends; the children sleep)
  procwait.py       pipe_sh: Popen.wait() on `sh -c 'head ...'`, head
                    blocked writing the pipe nobody reads (the peers
                    followed: one /proc scan for head's pipe)

Usage: bench/bench-waits.py [--runs N] [--python PATH] SNAKESCOPE...
(default: ./snakescope)
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import start

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = [("many_threads.py", [], "200 threads"),
           ("fdwait.py", [], "fdwait.py"),
           ("procwait.py", ["pipe_sh"], "pipe_sh")]
CALLS = ("process_vm_readv", "ptrace", "openat", "getdents64",
         "newfstatat", "readlink")


def syscalls(binary, pid, tmp):
    """The call counts of one dump, or {} without strace."""
    if not shutil.which("strace"):
        return {}
    out = os.path.join(tmp, "strace.out")
    subprocess.run(["strace", "-f", "-qq", "-c", "-o", out, binary, "dump",
                    str(pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    counts = {}
    with open(out) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[-1] in CALLS and w[3].isdigit():
                counts[w[-1]] = int(w[3])
    return counts


def timed(binary, pid, runs):
    walls, cpus = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "dump", str(pid)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append((time.perf_counter() - t0) * 1e3)
        cpus.append((ru.ru_utime + ru.ru_stime) * 1e3)
        if status:
            raise RuntimeError("%s dump %d: status %d" % (binary, pid,
                                                          status))
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("snakescope", nargs="*",
                    default=[os.path.join(TOP, "snakescope")])
    args = ap.parse_args()
    print("median of %d runs; wall/CPU in ms; calls of one dump (strace -c)"
          % args.runs)
    print("%-12s %-28s %7s %7s  %s" % ("target", "snakescope", "wall",
                                       "CPU", " ".join(CALLS)))
    tmp = tempfile.mkdtemp(prefix="bench-waits.")
    os.chmod(tmp, 0o755)
    try:
        for script, extra, label in TARGETS:
            proc = start(args.python, script, tmp, extra)
            try:
                # Let the children settle where they block.
                time.sleep(0.5)
                for b in args.snakescope:
                    counts = syscalls(b, proc.pid, tmp)
                    wall, cpu = timed(b, proc.pid, args.runs)
                    print("%-12s %-28s %7.1f %7.1f  %s" % (
                        label, b[-28:], wall, cpu,
                        " ".join("%d" % counts.get(c, 0) for c in CALLS)))
            finally:
                os.killpg(proc.pid, 9)
                proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
