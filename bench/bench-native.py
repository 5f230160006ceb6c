#!/usr/bin/env python3
"""What `dump --native` costs: the pause, and native unwinding per thread,
cold and warm; the rate `record --native` reaches; and how long record
--native and --pause hold a busy thread.

usage: bench/bench-native.py [--runs N] [--interp PATH] [--threads LIST]
                             [--stall-only] [--before SNAKESCOPE]
                             [--seconds S] [--load N] [--dump-stall-only]
                             [--dump-idle N]

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

The stall (--stall-only: that alone): tests/targets/busy_idle.py, a main
thread spinning in pure Python among 100 idle threads, is recorded with
`record --native` and `record --pause` at 100 Hz for S seconds (default
3), by this build and, with --before, by another binary (main's).  For
each recording: the busy thread's stalled share, (wall - CPU time - time
waiting for a CPU) / wall over the recording, from its
/proc/PID/task/TID/schedstat (what a stopped thread loses, whatever the
machine's load); its worst single stall seen, the longest run of 't'
(tracing stop) states read from its /proc stat file meanwhile, from the
first reading of the run to its last (a lower bound: the reader itself
may wait for a CPU between readings, and two stops close together with
no reading between look like one); and the samples a second reached; and what snakescope says of its own holds of one
thread (SNAKESCOPE_TIMING=1; a build that stops the whole process says
nothing: nan), from the stop to the detach, on average and the longest.
Medians over --runs recordings.  On a loaded machine the stall seen by
the target exceeds the holds: a thread stopped while snakescope waits for
a CPU stays stopped.  --load N runs N processes spinning on a CPU all
along (the machine loaded on purpose, the same for every build).

The dump's stall (--dump-stall-only: that alone): busy_idle.py with N
idle threads (--dump-idle, default 500) is dumped --runs times with each
of `dump --native` (the whole process paused: one instant) and `dump
--native --nonstop` (one thread at a time).  For each dump: its wall
time; the busy thread's total stall over the dump, wall - CPU time - time
waiting for a CPU (its schedstat), and its stops seen, in total and the
longest, runs of 't' states read from its stat file meanwhile (a reading
every 0.1-0.2 ms: a hold shorter than that may go unseen); and what
snakescope says of its hold (SNAKESCOPE_TIMING=1): the whole pause, or
the longest hold of one thread.  Medians over the runs.
"""
import argparse
import json
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


def schedstat(pid, tid):
    """(CPU ns, ns waiting for a CPU) of thread tid."""
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def stall_run(snakescope, pid, tid, mode, seconds):
    """(stalled %, worst stall ms, samples/s) of one recording."""
    fd = os.open("/proc/%d/task/%d/stat" % (pid, tid), os.O_RDONLY)
    try:
        run0, wait0 = schedstat(pid, tid)
        t0 = time.monotonic_ns()
        p = subprocess.Popen([snakescope, "record", mode, "--rate", "100",
                              "-d", str(seconds), "-o", os.devnull,
                              str(pid)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, SNAKESCOPE_TIMING="1"))
        worst = 0
        since = last = None
        while p.poll() is None:
            # not a tight loop: on a machine of 2 CPUs it would take one
            # from the target or snakescope
            time.sleep(0.00005)
            data = os.pread(fd, 512, 0)
            now = time.monotonic_ns()
            stopped = data[data.rindex(b")") + 2:][:1] == b"t"
            if stopped:
                since = now if since is None else since
                last = now
            elif since is not None:
                # first to last reading of the run: a lower bound
                worst = max(worst, last - since)
                since = None
        t1 = time.monotonic_ns()
        run1, wait1 = schedstat(pid, tid)
    finally:
        os.close(fd)
    err = p.stderr.read()
    m = SUMMARY.search(err)
    if p.returncode != 0 or not m:
        raise RuntimeError(err)
    wall = t1 - t0
    stalled = wall - (run1 - run0) - (wait1 - wait0)
    h = HOLDS.search(err)
    return (100.0 * max(stalled, 0) / wall, worst / 1e6,
            int(m.group(1)) / float(m.group(2)),
            float(h.group(1)) if h else float("nan"),
            float(h.group(2)) if h else float("nan"))


# what a thread-by-thread build says of its holds (SNAKESCOPE_TIMING)
HOLDS = re.compile(r"nonstop: \d+ holds of one thread, ([\d.]+) us on "
                   r"average, longest ([\d.]+) us")


PAUSED_FOR = re.compile(r"paused for ([\d.]+) us")


def dump_stall_run(snakescope, pid, tid, opts):
    """(dump wall ms, busy thread stalled ms, stops seen ms, worst stall
    seen ms, snakescope's longest hold ms) of one dump."""
    fd = os.open("/proc/%d/task/%d/stat" % (pid, tid), os.O_RDONLY)
    try:
        run0, wait0 = schedstat(pid, tid)
        t0 = time.monotonic_ns()
        p = subprocess.Popen([snakescope, "dump"] + opts + [str(pid)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, SNAKESCOPE_TIMING="1"))
        worst = seen = 0
        since = None
        while p.poll() is None:
            time.sleep(0.00005)  # not a tight loop (see stall_run)
            data = os.pread(fd, 512, 0)
            now = time.monotonic_ns()
            stopped = data[data.rindex(b")") + 2:][:1] == b"t"
            if stopped and since is None:
                since = now
            elif not stopped and since is not None:
                worst = max(worst, now - since)
                seen += now - since
                since = None
        t1 = time.monotonic_ns()
        run1, wait1 = schedstat(pid, tid)
    finally:
        os.close(fd)
    err = p.stderr.read()
    if p.returncode != 0:
        raise RuntimeError(err)
    wall = t1 - t0
    stalled = wall - (run1 - run0) - (wait1 - wait0)
    h = HOLDS.search(err)
    held = float(h.group(2)) if h else \
        max(float(x) for x in PAUSED_FOR.findall(err))
    return (wall / 1e6, max(stalled, 0) / 1e6, seen / 1e6, worst / 1e6,
            held / 1e3)


def dump_stall_bench(args):
    """The dump's stall table: busy_idle.py with --dump-idle threads."""
    snakescope = os.path.join(benchlib.TOP, "snakescope")
    with tempfile.TemporaryDirectory() as tmp:
        record = os.path.join(tmp, "busy_idle.json")
        proc = subprocess.Popen([args.interp, "-B", os.path.join(
            benchlib.TOP, "tests", "targets", "busy_idle.py"), record,
            str(args.dump_idle)], stdout=subprocess.DEVNULL)
        try:
            while not os.path.exists(record):
                if proc.poll() is not None:
                    raise RuntimeError("busy_idle.py did not start")
                time.sleep(0.05)
            with open(record) as f:
                rec = json.load(f)
            print()
            print("busy thread among %d idle, dumped (medians of %d)"
                  % (args.dump_idle, args.runs))
            print("%-20s %8s %11s %11s %11s %11s" % (
                "dump", "wall ms", "stalled ms", "seen ms", "worst ms",
                "hold ms"))
            for opts in (["--native"], ["--native", "--nonstop"]):
                runs = [dump_stall_run(snakescope, proc.pid,
                                       rec["busy_native_id"], opts)
                        for _ in range(args.runs)]
                print("%-20s %8.1f %11.2f %11.2f %11.2f %11.2f (runs: %s)"
                      % ((" ".join(opts),) + tuple(
                          statistics.median(r[i] for r in runs)
                          for i in range(5)) + ("; ".join(
                              "%.0f/%.1f/%.1f" % (r[0], r[1], r[3])
                              for r in runs),)))
                sys.stdout.flush()
        finally:
            proc.kill()
            proc.wait()


SPIN = "while True:\n    pass\n"


def stall_bench(args, builds):
    """The stall table: busy_idle.py, per build and mode."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN])
                for _ in range(args.load)]
    try:
        stall_table(args, builds)
    finally:
        for s in spinners:
            s.kill()
            s.wait()


def stall_table(args, builds):
    with tempfile.TemporaryDirectory() as tmp:
        record = os.path.join(tmp, "busy_idle.json")
        proc = subprocess.Popen([args.interp, "-B", os.path.join(
            benchlib.TOP, "tests", "targets", "busy_idle.py"), record],
            stdout=subprocess.DEVNULL)
        try:
            while not os.path.exists(record):
                if proc.poll() is not None:
                    raise RuntimeError("busy_idle.py did not start")
                time.sleep(0.05)
            with open(record) as f:
                rec = json.load(f)
            print()
            print("busy thread among 100 idle, record at 100 Hz for %g s "
                  "(medians of %d)%s" % (args.seconds, args.runs,
                                         ", beside %d spinning processes"
                                         % args.load if args.load else ""))
            print("%-8s %-10s %10s %14s %10s %12s %12s" % (
                "build", "mode", "stalled %", "worst stall ms",
                "samples/s", "hold avg us", "longest us"))
            for name, binary in builds:
                for mode in ("--native", "--pause"):
                    runs = [stall_run(binary, proc.pid, rec["busy_native_id"],
                                      mode, args.seconds)
                            for _ in range(args.runs)]
                    print("%-8s %-10s %10.2f %14.2f %10.1f %12.1f %12.1f "
                          "(runs: %s)" % (
                              name, mode,
                              statistics.median(r[0] for r in runs),
                              statistics.median(r[1] for r in runs),
                              statistics.median(r[2] for r in runs),
                              statistics.median(r[3] for r in runs),
                              statistics.median(r[4] for r in runs),
                              "; ".join("%.2f%% %.2fms %.0f/s" % r[:3]
                                        for r in runs)))
                    sys.stdout.flush()
        finally:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interp", default="/root/.pyenv/versions/3.12.1/bin/"
                    "python")
    ap.add_argument("--threads", default="1,10,100,500")
    ap.add_argument("--stall-only", action="store_true")
    ap.add_argument("--before", help="another snakescope binary (main's) "
                    "whose stalls to show beside this build's")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--load", type=int, default=0,
                    help="processes spinning on a CPU during the stall "
                    "table")
    ap.add_argument("--dump-stall-only", action="store_true")
    ap.add_argument("--dump-idle", type=int, default=500)
    args = ap.parse_args()
    snakescope = os.path.join(benchlib.TOP, "snakescope")
    builds = ([("before", args.before)] if args.before else []) + [
        ("this", snakescope)]
    if args.stall_only:
        stall_bench(args, builds)
        return
    if args.dump_stall_only:
        dump_stall_bench(args)
        return
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
    stall_bench(args, builds)
    dump_stall_bench(args)


if __name__ == "__main__":
    main()
