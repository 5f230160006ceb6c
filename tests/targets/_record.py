"""Shared helper for the snakescope live-test targets.

A target is started as `python TARGET.py RECORD_PATH [EXTRA...]`.  It creates
threads with Recorder.thread(), then calls Recorder.start() and parks the main
thread with Recorder.park().  Every thread runs its "marker" function, which
blocks forever (or, for compare="outer", spins forever).  A short-lived
recorder thread polls sys._current_frames() until every thread is parked at
its known place and the stacks have stayed the same for a while, writes
RECORD_PATH atomically (tmp + rename) and exits:

  {"pid": int, "version": "3.12.1", "recorder_native_id": int|null,
   "threads": [{"thread_id", "native_id", "name", "compare": "all"|"outer",
                "frames": [{"function", "filename", "line"}, ...]}]}

frames are innermost first; function is co_qualname (3.11+) or co_name.

Rules for marker functions (so that "parked" can be checked):
  - compare="all": the blocking call is on the function's last line, and it
    is a C call (lock.acquire, time.sleep) or ends in threading's
    Condition.wait (Event.wait, Condition.wait, Queue.get, Semaphore...)
    or, on 2.7 where RLock is written in Python, in RLock.acquire.
  - compare="outer": the function loops forever without calling any Python
    function, so it is always the innermost frame.

Works on Python 2.7 and 3.6+ and uses only the standard library.  On 2.7,
names and filenames are byte strings; json decodes them as UTF-8.
"""
from __future__ import absolute_import

import dis
import json
import os
import platform
import sys
import threading
import time

# --- Python 2.7 compatibility ------------------------------------------------
try:
    import queue
except ImportError:             # Python 2
    import Queue as queue       # noqa: F401  (re-exported for the targets)
try:
    from threading import get_ident
except ImportError:             # Python 2
    from thread import get_ident

# threading.Condition, RLock are factory functions on 2.7: use the classes.
_Condition = type(threading.Condition())
_RLock = type(threading.RLock())

POLL_INTERVAL = 0.01    # seconds between two looks at sys._current_frames()
STABLE_POLLS = 8        # identical looks in a row needed before recording
GIVE_UP_AFTER = 25.0    # seconds; then explain on stderr and exit(3)

_SYS_GETTID = {"x86_64": 186, "amd64": 186, "aarch64": 178, "arm64": 178,
               "i386": 224, "i686": 224, "ppc64le": 207, "s390x": 236,
               "riscv64": 178}


def native_id():
    """The calling thread's Linux TID, or None if it cannot be found."""
    get = getattr(threading, "get_native_id", None)
    if get is not None:
        return get()
    nr = _SYS_GETTID.get(platform.machine())
    if nr is None:
        return None
    try:
        import ctypes
        tid = ctypes.CDLL(None, use_errno=True).syscall(nr)
    except Exception:
        return None
    return tid if tid > 0 else None


def code_name(code):
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    """[(function, filename, line)] innermost first."""
    out = []
    while frame is not None:
        code = frame.f_code
        out.append((code_name(code), code.co_filename, frame.f_lineno))
        frame = frame.f_back
    return out


def last_line(code):
    lines = [ln for _, ln in dis.findlinestarts(code) if ln is not None]
    return max(lines)


def _function(f):
    """The plain function behind f (2.7 unbound methods wrap it)."""
    return getattr(f, "__func__", f)


def _last_source_line(func, matches):
    """Last line of func's source whose stripped text satisfies matches()."""
    try:
        import inspect
        lines, start = inspect.getsourcelines(func)
    except Exception:
        return None
    hits = [start + i for i, text in enumerate(lines) if matches(text.strip())]
    return hits[-1] if hits else None


def _blocking_places():
    """{code: line or None}: where threading's Python code blocks in a C call.

    The untimed `waiter.acquire()` in Condition.wait, and on 2.7 (pure
    Python RLock) `self.__block.acquire(blocking)` in RLock.acquire.  None:
    source not found, any line of that function is accepted."""
    places = {}
    wait = _function(_Condition.wait)
    places[wait.__code__] = _last_source_line(
        wait, lambda text: text == "waiter.acquire()")
    acquire = _function(getattr(_RLock, "acquire", None))
    if hasattr(acquire, "__code__"):        # not a C lock
        places[acquire.__code__] = _last_source_line(
            acquire, lambda text: "block.acquire(blocking" in text)
    return places


class Recorder(object):
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._threads = []          # Thread objects made by thread()
        self._info = {}             # ident -> dict, filled by park()
        self._blocking = _blocking_places()
        self.extra = []             # finished entries for other threads

    # --- called by the target -------------------------------------------

    def thread(self, name, func, *args, **kw):
        """Start a daemon thread that parks in func(*args).

        kw: compare="all" (default) or "outer" (func spins forever)."""
        compare = kw.pop("compare", "all")
        if kw:
            raise TypeError("unexpected keyword arguments %r" % (kw,))
        t = threading.Thread(target=self.park, name=name,
                             args=(func,) + tuple(args),
                             kwargs={"compare": compare})
        t.daemon = True
        t.start()
        self._threads.append(t)
        return t

    def adopt(self, thread):
        """Expect a thread started elsewhere; it must call park() itself."""
        self._threads.append(thread)

    def park(self, func, *args, **kw):
        """Register the calling thread, then run func(*args) (never returns)."""
        compare = kw.pop("compare", "all")
        me = threading.current_thread()
        with self._lock:
            self._info[get_ident()] = {
                "name": me.name, "native_id": native_id(),
                "code": func.__code__, "compare": compare,
                "line": last_line(func.__code__),
            }
        func(*args)
        raise RuntimeError("parked function %s returned" % func.__name__)

    def start(self):
        """Start the recorder; call once every thread() is started, right
        before the main thread parks."""
        expected = set(t.ident for t in self._threads)
        expected.add(get_ident())
        r = threading.Thread(target=self._run, name="recorder",
                             args=(expected,))
        r.daemon = True
        r.start()

    # --- recorder thread ---------------------------------------------------

    def _why_not_parked(self, ident, frame):
        """None if the thread is at its parking place, else a reason."""
        info = self._info.get(ident)
        if info is None:
            return "not registered yet"
        if frame is None:
            return "no Python frame"
        inner = []
        f = frame
        while f is not None and f.f_code is not info["code"]:
            inner.append(f)
            f = f.f_back
        if f is None:
            return "marker %s not on the stack" % info["code"].co_name
        if info["compare"] == "outer":
            return None if not inner else "busy marker is not innermost"
        if f.f_lineno != info["line"]:
            return "marker %s at line %d, expected %d" % (
                info["code"].co_name, f.f_lineno, info["line"])
        if not inner:
            return None
        top = inner[0]
        if top.f_code in self._blocking:
            line = self._blocking[top.f_code]
            if line is None or top.f_lineno == line:
                return None
        return "innermost frame %s:%d is not the blocking call" % (
            top.f_code.co_name, top.f_lineno)

    def _look(self, expected, me):
        """(snapshot, problems): snapshot of every expected thread's stack."""
        frames = sys._current_frames()
        problems = []
        extra = set(frames) - expected - set([me])
        if extra:
            problems.append("unexpected threads %r" % sorted(extra))
        snap = {}
        for ident in expected:
            frame = frames.get(ident)
            why = self._why_not_parked(ident, frame)
            if why is not None:
                problems.append("thread %r: %s" % (
                    self._info.get(ident, {}).get("name", ident), why))
                continue
            stack = stack_of(frame)
            if self._info[ident]["compare"] == "outer":
                # The busy frame's line moves; only its name is stable.
                stack[0] = (stack[0][0], stack[0][1], None)
            snap[ident] = stack
        del frames
        return snap, problems

    def _run(self, expected):
        me = get_ident()
        deadline = time.time() + GIVE_UP_AFTER
        prev, same = None, 0
        while True:
            snap, problems = self._look(expected, me)
            if not problems and snap == prev:
                same += 1
            else:
                same = 0
            prev = snap if not problems else None
            if same >= STABLE_POLLS:
                break
            if time.time() > deadline:
                sys.stderr.write("_record: threads did not park within %gs:\n"
                                 % GIVE_UP_AFTER)
                for p in problems or ["stacks kept changing"]:
                    sys.stderr.write("  %s\n" % p)
                sys.stderr.flush()
                os._exit(3)
            time.sleep(POLL_INTERVAL)
        # Take the busy threads' lines from a fresh look: everything else is
        # known not to move any more.
        frames = sys._current_frames()
        threads = []
        for ident in sorted(expected):
            info = self._info[ident]
            stack = stack_of(frames[ident])
            if info["compare"] != "outer" and stack != snap[ident]:
                sys.stderr.write("_record: thread %r moved after it parked\n"
                                 % info["name"])
                os._exit(3)
            threads.append({
                "thread_id": ident,
                "native_id": info["native_id"],
                "name": info["name"],
                "compare": info["compare"],
                "frames": [{"function": fn, "filename": fl, "line": ln}
                           for fn, fl, ln in stack],
            })
        del frames
        threads.extend(self.extra)
        record = {
            "pid": os.getpid(),
            "version": sys.version.split()[0],
            "recorder_native_id": native_id(),
            "threads": threads,
        }
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1)   # ensure_ascii: locale-proof
        os.rename(tmp, self.path)


# --- ready-made parking places, for targets that need many threads --------

def park_event(ev):
    ev.wait()


def park_lock(lock):
    lock.acquire()


def park_sleep(seconds):
    time.sleep(seconds)


def park_condition(cond):
    cond.acquire()
    cond.wait()


def park_queue(q):
    q.get()


def held_lock():
    """A Lock that is already held: acquiring it blocks forever."""
    lock = threading.Lock()
    lock.acquire()
    return lock


def parking(i):
    """(func, args) for the i-th parked thread, cycling through the kinds."""
    kinds = [
        lambda: (park_event, (threading.Event(),)),
        lambda: (park_lock, (held_lock(),)),
        lambda: (park_sleep, (1e6,)),
        lambda: (park_condition, (threading.Condition(),)),
        lambda: (park_queue, (queue.Queue(),)),
    ]
    return kinds[i % len(kinds)]()


def recorder_from_argv():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s RECORD_PATH\n" % sys.argv[0])
        sys.exit(2)
    return Recorder(sys.argv[1])
