"""Live-test target for `snakescope dump --native`: threads stopped in C.

usage: python native_target.py RECORD_PATH EXT_DIR

EXT_DIR holds the _nativetest extension (tests/targets/_nativetest.c) that
the tests built for this interpreter.

Threads, each blocked for good:
  "ext-block"     ext_block() -> _nativetest.block(): C waits in
                  pthread_cond_wait (nt_wait_forever, nt_block)
  "callback"      cb_outer() -> _nativetest.call(cb_inner) -> C calls
                  cb_inner() -> _nativetest.block(): Python, C, Python, C
  "ctypes-sleep"  ctypes_sleep() -> libc sleep() through ctypes (libffi)
  "qsort-cb"      qsort_outer() -> libc qsort() through ctypes, which
                  calls the CFUNCTYPE comparator qsort_cmp() ->
                  _nativetest.block()
  "nt-c-worker"   a pthread started by the extension that never runs
                  Python (nt_c_thread_loop in pause())
  main thread     sleeps in main_sleep()

When every thread is in place it writes RECORD_PATH atomically:

  {"pid": int, "version": "3.12.1", "ready": true, "file": __file__,
   "c_thread": TID,
   "threads": {NAME: {"tid": TID, "stack": [[function, file, line], ...]}}}

with each Python thread's stack as the thread itself saw it, innermost
first (function names as co_name).  Works on Python 2.7 and 3.6+.
"""
import ctypes
import json
import os
import sys
import threading
import time

RECORD = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import _nativetest  # noqa: E402

libc = ctypes.CDLL(None)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
stacks = {}
arrived = {}
lock = threading.Lock()


def here(name):
    """Note this thread's stack (from the caller of here()) and TID."""
    f = sys._getframe(1)
    stack = []
    while f is not None:
        stack.append([f.f_code.co_name, f.f_code.co_filename, f.f_lineno])
        f = f.f_back
    with lock:
        stacks[name] = {"tid": _nativetest.gettid(), "stack": stack}
        arrived[name] = threading.Event()
    arrived[name].set()


def ext_block():
    here("ext-block"); _nativetest.block()  # noqa: E702


def cb_inner():
    here("callback"); _nativetest.block()  # noqa: E702


def cb_outer():
    _nativetest.call(cb_inner)


def ctypes_sleep():
    here("ctypes-sleep"); libc.sleep(1000000)  # noqa: E702


def qsort_cmp(a, b):
    here("qsort-cb"); _nativetest.block()  # noqa: E702
    return 0


def qsort_outer():
    arr = (ctypes.c_int * 2)(2, 1)
    cmp = CMP(qsort_cmp)
    libc.qsort(arr, 2, ctypes.sizeof(ctypes.c_int), cmp)


def main_sleep():
    while True:
        time.sleep(3600)


def main():
    threads = {"ext-block": ext_block, "callback": cb_outer,
               "ctypes-sleep": ctypes_sleep, "qsort-cb": qsort_outer}
    for name, fn in sorted(threads.items()):
        t = threading.Thread(target=fn, name=name)
        t.daemon = True
        t.start()
    c_tid = _nativetest.start_c_thread()
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if len(stacks) == len(threads):
                break
        time.sleep(0.01)
    # Each thread noted its stack just before it went into C: let it get
    # there.
    time.sleep(0.3)
    record = {"pid": os.getpid(), "version": sys.version.split()[0],
              "ready": True, "file": os.path.abspath(__file__),
              "c_thread": c_tid, "threads": stacks}
    tmp = RECORD + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.rename(tmp, RECORD)
    main_sleep()


main()
