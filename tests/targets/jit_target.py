"""Live-test target for `snakescope dump --native` through JIT code.

usage: PYTHON_JIT=1 python jit_target.py RECORD_PATH

The main thread runs a loop hot enough for CPython's JIT (3.14+ built
with it, PYTHON_JIT=1) to compile it, calling lock.acquire(False) on a
held lock, which fails at once, from the compiled trace; its last turn
calls lock.acquire(True), which blocks for good: the native stack holds
the lock's wait, the JIT code that called it, and under it the
evaluation loop that entered the JIT code.

When the main thread is blocked (seen from a recorder thread) it writes
RECORD_PATH atomically:

  {"pid": int, "version": "3.15.0", "ready": true, "file": __file__,
   "jit": bool (the JIT is on), "tid": the main thread's TID,
   "stack": [[function, file, line], ...]}

with the main thread's stack as sys._current_frames() sees it,
innermost first.  Without the JIT, "jit" is false and the target still
blocks in the same place.  Standard library only (Python 3.6+).
"""
import json
import os
import sys
import threading
import time

RECORD = sys.argv[1]
TURNS = 200000
lock = threading.Lock()
lock.acquire()
flags = [False] * TURNS + [True]
main_ident = threading.current_thread().ident
main_tid = threading.get_native_id() if hasattr(threading,
                                                "get_native_id") else None


def hot(flags):
    n = 0
    for f in flags:
        n += lock.acquire(f)  # the last one blocks
    return n


def jit_on():
    jit = getattr(sys, "_jit", None)
    return bool(jit and jit.is_enabled())


def recorder():
    while True:
        f = sys._current_frames().get(main_ident)
        if f is not None and f.f_code.co_name == "hot" and \
                f.f_locals.get("f") is True:
            break
        time.sleep(0.01)
    time.sleep(0.2)  # into the wait
    f = sys._current_frames()[main_ident]
    stack = []
    while f is not None:
        stack.append([f.f_code.co_name, f.f_code.co_filename, f.f_lineno])
        f = f.f_back
    rec = {"pid": os.getpid(), "version": sys.version.split()[0],
           "ready": True, "file": __file__, "jit": jit_on(),
           "tid": main_tid, "stack": stack}
    tmp = RECORD + ".tmp"
    with open(tmp, "w") as out:
        json.dump(rec, out)
    os.rename(tmp, RECORD)


threading.Thread(target=recorder).start()
hot(flags)
