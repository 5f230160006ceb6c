"""Live-test target: threads that sleep and wake all the time, in two
different blocking calls, for `record --native --idle`, which uses a
thread's native stack again while the kernel says it has not run since
its last hold (tests/live/nonstop_check.py).

usage: python wakers.py RECORD_PATH [NTHREADS]

NTHREADS threads (8 by default), named "waker-N", each loop for ever:
nap() sleeps 3 ms (time.sleep: clock_nanosleep, or select before 3.11),
then hold() waits 3 ms for a lock that is never released
(lock.acquire(timeout=...): a futex, through sem_clockwait or
sem_timedwait).  A stack used again once the thread has moved on would
pair one call's Python frame with the other's C frames.

RECORD_PATH gets, once all run, {"pid", "waker_native_ids"}.

Python 3.8+ (threading.get_native_id()).
"""
import json
import os
import sys
import threading
import time

NAP = 0.003

held = threading.Lock()
held.acquire()
started = []


def nap():
    time.sleep(NAP)


def hold():
    held.acquire(timeout=NAP)


def waker():
    started.append(threading.get_native_id())
    while True:
        nap()
        hold()


def main():
    record = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    for i in range(n):
        threading.Thread(target=waker, name="waker-%d" % i,
                         daemon=True).start()
    while len(started) < n:
        time.sleep(0.01)
    tmp = record + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"pid": os.getpid(), "waker_native_ids": started}, f)
    os.rename(tmp, record)
    while True:
        time.sleep(1)


main()
