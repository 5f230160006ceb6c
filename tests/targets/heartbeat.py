"""Live-test target for the signal tests: a thread replaces COUNTER_PATH with
an increasing counter every 20 ms; a parked thread and the parked main thread
make the rest of the record.

usage: python heartbeat.py RECORD_PATH COUNTER_PATH   (runs until killed)

The heartbeat loop only makes C calls, so its own frame is always the
innermost one (compare "outer").
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402


def heartbeat_loop(path):
    n = 0
    tmp = path + ".tmp"
    while True:
        n += 1
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"%d\n" % n)
        os.close(fd)
        os.rename(tmp, path)
        time.sleep(0.02)


def main_park(ev):
    ev.wait()


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: heartbeat.py RECORD_PATH COUNTER_PATH\n")
        sys.exit(2)
    rec = _record.recorder_from_argv()
    rec.thread("heartbeat", heartbeat_loop, sys.argv[2], compare="outer")
    func, args = _record.parking(0)
    rec.thread("idle", func, *args)
    rec.start()
    rec.park(main_park, threading.Event())


if __name__ == "__main__":
    main()
