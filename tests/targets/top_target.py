"""Live-test target for `snakescope top`: named busy and idle threads, and
(3.8+) an asyncio task tree on the main thread.

usage: python top_target.py RECORD_PATH

Threads:
  "busy-worker"   spins in busy_spin() (pure Python arithmetic, no calls
                  while it spins), forever
  "idle-sleeper"  blocks in idle_wait() on an Event that is never set
  main thread     3.8+: runs an event loop with the tasks "root" (awaits
                  a gather of "child-a" and "child-b"), the children
                  sleeping in child_sleep() (in _top_async.py); before
                  3.8: sleeps in main_sleep()

When every thread is in place it writes RECORD_PATH atomically:

  {"pid": int, "version": "3.12.1", "ready": true, "file": __file__,
   "busy_function": "busy_spin", "idle_function": "idle_wait",
   "threads": {"busy-worker": TID|null, "idle-sleeper": TID|null},
   "tasks": ["root", "child-a", "child-b"] (3.8+) or []}

Works on Python 2.7 and 3.6+; standard library only.
"""
import json
import os
import sys
import threading
import time

RECORD = sys.argv[1]
HAS_TASKS = sys.version_info >= (3, 8)
native_ids = {}
started = threading.Event()
never = threading.Event()


def native_id():
    if hasattr(threading, "get_native_id"):
        return threading.get_native_id()
    try:
        import ctypes
        return ctypes.CDLL(None).syscall(186)  # gettid, x86-64
    except Exception:
        return None


def busy_spin():
    x = 0
    while True:
        x = (x * 7 + 3) % 1000003


def busy_main():
    native_ids["busy-worker"] = native_id()
    started.set()
    busy_spin()


def idle_wait():
    while True:
        # 2.7's wait with a timeout polls (sleeps of up to 50 ms in a
        # loop): its thread is seen running now and then.  Without one it
        # blocks on a lock, as 3.x's does either way.
        never.wait(3600 if sys.version_info >= (3,) else None)


def idle_main():
    native_ids["idle-sleeper"] = native_id()
    idle_wait()


def write_record(tasks):
    info = {
        "pid": os.getpid(),
        "version": "%d.%d.%d" % sys.version_info[:3],
        "ready": True,
        "file": os.path.abspath(__file__),
        "busy_function": "busy_spin",
        "idle_function": "idle_wait",
        "threads": native_ids,
        "tasks": tasks,
    }
    tmp = RECORD + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, RECORD)


def start_threads():
    for name, fn in (("busy-worker", busy_main), ("idle-sleeper", idle_main)):
        t = threading.Thread(target=fn, name=name)
        t.daemon = True
        t.start()
    started.wait()
    while len(native_ids) < 2:
        time.sleep(0.01)


def main_sleep():
    while True:
        time.sleep(3600)


def main():
    start_threads()
    if HAS_TASKS:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import _top_async
        _top_async.run(write_record)
    else:
        write_record([])
        main_sleep()


if __name__ == "__main__":
    main()
