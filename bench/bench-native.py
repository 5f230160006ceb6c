#!/usr/bin/env python3
"""What `dump --native` costs: the pause, and native unwinding per thread,
cold and warm; and the rate `record --native` reaches.

usage: bench/bench-native.py [--runs N] [--interp PATH] [--threads LIST]

A generated target runs T threads (T in 1, 10, 100, 500 by default), each
blocked three Python calls deep in a lock wait.  For each T, `snakescope
watch --native --every 0.05 --count 6 PID` reads it six times in one
session with SNAKESCOPE_TIMING=1, which prints, per read: the time to
stop every thread (pause), to let them go (resume) and to unwind and
symbolise every thread's native stack.  The first read is cold (symbol
tables and libunwind's caches empty: the cost of a one-shot dump); the
later ones are warm (what watch pays from its second dump on).  Printed:
medians over --runs sessions of pause and resume (us, and us per
thread), unwind cold and warm (us per thread), and the ratio cold/warm.
Then, per T, the samples a second of `record --rate max --idle -d 1`
with --native and with --pause (Python stacks only, also paused), medians
over --runs, and their ratio.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

TARGET = r'''
import sys, threading, time
lock = threading.Lock()
lock.acquire()
def c(): lock.acquire()
def b(): c()
def a(): b()
for i in range(%(n)d):
    t = threading.Thread(target=a, name="t%%d" %% i)
    t.daemon = True
    t.start()
time.sleep(0.5)
with open(sys.argv[1], "w") as f:
    f.write("ready")
while True:
    time.sleep(1)
'''

TIMING = re.compile(r"threads (\d+), pause ([\d.]+) us, resume ([\d.]+) us, "
                    r"native unwind ([\d.]+) us")


def session(snakescope, pid):
    env = dict(os.environ, SNAKESCOPE_TIMING="1")
    p = subprocess.run([snakescope, "watch", "--native", "--every", "0.05",
                        "--count", "6", str(pid)], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return [tuple(float(x) for x in m.groups())
            for m in TIMING.finditer(p.stderr)]


SUMMARY = re.compile(r"(\d+) samples in ([\d.]+) s")


def record_rate(snakescope, pid, mode):
    p = subprocess.run([snakescope, "record", mode, "--idle", "--rate", "max",
                        "-d", "1", "-o", os.devnull, str(pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    m = SUMMARY.search(p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(p.stderr)
    return int(m.group(1)) / float(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interp", default="/root/.pyenv/versions/3.12.1/bin/"
                    "python")
    ap.add_argument("--threads", default="1,10,100,500")
    args = ap.parse_args()
    snakescope = os.path.join(benchlib.TOP, "snakescope")
    print("interpreter: %s (%s)" % (args.interp,
                                    benchlib.version_of(args.interp)[1]))
    print("%7s %8s %10s %10s %10s %12s %12s %10s" % (
        "threads", "OS thr", "pause us", "pause/thr", "resume us",
        "cold us/thr", "warm us/thr", "cold/warm"))
    rates = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.threads.split(",")]:
            script = os.path.join(tmp, "native_bench_%d.py" % n)
            with open(script, "w") as f:
                f.write(TARGET % {"n": n})
            ready = os.path.join(tmp, "ready-%d" % n)
            proc = subprocess.Popen([args.interp, "-B", script, ready],
                                    stdout=subprocess.DEVNULL)
            try:
                while not os.path.exists(ready):
                    if proc.poll() is not None:
                        raise RuntimeError("target %d did not start" % n)
                    time.sleep(0.05)
                pause, resume, cold, warm = [], [], [], []
                nthreads = 0
                for _ in range(args.runs):
                    reads = session(snakescope, proc.pid)
                    nthreads = int(reads[0][0])
                    pause += [r[1] for r in reads]
                    resume += [r[2] for r in reads]
                    cold.append(reads[0][3] / nthreads)
                    warm += [r[3] / nthreads for r in reads[1:]]
                mp = statistics.median(pause)
                mc, mw = statistics.median(cold), statistics.median(warm)
                print("%7d %8d %10.1f %10.2f %10.1f %12.1f %12.1f %10.1f" % (
                    n, nthreads, mp, mp / nthreads,
                    statistics.median(resume), mc, mw, mc / mw))
                sys.stdout.flush()
                native = statistics.median(
                    record_rate(snakescope, proc.pid, "--native")
                    for _ in range(args.runs))
                paused = statistics.median(
                    record_rate(snakescope, proc.pid, "--pause")
                    for _ in range(args.runs))
                rates.append((n, native, paused))
            finally:
                proc.kill()
                proc.wait()
    print()
    print("record --rate max --idle, samples/s (medians of %d)" % args.runs)
    print("%7s %12s %12s %12s" % ("threads", "--native", "--pause",
                                  "pause/native"))
    for n, native, paused in rates:
        print("%7d %12.1f %12.1f %12.1f" % (n, native, paused,
                                            paused / native))


if __name__ == "__main__":
    main()
