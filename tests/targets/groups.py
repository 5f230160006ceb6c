"""Live-test target: three groups of 100 threads with the same stack each
(pool_a_0-99 waiting on one Event, pool_b_0-99 on one held Lock,
pool_c_0-99 in time.sleep()), and a few threads alone: one waiting on
another Event at the very same line as pool_a (another lock waited for:
another group, see model/thread_groups.h), one on a Queue, one on a
Condition, and the main thread.

usage: python groups.py RECORD_PATH   (see _record.py; runs until killed)
The record's "groups" lists the names of each group's members, as
snakescope is to group them; "singles" the names of the others.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

SIZE = 100


def main_park(lock):
    lock.acquire()


def main():
    rec = _record.recorder_from_argv()
    threading.stack_size(256 * 1024)
    event, lock = threading.Event(), _record.held_lock()
    groups = []
    for prefix, func, args in (("pool_a_", _record.park_event, (event,)),
                               ("pool_b_", _record.park_lock, (lock,)),
                               ("pool_c_", _record.park_sleep, (1e6,))):
        names = [prefix + str(i) for i in range(SIZE)]
        for name in names:
            rec.thread(name, func, *args)
        groups.append(names)
    rec.thread("lone_event", _record.park_event, threading.Event())
    rec.thread("lone_queue", _record.park_queue, _record.queue.Queue())
    rec.thread("lone_condition", _record.park_condition,
               threading.Condition())
    rec.info["groups"] = groups
    rec.info["singles"] = ["MainThread", "lone_event", "lone_queue",
                           "lone_condition"]
    rec.start()
    rec.park(main_park, _record.held_lock())


if __name__ == "__main__":
    main()
