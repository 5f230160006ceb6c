#!/usr/bin/env python3
"""Live integration tests: snakescope against real CPython processes.

Every target in tests/targets/ records its own view of itself (see
tests/targets/_record.py); this harness starts the targets under every
interpreter found on the machine, runs `snakescope dump --json PID` against
them and compares the output with the record field by field.  It also runs
the bad-input cases (exit codes and messages), the signal-while-paused cases
and the already-stopped-target case.

Environment:
  SNAKESCOPE          the binary to test (default ./snakescope)
  SNAKESCOPE_STATIC   the fully static binary to test alone (see
                      static_check.py; `make check` sets it, and
                      SNAKESCOPE_STATIC_WHY when there is none)
  SNAKESCOPE_SRCDIR   top source directory (default: two levels up from here)

Output: one line per check, "ok - ", "FAIL - " or "SKIP - ", details of a
failure indented below it, then a summary.  Exit status 0 when nothing
failed, 1 otherwise, 77 when ptrace is unavailable altogether.

Standard library only; run it with the system python3.
"""
import argparse
import difflib
import glob
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tasks_check  # noqa: E402
import frames_check  # noqa: E402
import deadlock_check  # noqa: E402
import fdwait_check  # noqa: E402
import procwait_check  # noqa: E402
import record_check  # noqa: E402
import fleet_check  # noqa: E402
import top_check  # noqa: E402
import native_check  # noqa: E402
import nonstop_check  # noqa: E402
import container_check  # noqa: E402
import boundary_check  # noqa: E402
import core_check  # noqa: E402
import snapshot_check  # noqa: E402
import hostile_check  # noqa: E402
import privs_check  # noqa: E402
import access_check  # noqa: E402
import stress_check  # noqa: E402
import static_check  # noqa: E402
import habits_check  # noqa: E402
import flame_check  # noqa: E402
import stall_check  # noqa: E402
import summary_check  # noqa: E402
import gil_check  # noqa: E402
import thousands_check  # noqa: E402
import groups_check  # noqa: E402
import procs_check  # noqa: E402
import watchprocs_check  # noqa: E402
import merge_check  # noqa: E402
import taskstack_check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SNAKESCOPE = os.path.abspath(os.environ.get("SNAKESCOPE") or "./snakescope")
SRCDIR = os.path.abspath(os.environ.get("SNAKESCOPE_SRCDIR")
                         or os.path.join(HERE, "..", ".."))
TARGETS = os.path.join(SRCDIR, "tests", "targets")

# Interpreters this machine is meant to have; reported as SKIP when absent.
EXPECTED = [
    "/root/.pyenv/versions/2.7.18/bin/python",
    "/root/.pyenv/versions/3.6.15/bin/python",
    "/root/.pyenv/versions/3.7.16/bin/python",
    "/root/.pyenv/versions/3.8.18/bin/python",
    "/root/.pyenv/versions/3.9.18/bin/python",
    "/root/.pyenv/versions/3.10.13/bin/python",
    "/root/.pyenv/versions/3.11.7/bin/python",
    "/root/.pyenv/versions/3.12.1/bin/python",
    "/root/.pyenv/versions/3.13.0/bin/python",
    "/usr/bin/python3.11",
    "/opt/py/3.14/bin/python3.14",
    "/opt/py/3.14-shared/bin/python3.14",
    "/opt/py/3.15/bin/python3.15",
    "/opt/py/3.15-shared/bin/python3.15",
    "/opt/py/3.14-dbg/bin/python3.14d",
]

# target script -> the dump option sets it is checked with
TARGET_DUMPS = [
    ("threads.py", [["--json"], ["--json", "--no-pause"],
                    ["--json", "--locals"]]),
    ("deep.py", [["--json"]]),
    ("unicode_names.py", [["--json"]]),
    ("many_threads.py", [["--json"]]),
    ("ten_threads.py", [["--json"]]),
    ("heartbeat.py", [["--json"]]),
    ("subinterpreters.py", [["--json"], ["--json", "--no-pause"]]),
    ("async_tree.py", [["--json"], ["--json", "--no-pause"], [],
                       ["--tasks=table"]]),
    ("async_cycle.py", [["--json"], []]),
    ("async_many.py", [["--json"]]),
    ("async_threads.py", [["--json"]]),
    ("async_pure.py", [["--json"]]),
    ("async_waitfor.py", [["--json"]]),
    ("locals.py", [["--json", "--locals", "--repr-width=100000"],
                   ["--json", "--locals"], []]),
    ("thread_states.py", [["--json"], []]),
]

RECORD_TIMEOUT = 30.0
DUMP_TIMEOUT = 20.0
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_NOPROC, EXIT_PERM, EXIT_NOTPY = range(6)

# Targets need a UTF-8 file system encoding (unicode_names.py) also on 3.6,
# where the C locale is not coerced; nothing of theirs may land in srcdir.
TARGET_ENV = dict(os.environ, LC_ALL="C.UTF-8")
TARGET_FLAGS = ["-E", "-s", "-B"]


# --------------------------------------------------------------------------
# reporting

class Report(object):
    def __init__(self):
        self.counts = {"ok": 0, "FAIL": 0, "SKIP": 0}
        self.current = None     # the interpreter whose checks run now
        self.per_interp = {}    # label -> counts, in order

    def line(self, kind, what, details=None):
        self.counts[kind] += 1
        if self.current is not None:
            self.per_interp.setdefault(
                self.current, {"ok": 0, "FAIL": 0, "SKIP": 0})[kind] += 1
        out = ["%s - %s" % (kind, what)]
        for d in details or []:
            out.extend("    " + s for s in str(d).splitlines())
        print("\n".join(out), flush=True)

    def ok(self, what):
        self.line("ok", what)

    def fail(self, what, details=None):
        self.line("FAIL", what, details)

    def skip(self, what):
        self.line("SKIP", what)

    def check(self, what, problems):
        if problems:
            self.fail(what, problems)
        else:
            self.ok(what)

    def note(self, text):
        print("# " + text, flush=True)


# --------------------------------------------------------------------------
# processes: everything started goes into its own process group, and every
# group is killed on the way out, whatever happens.

_live = []
_serial = [0]


def serial():
    _serial[0] += 1
    return _serial[0]


def spawn(argv, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    _live.append(p)
    return p


def kill(p):
    if p.poll() is None:         # not reaped: the pid is still ours
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for f in (p.stdin, p.stdout, p.stderr):
        if f is not None:
            f.close()
    if p in _live:
        _live.remove(p)


def kill_all():
    for p in list(_live):
        kill(p)


class Result(object):
    def __init__(self, argv, rc, out, err, timed_out, seconds):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.timed_out, self.seconds = timed_out, seconds

    @property
    def text_err(self):
        return self.err.decode("utf-8", "replace")

    @property
    def crashed(self):
        return self.rc is not None and (self.rc < 0 or self.rc >= 128)

    def describe(self):
        lines = ["command: %s" % " ".join(self.argv)]
        if self.timed_out:
            lines.append("timed out after %.1f s (killed)" % self.seconds)
        else:
            lines.append("exit status: %s%s" % (
                self.rc, " (signal %d)" % -self.rc if self.rc < 0 else ""))
        if self.err:
            lines.append("stderr: " + self.text_err.rstrip()[:2000])
        return lines


_timeouts = [0]


def run(argv, timeout=DUMP_TIMEOUT, env=None, cwd=None):
    if _timeouts[0]:
        # Something already hung: do not let every later case hang as long.
        timeout = min(timeout, 5.0)
    t0 = time.monotonic()
    p = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
              cwd=cwd)
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill(p)
        out, err, timed_out = b"", b"", True
        _timeouts[0] += 1
    finally:
        kill(p)
    return Result(argv, p.returncode, out, err, timed_out,
                  time.monotonic() - t0)


def snakescope(*args, **kw):
    return run([SNAKESCOPE] + [str(a) for a in args], **kw)


def wait_until(pred, timeout, interval=0.005):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def proc_state(path):
    """State letter from a /proc/.../stat file, or None if it is gone."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:][:1].decode()


def task_states(pid):
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return {}
    states = {}
    for tid in tids:
        s = proc_state("/proc/%d/task/%s/stat" % (pid, tid))
        if s is not None:
            states[int(tid)] = s
    return states


def stopped_tasks(pid):
    return sorted(t for t, s in task_states(pid).items() if s in "tT")


def one_error_line(res, must_contain=()):
    """Problems with a failing run's stderr (one 'snakescope: ' line)."""
    text = res.text_err
    lines = text.splitlines()
    problems = []
    if len(lines) != 1 or not lines[0].startswith("snakescope: "):
        problems.append("stderr should be exactly one line starting with "
                        "'snakescope: ', got: %r" % text)
    for pat in must_contain:
        if not re.search(pat, text, re.I):
            problems.append("stderr should match /%s/, got: %r" % (pat, text))
    return problems


def expect_exit(res, codes, must_contain=()):
    if res.timed_out or res.rc not in codes:
        return ["expected exit status %s" % " or ".join(map(str, codes))] \
            + res.describe()
    if res.rc != EXIT_OK:
        return one_error_line(res, must_contain)
    return []


# --------------------------------------------------------------------------
# targets

class TargetError(Exception):
    pass


class Target(object):
    """A target script running under one interpreter, until kill().

    By default `INTERP -E -s -B TARGETS/SCRIPT RECORD EXTRA...`; 'cmd'
    replaces everything before RECORD (another way of starting it)."""

    def __init__(self, interp, script, workdir, extra=(), cmd=None,
                 env=None, cwd=None):
        self.script = script
        base = os.path.join(workdir, "%s-%d" % (script[:-3], serial()))
        self.record_path = base + ".json"
        self.err_path = base + ".stderr"
        self.extra = list(extra)
        self.record = None
        # an interpreter whose `-m asyncio pstree` can read this target
        self.pstree_interp = interp if cmd is None and re.search(
            r"python3\.(1[4-9]|[2-9]\d)d?$", interp) else None
        if cmd is None:
            cmd = [interp] + TARGET_FLAGS + [os.path.join(TARGETS, script)]
        with open(self.err_path, "wb") as err:
            self.proc = spawn(cmd + [self.record_path] + self.extra,
                              stderr=err, env=env or TARGET_ENV, cwd=cwd)
        self.pid = self.proc.pid
        self.started = time.monotonic()

    def stderr(self):
        try:
            with open(self.err_path, "rb") as f:
                text = f.read().decode("utf-8", "replace").strip()
                return text if len(text) < 2000 else "..." + text[-2000:]
        except OSError:
            return ""

    def ready(self):
        """Wait for the record and for the recorder thread to be gone."""
        deadline = self.started + RECORD_TIMEOUT
        while not os.path.exists(self.record_path):
            rc = self.proc.poll()
            if rc is not None:
                raise TargetError("%s exited with status %s before recording"
                                  "\nstderr: %s" % (self.script, rc,
                                                    self.stderr()))
            if time.monotonic() > deadline:
                raise TargetError("%s wrote no record within %gs\nstderr: %s"
                                  % (self.script, RECORD_TIMEOUT,
                                     self.stderr()))
            time.sleep(0.005)
        with open(self.record_path) as f:
            self.record = json.load(f)
        if self.record["pid"] != self.pid:
            raise TargetError("record pid %s != %d" % (self.record["pid"],
                                                        self.pid))
        tid = self.record.get("recorder_native_id")
        want = len(self.record.get("threads", ()))
        task = "/proc/%d/task" % self.pid
        if tid is not None:
            gone = lambda: not os.path.exists("%s/%d" % (task, tid))
        else:
            gone = lambda: len(os.listdir(task)) <= want
        if not wait_until(gone, max(1.0, deadline - time.monotonic())):
            raise TargetError("the recorder thread did not exit")
        return self.record

    def kill(self):
        kill(self.proc)


# --------------------------------------------------------------------------
# comparing a dump with a record

def frame_tuples(frames):
    return [(f.get("function"), f.get("filename"), f.get("line"))
            for f in frames]


def fmt_frames(frames):
    return ["%s  %s:%s" % f for f in frames]


def frames_diff(exp, got, compare):
    """None if they match, else lines that show the difference."""
    if compare == "outer":
        ok = (len(got) >= 1 and len(exp) >= 1 and got[0][0] == exp[0][0]
              and got[1:] == exp[1:])
        if ok:
            return None
        # Show the busy frame's line as '*' on both sides: it is not compared.
        exp = [(exp[0][0], exp[0][1], "*")] + exp[1:] if exp else exp
        got = [(got[0][0], got[0][1], "*")] + got[1:] if got else got
    elif exp == got:
        return None
    diff = list(difflib.unified_diff(fmt_frames(exp), fmt_frames(got),
                                     "expected (record)", "got (snakescope)",
                                     n=2, lineterm=""))
    if len(diff) > 60:
        diff = diff[:60] + ["... (%d more diff lines)" % (len(diff) - 60)]
    return ["frames (innermost first; %d expected, %d got)%s:"
            % (len(exp), len(got),
               ", busy frame's line not compared" if compare == "outer"
               else "")] + ["  " + d for d in diff]


def compare_dump(record, doc, opts=("--json",)):
    problems = []
    if not isinstance(doc, dict):
        return ["output is not a JSON object"]
    # The verdict a target states, else a deadlock for the await cycles an
    # asyncio target says it built, else none.
    verdict = record.get("verdict") or (
        "deadlock" if record.get("cycles") else "none")
    if doc.get("verdict") != verdict:
        problems.append("verdict: expected %r, got %r; locks %r, hangs %r"
                        % (verdict, doc.get("verdict"), doc.get("locks"),
                           doc.get("hangs")))
    if doc.get("pid") != record["pid"]:
        problems.append("pid: expected %r, got %r" % (record["pid"],
                                                      doc.get("pid")))
    py = doc.get("python")
    if not isinstance(py, dict):
        problems.append("python: expected an object, got %r" % (py,))
    else:
        if py.get("version") != record["version"]:
            problems.append("python.version: expected %r, got %r"
                            % (record["version"], py.get("version")))
        if not isinstance(py.get("executable"), str):
            problems.append("python.executable: expected a string, got %r"
                            % (py.get("executable"),))
        if not (py.get("libpython") is None
                or isinstance(py.get("libpython"), str)):
            problems.append("python.libpython: expected string or null, "
                            "got %r" % (py.get("libpython"),))
        if py.get("warning") is not None:
            problems.append("python.warning: expected null for a known "
                            "version, got %r" % (py.get("warning"),))
    threads = doc.get("threads")
    if not isinstance(threads, list):
        return problems + ["threads: expected a list, got %r" % (threads,)]
    if "tasks" in record:
        problems.extend(tasks_check.compare_tasks(record, doc))
    if "threads" not in record:
        return problems

    # A thread is (interpreter id, thread id): an OS thread running in a
    # sub-interpreter has a thread state in each interpreter it entered.
    got = {}
    for t in threads:
        key = (t.get("interpreter_id"), t.get("thread_id")) \
            if isinstance(t, dict) else None
        if key in got:
            problems.append("thread (interpreter, thread_id) %r listed "
                            "twice" % (key,))
        got[key] = t
    exp = dict(((t.get("interpreter_id", 0), t["thread_id"]), t)
               for t in record["threads"])
    missing = sorted(set(exp) - set(got))
    extra = sorted(set(got) - set(exp), key=str)
    for key in missing:
        problems.append("missing thread %r (interpreter %d, thread_id %d, "
                        "native_id %s)" % (exp[key]["name"], key[0], key[1],
                                           exp[key]["native_id"]))
    for key in extra:
        t = got[key]
        problems.append("unexpected thread %r (interpreter %r, thread_id %r,"
                        " native_id %r)" % (t.get("name"), key[0], key[1],
                                            t.get("native_id")))
    holders = [t for t in threads
               if isinstance(t, dict) and t.get("holds_gil") is True]
    if len(holders) > 1:
        problems.append("%d threads hold the GIL: %s" % (
            len(holders), ", ".join(repr(t.get("name")) for t in holders)))
    for t in threads:
        if isinstance(t, dict) and not isinstance(t.get("holds_gil"), bool):
            problems.append("thread %r: holds_gil is %r, not a bool"
                            % (t.get("name"), t.get("holds_gil")))

    for key in sorted(set(exp) & set(got)):
        e, g = exp[key], got[key]
        tid = key[1]
        lines = []
        if e["native_id"] is not None and g.get("native_id") != e["native_id"]:
            lines.append("native_id: expected %r, got %r"
                         % (e["native_id"], g.get("native_id")))
        if g.get("name") != e["name"]:
            lines.append("name: expected %r, got %r" % (e["name"],
                                                        g.get("name")))
        gf = g.get("frames")
        if not isinstance(gf, list) or not all(isinstance(f, dict)
                                               for f in gf):
            lines.append("frames: expected a list of objects, got %r"
                         % (gf,))
        else:
            d = frames_diff(frame_tuples(e["frames"]), frame_tuples(gf),
                            e["compare"])
            if d:
                lines.extend(d)
        if lines:
            problems.append("thread %r (thread_id %d):" % (e["name"], tid))
            problems.extend("  " + s for s in lines)
    problems.extend(frames_check.compare_frame_details(record, doc, opts))
    problems.extend(frames_check.compare_states(record, doc, opts))
    return problems


def text_tasks_problems(record, opts, out):
    """The text dump of an asyncio target: every task once (tree: a
    "(T) NAME 0xID" node; table: a row with the id), an "Async deadlock"
    block naming the tasks of each recorded cycle, and none otherwise."""
    problems = []
    table = "--tasks=table" in opts
    for t in record["tasks"]:
        if table:
            n = len(re.findall(r"^\S+\s+%x\s" % t["id"], out, re.M))
        else:
            n = out.count("(T) %s 0x%x " % (t["name"], t["id"]))
        if n < 1:
            problems.append("task %r (0x%x) not shown" % (t["name"], t["id"]))
    blocks = re.findall(r"^Async deadlock: .*\n((?:  .*\n)+)", out, re.M)
    if len(blocks) != len(record.get("cycles", [])):
        problems.append("%d 'Async deadlock' blocks, expected %d"
                        % (len(blocks), len(record.get("cycles", []))))
    names = dict((t["id"], t["name"]) for t in record["tasks"])
    for cycle in record.get("cycles", []):
        want = set('"%s" (0x%x)' % (names[i], i) for i in cycle)
        if not any(all(w in b for w in want) for b in blocks):
            problems.append("no deadlock block names all of %s"
                            % sorted(want))
    if problems:
        problems.append("output (first 40 lines):")
        problems.extend("  " + ln for ln in out.splitlines()[:40])
    return problems


def compare_with_pstree(target, doc):
    """3.14+: the tree must match the interpreter's own `python -m asyncio
    pstree PID` (run against the same, still parked, target)."""
    res = run([target.pstree_interp, "-m", "asyncio", "pstree",
               str(target.pid)], timeout=60)
    if res.timed_out or res.rc != 0:
        return ["python -m asyncio pstree failed"] + res.describe()
    return ["vs python -m asyncio pstree: " + p for p in
            tasks_check.compare_pstree(res.out.decode("utf-8", "replace"),
                                       doc)]


def dump_and_compare(target, opts, env=None):
    """Problems found dumping a ready target with `dump OPTS PID`."""
    res = snakescope("dump", *(opts + [target.pid]), env=env)
    if res.timed_out or res.rc != EXIT_OK:
        return ["expected exit status 0"] + res.describe()
    if "--json" not in opts:
        out = res.out.decode("utf-8", "replace")
        problems = []
        if "tasks" in target.record:
            problems.extend(text_tasks_problems(target.record, opts, out))
        if "threads" in target.record:
            problems.extend(frames_check.text_frame_problems(target.record,
                                                             out))
    else:
        try:
            doc = json.loads(res.out.decode("utf-8"))
        except ValueError as e:
            return ["output is not valid UTF-8 JSON: %s" % e,
                    "stdout: %r" % res.out[:500]] + res.describe()
        problems = compare_dump(target.record, doc, opts)
        if target.record.get("pstree") and target.pstree_interp:
            problems.extend(compare_with_pstree(target, doc))
    # A dump, paused or not, must leave no thread stopped.
    if not wait_until(lambda: not stopped_tasks(target.pid), 1.0):
        problems.append("target left stopped after the dump: %s"
                        % task_states(target.pid))
    if target.proc.poll() is not None:
        problems.append("target died during the dump (status %s)"
                        % target.proc.returncode)
    return problems


# --------------------------------------------------------------------------
# interpreters

def discover():
    cands = glob.glob("/root/.pyenv/versions/*/bin/python")
    cands += [p for p in glob.glob("/usr/bin/python3.[0-9]*")
              if re.search(r"/python3\.\d+$", p)]
    cands += [p for p in glob.glob("/opt/py/*/bin/python3*")
              if re.search(r"/python3(\.\d+d?)?$", p)]
    found, seen = [], set()
    for p in sorted(cands):
        if not (os.path.isfile(p) and os.access(p, os.X_OK)):
            continue
        real = os.path.realpath(p)
        if real in seen:
            continue
        seen.add(real)
        found.append(p)
    return found


def interp_version(path):
    try:
        out = subprocess.run(
            [path] + TARGET_FLAGS + ["-c", "import sys; "
                                     "sys.stdout.write(sys.version.split()[0])"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
            env=TARGET_ENV)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if out.returncode != 0:
        return None, out.stderr.decode("utf-8", "replace").strip()
    return out.stdout.decode().strip(), None


def major_minor(version):
    m = re.match(r"(\d+)\.(\d+)", version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def supported_versions(report):
    """The major.minor ranges `snakescope --version` claims, e.g.
    [((2, 7), (2, 7)), ((3, 6), (3, 15))], or None."""
    res = snakescope("--version", timeout=10)
    if res.timed_out or res.rc != 0:
        report.fail("snakescope --version", res.describe())
        return None
    out = res.out.decode("utf-8", "replace")
    m = re.search(r"^supported: CPython (.*)$", out, re.M)
    ranges = []
    for part in (m.group(1).split(", ") if m else []):
        r = re.match(r"^(\d+)\.(\d+)(?:-(\d+)\.(\d+))?$", part)
        if not r:
            ranges = []
            break
        lo = (int(r.group(1)), int(r.group(2)))
        hi = (int(r.group(3)), int(r.group(4))) if r.group(3) else lo
        ranges.append((lo, hi))
    if not out.startswith("snakescope ") or not ranges:
        report.fail("snakescope --version", [
            "expected 'snakescope X.Y.Z' first and a line "
            "'supported: CPython A.B[-C.D], ...', got: %r" % out])
        return None
    report.ok("snakescope --version: %s" % out.splitlines()[0])
    return ranges


def in_ranges(mm, ranges):
    return any(lo <= mm <= hi for lo, hi in ranges)


# Targets that cannot run on some interpreters, and why.
def target_unavailable(script, mm):
    if script == "unicode_names.py" and mm < (3, 0):
        return "non-ASCII identifiers need Python 3"
    if script == "subinterpreters.py" and mm < (3, 12):
        return "no sub-interpreter module before 3.12"
    if script.startswith("async_") and mm < (3, 8):
        return "asyncio tasks are read from 3.8"
    return None


# --------------------------------------------------------------------------
# the cases

def check_interpreter(report, interp, version, workdir, only):
    label = "%s %s" % (version, interp)
    targets = []
    try:
        for script, dumps in TARGET_DUMPS:
            if only and script[:-3] not in only and script not in only:
                continue
            why = target_unavailable(script, major_minor(version))
            if why:
                report.skip("%s: %s: %s" % (label, script, why))
                continue
            extra = [os.path.join(workdir, "counter-%d" % serial())] \
                if script == "heartbeat.py" else []
            targets.append((Target(interp, script, workdir, extra), dumps))
        for target, dumps in targets:
            try:
                target.ready()
            except TargetError as e:
                report.fail("%s: %s: target ready" % (label, target.script),
                            [str(e)])
                continue
            for opts in dumps:
                report.check("%s: %s: dump %s" % (label, target.script,
                                                  " ".join(opts)),
                             dump_and_compare(target, opts))
            target.kill()
    finally:
        for target, _ in targets:
            target.kill()


# --------------------------------------------------------------------------
# other ways a Python process comes to be: stripped binaries, -m, a venv,
# an env shebang, a C program embedding libpython

FACTS_CODE = r"""
import json, os, sys
maps = open('/proc/self/maps').read().split('\n')
paths = [l.split(None, 5)[5] for l in maps if len(l.split(None, 5)) == 6]
def mapped(word):
    for p in paths:
        if word in os.path.basename(p):
            return p
try:
    import sysconfig
    inc = sysconfig.get_config_var('INCLUDEPY')
except ImportError:
    from distutils import sysconfig as sc
    inc = sc.get_python_inc()
try:
    import venv
    has_venv = True
except ImportError:
    has_venv = False
sys.stdout.write(json.dumps({
    'prefix': sys.prefix, 'exec_prefix': sys.exec_prefix,
    'include': inc, 'libpython': mapped('libpython'),
    'loader': mapped('ld-linux'), 'executable': os.path.realpath(sys.executable),
    'has_venv': has_venv}))
"""


def interp_facts(interp, env=None):
    out = subprocess.run([interp] + TARGET_FLAGS + ["-c", FACTS_CODE],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, env=env or TARGET_ENV)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode("utf-8", "replace"))
    return json.loads(out.stdout.decode("utf-8"))


def run_way(report, what, interp, workdir, dump_env=None, **target_kw):
    """Start threads.py one way, dump it, compare with its record."""
    t = ready_target(report, interp, "threads.py", workdir, what,
                     **target_kw)
    if t is None:
        return
    try:
        report.check(what, dump_and_compare(t, ["--json"], env=dump_env))
    finally:
        t.kill()


def tool(argv):
    """Run a helper tool; its error output, or None when it worked."""
    try:
        out = subprocess.run(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if out.returncode != 0:
        return out.stdout.decode("utf-8", "replace").strip() or \
            "exit status %d" % out.returncode
    return None


def drop_section_headers(path):
    """Zero e_shoff/e_shnum/e_shstrndx of an ELF64 file: the loader needs
    no section headers, and without them no symbol table is found."""
    with open(path, "r+b") as f:
        f.seek(0x28)            # e_shoff
        f.write(b"\0" * 8)
        f.seek(0x3c)            # e_shnum, e_shstrndx
        f.write(b"\0" * 4)


def stdlib_copy_dir(workdir, facts, exe_name):
    """A prefix-like directory for a copied static executable:
    D/bin/EXE, with D/lib/pythonX.Y linked to the real library, so that
    the copy finds its standard library the way the original does."""
    d = os.path.join(workdir, "copy-%d" % serial())
    os.makedirs(os.path.join(d, "bin"))
    os.makedirs(os.path.join(d, "lib"))
    libdir = os.path.join(facts["prefix"], "lib")
    for name in os.listdir(libdir):
        if name.startswith("python"):
            os.symlink(os.path.join(libdir, name), os.path.join(d, "lib", name))
    exe = os.path.join(d, "bin", exe_name)
    shutil.copy2(facts["executable"], exe)
    return exe


def strip_copy(exe, facts):
    """strip --strip-all, in place.  An executable rewritten by patchelf
    (tests/provision-pythons.sh keeps the pristine one as EXE.orig) does
    not survive strip: strip the original and redo the patchelf edit."""
    orig = facts["executable"] + ".orig"
    if not os.path.exists(orig):
        return tool(["strip", "--strip-all", exe])
    shutil.copy2(orig, exe)
    return tool(["strip", "--strip-all", exe]) or tool(
        ["patchelf", "--set-interpreter", facts["loader"], "--force-rpath",
         "--set-rpath", os.path.dirname(facts["loader"]), exe])


def check_ways(report, interp, version, workdir):
    label = "%s %s" % (version, interp)
    mm = major_minor(version)
    try:
        facts = interp_facts(interp)
    except (RuntimeError, OSError, ValueError,
            subprocess.TimeoutExpired) as e:
        report.fail("%s: interpreter facts" % label, [str(e)])
        return

    # Each fallback for finding the runtime, forced on the unstripped
    # process (the .PyRuntime section exists from 3.10 on).
    run_way(report, "%s: runtime found by scanning memory" % label, interp,
            workdir, dump_env=dict(os.environ, SNAKESCOPE_LOCATE="scan"))
    if mm >= (3, 10):
        run_way(report, "%s: runtime found by the .PyRuntime section"
                % label, interp, workdir,
                dump_env=dict(os.environ, SNAKESCOPE_LOCATE="section"))

    # Stripped binaries.
    if facts["libpython"]:
        lib = facts["libpython"]
        for how in ("strip --strip-all", "no section headers"):
            d = os.path.join(workdir, "stripped-%d" % serial())
            os.makedirs(d)
            copy = os.path.join(d, os.path.basename(lib))
            shutil.copy2(lib, copy)
            why = tool(["strip", "--strip-all", copy])
            if not why and how == "no section headers":
                drop_section_headers(copy)
            env = dict(TARGET_ENV, LD_LIBRARY_PATH=d)
            try:
                used = None if why else \
                    interp_facts(interp, env)["libpython"]
            except (RuntimeError, OSError, ValueError,
                    subprocess.TimeoutExpired) as e:
                why = "the interpreter does not start with it: %s" % e
            if why:
                report.fail("%s: libpython, %s" % (label, how), [why])
            elif used != copy:
                report.skip("%s: libpython, %s: LD_LIBRARY_PATH does not "
                            "override this executable's RPATH"
                            % (label, how))
            else:
                run_way(report, "%s: libpython copy, %s" % (label, how),
                        interp, workdir, env=env)
    else:
        for how in ("strip --strip-all", "no section headers"):
            exe = stdlib_copy_dir(workdir, facts,
                                  os.path.basename(facts["executable"]))
            why = strip_copy(exe, facts)
            if not why and how == "no section headers":
                drop_section_headers(exe)
            if why:
                report.fail("%s: %s" % (label, how), [why])
                continue
            run_way(report, "%s: executable copy, %s" % (label, how), exe,
                    workdir)

    # python -m module (sys.path[0] is the working directory).
    run_way(report, "%s: python -m threads" % label, interp, workdir,
            cmd=[interp] + TARGET_FLAGS + ["-m", "threads"], cwd=TARGETS)

    # A script with a "#!/usr/bin/env -S python3 ..." line, python3 in PATH.
    d = os.path.join(workdir, "shebang-%d" % serial())
    os.makedirs(os.path.join(d, "bin"))
    os.symlink(interp, os.path.join(d, "bin", "python3"))
    script = os.path.join(d, "run-threads")
    with open(script, "w") as f:
        f.write("#!/usr/bin/env -S python3 -E -s -B\n"
                "import runpy, sys\n"
                "sys.argv = [%r] + sys.argv[1:]\n"
                "sys.path.insert(0, %r)\n"
                "runpy.run_path(sys.argv[0], run_name='__main__')\n"
                % (os.path.join(TARGETS, "threads.py"), TARGETS))
    os.chmod(script, 0o755)
    env = dict(TARGET_ENV, PATH=os.path.join(d, "bin") + ":" +
               os.environ.get("PATH", "/usr/bin:/bin"))
    run_way(report, "%s: script with an env shebang" % label, interp,
            workdir, cmd=[script], env=env)

    # A venv: bin/python is a symlink to the interpreter.
    if not facts["has_venv"]:
        report.skip("%s: venv: no venv module" % label)
    else:
        venv = os.path.join(workdir, "venv-%d" % serial())
        why = tool([interp, "-E", "-m", "venv", "--without-pip", venv])
        if why:
            report.skip("%s: venv: cannot create one: %s"
                        % (label, why.splitlines()[-1]))
        else:
            py = os.path.join(venv, "bin", "python")
            run_way(report, "%s: venv python (%s)" % (
                label, "symlink" if os.path.islink(py) else "copy"),
                py, workdir)

    # A C program embedding the shared libpython.
    check_embedded(report, label, facts, workdir)


def include_flags(inc, facts, d):
    """Compiler flags for an interpreter's headers ('inc' as it reports
    them), or None without Python.h.  d: a scratch directory of ours."""
    if not os.path.isfile(os.path.join(inc or "", "Python.h")):
        # Relocated builds (Debian's, unpacked elsewhere) report the
        # include directory of their build prefix.
        inc = os.path.join(facts["prefix"], "include",
                           os.path.basename(inc or ""))
    if not os.path.isfile(os.path.join(inc, "Python.h")):
        return None
    flags = ["-isystem", inc]
    # Debian's pyconfig.h includes <x86_64-linux-gnu/pythonX.Y/pyconfig.h>.
    multiarch = os.path.join(os.path.dirname(inc), "x86_64-linux-gnu",
                             os.path.basename(inc))
    if os.path.isdir(multiarch):
        link = os.path.join(d, "x86_64-linux-gnu", os.path.basename(inc))
        if not os.path.exists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(multiarch, link)
        flags += ["-isystem", d]
    return flags


def check_embedded(report, label, facts, workdir):
    what = "%s: C program embedding libpython" % label
    lib = facts["libpython"]
    if not lib:
        report.skip("%s: libpython is linked into the executable" % what)
        return
    d = os.path.join(workdir, "embed-%d" % serial())
    os.makedirs(d)
    flags = include_flags(facts["include"], facts, d)
    if flags is None:
        report.skip("%s: no Python.h" % what)
        return
    libdir = os.path.dirname(lib)
    link = ["-L" + libdir, "-l:" + os.path.basename(lib),
            "-Wl,-rpath," + libdir, "-Wl,--allow-shlib-undefined"]
    loader = facts["loader"]
    if loader and os.path.realpath(loader) != \
            os.path.realpath("/lib64/ld-linux-x86-64.so.2"):
        link += ["-Wl,--dynamic-linker=" + loader, "-Wl,--disable-new-dtags"]
    host = os.path.join(d, "embed_host")
    why = tool(["cc", "-O1", "-o", host] + flags +
               [os.path.join(TARGETS, "embed_host.c")] + link)
    if why:
        report.fail(what, ["cannot build the host: " + why])
        return
    env = dict(TARGET_ENV, PYTHONHOME="%s:%s" % (facts["prefix"],
                                                 facts["exec_prefix"]))
    run_way(report, what, None, workdir,
            cmd=[host, os.path.join(TARGETS, "threads.py")], env=env)


# --------------------------------------------------------------------------
# targets that claim a version snakescope does not know: copies of a real
# interpreter whose Py_Version and _Py_DebugOffsets version are patched

def elf_vaddr_to_offset(data, vaddr):
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, off, va, _, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and va <= vaddr < va + filesz:   # PT_LOAD
            return off + vaddr - va
    return None


def patch_python_file(path, version_hex, new_hex, table_words=()):
    """Patch Py_Version and the debug table's version (and table words
    given as (index, value)) in an ELF file.  None, or why not."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+[48]\s+OBJECT\s+GLOBAL\s+\S+\s+"
                  r"\S+\s+Py_Version$", out.stdout.decode(), re.M)
    with open(path, "rb") as f:
        data = bytearray(f.read())
    cookie = b"xdebugpy" + struct.pack("<Q", version_hex)
    table = data.find(cookie)
    if not m or table < 0 or data.find(cookie, table + 1) >= 0:
        return "no unique Py_Version symbol and debug table in %s" % path
    pv = elf_vaddr_to_offset(data, int(m.group(1), 16))
    if pv is None or struct.unpack_from("<I", data, pv)[0] != version_hex:
        return "Py_Version of %s is not where the symbol says" % path
    struct.pack_into("<I", data, pv, new_hex)
    struct.pack_into("<Q", data, table + 8, new_hex)
    for index, value in table_words:
        struct.pack_into("<Q", data, table + 8 * index, value)
    with open(path, "wb") as f:
        f.write(data)
    return None


def check_version_claims(report, interps, workdir):
    """3.16.0a1 with a consistent 3.15-shaped table: read, with a warning.
    A table that does not read as the newest known shape, or a
    free-threaded flag: refused, naming the version."""
    usable = []
    for path, version, _ in interps:
        mm = version and major_minor(version)
        if not mm or mm < (3, 13):
            continue
        try:
            facts = interp_facts(path)
        except (RuntimeError, OSError, ValueError,
                subprocess.TimeoutExpired):
            continue
        if facts["libpython"] and "/.pyenv/" not in path:
            continue    # only pyenv's RUNPATH lets a patched copy be used
        usable.append((mm, path, version, facts))
    cases = [
        ((3, 15), "3.16.0a1 with a table of 3.15's shape: read with a "
         "warning", 0x031000a1, (), EXIT_OK, r"warning: Python 3\.16\.0a1"),
        ((3, 15), "3.16.0a1 whose thread_state size word is garbage: "
         "refused", 0x031000a1, ((22, 8),), EXIT_NOTPY,
         r"Python 3\.16\.0a1 is not supported"),
        ((3, 13), "3.16.0a1 with a table of 3.13's shape: refused",
         0x031000a1, (), EXIT_NOTPY, r"Python 3\.16\.0a1 is not supported"),
        ((3, 13), "free-threaded flag set: refused", None, ((2, 1),),
         EXIT_NOTPY, r"free-threaded"),
    ]
    for want, what, new_hex, words, rc, pattern in cases:
        cands = [u for u in usable if u[0] == want]
        if not cands:
            report.skip("%s: no CPython %d.%d whose copy can be patched"
                        % (what, want[0], want[1]))
            continue
        mm, interp, version, facts = cands[0]
        what = "%s (%s %s)" % (what, version, interp)
        hexv = (mm[0] << 24) | (mm[1] << 16) | \
            (int(version.split(".")[2]) << 8) | 0xf0
        env = TARGET_ENV
        if facts["libpython"]:
            d = os.path.join(workdir, "patched-%d" % serial())
            os.makedirs(d)
            target_file = os.path.join(d, os.path.basename(facts["libpython"]))
            shutil.copy2(facts["libpython"], target_file)
            env = dict(TARGET_ENV, LD_LIBRARY_PATH=d)
            exe = interp
        else:
            exe = target_file = stdlib_copy_dir(
                workdir, facts, os.path.basename(facts["executable"]))
        why = patch_python_file(target_file, hexv,
                                hexv if new_hex is None else new_hex, words)
        if why:
            report.fail(what, [why])
            continue
        t = ready_target(report, exe, "threads.py", workdir, what, env=env)
        if t is None:
            continue
        try:
            res = snakescope("dump", "--json", t.pid)
            problems = expect_exit(res, [rc], [pattern])
            if rc == EXIT_OK and not problems:
                problems = one_error_line(res, [pattern])
                doc = json.loads(res.out.decode("utf-8"))
                record = dict(t.record, version="3.16.0a1")
                problems += [p for p in compare_dump(record, doc)
                             if not p.startswith("python.warning")]
                if "3.16.0a1" not in (doc["python"].get("warning") or ""):
                    problems.append("python.warning should name 3.16.0a1, "
                                    "got %r" % doc["python"].get("warning"))
            report.check(what, problems)
        finally:
            t.kill()


def check_refusal(report, interp, version):
    what = "%s %s: unsupported (expected refusal)" % (version, interp)
    p = spawn([interp] + TARGET_FLAGS + [
        "-c", "import sys, time; sys.stdout.write('ready\\n'); "
        "sys.stdout.flush(); time.sleep(1000)"], stdout=subprocess.PIPE,
        env=TARGET_ENV)
    try:
        r, _, _ = select.select([p.stdout], [], [], 20)
        if not r or p.stdout.readline() != b"ready\n":
            report.fail(what, ["the interpreter did not start"])
            return
        mm = "%d\\.%d" % major_minor(version)
        report.check(what, expect_exit(snakescope("dump", p.pid), [EXIT_NOTPY],
                                       [r"\b%s\b" % mm]))
    finally:
        kill(p)


def ready_target(report, interp, script, workdir, what, extra=(), **kw):
    t = Target(interp, script, workdir, extra, **kw)
    try:
        t.ready()
    except TargetError as e:
        t.kill()
        report.fail(what, ["target not ready: %s" % e])
        return None
    return t


CONTENTION_DUMPS = 15
CONTENTION_TRIES = 40


def contention_problems(record, doc, paused):
    """Frames of an unpaused dump are either marked torn or consistent:
    a function of the target within its own lines, or threading's."""
    problems = []
    for t in doc.get("threads", []):
        frames = t.get("frames", [])
        if bool(t.get("torn")) != any(f.get("torn") for f in frames):
            problems.append("thread %r: torn is %r, but its frames say "
                            "otherwise" % (t.get("name"), t.get("torn")))
        if paused and t.get("torn"):
            problems.append("thread %r: torn in a paused dump"
                            % (t.get("name"),))
        for f in frames:
            if f.get("torn"):
                continue
            name, line = f.get("function"), f.get("line")
            span = record["functions"].get(name)
            if f.get("filename") == record["file"] and name != "<module>":
                ok = span and isinstance(line, int) and \
                    span[0] <= line <= span[1]
            else:
                ok = os.path.basename(f.get("filename", "")) in (
                    "threading.py", "contention.py") and \
                    isinstance(line, int) and line > 0
            if not ok:
                problems.append("thread %r: frame %r is neither marked "
                                "torn nor consistent" % (t.get("name"), f))
    return problems


def contention_dump(t, opts, problems):
    res = snakescope("dump", *(opts + [t.pid]))
    if res.timed_out or res.rc != EXIT_OK:
        problems.extend(["dump %s failed" % " ".join(opts)] + res.describe())
        return None
    doc = json.loads(res.out.decode("utf-8"))
    problems.extend(contention_problems(t.record, doc,
                                        "--no-pause" not in opts))
    return doc


def check_contention(report, interp, version, workdir):
    """Spinning threads: paused dumps see one of them wait for the GIL (a
    futex in the GIL) within CONTENTION_TRIES dumps (3.x: 2.7's threads
    mostly spin runnable around its GIL, a waiter is rare there).  A
    churning thread: CONTENTION_DUMPS unpaused dumps mark torn frames and
    never print garbage."""
    label = "%s %s: contention.py" % (version, interp)
    t = ready_target(report, interp, "contention.py", workdir, label)
    if t is None:
        return
    try:
        problems, tries, torn = [], 0, 0
        waiter = False
        while not waiter and tries < CONTENTION_TRIES:
            tries += 1
            doc = contention_dump(t, ["--json"], problems)
            waiter = doc is not None and any(
                th["state"]["gil"] == "waits" for th in doc["threads"])
        for i in range(CONTENTION_DUMPS):
            doc = contention_dump(t, ["--json", "--no-pause"], problems)
            torn += doc is not None and any(th.get("torn")
                                            for th in doc["threads"])
        if not waiter and not version.startswith("2."):
            problems.append("no paused dump of %d showed a thread waiting "
                            "for the GIL" % tries)
        report.check("%s: GIL waiters and torn reads" % label, problems[:20])
        report.note("%s: a GIL waiter %s after %d paused dumps, %d/%d "
                    "unpaused dumps had torn frames"
                    % (label, "seen" if waiter else "NOT seen", tries, torn,
                       CONTENTION_DUMPS))
    finally:
        t.kill()


DEADLOCK_SCENARIOS = ["two_locks", "three_cycle", "rlock_wait",
                      "condition_wait", "join_cycle", "import_wait",
                      "hang_chain", "self_lock", "async_locks", "healthy",
                      "blocked_loop", "blocked_loop_lock", "healthy_loop",
                      "executor_self", "executor_full", "executor_wait",
                      "healthy_pool", "loop_waits_itself",
                      "bridge_executor", "bridge_to_thread", "bridge_lock",
                      "healthy_bridges"]
EXIT_DEADLOCK, EXIT_LIKELY_HANG = 6, 7
VERDICT_EXIT = {"none": EXIT_OK, "deadlock": EXIT_DEADLOCK,
                "likely_hang": EXIT_LIKELY_HANG}


def deadlock_unavailable(scenario, mm):
    if scenario == "import_wait" and mm < (3, 0):
        return "2.7 has one import lock in C, not per-module _ModuleLocks"
    if scenario in ("async_locks", "blocked_loop", "blocked_loop_lock",
                    "healthy_loop", "loop_waits_itself", "bridge_executor",
                    "bridge_lock", "healthy_bridges") and mm < (3, 8):
        return "asyncio tasks are read from 3.8"
    if scenario == "bridge_to_thread" and mm < (3, 9):
        return ("asyncio.to_thread() is 3.9+"
                + ("" if mm >= (3, 8) else "; asyncio tasks are read "
                   "from 3.8"))
    if scenario in ("executor_self", "executor_full", "executor_wait",
                    "healthy_pool"):
        if mm < (3, 0):
            return "2.7 has no concurrent.futures"
        if mm < (3, 7):
            return ("3.6's ThreadPoolExecutor queues in a queue.Queue; "
                    "pools are read from 3.7 (queue.SimpleQueue)")
    return None


def settle_after_pause(t):
    """The previous command paused the target; its blocked threads then
    restart their system calls (running, state R, for a moment: longer on
    a loaded machine).  A hung process is looked at while its threads
    are blocked, so wait (up to 2 s) until none runs again, unless the
    scenario has threads that never block."""
    if t.record.get("verdict") == "none":
        return
    wait_until(lambda: all(s != "R" for s in task_states(t.pid).values()),
               2.0)


def deadlock_case(t, scenario):
    """Problems of one scenario: `dump --json` against the record, the
    text and exit status of `deadlock`, and `deadlock --json`."""
    problems = []
    res = snakescope("dump", "--json", t.pid)
    if res.timed_out or res.rc != EXIT_OK:
        return ["dump --json failed"] + res.describe()
    try:
        doc = json.loads(res.out.decode("utf-8"))
    except ValueError as e:
        return ["dump --json: not JSON: %s" % e]
    problems += deadlock_check.deadlock_problems(t.record, doc)
    want = VERDICT_EXIT[t.record["verdict"]]
    settle_after_pause(t)
    res = snakescope("deadlock", t.pid)
    if res.timed_out or res.rc != want:
        problems += ["deadlock: exit status %s, expected %d" % (res.rc, want)]
        problems += res.describe()
    else:
        problems += deadlock_check.text_problems(
            t.record, res.out.decode("utf-8", "replace"))
    settle_after_pause(t)
    res = snakescope("deadlock", "--json", t.pid)
    if res.timed_out or res.rc != want:
        problems += ["deadlock --json: exit status %s, expected %d"
                     % (res.rc, want)] + res.describe()
    else:
        try:
            doc = json.loads(res.out.decode("utf-8"))
            if doc.get("verdict") != t.record["verdict"]:
                problems.append("deadlock --json: verdict %r"
                                % doc.get("verdict"))
        except ValueError as e:
            problems.append("deadlock --json: not JSON: %s" % e)
    return problems


def check_deadlocks(report, interp, version, workdir):
    """Every scenario of deadlocks.py: the verdict, the cycle or hang
    chain, each lock's type, holder, where it was taken and its waiters,
    against what the target knows it did."""
    mm = major_minor(version)
    targets = []
    try:
        for scenario in DEADLOCK_SCENARIOS:
            label = "%s %s: deadlocks.py %s" % (version, interp, scenario)
            why = deadlock_unavailable(scenario, mm)
            if why:
                report.skip("%s: %s" % (label, why))
                continue
            targets.append((label, scenario, Target(
                interp, "deadlocks.py", workdir, [scenario])))
        for label, scenario, t in targets:
            try:
                t.ready()
            except TargetError as e:
                report.fail("%s: target ready" % label, [str(e)])
                continue
            report.check(label, deadlock_case(t, scenario))
            t.kill()
    finally:
        for _, _, t in targets:
            t.kill()


def check_bad_inputs(report, interp, workdir):
    # No such process: the pid of a child that has been reaped.
    p = spawn(["true"])
    p.wait()
    if os.path.exists("/proc/%d" % p.pid):
        report.skip("no such pid: pid %d was reused at once" % p.pid)
    else:
        report.check("no such pid -> exit 3",
                     expect_exit(snakescope("dump", p.pid), [EXIT_NOPROC]))

    # Not Python.
    p = spawn(["sleep", "1000"])
    try:
        report.check("sleep 1000 -> exit 5",
                     expect_exit(snakescope("dump", p.pid), [EXIT_NOTPY]))
    finally:
        kill(p)

    # A zombie: a forked child its parent never reaps.
    p = spawn([sys.executable, "-c",
               "import os, sys, time\n"
               "pid = os.fork()\n"
               "if pid == 0:\n    os._exit(0)\n"
               "sys.stdout.write('%d\\n' % pid); sys.stdout.flush()\n"
               "time.sleep(1000)\n"], stdout=subprocess.PIPE)
    try:
        zpid = int(p.stdout.readline())
        if wait_until(lambda: proc_state("/proc/%d/stat" % zpid) == "Z", 5):
            report.check("zombie -> exit 3, says zombie",
                         expect_exit(snakescope("dump", zpid), [EXIT_NOPROC],
                                     ["zombie"]))
        else:
            report.fail("zombie -> exit 3", ["child %d never became a zombie"
                                             % zpid])
    finally:
        kill(p)

    # Usage errors and help.
    for args in (["dump"], ["dump", "abc"], ["dump", "-5"],
                 ["dump", "--no-such-option", "1"], ["--no-such-option"],
                 ["no-such-command"]):
        report.check("snakescope %s -> exit 2" % " ".join(args),
                     expect_exit(snakescope(*args, timeout=10), [EXIT_USAGE]))
    for args in (["--help"], ["dump", "--help"], ["--version"]):
        res = snakescope(*args, timeout=10)
        problems = expect_exit(res, [EXIT_OK])
        if not problems and not res.out.strip():
            problems = ["nothing on stdout"]
        report.check("snakescope %s -> exit 0 and text" % " ".join(args),
                     problems)

    check_exiting_targets(report, interp)

    # One root-owned target for: a thread's TID, permission, SIGSTOP.
    t = ready_target(report, interp, "ten_threads.py", workdir,
                     "ten_threads.py for the TID/permission/SIGSTOP cases")
    if t is None:
        return
    try:
        tid = [th["native_id"] for th in t.record["threads"]
               if th["native_id"] not in (None, t.pid)][0]
        report.check("TID %d of pid %d -> exit 3, names pid" % (tid, t.pid),
                     expect_exit(snakescope("dump", tid), [EXIT_NOPROC],
                                 [r"\b%d\b" % t.pid]))
        check_permission(report, t)
        check_traced(report, t)
        check_sigstopped(report, t)
    finally:
        t.kill()


def check_exiting_targets(report, interp):
    """Dump short-lived targets again and again until they are gone, so that
    some reads overlap start-up, finalization and exit."""
    what = "targets exiting during the read (30 runs) -> exit 0, 3 or 5"
    code = ("import random, sys, threading, time\n"
            "for i in range(3):\n"
            "    t = threading.Thread(target=time.sleep, args=(1000,))\n"
            "    t.daemon = True\n"
            "    t.start()\n"
            "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
            "time.sleep(random.random() * 0.05)\n")
    problems, seen = [], {}
    for i in range(30):
        p = spawn([interp] + TARGET_FLAGS + ["-c", code],
                  stdout=subprocess.PIPE, env=TARGET_ENV)
        # Reap at once so that the pid vanishes instead of lingering as a
        # zombie of ours.
        threading.Thread(target=p.wait, daemon=True).start()
        if i % 2:       # half of the runs start dumping once it is ready
            select.select([p.stdout], [], [], 5)
        deadline = time.monotonic() + 10
        while True:
            res = snakescope("dump", p.pid, timeout=10)
            seen[res.rc] = seen.get(res.rc, 0) + 1
            if res.timed_out or res.crashed or res.rc not in (0, 3, 5):
                problems.append("run %d:" % i)
                problems.extend("  " + s for s in res.describe())
                break
            if res.rc != 0:
                problems.extend("run %d: %s" % (i, s)
                                for s in one_error_line(res))
            if res.rc == EXIT_NOPROC or time.monotonic() > deadline:
                break
        kill(p)
    if not problems:
        what += " (exit statuses seen: %s)" % ", ".join(
            "%s x%d" % kv for kv in sorted(seen.items(), key=str))
    report.check(what, problems)


def check_permission(report, t):
    what = "unprivileged user -> exit 4, mentions CAP_SYS_PTRACE"
    if os.geteuid() != 0:
        report.skip(what + ": needs root to start a root-owned target")
        return
    if shutil.which("setpriv") is None:
        report.skip(what + ": setpriv not found")
        return
    res = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               SNAKESCOPE, "dump", str(t.pid)])
    if res.rc in (126, 127) and b"setpriv" in res.err:
        report.skip(what + ": user nobody cannot execute %s (%s)"
                    % (SNAKESCOPE, res.text_err.strip()))
        return
    report.check(what, expect_exit(res, [EXIT_PERM], ["CAP_SYS_PTRACE"]))


# The other commands against a stopped target: (name, argv before the
# pid, a pattern its stdout (or, with "err:", stderr) must match).
STOPPED_RUNS = [
    ("dump", ["dump"], r"^Stopped \(SIGSTOP, job control or a debugger\): "
     r"read as it is, and left stopped$"),
    ("dump --native", ["dump", "--native"],
     r"no native stack: the target was stopped \(SIGSTOP\)"),
    ("record", ["record", "-d", "0.3", "-o", os.devnull],
     r"err:^snakescope: warning: process \d+ is stopped"),
    ("watch", ["watch", "--every", "0.1", "--count", "2"],
     r"(?s)dump 1$.*^Stopped .*dump 2$.*^Stopped "),
    ("top --once", ["top", "--once", "--refresh", "0.3"],
     r"^\s*\d+\s+\S+\s+stopped\s"),
]


TRACER_CODE = r'''
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
if libc.ptrace(0x4206, int(sys.argv[1]), None, None) != 0:  # PTRACE_SEIZE
    sys.stdout.write("error %d\n" % ctypes.get_errno())
else:
    sys.stdout.write("seized\n")
sys.stdout.flush()
time.sleep(60)
'''


def check_traced(report, t):
    """Another tracer (a debugger, strace) holds the main thread, without
    stopping it: a paused dump says who, and how to do without the pause;
    --no-pause works; the target runs on."""
    what = "target traced by another process -> exit 4, names the tracer"
    tracer = spawn([sys.executable, "-c", TRACER_CODE, str(t.pid)],
                   stdout=subprocess.PIPE)
    try:
        r, _, _ = select.select([tracer.stdout], [], [], 10)
        line = tracer.stdout.readline() if r else b""
        if line != b"seized\n":
            report.fail(what, ["the tracer could not seize: %r" % line])
            return
        report.check(what, expect_exit(
            snakescope("dump", t.pid), [EXIT_PERM],
            [r"traced by process %d \(python" % tracer.pid, "--no-pause"]))
        res = snakescope("dump", "--json", "--no-pause", t.pid)
        problems = expect_exit(res, [EXIT_OK])
        if stopped_tasks(t.pid):
            problems.append("target stopped: %s" % task_states(t.pid))
        report.check("target traced by another process: dump --no-pause "
                     "works", problems)
        # record --pause --idle samples the parked main thread too, but
        # off CPU it is read without a stop: no seize, no failure.
        res = snakescope("record", "--pause", "--idle", "-d", "0.3", "-o",
                         os.devnull, t.pid)
        problems = expect_exit(res, [EXIT_OK])
        if not problems and not re.search(r" 0 errors", res.text_err):
            problems.append("expected 0 errors: %r" % res.text_err)
        report.check("target traced by another process: record --pause "
                     "--idle reads its parked thread without a stop",
                     problems)
        # --native needs the registers: a stop, which the tracer's seize
        # refuses.
        res = snakescope("record", "--native", "--idle", "-d", "0.3", "-o",
                         os.devnull, t.pid)
        problems = expect_exit(res, [EXIT_OK])
        for pat in (r"^snakescope: warning: process %d: a sample failed: "
                    r".*traced by process %d \(python" % (t.pid, tracer.pid),
                    r"^snakescope: the first of the \d+ failed samples: "
                    r".*--no-pause\)$"):
            if not problems and not re.search(pat, res.text_err, re.M):
                problems.append("stderr should match /%s/, got: %r"
                                % (pat, res.text_err))
        report.check("target traced by another process: record --native "
                     "says why its samples fail, at once and at the end",
                     problems)
    finally:
        kill(tracer)


def check_sigstopped(report, t):
    """A target stopped before snakescope comes is read as it is, said to
    be stopped, and left exactly as stopped as it was: every task still
    in group-stop ('T'), none traced."""
    what = "target stopped with SIGSTOP: dump works, says so, target " \
        "stays stopped"
    os.kill(t.pid, signal.SIGSTOP)
    try:
        if not wait_until(lambda: len(stopped_tasks(t.pid))
                          == len(task_states(t.pid)) > 0, 2):
            report.fail(what, ["target did not stop: %s" % task_states(t.pid)])
            return
        problems = []
        res = snakescope("dump", "--json", t.pid)
        if res.timed_out or res.rc != EXIT_OK:
            problems = ["expected exit status 0"] + res.describe()
        else:
            try:
                doc = json.loads(res.out.decode("utf-8"))
                problems = compare_dump(t.record, doc)
                if doc.get("stopped") is not True:
                    problems.append('"stopped" is %r, expected true'
                                    % doc.get("stopped"))
            except ValueError as e:
                problems = ["output is not valid UTF-8 JSON: %s" % e]
        problems += still_stopped(t.pid, "dump")
        report.check(what, problems)
        for name, argv, pattern in STOPPED_RUNS:
            res = snakescope(*(argv + [t.pid]))
            problems = expect_exit(res, [EXIT_OK])
            text = res.text_err if pattern.startswith("err:") else \
                res.out.decode("utf-8", "replace")
            if not problems and not re.search(pattern.replace("err:", ""),
                                              text, re.M):
                problems.append("output should match /%s/:\n%s"
                                % (pattern, text[:2000]))
            problems += still_stopped(t.pid, name)
            report.check("stopped target: %s works, says so, leaves it "
                         "stopped" % name, problems)
    finally:
        os.kill(t.pid, signal.SIGCONT)
    if not wait_until(lambda: not stopped_tasks(t.pid), 2):
        report.fail("target resumes after SIGCONT",
                    ["still stopped: %s" % task_states(t.pid)])


def still_stopped(pid, after):
    """Problems unless every task of pid is group-stopped and untraced."""
    problems = []
    states = task_states(pid)
    running = sorted(tid for tid, s in states.items() if s != "T")
    if running or not states:
        problems.append("tasks no longer group-stopped ('T') after %s: %s"
                        % (after, dict((r, states[r]) for r in running)))
    for tid in states:
        try:
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                m = re.search(r"^TracerPid:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m and m.group(1) != "0":
            problems.append("task %d traced by %s after %s"
                            % (tid, m.group(1), after))
    return problems


def read_counter(path):
    try:
        with open(path) as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def check_signals(report, interp, workdir):
    env = dict(os.environ, SNAKESCOPE_TEST_HOLD_PAUSE_MS="3000")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        name = signal.Signals(sig).name
        what = "%s to snakescope while the target is paused: target resumes" \
            % name
        counter = os.path.join(workdir, "counter-%d" % serial())
        t = ready_target(report, interp, "heartbeat.py", workdir, what,
                         [counter])
        if t is None:
            continue
        s = None
        try:
            s = spawn([SNAKESCOPE, "dump", str(t.pid)], env=env)
            stat = "/proc/%d/stat" % t.pid
            if not wait_until(lambda: proc_state(stat) == "t"
                              or s.poll() is not None, 2):
                report.fail(what, ["target never entered ptrace-stop ('t') "
                                   "within 2 s (is SNAKESCOPE_TEST_HOLD_"
                                   "PAUSE_MS honoured?)"])
                continue
            if s.poll() is not None:
                report.fail(what, ["snakescope exited (status %s) before the "
                                   "target was seen paused" % s.returncode])
                continue
            os.kill(s.pid, sig)
            sent = time.monotonic()
            problems = []
            if not wait_until(lambda: not stopped_tasks(t.pid), 2):
                problems.append("target still stopped 2 s after %s: %s"
                                % (name, task_states(t.pid)))
            try:
                s.wait(timeout=max(0.1, sent + 3 - time.monotonic()))
            except subprocess.TimeoutExpired:
                problems.append("snakescope still running 3 s after %s" % name)
            c1 = read_counter(counter)
            if not wait_until(lambda: (read_counter(counter) or 0)
                              >= (c1 or 0) + 2, 2):
                problems.append("heartbeat stuck at %s" % c1)
            if t.proc.poll() is not None:
                problems.append("target died (status %s)" % t.proc.returncode)
            if not problems:
                what += " (snakescope exit status %s)" % s.returncode
            report.check(what, problems)
        finally:
            if s is not None:
                kill(s)
            t.kill()


def ptrace_usable():
    """None if a sibling process may ptrace one of our children, else why."""
    victim = spawn(["sleep", "60"])
    probe = ("import ctypes, os, sys\n"
             "libc = ctypes.CDLL(None, use_errno=True)\n"
             "libc.ptrace.restype = ctypes.c_long\n"
             "libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, "
             "ctypes.c_void_p, ctypes.c_void_p]\n"
             "r = libc.ptrace(0x4206, int(sys.argv[1]), None, None)\n"
             "sys.stdout.write(str(0 if r == 0 else ctypes.get_errno()))\n")
    try:
        res = run([sys.executable, "-c", probe, str(victim.pid)], timeout=20)
    finally:
        kill(victim)
    err = int(res.out or b"0")
    if err in (1, 13, 38):      # EPERM, EACCES, ENOSYS
        scope = "?"
        try:
            with open("/proc/sys/kernel/yama/ptrace_scope") as f:
                scope = f.read().strip()
        except OSError:
            pass
        return "PTRACE_SEIZE of a sibling process fails: %s " \
            "(uid %d, yama ptrace_scope %s)" % (os.strerror(err),
                                                 os.geteuid(), scope)
    return None


def interp_checks(report, path, version, workdir, only, first, stale,
                  heavy):
    """The checks run on each supported interpreter, in order, as (name,
    thunk) pairs; --target NAME runs only those named (the targets
    check_interpreter dumps are chosen by the same names).  heavy: None,
    or the interpreter that stands for this one in HEAVY_CHECKS (see
    representatives), which then do not run here."""
    me = sys.modules[__name__]

    def elsewhere(name):
        return lambda: report.skip(
            "%s %s: %s: run on %s, which has the same layouts (HEAVY_CHECKS;"
            " --heavy-everywhere runs them here too)"
            % (version, path, name, heavy))

    checks = [
        ("targets", lambda: check_interpreter(report, path, version,
                                              workdir, only)),
        ("contention", lambda: check_contention(report, path, version,
                                                workdir)),
        ("deadlocks", lambda: check_deadlocks(report, path, version,
                                              workdir)),
        ("fdwait", lambda: fdwait_check.check_fdwait(
            report, path, version, workdir, me)),
        ("procwait", lambda: procwait_check.check_procwait(
            report, path, version, workdir, me)),
        ("record", lambda: record_check.check_record(
            report, path, version, workdir, me)),
        ("taskstack", lambda: taskstack_check.check_taskstack(
            report, path, version, workdir, me)),
        ("flame", lambda: flame_check.check_flame_browser(
            report, path, version, workdir, me, first=first)),
        ("fleet", lambda: fleet_check.check_fleet(
            report, path, version, workdir, me)),
        ("top", lambda: top_check.check_top(
            report, path, version, workdir, me)),
        ("topprocs", lambda: top_check.check_top_procs(
            report, path, version, workdir, me)),
        ("stall", lambda: stall_check.check_stall(
            report, path, version, workdir, me)),
        ("summary", lambda: summary_check.check_summary(
            report, path, version, workdir, me)),
        ("gil", lambda: gil_check.check_gil(
            report, path, version, workdir, me)),
        ("habits", lambda: habits_check.check_habits(
            report, path, version, workdir, me)),
        ("native", lambda: native_check.check_native(
            report, path, version, workdir, me)),
        ("nonstop", lambda: nonstop_check.check_nonstop(
            report, path, version, workdir, me)),
        ("hostile", lambda: hostile_check.check_hostile(
            report, path, version, workdir, me)),
        ("container", lambda: container_check.check_container(
            report, path, version, workdir, me)),
        ("core", lambda: core_check.check_core(
            report, path, version, workdir, me)),
        ("snapshot", lambda: snapshot_check.check_snapshot(
            report, path, version, workdir, me)),
        ("boundary", lambda: boundary_check.check_boundary(
            report, path, version, workdir, me)),
        ("stress", lambda: stress_check.check_stress(
            report, path, version, workdir, me, first=first,
            stale=stale)),
        ("thousands", lambda: thousands_check.check_thousands(
            report, path, version, workdir, me)),
        ("groups", lambda: groups_check.check_groups(
            report, path, version, workdir, me)),
        ("procs", lambda: procs_check.check_procs(
            report, path, version, workdir, me)),
        ("watchprocs", lambda: watchprocs_check.check_watch_procs(
            report, path, version, workdir, me)),
        ("merge", lambda: merge_check.check_merge(
            report, path, version, workdir, me)),
        ("access", lambda: access_check.check_access(
            report, path, version, workdir, me)),
    ]
    if heavy is None:
        return checks
    # first and stale carry stress cases of their own: those run anyway
    return [(name, elsewhere(name) if name in HEAVY_CHECKS and
             not (name == "stress" and (first or stale)) else thunk)
            for name, thunk in checks]


def run_checks(report, timings, only, checks):
    """Run each (name, thunk) of checks that only (a list of names, or
    None for all) lets through -- "targets" always runs, it narrows
    itself -- adding the seconds each took to timings[name], so that the
    summary shows where the suite's time goes."""
    for name, thunk in checks:
        if only and name != "targets" and name not in only:
            continue
        t = time.monotonic()
        thunk()
        timings[name] = timings.get(name, 0.0) + time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interp", action="append", default=[],
                    help="only interpreters whose path or version contains "
                    "this (repeatable)")
    ap.add_argument("--target", action="append", default=[],
                    help="only this target script, e.g. deep (repeatable)")
    ap.add_argument("--no-misc", action="store_true",
                    help="skip the bad-input, signal, SIGSTOP, privilege "
                    "and static-binary cases")
    ap.add_argument("--no-ways", action="store_true",
                    help="skip stripped copies, -m, venv, shebang and "
                    "embedding")
    ap.add_argument("--heavy-everywhere", action="store_true",
                    help="run the checks of snakescope's own mechanisms (%s) "
                    "on every interpreter, not on one of each layout"
                    % ", ".join(HEAVY_CHECKS))
    args = ap.parse_args()

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t0 = time.monotonic()
    report = Report()
    timings = {}        # check name -> seconds, over every interpreter
    interp_time = {}    # interpreter label -> seconds
    workdir = tempfile.mkdtemp(prefix="snakescope-live-")
    os.chmod(workdir, 0o755)
    try:
        report.note("snakescope: %s" % SNAKESCOPE)
        report.note("targets: %s" % TARGETS)
        if not os.path.isfile(SNAKESCOPE):
            report.fail("snakescope binary exists",
                        ["%s not found (set SNAKESCOPE)" % SNAKESCOPE])
            return summary(report, t0)
        why = ptrace_usable()
        if why is not None:
            print("SKIP - ptrace unavailable: %s" % why, flush=True)
            return 77
        ranges = supported_versions(report)
        if ranges is None:
            return summary(report, t0)
        report.note("supported: %s" % ", ".join(
            "%d.%d" % lo if lo == hi else "%d.%d-%d.%d" % (lo + hi)
            for lo, hi in ranges))

        interps = []
        for path in discover():
            version, err = interp_version(path)
            interps.append((path, version, err))
        interps.sort(key=lambda i: (major_minor(i[1] or "0.0") or (0, 0),
                                    i[0]))
        report.note("interpreters found:")
        for path, version, err in interps:
            report.note("  %-10s %s%s" % (
                version or "?", path,
                "" if os.path.realpath(path) == path
                else "  -> " + os.path.realpath(path)))
        found = set(p for p, _, _ in interps)
        for path in EXPECTED:
            if path not in found:
                report.skip("interpreter %s: not found" % path)
        interps = [(p, v, e) for p, v, e in interps
                   if not args.interp or any(s in p or (v and s in v)
                                             for s in args.interp)]

        first = None
        stale = stale_interpreters(interps, ranges)
        reps = representatives(interps, ranges)
        for path, version, err in interps:
            report.current = "%s %s" % (version or "?", path)
            started = time.monotonic()
            if version is None:
                report.skip("interpreter %s: does not run: %s" % (path, err))
                continue
            mm = major_minor(version)
            if mm is None:
                report.skip("interpreter %s: cannot parse version %r"
                            % (path, version))
            elif not in_ranges(mm, ranges):
                check_refusal(report, path, version)
            else:
                if first is None and mm >= (3, 8):
                    first = path
                run_checks(report, timings, args.target,
                           interp_checks(report, path, version, workdir,
                                         args.target, first=path == first,
                                         stale=path in stale,
                                         heavy=None if args.heavy_everywhere
                                         else reps.get(path)))
                if not args.no_ways:
                    run_checks(report, timings, None, [
                        ("ways", lambda: check_ways(report, path, version,
                                                    workdir))])
            interp_time[report.current] = time.monotonic() - started

        report.current = None
        if not args.no_ways:
            check_version_claims(report, [i for i in interps if i[1]],
                                 workdir)
        if args.no_misc:
            pass
        elif first is None:
            report.skip("bad-input, signal and static-binary cases: no "
                        "supported interpreter found")
        else:
            report.note("bad-input and signal cases use %s" % first)
            me = sys.modules[__name__]
            supported = [(p, v) for p, v, _ in interps if v and
                         major_minor(v) and in_ranges(major_minor(v), ranges)]
            run_checks(report, timings, None, [
                ("bad-input", lambda: check_bad_inputs(report, first,
                                                       workdir)),
                ("signals", lambda: check_signals(report, first, workdir)),
                ("static", lambda: static_check.check_static(
                    report, me, first, workdir)),
                ("privileges", lambda: privs_check.check_privileges(
                    report, me, supported, first, workdir)),
            ])
        return summary(report, t0, timings, interp_time)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 1
    finally:
        kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
        privs_check.remove_user()


# The checks of snakescope's own mechanisms rather than of how it reads an
# interpreter's layouts -- its limits (5,000 threads), targets that churn
# threads, fork and exit at random, the fleet formats' writers, habits of
# the command line, watch --on-stall's state machine, top and watch of
# several processes -- run on one interpreter of each layout (see
# representatives), which keeps the suite short; what they read of a
# target is checked on every interpreter by the others.
HEAVY_CHECKS = ("thousands", "stress", "fleet", "habits", "stall",
                "topprocs", "watchprocs")


def representatives(interps, ranges):
    """{path: the path that stands for it} for each supported interpreter
    that is not its layout's representative.  A layout is a minor
    version, and 3.6 to 3.10 (frame objects, the same thread list) are
    one; its representative is the newest of them, of that version the
    shortest path (the plain build: /opt/py/3.14 before 3.14-dbg and
    3.14-shared).  Every other check runs on every interpreter."""
    groups = {}
    for path, v, _ in interps:
        mm = v and major_minor(v)
        if not mm or not in_ranges(mm, ranges):
            continue
        key = (3, 10) if (3, 6) <= mm <= (3, 10) else mm
        groups.setdefault(key, []).append((mm, path))
    reps = {}
    for members in groups.values():
        best = min(members, key=lambda m: (tuple(-x for x in m[0]),
                                           len(m[1]), m[1]))
        for _, path in members:
            if path != best[1]:
                reps[path] = best[1]
    return reps


def stale_interpreters(interps, ranges):
    """The two interpreters the stale-name case runs on: the newest
    before 3.11 and the one from 3.11 on closest to 3.12 (frames objects
    and the frames of the data stack)."""
    vs = [(major_minor(v), p) for p, v, _ in interps
          if v and major_minor(v) and in_ranges(major_minor(v), ranges)]
    old = [x for x in vs if (3, 0) <= x[0] < (3, 11)]
    new = [x for x in vs if x[0] >= (3, 11)]
    pick = set()
    if old:
        pick.add(max(old)[1])
    if new:
        pick.add(min(new, key=lambda x: (abs(x[0][1] - 12), x[1]))[1])
    return pick


def summary(report, t0, timings=None, interp_time=None):
    interp_time = interp_time or {}
    if report.per_interp:
        print("# per interpreter:", flush=True)
        for label, c in report.per_interp.items():
            print("#   %-48s %3d ok, %d failed, %d skipped%s"
                  % (label, c["ok"], c["FAIL"], c["SKIP"],
                     "  %5.0f s" % interp_time[label]
                     if label in interp_time else ""), flush=True)
    if timings:
        print("# seconds per check, over every interpreter:", flush=True)
        for name, secs in sorted(timings.items(), key=lambda x: -x[1]):
            print("#   %-12s %6.1f" % (name, secs), flush=True)
    c = report.counts
    print("# %d ok, %d failed, %d skipped in %.1f s"
          % (c["ok"], c["FAIL"], c["SKIP"], time.monotonic() - t0),
          flush=True)
    return 1 if c["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
