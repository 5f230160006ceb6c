"""Live checks of a process with many threads (issue 27; see live_test.py).

thousands.py starts 5,000 named threads (past the fixed cap of 4,096
thread states a dump once read, silently) and records every thread's
ident, native id, name and stack in-process.  On every interpreter:

  - `dump --json PID`: the record's comparison (compare_dump: every
    thread's ids, name and frames), every TID of /proc/PID/task once and
    no other, "threads_note" null (nothing left out);
  - `dump PID` (text): the header says as many threads as /proc has
    tasks, no "Threads left out" line, every thread's stack as recorded
    (frames_check.text_frame_problems) and every name and TID in it
    (in its group's header when it has one);
  - `deadlock PID` and `deadlock --json PID`: the same count, no thread
    left out;
  - `record --format json --idle --duration 1`: every thread in every
    sample, no warning of threads left out; `top --once --idle`: as many
    threads as /proc has tasks.

Each command's run time is printed (no timed assertion: speed belongs in
bench/).  Standard library only (Python 3.6+).
"""
import json
import os
import re
import time

import frames_check
import groups_check

COUNT = 5000
# Starting 5,000 threads on 2 shared CPUs takes a while; 2.7 is slower.
RECORD_TIMEOUT = 120.0
DUMP_TIMEOUT = 60.0


def proc_tids(pid):
    try:
        return set(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return set()


def timed(h, *args):
    t0 = time.monotonic()
    res = h.snakescope(*args, timeout=DUMP_TIMEOUT)
    return res, time.monotonic() - t0


def json_problems(h, t, tids):
    res, secs = timed(h, "dump", "--json", t.pid)
    if res.timed_out or res.rc != h.EXIT_OK:
        return secs, ["dump --json: expected exit status 0"] + \
            res.describe()
    try:
        doc = json.loads(res.out.decode("utf-8"))
    except ValueError as e:
        return secs, ["dump --json: not JSON: %s" % e]
    problems = h.compare_dump(t.record, doc, ("--json",))
    threads = doc.get("threads") or []
    got = [th.get("native_id") for th in threads]
    if sorted(got) != sorted(tids):
        missing = sorted(set(tids) - set(got))
        extra = sorted(set(got) - set(tids))
        problems.append("dump --json: TIDs differ from /proc/%d/task: %d "
                        "threads for %d tasks; missing %s, extra %s"
                        % (t.pid, len(got), len(tids), missing[:20],
                           extra[:20]))
    if doc.get("threads_note") is not None:
        problems.append("dump --json: threads_note %r, expected null"
                        % (doc.get("threads_note"),))
    return secs, problems


def text_problems(h, t, tids):
    res, secs = timed(h, "dump", t.pid)
    if res.timed_out or res.rc != h.EXIT_OK:
        return secs, ["dump: expected exit status 0"] + res.describe()
    out = res.out.decode("utf-8", "replace")
    problems = []
    want = "Python %s" % t.record["version"]
    header = [ln for ln in out.splitlines()[:4] if ln.startswith(want)]
    m = re.search(r", (\d+) threads?", header[0]) if header else None
    if not m or int(m.group(1)) != len(tids):
        problems.append("dump: header %r, expected %d threads"
                        % (header, len(tids)))
    if "Threads left out" in out:
        problems.append("dump: says threads were left out")
    problems.extend(frames_check.text_frame_problems(t.record, out))
    names = set(re.findall(r'^Thread \d+ "(.*)"', out, re.M))
    found = set(int(x) for x in re.findall(r"\(tid (\d+)", out))
    # threads with the same stack are one group (the default)
    for _, text, group_tids, _ in frames_check.group_headers(out):
        names.update(groups_check.expand_names(text))
        found.update(group_tids)
    for e in t.record["threads"]:
        tid = e.get("native_id")
        if e["name"] not in names:
            problems.append("dump: thread name %r not in the text"
                            % e["name"])
        if tid is not None and tid not in found:
            problems.append("dump: TID %d not in the text" % tid)
        if len(problems) > 40:
            break
    return secs, problems


def deadlock_problems(h, t, tids):
    problems = []
    res, secs = timed(h, "deadlock", t.pid)
    out = res.out.decode("utf-8", "replace")
    if res.timed_out or res.rc not in (0, 6, 7):
        return secs, ["deadlock: unexpected exit"] + res.describe()
    if ", %d threads," % len(tids) not in out.splitlines()[0]:
        problems.append("deadlock: header %r, expected %d threads"
                        % (out.splitlines()[:1], len(tids)))
    if "Threads left out" in out:
        problems.append("deadlock: says threads were left out")
    res, secs2 = timed(h, "deadlock", "--json", t.pid)
    try:
        doc = json.loads(res.out.decode("utf-8"))
    except ValueError as e:
        return secs, problems + ["deadlock --json: not JSON: %s" % e]
    if len(doc.get("threads") or []) != len(tids):
        problems.append("deadlock --json: %d threads for %d tasks"
                        % (len(doc.get("threads") or []), len(tids)))
    if doc.get("threads_note") is not None:
        problems.append("deadlock --json: threads_note %r"
                        % (doc.get("threads_note"),))
    return secs + secs2, problems


def sampler_problems(h, t, tids, workdir):
    """record (one JSON line per thread and sample) and top --once: every
    thread in every sample, nothing left out."""
    problems = []
    out = os.path.join(workdir, "thousands-%d.jsonl" % t.pid)
    t0 = time.monotonic()
    res = h.snakescope("record", "--format", "json", "--idle",
                       "--duration", "1", "-o", out, t.pid,
                       timeout=DUMP_TIMEOUT)
    secs = time.monotonic() - t0
    if res.timed_out or res.rc != h.EXIT_OK:
        return secs, ["record: expected exit status 0"] + res.describe()
    if "left threads out" in res.text_err:
        problems.append("record: %s" % res.text_err.strip()[-300:])
    per = {}
    try:
        with open(out) as f:
            for ln in f:
                d = json.loads(ln)
                per.setdefault(d.get("time"), set()).add(d.get("native_id"))
    except (OSError, ValueError) as e:
        return secs, ["record: output unreadable: %s" % e]
    if not per:
        problems.append("record: no sample")
    for when, got in sorted(per.items()):
        if got != set(tids):
            problems.append("record: the sample at %s s has %d threads "
                            "for %d tasks" % (when, len(got), len(tids)))
            break
    res = h.snakescope("top", "--once", "--idle", t.pid,
                       timeout=DUMP_TIMEOUT)
    text = res.out.decode("utf-8", "replace")
    m = re.search(r"^threads (\d+) ", text, re.M)
    if res.rc != h.EXIT_OK or not m or int(m.group(1)) != len(tids):
        problems.append("top --once: expected 'threads %d', got %r"
                        % (len(tids), text.splitlines()[:2]))
    if "threads left out" in text:
        problems.append("top --once: says threads were left out")
    return secs, problems


def check_thousands(report, interp, version, workdir, h):
    what = "%s: thousands.py (%d threads)" % (version, COUNT)
    t = h.Target(interp, "thousands.py", workdir)
    saved = h.RECORD_TIMEOUT
    h.RECORD_TIMEOUT = RECORD_TIMEOUT
    try:
        t.ready()
    except h.TargetError as e:
        t.kill()
        report.fail(what, ["target not ready: %s" % e])
        return
    finally:
        h.RECORD_TIMEOUT = saved
    try:
        started = time.monotonic() - t.started
        tids = sorted(proc_tids(t.pid))
        if len(t.record["threads"]) != len(tids) or len(tids) <= COUNT:
            report.fail(what, ["record has %d threads, /proc %d tasks, "
                               "expected %d" % (len(t.record["threads"]),
                                                len(tids), COUNT + 1)])
            return
        js, p1 = json_problems(h, t, tids)
        tx, p2 = text_problems(h, t, tids)
        dl, p3 = deadlock_problems(h, t, tids)
        rc, p4 = sampler_problems(h, t, tids, workdir)
        report.note("%s: started and recorded in %.1f s; dump --json %.2f "
                    "s, dump %.2f s, deadlock (text, JSON) %.2f s, record "
                    "--duration 1 %.2f s" % (what, started, js, tx, dl, rc))
        report.check(what + ": dump --json: every thread, as /proc and "
                     "the record", p1)
        report.check(what + ": dump: every thread, name and TID", p2)
        report.check(what + ": deadlock: every thread counted", p3)
        report.check(what + ": record and top --once: every thread in "
                     "every sample", p4)
    finally:
        t.kill()
