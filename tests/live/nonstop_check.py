"""Live checks: `record --native` and `record --pause` stop one thread at
a time, never the process (see live_test.py), against
tests/targets/busy_idle.py: a main thread spinning in pure Python among
100 threads waiting on an event.

check_nonstop(report, interp, version, workdir, harness)
    harness: the live_test module (see record_check.py).  Used: Target,
    SNAKESCOPE, TARGET_ENV, kill, major_minor, serial.

For each of --native and --pause, `record MODE --rate 100 -d 3 -f json`
runs while this test, all along:
  - reads the state of every idle thread in /proc/PID/task/TID/stat, over
    and over: none may ever be seen in a tracing stop ('t'), since no idle
    thread is sampled (a whole-process stop, 5-16% of the time before,
    is seen within a few reads);
  - sends SIGUSR1 every 0.25 s; the target's Python handler (on the busy
    main thread) logs each with its step count: every one must be handled,
    within LATE s of being sent (generous, for a loaded machine), and the
    step count must grow from each to the next (the busy thread keeps
    working).
Then: record exits 0; every sample is of the busy thread (its TID), whose
stack holds spin() and step() under main(), and with --native at least
one C frame (marked native) too, in every sample; and the samples are
many (at least a tenth of the 300 asked for: a loaded machine, or a
sanitizer build, is slow; a recording that stalls falls far below).

Python 3.8+ (the target names its threads' TIDs with
threading.get_native_id()); earlier versions SKIP by name.

Standard library only (Python 3.6+).
"""
import json
import os
import signal
import subprocess
import time
import traceback

NIDLE = 100
SECONDS = 3
RATE = 100
SIGNAL_EVERY = 0.25
LATE = 2.0      # a signal handled later than this after its sending fails
WAIT = 30.0     # for the target to start and record to finish


def wait_record(path, proc):
    deadline = time.monotonic() + WAIT
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("busy_idle.py exited with status %s"
                               % proc.returncode)
        if time.monotonic() > deadline:
            raise RuntimeError("busy_idle.py wrote no record in %gs" % WAIT)
        time.sleep(0.01)
    with open(path) as f:
        return json.load(f)


def task_state(pid, tid):
    """The state letter of thread tid, or None when it is gone."""
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid), "rb") as f:
            data = f.read()
    except OSError:
        return None
    # "TID (COMM) S ...": the name may hold anything, even ") ".
    return data[data.rindex(b")") + 2:][:1].decode("ascii", "replace")


def signals_handled(path):
    try:
        with open(path) as f:
            return [tuple(int(x) for x in line.split())
                    for line in f.read().splitlines() if line.strip()]
    except OSError:
        return []


def one_mode(cx, mode):
    """Problems of one recording with mode (--native or --pause)."""
    h = cx["h"]
    problems = []
    t = h.Target(cx["interp"], "busy_idle.py", cx["workdir"], [str(NIDLE)])
    try:
        rec = wait_record(t.record_path, t.proc)
        pid, busy = rec["pid"], rec["busy_native_id"]
        idle = rec["idle_native_ids"]
        out = os.path.join(cx["workdir"], "nonstop-%d.json" % h.serial())
        err = open(out + ".stderr", "wb")
        try:
            r = subprocess.Popen(
                [h.SNAKESCOPE, "record", mode, "--rate", str(RATE), "-d",
                 str(SECONDS), "-f", "json", "-o", out, str(pid)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err, env=h.TARGET_ENV)
        finally:
            err.close()
        sent = []
        reads = rounds = 0
        stopped_idle = {}
        next_signal = time.monotonic() + SIGNAL_EVERY
        deadline = time.monotonic() + SECONDS + WAIT
        while r.poll() is None and time.monotonic() < deadline:
            rounds += 1
            for tid in idle:
                state = task_state(pid, tid)
                reads += 1
                if state == "t":
                    stopped_idle[tid] = stopped_idle.get(tid, 0) + 1
            if time.monotonic() >= next_signal:
                sent.append(time.monotonic_ns() if hasattr(
                    time, "monotonic_ns") else int(time.monotonic() * 1e9))
                os.kill(pid, signal.SIGUSR1)
                next_signal += SIGNAL_EVERY
        if r.poll() is None:
            r.kill()
            r.wait()
            return ["record %s did not finish within %gs" % (mode, WAIT)]
        with open(out + ".stderr", "rb") as f:
            stderr = f.read().decode("utf-8", "replace").strip()
        if r.returncode != 0:
            return ["record %s: exit status %s; stderr: %s"
                    % (mode, r.returncode, stderr)]
        if stopped_idle:
            problems.append(
                "idle threads seen stopped during record %s (%d reads of "
                "their states in %d rounds): %s - the process, not one "
                "thread, was stopped" % (mode, reads, rounds, sorted(
                    stopped_idle.items())[:10]))
        if rounds < 20:
            problems.append("only %d rounds of idle-state reads during "
                            "record %s: too few to tell" % (rounds, mode))
        # the signals: each handled, on time, the work going on between
        deadline = time.monotonic() + WAIT
        handled = signals_handled(t.record_path + ".signals")
        while len(handled) < len(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
            handled = signals_handled(t.record_path + ".signals")
        if len(sent) < 4:
            problems.append("only %d signals sent" % len(sent))
        if len(handled) != len(sent):
            problems.append("%d SIGUSR1 sent during record %s, %d handled"
                            % (len(sent), mode, len(handled)))
        for i, (seq, steps, when) in enumerate(handled[:len(sent)]):
            if seq != i + 1:
                problems.append("signal log out of order: %r" % (handled,))
                break
            if when - sent[i] > LATE * 1e9:
                problems.append("SIGUSR1 %d handled %.3f s after it was "
                                "sent (more than %g s)"
                                % (seq, (when - sent[i]) / 1e9, LATE))
            if i and steps <= handled[i - 1][1]:
                problems.append("the busy thread made no progress between "
                                "signals %d and %d (steps %d, %d)"
                                % (seq - 1, seq, handled[i - 1][1], steps))
        # the samples
        with open(out) as f:
            samples = [json.loads(line) for line in f if line.strip()]
        others = set(s.get("native_id") for s in samples) - set([busy])
        if others:
            problems.append("threads other than the busy one sampled: %s"
                            % sorted(others, key=str)[:10])
        mine = [s for s in samples if s.get("native_id") == busy]
        if len(mine) < SECONDS * RATE // 10:
            problems.append("%d samples of the busy thread, fewer than a "
                            "tenth of the %d asked (stderr: %s)"
                            % (len(mine), SECONDS * RATE, stderr))
        bad = 0
        for s in mine:
            names = [fr.get("function") for fr in s["frames"]
                     if not fr.get("native")]
            native = [fr for fr in s["frames"] if fr.get("native")]
            # the signal handler may run on top (its time comes)
            if names[:1] == ["on_usr1"]:
                names = names[1:]
            if names[-3:] != ["spin", "main", "<module>"] or \
                    names[:-3] not in ([], ["step"]) or \
                    (mode == "--native") != bool(native):
                bad += 1
                if bad <= 3:
                    problems.append("a sample of the busy thread: %r"
                                    % s["frames"])
        if bad:
            problems.append("%d of %d samples of the busy thread are not "
                            "[on_usr1,] [step,] spin, main, <module>%s"
                            % (bad, len(mine), " with C frames"
                               if mode == "--native" else ""))
        cx["report"].note("%s: nonstop: record %s: %d samples, %d signals "
                          "handled, %d reads of idle states in %d rounds"
                          % (cx["label"], mode, len(mine), len(handled),
                             reads, rounds))
    finally:
        t.kill()
    return problems


def check_nonstop(report, interp, version, workdir, harness):
    label = "%s %s" % (version, interp)
    mm = harness.major_minor(version)
    if mm is None or mm < (3, 8):
        for mode in ("--native", "--pause"):
            report.skip("%s: nonstop: record %s stops one thread at a "
                        "time: only checked on 3.8+ (busy_idle.py names "
                        "its threads' TIDs with threading.get_native_id())"
                        % (label, mode))
        return
    cx = {"h": harness, "interp": interp, "workdir": workdir,
          "report": report, "label": label}
    for mode in ("--native", "--pause"):
        what = ("%s: nonstop: record %s stops one thread at a time (idle "
                "threads never stopped, the busy one working on, signals "
                "handled on time)" % (label, mode))
        try:
            problems = one_mode(cx, mode)
        except Exception:
            problems = traceback.format_exc().splitlines()
        if problems:
            report.fail(what, problems)
        else:
            report.ok(what)
