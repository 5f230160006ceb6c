"""Live checks: `record --native` and `record --pause` stop one thread at
a time, never the process (see live_test.py), against
tests/targets/busy_idle.py: a main thread spinning in pure Python among
100 threads waiting on an event.

check_nonstop(report, interp, version, workdir, harness)
    harness: the live_test module (see record_check.py).  Used: Target,
    SNAKESCOPE, TARGET_ENV, kill, major_minor, serial.

For each of --native, --pause and --pause --idle, `record MODE --rate 100
-d 3 -f json` runs while this test, all along:
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
With --pause --idle every thread is sampled, the idle ones read without
a stop (they are off CPU): none is ever seen stopped all the same, each
is in the samples, and every sample of one is exactly the stack it
recorded for itself; the floor on the busy thread's samples is lower
(1/60 of those asked: each sample reads 101 threads).

For each of `dump --native --nonstop --json` and `dump --nonstop --json`
(and once `dump --nonstop` in text), on the same target, while the dump
runs this test reads the state of every thread of the target over and
over: a dump held each thread once, so a thread A seen in a tracing stop,
then another B, then A again, was stopped with B at once - a failure (a
whole-process pause is seen so at once).  Then: dump exits 0; the
document says "consistency": "per-thread" and "paused": false (the text,
"Read thread by thread"); every idle thread's Python frames are the stack
the thread's own record gives (function, file, line, in order); the busy
thread's are [step,] spin, main, <module>; every thread has C frames with
--native, none without; no frame is marked torn.  `watch --nonstop
--json --every 0.3 --count 3` gives three such documents, no idle thread
seen stopped; `top --pause --idle` (3 text screens), whose stack pane is
read thread by thread too, stops no idle thread either.  Without --native the
idle threads are read without a stop: snakescope's own count
(SNAKESCOPE_TIMING) must say so of at least 90 of the 100, and no idle
thread may be seen stopped.  --nonstop --no-pause is refused (exit 2).

Python 3.8+ (the target names its threads' TIDs with
threading.get_native_id()); earlier versions SKIP by name.

Standard library only (Python 3.6+).
"""
import json
import os
import re
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


def ended(r, out, what):
    """[problems] of process r once its watcher is done: killed when still
    running, or its exit status when not 0 (with OUT.stderr)."""
    if r.poll() is None:
        r.kill()
        r.wait()
        return ["%s did not finish within %gs" % (what, WAIT)]
    with open(out + ".stderr", "rb") as f:
        stderr = f.read().decode("utf-8", "replace").strip()
    if r.returncode != 0:
        return ["%s: exit status %s; stderr: %s"
                % (what, r.returncode, stderr)]
    return []


def one_mode(cx, args):
    """Problems of one recording with args (--native, --pause, --pause
    --idle)."""
    h = cx["h"]
    mode = " ".join(args)
    every = "--idle" in args
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
                [h.SNAKESCOPE, "record"] + args + ["--rate", str(RATE), "-d",
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
            # The next signal only once the last is handled: two of the
            # same signal pending at once are one, and on a loaded machine
            # the busy thread can go 0.25 s without a CPU (lateness is
            # checked below).
            if time.monotonic() >= next_signal and len(signals_handled(
                    t.record_path + ".signals")) >= len(sent):
                sent.append(time.monotonic_ns() if hasattr(
                    time, "monotonic_ns") else int(time.monotonic() * 1e9))
                os.kill(pid, signal.SIGUSR1)
                next_signal = time.monotonic() + SIGNAL_EVERY
        failed = ended(r, out, "record %s" % mode)
        if failed:
            return failed
        with open(out + ".stderr", "rb") as f:
            stderr = f.read().decode("utf-8", "replace").strip()
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
        if every:
            problems += idle_samples(rec, samples, idle)
        elif others:
            problems.append("threads other than the busy one sampled: %s"
                            % sorted(others, key=str)[:10])
        mine = [s for s in samples if s.get("native_id") == busy]
        # With --idle, beside a loaded machine (two CI shares at once):
        # 5.9 to 9.6 samples a second were seen.
        floor = SECONDS * RATE // (60 if every else 10)
        if len(mine) < floor:
            problems.append("%d samples of the busy thread, fewer than %d "
                            "of the %d asked (stderr: %s)"
                            % (len(mine), floor, SECONDS * RATE, stderr))
        bad = 0
        for s in mine:
            names = [fr.get("function") for fr in s["frames"]
                     if not fr.get("native")]
            native = [fr for fr in s["frames"] if fr.get("native")]
            # the signal handler may run on top (its time comes), and
            # what it calls (open(): 3.9's _bootlocale, seen once)
            if "on_usr1" in names:
                names = names[names.index("on_usr1") + 1:]
            if names[-3:] != ["spin", "main", "<module>"] or \
                    names[:-3] not in ([], ["step"]) or \
                    (mode == "--native") != bool(native):
                bad += 1
                if bad <= 3:
                    problems.append("a sample of the busy thread: %r"
                                    % s["frames"])
        if bad:
            problems.append("%d of %d samples of the busy thread are not "
                            "[on_usr1 ...,] [step,] spin, main, <module>%s"
                            % (bad, len(mine), " with C frames"
                               if mode == "--native" else ""))
        cx["report"].note("%s: nonstop: record %s: %d samples, %d signals "
                          "handled, %d reads of idle states in %d rounds"
                          % (cx["label"], mode, len(mine), len(handled),
                             reads, rounds))
    finally:
        t.kill()
    return problems


def idle_samples(rec, samples, idle):
    """Problems of the idle threads' samples of record --pause --idle:
    each thread sampled, each sample its recorded stack."""
    problems, missing = [], []
    stacks = rec["idle_stacks"]
    for tid in idle:
        mine = [s for s in samples if s.get("native_id") == tid]
        if not mine:
            missing.append(tid)
            continue
        for s in mine:
            # a sample names a file by "file", the standard library's
            # short (threading.py): compared by its base name
            py = [{"function": fr.get("function"), "line": fr.get("line"),
                   "filename": os.path.basename(fr.get("file") or "")}
                  for fr in s["frames"] if not fr.get("native")]
            want = [(fn, os.path.basename(filename), line)
                    for fn, filename, line in stacks[str(tid)]]
            bad = same_python(want, py)
            if bad:
                problems.append("idle thread %d: %s" % (tid, bad[0]))
                break
        if len(problems) >= 3:
            break
    if missing:
        problems.append("%d idle threads never sampled: %s"
                        % (len(missing), missing[:10]))
    return problems


def all_tids(pid):
    try:
        return [int(x) for x in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return []


def watch_one_at_a_time(pid, proc):
    """Read every thread's state until proc exits: (rounds, stops seen,
    [problems]).  A thread is held once in a dump: A in 't', then B, then
    A again means A was held across B's stop."""
    tids = all_tids(pid)
    held = None
    rounds = seen = 0
    problems, stopped = [], set()
    deadline = time.monotonic() + WAIT
    while proc.poll() is None and time.monotonic() < deadline:
        rounds += 1
        for tid in tids:
            if task_state(pid, tid) != "t":
                continue
            seen += 1
            stopped.add(tid)
            if held is not None and held != tid and \
                    task_state(pid, held) == "t" and not problems:
                problems.append("threads %d and %d were stopped at once"
                                % (held, tid))
            held = tid
    return rounds, seen, problems, stopped


def quiet_problems(what, stderr, idle_stopped):
    """Problems of a dump --nonstop without --native: its idle threads
    read without a stop, as SNAKESCOPE_TIMING's count says and as none
    was seen stopped."""
    problems = []
    m = re.search(r"(\d+) reads of a thread off CPU without a stop, "
                  r"(\d+) read again", stderr)
    if not m:
        problems.append("%s: no count of reads without a stop in "
                        "SNAKESCOPE_TIMING's line: %r" % (what, stderr[:300]))
    elif int(m.group(1)) < NIDLE * 9 // 10:
        problems.append("%s: %s of the %d idle threads read without a "
                        "stop (%s read again)" % (what, m.group(1), NIDLE,
                                                  m.group(2)))
    if idle_stopped:
        problems.append("%s: idle threads seen stopped: %s"
                        % (what, sorted(idle_stopped)[:10]))
    return problems


def same_python(want, got):
    """Problems of the Python frames got (JSON) against the recorded
    stack want ([co_name, file, line], innermost first)."""
    if len(got) != len(want):
        return ["%d Python frames, the thread recorded %d: %r"
                % (len(got), len(want), got)]
    for g, (fn, filename, line) in zip(got, want):
        if (g.get("function") or "").split(".")[-1] != fn or \
                g.get("filename") != filename or g.get("line") != line:
            return ["Python frame %s:%s %s, recorded %s:%s %s"
                    % (g.get("filename"), g.get("line"), g.get("function"),
                       filename, line, fn)]
    return []


def one_dump(cx, t, rec, opts):
    """Problems of one `dump OPTS --json` of the busy_idle target t."""
    h = cx["h"]
    pid, busy = rec["pid"], rec["busy_native_id"]
    out = os.path.join(cx["workdir"], "nonstop-dump-%d.json" % h.serial())
    env = dict(h.TARGET_ENV, SNAKESCOPE_TIMING="1")
    idle = set(rec["idle_native_ids"])
    with open(out, "wb") as fo, open(out + ".stderr", "wb") as fe:
        r = subprocess.Popen([h.SNAKESCOPE, "dump"] + opts + [str(pid)],
                             stdin=subprocess.DEVNULL, stdout=fo,
                             stderr=fe, env=env)
    rounds, seen, problems, stopped = watch_one_at_a_time(pid, r)
    what = "dump %s" % " ".join(opts)
    failed = ended(r, out, what)
    if failed:
        return failed
    with open(out, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    with open(out + ".stderr", "rb") as f:
        stderr = f.read().decode("utf-8", "replace").strip()
    problems = ["%s: %s" % (what, p) for p in problems]
    if "--native" not in opts:
        problems += quiet_problems(what, stderr, stopped & idle)
    if "--json" not in opts:
        if "\nRead thread by thread (--nonstop)" not in text:
            problems.append("%s: no \"Read thread by thread\" line: %r"
                            % (what, text[:300]))
        return problems
    doc = json.loads(text)
    native = "--native" in opts
    if doc.get("consistency") != "per-thread" or doc.get("paused") is not \
            False:
        problems.append("%s: \"consistency\": %r, \"paused\": %r" % (
            what, doc.get("consistency"), doc.get("paused")))
    threads = dict((th.get("native_id"), th) for th in doc["threads"])
    stacks = rec["idle_stacks"]
    for tid in [busy] + sorted(int(x) for x in stacks):
        th = threads.get(tid)
        if th is None:
            problems.append("%s: thread %d is not in the dump" % (what, tid))
            continue
        frames = th.get("frames") or []
        py = [f for f in frames if f.get("kind", "python") == "python"]
        if tid == busy:
            names = [f.get("function") for f in py]
            bad = names[-3:] != ["spin", "main", "<module>"] or \
                names[:-3] not in ([], ["step"])
            bad = ["the busy thread's Python frames: %r" % names] if bad \
                else []
        else:
            bad = same_python(stacks[str(tid)], py)
        if native != any(f.get("kind") == "native" for f in frames):
            bad.append("C frames %s" % ("missing" if native else
                                        "without --native"))
        if th.get("torn") or any(f.get("torn") for f in frames):
            bad.append("frames marked torn: its hold did not keep it")
        if bad:
            problems.append("%s: thread %d: %s" % (what, tid, "; ".join(bad)))
            if len(problems) > 5:
                break
    cx["report"].note("%s: nonstop: %s: %d threads, %d stops seen in %d "
                      "rounds of state reads" % (cx["label"], what,
                                                 len(threads), seen, rounds))
    return problems


def run_watched(cx, rec, what, ext, argv):
    """snakescope ARGV PID on busy_idle's record rec, every thread's state
    read all along: (output path, rounds, stops seen, problems: two
    threads stopped at once, idle threads seen stopped), or [problems]
    when it failed."""
    h = cx["h"]
    pid = rec["pid"]
    out = os.path.join(cx["workdir"], "nonstop-%s-%d.%s"
                       % (argv[0], h.serial(), ext))
    with open(out, "wb") as fo, open(out + ".stderr", "wb") as fe:
        r = subprocess.Popen([h.SNAKESCOPE] + argv + [str(pid)],
                             stdin=subprocess.DEVNULL, stdout=fo,
                             stderr=fe, env=h.TARGET_ENV)
    rounds, seen, problems, stopped = watch_one_at_a_time(pid, r)
    failed = ended(r, out, what)
    if failed:
        return failed
    problems = ["%s: %s" % (what, p) for p in problems]
    stopped &= set(rec["idle_native_ids"])
    if stopped:
        problems.append("%s: idle threads seen stopped: %s"
                        % (what, sorted(stopped)[:10]))
    return out, rounds, seen, problems


def watch_nonstop(cx, rec):
    """Problems of `watch --nonstop --json --every 0.3 --count 3`: three
    dumps read thread by thread, each idle thread's stack its record's,
    no idle thread ever seen stopped."""
    what = "watch --nonstop --json"
    got = run_watched(cx, rec, what, "json", [
        "watch", "--nonstop", "--json", "--every", "0.3", "--count", "3"])
    if isinstance(got, list):
        return got
    out, rounds, seen, problems = got
    with open(out) as f:
        docs = [json.loads(line) for line in f if line.strip()]
    if len(docs) != 3:
        problems.append("%s: %d documents, not 3" % (what, len(docs)))
    for doc in docs:
        if doc.get("consistency") != "per-thread":
            problems.append("%s: dump %s: \"consistency\": %r"
                            % (what, doc.get("dump"),
                               doc.get("consistency")))
        threads = dict((th.get("native_id"), th) for th in doc["threads"])
        for tid, want in sorted(rec["idle_stacks"].items()):
            th = threads.get(int(tid))
            bad = ["not in the dump"] if th is None else same_python(
                want, [f for f in th.get("frames") or []
                       if f.get("kind", "python") == "python"])
            if bad:
                problems.append("%s: dump %s: thread %s: %s"
                                % (what, doc.get("dump"), tid, bad[0]))
                break
    cx["report"].note("%s: nonstop: %s: %d dumps, %d stops seen in %d "
                      "rounds of state reads" % (cx["label"], what,
                                                 len(docs), seen, rounds))
    return problems[:6]


def top_pause(cx, rec):
    """Problems of `top --pause --idle --iterations 3 --refresh 0.5` (as
    text): its samples and its stack pane's reads alike never stop the
    process, and the idle threads, off CPU, are never stopped at all."""
    what = "top --pause --idle"
    got = run_watched(cx, rec, what, "txt", [
        "top", "--pause", "--idle", "--iterations", "3", "--refresh", "0.5",
        "--size", "120x40"])
    if isinstance(got, list):
        return got
    out, rounds, seen, problems = got
    with open(out, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    if text.count("snakescope top ") != 3 or "STACK of" not in text:
        problems.append("%s: expected 3 screens with a stack pane: %r"
                        % (what, text[:300]))
    cx["report"].note("%s: nonstop: %s: %d stops seen in %d rounds of "
                      "state reads" % (cx["label"], what, seen, rounds))
    return problems


def dump_modes(cx):
    """Problems of the dumps --nonstop of one busy_idle target."""
    h = cx["h"]
    problems = []
    t = h.Target(cx["interp"], "busy_idle.py", cx["workdir"], [str(NIDLE)])
    try:
        rec = wait_record(t.record_path, t.proc)
        for opts in (["--native", "--nonstop", "--json"],
                     ["--nonstop", "--json"], ["--nonstop"]):
            problems += one_dump(cx, t, rec, opts)
        problems += watch_nonstop(cx, rec)
        problems += top_pause(cx, rec)
        r = subprocess.run([h.SNAKESCOPE, "dump", "--nonstop", "--no-pause",
                            str(rec["pid"])], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=h.TARGET_ENV)
        if r.returncode != 2:
            problems.append("dump --nonstop --no-pause: exit status %d, "
                            "not 2 (refused)" % r.returncode)
    finally:
        t.kill()
    return problems


TIMING = re.compile(r"nonstop: (\d+) holds of one thread.*; (\d+) reads of "
                    r"a thread off CPU without a stop, (\d+) read again "
                    r"stopped; (\d+) native stacks of a thread that had "
                    r"not run used again")
SUMMARY = re.compile(r"snakescope: (\d+) samples in")


def timed_record(cx, pid, args, out):
    """record ARGS of pid with SNAKESCOPE_TIMING=1: (samples, holds,
    quiet reads, read again, stacks used again), or a problem string."""
    h = cx["h"]
    r = subprocess.run([h.SNAKESCOPE, "record"] + args + ["-o", out,
                                                          str(pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=dict(h.TARGET_ENV, SNAKESCOPE_TIMING="1"),
                       timeout=WAIT + 10)
    err = r.stderr.decode("utf-8", "replace")
    m, s = TIMING.search(err), SUMMARY.search(err)
    if r.returncode != 0 or not m or not s:
        return "record %s: exit status %s; stderr: %s" % (
            " ".join(args), r.returncode, err.strip()[-600:])
    return (int(s.group(1)),) + tuple(int(x) for x in m.groups())


def still_idle(cx):
    """Problems of record --native --idle on busy_idle.py: an idle thread
    is held once, its stack then used again while it does not run."""
    h = cx["h"]
    t = h.Target(cx["interp"], "busy_idle.py", cx["workdir"], [str(NIDLE)])
    try:
        rec = wait_record(t.record_path, t.proc)
        out = os.path.join(cx["workdir"], "still-%d.folded" % h.serial())
        got = timed_record(cx, rec["pid"], ["--native", "--idle", "--rate",
                                             "20", "-d", "3"], out)
    finally:
        t.kill()
    if isinstance(got, str):
        return [got]
    samples, holds, _, _, reused = got
    problems = []
    # each sample holds the busy thread; an idle one once (twice when it
    # was not yet back asleep when its baseline was taken)
    if holds > samples + 2 * NIDLE:
        problems.append("busy_idle: %d holds in %d samples of 1 busy and "
                        "%d idle threads: idle threads held again and "
                        "again" % (holds, samples, NIDLE))
    # (a loaded machine may take seconds for the first sample, which
    # holds every thread: too few samples say nothing of the rest)
    if samples >= 5 and reused < (samples - 2) * NIDLE * 8 // 10:
        problems.append("busy_idle: %d native stacks used again in %d "
                        "samples of %d idle threads" % (reused, samples,
                                                        NIDLE))
    cx["report"].note("%s: nonstop: record --native --idle of busy_idle: "
                      "%d samples, %d holds, %d stacks used again"
                      % (cx["label"], samples, holds, reused))
    return problems


def wakers(cx):
    """Problems of record --native --idle -f json on wakers.py: threads
    that wake every 3 ms, between time.sleep (nap) and a lock's timed
    wait (hold); a stack used again after its thread moved on would give
    a sample whose C frames are the other call's."""
    h = cx["h"]
    t = h.Target(cx["interp"], "wakers.py", cx["workdir"], [])
    try:
        rec = wait_record(t.record_path, t.proc)
        out = os.path.join(cx["workdir"], "wakers-%d.json" % h.serial())
        got = timed_record(cx, rec["pid"], ["--native", "--idle", "--rate",
                                             "max", "-d", "2", "-f",
                                             "json"], out)
    finally:
        t.kill()
    if isinstance(got, str):
        return [got]
    samples, holds, quiet, again, reused = got
    problems, seen, bad = [], {}, []
    tids = set(rec["waker_native_ids"])
    with open(out) as f:
        for line in f:
            s = json.loads(line)
            if s.get("native_id") not in tids:
                continue
            py = [fr.get("function") for fr in s["frames"]
                  if not fr.get("native")]
            c = " ".join(fr.get("function") or "" for fr in s["frames"]
                         if fr.get("native"))
            call = [fn for fn in py if fn in ("nap", "hold")][:1]
            if not call:
                continue
            seen[call[0]] = seen.get(call[0], 0) + 1
            if (call[0] == "nap" and "sem_" in c) or \
                    (call[0] == "hold" and ("nanosleep" in c or
                                            "select" in c)):
                bad.append("%s with C frames %s" % (call[0], c[:200]))
    if bad:
        problems.append("wakers: %d samples pair one call's Python frame "
                        "with the other's C frames, e.g. %s"
                        % (len(bad), bad[:2]))
    if seen.get("nap", 0) < 10 or seen.get("hold", 0) < 10:
        problems.append("wakers: too few samples in nap and hold: %s"
                        % seen)
    if not reused:
        problems.append("wakers: no native stack used again (%d samples, "
                        "%d holds)" % (samples, holds))
    cx["report"].note("%s: nonstop: record --native --idle of wakers: %d "
                      "samples, %d holds, %d stacks used again, %d read "
                      "again; nap %d, hold %d"
                      % (cx["label"], samples, holds, reused, again,
                         seen.get("nap", 0), seen.get("hold", 0)))
    return problems


def run_case(report, what, problems_of):
    """Report the case 'what' by its problems (a crash is one)."""
    try:
        problems = problems_of()
    except Exception:
        problems = traceback.format_exc().splitlines()
    if problems:
        report.fail(what, problems)
    else:
        report.ok(what)


def check_nonstop(report, interp, version, workdir, harness):
    label = "%s %s" % (version, interp)
    mm = harness.major_minor(version)
    if mm is None or mm < (3, 8):
        for mode in ("--native", "--pause", "--pause --idle"):
            report.skip("%s: nonstop: record %s stops one thread at a "
                        "time: only checked on 3.8+ (busy_idle.py names "
                        "its threads' TIDs with threading.get_native_id())"
                        % (label, mode))
        report.skip("%s: nonstop: dump --nonstop stops one thread at a "
                    "time: only checked on 3.8+ (busy_idle.py names its "
                    "threads' TIDs with threading.get_native_id())" % label)
        report.skip("%s: nonstop: record --native --idle uses the stack of "
                    "a thread that has not run: only checked on 3.8+ "
                    "(threading.get_native_id())" % label)
        return
    cx = {"h": harness, "interp": interp, "workdir": workdir,
          "report": report, "label": label}
    for args in (["--native"], ["--pause"], ["--pause", "--idle"]):
        mode = " ".join(args)
        what = ("%s: nonstop: record %s stops one thread at a time (idle "
                "threads never stopped, the busy one working on, signals "
                "handled on time)" % (label, mode))
        if "--idle" in args:
            what = ("%s: nonstop: record %s reads idle threads without a "
                    "stop (never seen stopped, each sample its own record's "
                    "stack; the busy one working on, signals handled on "
                    "time)" % (label, mode))
        run_case(report, what, lambda: one_mode(cx, args))
    run_case(report, "%s: nonstop: record --native --idle holds a waiting "
             "thread once, then uses its stack while the kernel says it has "
             "not run (busy_idle: holds and stacks used again counted; "
             "wakers: no sample pairs one call's Python frame with "
             "another's C frames)" % label,
             lambda: still_idle(cx) + wakers(cx))
    run_case(report, "%s: nonstop: dump [--native] --nonstop, watch "
             "--nonstop and top --pause stop one thread at a time (never two "
             "at once; each thread's stack its own record's; marked "
             "per-thread)" % label, lambda: dump_modes(cx))
