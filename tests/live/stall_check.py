"""The live cases of `snakescope watch --on-stall T`, against
tests/targets/stall.py.

check_stall(report, interp, version, workdir, harness)
    harness: the live_test module (see record_check.py).  Used: Target,
    SNAKESCOPE, TARGET_ENV, kill, major_minor.

    hang     the target works (its stack changes all the time), then at a
             moment it records (time.time() and its stack) blocks forever
             on a lock.  `watch PID --on-stall 1 --count 1 -o FILE --json
             --exec CMD` exits 0 having written exactly one dump: its
             timestamp not before the hang + T (and within hang + T + 5 s:
             generous, for a loaded machine), its reason "stall", the main
             thread's stack the one the target recorded; CMD ran once, with
             FILE as $1 and in SNAKESCOPE_DUMP, the dump already complete
    busy     a target that keeps working: `watch --on-stall 1 -o FILE`
             writes nothing in 3 s (3 T); SIGINT ends it with status 0
    deadlock two threads deadlock while the main thread keeps working
             (no stall): `watch --on-stall 1 --count 2 -o FILE.%n --json`
             writes FILE.1 with reason "deadlock" and verdict "deadlock",
             stamped not before the deadlock, and no second dump in 3 T
             more (the same deadlock is dumped once); SIGINT: status 0

Standard library only (Python 3.6+).
"""
import datetime
import json
import os
import signal
import subprocess
import time
import traceback

T = 1.0          # --on-stall
LATE = 5.0       # a dump later than hang + T + LATE is a failure
WAIT = 30.0      # for the target and for watch to finish


def wait_file(path, proc, what):
    deadline = time.monotonic() + WAIT
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("%s exited with status %s" % (what,
                                                             proc.returncode))
        if time.monotonic() > deadline:
            raise RuntimeError("%s: no %s within %gs" % (what, path, WAIT))
        time.sleep(0.01)
    with open(path) as f:
        return json.load(f)


def iso_seconds(stamp):
    """'2026-12-07T11:53:01.074+00:00' -> seconds since the epoch."""
    return datetime.datetime.strptime(
        stamp[:-3] + stamp[-2:], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def frame_tuples(frames):
    return [(f[0], os.path.basename(f[1]), f[2]) for f in frames]


def watch(cx, t, out, *extra):
    err = open(out + ".stderr", "wb")
    try:
        return subprocess.Popen(
            [cx.h.SNAKESCOPE, "watch", str(t.pid), "--on-stall", str(T),
             "-o", out] + list(extra), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, env=cx.h.TARGET_ENV)
    finally:
        err.close()


def finish(p, timeout):
    """Its exit status, or None (then it is killed)."""
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def stderr_of(out):
    try:
        with open(out + ".stderr", "rb") as f:
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def check_hang(cx, f):
    problems = []
    t = cx.h.Target(cx.interp, "stall.py", cx.workdir, ["hang"])
    out = cx.out_path("stall-hang", "json")
    log = out + ".exec"
    cmd = ('{ printf "%%s\\n%%s\\n" "$1" "$SNAKESCOPE_DUMP"; '
           'cat "$1"; } >> %s' % log)
    w = None
    try:
        wait_file(t.record_path + ".start", t.proc, "stall.py")
        w = watch(cx, t, out, "--count", "1", "--json", "--exec", cmd)
        record = wait_file(t.record_path, t.proc, "stall.py")
        rc = finish(w, record["hang_time"] - time.time() + T + WAIT)
        if rc != 0:
            return ["watch: exit status %s (expected 0); stderr: %s"
                    % (rc, stderr_of(out))]
        others = [p for p in os.listdir(cx.workdir)
                  if p.startswith(os.path.basename(out) + ".")
                  and not p.endswith((".stderr", ".exec"))]
        if others:
            problems.append("more dumps than --count 1: %s" % others)
        with open(out) as fp:
            lines = fp.read().splitlines()
        if len(lines) != 1:
            return ["expected one JSON line, got %d" % len(lines)] + lines[:5]
        doc = json.loads(lines[0])
        when = iso_seconds(doc["timestamp"])
        hang = record["hang_time"]
        # The timestamp has milliseconds, cut (not rounded): 1 ms of slack.
        if when < hang + T - 0.001:
            problems.append("dumped at %s, %.3f s after the hang: before "
                            "T = %g s" % (doc["timestamp"], when - hang, T))
        if when > hang + T + LATE:
            problems.append("dumped at %s, %.3f s after the hang: later "
                            "than T + %g s" % (doc["timestamp"], when - hang,
                                               LATE))
        if doc.get("reason") != "stall" or doc.get("dump") != 1:
            problems.append("reason %r dump %r, expected 'stall' 1"
                            % (doc.get("reason"), doc.get("dump")))
        if not doc.get("stalled_s", 0) >= T:
            problems.append("stalled_s %r < T" % doc.get("stalled_s"))
        threads = doc.get("threads") or []
        if len(threads) != 1:
            problems.append("expected 1 thread, got %d" % len(threads))
        else:
            got = [(fr.get("function"), os.path.basename(fr.get("filename")
                                                         or ""),
                    fr.get("line")) for fr in threads[0].get("frames", ())]
            exp = frame_tuples(record["frames"])
            if got != exp:
                problems.append("stack %r, the target recorded %r"
                                % (got, exp))
        try:
            with open(log) as fp:
                ran = fp.read().splitlines()
        except OSError:
            ran = []
        if ran[:2] != [out, out] or ran[2:] != lines:
            problems.append("--exec: expected $1 and SNAKESCOPE_DUMP = %s "
                            "and the dump, once; got %r" % (out, ran[:4]))
        return problems
    finally:
        if w is not None and w.poll() is None:
            w.kill()
            w.wait()
        cx.h.kill(t.proc)


def check_busy(cx, f):
    problems = []
    t = cx.h.Target(cx.interp, "stall.py", cx.workdir, ["busy"])
    out = cx.out_path("stall-busy", "txt")
    w = None
    try:
        wait_file(t.record_path, t.proc, "stall.py")
        w = watch(cx, t, out, "--count", "1")
        time.sleep(3 * T)
        if w.poll() is not None:
            problems = ["watch exited (status %s) while the target worked; "
                        "stderr: %s" % (w.returncode, stderr_of(out))]
            if os.path.exists(out):
                with open(out) as fp:
                    problems.extend(fp.read().splitlines()[:30])
            return problems
        w.send_signal(signal.SIGINT)
        rc = finish(w, WAIT)
        if rc != 0:
            problems.append("watch after SIGINT: exit status %s (expected "
                            "0); stderr: %s" % (rc, stderr_of(out)))
        if os.path.exists(out):
            with open(out) as fp:
                problems.append("a dump of a target that kept working:")
                problems.extend(fp.read().splitlines()[:20])
        return problems
    finally:
        if w is not None and w.poll() is None:
            w.kill()
            w.wait()
        cx.h.kill(t.proc)


def check_deadlock(cx, f):
    problems = []
    t = cx.h.Target(cx.interp, "stall.py", cx.workdir, ["deadlock"])
    base = cx.out_path("stall-deadlock", "json")
    w = None
    try:
        record = wait_file(t.record_path, t.proc, "stall.py")
        w = watch(cx, t, base + ".%n", "--count", "2", "--json")
        first = base + ".1"
        deadline = time.monotonic() + WAIT
        while not os.path.exists(first) and w.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        if not os.path.exists(first):
            return ["no dump of the deadlock (watch status %s); stderr: %s"
                    % (w.poll(), stderr_of(base + ".%n"))]
        time.sleep(3 * T)
        if w.poll() is not None:
            problems.append("watch exited (status %s) before SIGINT"
                            % w.returncode)
        else:
            w.send_signal(signal.SIGINT)
            rc = finish(w, WAIT)
            if rc != 0:
                problems.append("watch after SIGINT: exit status %s"
                                % rc)
        with open(first) as fp:
            lines = fp.read().splitlines()
        if len(lines) != 1:
            return problems + ["expected one JSON line, got %d"
                               % len(lines)] + lines[:5]
        doc = json.loads(lines[0])
        if doc.get("reason") != "deadlock" or \
                doc.get("verdict") != "deadlock":
            problems.append("reason %r verdict %r, expected deadlock"
                            % (doc.get("reason"), doc.get("verdict")))
        when = iso_seconds(doc["timestamp"])
        if when < record["deadlock_time"] - 0.001:
            problems.append("dumped at %s, before the deadlock"
                            % doc["timestamp"])
        if os.path.exists(base + ".2"):
            problems.append("the same deadlock dumped twice")
        return problems
    finally:
        if w is not None and w.poll() is None:
            w.kill()
            w.wait()
        cx.h.kill(t.proc)


def check_stall(report, interp, version, workdir, harness):
    from record_check import Context, Findings
    label = "%s %s: watch --on-stall" % (version, interp)
    cx = Context(harness, interp, version, workdir)
    f = Findings(label)
    for what, case in (("a hang is dumped once, after T, with its stack "
                        "and --exec", check_hang),
                       ("a working target is not dumped", check_busy),
                       ("a deadlock beside a working thread is dumped "
                        "once", check_deadlock)):
        try:
            f.check(what, case(cx, f))
        except Exception:
            f.check(what, traceback.format_exc().splitlines())
    f.report_to(report)
