"""Stress target that starts and ends threads all the time: a churner
thread starts RATE short-lived threads a second (default 1000), in batches
of 10 that it joins, each running thread_body() for a moment; the main
thread parks in main_park() on an Event that is never set.

usage: python threadchurn.py RECORD_PATH [RATE]     (runs until killed)

After half a second it writes RECORD_PATH atomically:
  {"pid": int, "version": "3.12.1", "file": __file__,
   "main_thread_id": threading ident of the main thread,
   "main_native_id": its TID or null,
   "main_functions": ["main_park", "main", "<module>"] (outermost last:
       the main thread's own frames below threading's wait),
   "rate": threads started a second, from that half second}

Python 2.7 and 3.6+; standard library only.
"""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _record import native_id  # noqa: E402
import time

try:
    from threading import get_ident
except ImportError:             # Python 2
    from thread import get_ident

started = [0]


def thread_body(n):
    return sum(range(n % 50))


def churn_loop(rate):
    batch = 10
    period = batch / float(rate)
    next_t = time.time()
    i = 0
    while True:
        threads = []
        for _ in range(batch):
            t = threading.Thread(target=thread_body, args=(i,))
            t.daemon = True
            t.start()
            threads.append(t)
            i += 1
        for t in threads:
            t.join()
        started[0] = i
        next_t += period
        delay = next_t - time.time()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1:
            next_t = time.time()


def main_park(ev):
    ev.wait()


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: threadchurn.py RECORD_PATH [RATE]\n")
        sys.exit(2)
    rate = int(sys.argv[2]) if len(sys.argv) == 3 else 1000
    churner = threading.Thread(target=churn_loop, args=(rate,),
                               name="churner")
    churner.daemon = True
    churner.start()
    time.sleep(0.5)
    info = {"pid": os.getpid(), "version": sys.version.split()[0],
            "file": os.path.abspath(__file__),
            "main_thread_id": get_ident(), "main_native_id": native_id(),
            "main_functions": ["main_park", "main", "<module>"],
            "rate": started[0] * 2}
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, sys.argv[1])
    main_park(threading.Event())


if __name__ == "__main__":
    main()
