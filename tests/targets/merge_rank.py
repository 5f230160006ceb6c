"""Live-test target for `snakescope merge` (tests/live/merge_check.py): one
"rank" of a job, its main thread parked in step_wait() and a worker thread
parked in an Event, as its peers; given "odd", the main thread parks in
stuck_wait() instead, the rank the merged report must single out.

usage: python merge_rank.py RECORD_PATH [odd]   (runs until killed)

Standard library only (2.7 and 3.6+).
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402


def step_wait(ev):
    ev.wait()


def stuck_wait(ev):
    ev.wait()


def main():
    odd = sys.argv[2:] == ["odd"]
    rec = _record.recorder_from_argv()
    rec.thread("worker", _record.park_event, threading.Event())
    rec.start()
    rec.park(stuck_wait if odd else step_wait, threading.Event())


if __name__ == "__main__":
    main()
