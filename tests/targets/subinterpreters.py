"""Live-test target: threads running code in sub-interpreters (3.12+).

Two threads of the main interpreter each enter a sub-interpreter of their
own and park there.  Such an OS thread has a thread state in both
interpreters: in the main one it is parked in run_in_sub() (the call into
the sub-interpreter), in the sub-interpreter in sub_park().  The code in
the sub-interpreter records its own stack, interpreter id and thread name
into a side file, which the main interpreter adds to its record (with
"interpreter_id"; the other threads are in interpreter 0).

usage: python subinterpreters.py RECORD_PATH   (see _record.py)
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

try:
    import _interpreters as interpreters          # 3.13+
    run_string = interpreters.exec
except ImportError:
    import _xxsubinterpreters as interpreters     # 3.12
    run_string = interpreters.run_string

# Runs as __main__ of the sub-interpreter; PATH is prepended.
SUB_CODE = r'''
import dis, json, os, sys, threading, time
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters


def interp_id():
    cur = interpreters.get_current()
    return int(cur[0] if isinstance(cur, tuple) else cur)


def sub_park(path):
    last = max(ln for _, ln in dis.findlinestarts(sub_park.__code__) if ln)
    frames = []
    f = sys._getframe()
    while f is not None:
        code = f.f_code
        frames.append({"function": getattr(code, "co_qualname", code.co_name),
                       "filename": code.co_filename,
                       "line": last if not frames else f.f_lineno})
        f = f.f_back
    me = threading.current_thread()
    entry = {"interpreter_id": interp_id(), "thread_id": threading.get_ident(),
             "native_id": threading.get_native_id(), "name": me.name,
             "compare": "all", "frames": frames}
    with open(path + ".tmp", "w") as out:
        json.dump(entry, out)
    os.rename(path + ".tmp", path)
    time.sleep(1e6)


sub_park(PATH)
'''


def run_in_sub(code):
    # Created by this thread, so that its first thread state is this
    # thread's: 3.12's run_string() runs code in the interpreter's first
    # thread state, whichever thread created it.
    iid = interpreters.create()
    run_string(iid, code)


def main_park(ev):
    ev.wait()


def main():
    rec = _record.recorder_from_argv()
    sides = []
    for i in range(2):
        side = "%s.sub%d" % (rec.path, i)
        sides.append(side)
        rec.thread("sub-runner-%d" % i, run_in_sub,
                   "PATH = %r\n%s" % (side, SUB_CODE))
    deadline = time.time() + 20
    while not all(os.path.exists(s) for s in sides):
        if time.time() > deadline:
            sys.stderr.write("subinterpreters: no side records\n")
            os._exit(3)
        time.sleep(0.01)
    for side in sides:
        with open(side) as f:
            rec.extra.append(json.load(f))
    rec.start()
    rec.park(main_park, threading.Event())


if __name__ == "__main__":
    main()
