#!/usr/bin/env python3
"""What `snakescope watch --on-stall` costs while it waits: CPU use of one
core at the default rate (10 samples a second), on an idle target and on
a busy one.

usage: bench/bench-stall.py [--runs N] [--seconds S] [--interp PATH]...

Targets: tests/targets/stall.py, "hang" (idle: blocked on a lock after a
second and a half of work; measured once it hangs) and "busy" (one thread
working without end).  Each run starts `watch PID --on-stall T -o FILE`
and stops it with SIGINT after S seconds (default 10), for T = 1h (the
sampling alone) and T = 1s (plus a deadlock check, an unpaused read of
the locks, every second; on the idle target also its one dump).  The CPU
is user + system of the watch process (wait4), as % of one core; medians
of N runs (default 3).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SNAKESCOPE = os.environ.get("SNAKESCOPE") or os.path.join(benchlib.TOP,
                                                           "snakescope")


def start(py, mode, tmp):
    record = tempfile.mktemp(prefix="stall.", suffix=".json", dir=tmp)
    proc = subprocess.Popen([py, "-B", os.path.join(
        benchlib.TOP, "tests", "targets", "stall.py"), record, mode],
        stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while not os.path.exists(record):
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("stall.py %s did not start" % mode)
        time.sleep(0.02)
    with open(record) as f:
        json.load(f)
    return proc


def one_run(pid, period, seconds, tmp):
    out = os.path.join(tmp, "dump-%%n-%d.txt" % time.monotonic_ns())
    p = subprocess.Popen([SNAKESCOPE, "watch", str(pid), "--on-stall", period,
                          "-o", out], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    t0 = time.perf_counter()
    time.sleep(seconds)
    p.send_signal(signal.SIGINT)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError("watch failed: %s"
                           % p.stderr.read().decode(errors="replace"))
    p.stderr.close()
    return 100.0 * (ru.ru_utime + ru.ru_stime) / wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--interp", action="append", default=[])
    args = ap.parse_args()
    interps = args.interp or ["/root/.pyenv/versions/3.12.1/bin/python"]
    with tempfile.TemporaryDirectory(prefix="bench-stall.") as tmp:
        for py in interps:
            _, version = benchlib.version_of(py)
            for mode in ("hang", "busy"):
                t = start(py, mode, tmp)
                try:
                    for period in ("1h", "1s"):
                        cpu = [one_run(t.pid, period, args.seconds, tmp)
                               for _ in range(args.runs)]
                        print("%s %-4s --on-stall %-2s  CPU %5.2f%% of a "
                              "core (median of %d: %s)"
                              % (version, mode, period,
                                 statistics.median(cpu), args.runs,
                                 " ".join("%.2f" % c for c in cpu)),
                              flush=True)
                finally:
                    os.killpg(t.pid, signal.SIGKILL)
                    t.wait()


if __name__ == "__main__":
    main()
