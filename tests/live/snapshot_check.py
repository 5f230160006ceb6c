"""Live checks of `snakescope snapshot` (see live_test.py).

For one interpreter, on threads.py (and async_tree.py on 3.8+): the
target parks and records itself; `snapshot PID -o CORE` pauses it, writes
a core of only what a dump reads and resumes it (one line on stderr: the
pause, the size, the threads).  `dump --core CORE --json` must then match
the record (as core_check.py compares gcore's cores), and a live
`dump --json` taken right after: the same threads, the same frames for
every thread not running on a CPU, the same tasks and verdict.  With
`--native`, `dump --core --native` has C frames and the same Python
frames, and gdb loads the core and lists every thread (skipped by name
without gdb).  Standard library only (Python 3.6+).
"""
import json
import os
import re
import shutil
import subprocess

import core_check

STDERR_LINE = re.compile(r"snapshot of process \d+: paused [0-9.]+ ms, "
                         r"wrote '.*': [0-9.]+ MiB, (\d+) threads?, ")


def frames_of(thread):
    return [(f.get("function"), f.get("filename"), f.get("line"))
            for f in thread.get("frames") or []]


def without_delays(v):
    """A timer's "delay" is counted from when it is read: a core's and a
    live dump's differ by the seconds between them."""
    if isinstance(v, dict):
        return {k: without_delays(x) for k, x in v.items() if k != "delay"}
    if isinstance(v, list):
        return [without_delays(x) for x in v]
    return v


def same_as_live(core, live):
    """What differs between the core's dump and the live one taken right
    after, for threads that could not move (not on a CPU)."""
    problems = []
    by_id = {t.get("native_id"): t for t in live.get("threads") or []}
    ids = sorted(by_id)
    got = sorted(t.get("native_id") for t in core.get("threads") or [])
    if got != ids:
        problems.append("threads: core %r, live %r" % (got, ids))
    for t in core.get("threads") or []:
        lt = by_id.get(t.get("native_id"))
        if lt is None or (t.get("state") or {}).get("on_cpu") or \
                (lt.get("state") or {}).get("on_cpu"):
            continue
        if frames_of(t) != frames_of(lt):
            problems.append("thread %s: core frames %r, live %r"
                            % (t.get("native_id"), frames_of(t)[:3],
                               frames_of(lt)[:3]))
        if t.get("name") != lt.get("name"):
            problems.append("thread %s: core name %r, live %r"
                            % (t.get("native_id"), t.get("name"),
                               lt.get("name")))
    for key in ("tasks", "verdict", "locks"):
        if json.dumps(without_delays(core.get(key)), sort_keys=True) != \
                json.dumps(without_delays(live.get(key)), sort_keys=True):
            problems.append("%s differ: core %.300s, live %.300s"
                            % (key, json.dumps(core.get(key)),
                               json.dumps(live.get(key))))
    return problems


def snapshot(h, pid, path, *extra):
    """Run snapshot; problems, and the thread count it said."""
    res = h.snakescope("snapshot", str(pid), "-o", path, *extra,
                       timeout=60)
    if res.timed_out or res.rc != h.EXIT_OK or not os.path.exists(path):
        return ["expected exit status 0 and a file"] + res.describe(), 0
    m = STDERR_LINE.search(res.err.decode("utf-8", "replace"))
    if not m:
        return ["no 'paused N ms, wrote ...' line on stderr"] + \
            res.describe(), 0
    return [], int(m.group(1))


def check_one(report, interp, version, workdir, h, script, native):
    label = "%s %s: snapshot of %s" % (version, interp, script)
    d = os.path.join(workdir, "snapshot-%d" % h.serial())
    os.makedirs(d)
    t = h.ready_target(report, interp, script, workdir, label, cwd=d)
    if t is None:
        return
    path = os.path.join(d, "snap.core")
    try:
        problems, nthreads = snapshot(h, t.pid, path)
        live = None
        if not problems:
            live, problems = core_check.dump_json(
                h, ["dump", "--json", str(t.pid)])
        report.check(label + ": snapshot PID -o FILE", problems)
        if live is None:
            return
        doc, problems = core_check.dump_json(
            h, ["dump", "--core", path, "--json"])
        if doc is not None:
            problems = h.compare_dump(t.record, core_check.without_core(doc))
        report.check(label + ": dump --core --json matches its record",
                     problems)
        if doc is not None:
            problems = same_as_live(doc, live)
            if nthreads < len(doc.get("threads") or []):
                problems.append("snapshot said %d threads, the dump has "
                                "%d" % (nthreads, len(doc["threads"])))
            report.check(label + ": dump --core --json is the live dump",
                         problems)
        if native:
            check_native(report, label, t, path + "-native", h)
    finally:
        t.kill()
        shutil.rmtree(d, ignore_errors=True)


def check_native(report, label, t, path, h):
    problems, _ = snapshot(h, t.pid, path, "--native")
    doc = None
    if not problems:
        doc, problems = core_check.dump_json(
            h, ["dump", "--core", path, "--json", "--native"])
    if doc is not None:
        if not any(f.get("kind") == "native"
                   for th in doc.get("threads") or []
                   for f in th.get("frames") or []):
            problems.append("--native: no C frame")
        problems += h.compare_dump(t.record, core_check.without_core(
            core_check.python_only(doc)))
    report.check(label + ": snapshot --native: dump --core --native has "
                 "C frames, the same Python frames", problems)
    if doc is None:
        return
    if shutil.which("gdb") is None:
        report.skip(label + ": gdb loads the core: gdb not found")
        return
    exe = (doc.get("python") or {}).get("executable")
    try:
        res = subprocess.run(["gdb", "-nx", "-batch", "-ex", "info threads",
                              exe, path], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        report.fail(label + ": gdb loads the core", [str(e)])
        return
    out = res.stdout.decode("utf-8", "replace")
    listed = len(re.findall(r"^\*?\s+\d+\s+(?:Thread|LWP|process)\b", out,
                            re.M))
    want = len(doc.get("threads") or [])
    report.check(label + ": gdb loads the core, lists %d threads" % want,
                 [] if listed == want else
                 ["gdb listed %d threads: %s" % (listed, out[-800:])])


def check_snapshot(report, interp, version, workdir, h):
    m = re.match(r"(\d+)\.(\d+)", version)
    mm = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    check_one(report, interp, version, workdir, h, "threads.py", True)
    if mm >= (3, 8):
        check_one(report, interp, version, workdir, h, "async_tree.py",
                  False)
