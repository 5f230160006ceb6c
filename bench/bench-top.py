#!/usr/bin/env python3
"""What `snakescope top` costs at the load its issue names: 100 Hz sampling
of 100 threads that between them run 10,000 distinct functions.

usage: bench/bench-top.py [--runs N] [--seconds S] [--interp PATH]...

A generated target (in a temporary directory) defines f0 ... f9999 in one
module; each of its 100 threads calls a random one after another (each
sleeps 1 ms), so every function shows up within seconds.  For each
interpreter, top runs as `top --idle --iterations S --refresh 1 --size
200x60` (every thread's stack counted: 10,000 stacks a second), and, to
compare, `record --idle --rate 100 --duration S` does the same sampling
without the view.  Printed per run and as medians: snakescope's CPU use
(user + system, % of one core), the sample rate top achieved (from its
last screen) and the functions it had seen, and the ratio top / record of
CPU: what aggregating, sorting and drawing add to sampling.
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

NFUNCS = 10000
NTHREADS = 100

TARGET = r'''
import os, random, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import many_funcs
funcs = [getattr(many_funcs, "f%%d" %% i) for i in range(%(n)d)]
def worker(seed):
    rng = random.Random(seed)
    while True:
        funcs[rng.randrange(len(funcs))]()
for i in range(%(threads)d):
    t = threading.Thread(target=worker, args=(i,), name="w%%d" %% i)
    t.daemon = True
    t.start()
with open(sys.argv[1], "w") as f:
    f.write("ready")
while True:
    time.sleep(1)
'''


def write_target(d):
    with open(os.path.join(d, "many_funcs.py"), "w") as f:
        f.write("import time\n\n")
        for i in range(NFUNCS):
            f.write("def f%d():\n    time.sleep(0.001)\n\n" % i)
    path = os.path.join(d, "target.py")
    with open(path, "w") as f:
        f.write(TARGET % {"n": NFUNCS, "threads": NTHREADS})
    return path


def cpu_of(argv):
    """(CPU seconds of the command, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime +
            after.ru_stime - before.ru_stime), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--interp", action="append", default=[])
    args = ap.parse_args()
    ss = os.environ.get("SNAKESCOPE", os.path.join(benchlib.TOP, "snakescope"))
    interps = args.interp or [p for p in benchlib.interpreters()
                              if benchlib.version_of(p)[0] >= (3, 6)][-1:]
    d = tempfile.mkdtemp(prefix="bench-top-")
    target = write_target(d)
    print("top: %d threads, %d functions, 100 Hz, --idle, %d s, %d runs"
          % (NTHREADS, NFUNCS, args.seconds, args.runs))
    for py in interps:
        ready = os.path.join(d, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        p = subprocess.Popen([py, target, ready])
        try:
            while not os.path.exists(ready):
                time.sleep(0.05)
            time.sleep(1)
            tops, recs, rates, rows = [], [], [], []
            for _ in range(args.runs):
                cpu, out = cpu_of([ss, "top", "--idle", "--iterations",
                                   str(args.seconds), "--refresh", "1",
                                   "--size", "200x60", str(p.pid)])
                tops.append(100 * cpu / args.seconds)
                last = out[out.rfind("snakescope top"):]
                m = re.search(r"  ([0-9.]+)/s", last)
                rates.append(float(m.group(1)) if m else 0)
                cpu, _ = cpu_of([ss, "record", "--idle", "--rate", "100",
                                 "--duration", str(args.seconds), "-o",
                                 os.devnull, str(p.pid)])
                recs.append(100 * cpu / args.seconds)
                m = re.search(r"(\d+) functions", last)
                rows.append(int(m.group(1)) if m else 0)
            v = benchlib.version_of(py)[1]
            print("%-8s top CPU %5.1f%% of a core (runs %s), rate %.1f/s; "
                  "record CPU %5.1f%%; top/record %.2f; functions seen: %d"
                  % (v, statistics.median(tops),
                     " ".join("%.1f" % x for x in tops),
                     statistics.median(rates), statistics.median(recs),
                     statistics.median(tops) / max(statistics.median(recs),
                                                   0.01),
                     statistics.median(rows)), flush=True)
        finally:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
