#!/usr/bin/env python3
"""Benchmark `snakescope record`, the sampler (run it through
bench/sample.sh).

Usage: bench/sample.sh [--quick] [--interp SUBSTR]...

For each interpreter (pyenv's /root/.pyenv/versions/*/bin/python but
the free-threaded 't' builds, /usr/bin/python3.11, the static and shared
/opt/py/*/bin/python3.1? builds; the -dbg builds are skipped to save
time), against bench/sample_target.py (CPU-bound threads, N frames deep):

 1. max rate: `record --rate max --duration D --idle` against 1 thread
    30 deep, 1 thread 300 deep and 50 threads 30 deep: samples/s (from
    the summary line) and snakescope's CPU time (user+sys, os.wait4) per
    sample; and, once for the 1-thread targets, under `strace -f -c`
    (a 1 s recording; 0.25 s with --quick), the process_vm_readv calls
    and all system calls per sample.  The strace counts are net of
    attaching and writing: (calls of that run - calls of a 1 ms run)
    / (samples of the one - samples of the other).
 2. target slowdown, 1 thread 30 deep: the target's iterations/s with
    `record --rate 100`, `--rate max`, `--rate 100 --pause` and
    `--rate max --pause` attached, each against a baseline (nothing
    attached) taken right before or after it:
    W(100) B W(max) W(100 --pause) B W(max --pause), every window S
    long.  A window starts once the target has written its counter after
    the recorder attached (the target writes its CPU time too: the
    "per-cpu" slowdown is per CPU second the target got).
 3. peak RSS of snakescope recording --rate max --idle for T (60 s; 10 s
    with --quick) and for T/4, against 1 thread 30 deep, for the newest
    interpreter and 3.9.  The peak is the wait4 ru_maxrss reported by
    GNU time (/usr/bin/time): os.wait4 here would report this script's
    own high-water mark, which a child inherits across exec.  VmHWM read
    from /proc during the long run, at T/4 and at the end, goes along.

D is 5 s, S 4 s (both 2 s with --quick); medians over 3 runs (1 with
--quick).  A full run takes about 30 minutes with 14 interpreters, a
--quick one about 5.
Output: a table per interpreter, a summary table, then one line
'# json: {...}'.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True      # no bench/__pycache__ left behind
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import TOP, supported_ranges, version_of  # noqa: E402

TARGET = os.path.join(TOP, "bench", "sample_target.py")
SUMMARY = re.compile(r"snakescope: (\d+) samples in ([\d.]+) s \(([\d.]+)/s"
                     r"[^)]*\), (\d+) errors, (\d+) torn reads")

GOALS = {
    "d30_rate": 70000.0,    # samples/s, 35-frame stacks
    "d30_us": 5.0,          # CPU us per sample, 35 frames
    "d300_us": 20.0,        # CPU us per sample, 300 frames
    "slow_max": 5.0,        # % target slowdown at --rate max
    "slow_100": 1.0,        # % target slowdown at --rate 100
}
PEER = ("peer (for scale): ~35,000 samples/s and 15-26 us/sample at 35 "
        "frames, ~140 us per 200-frame sample, 9-14% slowdown at max rate")

LIVE = []          # every Popen started and not yet reaped


# ---- processes -----------------------------------------------------------

def spawn(cmd, **kw):
    """Popen in a session of its own, so that killpg ends it and anything
    it started (strace's tracee, GNU time's child)."""
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    LIVE.append(p)
    return p


def reap(p, block=True):
    """Wait for p with os.wait4: (exit code, rusage); None if not
    blocking and p still runs."""
    pid, status, ru = os.wait4(p.pid, 0 if block else os.WNOHANG)
    if pid == 0:
        return None
    p.returncode = os.waitstatus_to_exitcode(status)
    if p in LIVE:
        LIVE.remove(p)
    return p.returncode, ru


def kill(p):
    if p.returncode is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.wait()
        except ChildProcessError:
            pass
    for f in (p.stdout, p.stderr):
        if f:
            f.close()
    if p in LIVE:
        LIVE.remove(p)


def kill_all():
    for p in list(LIVE):
        kill(p)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# ---- the target ----------------------------------------------------------

class Target:
    def __init__(self, py, depth, threads, tmp):
        self.stats = os.path.join(tmp, "stats-%d-%d.json" % (depth, threads))
        if os.path.exists(self.stats):
            os.unlink(self.stats)
        self.proc = spawn([py, "-B", TARGET, "--depth", str(depth),
                           "--threads", str(threads), "--stats", self.stats],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        deadline = time.time() + 60
        while not os.path.exists(self.stats):
            if self.proc.poll() is not None or time.time() > deadline:
                err = b""
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read()
                kill(self.proc)
                raise RuntimeError("target did not start: %s"
                                   % err.decode(errors="replace")[-500:])
            time.sleep(0.02)

    def read(self):
        """(iterations, time, CPU seconds) last written."""
        for _ in range(100):
            try:
                with open(self.stats) as f:
                    d = json.load(f)
                return d["iterations"], d["time"], d["cpu"]
            except (OSError, ValueError):
                time.sleep(0.01)
        raise RuntimeError("cannot read %s" % self.stats)

    def read_after(self, t, timeout=10.0):
        """The first counter written after time t."""
        deadline = time.time() + timeout
        while True:
            snap = self.read()
            if snap[1] > t:
                return snap
            if time.time() > deadline:
                raise RuntimeError("target wrote no counter for %.0f s"
                                   % timeout)
            time.sleep(0.02)

    def alive(self):
        return self.proc.poll() is None

    def close(self):
        kill(self.proc)


def rates(s0, s1, d):
    """{"it_s": iterations/s, "cpu_pct": the target's CPU % of one core,
    "it_cpu_s": iterations per CPU second} between two counters; None
    if they are too close."""
    dt, dcpu = s1[1] - s0[1], s1[2] - s0[2]
    if dt < d / 2:
        return None
    return {"it_s": (s1[0] - s0[0]) / dt, "cpu_pct": 100.0 * dcpu / dt,
            "it_cpu_s": (s1[0] - s0[0]) / dcpu if dcpu > 0 else None}


# ---- one recording -------------------------------------------------------

def parse_summary(err):
    m = SUMMARY.search(err)
    if not m:
        raise RuntimeError("no summary line: %s" % err.strip()[-500:])
    return {"samples": int(m[1]), "secs": float(m[2]), "rate": float(m[3]),
            "errors": int(m[4]), "torn": int(m[5])}


def record(ss, pid, opts, duration, out):
    """Run `snakescope record` to its end: summary and CPU us/sample."""
    p = spawn([ss, "record", str(pid), "-o", out, "--duration",
               str(duration)] + opts, stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    code, ru = reap(p)
    p.stderr.close()
    if code != 0:
        raise RuntimeError("snakescope record failed (%d): %s"
                           % (code, err.strip()[-500:]))
    s = parse_summary(err)
    s["cpu_s"] = ru.ru_utime + ru.ru_stime
    s["us_per_sample"] = (s["cpu_s"] * 1e6 / s["samples"]
                          if s["samples"] else None)
    return s


def frames_of(folded):
    """Frames in the most frequent stack of a folded file."""
    best, frames = -1, None
    try:
        with open(folded) as f:
            for line in f:
                stack, _, n = line.rstrip("\n").rpartition(" ")
                if stack and n.isdigit() and int(n) > best:
                    best, frames = int(n), stack.count(";") + 1
    except OSError:
        pass
    return frames


def strace_counts(ss, pid, duration, tmp):
    """(process_vm_readv calls, all calls, samples) under strace -f -c."""
    log = os.path.join(tmp, "strace.txt")
    out = os.path.join(tmp, "strace.folded")
    p = spawn(["strace", "-f", "-c", "-o", log, ss, "record", str(pid),
               "-o", out, "--rate", "max", "--idle", "--duration",
               str(duration)], stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    code, _ = reap(p)
    p.stderr.close()
    if code != 0:
        raise RuntimeError("strace snakescope failed: %s" % err[-500:])
    s = parse_summary(err)
    readv = total = 0
    with open(log) as f:
        for line in f:
            cols = line.split()
            if len(cols) >= 5 and cols[-1] == "total":
                total = int(cols[3])
            elif len(cols) >= 5 and cols[-1] == "process_vm_readv":
                readv = int(cols[3])
    return readv, total, s["samples"]


def syscalls_per_sample(ss, pid, duration, tmp):
    if not shutil.which("strace"):
        return None
    r1, t1, n1 = strace_counts(ss, pid, duration, tmp)
    r0, t0, n0 = strace_counts(ss, pid, 0.001, tmp)
    if n1 <= n0:
        return None
    return {"vm_readv": (r1 - r0) / (n1 - n0),
            "total": (t1 - t0) / (n1 - n0),
            "samples": n1, "raw_vm_readv": r1, "raw_total": t1,
            "fixed_vm_readv": r0, "fixed_total": t0, "fixed_samples": n0}


# ---- 1. max rate ---------------------------------------------------------

def max_rate(ss, target, d, runs, tmp, strace_d):
    out = os.path.join(tmp, "max.folded")
    res = [record(ss, target.pid, ["--rate", "max", "--idle"], d, out)
           for _ in range(runs)]
    row = {
        "samples_per_s": statistics.median(r["rate"] for r in res),
        "us_per_sample": statistics.median(r["us_per_sample"] for r in res
                                           if r["us_per_sample"]),
        "cpu_pct": statistics.median(100.0 * r["cpu_s"] / r["secs"]
                                     for r in res if r["secs"]),
        "torn_pct": statistics.median(100.0 * r["torn"] /
                                      max(1, r["samples"] + r["torn"])
                                      for r in res),
        "errors": sum(r["errors"] for r in res),
        "frames": frames_of(out),
        "runs": res,
    }
    if strace_d:
        row["syscalls"] = syscalls_per_sample(ss, target.pid, strace_d, tmp)
    return row


# ---- 2. slowdown ---------------------------------------------------------

def baseline(target, d):
    """rates() with nothing attached (from the first counter written
    after the last recorder ended)."""
    s0 = target.read_after(time.time())
    time.sleep(d)
    return rates(s0, target.read_after(s0[1] + d * 0.9), d)


def attached(ss, target, opts, d, tmp):
    """rates() while snakescope records the target with opts, and the
    summary of that recording."""
    out = os.path.join(tmp, "slow-%d.folded" % time.monotonic_ns())
    p = spawn([ss, "record", str(target.pid), "-o", out, "--duration",
               str(d + 60)] + opts, stdout=subprocess.DEVNULL,
              stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        # The output file is opened once attached, right before sampling.
        while not os.path.exists(out):
            if p.poll() is not None or time.time() > deadline:
                raise RuntimeError("snakescope did not start: %s" %
                                   p.stderr.read().decode(errors="replace"))
            time.sleep(0.005)
        s0 = target.read_after(time.time() + 0.05)
        time.sleep(d)
        s1 = target.read_after(s0[1] + d * 0.9)
        if p.poll() is not None:
            raise RuntimeError("snakescope ended before the window did")
        p.send_signal(signal.SIGINT)
        err = p.stderr.read().decode(errors="replace")
        code, _ = reap(p)
        if code != 0:
            raise RuntimeError("snakescope record failed (%d): %s"
                               % (code, err.strip()[-500:]))
        return rates(s0, s1, d), parse_summary(err)
    finally:
        kill(p)
        if os.path.exists(out):
            os.unlink(out)


CASES = [("100", ["--rate", "100"]), ("max", ["--rate", "max"]),
         ("100 --pause", ["--rate", "100", "--pause"]),
         ("max --pause", ["--rate", "max", "--pause"])]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def slowdown(ss, target, d, runs, tmp):
    per = {name: [] for name, _ in CASES}
    for _ in range(runs):
        # W B W | W B W: each case next to its baseline.
        for pair in (CASES[:2], CASES[2:]):
            w1 = attached(ss, target, pair[0][1], d, tmp)
            b = baseline(target, d)
            w2 = attached(ss, target, pair[1][1], d, tmp)
            for (name, _), (w, summ) in zip(pair, (w1, w2)):
                r = {"base": b, "with": w, "rate": summ["rate"],
                     "slowdown_pct": None, "cpu_slowdown_pct": None}
                if b and w:
                    r["slowdown_pct"] = 100.0 * (1 - w["it_s"] / b["it_s"])
                    if b["it_cpu_s"] and w["it_cpu_s"]:
                        r["cpu_slowdown_pct"] = 100.0 * (
                            1 - w["it_cpu_s"] / b["it_cpu_s"])
                per[name].append(r)
    out = {}
    for name, rs in per.items():
        def m(side, key):
            return med(r[side][key] for r in rs if r[side])
        out[name] = {
            "slowdown_pct": med(r["slowdown_pct"] for r in rs),
            "cpu_slowdown_pct": med(r["cpu_slowdown_pct"] for r in rs),
            "base_it_s": m("base", "it_s"), "with_it_s": m("with", "it_s"),
            "base_cpu_pct": m("base", "cpu_pct"),
            "with_cpu_pct": m("with", "cpu_pct"),
            "samples_per_s": med(r["rate"] for r in rs),
            "runs": rs,
        }
    return out


# ---- 3. RSS --------------------------------------------------------------

def status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_run(ss, target, secs, tmp):
    """{"peak": KiB, "hwm_quarter": KiB, "hwm_end": KiB, ...} of one
    `record --rate max --idle` of secs seconds."""
    out = os.path.join(tmp, "rss.folded")
    timelog = os.path.join(tmp, "time.txt")
    cmd = [ss, "record", str(target.pid), "-o", out, "--rate", "max",
           "--idle", "--duration", str(secs)]
    gnu_time = os.path.exists("/usr/bin/time")
    if gnu_time:
        cmd = ["/usr/bin/time", "-o", timelog, "-f", "%M"] + cmd
    t0 = time.time()
    p = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        child = None
        hwm_q = hwm_end = None
        while True:
            done = reap(p, block=False)
            if done:
                break
            if child is None and gnu_time:
                try:
                    with open("/proc/%d/task/%d/children"
                              % (p.pid, p.pid)) as f:
                        kids = f.read().split()
                    child = int(kids[0]) if kids else None
                except (OSError, ValueError):
                    pass
            elif child is None:
                child = p.pid
            if child:
                h = status_kib(child, "VmHWM")
                if h:
                    hwm_end = h
                    if time.time() - t0 <= secs / 4 + 0.05:
                        hwm_q = h
            time.sleep(0.05)
        err = p.stderr.read().decode(errors="replace")
        code = done[0]
    finally:
        kill(p)
    if code != 0:
        raise RuntimeError("snakescope record failed: %s" % err[-500:])
    s = parse_summary(err)
    peak = None
    if gnu_time:
        with open(timelog) as f:
            m = re.search(r"^(\d+)$", f.read(), re.M)
            peak = int(m[1]) if m else None
    return {"peak": peak or hwm_end, "hwm_quarter": hwm_q,
            "hwm_end": hwm_end, "samples": s["samples"],
            "samples_per_s": s["rate"], "secs": secs,
            "source": "GNU time %M" if peak else "VmHWM"}


def rss(ss, target, secs, tmp):
    short = rss_run(ss, target, secs / 4.0, tmp)
    long_ = rss_run(ss, target, secs, tmp)
    return {"short": short, "long": long_,
            "growth_kib": (long_["peak"] - short["peak"])
            if long_["peak"] and short["peak"] else None}


# ---- interpreters --------------------------------------------------------

def find_interpreters(subs):
    """[(path, note)], [(path, why skipped)]."""
    found, skipped = [], []
    for p in sorted(glob.glob("/root/.pyenv/versions/*/bin/python")):
        if os.path.basename(os.path.dirname(os.path.dirname(p))).endswith("t"):
            skipped.append((p, "free-threaded build"))
        else:
            found.append(p)
    if os.path.exists("/usr/bin/python3.11"):
        found.append("/usr/bin/python3.11")
    for p in sorted(glob.glob("/opt/py/*/bin/python3.1*")):
        d = os.path.basename(os.path.dirname(os.path.dirname(p)))
        if d.endswith("-dbg") or p.endswith("d"):
            skipped.append((p, "-dbg build, skipped to save time"))
        elif p.endswith("t") or d.endswith("t"):
            skipped.append((p, "free-threaded build"))
        elif re.fullmatch(r".*/python3\.1\d", p):
            found.append(p)
    seen, out = set(), []
    for p in found:
        real = os.path.realpath(p)
        if real in seen or not os.access(p, os.X_OK):
            continue
        seen.add(real)
        out.append(p)
    if subs:
        out = [p for p in out if any(s in p for s in subs)]
        skipped = [s for s in skipped if any(x in s[0] for x in subs)]
    return out, skipped


def version_key(full):
    """(3, 14, 10) from "3.14.10" (or "3.15.0a1")."""
    return tuple(int(x) for x in re.findall(r"\d+", full)[:3])


def label_of(py, full):
    if "-shared" in py:
        return full + "-shared"
    if py.startswith("/usr/bin/"):
        return full + "-sys"
    return full


# ---- printing ------------------------------------------------------------

def fmt(v, spec, none="n/a"):
    return none if v is None else format(v, spec)


def mark(ok):
    return "" if ok is None else ("ok" if ok else "MISS")


def le(v, goal):
    return None if v is None else v <= goal


def print_interp(label, py, res, d, slow_d, runs):
    print()
    print("== %s  (%s)  %.0f s ==" % (label, py, res.get("seconds", 0)))
    if "error" in res:
        print("   error: %s" % res["error"])
    mr = res.get("max_rate", {})
    if mr:
        print("  max rate: record --rate max --idle, %g s, median of %d"
              % (d, runs))
        print("    %-28s %9s %9s %5s %9s %8s %6s  %s" % (
            "target", "samples/s", "us/sample", "cpu%", "readv/smp",
            "sys/smp", "torn", "goal [peer]"))
        for key, name in (("d30", "1 thread, depth 30"),
                          ("d300", "1 thread, depth 300"),
                          ("t50", "50 threads, depth 30")):
            r = mr.get(key)
            if not r:
                continue
            if "error" in r:
                print("    %-28s error: %s" % (name, r["error"]))
                continue
            sc = r.get("syscalls")
            readv = fmt(sc["vm_readv"], ".2f") if sc else (
                "n/a" if key != "t50" else "-")
            total = fmt(sc["total"], ".2f") if sc else (
                "n/a" if key != "t50" else "-")
            fr = (" (%d fr)" % r["frames"]) if r.get("frames") else ""
            if key == "d30":
                goal = ">=70000/s %s, <=5 us %s [~35000/s, 15-26 us]" % (
                    mark(r["samples_per_s"] >= GOALS["d30_rate"]),
                    mark(le(r["us_per_sample"], GOALS["d30_us"])))
            elif key == "d300":
                goal = "<=20 us %s [~140 us at 200 fr]" % mark(
                    le(r["us_per_sample"], GOALS["d300_us"]))
            else:
                goal = "- (a sample = all 50 stacks)"
            print("    %-28s %9.0f %9s %5.0f %9s %8s %5.2f%%  %s" % (
                name + fr, r["samples_per_s"], fmt(r["us_per_sample"], ".2f"),
                r["cpu_pct"], readv, total, r["torn_pct"], goal))
    sd = res.get("slowdown")
    if sd:
        print("  target slowdown, 1 thread depth 30: iterations/s, "
              "%g s windows, median of %d" % (slow_d, runs))
        if "error" in sd:
            print("    error: %s" % sd["error"])
        else:
            print("    %-28s %9s %5s %9s %5s %9s %8s %9s  %s" % (
                "record", "base it/s", "cpu%", "with it/s", "cpu%",
                "slowdown", "per-cpu", "samples/s", "goal [peer]"))
            for name, _ in CASES:
                r = sd[name]
                if name == "100":
                    goal = "<=1%% %s" % mark(le(r["slowdown_pct"],
                                                GOALS["slow_100"]))
                elif name == "max":
                    goal = "<=5%% %s [9-14%%]" % mark(le(r["slowdown_pct"],
                                                        GOALS["slow_max"]))
                else:
                    goal = "- (stops the target by design)"
                print("    %-28s %9s %5s %9s %5s %8s%% %7s%% %9.0f  %s" % (
                    "--rate " + name, fmt(r["base_it_s"], ".0f"),
                    fmt(r["base_cpu_pct"], ".0f"), fmt(r["with_it_s"], ".0f"),
                    fmt(r["with_cpu_pct"], ".0f"),
                    fmt(r["slowdown_pct"], ".1f"),
                    fmt(r["cpu_slowdown_pct"], ".1f"),
                    r["samples_per_s"], goal))
    rs = res.get("rss")
    if rs:
        if "error" in rs:
            print("  peak RSS: error: %s" % rs["error"])
        else:
            s, l = rs["short"], rs["long"]
            print("  peak RSS of snakescope, record --rate max --idle, "
                  "depth 30 (KiB, %s)" % l["source"])
            print("    after %g s: %s (%d samples)   after %g s: %s "
                  "(%d samples)   growth %s KiB %s" % (
                      s["secs"], fmt(s["peak"], "d"), s["samples"],
                      l["secs"], fmt(l["peak"], "d"), l["samples"],
                      fmt(rs["growth_kib"], "+d"),
                      "(goal: flat) " + mark(rs["growth_kib"] is not None
                                             and rs["growth_kib"] <= 256)))
            print("    VmHWM within the %g s run: %s at %g s, %s at the "
                  "end" % (l["secs"], fmt(l["hwm_quarter"], "d"),
                           l["secs"] / 4, fmt(l["hwm_end"], "d")))
    sys.stdout.flush()


def print_summary(results):
    print()
    print("summary (samples/s, CPU us/sample, target slowdown %):")
    print("%-14s %9s %7s %8s %9s %9s %7s %7s %7s %7s %9s" % (
        "python", "d30 smp/s", "d30 us", "d300 us", "t50 smp/s", "t50 us",
        "s:100", "s:max", "s:100p", "s:maxp", "rss KiB"))
    for label, res in results:
        mr = res.get("max_rate", {})

        def g(key, field):
            r = mr.get(key)
            return r.get(field) if r and "error" not in r else None
        sd = res.get("slowdown") or {}

        def s(name):
            r = sd.get(name)
            return r["slowdown_pct"] if isinstance(r, dict) else None
        rs = res.get("rss")
        rss_txt = "-"
        if rs and "error" not in rs:
            rss_txt = "%s->%s" % (fmt(rs["short"]["peak"], "d"),
                                  fmt(rs["long"]["peak"], "d"))
        print("%-14s %9s %7s %8s %9s %9s %7s %7s %7s %7s %9s" % (
            label, fmt(g("d30", "samples_per_s"), ".0f", "-"),
            fmt(g("d30", "us_per_sample"), ".2f", "-"),
            fmt(g("d300", "us_per_sample"), ".2f", "-"),
            fmt(g("t50", "samples_per_s"), ".0f", "-"),
            fmt(g("t50", "us_per_sample"), ".1f", "-"),
            fmt(s("100"), ".1f", "-"), fmt(s("max"), ".1f", "-"),
            fmt(s("100 --pause"), ".1f", "-"),
            fmt(s("max --pause"), ".1f", "-"), rss_txt))
    print("goals: d30 >= 70000/s and <= 5 us; d300 <= 20 us; "
          "slowdown <= 1% at 100 Hz, <= 5% at max; RSS flat")
    print(PEER)


# ---- main ----------------------------------------------------------------

def measure_interp(ss, py, d, slow_d, strace_d, runs, tmp, do_rss,
                   rss_secs):
    res = {"path": py, "phase_s": {}}
    mr = res["max_rate"] = {}

    def guard(where, key, fn, *a):
        t0 = time.time()
        try:
            where[key] = fn(*a)
        except RuntimeError as e:
            where[key] = {"error": str(e)}
        res["phase_s"][key] = round(time.time() - t0, 1)

    # 1 thread 30 deep: max rate, slowdown and RSS on one target.
    t = Target(py, 30, 1, tmp)
    try:
        guard(mr, "d30", max_rate, ss, t, d, runs, tmp, strace_d)
        guard(res, "slowdown", slowdown, ss, t, slow_d, runs, tmp)
        if do_rss:
            guard(res, "rss", rss, ss, t, rss_secs, tmp)
    finally:
        t.close()
    for key, depth, threads, sd in (("d300", 300, 1, strace_d),
                                    ("t50", 30, 50, None)):
        try:
            t = Target(py, depth, threads, tmp)
        except RuntimeError as e:
            mr[key] = {"error": str(e)}
            continue
        try:
            guard(mr, key, max_rate, ss, t, d, runs, tmp, sd)
        finally:
            t.close()
    return res


def main():
    ap = argparse.ArgumentParser(description="Benchmark snakescope record.")
    ap.add_argument("--quick", action="store_true",
                    help="1 run of 2 s (default: 3 runs, 5 s recordings "
                    "and 4 s slowdown windows), RSS over 10 s (default 60 s)")
    ap.add_argument("--interp", action="append", default=[],
                    metavar="SUBSTR", help="only interpreters whose path "
                    "contains SUBSTR (repeatable)")
    args = ap.parse_args()
    ss = os.environ.get("SNAKESCOPE") or os.path.join(TOP, "snakescope")
    if not os.access(ss, os.X_OK):
        sys.exit("no snakescope binary at %s (build it, or set SNAKESCOPE)"
                 % ss)
    d = 2.0 if args.quick else 5.0
    # Slowdown windows: 4 s in a full run (6 windows x 3 runs per
    # interpreter) keeps that run near 30 minutes.
    slow_d = 2.0 if args.quick else 4.0
    strace_d = 0.25 if args.quick else 1.0
    runs = 1 if args.quick else 3
    rss_secs = 10.0 if args.quick else 60.0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start = time.time()
    ranges = supported_ranges(ss)
    pys, skipped = find_interpreters(args.interp)
    infos = []
    for py in pys:
        try:
            mm, full = version_of(py)
        except (IndexError, ValueError, OSError):
            skipped.append((py, "does not run"))
            continue
        if not any(lo <= mm <= hi for lo, hi in ranges):
            skipped.append((py, "unsupported by this snakescope"))
            continue
        infos.append((py, mm, full))
    infos.sort(key=lambda i: (version_key(i[2]), "-shared" in i[0], i[0]))
    # RSS: the newest interpreter (a static build before a shared one of
    # the same version) and 3.9.
    rss_for = set()
    if infos:
        newest = max(infos, key=lambda i: (version_key(i[2]),
                                           "-shared" not in i[0]))
        rss_for.add(newest[0])
        rss_for.update(py for py, mm, _ in infos if mm == (3, 9))

    print("snakescope record benchmark: %s; %s; %d interpreter(s); "
          "max-rate runs %g s, slowdown windows %g s, median of %d; "
          "strace %s" % (
              ss, "quick" if args.quick else "full", len(infos), d, slow_d,
              runs, "present" if shutil.which("strace") else "absent (n/a)"))
    print("""\
max rate: us/sample = snakescope's CPU time (user+sys of the whole run,
  os.wait4) / samples; cpu%% = of one core; readv/smp, sys/smp =
  process_vm_readv and all system calls per sample (strace -f -c, %g s,
  net of attaching: minus a 1 ms recording's counts)
slowdown: 1 - the target's iterations/s with snakescope attached / alone,
  wall clock, against a baseline taken right before or after (the goals
  apply to it); cpu%% = the target's share of one core in that window;
  per-cpu = the same slowdown per CPU second the target got (less
  sensitive to a busy machine; what is left is the sampler's own cost
  to the target)""" % strace_d)
    print(PEER)
    for py, why in skipped:
        print("skipped %s: %s" % (py, why))
    sys.stdout.flush()

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-sample.") as tmp:
        try:
            for py, mm, full in infos:
                label = label_of(py, full)
                t0 = time.time()
                try:
                    res = measure_interp(ss, py, d, slow_d, strace_d, runs,
                                         tmp, py in rss_for, rss_secs)
                except RuntimeError as e:
                    res = {"path": py, "error": str(e)}
                res["seconds"] = round(time.time() - t0, 1)
                results.append((label, res))
                print_interp(label, py, res, d, slow_d, runs)
        finally:
            # Before the directory goes: the targets write into it.
            kill_all()
    print_summary(results)
    elapsed = time.time() - start
    print("total time %.0f s" % elapsed)
    doc = {"quick": args.quick, "duration_s": d, "slowdown_window_s": slow_d,
           "strace_s": strace_d, "runs": runs,
           "rss_seconds": rss_secs, "snakescope": ss, "goals": GOALS,
           "skipped": [{"path": p, "why": w} for p, w in skipped],
           "elapsed_s": round(elapsed, 1),
           "results": {label: res for label, res in results}}
    print("# json: " + json.dumps(doc, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
