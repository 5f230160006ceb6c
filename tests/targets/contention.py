"""Live-test target: two threads that spin in Python (so one of them is
usually waiting for the GIL) and one that keeps calling and returning
(so an unpaused read of its stack can tear).

usage: python contention.py RECORD_PATH   (runs until killed)

The record names the functions of this file with their line ranges, so a
checker can tell a frame read consistently from garbage:
  {"pid", "version", "recorder_native_id", "threads": [],
   "functions": {"name": [first_line, last_line]}, "file": this file}
"""
import inspect
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402


def spin():
    x = 0
    while True:
        x += 1


def descend(n):
    if n:
        return descend(n - 1) + 1
    return 0


def churn():
    i = 0
    while True:
        descend(i % 40)
        i += 1


def write_record(path):
    funcs = {}
    for f in (spin, descend, churn, write_record, main):
        lines, start = inspect.getsourcelines(f)
        funcs[f.__name__] = [start, start + len(lines) - 1]
    record = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "functions": funcs,
        "file": os.path.abspath(__file__),
    }
    with open(path + ".tmp", "w") as f:
        json.dump(record, f)
    os.rename(path + ".tmp", path)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s RECORD_PATH\n" % sys.argv[0])
        sys.exit(2)
    for target in (spin, spin, churn):
        t = threading.Thread(target=target)
        t.daemon = True
        t.start()
    w = threading.Thread(target=write_record, args=(sys.argv[1],))
    w.start()
    w.join()
    threading.Event().wait()


if __name__ == "__main__":
    main()
