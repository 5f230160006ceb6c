"""The async_locks scenario of deadlocks.py (Python 3.8+; a module of its
own so that Python 2.7 can still parse deadlocks.py).

Tasks "A1" and "A2" and asyncio.Locks X and Y: A1 takes X, lets the loop
run until A2 holds Y, then wants Y; A2 takes Y, lets the loop run until A1
holds X, then wants X.  deadlock, cycle [A1, A2].  The main task awaits
asyncio.gather(A1, A2), which is no lock wait.

The recorder is a plain thread started from inside the loop.  It polls
until both locks are held, each has exactly one waiter, and each task's
coroutine is suspended at its second `async with` line, all unchanged for
8 looks in a row; then it writes the record (see deadlocks.py) and ends.
"""
import asyncio
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402


async def async_a1(x, y):
    """Takes X, yields until A2 holds Y, then wants Y."""
    async with x:  # mark:async_locks.A1.hold
        while not y.locked():
            await asyncio.sleep(0)
        async with y:  # mark:async_locks.A1.wait
            pass


async def async_a2(x, y):
    """Takes Y, yields until A1 holds X, then wants X."""
    async with y:  # mark:async_locks.A2.hold
        while not x.locked():
            await asyncio.sleep(0)
        async with x:  # mark:async_locks.A2.wait
            pass


def place(func, marks, mark):
    code = func.__code__
    return {"function": _record.code_name(code),
            "filename": code.co_filename,
            "line": marks[mark]}


def look(tasks, locks, marks):
    """(snapshot, problems) of the tasks and the locks."""
    snap = []
    problems = []
    for name, lock in sorted(locks.items()):
        waiters = len(lock._waiters or ())
        if not lock.locked() or waiters != 1:
            problems.append("lock %s: locked %s, %d waiters"
                            % (name, lock.locked(), waiters))
        snap.append((name, lock.locked(), waiters))
    for name, task in sorted(tasks.items()):
        frame = task.get_coro().cr_frame
        want = marks["async_locks.%s.wait" % name]
        line = frame.f_lineno if frame is not None else None
        if line != want:
            problems.append("task %s: at line %s, expected %d"
                            % (name, line, want))
        snap.append((name, task.done(), line))
    return snap, problems


def record_when_settled(path, tasks, locks, marks, helpers):
    settle, write_record, fail = helpers
    prev = settle(lambda: look(tasks, locks, marks), "async_locks: tasks")
    funcs = {"A1": async_a1, "A2": async_a2}

    def lock_entry(lock, holder, waiter):
        w = {"party": waiter}
        w.update(place(funcs[waiter], marks, "async_locks.%s.wait" % waiter))
        return {"address": id(lock), "type": "asyncio.Lock", "name": None,
                "holder": holder,
                "held_since": place(funcs[holder], marks,
                                    "async_locks.%s.hold" % holder),
                "waiters": [w]}

    record = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": "async_locks",
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": dict((name, {"kind": "task", "id": id(task)})
                        for name, task in tasks.items()),
        "verdict": "deadlock",
        "cycle": ["A1", "A2"],
        "hang_chain": None,
        "blocked_loop": None,
        "locks": [lock_entry(locks["X"], "A1", "A2"),
                  lock_entry(locks["Y"], "A2", "A1")],
    }
    snap, problems = look(tasks, locks, marks)
    if problems or snap != prev:
        fail(["async_locks: tasks moved after they settled"] + problems)
    write_record(path, record)


async def main(path, marks, helpers):
    loop = asyncio.get_running_loop()
    x, y = asyncio.Lock(), asyncio.Lock()
    a1 = loop.create_task(async_a1(x, y), name="A1")
    a2 = loop.create_task(async_a2(x, y), name="A2")
    r = threading.Thread(target=record_when_settled, name="recorder",
                         args=(path, {"A1": a1, "A2": a2},
                               {"X": x, "Y": y}, marks, helpers))
    r.daemon = True
    r.start()
    await asyncio.gather(a1, a2)


def run(path, find_markers, settle, write_record, fail):
    """Run the scenario (never returns); the helpers come from
    deadlocks.py."""
    marks = find_markers(__file__)
    asyncio.run(main(path, marks, (settle, write_record, fail)))
