"""Dying and changing targets: snakescope against processes that exit at a
random moment, start and end threads a thousand times a second, fork and
exec all the time, or are stopped.  Every run must end in success with a
valid result, or in a non-zero exit with one clear line on stderr; never a
signal, a sanitizer report, a hang or garbled output; and a target that is
still alive must not be left stopped or traced.

check_stress(report, interp, version, workdir, harness, first=False,
             stale=False)
    harness: the live_test module.  Used: spawn, kill, serial, run,
    SNAKESCOPE, TARGETS, TARGET_FLAGS, TARGET_ENV, task_states.

    every interpreter
      threadchurn.py (1,000 threads started and ended a second):
        `dump --json`: the main thread (the target's own thread_id and
        TID) with main_park, main, <module> in order; `record --idle -f
        json`: every sample that has the main thread shows those too;
        `top --once`: the header names the PID, the thread list
        MainThread with its TID
      forkexec.py (fork+exec, fork+_exit, subprocess, every ~3 ms):
        `dump --json`: fork_loop on MainThread, work_loop on "worker",
        parked_wait on "parked"; `record -f json` parses
      each followed by the classification (run_problems) and the check
      that no task of the target is stopped or traced afterwards
      threadchurn.py stopped with SIGSTOP: `dump --json` says "stopped":
        true, shows the main thread, and every task is still 'T' after
    first interpreter only
      threadchurn.py: text `dump`, `dump --native`, `watch --every 0.1
      --count 3` (three headers, each dump with main_park), record in
      the folded and speedscope formats
      `top` in a tmux pane against threadchurn.py (skipped by name
      without tmux): MainThread listed; the target stopped with SIGSTOP
      while top runs: its threads show as stopped and the target stays
      'T'; SIGCONT, then the target killed: "process exited" and every
      thread exited; 'q' exits 0 with the terminal restored
      randexit.py, RANDOM_TRIES tries: dump, dump --json, dump --native,
      record, watch, top --once in turn against a target that exits at a
      random moment (try_once, also used by bench/dying-loop.py)
    stale=True: codechurn_check.check_codechurn (record, top, locals)

Standard library only (Python 3.6+).
"""
import json
import os
import random
import re
import select
import signal
import subprocess
import time

import codechurn_check
import top_check

RANDOM_TRIES = 24
BAD = ("SIGNAL", "SANITIZER", "TIMEOUT", "GARBLED", "UNCLEAR", "STOPPED",
       "TRACED")

# mode -> argv after the snakescope binary, {out} for an output file
MODES = {
    "dump": ["dump"],
    "dump-json": ["dump", "--json"],
    "dump-native": ["dump", "--native"],
    "record-folded": ["record", "-d", "2", "-o", "{out}"],
    "record-speedscope": ["record", "-d", "2", "-f", "speedscope", "-o",
                          "{out}"],
    "record-json": ["record", "-d", "2", "--idle", "-f", "json", "-o",
                    "{out}"],
    "watch": ["watch", "--every", "0.05", "--count", "40"],
    "top": ["top", "--iterations", "6", "--refresh", "0.1", "--size",
            "100x30"],
}
RANDOM_MODES = ["dump", "dump-json", "dump-native", "record-folded",
                "record-speedscope", "record-json", "watch", "top"]


# ---- the target's state ----------------------------------------------------

def proc_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def left_behind(pid):
    """None when pid is gone or a zombie; else the problems: tasks in a
    stop ('t' traced, 'T' stopped) or with a tracer."""
    main = proc_text("/proc/%d/stat" % pid)
    if main is None or main[main.rindex(")") + 2:][:1] in "ZX":
        return None
    problems = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        stat = proc_text("/proc/%d/task/%s/stat" % (pid, tid))
        status = proc_text("/proc/%d/task/%s/status" % (pid, tid))
        if stat is None or status is None:
            continue
        state = stat[stat.rindex(")") + 2:][:1]
        m = re.search(r"^TracerPid:\s*(\d+)", status, re.M)
        if state in "tT":
            problems.append("STOPPED: task %s in state %s" % (tid, state))
        if m and m.group(1) != "0":
            problems.append("TRACED: task %s has TracerPid %s"
                            % (tid, m.group(1)))
    return problems


# ---- one run's outcome -----------------------------------------------------

def output_problems(mode, pid, out, out_file):
    """Why the output of a successful run is not a valid result."""
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["GARBLED: stdout is not UTF-8: %s" % e]
    if mode in ("dump", "dump-native"):
        if not text.startswith("Process %d: " % pid) or \
                "\nPython " not in text:
            return ["GARBLED: text dump without its header: %r"
                    % text[:300]]
    elif mode == "dump-json":
        try:
            doc = json.loads(text)
        except ValueError as e:
            return ["GARBLED: not JSON: %s: %r" % (e, text[:300])]
        if doc.get("pid") != pid or not isinstance(doc.get("threads"),
                                                   list):
            return ["GARBLED: JSON without pid %d and threads" % pid]
    elif mode == "watch":
        heads = re.findall(r"^# \S+ pid (\d+) dump (\d+)$", text, re.M)
        if not heads or any(int(p) != pid for p, _ in heads) or \
                [int(n) for _, n in heads] != list(range(1, len(heads) + 1)):
            return ["GARBLED: watch output without numbered headers: %r"
                    % text[:300]]
    elif mode == "top":
        if not text.startswith("snakescope top  pid %d " % pid):
            return ["GARBLED: top screen without its header: %r"
                    % text[:300]]
        last = text[text.rfind("snakescope top  pid"):]
        live = re.findall(r"^\s*(?:\d+|\?)\s+.*?\s(running|sleeping|disk)"
                          r"\s+[0-9.]+\s", last, re.M)
        if "process exited" in last.splitlines()[0] and live:
            return ["GARBLED: the process exited, yet threads are %s:\n%s"
                    % (live, last[:1500])]
    elif mode.startswith("record"):
        try:
            with open(out_file, "rb") as f:
                data = f.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            return ["GARBLED: record output: %s" % e]
        if mode == "record-folded":
            bad = [ln for ln in data.splitlines()
                   if not re.match(r"^\S.* \d+$", ln)]
            if bad:
                return ["GARBLED: folded lines %r" % bad[:3]]
        elif mode == "record-speedscope":
            try:
                doc = json.loads(data)
                if not isinstance(doc.get("profiles"), list):
                    raise ValueError("no profiles")
            except ValueError as e:
                return ["GARBLED: speedscope: %s: %r" % (e, data[:300])]
        else:
            for ln in data.splitlines():
                try:
                    json.loads(ln)
                except ValueError as e:
                    return ["GARBLED: JSON line: %s: %r" % (e, ln[:300])]
    return []


def classify(mode, res, pid, out_file):
    """(outcome, problems): outcome 'ok', 'exit N: message' (a clean
    failure, numbers in the message replaced by N), or a BAD one."""
    err = res.text_err
    if res.timed_out:
        return "TIMEOUT", res.describe()
    if re.search(r"Sanitizer|runtime error:|LeakSanitizer", err):
        return "SANITIZER", res.describe()
    if res.rc < 0 or res.rc >= 128:
        return "SIGNAL", res.describe()
    if res.rc == 0:
        problems = output_problems(mode, pid, res.out, out_file)
        if problems:
            return problems[0].split(":")[0], problems + res.describe()
        return "ok", []
    lines = err.splitlines()
    if len(lines) != 1 or not lines[0].startswith("snakescope: "):
        return "UNCLEAR", ["stderr should be one 'snakescope: ' line"] + \
            res.describe()
    msg = re.sub(r"0x[0-9a-f]+", "X", lines[0][len("snakescope: "):])
    msg = re.sub(r"\d+", "N", msg)
    return "exit %d: %s" % (res.rc, msg), []


def run_mode(h, mode, pid, workdir, timeout=20, extra=()):
    """(Result, output file or None) of one mode against pid."""
    out = None
    argv = []
    for a in MODES[mode]:
        if a == "{out}":
            out = os.path.join(workdir, "out-%d" % h.serial())
            a = out
        argv.append(a)
    res = h.run([h.SNAKESCOPE] + argv + list(extra) + [str(pid)],
                timeout=timeout)
    return res, out


def run_problems(h, mode, pid, workdir, extra=()):
    """Run a mode against a target that must stay alive: problems of the
    classification (only success is fine) and of the target's state."""
    res, out = run_mode(h, mode, pid, workdir, extra=extra)
    outcome, problems = classify(mode, res, pid, out)
    after = left_behind(pid)
    if after is None:
        problems.append("the target died")
    else:
        problems.extend(after)
    if outcome != "ok" and not problems:
        problems = ["outcome %r" % outcome] + res.describe()
    return problems, res, out


def try_once(h, interp, mode, workdir, rng, max_delay=0.2):
    """One try against randexit.py: (outcome, problems).  A third of the
    tries start at once (snakescope meets the interpreter starting), the
    rest when the target says ready, a dump after a random part of the
    target's own random delay (so that it often meets the exit)."""
    seed = rng.randrange(1 << 30)
    p = h.spawn([interp] + h.TARGET_FLAGS +
                [os.path.join(h.TARGETS, "randexit.py"), str(max_delay),
                 str(seed)], stdout=subprocess.PIPE, env=h.TARGET_ENV)
    try:
        if rng.random() < 2.0 / 3:
            select.select([p.stdout], [], [], 10)
            if mode.startswith("dump"):
                time.sleep(rng.random() * max_delay)
        res, out = run_mode(h, mode, p.pid, workdir, timeout=20)
        after = left_behind(p.pid)      # before it is reaped
        outcome, problems = classify(mode, res, p.pid, out)
        if after:
            problems = after + res.describe()
            outcome = after[0].split(":")[0]
        if out and os.path.exists(out):
            os.unlink(out)
        return outcome, problems
    finally:
        h.kill(p)


# ---- checks ----------------------------------------------------------------

def start(h, interp, script, workdir, extra=(), timeout=20):
    rec = os.path.join(workdir, "%s-%d.json" % (script[:-3], h.serial()))
    p = h.spawn([interp] + h.TARGET_FLAGS +
                [os.path.join(h.TARGETS, script), rec] + list(extra),
                env=h.TARGET_ENV)
    deadline = time.monotonic() + timeout
    while not os.path.exists(rec):
        if p.poll() is not None or time.monotonic() > deadline:
            h.kill(p)
            return None, None
        time.sleep(0.01)
    with open(rec) as f:
        return p, json.load(f)


def names(frames):
    return [f.get("function") for f in frames]


def in_order(want, got):
    """want (innermost first) appears in got in that order."""
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


def thread_of(doc, **match):
    for t in doc.get("threads", []):
        if all(t.get(k) == v for k, v in match.items()):
            return t
    return None


def churn_main_problems(rec, doc):
    t = thread_of(doc, thread_id=rec["main_thread_id"])
    if t is None:
        return ["main thread %d not in the dump" % rec["main_thread_id"]]
    problems = []
    if rec["main_native_id"] and t.get("native_id") != rec["main_native_id"]:
        problems.append("main thread TID %r, the target says %r"
                        % (t.get("native_id"), rec["main_native_id"]))
    if not in_order(rec["main_functions"], names(t.get("frames", []))):
        problems.append("main thread frames %r lack %r"
                        % (names(t.get("frames", [])),
                           rec["main_functions"]))
    return problems


def check_churn(report, h, interp, label, workdir, first):
    p, rec = start(h, interp, "threadchurn.py", workdir)
    if p is None:
        report.fail("%s: threadchurn.py ready" % label, ["did not start"])
        return
    what = "%s: threadchurn.py (%d threads/s)" % (label, rec["rate"])
    try:
        problems, res, _ = run_problems(h, "dump-json", p.pid, workdir)
        if not problems:
            problems = churn_main_problems(rec, json.loads(
                res.out.decode("utf-8")))
        report.check("%s: dump --json: main thread found, not left "
                     "stopped" % what, problems)

        problems, res, out = run_problems(h, "record-json", p.pid, workdir,
                                          extra=["-d", "0.5"])
        if not problems:
            n = bad = 0
            with open(out) as f:
                for ln in f:
                    s = json.loads(ln)
                    if s["thread_id"] != rec["main_thread_id"]:
                        continue
                    n += 1
                    bad += not in_order(rec["main_functions"],
                                        names(s["frames"]))
            if n == 0 or bad:
                problems.append("%d samples of the main thread, %d without "
                                "%r" % (n, bad, rec["main_functions"]))
        report.check("%s: record --idle -f json: main thread in the "
                     "samples" % what, problems)

        problems, res, _ = run_problems(h, "top", p.pid, workdir)
        if not problems:
            screen = res.out.decode("utf-8")
            if not re.search(r"^\s*%d\s+MainThread\s" % p.pid, screen,
                             re.M):
                problems.append("no MainThread row with TID %d:\n%s"
                                % (p.pid, screen[:2000]))
        report.check("%s: top --iterations 6" % what, problems)

        if first:
            for mode in ("dump", "dump-native"):
                problems, res, _ = run_problems(h, mode, p.pid, workdir)
                if not problems and "main_park" not in res.out.decode():
                    problems.append("main_park not in the dump")
                report.check("%s: %s" % (what, mode), problems)
            problems, res, _ = run_problems(h, "watch", p.pid, workdir,
                                            extra=["--count", "3"])
            if not problems:
                dumps = re.split(r"^# \S+ pid \d+ dump \d+$",
                                 res.out.decode(), flags=re.M)[1:]
                if len(dumps) != 3 or not all("main_park" in d
                                              for d in dumps):
                    problems.append("expected 3 dumps with main_park, got "
                                    "%d" % len(dumps))
            report.check("%s: watch --count 3" % what, problems)
            for mode in ("record-folded", "record-speedscope"):
                problems, _, _ = run_problems(h, mode, p.pid, workdir,
                                              extra=["-d", "0.5"])
                report.check("%s: %s" % (what, mode), problems)

        check_stopped_churn(report, h, p, rec, what)
    finally:
        h.kill(p)


def check_stopped_churn(report, h, p, rec, what):
    """Stopped mid-churn: dump says so, the stop is kept as it was."""
    what = "%s, stopped with SIGSTOP: dump --json says stopped, the " \
        "target stays stopped" % what
    os.kill(p.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = h.task_states(p.pid)
            if states and all(s == "T" for s in states.values()):
                break
            time.sleep(0.01)
        before = h.task_states(p.pid)
        res = h.snakescope("dump", "--json", p.pid)
        problems = []
        if res.timed_out or res.rc != 0:
            problems = ["expected exit status 0"] + res.describe()
        else:
            doc = json.loads(res.out.decode("utf-8"))
            if doc.get("stopped") is not True:
                problems.append("\"stopped\" is %r" % doc.get("stopped"))
            problems.extend(churn_main_problems(rec, doc))
        after = h.task_states(p.pid)
        if after != before or any(s != "T" for s in after.values()):
            problems.append("tasks before %s, after %s" % (before, after))
        report.check(what, problems)
    finally:
        os.kill(p.pid, signal.SIGCONT)


def check_top_tmux(report, h, interp, label, workdir):
    what = "%s: top in tmux against threadchurn.py: stopped, continued, " \
        "killed" % label
    if not top_check.TMUX:
        report.skip("%s: tmux is not installed" % what)
        return
    p, rec = start(h, interp, "threadchurn.py", workdir)
    if p is None:
        report.fail(what, ["threadchurn.py did not start"])
        return
    tm = top_check.Tmux(h, "stress")
    exit_path = os.path.join(workdir, "top-exit-%d" % h.serial())
    problems = []
    try:
        tm.start("%s top --refresh 0.2 %d; echo $? > %s; sleep 30"
                 % (h.SNAKESCOPE, p.pid, exit_path))
        row = r"^\s*%d\s+MainThread\s+%s\s"
        screen, last = tm.wait(lambda s: re.search(
            row % (p.pid, "sleeping"), s, re.M))
        if screen is None:
            problems.append("no MainThread row, sleeping:\n" + last)
        os.kill(p.pid, signal.SIGSTOP)
        screen, last = tm.wait(lambda s: re.search(
            row % (p.pid, "stopped"), s, re.M))
        if screen is None:
            problems.append("MainThread not shown stopped:\n" + last)
        states = h.task_states(p.pid)
        if not states or any(s != "T" for s in states.values()):
            problems.append("target not kept stopped under top: %s"
                            % states)
        os.kill(p.pid, signal.SIGCONT)
        screen, last = tm.wait(lambda s: re.search(
            row % (p.pid, "sleeping"), s, re.M))
        if screen is None:
            problems.append("MainThread not sleeping again after "
                            "SIGCONT:\n" + last)
        h.kill(p)
        screen, last = tm.wait(lambda s: "process exited" in s and
                               re.search(row % (p.pid, "exited"), s, re.M))
        if screen is None:
            problems.append("no 'process exited' with MainThread "
                            "exited:\n" + last)
        elif re.search(r"\s(running|sleeping|stopped)\s+[0-9.]+\s",
                       screen):
            problems.append("threads still shown alive:\n" + screen)
        tm.keys("q")
        status = top_check.wait_file(exit_path)
        if status != "0":
            problems.append("top's exit status after q: %r" % status)
        elif tm.fmt("#{alternate_on}") != "0" or \
                tm.fmt("#{cursor_flag}") != "1":
            problems.append("terminal not restored")
    finally:
        tm.kill()
        h.kill(p)
    report.check(what, problems)


def check_forkexec(report, h, interp, label, workdir):
    p, rec = start(h, interp, "forkexec.py", workdir)
    if p is None:
        report.fail("%s: forkexec.py ready" % label, ["did not start"])
        return
    what = "%s: forkexec.py" % label
    try:
        problems, res, _ = run_problems(h, "dump-json", p.pid, workdir)
        if not problems:
            doc = json.loads(res.out.decode("utf-8"))
            for name, want in sorted(rec["threads"].items()):
                t = thread_of(doc, name=name)
                if t is None or not in_order(want, names(t["frames"])):
                    problems.append("thread %s: frames %r lack %r" % (
                        name, t and names(t["frames"]), want))
        report.check("%s: dump --json: each thread's functions, not left "
                     "stopped" % what, problems)
        problems, _, _ = run_problems(h, "record-json", p.pid, workdir,
                                      extra=["-d", "0.3"])
        report.check("%s: record -f json" % what, problems)
    finally:
        h.kill(p)


def check_random_exits(report, h, interp, label, workdir, tries):
    rng = random.Random(0x5eed)
    counts, problems = {}, []
    for i in range(tries):
        mode = RANDOM_MODES[i % len(RANDOM_MODES)]
        outcome, why = try_once(h, interp, mode, workdir, rng)
        key = "%s %s" % (mode, outcome if outcome == "ok" or
                         outcome in BAD else outcome.split(":")[0])
        counts[key] = counts.get(key, 0) + 1
        if outcome in BAD:
            problems.append("try %d, %s: %s" % (i, mode, outcome))
            problems.extend("  " + s for s in why)
    report.check("%s: randexit.py, %d tries of dump/record/watch/top: "
                 "success or one clear line, never stopped (%s)"
                 % (label, tries, ", ".join("%s x%d" % kv for kv in
                                            sorted(counts.items()))),
                 problems[:40])


def check_stress(report, interp, version, workdir, h, first=False,
                 stale=False):
    label = "%s %s" % (version, interp)
    t0 = time.monotonic()
    check_churn(report, h, interp, label, workdir, first)
    check_forkexec(report, h, interp, label, workdir)
    if first:
        check_top_tmux(report, h, interp, label, workdir)
        check_random_exits(report, h, interp, label, workdir, RANDOM_TRIES)
    if stale:
        codechurn_check.check_codechurn(report, interp, version, workdir, h)
    report.note("%s: stress cases took %.1f s" % (label,
                                                  time.monotonic() - t0))
