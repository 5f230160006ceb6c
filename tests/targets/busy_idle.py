"""Live-test and bench target: one busy thread among many idle ones, for
`record --native` / `--pause`, which must stop only the threads they read
(tests/live/nonstop_check.py, bench/bench-native.py).

usage: python busy_idle.py RECORD_PATH [NIDLE]

The main thread spins in spin() -> step() forever (pure Python, never
sleeping), counting its steps; NIDLE threads (100 by default) wait on an
event that is never set, SIGUSR1 blocked.  RECORD_PATH gets, once all run, {"pid",
"busy_native_id", "idle_native_ids"}.

SIGUSR1: the main thread's Python handler appends "SEQ COUNT MONO_NS\\n" to
RECORD_PATH.signals, SEQ counting the signals handled from 1, COUNT the
steps done so far, MONO_NS time.monotonic() in ns when handled.

Python 3.8+ (threading.get_native_id()).
"""
import json
import os
import signal
import sys
import threading
import time

steps = 0
handled = 0


def on_usr1(signum, frame):
    global handled
    handled += 1
    with open(sys.argv[1] + ".signals", "a") as f:
        f.write("%d %d %d\n" % (handled, steps, int(time.monotonic() * 1e9)))


def step(x):
    for i in range(50):
        x = (x * 31 + i) % 1000003
    return x


def spin():
    global steps
    x = 1
    while True:
        x = step(x)
        steps += 1


def main():
    path = sys.argv[1]
    nidle = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    never = threading.Event()
    ids = []
    ready = threading.Lock()

    def idle():
        # SIGUSR1 is the busy thread's: else the kernel hands it to an
        # idle thread while the busy one is stopped, and that thread
        # runs (and may be sampled) for a moment.
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
        with ready:
            ids.append(threading.get_native_id())
        never.wait()

    for i in range(nidle):
        t = threading.Thread(target=idle, name="idle-%d" % i)
        t.daemon = True
        t.start()
    while True:
        with ready:
            if len(ids) == nidle:
                break
        time.sleep(0.01)
    signal.signal(signal.SIGUSR1, on_usr1)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"pid": os.getpid(),
                   "busy_native_id": threading.get_native_id(),
                   "idle_native_ids": ids}, f)
    os.rename(tmp, path)
    spin()


if __name__ == "__main__":
    main()
