"""Live-test target: 5,000 named threads (past any fixed cap a reader
might have had: 4,096 until issue 27), parked on one Event, one held Lock
or in time.sleep(), the main thread parked in main_park().

usage: python thousands.py RECORD_PATH [COUNT]   (see _record.py; runs
until killed).  Threads get small stacks (threading.stack_size), so that
starting them is quick and cheap on a small machine.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

COUNT = 5000
STACK = 256 * 1024


def main_park(lock):
    lock.acquire()


def main():
    rec = _record.recorder_from_argv()
    count = int(sys.argv[2]) if len(sys.argv) > 2 else COUNT
    threading.stack_size(STACK)
    event, lock = threading.Event(), _record.held_lock()
    for i in range(count):
        kind = i % 3
        if kind == 0:
            rec.thread("t%d" % i, _record.park_event, event)
        elif kind == 1:
            rec.thread("t%d" % i, _record.park_lock, lock)
        else:
            rec.thread("t%d" % i, _record.park_sleep, 1e6)
    rec.start()
    rec.park(main_park, _record.held_lock())


if __name__ == "__main__":
    main()
