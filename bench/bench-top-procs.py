#!/usr/bin/env python3
"""What `snakescope top --subprocesses` costs on a process tree: a
multiprocessing Pool of 32 forked workers (tests/targets/mp_stuck.py 32:
33 processes, all idle but one stuck worker asleep).

usage: bench/bench-top-procs.py [--runs N] [--seconds S] [--snakescope PATH]
                                [PYTHON...]

For each interpreter (default: /root/.pyenv/versions/3.12*/bin/python),
and each mode:
  parent       `top --iterations S --refresh 1 PID` (the parent alone)
  subprocesses `top --iterations S --refresh 1 --subprocesses PID`
  subp-idle    the same with --idle (every thread's stack counted)
printed as medians of N runs: snakescope's CPU use (user + system, % of
one core), the sample rate top achieved (from its last screen: rounds a
second, a round being one sample of every process), and peak RSS (GNU
time).
"""
import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import start, peak_rss_kib  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = (("parent", []), ("subprocesses", ["--subprocesses"]),
         ("subp-idle", ["--subprocesses", "--idle"]))
RATE_RE = re.compile(r"([0-9.]+)/s  samples (\d+)")
PROCS_RE = re.compile(r"processes (\d+)")


def measure(cmd, seconds):
    """(CPU % of a core, rate, processes) of one run of cmd."""
    before = os.times()
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode(
                             "utf-8", "replace")
    after = os.times()
    cpu = (after.children_user - before.children_user +
           after.children_system - before.children_system)
    heads = [l for l in out.splitlines() if l.startswith("snakescope top")]
    m = RATE_RE.search(heads[-1]) if heads else None
    n = PROCS_RE.search(heads[-1]) if heads else None
    return (100.0 * cpu / seconds, float(m.group(1)) if m else 0.0,
            int(n.group(1)) if n else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--snakescope", default=os.path.join(TOP, "snakescope"))
    ap.add_argument("python", nargs="*")
    args = ap.parse_args()
    pythons = args.python or sorted(
        glob.glob("/root/.pyenv/versions/3.12*/bin/python"))
    print("median of %d runs of %d s; CPU in %% of one core, RSS in KiB"
          % (args.runs, args.seconds))
    print("%-8s %-13s %6s %8s %8s %8s" % ("python", "mode", "procs", "cpu%",
                                         "rate/s", "rss"))
    with tempfile.TemporaryDirectory() as tmp:
        for py in pythons:
            proc = start(py, "mp_stuck.py", tmp, ["32"])
            try:
                ver = subprocess.run([py, "-c", "import sys; print(sys."
                                      "version.split()[0])"],
                                     capture_output=True,
                                     text=True).stdout.strip()
                for label, extra in MODES:
                    cmd = [args.snakescope, "top", "--iterations",
                           str(args.seconds), "--refresh", "1", "--size",
                           "150x20"] + extra + [str(proc.pid)]
                    runs = [measure(cmd, args.seconds)
                            for _ in range(args.runs)]
                    rss = peak_rss_kib(cmd) or 0
                    print("%-8s %-13s %6d %8.1f %8.1f %8d" % (
                        ver, label, runs[-1][2],
                        statistics.median(r[0] for r in runs),
                        statistics.median(r[1] for r in runs), rss))
                    sys.stdout.flush()
            finally:
                try:
                    os.killpg(proc.pid, 9)
                except OSError:
                    pass
                proc.wait()


if __name__ == "__main__":
    main()
