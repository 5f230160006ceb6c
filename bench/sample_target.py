"""CPU-bound target for bench/sample.py (Python 2.7 and 3.6+).

Usage: sample_target.py --depth N --threads M --stats PATH

M threads (M=1: the main thread alone; otherwise the main thread and
M-1 others) each recurse N frames deep, then (once all are there) loop
forever doing a fixed small unit of pure-Python work and counting the
units done.  Once every thread is at depth, and then every 0.2 s, the
main thread writes PATH atomically (write a temporary file, rename it
over PATH) with {"iterations": units done by all threads, "time":
time.time(), "cpu": the process's CPU seconds so far}.  It runs until
killed.
"""
import json
import os
import sys
import threading
import time

WRITE_EVERY = 0.2
# time.time() is looked at once per CHECK units, so the work measured
# is (almost) all the fixed unit below.
CHECK = 64
ITEMS = tuple(range(24))
try:
    process_time = time.process_time     # 3.3+: precise
except AttributeError:
    def process_time():                   # 2.7: clock ticks
        t = os.times()
        return t[0] + t[1]


def unit():
    """The fixed unit of work: a few dozen bytecodes of arithmetic."""
    s = 0
    for i in ITEMS:
        s += i * i ^ 5
    return s


def parse(argv):
    opts = {"--depth": 30, "--threads": 1, "--stats": None}
    i = 0
    while i < len(argv):
        if argv[i] not in opts or i + 1 >= len(argv):
            sys.stderr.write(__doc__)
            sys.exit(2)
        opts[argv[i]] = argv[i + 1]
        i += 2
    if not opts["--stats"]:
        sys.stderr.write(__doc__)
        sys.exit(2)
    return int(opts["--depth"]), int(opts["--threads"]), opts["--stats"]


class Bench(object):
    def __init__(self, depth, nthreads, stats):
        self.depth = depth
        self.nthreads = nthreads
        self.stats = stats
        self.tmp = "%s.tmp.%d" % (stats, os.getpid())
        self.counts = [0] * nthreads
        self.ready = 0
        self.lock = threading.Lock()
        self.go = threading.Event()

    def write(self):
        with open(self.tmp, "w") as f:
            f.write(json.dumps({"iterations": sum(self.counts),
                                "time": time.time(),
                                "cpu": process_time()}))
        os.rename(self.tmp, self.stats)

    def recurse(self, idx, n):
        if n > 1:
            return self.recurse(idx, n - 1)
        return self.work(idx)

    def work(self, idx):
        counts = self.counts
        with self.lock:
            self.ready += 1
        # The others wait for the main thread to have started them all:
        # starting a thread takes long while the others spin.
        if idx != 0:
            self.go.wait()
        main = idx == 0
        n = 0
        next_write = 0.0
        while True:
            unit()
            n += 1
            counts[idx] = n
            if main and n % CHECK == 0:
                now = time.time()
                if now >= next_write and self.ready == self.nthreads:
                    self.write()
                    next_write = now + WRITE_EVERY


def main():
    depth, nthreads, stats = parse(sys.argv[1:])
    # Each level is one Python frame; leave room for the interpreter's
    # own frames and for unit().
    sys.setrecursionlimit(max(1000, depth * 2 + 100))
    if nthreads > 1:
        # The default 8 MiB per thread is far more than needed.
        try:
            threading.stack_size(4 << 20)
        except (ValueError, threading.ThreadError):
            pass
    b = Bench(depth, nthreads, stats)
    for idx in range(1, nthreads):
        t = threading.Thread(target=b.recurse, args=(idx, depth))
        t.daemon = True
        t.start()
    while b.ready < nthreads - 1:
        time.sleep(0.005)
    b.go.set()
    b.recurse(0, depth)


if __name__ == "__main__":
    main()
