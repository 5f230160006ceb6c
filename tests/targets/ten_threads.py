"""Live-test target (also used by the benchmark): ten named threads parked in
a mix of blocking calls, the main thread parked in main_park().

usage: python ten_threads.py RECORD_PATH   (see _record.py; runs until killed)
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402


def main_park(ev):
    ev.wait()


def main():
    rec = _record.recorder_from_argv()
    for i in range(10):
        func, args = _record.parking(i)
        rec.thread("ten-%d" % i, func, *args)
    rec.start()
    rec.park(main_park, threading.Event())


if __name__ == "__main__":
    main()
