"""The live cases of py-spy's habits on snakescope's command line: a program
started by `record` and `top` (`-- PROGRAM`) and by `run top`, the process
given as `-p PID` / `--pid PID`, `--nonblocking` for `--no-pause`, and
`record --format raw`.

check_habits(report, interp, version, workdir, harness)
    harness: the live_test module (see record_check.py).  Used: run, kill,
    serial, major_minor, Target, TargetError, compare_dump,
    settle_after_pause, wait_until, task_states, VERDICT_EXIT, SNAKESCOPE,
    TARGET_ENV, TARGET_FLAGS, TARGETS.

    The cases run concurrently, each on targets of its own, and are
    reported in a fixed order once all are done.

    record -- PROGRAM   `record -o F --duration 3 -- python profile_mix.py
                        REC --depth 2 --exit-after 3`: exit 0 (the
                        program's), the folded stacks of its work are
                        profile_mix's as its record (REC) describes them
                        (others are its start-up), some end in hot (when
                        it was ready within 2.5 s: not so a debug build
                        under load), the
                        summary counts 150 to 330 samples and says the
                        recording ended by its duration; the program exited
                        on its own (snakescope waited for it)
    top -- PROGRAM      `top --iterations 2 --refresh 1.5 -- python
                        top_target.py REC` and `run top --once --refresh 3
                        -- ...`: exit
                        0, the last screen shows busy-worker and
                        idle-sleeper with the TIDs of REC, busy_spin first
                        at its def line, the tasks (3.8+); the program
                        (which runs forever) was ended by snakescope
    -p / --pid          dump --json, deadlock (text and exit status), record
                        (--format raw), watch --json and top --once, each
                        with `-p PID`, `--pid PID` (`--pid=PID`) and the
                        operand: every output checked against the target's
                        own record as the other checks do; deadlock's text
                        the same for all three forms
    --nonblocking       dump --json, deadlock, watch --json: the same as
                        --no-pause (the document says "paused": false, the
                        dump matches the record; deadlock's text and status
                        the same as with --no-pause)

Standard library only (Python 3.6+).
"""
import json
import os
import re
import select
import signal
import subprocess
import threading
import time
import traceback

import top_check
import deadlock_check
from record_check import (Context, Findings, parse_folded, parse_summary,
                          read_text, run_problems, folded_structure,
                          wait_record)

PROGRAM_TIMEOUT = 40.0
RUN_END_WAIT = 15.0         # the program gets SIGTERM, SIGKILL after 5 s


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f), None
    except (OSError, ValueError) as e:
        return None, "no record from the program at %s: %s" % (path, e)


def alive(pid):
    """Running, and not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# --------------------------------------------------------------------------
# a program started by snakescope

def is_work(frames):
    """Is a stack profile_mix's work: a frame of loop or stats_writer, or
    of code nested in them (3.11+ qualified names: stats_writer's
    generator expression, a stack read without a stop may hold alone, a
    moment after the generator is unlinked from its caller; seen once on
    3.11 under load)?"""
    return any(fr[0].split(".", 1)[0] in ("loop", "stats_writer")
               for fr in frames)


def program_stacks(cx, record, stacks):
    """Problems of the stacks of profile_mix.py recorded from its start:
    those of its work (in loop or stats_writer) as folded_structure wants
    them; the others are its start-up: the interpreter's (no frame of
    profile_mix.py: site, encodings, importlib) or its own imports and
    set-up (rooted at its <module>)."""
    work = [s for s in stacks if is_work(s[1])]
    problems = folded_structure(cx, record, work, "stack")
    for _, frames, _ in stacks:
        if is_work(frames) or \
                not any(fr[1] == record["file"] for fr in frames):
            continue
        if frames[0][:2] != ("<module>", record["file"]):
            problems.append("a stack with profile_mix's frames, neither "
                            "its work nor its start-up: %s" % ";".join(
                                fr[0] for fr in frames))
    return problems[:10]


def case_record_program(cx, f):
    # Recorded from the interpreter's start: a debug build on a loaded
    # machine may spend seconds starting; the program exits 3 s after it
    # is ready, so the 3 s of the recording (from the interpreter's start)
    # end first.  Not niced: no other case here measures a rate.
    what = ("record -o F --duration 3 -- profile_mix.py --depth 2 "
            "--exit-after 3")
    out = cx.out_path("habit-rec", "folded")
    rec = cx.out_path("habit-rec-target", "json")
    started = time.time()
    res = cx.snakescope(*(["record", "-o", out, "--duration", "3", "--"]
                          + cx.target_argv("profile_mix.py")
                          + [rec, "--depth", "2", "--exit-after", "3"]),
                        timeout=PROGRAM_TIMEOUT)
    problems = run_problems(res)
    record, err = read_json(rec)
    if err:
        problems.append(err)
    if problems:
        f.check(what, problems)
        return
    text, err = read_text(out)
    if err:
        f.check(what, [err])
        return
    stacks, problems = parse_folded(text)
    if not stacks:
        problems.append("no stacks in the file")
    problems += program_stacks(cx, record, stacks)
    # Ready (its record written) well within the recording: its work
    # must be there.
    startup = os.stat(rec).st_mtime - started
    if startup < 2.5 and not any(fr and fr[-1][0] == "hot"
                                 for _, fr, _ in stacks):
        problems.append("ready %.1f s after the start, yet no stack ends "
                        "in hot: %r" % (startup, text[:500]))
    elif startup >= 2.5:
        what += " (start-up took %.1f s: its work not required)" % startup
    summary, sp = parse_summary(res.text_err, out)
    problems += sp
    if summary:
        if not 150 <= summary[0] <= 330:
            problems.append("%d samples in %.2f s, expected about 300"
                            % summary[:2])
        if "exited" in summary[2]:
            problems.append("the recording should end with its duration, "
                            "before the program: %r" % summary[2])
    if alive(record["pid"]):
        problems.append("the program (process %d) still runs"
                        % record["pid"])
    f.check(what, problems[:20])


class TopStream(object):
    """snakescope ARGV (a `top` printing text screens) started with its
    output read as it comes: screens() yields each whole screen (from
    its header to its key line)."""

    def __init__(self, cx, argv):
        self.cx = cx
        self.p = cx.h.spawn([cx.h.SNAKESCOPE] + [str(a) for a in argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cx.h.TARGET_ENV)
        self.err = []
        th = threading.Thread(target=lambda: self.err.append(
            self.p.stderr.read()))
        th.daemon = True
        th.start()

    def screens(self, timeout):
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if not ready:
                continue
            line = self.p.stdout.readline()
            if not line:
                return
            line = line.decode("utf-8", "replace")
            if line.startswith("snakescope top"):
                lines = []
            lines.append(line)
            if line.startswith("q quit"):
                yield "".join(lines)

    def stop(self):
        """SIGINT (to snakescope alone), then its exit status or None."""
        try:
            self.p.send_signal(signal.SIGINT)
            rc = self.p.wait(timeout=RUN_END_WAIT)
        except subprocess.TimeoutExpired:
            rc = None
        self.cx.h.kill(self.p)
        return rc

    def stderr(self):
        return b"".join(self.err).decode("utf-8", "replace")[-1000:]


def case_top_program(cx, f, argv, label):
    """argv + `-- python top_target.py REC`, its screens looked at as they
    come until one shows the record's threads, busy_spin and the tasks
    (start-up takes seconds on a debug build); then Ctrl-C (to snakescope
    alone): it ends, exit 0, and ends the program it started."""
    what = "%s -- top_target.py: the program's threads, busy_spin, tasks; " \
        "SIGINT ends both, exit 0" % label
    rec = cx.out_path("habit-top-target", "json")
    ts = TopStream(cx, argv + ["--size", "120x40", "--"]
                   + cx.target_argv("top_target.py") + [rec])
    problems, last, record = ["no screen"], "", None
    for screen in ts.screens(PROGRAM_TIMEOUT):
        last = screen
        if record is None:
            record, _ = read_json(rec)
        if record is None:
            problems = ["the program wrote no record (not ready)"]
            continue
        problems = top_check.screen_problems(record, record["pid"], screen,
                                             first=False)
        if not problems:
            break
    top_check.save(cx, "program-" + label.split()[0], last)
    rc = ts.stop()
    if problems:
        problems += ["(the last screen)", "stderr: " + ts.stderr()]
    elif rc != 0:
        problems.append("exit status %r after SIGINT, expected 0; stderr: "
                        "%s" % (rc, ts.stderr()))
    elif alive(record["pid"]):
        problems.append("the program (process %d) still runs after the "
                        "view ended" % record["pid"])
    f.check(what, problems[:20])


def case_top_programs(cx, f):
    case_top_program(cx, f, ["top", "--iterations", "100", "--refresh",
                             "0.5"], "top --iterations 100")
    case_top_program(cx, f, ["run", "top", "--iterations", "100",
                             "--refresh", "0.5"], "run top --iterations 100")
    # --once: one screen after a second of sampling, then the program
    # (which would spin forever) is ended; exit 0.
    what = "top --once -- python -c 'def habit_spin(): spin' : habit_spin " \
        "shown, the program ended, exit 0"
    res = cx.snakescope("top", "--once", "--refresh", "2", "--size",
                        "120x40", "--", cx.interp, "-c",
                        "def habit_spin():\n    while True:\n        pass\n"
                        "habit_spin()\n", timeout=PROGRAM_TIMEOUT)
    problems = run_problems(res)
    screen = res.out.decode("utf-8", "replace")
    # (func_rows stops at a file name with a space: "<frozen ...>")
    if not problems and not re.search(r"^\s*[0-9.]+\s+[0-9.]+\s.*"
                                      r"\bhabit_spin\s+<string>:1\s*$",
                                      screen, re.M):
        problems.append("habit_spin is not in the functions:\n" + screen)
    m = re.search(r"pid (\d+)", screen)
    if not problems and (not m or alive(int(m.group(1)))):
        problems.append("the program still runs, or no pid in the "
                        "header:\n" + screen)
    f.check(what, problems)


# --------------------------------------------------------------------------
# the process as -p PID, --pid PID and the operand

def pid_forms(pid):
    """(label, args) of the three ways to give the process."""
    return [("PID", [pid]), ("-p PID", ["-p", pid]),
            ("--pid PID", ["--pid", pid]), ("--pid=PID", ["--pid=%d" % pid])]


def dump_doc(cx, args):
    res = cx.snakescope(*args)
    if res.timed_out or res.rc != 0:
        return None, ["expected exit status 0"] + res.describe()
    try:
        return json.loads(res.out.decode("utf-8")), []
    except ValueError as e:
        return None, ["output is not JSON: %s" % e] + res.describe()


def case_dump_forms(cx, f):
    t = cx.h.Target(cx.interp, "threads.py", cx.workdir)
    try:
        try:
            t.ready()
        except cx.h.TargetError as e:
            f.check("dump: threads.py ready", [str(e)])
            return
        for label, form in pid_forms(t.pid):
            doc, problems = dump_doc(cx, ["dump", "--json"] + form)
            if doc is not None:
                problems = cx.h.compare_dump(t.record, doc, ["--json"])
                if doc.get("paused") is not True:
                    problems.append("\"paused\": %r, expected true"
                                    % doc.get("paused"))
            f.check("dump --json %s: matches the target's record" % label,
                    problems)
        for opt in ("--no-pause", "--nonblocking"):
            doc, problems = dump_doc(cx, ["dump", "--json", opt, "-p",
                                          t.pid])
            if doc is not None:
                problems = cx.h.compare_dump(t.record, doc,
                                             ["--json", "--no-pause"])
                if doc.get("paused") is not False:
                    problems.append("\"paused\": %r, expected false"
                                    % doc.get("paused"))
            f.check("dump --json %s -p PID: read without pausing, matches "
                    "the target's record" % opt, problems)
        # watch: the same dumps, one JSON document a line
        for label, args in (("-p PID --nonblocking",
                             ["-p", t.pid, "--nonblocking"]),
                            ("PID --no-pause", [t.pid, "--no-pause"])):
            res = cx.snakescope("watch", "--every", "0.2", "--count", "2",
                                "--json", *args)
            problems = run_problems(res)
            lines = res.out.decode("utf-8", "replace").splitlines()
            if not problems and len(lines) != 2:
                problems.append("%d lines, expected 2" % len(lines))
            for n, line in enumerate(lines if not problems else [], 1):
                try:
                    doc = json.loads(line)
                except ValueError as e:
                    problems.append("line %d is not JSON: %s" % (n, e))
                    continue
                problems += ["dump %d: %s" % (n, p) for p in
                             cx.h.compare_dump(t.record, doc,
                                               ["--json", "--no-pause"])]
                if doc.get("paused") is not False or doc.get("dump") != n:
                    problems.append("dump %d: \"paused\" %r, \"dump\" %r"
                                    % (n, doc.get("paused"), doc.get("dump")))
            f.check("watch --every 0.2 --count 2 --json %s: matches the "
                    "target's record" % label, problems[:20])
    finally:
        t.kill()


def case_deadlock_forms(cx, f):
    t = cx.h.Target(cx.interp, "deadlocks.py", cx.workdir, ["two_locks"])
    try:
        try:
            t.ready()
        except cx.h.TargetError as e:
            f.check("deadlock: deadlocks.py two_locks ready", [str(e)])
            return
        want = cx.h.VERDICT_EXIT[t.record["verdict"]]
        first = None
        forms = [(label, form) for label, form in pid_forms(t.pid)] + [
            ("--no-pause PID", ["--no-pause", t.pid]),
            ("--nonblocking -p PID", ["--nonblocking", "-p", t.pid])]
        for label, form in forms:
            cx.h.settle_after_pause(t)
            res = cx.snakescope("deadlock", *form)
            out = res.out.decode("utf-8", "replace")
            problems = []
            if res.timed_out or res.rc != want:
                problems += ["exit status %s, expected %d"
                             % (res.rc, want)] + res.describe()
            else:
                problems += deadlock_check.text_problems(t.record, out)
                if first is None:
                    first = (label, out)
                elif out != first[1]:
                    problems.append("the text differs from that of "
                                    "'deadlock %s':\n%s\n---\n%s"
                                    % (first[0], first[1], out))
            f.check("deadlock %s: exit %d, the record's verdict and locks"
                    % (label, want), problems)
    finally:
        t.kill()


def case_record_forms(cx, f):
    t = cx.target("profile_mix.py", ["--depth", "2"])
    try:
        try:
            record = wait_record(t)
        except (RuntimeError, ValueError) as e:
            f.check("record: profile_mix.py ready", [str(e)])
            return
        results = {}

        def one(label, form):
            out = cx.out_path("habit-pid", "folded")
            results[label] = (out, cx.snakescope(
                "record", "-o", out, "--duration", "0.5", "--format", "raw",
                *form))
        threads = [threading.Thread(target=one, args=lf)
                   for lf in pid_forms(t.pid)[:3]]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for label, _ in pid_forms(t.pid)[:3]:
            out, res = results[label]
            problems = run_problems(res)
            if not problems:
                text, err = read_text(out)
                if err:
                    problems.append(err)
                else:
                    stacks, problems = parse_folded(text)
                    if not stacks:
                        problems.append("no stacks in the file")
                    problems += folded_structure(cx, record, stacks, "stack")
                problems += parse_summary(res.text_err, out)[1]
            f.check("record --format raw %s: profile_mix's folded stacks"
                    % label, problems[:20])
    finally:
        t.kill()


def case_top_forms(cx, f):
    t = cx.h.Target(cx.interp, "top_target.py", cx.workdir)
    try:
        try:
            t.record = wait_record(t)
        except (RuntimeError, ValueError) as e:
            f.check("top: top_target.py ready", [str(e)])
            return
        for label, form in (("-p PID", ["-p", t.pid]),
                            ("--pid PID --nonblocking",
                             ["--pid", t.pid, "--nonblocking"])):
            res = cx.snakescope("top", "--once", "--size", "120x40", *form)
            problems = run_problems(res)
            if not problems:
                screen = res.out.decode("utf-8", "replace")
                problems = top_check.screen_problems(t.record, t.pid, screen)
            f.check("top --once %s: threads, busy_spin first, tasks"
                    % label, problems)
    finally:
        t.kill()


CASES = [case_record_program, case_top_programs, case_dump_forms,
         case_deadlock_forms, case_record_forms, case_top_forms]


def check_habits(report, interp, version, workdir, harness):
    label = "%s %s: habits" % (version, interp)
    cx = Context(harness, interp, version, workdir)
    findings = [Findings(label) for _ in CASES]

    def guarded(case, f):
        try:
            case(cx, f)
        except Exception:
            f.check("%s crashed" % case.__name__,
                    traceback.format_exc().splitlines())
    threads = [threading.Thread(target=guarded, args=(case, f))
               for case, f in zip(CASES, findings)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for f in findings:
        f.report_to(report)
    report.note("%s: habits cases took %.1f s"
                % (label, time.monotonic() - t0))
