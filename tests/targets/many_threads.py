"""Live-test target: 200 named threads parked in a mix of blocking calls, the
main thread parked in main_park().

usage: python many_threads.py RECORD_PATH   (see _record.py; runs until killed)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

COUNT = 200


def main_park(lock):
    lock.acquire()


def main():
    rec = _record.recorder_from_argv()
    for i in range(COUNT):
        func, args = _record.parking(i)
        rec.thread("worker-%03d" % i, func, *args)
    rec.start()
    rec.park(main_park, _record.held_lock())


if __name__ == "__main__":
    main()
