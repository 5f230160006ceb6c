"""Live checks of `snakescope watch` of several processes (issue 27, "Many
processes"; see live_test.py and cli/cmd_watch.c), against
tests/targets/mp_top.py in its "steps" mode: a parent, one child going on
in steps (step_a, step_b: its stack changes all the time) until SIGUSR1
puts it in stuck_here() for good, two idle children (idle_child); a late
child on SIGUSR1 to the parent, ended on SIGUSR2.  The target records
every PID and the functions (its own word).  On every interpreter (2.7
and 3.6+: all fork a multiprocessing Process):

  - `watch --every 0.3 --count 2 --subprocesses PID` (text): two dumps,
    headed '# TIMESTAMP pid PID dump N (4 processes)', each with the
    summary '4 processes, 4 read' and the idle children told as one
    ('2 processes alike: PIDs I1, I2');
  - `watch --every 0.3 --count 1 BUSY IDLE` (text): '(2 processes)' and
    '2 processes, 2 read', the parent not dumped;
  - `watch --every 0.3 --json --subprocesses PID -o FILE`, running: each
    line a document with "timestamp", "dump" (1, 2, ... in order),
    "processes" and "groups"; the four processes, the idle pair grouped;
    a child started later shows up in a later dump, and is left out of
    the dumps after it ended; when the whole tree is killed the watch
    ends by itself with status 0, saying the processes exited;
  - `watch --on-stall 2s --count 1 --json --subprocesses PID` while the
    stepping child goes on (the parent and the idle children are still
    all along): no dump; once the child is put in stuck_here (SIGUSR1,
    3 s after the start, past T) the dump comes, "reason" "stall", the
    child's group "differs" in stuck_here.  A watch that took each
    process's stillness for a stall would dump at once, the child in
    step_a or step_b, and fail.
"""
import json
import os
import re
import signal
import subprocess
import time

WAIT = 20.0           # for a dump to show what is expected
STALL_T = 2.0
SIGNAL_AFTER = 3.0    # > STALL_T: the still processes are "stalled" alone


def wait_record(t, timeout=25.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(t.record_path):
        if t.proc.poll() is not None:
            raise RuntimeError("%s exited with status %s: %s"
                               % (t.script, t.proc.returncode, t.stderr()))
        if time.monotonic() > deadline:
            raise RuntimeError("%s wrote no record: %s"
                               % (t.script, t.stderr()))
        time.sleep(0.02)
    with open(t.record_path) as f:
        return json.load(f)


def read_late(path, old, timeout=10.0):
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


def json_lines(path):
    """The complete lines of FILE as documents (a line being written is
    left for later)."""
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError:
        return []
    docs = []
    for line in text.split("\n")[:-1]:
        try:
            docs.append(json.loads(line))
        except ValueError:
            docs.append({"not json": line[:200]})
    return docs


def doc_pids(doc):
    return [p.get("pid") for p in doc.get("processes") or []]


def doc_problems(rec, doc, want):
    """A --json --subprocesses line of mp_top.py's tree: processes want,
    each read, the idle pair one group."""
    problems = []
    pids = doc_pids(doc)
    if sorted(pids) != sorted(want):
        problems.append("processes %r, expected %r" % (pids, sorted(want)))
    for p in doc.get("processes") or []:
        if p.get("error"):
            problems.append("process %s not read: %s"
                            % (p.get("pid"), p.get("error")))
    groups = [sorted(g.get("pids") or []) for g in doc.get("groups") or []]
    if sorted(rec["idle"]) not in groups:
        problems.append("groups %r: the idle children %r not one"
                        % (groups, rec["idle"]))
    if not doc.get("timestamp") or not isinstance(doc.get("dump"), int):
        problems.append("no timestamp or dump number: %r"
                        % sorted(doc.keys()))
    return problems


def check_text(report, what, h, rec):
    pid = rec["pid"]
    res = h.snakescope("watch", "--every", "0.3", "--count", "2",
                       "--subprocesses", pid, timeout=30)
    out = res.out.decode("utf-8", "replace")
    p = [] if res.rc == h.EXIT_OK else ["exit status %s" % res.rc]
    heads = re.findall(r"^# \S+ pid (\d+) dump (\d+) \((\d+) processes\)$",
                       out, re.M)
    if [(int(a), int(b), int(c)) for a, b, c in heads] != \
            [(pid, 1, 4), (pid, 2, 4)]:
        p.append("headers %r, expected dumps 1 and 2 of pid %d, "
                 "4 processes" % (heads, pid))
    if len(re.findall(r"^4 processes, 4 read$", out, re.M)) != 2:
        p.append("not two '4 processes, 4 read' summaries")
    alike = "  2 processes alike: PIDs %s" % ", ".join(
        str(x) for x in sorted(rec["idle"]))
    if out.count(alike + "\n") != 2:
        p.append("not two %r lines" % alike)
    if p:
        p += res.describe() + ["output: " + out[:3000]]
    report.check(what + ": watch --every --count 2 --subprocesses: two "
                 "dumps of the four, the idle ones told once", p)

    res = h.snakescope("watch", "--every", "0.3", "--count", "1",
                       rec["busy"], rec["idle"][0], timeout=30)
    out = res.out.decode("utf-8", "replace")
    p = [] if res.rc == h.EXIT_OK else ["exit status %s" % res.rc]
    if not re.search(r"^# \S+ pid %d dump 1 \(2 processes\)$"
                     % rec["busy"], out, re.M):
        p.append("no header '# ... pid %d dump 1 (2 processes)'"
                 % rec["busy"])
    if not re.search(r"^2 processes, 2 read", out, re.M):
        p.append("no summary '2 processes, 2 read'")
    if re.search(r"^=== PID %d ===$" % pid, out, re.M):
        p.append("the parent %d was dumped, not asked for" % pid)
    if p:
        p += res.describe() + ["output: " + out[:3000]]
    report.check(what + ": watch --every --count 1 BUSY IDLE: those two",
                 p)


def check_json_run(report, what, h, t, rec, workdir):
    """The running watch: a late child comes and goes; the tree killed,
    the watch ends by itself."""
    pid = rec["pid"]
    everyone = [pid, rec["busy"]] + rec["idle"]
    out_path = os.path.join(workdir, "watch-procs-%d.jsonl" % h.serial())
    err_path = out_path + ".stderr"
    with open(err_path, "wb") as err:
        w = h.spawn([h.SNAKESCOPE, "watch", "--every", "0.3", "--json",
                     "--subprocesses", str(pid), "-o", out_path],
                    stderr=err)
    try:
        def first_ok():
            docs = json_lines(out_path)
            return docs and not doc_problems(rec, docs[-1], everyone)
        h.wait_until(first_ok, WAIT, 0.1)
        docs = json_lines(out_path)
        p = doc_problems(rec, docs[-1], everyone) if docs else \
            ["no dump written"]
        report.check(what + ": watch --json --subprocesses: the four "
                     "processes, the idle ones one group", p)
        if p:
            return

        os.kill(pid, signal.SIGUSR1)
        late = read_late(t.record_path + ".late", None)
        if late is None or not late.isdigit():
            report.fail(what + ": watch --json --subprocesses: a child "
                        "started later", ["the target wrote no late PID: "
                                          "%r" % late])
            return
        late = int(late)
        h.wait_until(lambda: any(late in doc_pids(d)
                                 for d in json_lines(out_path)), WAIT, 0.1)
        docs = json_lines(out_path)
        seen = [i for i, d in enumerate(docs) if late in doc_pids(d)]
        report.check(what + ": watch --json --subprocesses: a child "
                     "started later is in the dumps after",
                     [] if seen else ["late child %d in no dump" % late])
        if not seen:
            return

        os.kill(pid, signal.SIGUSR2)
        gone = read_late(t.record_path + ".late", str(late))
        mark = len(json_lines(out_path))
        h.wait_until(lambda: any(
            late not in doc_pids(d) and not doc_problems(rec, d, everyone)
            for d in json_lines(out_path)[mark:]), WAIT, 0.1)
        after = json_lines(out_path)[mark:]
        p = [] if gone == "gone" else ["the target did not end its late "
                                       "child: %r" % gone]
        if not any(late not in doc_pids(d) and
                   not doc_problems(rec, d, everyone) for d in after):
            p.append("no dump without the late child %d after it ended: "
                     "%r" % (late, [doc_pids(d) for d in after[-3:]]))
        report.check(what + ": watch --json --subprocesses: the late "
                     "child is left out once it ended", p)

        h.kill(t.proc)             # the whole tree (its process group)
        try:
            rc = w.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            rc = None
        with open(err_path, "rb") as fh:
            err = fh.read().decode("utf-8", "replace")
        docs = json_lines(out_path)
        p = []
        if rc != 0:
            p.append("watch: exit status %r after the tree was killed, "
                     "expected 0 by itself" % rc)
        if "the processes exited" not in err:
            p.append("stderr %r does not say the processes exited"
                     % err[-500:])
        numbers = [d.get("dump") for d in docs]
        if numbers != list(range(1, len(docs) + 1)):
            p.append("dump numbers %r, expected 1, 2, ... in order"
                     % numbers[:40])
        report.check(what + ": watch --json --subprocesses: ends by itself "
                     "(status 0) when the tree is gone; dumps numbered in "
                     "order", p)
    finally:
        h.kill(w)


def check_stall(report, what, h, interp, workdir):
    t = h.Target(interp, "mp_top.py", workdir, extra=["2", "steps"])
    w = None
    try:
        rec = wait_record(t)
        w = h.spawn([h.SNAKESCOPE, "watch", "--on-stall", "%gs" % STALL_T,
                     "--count", "1", "--json", "--subprocesses",
                     str(rec["pid"])], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
        time.sleep(SIGNAL_AFTER)
        early = w.poll()
        os.kill(rec["busy"], signal.SIGUSR1)
        try:
            out, err = w.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            out, err = b"", b"(timed out)"
        p = []
        if early is not None:
            p.append("the watch ended (status %s) before the child "
                     "stopped: it dumped with one process still going"
                     % early)
        if w.returncode != 0:
            p.append("exit status %s" % w.returncode)
        try:
            doc = json.loads(out.decode("utf-8"))
        except ValueError as e:
            doc = {}
            p.append("not one JSON document: %s: %r" % (e, out[:300]))
        if doc:
            if doc.get("reason") != "stall":
                p.append("reason %r, expected 'stall'" % doc.get("reason"))
            mine = [g for g in doc.get("groups") or []
                    if rec["busy"] in (g.get("pids") or [])]
            fn = (mine[0].get("differs") or {}).get("function") \
                if mine else None
            if fn != rec["stuck_function"]:
                p.append("the stepping child %d differs in %r, expected "
                         "%s (a dump taken while it went on?)"
                         % (rec["busy"], fn, rec["stuck_function"]))
            if sorted(doc_pids(doc)) != sorted(
                    [rec["pid"], rec["busy"]] + rec["idle"]):
                p.append("processes %r" % doc_pids(doc))
        if p:
            p.append("stderr: %s" % err.decode("utf-8", "replace")[-500:])
        report.check(what + ": watch --on-stall --subprocesses: no dump "
                     "while one child goes on, one when it stops too", p)
    finally:
        if w is not None:
            h.kill(w)
        h.kill(t.proc)


def check_watch_procs(report, interp, version, workdir, h):
    what = "%s: watch of several processes (mp_top.py)" % version
    t = h.Target(interp, "mp_top.py", workdir, extra=["2", "steps"])
    try:
        try:
            rec = wait_record(t)
        except (RuntimeError, ValueError) as e:
            report.fail(what, ["target not ready: %s" % e])
            return
        check_text(report, what, h, rec)
        check_json_run(report, what, h, t, rec, workdir)
    finally:
        h.kill(t.proc)
    check_stall(report, what, h, interp, workdir)
