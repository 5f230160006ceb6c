"""Live check of a target in a container (see live_test.py).

For one interpreter: start threads.py in its own PID and mount namespace
(`unshare --fork --pid --mount-proc`), from a private copy of the
interpreter and of the target scripts on a tmpfs mounted inside the
namespace only, so that neither path exists outside it.  The target
records its own view: its PID (1) and its threads' TIDs as it sees them.
Then, from outside:

  - `dump --json HOSTPID` names the process by our PID and its own
    ("ns_pid"), each thread by our TID ("native_id", which must be the
    task whose NSpid ends in the target's number) and its own
    ("ns_native_id", the target's word); with the numbers translated,
    every thread and frame must match the record as in any other dump;
  - the executable is reported by the private path;
  - the text dump says "(pid 1 in its namespace)" and shows the source
    line of main_park(), read from the private copy of the script
    through /proc/PID/root;
  - `record --format json` names every thread by our TID.

Needs root and unshare(1); skipped by name without them.  Standard
library only (Python 3.6+).
"""
import json
import os
import shutil
import signal
import time


def nspid_map(pid):
    """{own TID: our TID} of pid's threads, from their NSpid lines."""
    out = {}
    task = "/proc/%d/task" % pid
    try:
        tids = os.listdir(task)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("%s/%s/status" % (task, tid)) as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        ids = [int(x) for x in line.split()[1:]]
                        out[ids[-1]] = ids[0]
        except (OSError, ValueError, IndexError):
            pass
    return out


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def start(h, interp, workdir):
    """Start threads.py in a container; (target, host pid) or raise
    h.TargetError."""
    facts = h.interp_facts(interp)
    priv = os.path.join(workdir, "container-%d" % h.serial())
    os.makedirs(priv)
    exe = os.path.join(priv, "bin", os.path.basename(facts["executable"]))
    libdir = os.path.join(facts["prefix"], "lib")
    links = " ".join("ln -s %s %s/lib/ &&" % (os.path.join(libdir, n), priv)
                     for n in sorted(os.listdir(libdir))
                     if n.startswith("python"))
    # The copy finds its standard library through lib/pythonX.Y next to
    # bin/, as the original does (see live_test.stdlib_copy_dir).
    script = ("mount -t tmpfs snakescope-test %(p)s && "
              "mkdir %(p)s/bin %(p)s/lib %(p)s/targets && %(links)s "
              "cp %(exe)s %(copy)s && cp %(targets)s/*.py %(p)s/targets/ && "
              "exec %(copy)s %(flags)s %(p)s/targets/threads.py \"$@\"" % {
                  "p": priv, "links": links, "exe": facts["executable"],
                  "copy": exe, "targets": h.TARGETS,
                  "flags": " ".join(h.TARGET_FLAGS)})
    cmd = ["unshare", "--fork", "--pid", "--mount-proc", "sh", "-c", script,
           "sh"]
    t = h.Target(interp, "threads.py", workdir, cmd=cmd)
    deadline = time.monotonic() + h.RECORD_TIMEOUT
    while not os.path.exists(t.record_path):
        if t.proc.poll() is not None:
            raise h.TargetError("the container exited with status %s: %s"
                                % (t.proc.returncode, t.stderr()))
        if time.monotonic() > deadline:
            t.kill()
            raise h.TargetError("no record within %gs: %s"
                                % (h.RECORD_TIMEOUT, t.stderr()))
        time.sleep(0.01)
    with open(t.record_path) as f:
        t.record = json.load(f)
    kids = children(t.pid)
    if len(kids) != 1:
        t.kill()
        raise h.TargetError("unshare has children %r, expected one" % kids)
    host = kids[0]
    # Wait until the recorder thread is gone (it is not in the record).
    own = t.record.get("recorder_native_id")
    if not h.wait_until(lambda: own not in nspid_map(host), 5):
        t.kill()
        raise h.TargetError("the recorder thread did not exit")
    return t, host, exe, priv


def translated(record, host, ids):
    """The record with our PID and TIDs in place of the target's own."""
    rec = json.loads(json.dumps(record))
    rec["pid"] = host
    for th in rec.get("threads", ()):
        if th.get("native_id") is not None:
            th["native_id"] = ids.get(th["native_id"], -1)
    return rec


def ns_problems(record, doc, host, ids, exe):
    problems = []
    if doc.get("pid") != host:
        problems.append("pid: expected %d (ours), got %r"
                        % (host, doc.get("pid")))
    if doc.get("ns_pid") != record["pid"]:
        problems.append("ns_pid: expected %r (the target's own), got %r"
                        % (record["pid"], doc.get("ns_pid")))
    got_exe = (doc.get("python") or {}).get("executable")
    if got_exe != exe:
        problems.append("python.executable: expected the private copy "
                        "%r, got %r" % (exe, got_exe))
    by_id = dict((t.get("thread_id"), t) for t in doc.get("threads", ())
                 if isinstance(t, dict))
    for th in record.get("threads", ()):
        own = th.get("native_id")
        got = by_id.get(th["thread_id"])
        if own is None or got is None:
            continue
        if got.get("ns_native_id") != own:
            problems.append("thread %r: ns_native_id expected %r (its own "
                            "word), got %r" % (th["name"], own,
                                               got.get("ns_native_id")))
        if got.get("native_id") != ids.get(own):
            problems.append("thread %r: native_id expected %r (NSpid), got "
                            "%r" % (th["name"], ids.get(own),
                                    got.get("native_id")))
    return problems


def text_problems(out, record):
    problems = []
    if "(pid %d in its namespace)" % record["pid"] not in out:
        problems.append("text dump does not say '(pid %d in its "
                        "namespace)'" % record["pid"])
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("    File ") and "in main_park" in line:
            if i + 1 >= len(lines) or \
                    lines[i + 1].strip() != "lock.acquire()":
                problems.append("main_park's source line not shown (read "
                                "through /proc/PID/root): %r"
                                % lines[i:i + 2])
            break
    else:
        problems.append("no main_park frame in the text dump")
    return problems


def record_problems(h, host, ids, workdir):
    path = os.path.join(workdir, "container-record-%d.jsonl" % h.serial())
    res = h.snakescope("record", host, "--duration", "0.3", "--idle",
                       "--format", "json", "-o", path)
    if res.timed_out or res.rc != h.EXIT_OK:
        return ["record: expected exit status 0"] + res.describe()
    problems = []
    ours = set(ids.values())
    seen = set()
    with open(path) as f:
        for line in f:
            try:
                s = json.loads(line)
            except ValueError as e:
                return ["record: a line is not JSON: %s" % e]
            if "native_id" in s:
                seen.add(s["native_id"])
    if not seen or not seen <= ours:
        problems.append("record: native ids %r, expected ours %r"
                        % (sorted(seen, key=str), sorted(ours)))
    return problems


def check_container(report, interp, version, workdir, h):
    what = "%s %s: in its own PID and mount namespace (unshare), a " \
        "private copy of the interpreter" % (version, interp)
    if os.geteuid() != 0:
        report.skip(what + ": needs root")
        return
    if shutil.which("unshare") is None:
        report.skip(what + ": unshare not found")
        return
    try:
        t, host, exe, priv = start(h, interp, workdir)
    except h.TargetError as e:
        report.fail(what, ["target not ready: %s" % e])
        return
    except (RuntimeError, OSError, ValueError) as e:
        report.fail(what, ["cannot set it up: %s" % e])
        return
    try:
        problems = []
        ids = nspid_map(host)
        res = h.snakescope("dump", "--json", host)
        if res.timed_out or res.rc != h.EXIT_OK:
            problems += ["dump --json: expected exit status 0"] + \
                res.describe()
        else:
            try:
                doc = json.loads(res.out.decode("utf-8"))
            except ValueError as e:
                doc = None
                problems.append("dump --json: not JSON: %s" % e)
            if doc is not None:
                problems += ns_problems(t.record, doc, host, ids, exe)
                problems += h.compare_dump(translated(t.record, host, ids),
                                           doc)
        res = h.snakescope("dump", host)
        if res.timed_out or res.rc != h.EXIT_OK:
            problems += ["dump: expected exit status 0"] + res.describe()
        else:
            problems += text_problems(res.out.decode("utf-8", "replace"),
                                      t.record)
        problems += record_problems(h, host, ids, workdir)
        if not h.wait_until(lambda: not h.stopped_tasks(host), 1.0):
            problems.append("target left stopped: %s" % h.task_states(host))
        report.check(what, problems)
    finally:
        try:
            os.kill(host, signal.SIGKILL)
        except OSError:
            pass
        t.kill()
