"""Live checks of dumps of several processes (issue 27, "Many processes";
see live_test.py, cli/dump_many.c and model/proc_groups.h).

mp_stuck.py forks a multiprocessing Pool of 4 workers; one is stuck in
stuck_task() for good, the others wait for work (one reading the task
pipe, the others waiting for its lock: two kinds of idle stack).  It
records every worker's PID and the stuck one's.  On every interpreter
that forks a Pool (2.7 and 3.6+):

  - `dump --json --subprocesses PID`: one document per process, the
    parent and every worker; the groups hold every process once; the
    reference group is two workers or more, waiting for the task pipe's
    lock, without the stuck worker; the stuck worker's group is itself
    alone, "differs" naming stuck_task at its recorded file and line;
  - `dump --subprocesses PID` (text): the summary line "1 process
    differs: PID <stuck>, in stuck_task at FILE:LINE", a line "N
    processes alike: PIDs ..." naming the reference group's workers, and
    every process's PID in the summary;
  - `deadlock --subprocesses PID`: exit status 0, a "Process PID:" line
    for every process;
  - `dump --json P1 P2` of two processes alike (two of the lock waiters)
    and `dump P0 P1` of two that are not (the parent and the stuck
    worker): the processes in the order given, grouped or not as they
    are; and a PID that is no process among them is reported in its
    place ("not read", exit status 0 as the others were read).

The pool's idle workers settle at their waits shortly after the record is
written: the dump is retried (a few seconds, no timed assertion) until
the grouping holds, and its last state is what fails.

If Debian's python3-gunicorn is installed, on /usr/bin/python3.11 only
(SKIP elsewhere by name): gunicorn (sync workers, 3 of them) serving
tests/targets/wsgi_stuck.py, one request to /stuck (which sleeps in
stuck_request() for good): `dump --subprocesses MASTER` calls out the
worker serving it, in stuck_request, and groups the idle workers.
"""
import json
import os
import re
import socket
import time

SETTLE_TIMEOUT = 15.0
RECORD_TIMEOUT = 25.0
GUNICORN_INTERP = "/usr/bin/python3.11"


def wait_record(h, t, timeout=RECORD_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not os.path.exists(t.record_path):
        if t.proc.poll() is not None:
            raise RuntimeError("%s exited with status %s: %s"
                               % (t.script, t.proc.returncode, t.stderr()))
        if time.monotonic() > deadline:
            raise RuntimeError("%s wrote no record: %s"
                               % (t.script, t.stderr()))
        time.sleep(0.01)
    with open(t.record_path) as f:
        return json.load(f)


def json_problems(record, doc):
    problems = []
    pids = [p.get("pid") for p in doc.get("processes") or []]
    want = [record["pid"]] + record["workers"]
    for pid in want:
        if pid not in pids:
            problems.append("process %d not in the document" % pid)
    groups = doc.get("groups") or []
    grouped = sorted(p for g in groups for p in g.get("pids") or [])
    if grouped != sorted(pids):
        problems.append("groups hold %r, processes %r" % (grouped, pids))
    refs = [g for g in groups if g.get("reference")]
    stuck = record["stuck"]
    if len(refs) != 1:
        problems.append("%d reference groups, expected 1" % len(refs))
    else:
        ref = refs[0]["pids"]
        if len(ref) < 2 or stuck in ref or record["pid"] in ref or \
                any(p not in record["workers"] for p in ref):
            problems.append("reference group %r: expected two idle "
                            "workers or more" % ref)
    mine = [g for g in groups if stuck in (g.get("pids") or [])]
    if len(mine) != 1 or mine[0].get("pids") != [stuck]:
        problems.append("stuck worker %d: groups %r, expected alone"
                        % (stuck, mine))
    else:
        d = mine[0].get("differs") or {}
        got = (d.get("function"), d.get("file"), d.get("line"),
               d.get("missing"))
        exp = (record["stuck_function"], record["file"],
               record["stuck_line"], False)
        if got != exp:
            problems.append("stuck worker %d differs at %r, expected %r"
                            % (stuck, got, exp))
    return problems


def text_problems(record, out, ref):
    problems = []
    summary = out.split("\n\n", 1)[0]
    line = "1 process differs: PID %d, in %s at %s:%d" % (
        record["stuck"], record["stuck_function"], record["file"],
        record["stuck_line"])
    if line not in summary.splitlines() and \
            ("  " + line) not in summary.splitlines():
        problems.append("no summary line %r" % line)
    alike = "%d processes alike: PIDs %s" % (
        len(ref), ", ".join(str(p) for p in ref))
    if ("  " + alike) not in summary.splitlines():
        problems.append("no summary line %r" % alike)
    named = set(int(x) for x in re.findall(r"\b(\d+)\b", summary))
    for pid in [record["pid"]] + record["workers"]:
        if pid not in named:
            problems.append("PID %d not in the summary" % pid)
    if problems:
        problems.append("summary: %r" % summary[:1500])
    return problems


def missing_pid():
    """A PID that is no process (for the moment)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


def settled_dump(h, record, pid):
    """dump --json --subprocesses until the grouping holds, or its last
    state: (doc, problems, result)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        res = h.snakescope("dump", "--json", "--subprocesses", pid)
        try:
            doc = json.loads(res.out.decode("utf-8"))
            problems = json_problems(record, doc)
        except ValueError as e:
            doc, problems = None, ["not JSON: %s" % e]
        if res.rc != h.EXIT_OK:
            problems.append("exit status %s" % res.rc)
        if not problems or time.monotonic() > deadline:
            return doc, problems, res
        time.sleep(0.2)


def check_pool(report, interp, version, workdir, h):
    what = "%s: mp_stuck.py (Pool of 4, one stuck)" % version
    t = h.Target(interp, "mp_stuck.py", workdir)
    try:
        try:
            record = wait_record(h, t)
        except (RuntimeError, ValueError) as e:
            report.fail(what, ["target not ready: %s" % e])
            return
        doc, problems, res = settled_dump(h, record, t.pid)
        report.check(what + ": dump --json --subprocesses: every worker, "
                     "the idle ones grouped, the stuck one called out",
                     problems + (res.describe() if problems else []))
        if doc is None or problems:
            return
        ref = [g for g in doc["groups"] if g.get("reference")][0]["pids"]
        res = h.snakescope("dump", "--subprocesses", t.pid)
        p = text_problems(record, res.out.decode("utf-8", "replace"), ref)
        if res.rc != h.EXIT_OK:
            p.append("exit status %s" % res.rc)
        report.check(what + ": dump --subprocesses: the summary", p)

        res = h.snakescope("deadlock", "--subprocesses", t.pid)
        out = res.out.decode("utf-8", "replace")
        p = ["exit status %s, expected 0" % res.rc] if res.rc else []
        for pid in [record["pid"]] + record["workers"]:
            if not re.search(r"^Process %d: " % pid, out, re.M):
                p.append("no 'Process %d:' line" % pid)
        report.check(what + ": deadlock --subprocesses: every process",
                     p + (res.describe() if p else []))

        gone = missing_pid()
        res = h.snakescope("dump", "--json", ref[0], ref[1], gone)
        p = []
        try:
            d = json.loads(res.out.decode("utf-8"))
            pids = [x.get("pid") for x in d.get("processes") or []]
            if pids != [ref[0], ref[1], gone]:
                p.append("processes %r, expected %r"
                         % (pids, [ref[0], ref[1], gone]))
            groups = [g.get("pids") for g in d.get("groups") or []]
            if [ref[0], ref[1]] not in groups or [gone] not in groups:
                p.append("groups %r: expected %r alike and %d alone"
                         % (groups, ref[:2], gone))
            last = (d.get("processes") or [{}])[-1]
            if not last.get("error") or last.get("exit_status") != \
                    h.EXIT_NOPROC:
                p.append("PID %d: %r, expected an error, exit status 3"
                         % (gone, last))
        except ValueError as e:
            p.append("not JSON: %s" % e)
        if res.rc != h.EXIT_OK:
            p.append("exit status %s, expected 0 (two read)" % res.rc)
        report.check(what + ": dump --json P1 P2 GONE: in order, alike, "
                     "the gone one in its place",
                     p + (res.describe() if p else []))

        res = h.snakescope("dump", "--no-source", record["pid"],
                           record["stuck"])
        out = res.out.decode("utf-8", "replace")
        p = []
        if not out.startswith("2 processes, 2 read, no two alike\n"):
            p.append("first line %r" % out.split("\n", 1)[0])
        for pid in (record["pid"], record["stuck"]):
            if "\n=== PID %d ===\n" % pid not in out:
                p.append("no '=== PID %d ===' header" % pid)
        if out.find("=== PID %d ===" % record["pid"]) > \
                out.find("=== PID %d ===" % record["stuck"]):
            p.append("not in the order given")
        if "in stuck_task\n" not in out:
            p.append("the stuck worker's stack is not shown")
        report.check(what + ": dump PARENT STUCK: both in full, in order",
                     p + (res.describe() if p else []))
    finally:
        t.kill()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def worker_pids(master):
    try:
        with open("/proc/%d/task/%d/children" % (master, master)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def check_gunicorn(report, interp, version, workdir, h):
    what = "%s: gunicorn (3 sync workers, one in a request that never " \
        "ends)" % version
    if interp != GUNICORN_INTERP:
        report.skip(what + ": only checked on %s (Debian's python3-"
                    "gunicorn)" % GUNICORN_INTERP)
        return
    if not os.path.exists("/usr/lib/python3/dist-packages/gunicorn"):
        report.skip(what + ": python3-gunicorn is not installed "
                    "(scripts/install-deps.sh)")
        return
    port = free_port()
    flag = os.path.join(workdir, "wsgi-stuck-%d" % h.serial())
    env = dict(h.TARGET_ENV, WSGI_STUCK_FLAG=flag)
    err = open(os.path.join(workdir, "gunicorn-%d.err" % h.serial()), "wb")
    proc = h.spawn([interp, "-m", "gunicorn", "--workers", "3",
                    "--worker-class", "sync", "--timeout", "0",
                    "--chdir", h.TARGETS, "--bind", "127.0.0.1:%d" % port,
                    "wsgi_stuck:app"], env=env, stderr=err)
    conn = None
    try:
        if not h.wait_until(lambda: len(worker_pids(proc.pid)) == 3, 20.0,
                            0.05):
            report.fail(what, ["gunicorn did not start 3 workers"])
            return
        deadline = time.monotonic() + 20.0
        while conn is None and time.monotonic() < deadline:
            try:
                conn = socket.create_connection(("127.0.0.1", port), 2)
            except OSError:
                time.sleep(0.1)
        if conn is None:
            report.fail(what, ["gunicorn does not listen on %d" % port])
            return
        conn.sendall(b"GET /stuck HTTP/1.0\r\nHost: x\r\n\r\n")
        if not h.wait_until(lambda: os.path.exists(flag), 20.0, 0.05):
            report.fail(what, ["no worker took the request"])
            return
        with open(flag) as f:
            stuck = int(f.read())
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            res = h.snakescope("dump", "--json", "--subprocesses", proc.pid)
            p = []
            try:
                doc = json.loads(res.out.decode("utf-8"))
                groups = doc.get("groups") or []
                mine = [g for g in groups if g.get("pids") == [stuck]]
                d = (mine[0].get("differs") or {}) if mine else {}
                if d.get("function") != "stuck_request":
                    p.append("stuck worker %d: %r, expected alone, "
                             "differing in stuck_request" % (stuck, mine))
                refs = [g.get("pids") for g in groups if g.get("reference")]
                idle = [w for w in worker_pids(proc.pid) if w != stuck]
                if refs != [sorted(idle)]:
                    p.append("reference group %r, expected the idle "
                             "workers %r" % (refs, sorted(idle)))
            except ValueError as e:
                p.append("not JSON: %s" % e)
            if res.rc != h.EXIT_OK:
                p.append("exit status %s" % res.rc)
            if not p or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        report.check(what + ": dump --json --subprocesses MASTER",
                     p + (res.describe() if p else []))
        res = h.snakescope("dump", "--subprocesses", proc.pid)
        line = "1 process differs: PID %d, in stuck_request at " % stuck
        report.check(what + ": dump --subprocesses MASTER: the stuck "
                     "worker called out",
                     [] if line in res.out.decode("utf-8", "replace")
                     else ["no line %r" % line] + res.describe())
    finally:
        if conn is not None:
            conn.close()
        h.kill(proc)
        err.close()


def check_procs(report, interp, version, workdir, h):
    check_pool(report, interp, version, workdir, h)
    check_gunicorn(report, interp, version, workdir, h)
