"""The live cases of `snakescope top`, against tests/targets/top_target.py
(a busy thread spinning in busy_spin, an idle one blocked in idle_wait, and
on 3.8+ an asyncio tree root -> child-a, child-b on the main thread).

check_top(report, interp, version, workdir, harness)
    harness: the live_test module (see record_check.py).  Used: run, kill,
    serial, major_minor, Target, SNAKESCOPE, TARGET_ENV.

    text        `top --once --size 120x40`: exit 0; the header names the
                PID and the Python version; the thread list has
                busy-worker and idle-sleeper with their TIDs (the
                target's own) and states running / sleeping; the first
                function row is busy_spin at the target's file; 3.8+: the
                task pane has root, child-a and child-b
    tmux        `top` in a tmux pane of 120x40, driven by keys as a person
                would: busy_spin rises to the top of the table; '/busy_sp'
                Enter leaves only matching rows, Esc brings the rest back;
                'p' shows PAUSED and the samples count stays the same for
                a second, 'p' again and it grows; '?' shows the keys; the
                window resized to 60x20 still shows the header and
                busy_spin within 60 columns; 'q' exits with status 0, the
                terminal restored (alternate screen off, cursor shown), the
                target running; then Ctrl-C ends a second `top` the same
                way

The screens captured are saved under tests/artifacts/top/ (or
$SNAKESCOPE_ARTIFACTS/top/) as VERSION-INTERPRETER-STEP.txt, for a person to look at.
SKIP when tmux is not installed.

Standard library only (Python 3.6+).
"""
import os
import re
import shutil
import signal
import subprocess
import time
import traceback

TMUX = shutil.which("tmux")
WAIT = 10.0          # for a screen to show what is expected
ROW_RE = re.compile(r"^\s*([0-9.]+)\s+([0-9.]+)\s+(?:\S+\s+\S+\s+)?(\S+)\s+"
                    r"(\S+)\s*$")
SAMPLES_RE = re.compile(r"samples (\d+)")


def artifacts_dir():
    base = os.environ.get("SNAKESCOPE_ARTIFACTS") or os.path.join(
        "tests", "artifacts")
    path = os.path.join(base, "top")
    os.makedirs(path, exist_ok=True)
    return path


def save(cx, step, text):
    """As VERSION-INTERPRETER-STEP.txt: builds of one version apart."""
    who = re.sub(r"[^A-Za-z0-9.]+", "_", cx.interp).strip("_")
    try:
        artifacts_dir()
        with open(os.path.join(artifacts_dir(), "%s-%s-%s.txt"
                               % (cx.version, who, step)), "w") as f:
            f.write(text)
    except OSError:
        pass


def func_rows(screen):
    """[(own%, total%, function, file:line)] of the functions table."""
    rows, inside = [], False
    for line in screen.splitlines():
        if re.match(r"^\s*OWN%", line):
            inside = True
            continue
        if not inside:
            continue
        m = ROW_RE.match(line)
        if not m:
            break
        rows.append((float(m.group(1)), float(m.group(2)), m.group(3),
                     m.group(4)))
    return rows


def thread_rows(screen):
    """{name: (tid, state)} of the thread list."""
    out = {}
    for line in screen.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\S+)\s+(running|sleeping|disk|stopped|"
                     r"traced|zombie|idle|exited|\?)\s", line)
        if m:
            out[m.group(2)] = (int(m.group(1)), m.group(3))
    return out


def tmux_env():
    """Our environment without what would make the pane differ from a
    person's terminal of that size: LINES/COLUMNS (curses would take them
    over the pane's size), an enclosing tmux, a missing or dumb TERM."""
    env = dict(os.environ)
    for var in ("LINES", "COLUMNS", "TMUX", "TMUX_PANE"):
        env.pop(var, None)
    if env.get("TERM", "dumb") in ("", "dumb", "unknown"):
        env["TERM"] = "xterm-256color"
    return env


class Tmux(object):
    """One tmux server of our own (its own socket), one pane."""

    def __init__(self, harness, name):
        self.h = harness
        self.sock = "snakescope-test-%d-%d" % (os.getpid(), harness.serial())
        self.name = name

    def cmd(self, *args):
        p = subprocess.run([TMUX, "-L", self.sock] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10, env=tmux_env())
        return p.stdout.decode("utf-8", "replace")

    def start(self, command, cols=120, rows=40):
        self.cmd("new-session", "-d", "-s", self.name, "-x", str(cols),
                 "-y", str(rows), command)

    def screen(self):
        return self.cmd("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys):
        self.cmd("send-keys", "-t", self.name, *keys)

    def literal(self, text):
        self.cmd("send-keys", "-t", self.name, "-l", text)

    def fmt(self, what):
        return self.cmd("display-message", "-p", "-t", self.name,
                        what).strip()

    def wait(self, pred, timeout=WAIT):
        """The first screen for which pred holds, else (None, last)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            last = self.screen()
            if pred(last):
                return last, last
            time.sleep(0.1)
        return None, last

    def kill(self):
        try:
            self.cmd("kill-server")
        except Exception:
            pass


def top_first(screen):
    rows = func_rows(screen)
    return bool(rows) and rows[0][2] == "busy_spin"


def check_text(cx, f, t):
    r = cx.h.run([cx.h.SNAKESCOPE, "top", "--once", "--refresh", "1",
                  "--size", "120x40", str(t.pid)], timeout=20,
                 env=cx.h.TARGET_ENV)
    screen = r.out.decode("utf-8", "replace")
    save(cx, "text-once", screen)
    problems = []
    if r.rc != 0:
        problems.append("exit status %s, stderr %r" % (r.rc, r.err[-500:]))
    problems += screen_problems(t.record, t.pid, screen)
    f.check("top --once: header, threads, busy_spin first, tasks", problems)


def screen_problems(record, pid, screen, first=True):
    """Problems of a text screen of top_target.py (process pid, its record):
    the header names the pid and the version; busy-worker and idle-sleeper
    are listed with the target's TIDs and their states; busy_spin is the
    first function (with first; else one of them: counts since its start
    hold its start-up too), at its def line; the tasks are in the task
    pane."""
    problems = []
    head = screen.splitlines()[0] if screen else ""
    if "pid %d" % pid not in head or "Python %s" % record["version"] \
            not in head:
        problems.append("header %r should name pid %d and Python %s"
                        % (head, pid, record["version"]))
    threads = thread_rows(screen)
    for name, state in (("busy-worker", "running"),
                        ("idle-sleeper", "sleeping")):
        want_tid = record["threads"].get(name)
        got = threads.get(name)
        if got is None:
            problems.append("thread %s not listed" % name)
        elif want_tid and got[0] != want_tid:
            problems.append("thread %s: TID %d, the target says %d"
                            % (name, got[0], want_tid))
        elif got[1] != state:
            problems.append("thread %s: state %s, expected %s"
                            % (name, got[1], state))
    rows = func_rows(screen)
    line = busy_def_line(record)
    busy = [r for r in rows if r[2] == "busy_spin"]
    if first and (not rows or rows[0][2] != "busy_spin"):
        problems.append("first function row should be busy_spin: %r"
                        % rows[:3])
    elif not busy:
        problems.append("no busy_spin among the functions: %r" % rows[:5])
    elif not busy[0][3].endswith("top_target.py:%d" % line):
        problems.append("busy_spin row's place %r should end with "
                        "top_target.py:%d" % (busy[0][3], line))
    for task in record["tasks"]:
        if not re.search(r"\b%s\b" % re.escape(task), screen):
            problems.append("task %s not in the task pane" % task)
    if record["tasks"] and "ASYNCIO TASKS" not in screen:
        problems.append("no task pane")
    if problems:
        problems.append("screen:\n" + screen)
    return problems


def busy_def_line(record):
    with open(record["file"]) as src:
        for n, line in enumerate(src, 1):
            if line.startswith("def busy_spin"):
                return n
    return -1


def check_tmux(cx, f, t):
    tm = Tmux(cx.h, "top")
    exit_path = os.path.join(cx.workdir, "top-exit-%d" % cx.h.serial())
    # The pane outlives top (sleep), so that its terminal can be looked at.
    tm.start("%s top --refresh 0.25 %d; echo $? > %s; sleep 30"
             % (cx.h.SNAKESCOPE, t.pid, exit_path))
    try:
        steps(cx, f, t, tm, exit_path)
    finally:
        tm.kill()


def steps(cx, f, t, tm, exit_path):
    def complete(s):
        # a screen can be caught half drawn: wait for all of it
        threads = thread_rows(s)
        return top_first(s) and all(
            re.search(r"\b%s\b" % re.escape(task), s)
            for task in t.record["tasks"]) and all(
            name in threads for name in ("busy-worker", "idle-sleeper"))
    screen, last = tm.wait(complete)
    save(cx, "1-start", last)
    f.check("tmux: busy_spin rises to the top; threads%s shown"
            % (" and tasks" if t.record["tasks"] else ""),
            [] if screen else ["screen:\n" + last])
    if screen is None:
        return

    # filter
    tm.literal("/busy_sp")
    tm.keys("Enter")
    screen, last = tm.wait(lambda s: "filter busy_sp" in s and
                           func_rows(s) and
                           all("busy_sp" in r[2] for r in func_rows(s)))
    save(cx, "2-filter", last)
    f.check("tmux: '/busy_sp' leaves only matching rows",
            [] if screen else ["screen:\n" + last])
    tm.keys("Escape")
    screen, last = tm.wait(lambda s: "filter busy_sp" not in s and
                           len(func_rows(s)) > 1)
    f.check("tmux: Esc clears the filter",
            [] if screen else ["screen:\n" + last])

    # pause
    tm.keys("p")
    screen, last = tm.wait(lambda s: "PAUSED" in s)
    problems = []
    if screen is None:
        problems.append("no PAUSED after 'p':\n" + last)
    else:
        time.sleep(0.3)
        first = tm.screen()
        time.sleep(1.0)
        second = tm.screen()
        save(cx, "3-paused", second)
        a, b = SAMPLES_RE.search(first), SAMPLES_RE.search(second)
        if not a or not b or a.group(1) != b.group(1):
            problems.append("samples moved while paused: %s -> %s"
                            % (a and a.group(1), b and b.group(1)))
        tm.keys("p")
        screen, last = tm.wait(lambda s: "PAUSED" not in s and
                               SAMPLES_RE.search(s) and b and
                               int(SAMPLES_RE.search(s).group(1)) >
                               int(b.group(1)))
        if screen is None:
            problems.append("samples did not grow after 'p' again:\n" + last)
    f.check("tmux: 'p' freezes the counts, 'p' again resumes", problems)

    # help
    tm.keys("?")
    screen, last = tm.wait(lambda s: "KEYS" in s and "filter" in s)
    save(cx, "4-help", last)
    tm.keys("x")
    closed, last2 = tm.wait(lambda s: "KEYS" not in s and top_first(s))
    f.check("tmux: '?' shows the keys, a key closes them",
            [] if screen and closed else ["screen:\n" + (last if not screen
                                                         else last2)])

    # resize
    tm.cmd("resize-window", "-t", "top", "-x", "60", "-y", "20")
    screen, last = tm.wait(lambda s: s.startswith("snakescope top") and
                           top_first(s) and
                           max(len(x) for x in s.splitlines()) <= 60 and
                           len(s.splitlines()) <= 20)
    save(cx, "5-resized-60x20", last)
    f.check("tmux: resized to 60x20, still header and busy_spin",
            [] if screen else ["screen:\n" + last])

    # q
    tm.keys("q")
    ok = wait_file(exit_path)
    problems = []
    if ok is None:
        problems.append("top did not exit after 'q'")
    elif ok != "0":
        problems.append("exit status %s" % ok)
    else:
        alt, cursor = tm.fmt("#{alternate_on}"), tm.fmt("#{cursor_flag}")
        if alt != "0" or cursor != "1":
            problems.append("terminal not restored: alternate_on=%s "
                            "cursor_flag=%s" % (alt, cursor))
    state = proc_state(t.pid)
    if state in ("T", "t", None):
        problems.append("target state after top: %r" % state)
    f.check("tmux: 'q' exits 0 with the terminal restored, the target "
            "running", problems)

    # Ctrl-C
    exit2 = exit_path + ".2"
    tm.cmd("respawn-pane", "-k", "-t", "top",
           "%s top %d; echo $? > %s; sleep 30"
           % (cx.h.SNAKESCOPE, t.pid, exit2))
    screen, last = tm.wait(lambda s: s.startswith("snakescope top"))
    tm.keys("C-c")
    ok = wait_file(exit2)
    problems = []
    if screen is None:
        problems.append("second top did not start:\n" + last)
    elif ok != "0":
        problems.append("exit status after Ctrl-C: %r" % ok)
    elif tm.fmt("#{alternate_on}") != "0" or tm.fmt("#{cursor_flag}") != "1":
        problems.append("terminal not restored after Ctrl-C")
    if proc_state(t.pid) in ("T", "t", None):
        problems.append("target stopped or gone after Ctrl-C")
    f.check("tmux: Ctrl-C exits 0 with the terminal restored", problems)


def wait_file(path, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as fh:
                text = fh.read().strip()
            if text:
                return text
        except OSError:
            pass
        time.sleep(0.05)
    return None


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def check_top(report, interp, version, workdir, harness):
    from record_check import Context, Findings, wait_record
    label = "%s %s: top" % (version, interp)
    cx = Context(harness, interp, version, workdir)
    f = Findings(label)
    t = None
    t0 = time.monotonic()
    try:
        t = harness.Target(interp, "top_target.py", workdir)
        t.record = wait_record(t)
        check_text(cx, f, t)
        if TMUX:
            check_tmux(cx, f, t)
        else:
            f.skip("top in tmux: tmux is not installed")
    except Exception:
        f.check("top cases crashed", traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)
    report.note("%s: top cases took %.1f s" % (label, time.monotonic() - t0))


# ---- several processes (top --subprocesses, top PID PID...) ------------

# own%, total%, [own, total,] PID[+N[+]], function, file:line
PROC_ROW_RE = re.compile(r"^\s*([0-9.]+)\s+([0-9.]+)\s+(?:\S+\s+\S+\s+)?"
                         r"(\d+|-)(?:\+(\d+)\+?)?\s+(\S+)\s+(\S+)\s*$")
PROCS_RE = re.compile(r"processes (\d+)")


def proc_func_rows(screen):
    """[(pid or None, function, file:line)] of the functions table of a
    view of several processes (the PID column: where the time goes
    most)."""
    rows, inside = [], False
    for line in screen.splitlines():
        if re.match(r"^\s*OWN%", line):
            inside = True
            continue
        if not inside:
            continue
        m = PROC_ROW_RE.match(line)
        if not m:
            break
        rows.append((None if m.group(3) == "-" else int(m.group(3)),
                     m.group(5), m.group(6)))
    return rows


def proc_thread_pids(screen):
    """{pid: state} of the thread list's rows (PID, TID, name, state)."""
    out = {}
    for line in screen.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+\S+\s+(running|sleeping|disk|"
                     r"stopped|traced|zombie|idle|exited|\?)\s", line)
        if m:
            out[int(m.group(1))] = m.group(3)
    return out


def procs_problems(record, screen, pids, first=True):
    """Problems of a screen of mp_top.py's processes pids: the header
    counts them; each is in the thread list; the first function row (or,
    without first, a row) is the busy child's function, at its file and
    first line, its PID the busy child's (the target's own word)."""
    problems = []
    head = screen.splitlines()[0] if screen else ""
    m = PROCS_RE.search(head)
    if not m or int(m.group(1)) != len(pids):
        problems.append("header %r should say 'processes %d'"
                        % (head, len(pids)))
    listed = proc_thread_pids(screen)
    for pid in pids:
        if pid not in listed:
            problems.append("process %d not in the thread list" % pid)
    rows = proc_func_rows(screen)
    want = (record["busy"], record["busy_function"],
            "%s:%d" % (os.path.basename(record["file"]),
                       record["busy_first_line"]))
    busy = [r for r in rows if r[1] == want[1]]
    if first and (not rows or rows[0][1] != want[1]):
        problems.append("first function row should be %s: %r"
                        % (want[1], rows[:3]))
    elif not busy:
        problems.append("no %s among the functions: %r" % (want[1], rows[:5]))
    elif busy[0][0] != want[0] or not busy[0][2].endswith(want[2]):
        problems.append("%s row: PID %s at %s, the target says PID %d "
                        "at ...%s" % (want[1], busy[0][0], busy[0][2],
                                      want[0], want[2]))
    if problems:
        problems.append("screen:\n" + screen)
    return problems


def read_late(path, old, timeout=WAIT):
    """The target's .late file once it differs from old, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as fh:
                text = fh.read().strip()
            if text and text != old:
                return text
        except OSError:
            pass
        time.sleep(0.05)
    return None


def check_procs_text(cx, f, t):
    rec = t.record
    everyone = [rec["pid"], rec["busy"]] + rec["idle"]
    r = cx.h.run([cx.h.SNAKESCOPE, "top", "--once", "--refresh", "1",
                  "--size", "160x40", "--subprocesses", str(t.pid)],
                 timeout=30, env=cx.h.TARGET_ENV)
    screen = r.out.decode("utf-8", "replace")
    save(cx, "procs-once", screen)
    problems = []
    if r.rc != 0:
        problems.append("exit status %s, stderr %r" % (r.rc, r.err[-500:]))
    problems += procs_problems(rec, screen, everyone)
    f.check("top --once --subprocesses: every process, the busy child's "
            "function first with its PID", problems)

    pair = [rec["idle"][0], rec["busy"]]
    r = cx.h.run([cx.h.SNAKESCOPE, "top", "--once", "--refresh", "1",
                  "--size", "160x40"] + [str(p) for p in pair],
                 timeout=30, env=cx.h.TARGET_ENV)
    screen = r.out.decode("utf-8", "replace")
    save(cx, "procs-pair", screen)
    problems = []
    if r.rc != 0:
        problems.append("exit status %s, stderr %r" % (r.rc, r.err[-500:]))
    problems += procs_problems(rec, screen, pair)
    for pid in everyone:
        if pid not in pair and pid in proc_thread_pids(screen):
            problems.append("process %d listed, not asked for" % pid)
    f.check("top --once PID PID: those two, the busy child's function "
            "first with its PID", problems)


def check_procs_tmux(cx, f, t):
    rec = t.record
    everyone = [rec["pid"], rec["busy"]] + rec["idle"]
    late_path = t.record_path + ".late"
    tm = Tmux(cx.h, "topprocs")
    exit_path = os.path.join(cx.workdir, "top-exit-%d" % cx.h.serial())
    tm.start("%s top --refresh 0.25 --subprocesses %d; echo $? > %s; "
             "sleep 30" % (cx.h.SNAKESCOPE, t.pid, exit_path), cols=160)
    try:
        screen, last = tm.wait(lambda s: not procs_problems(rec, s,
                                                            everyone))
        save(cx, "procs-1-start", last)
        f.check("tmux --subprocesses: every process, the busy child's "
                "function on top with its PID",
                [] if screen else procs_problems(rec, last, everyone))
        if screen is None:
            return

        # A process that starts later appears...
        os.kill(t.pid, signal.SIGUSR1)
        late = read_late(late_path, None)
        if late is None or not late.isdigit():
            f.check("tmux --subprocesses: a child started later", [
                "the target wrote no late child's PID: %r" % late])
            return
        late = int(late)
        screen, last = tm.wait(lambda s: not procs_problems(
            rec, s, everyone + [late]))
        save(cx, "procs-2-late", last)
        f.check("tmux --subprocesses: a child started later appears "
                "(processes %d)" % (len(everyone) + 1),
                [] if screen else procs_problems(rec, last,
                                                 everyone + [late]))

        # ... and goes when it exits, without an error.
        os.kill(t.pid, signal.SIGUSR2)
        gone = read_late(late_path, str(late))
        screen, last = tm.wait(
            lambda s: not procs_problems(rec, s, everyone) and
            late not in proc_thread_pids(s))
        save(cx, "procs-3-gone", last)
        problems = [] if gone == "gone" else [
            "the target did not end its late child: %r" % gone]
        if screen is None:
            problems += ["process %d still listed or the others changed"
                         % late] + procs_problems(rec, last, everyone)
        elif "exited" in screen.splitlines()[0]:
            problems.append("header says exited: %r"
                            % screen.splitlines()[0])
        f.check("tmux --subprocesses: the late child goes when it exits, "
                "the others stay", problems)

        tm.keys("q")
        status = wait_file(exit_path)
        f.check("tmux --subprocesses: 'q' exits with status 0",
                [] if status == "0" else ["exit status %r" % status])
    finally:
        tm.kill()


def check_top_procs(report, interp, version, workdir, harness):
    """top of several processes, against tests/targets/mp_top.py (a
    parent, one busy child and two idle ones; a late child on SIGUSR1,
    ended on SIGUSR2):

    text    `top --once --subprocesses PID`: exit 0; 'processes 4' in the
            header; every process in the thread list (its PID column);
            the first function row is the busy child's function at its
            file and first line with the busy child's PID, as the child
            itself reported them; `top --once IDLE BUSY`: the same of
            those two, the others not listed
    tmux    `top --subprocesses PID` in a 160x40 tmux pane: the same
            screen; a child started later appears ('processes 5', its
            PID listed); when it exits it goes ('processes 4'), without
            'exited' in the header; 'q' exits with status 0

    SKIP (tmux part) when tmux is not installed."""
    from record_check import Context, Findings, wait_record
    label = "%s %s: top --subprocesses" % (version, interp)
    cx = Context(harness, interp, version, workdir)
    f = Findings(label)
    t = None
    t0 = time.monotonic()
    try:
        t = harness.Target(interp, "mp_top.py", workdir)
        t.record = wait_record(t)
        check_procs_text(cx, f, t)
        if TMUX:
            check_procs_tmux(cx, f, t)
        else:
            f.skip("top --subprocesses in tmux: tmux is not installed")
    except Exception:
        f.check("top --subprocesses cases crashed",
                traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)
    report.note("%s: cases took %.1f s" % (label, time.monotonic() - t0))
