"""Live check of waits across processes (see live_test.py).

tests/targets/procwait.py puts its main thread in a wait that only
another process can end and records the chain as it knows it (each
process's PID, the blocked thread's TID, what it waits on: a child or a
pipe, the descriptor, fstat()'s inode, whether it writes, whom it waits
for); see its docstring for the shapes.  On every interpreter:

  - pipe_py (the subprocess pipe deadlock, a Python child), pipe_sh (the
    same through `sh -c 'head ...'`: three processes, two not Python),
    hang (a child in that deadlock with its own child), tcp (the target
    and a child connected on 127.0.0.1, each in recv()): `dump --json`
    must hold exactly one entry of kind "process", under "deadlocks" (a
    cycle) or "hangs" (a chain, its cycle_from), every step's pid, tid,
    waits_on, fd, inode, writes and waits_for as recorded, the first
    step's thread the main thread's, a non-Python peer named by its
    command line, a Python peer read too (its version, and its blocked
    thread's stack ending at the recorded line); the verdict as recorded; `deadlock` must exit 6 (7 for
    the hang) and its text name every PID, the pipe's inode and the
    Python peers' frames;
  - reading (a healthy parent reading a child's output as it comes, and
    a thread waiting for a sleeping child): three dumps, no "process"
    entry, verdict none, `deadlock` exit 0.

Standard library only (Python 3.6+).
"""
import json

SHAPES = ("pipe_py", "pipe_sh", "hang", "tcp", "reading")
STEP_KEYS = ("pid", "tid", "waits_on", "fd", "inode", "writes", "waits_for")


def _entries(doc):
    got = []
    for where in ("deadlocks", "hangs"):
        for d in doc.get(where) or []:
            if isinstance(d, dict) and d.get("kind") == "process":
                got.append((where, d))
    return got


def json_problems(rec, doc):
    problems = []
    want = rec["verdict"]
    if doc.get("verdict") != want:
        problems.append("verdict %r, recorded %r" % (doc.get("verdict"),
                                                     want))
    got = _entries(doc)
    if want == "none":
        if got:
            problems.append("process entries in a healthy target: %r"
                            % (got,))
        return problems
    if len(got) != 1:
        return problems + ["%d process entries, expected 1: %r"
                           % (len(got), got)]
    where, d = got[0]
    exp_where = "deadlocks" if want == "deadlock" else "hangs"
    if where != exp_where:
        problems.append("process entry under %r, expected %r"
                        % (where, exp_where))
    steps = d.get("cycle" if want == "deadlock" else "chain")
    if not isinstance(steps, list) or len(steps) != len(rec["chain"]):
        return problems + ["steps %r, recorded %r" % (steps, rec["chain"])]
    if want != "deadlock" and d.get("cycle_from") != rec["cycle_from"]:
        problems.append("cycle_from %r, recorded %r"
                        % (d.get("cycle_from"), rec["cycle_from"]))
    for i, (g, e) in enumerate(zip(steps, rec["chain"])):
        for k in STEP_KEYS:
            if g.get(k) != e[k]:
                problems.append("step %d: %s is %r, recorded %r"
                                % (i, k, g.get(k), e[k]))
        if not g.get("syscall"):
            problems.append("step %d: no syscall" % i)
        # A Python peer is read too: its version, the blocked thread's
        # stack ending where it recorded; the others (and the dumped
        # process, whose thread is in "threads") have none.
        outer = e.get("outermost")
        frames = g.get("frames")
        if i == 0 or outer is None:
            if g.get("python") is not None or frames is not None:
                problems.append("step %d: python %r, frames %r: expected "
                                "none" % (i, g.get("python"), frames))
            continue
        if g.get("python") != rec["version"]:
            problems.append("step %d: python %r, the peer runs %r"
                            % (i, g.get("python"), rec["version"]))
        if not frames or dict((k, frames[-1].get(k)) for k in outer) != \
                outer:
            problems.append("step %d: frames %r, outermost recorded %r"
                            % (i, frames, outer))
    if steps[0].get("thread") != rec["thread_id"]:
        problems.append("step 0: thread %r, recorded %r"
                        % (steps[0].get("thread"), rec["thread_id"]))
    if rec["shape"] == "pipe_sh":
        if steps[1].get("comm") != "sh" or steps[2].get("comm") != "head":
            problems.append("peers' comm %r, %r: expected sh, head"
                            % (steps[1].get("comm"), steps[2].get("comm")))
        if steps[2].get("cmdline") != "head -c 1048576 /dev/zero":
            problems.append("head's cmdline %r" % steps[2].get("cmdline"))
    return problems


def text_problems(rec, res, h):
    want = {"deadlock": h.EXIT_DEADLOCK, "likely_hang": h.EXIT_LIKELY_HANG,
            "none": h.EXIT_OK}[rec["verdict"]]
    if res.timed_out or res.rc != want:
        return ["deadlock exit status %r, expected %d" % (res.rc, want)] + \
            res.describe()
    out = res.out.decode("utf-8", "replace")
    problems = []
    n = len(rec["chain"]) - (rec["cycle_from"] or 0)
    head = {"deadlock": "Deadlock: %d processes wait for each other" % n,
            "likely_hang": "Likely hang: a thread waits behind %d processes"
            % n}.get(rec["verdict"])
    if head and head not in out:
        problems.append("no %r in:\n%s" % (head, out))
    if not head and "processes wait" in out:
        problems.append("a process verdict in a healthy target:\n" + out)
    for st in rec["chain"]:
        if "  process %d " % st["pid"] not in out:
            problems.append("process %d not named" % st["pid"])
        if st.get("outermost") and st is not rec["chain"][0] and \
                'File "<string>", line %d, in <module>\n' % \
                st["outermost"]["line"] not in out:
            problems.append("process %d: its Python stack not told"
                            % st["pid"])
        what = "%s:[%d]" % (st["waits_on"], st["inode"] or 0)
        if st["inode"] and what not in out:
            problems.append("%s not named" % what)
    return problems


def check_procwait(report, interp, version, workdir, h):
    for shape in SHAPES:
        label = "%s %s: procwait.py %s" % (version, interp, shape)
        t = h.ready_target(report, interp, "procwait.py", workdir, label,
                           extra=[shape])
        if t is None:
            continue
        try:
            for _ in range(3 if shape == "reading" else 1):
                res = h.snakescope("dump", "--json", t.pid)
                if res.timed_out or res.rc != h.EXIT_OK:
                    problems = ["dump --json failed"] + res.describe()
                else:
                    try:
                        problems = json_problems(
                            t.record, json.loads(res.out.decode("utf-8")))
                    except ValueError as e:
                        problems = ["not JSON: %s" % e]
                if problems:
                    break
            report.check(label + ": dump --json: the verdict and every "
                         "process of the chain as recorded", problems)
            res = h.snakescope("deadlock", t.pid)
            report.check(label + ": deadlock: exit status and text",
                         text_problems(t.record, res, h))
        finally:
            t.kill()
