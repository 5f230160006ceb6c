#!/usr/bin/env python3
"""Dying targets, many times: snakescope against tests/targets/randexit.py,
a Python process that exits at a random moment soon after it starts
(finalization, sys.exit, an exception, os._exit or SIGKILL, after a random
delay under --max-delay seconds), --tries times (default 1000).

usage: bench/dying-loop.py [--tries N] [--interp PATH]... [--mode M]...
                           [--max-delay S] [--seed N]

Each try starts a target (on the interpreters in turn: by default every
supported one found), and runs one command against it, the modes in turn:
dump, dump --json, dump --native, record (folded, speedscope, and --idle
JSON lines), watch --every 0.05, top --iterations 3 (text screens: a
terminal per try would measure tmux).  A third of the tries start at
once, meeting the interpreter while it starts; the others when it says
it is ready (a dump then after a random delay of its own, so that it
often meets the exit).  Each outcome is classified (tests/live/stress_check.py):
  ok                success with a valid result (the dump's header, JSON
                    that parses, numbered watch headers, a top screen,
                    a record file in its format)
  exit N: MESSAGE   a non-zero exit with one "snakescope: " line on
                    stderr (numbers in it shown as N)
  bad ones          SIGNAL (snakescope killed by a signal), SANITIZER,
                    TIMEOUT (20 s), GARBLED (exit 0, invalid output),
                    UNCLEAR (an error without its one line), STOPPED or
                    TRACED (a task of the still living target left in a
                    stop or with a tracer right after snakescope
                    returned)
Printed: the counts per mode and outcome, the bad tries in full, and the
time taken.  Exit status 1 if any try was bad.
"""
import argparse
import os
import random
import sys
import tempfile
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "live"))
os.environ.setdefault("SNAKESCOPE", os.path.join(HERE, "..", "snakescope"))
import benchlib  # noqa: E402
import live_test as harness  # noqa: E402
import stress_check  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tries", type=int, default=1000)
    ap.add_argument("--interp", action="append", default=[])
    ap.add_argument("--mode", action="append", default=[],
                    choices=stress_check.RANDOM_MODES)
    ap.add_argument("--max-delay", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    ss = harness.SNAKESCOPE
    if args.interp:
        interps = args.interp
    else:
        ranges = benchlib.supported_ranges(ss)
        interps = [p for p in benchlib.interpreters()
                   if any(lo <= benchlib.version_of(p)[0] <= hi
                          for lo, hi in ranges)]
    modes = args.mode or stress_check.RANDOM_MODES
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="dying-loop-")
    counts, bad = {}, []
    print("dying-loop: %d tries, %s, %d interpreters, modes %s, targets "
          "exit within %.2f s" % (args.tries, ss, len(interps),
                                  " ".join(modes), args.max_delay),
          flush=True)
    t0 = time.monotonic()
    try:
        for i in range(args.tries):
            interp = interps[i % len(interps)]
            mode = modes[(i // len(interps)) % len(modes)]
            outcome, why = stress_check.try_once(harness, interp, mode,
                                                 workdir, rng,
                                                 args.max_delay)
            counts.setdefault(mode, {})
            counts[mode][outcome] = counts[mode].get(outcome, 0) + 1
            if outcome.split(":")[0] in stress_check.BAD:
                bad.append((i, interp, mode, outcome, why))
                print("BAD try %d (%s, %s): %s" % (i, interp, mode, outcome),
                      flush=True)
            if (i + 1) % 100 == 0:
                print("# %d tries, %d bad, %.0f s" % (
                    i + 1, len(bad), time.monotonic() - t0), flush=True)
    finally:
        harness.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    secs = time.monotonic() - t0
    total = {}
    for mode in modes:
        print("%s:" % mode)
        for outcome, n in sorted(counts.get(mode, {}).items(),
                                 key=lambda kv: -kv[1]):
            print("  %5d  %s" % (n, outcome))
            key = outcome if outcome == "ok" or outcome in \
                stress_check.BAD else outcome.split(":")[0]
            total[key] = total.get(key, 0) + n
    print("all: %s" % ", ".join("%s x%d" % kv for kv in sorted(
        total.items(), key=lambda kv: -kv[1])))
    for i, interp, mode, outcome, why in bad:
        print("try %d, %s, %s: %s" % (i, interp, mode, outcome))
        for line in why:
            print("    " + line)
    print("%d tries in %.1f s (%.2f s a try), %d bad"
          % (args.tries, secs, secs / max(args.tries, 1), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
