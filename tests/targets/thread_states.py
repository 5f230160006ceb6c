"""Live-test target: threads in the states `dump` reports per thread
("state" and "importing"), each with what the checker expects of it
("expect_state" in the record, see tests/live/frames_check.py):

  busy         spins (compare="outer"):        on_cpu true
  sleeper      time.sleep(1e6):                in nanosleep/select & co.
  lock-waiter  acquires a held Lock:           in futex
  traced       sys.settrace(a nested function), then waits on an Event
  profiled     sys.setprofile(a bound method), then waits on an Event
  importer     `import _import_gate_mod`, which waits at import time:
               importing "_import_gate_mod" (3.x; 2.7 imports in C)
  MainThread   acquires a held Lock

On 3.12+ the main thread also registers a sys.monitoring tool, and the
record's "expect_monitoring" names it.

On 2.7 the import lock is global: once the importer is parked (holding
it), no other thread may execute an import statement, so everything else
here and in _record is imported beforehand and the importer starts last.

usage: python thread_states.py RECORD_PATH   (see _record.py)
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402
from _record import held_lock, park_lock, park_sleep  # noqa: E402

MONITORING_TOOL = (3, "snakescope-test")


def callable_name(f):
    """What snakescope shows for a trace/profile function."""
    return getattr(f, "__qualname__", None) or f.__name__


def busy_spin():
    x = 0
    while True:
        x += 1


def make_tracer():
    def tracer(frame, event, arg):
        return None
    return tracer


class Profiler(object):
    def hook(self, frame, event, arg):
        return None


def traced(tracer, ev):
    sys.settrace(tracer)
    ev.wait()


def profiled(hook, ev):
    sys.setprofile(hook)
    ev.wait()


def importer():
    import _import_gate_mod  # noqa: F401


def main_park(lock):
    lock.acquire()


def main():
    rec = _record.recorder_from_argv()
    futex = {"syscall": ["futex"]}
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is not None:
        monitoring.use_tool_id(*MONITORING_TOOL)
        rec.info["expect_monitoring"] = [MONITORING_TOOL[1]]
    rec.thread("busy", busy_spin, compare="outer", expect={"on_cpu": True})
    rec.thread("sleeper", park_sleep, 1e6, expect={
        "syscall": ["nanosleep", "clock_nanosleep", "select", "pselect6"]})
    rec.thread("lock-waiter", park_lock, held_lock(), expect=futex)
    tracer = make_tracer()
    rec.thread("traced", traced, tracer, threading.Event(),
               expect=dict(futex, trace=callable_name(tracer)))
    hook = Profiler().hook
    rec.thread("profiled", profiled, hook, threading.Event(),
               expect=dict(futex, profile=callable_name(hook)))
    _record.import_gate = threading.Event()
    expect = dict(futex)
    if sys.version_info >= (3,):        # 2.7 imports in C: nothing to see
        expect["importing"] = "_import_gate_mod"
    rec.thread("importer", importer, expect=expect)
    rec.start()
    rec.park(main_park, held_lock(), expect=futex)


if __name__ == "__main__":
    main()
