"""`snakescope record --tasks` against a known await chain.

check_taskstack(report, interp, version, workdir, harness)
    Starts tests/targets/async_hot.py (task "main" awaits task "outer",
    which awaits task "inner", which spins in hot()), waits for its record
    (the chain as asyncio names it), and records it three times: folded
    and JSON lines with --pause (the stacks and the running task read in
    one stop of the process), and folded without it.  Every stack whose
    leaf is hot() must read, from the root: frames without a task mark
    (the loop, <module> first), then for each task of the recorded chain,
    outermost first, "<task NAME>" followed by that task's coroutine
    (its first frame), and inner's coroutine right under hot().  With
    --pause every such stack must be so; without it, a sample may catch
    the task between its steps (its stack as sampled), so at least one
    must be so and none otherwise marked.  Then async_hot.py cycle (the
    running task "spin" awaited by "a", which awaits "b", which awaits
    "a": an await cycle): the recording must end (no hang) and every
    hot() stack read b, a, spin, the chain stopping where a task comes
    back (folded, --pause).  Before 3.8 (no task names) the case is
    skipped by name.

Standard library only.
"""
import json
import os
import time

READY_TIMEOUT = 30.0
SECONDS = 1.5
MIN_HOT = 5          # hot() stacks a recording must hold


def _wait_record(t):
    deadline = time.monotonic() + READY_TIMEOUT
    while not os.path.exists(t.record_path):
        if t.proc.poll() is not None:
            raise RuntimeError("async_hot.py exited with status %s before "
                               "its record\nstderr: %s"
                               % (t.proc.returncode, t.stderr()))
        if time.monotonic() > deadline:
            raise RuntimeError("async_hot.py wrote no record within %gs"
                               % READY_TIMEOUT)
        time.sleep(0.01)
    with open(t.record_path) as f:
        record = json.load(f)
    if record.get("pid") != t.pid:
        raise RuntimeError("record pid %r != %d" % (record.get("pid"), t.pid))
    return record


NO_LOOP_FRAMES = "no loop frames from <module> before the first mark"


def stack_problem(functions, record):
    """None if functions (root first) show record's chain, else why."""
    chain, coros = record["chain"], record["coroutines"]
    marks = [i for i, f in enumerate(functions) if f.startswith("<task ")]
    want = ["<task %s>" % n for n in chain]
    got = [functions[i] for i in marks]
    if got != want:
        return "task marks %s, expected %s" % (got, want)
    if not marks or marks[0] == 0 or functions[0] != "<module>":
        return NO_LOOP_FRAMES
    for i, coro in zip(marks, coros):
        if i + 1 >= len(functions) or functions[i + 1] != coro:
            return "%s is not followed by its coroutine %s" % (
                functions[i], coro)
    if functions[-2:] != [coros[-1], record["leaf"]]:
        return "the stack does not end with %s;%s" % (coros[-1],
                                                       record["leaf"])
    return None


def folded_stacks(path):
    """[(functions root first, count)] of a folded file."""
    out = []
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            # "function (file:line)": the function is before the last " ("
            out.append(([fr.rsplit(" (", 1)[0] for fr in stack.split(";")],
                        int(count)))
    return out


def json_stacks(path):
    out = []
    with open(path) as f:
        for line in f:
            frames = json.loads(line)["frames"]
            out.append(([fr["function"] for fr in reversed(frames)], 1))
    return out


def judge(stacks, record, strict):
    """Problems of one recording's stacks."""
    hot = [(fs, n) for fs, n in stacks if fs and fs[-1] == record["leaf"]]
    total = sum(n for _, n in hot)
    problems, good, short = [], 0, []
    for fs, n in hot:
        why = stack_problem(fs, record)
        if why is None:
            good += n
        elif not strict and why == NO_LOOP_FRAMES and fs[0].startswith(
                "<task "):
            # Unpaused, the sampler may end a thread's walk early (a frame
            # being linked while read) without seeing a tear: the chain is
            # right, the loop frames under it missing.  A few are allowed,
            # as record_check allows a few lines off.
            short.append("%s (x%d): %s" % (";".join(fs), n, why))
        elif strict or any(f.startswith("<task ") for f in fs):
            problems.append("%s (x%d): %s" % (";".join(fs), n, why))
    if len(short) > max(1, total // 50):
        problems += ["%d stacks without the loop's frames" % len(short)] + \
            short[:5]
    if total < MIN_HOT:
        problems.append("only %d samples in %s()" % (total, record["leaf"]))
    elif not good:
        problems.append("no %s() stack shows the task chain"
                        % record["leaf"])
    return problems[:20], good, total


def check_taskstack(report, interp, version, workdir, harness):
    label = "%s %s: record --tasks" % (version, interp)
    mm = harness.major_minor(version)
    if mm < (3, 8):
        report.skip("%s: async_hot.py names its tasks, which needs "
                    "Python 3.8+" % label)
        return
    _check_shape(report, label, workdir, harness, interp, [],
                 (("folded", True, folded_stacks),
                  ("json", True, json_stacks),
                  ("folded", False, folded_stacks)))
    _check_shape(report, label + ": await cycle", workdir, harness, interp,
                 ["cycle"], (("folded", True, folded_stacks),))


def _check_shape(report, label, workdir, harness, interp, extra, ways):
    t = harness.Target(interp, "async_hot.py", workdir, extra)
    try:
        try:
            record = _wait_record(t)
        except RuntimeError as e:
            report.fail("%s: target ready" % label, str(e).splitlines())
            return
        for fmt, pause, read in ways:
            what = "%s%s" % (fmt, ", --pause" if pause else "")
            out = os.path.join(workdir, "taskstack-%d.%s"
                               % (harness.serial(), fmt))
            argv = ["record", "--tasks", "-d", SECONDS, "-f", fmt,
                    "-o", out] + (["--pause"] if pause else []) + [t.pid]
            res = harness.snakescope(*argv, timeout=SECONDS + 30)
            if res.timed_out or res.rc != 0:
                report.fail("%s: %s: exit status 0" % (label, what),
                            res.describe())
                continue
            problems, good, total = judge(read(out), record, pause)
            report.check("%s: %s: %d of %d hot() samples under %s"
                         % (label, what, good, total,
                            " > ".join(record["chain"])), problems)
    finally:
        t.kill()
