"""Live-test target: a thread parked at the bottom of a 300-frame recursion,
and the main thread parked at the bottom of a 300-frame mutual recursion
(ping/pong) -- both deeper than any fixed small frame buffer.

usage: python deep.py RECORD_PATH   (see _record.py; runs until killed)
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

DEPTH = 300


def park_at_bottom(ev):
    ev.wait()


def descend(n, rec, ev):
    if n > 1:
        return descend(n - 1, rec, ev)
    return rec.park(park_at_bottom, ev)


def main_park(lock):
    lock.acquire()


def ping(n, rec, lock):
    if n > 1:
        return pong(n - 1, rec, lock)
    return rec.park(main_park, lock)


def pong(n, rec, lock):
    if n > 1:
        return ping(n - 1, rec, lock)
    return rec.park(main_park, lock)


def main():
    rec = _record.recorder_from_argv()
    t = threading.Thread(target=descend, name="deep-%d" % DEPTH,
                         args=(DEPTH, rec, threading.Event()))
    t.daemon = True
    t.start()
    rec.adopt(t)
    rec.start()
    ping(DEPTH, rec, _record.held_lock())


if __name__ == "__main__":
    main()
