"""Live-test target for `snakescope record`: a known mix of hot and cold code.

usage: python profile_mix.py RECORD_PATH [--depth N] [--threads M]
                             [--exit-after S]

Every worker thread (the main thread, plus M-1 more named "worker-1"...
when M > 1) runs descend(N) -> loop(): N more descend frames, and loop()
calls hot() then cold() forever.  hot() spins pure-Python arithmetic for
about HOT_SECONDS of time.time(), cold() for about COLD_SECONDS; each spin's
length gets a random jitter (times 1 +- JITTER) so that the cycle never
locks in phase with a sampler's period.  Neither calls a Python function
while it spins (time.time() is a C call), so while a thread is in them, hot
or cold is its innermost Python frame.  The main thread's stack, root
first: <module>, main, descend x (N+1), loop, hot|cold.

The target measures itself: the time spent inside hot() and inside cold()
(from before the call to after it, by time.time()) and the number of loop
iterations, summed over the worker threads.  Note that with M > 1 a thread
waiting for the GIL inside hot() counts as in hot(): it is wall time.

A thread named "stats-writer" (function stats_writer, sleeping in between)
writes RECORD_PATH atomically (tmp + rename) once every worker has been
once round its loop:

  {"pid": int, "version": "3.12.1", "ready": true, "depth": N,
   "threads": M, "file": hot's co_filename,
   "functions": {"hot": [first, last], "cold": [...], "loop": [...],
                 "descend": [...], "stats_writer": [...]},
                                           (line spans, def line to end)
   "main_native_id": int|null}

and rewrites RECORD_PATH + ".stats" (also tmp + rename) at once and then
every STATS_INTERVAL seconds with cumulative figures:

  {"hot_seconds": float, "cold_seconds": float, "iterations": int,
   "elapsed": float (seconds since the workers started), "time": time.time()}

The main thread does no I/O, so a dump finds it in hot or cold (or, for a
moment, in loop).  A test takes two stats snapshots and compares the
differences with what a recording made in between saw.

--exit-after S: the stats writer ends the process (os._exit(0)) S seconds
after it is ready (every worker in its loop).

Works on Python 2.7 and 3.6+; standard library only.
"""
import json
import os
import random
import sys
import threading
import time

HOT_SECONDS = 0.003
COLD_SECONDS = 0.001
JITTER = 0.3            # each spin lasts its length times 1 +- JITTER
STATS_INTERVAL = 0.5


def hot(rng):
    end = time.time() + HOT_SECONDS * (1 + JITTER * (2 * rng() - 1))
    x = 0
    while time.time() < end:
        x = (x * 31 + 7) % 1000003
    return x


def cold(rng):
    end = time.time() + COLD_SECONDS * (1 + JITTER * (2 * rng() - 1))
    x = 0
    while time.time() < end:
        x = (x * 17 + 3) % 1000033
    return x


class Counters(object):
    def __init__(self):
        self.hot = 0.0
        self.cold = 0.0
        self.iterations = 0


def loop(counters):
    rng = random.Random().random
    while True:
        t0 = time.time()
        hot(rng)
        t1 = time.time()
        cold(rng)
        t2 = time.time()
        counters.hot += t1 - t0
        counters.cold += t2 - t1
        counters.iterations += 1


def descend(n, counters):
    if n > 0:
        return descend(n - 1, counters)
    return loop(counters)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, sort_keys=True))
    os.rename(tmp, path)


def native_id():
    get = getattr(threading, "get_native_id", None)
    if get is not None:
        return get()
    try:
        import ctypes
        import platform
        nr = {"x86_64": 186, "aarch64": 178}.get(platform.machine())
        if nr is None:
            return None
        tid = ctypes.CDLL(None, use_errno=True).syscall(nr)
        return tid if tid > 0 else None
    except Exception:
        return None


def span(func):
    code = func.__code__
    import dis
    lines = [ln for _, ln in dis.findlinestarts(code) if ln is not None]
    return [code.co_firstlineno, max(lines)]


def usage():
    sys.stderr.write("usage: profile_mix.py RECORD_PATH [--depth N] "
                     "[--threads M] [--exit-after S]\n")
    sys.exit(2)


def parse_args(argv):
    if not argv or argv[0].startswith("-"):
        usage()
    opts = {"record": argv[0], "depth": 0, "threads": 1, "exit_after": None}
    i = 1
    try:
        while i < len(argv):
            name = argv[i]
            if name == "--depth":
                opts["depth"] = int(argv[i + 1])
            elif name == "--threads":
                opts["threads"] = int(argv[i + 1])
            elif name == "--exit-after":
                opts["exit_after"] = float(argv[i + 1])
            else:
                usage()
            i += 2
    except (IndexError, ValueError):
        usage()
    if opts["depth"] < 0 or opts["threads"] < 1:
        usage()
    return opts


def stats_writer(opts, all_counters, start, main_tid):
    """Writes the record at once, then the stats every STATS_INTERVAL
    seconds; exits the process at --exit-after."""
    path = opts["record"]
    recorded = False
    # Ready: every worker is in its loop (none is still starting threads).
    while not all(c.iterations for c in all_counters):
        time.sleep(0.001)
    # From readiness, not from the start: a loaded machine may take
    # seconds to start an interpreter.
    deadline = None if opts["exit_after"] is None \
        else time.time() + opts["exit_after"]
    while True:
        now = time.time()
        if deadline is not None and now >= deadline:
            sys.stdout.flush()
            os._exit(0)     # daemon worker threads: do not wait for them
        write_json(path + ".stats", {
            "hot_seconds": sum(c.hot for c in all_counters),
            "cold_seconds": sum(c.cold for c in all_counters),
            "iterations": sum(c.iterations for c in all_counters),
            "elapsed": now - start,
            "time": now})
        if not recorded:
            recorded = True
            write_json(path, {
                "pid": os.getpid(),
                "version": sys.version.split()[0],
                "ready": True,
                "depth": opts["depth"],
                "threads": opts["threads"],
                "file": hot.__code__.co_filename,
                "functions": dict((f.__name__, span(f)) for f in
                                  (hot, cold, loop, descend, stats_writer)),
                "main_native_id": main_tid})
        wake = now + STATS_INTERVAL
        if deadline is not None:
            wake = min(wake, deadline)
        time.sleep(max(0.0, wake - time.time()))


def main():
    opts = parse_args(sys.argv[1:])
    all_counters = [Counters() for _ in range(opts["threads"])]
    for i in range(1, opts["threads"]):
        t = threading.Thread(target=descend, name="worker-%d" % i,
                             args=(opts["depth"], all_counters[i]))
        t.daemon = True
        t.start()
    t = threading.Thread(target=stats_writer, name="stats-writer",
                         args=(opts, all_counters, time.time(), native_id()))
    t.daemon = True
    t.start()
    descend(opts["depth"], all_counters[0])


if __name__ == "__main__":
    main()
