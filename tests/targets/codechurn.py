"""Stress target whose code keeps changing, so that code objects die and
their addresses are reused: one generation after another, the main thread
makes a new function, runs it for PERIOD seconds, then drops it.

usage: python codechurn.py RECORD_PATH LOG_PATH [PERIOD]   (until killed)

Generation N (N = 0, 1, ...) alternates between two ways of making code:
  even N: source compiled with compile()/exec() under the file name
          "<gen-N>" into a fresh namespace;
  odd N:  a module gen_mod_N.py written to a temporary directory,
          imported, then deleted from sys.modules and from the disk.
Either way the function is named gen_NNNNNN (six digits: every name has
the same length, so that the allocator hands a new generation the
memory of the previous one), has a local `gen` holding N, and spins in
its loop (lines 4-5 of its source, the function being lines 1-6) until
PERIOD seconds have passed.  Then every reference is dropped and the garbage collected
(a function and its namespace form a cycle).

Every generation appends one line to LOG_PATH when its function has
returned (flushed at once):

    N BORN DIED

BORN and DIED are CLOCK_MONOTONIC seconds (time.monotonic(); on 2.7 the
same clock through ctypes) taken just before the call and just after it
returns: a frame of gen_N can only be seen between them.

RECORD_PATH is written once the first generation runs (atomically):
  {"pid": int, "version": "3.12.1", "log": LOG_PATH, "period": PERIOD,
   "file": __file__, "main_native_id": TID|null}

Works on Python 2.7 and 3.6+; standard library only.
"""
import gc
import json
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _record import native_id  # noqa: E402

try:
    from time import monotonic
except ImportError:             # Python 2.7: CLOCK_MONOTONIC via libc
    import ctypes

    class _timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    _clock_gettime = ctypes.CDLL(None, use_errno=True).clock_gettime
    _ts = _timespec()

    def monotonic():
        _clock_gettime(1, ctypes.byref(_ts))      # CLOCK_MONOTONIC
        return _ts.tv_sec + _ts.tv_nsec * 1e-9

# Line 1 "def" (a frame not started yet), 2-6 the body (the loop on
# 4-5): the same for both ways.
SOURCE = """def gen_%06d(period):
    gen = %d
    end = now() + period
    while now() < end:
        pass
    return gen
"""
BODY_LINES = (1, 6)


def by_exec(n):
    ns = {"now": monotonic}
    code = compile(SOURCE % (n, n), "<gen-%d>" % n, "exec")
    exec(code, ns)
    return ns["gen_%06d" % n], None


def by_import(n, tmp):
    name = "gen_mod_%d" % n
    path = os.path.join(tmp, name + ".py")
    with open(path, "w") as f:
        f.write(SOURCE % (n, n))
    inv = getattr(__import__("importlib"), "invalidate_caches", None)
    if inv is not None:
        inv()
    mod = __import__(name)
    mod.now = monotonic
    return getattr(mod, "gen_%06d" % n), (name, path)


def drop_module(name, path):
    del sys.modules[name]
    for p in (path, path + "c"):
        if os.path.exists(p):
            os.unlink(p)
    cache = os.path.join(os.path.dirname(path), "__pycache__")
    if os.path.isdir(cache):
        shutil.rmtree(cache, ignore_errors=True)


def write_record(path, info):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, path)


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: codechurn.py RECORD_PATH LOG_PATH "
                         "[PERIOD]\n")
        sys.exit(2)
    record, log_path = sys.argv[1], sys.argv[2]
    period = float(sys.argv[3]) if len(sys.argv) == 4 else 0.05
    tmp = tempfile.mkdtemp(prefix="codechurn-")
    sys.path.insert(0, tmp)
    sys.dont_write_bytecode = True
    log = open(log_path, "w")
    info = {"pid": os.getpid(), "version": sys.version.split()[0],
            "log": log_path, "period": period,
            "file": os.path.abspath(__file__),
            "body_lines": list(BODY_LINES),
            "main_native_id": native_id()}
    n = 0
    try:
        while True:
            if n % 2:
                func, mod = by_import(n, tmp)
            else:
                func, mod = by_exec(n)
            born = monotonic()
            func(period)
            died = monotonic()
            log.write("%d %.6f %.6f\n" % (n, born, died))
            log.flush()
            if n == 0:
                write_record(record, info)
            del func
            if mod is not None:
                drop_module(*mod)
            gc.collect()
            n += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
