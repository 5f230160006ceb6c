"""Live-test target: threads parked as in threads.py, and one that dies of
SIGSEGV when told to, so that the kernel writes a core (see
tests/live/core_check.py; run it with RLIMIT_CORE raised, in a directory
it may write).

usage: python crash.py RECORD_PATH

Once RECORD_PATH.go exists, the thread named "crasher" reads address 0
through ctypes.string_at().  Until then it polls, its innermost frame
wait_then_crash() (the record compares only its outer frames).
"""
import ctypes
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402
from _record import park_event, park_sleep  # noqa: E402


def wait_then_crash(go):
    while True:
        try:
            os.stat(go)
            break
        except OSError:
            time.sleep(0.01)
    ctypes.string_at(0)


def main():
    rec = _record.recorder_from_argv()
    rec.thread("event-waiter", park_event, threading.Event())
    rec.thread("sleeper", park_sleep, 1e6)
    rec.thread("crasher", wait_then_crash, sys.argv[1] + ".go",
               compare="outer")
    rec.start()
    rec.park(park_event, threading.Event())


if __name__ == "__main__":
    main()
