"""Live check of what blocked system calls wait on (see live_test.py).

tests/targets/fdwait.py parks threads in recv() on a TCP connection, in
poll() of one socket, in accept() on a listener, in read() on a pipe
whose write end a child holds and on a FIFO a child holds open, in
flock() on a file a child holds locked, and in waitpid() on a child, and
records what each waits on as it knows it ("fdwait": the socket's
addresses from getsockname()/getpeername(), the descriptors, fstat()'s
inodes, the children's PIDs and command lines).  On every interpreter:

  - `dump --json` (paused): every such thread's state.waits_on must match
    field by field (kind, fd, proto, local, peer, state, path, inode, the
    other end's PIDs, the child's PID and command line), its syscall be
    the one expected; the main thread (in a lock) has none; the frames
    must match the record as for every target;
  - `dump` (text): each thread's State line must say the same (taken
    after that paused read, which the poll() thread resumes as
    restart_syscall: it must still be named poll, and its socket);
  - `dump --json --no-pause`: no waits_on at all (registers are read
    only while paused).

Standard library only (Python 3.6+).
"""
import json


def _ends(v):
    return sorted(e.get("pid") for e in v or [] if isinstance(e, dict))


def json_problems(record, doc):
    want = record.get("fdwait") or {}
    problems = []
    seen = set()
    for t in doc.get("threads") or []:
        name = t.get("name")
        st = t.get("state") or {}
        got = st.get("waits_on", KeyError)
        if got is KeyError:
            problems.append("thread %r: state has no waits_on" % name)
            continue
        if name not in want:
            if got is not None:
                problems.append("thread %r waits on nothing we name, got "
                                "%r" % (name, got))
            continue
        seen.add(name)
        exp = want[name]
        if st.get("syscall") not in exp["syscall"]:
            problems.append("thread %r: syscall %r, expected one of %r"
                            % (name, st.get("syscall"), exp["syscall"]))
        if not isinstance(got, dict):
            problems.append("thread %r: waits_on %r, expected %r"
                            % (name, got, exp))
            continue
        for k, v in sorted(exp.items()):
            if k == "syscall":
                continue
            g = got.get(k, KeyError)
            if k == "other_end":
                g = _ends(g) if isinstance(g, list) else g
                v = sorted(v)
            if g != v:
                problems.append("thread %r: waits_on.%s is %r, expected %r"
                                % (name, k, g, v))
        if exp["kind"] in ("pipe", "fifo"):
            for e in got.get("other_end") or []:
                if not isinstance(e.get("comm"), str) or not e["comm"]:
                    problems.append("thread %r: other_end %r has no comm"
                                    % (name, e))
    for name in sorted(set(want) - seen):
        problems.append("thread %r not in the dump" % name)
    return problems


def expected_line(exp, syscall):
    """The State line's end for one recorded wait."""
    k = exp["kind"]
    if k == "child":
        return "blocked in %s for child %d (%s)" % (syscall, exp["pid"],
                                                    exp["cmdline"])
    if k == "socket" and exp["state"] == "LISTEN":
        return "blocked in %s on TCP %s (listening, fd %d)" % (
            syscall, exp["local"], exp["fd"])
    if k == "socket":
        return "blocked in %s on TCP %s -> %s (fd %d)" % (
            syscall, exp["local"], exp["peer"], exp["fd"])
    if k == "file":
        return "blocked in %s on %s (fd %d)" % (syscall, exp["path"],
                                                exp["fd"])
    what = "pipe:[%d]" % exp["inode"] if k == "pipe" else \
        "FIFO %s" % exp["path"]
    return "blocked in %s on %s (fd %d), other end held by %d (" % (
        syscall, what, exp["fd"], exp["other_end"][0])


def text_problems(record, doc, out):
    """Each recorded thread's State line in the text dump `out`; doc
    (the JSON dump) gives the syscall an either-or expects."""
    want = record.get("fdwait") or {}
    syscalls = dict((t.get("name"), (t.get("state") or {}).get("syscall"))
                    for t in doc.get("threads") or [])
    states = {}
    name = None
    for line in out.splitlines():
        if line.startswith("Thread ") and '"' in line:
            name = line.split('"')[1]
        elif line.startswith("  State: ") and name is not None:
            states[name] = line
            name = None
    problems = []
    for n, exp in sorted(want.items()):
        sc = syscalls.get(n) if syscalls.get(n) in exp["syscall"] else \
            exp["syscall"][0]
        line = expected_line(exp, sc)
        if line not in states.get(n, ""):
            problems.append("thread %r: State line %r does not say %r"
                            % (n, states.get(n), line))
    return problems


def _json(h, *args):
    res = h.snakescope("dump", "--json", *args)
    if res.timed_out or res.rc != h.EXIT_OK:
        return None, ["dump --json %s failed" % " ".join(args[:-1])] + \
            res.describe()
    try:
        return json.loads(res.out.decode("utf-8")), []
    except ValueError as e:
        return None, ["not JSON: %s" % e]


def _settle(h, t):
    """After a paused read the blocked calls restart (running, for a
    moment): wait until every thread but none is blocked again."""
    h.wait_until(lambda: all(s != "R" for s in h.task_states(t.pid).values()),
                 5.0)


def check_fdwait(report, interp, version, workdir, h):
    label = "%s %s: fdwait.py" % (version, interp)
    t = h.ready_target(report, interp, "fdwait.py", workdir, label)
    if t is None:
        return
    try:
        fifo = (t.record.get("fdwait") or {}).get("fifo") or {}
        if "fd" not in fifo:
            report.fail(label + ": record", ["no fifo descriptor recorded"])
            return
        _settle(h, t)
        doc, problems = _json(h, t.pid)
        if doc is not None:
            problems = h.compare_dump(t.record, doc) + \
                json_problems(t.record, doc)
        report.check(label + ": dump --json: each thread's waits_on is what "
                     "it recorded", problems)
        if doc is None:
            return
        _settle(h, t)
        res = h.snakescope("dump", t.pid)
        if res.timed_out or res.rc != h.EXIT_OK:
            problems = ["dump failed"] + res.describe()
        else:
            problems = text_problems(t.record, doc,
                                     res.out.decode("utf-8", "replace"))
        report.check(label + ": dump: each State line names what the "
                     "thread waits on", problems)
        doc, problems = _json(h, "--no-pause", t.pid)
        if doc is not None:
            problems = ["thread %r: waits_on %r without a pause"
                        % (th.get("name"), th["state"]["waits_on"])
                        for th in doc.get("threads") or []
                        if (th.get("state") or {}).get("waits_on")]
        report.check(label + ": dump --json --no-pause: no waits_on",
                     problems)
    finally:
        t.kill()
