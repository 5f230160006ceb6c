#!/usr/bin/env python3
"""Long sessions: `record --rate max` and then `top`, each for --minutes,
against a target whose code keeps changing (tests/targets/codechurn.py:
a new function per generation, made with exec() or an imported module,
then dropped, so that code-object addresses are reused).

usage: bench/bench-long.py [--minutes M] [--interp PATH] [--period S]
                           [--rss-every S] [--only record|top]

Printed per phase: snakescope's RSS (VmRSS, read every --rss-every
seconds) at the start (the first reading after 5 s), at the end and at its
highest, and its growth per minute (least squares over the readings
after the first minute, when the caches are warm), with the stale-name
verdict of tests/live/codechurn_check.py:
  record  `record --rate max -f json -o FIFO`: the JSON lines are read
          as they come (nothing kept but, per generation, its first and
          last sample time); a sample naming gen_N after gen_N ended
          (the target logs each generation's lifetime on the same
          clock) is a stale name;
  top     `top` in a tmux pane (120x50, as a person would run it),
          captured every second: the STACK pane must not name a
          generation that ended more than refresh + 1 s before, and a
          function row must not count more time than its generation
          lived.
Exit status 1 if a stale name was seen.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "live"))
import benchlib  # noqa: E402
import codechurn_check as cc  # noqa: E402


def vmrss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def growth_per_minute(readings):
    """KiB per minute, least squares over the readings after the first
    minute (or all, if the run was shorter)."""
    pts = [(t, r) for t, r in readings if t >= 60] or readings
    if len(pts) < 2:
        return 0.0
    mt = statistics.mean(t for t, _ in pts)
    mr = statistics.mean(r for _, r in pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 60 * sum((t - mt) * (r - mr) for t, r in pts) / den if den \
        else 0.0


def rss_line(name, readings):
    # The first readings can catch the program still starting.
    readings = [x for x in readings if x[0] >= 5] or readings
    if not readings:
        return "%s: no RSS readings" % name
    rss = [r for _, r in readings]
    return ("%s: RSS start %d KiB, end %d KiB, max %d KiB, end/start %.2f, "
            "growth %+.1f KiB/min (%d readings over %.1f min)"
            % (name, rss[0], rss[-1], max(rss), rss[-1] / rss[0],
               growth_per_minute(readings), len(rss),
               readings[-1][0] / 60))


def watch_rss(pid, every, stop, readings, t0):
    while not stop.is_set():
        r = vmrss_kib(pid)
        if r is None:
            break
        readings.append((time.monotonic() - t0, r))
        stop.wait(every)


def start_target(py, period, tmp):
    record = os.path.join(tmp, "codechurn.json")
    log = os.path.join(tmp, "codechurn.log")
    p = subprocess.Popen([py, "-B", os.path.join(benchlib.TOP, "tests",
                                                 "targets", "codechurn.py"),
                          record, log, str(period)],
                         stdout=subprocess.DEVNULL, start_new_session=True)
    while not os.path.exists(record):
        if p.poll() is not None:
            raise RuntimeError("codechurn.py exited with %s" % p.returncode)
        time.sleep(0.02)
    import json
    with open(record) as f:
        return p, json.load(f), log


def phase_record(ss, pid, rec, log, seconds, every, tmp):
    fifo = os.path.join(tmp, "record.fifo")
    os.mkfifo(fifo)
    err = open(os.path.join(tmp, "record.stderr"), "w+")
    s = subprocess.Popen([ss, "record", "--rate", "max", "-f", "json", "-d",
                          str(seconds), "-o", fifo, str(pid)],
                         stderr=err)
    t0 = time.monotonic()
    readings, stop = [], threading.Event()
    w = threading.Thread(target=watch_rss, args=(s.pid, every, stop,
                                                 readings, t0))
    w.start()
    scan = cc.RecordScan(rec["body_lines"])
    t_open = time.monotonic()
    with open(fifo, "rb") as f:
        scan.read_from(f)
    rc = s.wait()
    stop.set()
    w.join()
    err.seek(0)
    summary_line = err.read().strip().splitlines()
    problems, summary = cc.record_problems(scan, cc.read_log(log), t_open)
    print("record --rate max -f json, %.1f min: exit %d; %s"
          % (seconds / 60, rc, summary_line[-1] if summary_line else ""))
    print("  " + summary)
    print("  " + rss_line("record", readings))
    print("  JSON read: %.1f MB" % (scan.bytes / 1e6))
    for p in problems:
        print("  STALE/BAD: " + p)
    return not problems and rc == 0


def phase_top(ss, pid, log, seconds, every, tmp):
    tmux = shutil.which("tmux")
    if not tmux:
        print("top: SKIP: tmux is not installed")
        return True
    sock = "bench-long-%d" % os.getpid()
    env = dict(os.environ)
    for var in ("LINES", "COLUMNS", "TMUX", "TMUX_PANE"):
        env.pop(var, None)
    if env.get("TERM", "dumb") in ("", "dumb", "unknown"):
        env["TERM"] = "xterm-256color"

    def tm(*args):
        return subprocess.run([tmux, "-L", sock] + list(args),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=env,
                              timeout=10).stdout.decode("utf-8", "replace")
    tm("new-session", "-d", "-s", "top", "-x", "120", "-y", "50",
       "exec %s top %d" % (ss, pid))
    try:
        top_pid = int(tm("display-message", "-p", "-t", "top",
                         "#{pane_pid}").strip())
        t0 = time.monotonic()
        readings, stop = [], threading.Event()
        w = threading.Thread(target=watch_rss, args=(top_pid, every, stop,
                                                     readings, t0))
        w.start()
        scan = cc.TopScan(1.0)
        while time.monotonic() - t0 < seconds:
            a = time.monotonic()
            screen = tm("capture-pane", "-p", "-t", "top")
            scan.feed(screen, a, time.monotonic())
            time.sleep(1)
        tm("send-keys", "-t", "top", "q")
        deadline = time.monotonic() + 10
        while vmrss_kib(top_pid) is not None and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        w.join()
    finally:
        tm("kill-server")
    problems, summary = cc.top_problems(scan, cc.read_log(log))
    print("top (tmux 120x50, default rate), %.1f min:" % (seconds / 60))
    print("  " + summary)
    print("  " + rss_line("top", readings))
    for p in problems:
        print("  STALE/BAD: " + p)
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interp", default=None)
    ap.add_argument("--period", type=float, default=0.05,
                    help="seconds each generation runs (default 0.05)")
    ap.add_argument("--rss-every", type=float, default=5)
    ap.add_argument("--only", choices=("record", "top"))
    args = ap.parse_args()
    ss = os.environ.get("SNAKESCOPE", os.path.join(benchlib.TOP,
                                                   "snakescope"))
    py = args.interp or [p for p in benchlib.interpreters()
                         if benchlib.version_of(p)[0] >= (3, 6)][-1]
    tmp = tempfile.mkdtemp(prefix="bench-long-")
    seconds = args.minutes * 60
    print("bench-long: %s (%s), codechurn.py period %.3f s, %.1f min per "
          "phase, %s" % (py, benchlib.version_of(py)[1], args.period,
                         args.minutes, ss), flush=True)
    ok = True
    p, rec, log = start_target(py, args.period, tmp)
    try:
        if args.only in (None, "record"):
            ok &= phase_record(ss, p.pid, rec, log, seconds, args.rss_every,
                               tmp)
            sys.stdout.flush()
        if args.only in (None, "top"):
            ok &= phase_top(ss, p.pid, log, seconds, args.rss_every, tmp)
        gens = cc.read_log(log)
        print("target: %d generations, RSS %s KiB at the end"
              % (len(gens), vmrss_kib(p.pid)))
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
