"""Live checks of privileges (see live_test.py).

  - An unprivileged user (created here: snakescope-test) inspects its own
    process: dump --json must match the target's record, when the kernel
    lets a user trace its own processes (no Yama, or ptrace_scope 0);
    otherwise it must be refused with exit 4, naming ptrace_scope.
  - Run by root, snakescope keeps only the capabilities the read and its
    output need (attach/privs.h): CapEff, CapPrm and CapBnd of a running
    `watch` hold nothing else, and CAP_SYS_PTRACE is among them.
  - Installed set-user-ID root, it refuses to run for another user (exit
    4, names set-user-ID), so it is never a way in.
  - It never writes to the target: under strace, dump --native --locals
    and record make no process_vm_writev, no PTRACE_POKE* or PTRACE_SET*
    request and open no /proc/PID/mem for writing.
  - It holds a thread alone at real-time priority, and only then: under
    strace, record --pause raises itself to SCHED_FIFO before each
    PTRACE_SEIZE and goes back to SCHED_OTHER after the thread's detach,
    never raised twice in a row, and not raised at its end.

Needs root, useradd and setpriv (strace for the last case); each case
without them is skipped by name.  Standard library only (Python 3.6+).
"""
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import time

USER = "snakescope-test"
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE = 1, 2, 19
CAP_SYS_ADMIN, CAP_SYS_NICE, CAP_CHECKPOINT_RESTORE = 21, 23, 40
_created = [False]      # whether test_user() created USER


def test_user():
    """(uid, gid) of USER, created when missing; or a reason for None."""
    try:
        pw = pwd.getpwnam(USER)
        return (pw.pw_uid, pw.pw_gid), None
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        return None, "useradd not found"
    out = subprocess.run(["useradd", "--system", "--no-create-home",
                          "--shell", "/usr/sbin/nologin", USER],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if out.returncode != 0:
        return None, "useradd failed: %s" % out.stdout.decode(
            "utf-8", "replace").strip()
    _created[0] = True
    pw = pwd.getpwnam(USER)
    return (pw.pw_uid, pw.pw_gid), None


def remove_user():
    """Remove USER if test_user() created it (at the end of the run)."""
    if _created[0] and shutil.which("userdel"):
        subprocess.run(["userdel", USER], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        _created[0] = False


def as_user(ids, argv):
    return ["setpriv", "--reuid=%d" % ids[0], "--regid=%d" % ids[1],
            "--clear-groups"] + argv


def runs_as(ids, argv):
    """None if the user can run argv (exit 0), else why not."""
    try:
        out = subprocess.run(as_user(ids, argv), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if out.returncode != 0:
        return out.stdout.decode("utf-8", "replace").strip()[-300:] or \
            "exit status %d" % out.returncode
    return None


def yama_scope():
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def check_own_process(report, h, interps, workdir, ids):
    what = "unprivileged user %s dumps its own process" % USER
    if runs_as(ids, [h.SNAKESCOPE, "--version"]) is not None:
        report.skip(what + ": the user cannot execute %s" % h.SNAKESCOPE)
        return
    if runs_as(ids, ["test", "-r", os.path.join(h.TARGETS,
                                                 "threads.py")]) is not None:
        report.skip(what + ": the user cannot read %s" % h.TARGETS)
        return
    interp = None
    for path, version in interps:
        if h.major_minor(version) >= (3, 6) and \
                runs_as(ids, [path] + h.TARGET_FLAGS + ["-c", "pass"]) is None:
            interp = path
            break
    if interp is None:
        report.skip(what + ": no interpreter the user can run")
        return
    what += " (%s)" % interp
    d = os.path.join(workdir, "user-%d" % h.serial())
    os.makedirs(d)
    os.chown(d, ids[0], ids[1])
    cmd = as_user(ids, [interp] + h.TARGET_FLAGS +
                  [os.path.join(h.TARGETS, "threads.py")])
    t = h.Target(interp, "threads.py", d, cmd=cmd)
    try:
        # setpriv execs the interpreter: the pid is the target's.
        t.ready()
    except h.TargetError as e:
        t.kill()
        report.fail(what, ["target not ready: %s" % e])
        return
    try:
        res = h.run(as_user(ids, [h.SNAKESCOPE, "dump", "--json",
                                  str(t.pid)]))
        scope = yama_scope()
        if scope not in (None, 0):
            report.check(what + ": refused, Yama ptrace_scope %d" % scope,
                         h.expect_exit(res, [h.EXIT_PERM],
                                       ["ptrace_scope"]))
            return
        if res.timed_out or res.rc != h.EXIT_OK:
            report.check(what, ["expected exit status 0"] + res.describe())
            return
        try:
            doc = json.loads(res.out.decode("utf-8"))
        except ValueError as e:
            report.check(what, ["not JSON: %s" % e])
            return
        problems = h.compare_dump(t.record, doc)
        if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
            problems.append("target left stopped: %s"
                            % h.task_states(t.pid))
        report.check(what, problems)
        # Root, having let CAP_KILL go, cannot signal this process: that
        # must not read as "exited" after the pause.
        report.check("root takes a paused dump of %s's process" % USER,
                     h.dump_and_compare(t, ["--json"]))
    finally:
        t.kill()


def cap_sets(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Cap"):
                k, v = line.split(":")
                out[k] = int(v.strip(), 16)
    return out


def kernel_knows(cap):
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return cap <= int(f.read())
    except (OSError, ValueError):
        return False


def check_capabilities(report, h, t):
    what = "run by root, keeps only CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, " \
        "CAP_DAC_OVERRIDE, CAP_SYS_NICE and CAP_CHECKPOINT_RESTORE (else " \
        "CAP_SYS_ADMIN)"
    kept = (1 << CAP_SYS_PTRACE) | (1 << CAP_DAC_READ_SEARCH) | \
        (1 << CAP_DAC_OVERRIDE) | (1 << CAP_SYS_NICE)
    kept |= (1 << CAP_CHECKPOINT_RESTORE) \
        if kernel_knows(CAP_CHECKPOINT_RESTORE) else (1 << CAP_SYS_ADMIN)
    p = h.spawn([h.SNAKESCOPE, "watch", str(t.pid), "--every", "10"])
    try:
        # Wait for its first dump: by then it has dropped them.
        time.sleep(0.5)
        if p.poll() is not None:
            report.fail(what, ["watch exited with status %s" % p.returncode])
            return
        caps = cap_sets(p.pid)
    finally:
        h.kill(p)
    problems = []
    for k in ("CapEff", "CapPrm", "CapBnd"):
        extra = caps.get(k, 0) & ~kept
        if extra:
            problems.append("%s holds more: %#x (kept set %#x)"
                            % (k, caps[k], kept))
    for k in ("CapInh", "CapAmb"):
        if caps.get(k):
            problems.append("%s not empty: %#x" % (k, caps[k]))
    if not caps.get("CapEff", 0) & (1 << CAP_SYS_PTRACE):
        problems.append("CAP_SYS_PTRACE was dropped: %#x"
                        % caps.get("CapEff", 0))
    report.check(what, problems)


def check_setuid(report, h, t, workdir, ids):
    what = "installed set-user-ID root -> refused (exit 4, set-user-ID)"
    st = os.statvfs(workdir)
    if st.f_flag & os.ST_NOSUID:
        report.skip(what + ": %s is on a nosuid mount" % workdir)
        return
    d = os.path.join(workdir, "setuid-%d" % h.serial())
    os.makedirs(d)
    os.chmod(d, 0o755)
    exe = os.path.join(d, "snakescope")
    shutil.copy2(h.SNAKESCOPE, exe)
    os.chmod(exe, 0o755 | stat.S_ISUID)
    res = h.run(as_user(ids, [exe, "dump", str(t.pid)]))
    if res.rc == 126 or (res.rc == 127 and b"setpriv" in res.err):
        report.skip(what + ": the user cannot execute the copy: %s"
                    % res.text_err.strip())
        return
    report.check(what, h.expect_exit(res, [h.EXIT_PERM], ["set-user-ID"]))


WRITES = re.compile(r"process_vm_writev|PTRACE_POKE|PTRACE_SET|"
                    r"/proc/\d+/mem\", O_(WRONLY|RDWR)")


def check_no_writes(report, h, t, workdir):
    what = "never writes to the target (strace: no process_vm_writev, " \
        "PTRACE_POKE*/SET*, /proc/PID/mem opened for writing)"
    if shutil.which("strace") is None:
        report.skip(what + ": strace not found")
        return
    problems = []
    # LeakSanitizer cannot work under a tracer (sanitizer builds).
    asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
    env = dict(os.environ, ASAN_OPTIONS=":".join(asan + ["detect_leaks=0"]))
    for args in (["dump", "--native", "--locals", str(t.pid)],
                 ["record", str(t.pid), "--duration", "0.3", "-o",
                  os.path.join(workdir, "strace-%d.folded" % h.serial())]):
        log = os.path.join(workdir, "strace-%d.log" % h.serial())
        res = h.run(["strace", "-f", "-qq", "-o", log, "-e",
                     "trace=ptrace,process_vm_writev,process_vm_readv,"
                     "open,openat", h.SNAKESCOPE] + args, timeout=60,
                    env=env)
        if res.timed_out or res.rc != h.EXIT_OK:
            problems += ["%s: expected exit status 0" % args[0]] + \
                res.describe()
            continue
        with open(log) as f:
            text = f.read()
        if "process_vm_readv" not in text and "PTRACE_PEEK" not in text:
            problems.append("%s: strace saw no read of the target: is it "
                            "tracing?" % args[0])
        for line in text.splitlines():
            if WRITES.search(line):
                problems.append("%s: %s" % (args[0], line.strip()[:200]))
                break
    if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
        problems.append("target left stopped: %s" % h.task_states(t.pid))
    report.check(what, problems)


# The policy: SCHED_OTHER back (maybe |SCHED_RESET_ON_FORK); strace
# prints SCHED_FIFO|SCHED_RESET_ON_FORK as a number (0x40000001).
SCHED_RE = re.compile(r"sched_setscheduler\(0, ([^,]+),")


def check_realtime_holds(report, h, t, workdir):
    what = "holds a thread at real-time priority, and only while it " \
        "holds one (strace: SCHED_FIFO before each PTRACE_SEIZE, " \
        "SCHED_OTHER after its detach)"
    if shutil.which("strace") is None:
        report.skip(what + ": strace not found")
        return
    asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
    env = dict(os.environ, ASAN_OPTIONS=":".join(asan + ["detect_leaks=0"]))
    log = os.path.join(workdir, "strace-%d.log" % h.serial())
    out = os.path.join(workdir, "strace-%d.folded" % h.serial())
    res = h.run(["strace", "-qq", "-o", log, "-e",
                 "trace=ptrace,sched_setscheduler", h.SNAKESCOPE, "record",
                 str(t.pid), "--pause", "--rate", "50", "--duration", "0.5",
                 "-o", out], timeout=60, env=env)
    if res.timed_out or res.rc != h.EXIT_OK:
        report.fail(what, ["expected exit status 0"] + res.describe())
        return
    with open(log) as f:
        text = f.read()
    problems, raised, raises, seizes = [], False, 0, 0
    for line in text.splitlines():
        m = SCHED_RE.search(line)
        if m and not m.group(1).startswith("SCHED_OTHER"):
            if raised:
                problems.append("raised twice: %s" % line.strip()[:160])
            raised, raises = True, raises + 1
        elif m:
            raised = False
        elif "PTRACE_SEIZE" in line:
            seizes += 1
            if not raised:
                problems.append("a seize at ordinary priority: %s"
                                % line.strip()[:160])
        elif "PTRACE_DETACH" in line and not raised:
            problems.append("a detach after the priority went back: %s"
                            % line.strip()[:160])
    if not seizes:
        problems.append("strace saw no PTRACE_SEIZE: is it tracing?")
    if raises != seizes:
        problems.append("%d raises for %d seizes" % (raises, seizes))
    if raised:
        problems.append("still at real-time priority at the end")
    if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
        problems.append("target left stopped: %s" % h.task_states(t.pid))
    report.check(what, problems[:5])


def check_privileges(report, h, interps, first, workdir):
    """interps: (path, version) of every supported interpreter; first: the
    one the bad-input cases use."""
    if os.geteuid() != 0:
        report.skip("privilege cases: need root (to create a user and "
                    "start targets as it)")
        return
    if shutil.which("setpriv") is None:
        report.skip("privilege cases: setpriv not found")
        return
    ids, why = test_user()
    if ids is None:
        report.skip("privilege cases: no test user: %s" % why)
        return
    check_own_process(report, h, interps, workdir, ids)
    t = h.ready_target(report, first, "threads.py", workdir,
                       "threads.py for the privilege cases")
    if t is None:
        return
    try:
        check_capabilities(report, h, t)
        check_setuid(report, h, t, workdir, ids)
        check_no_writes(report, h, t, workdir)
        check_realtime_holds(report, h, t, workdir)
    finally:
        t.kill()
