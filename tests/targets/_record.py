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
                "expect_state": {...}     (only when given to thread())
                "frames": [{"function", "filename", "line",
                            "positions", "locals"}, ...]}],
   ...plus whatever the target put into rec.info}

frames are innermost first; function is co_qualname (3.11+) or co_name.
"positions" is [line, end_line, col, end_col] (3.11+: co_positions() at the
frame's current instruction, entries may be null), else null.  "locals" is
null, or a list of {"name", "kind": "arg"|"local"|"cell"|"free", "type":
type(v).__name__, "id": id(v), "shape": "pure"|"container"|"object",
"repr": str|null}: the bound names of frame.f_locals, arguments first in
co_varnames order.  shape "pure": the exact type is NoneType, bool, int,
float, str, bytes, tuple, list, dict, set or frozenset (2.7: also long,
unicode), and so are all items, recursively; "repr" is repr(v) then (null
when longer than MAX_REPR).  "container": one of those container types
holding other objects (or too big/deep/cyclic to tell); "object": any other
type.  repr is null unless the shape is "pure".  Both are null for the
innermost frame of a compare="outer" thread; locals are null for frames
that are not function frames (module, class body) and for frames with more
than MAX_LOCALS names.  They are taken once, from the final look.

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


def _find_syscall():
    """libc's syscall(), looked up once at import: on 2.7 an import
    statement takes the global import lock, which a target may leave held
    by a thread parked in the middle of an import (thread_states.py)."""
    if getattr(threading, "get_native_id", None) is not None:
        return None
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).syscall
    except Exception:
        return None


_syscall = _find_syscall()


def native_id():
    """The calling thread's Linux TID, or None if it cannot be found."""
    get = getattr(threading, "get_native_id", None)
    if get is not None:
        return get()
    nr = _SYS_GETTID.get(platform.machine())
    if nr is None or _syscall is None:
        return None
    try:
        tid = _syscall(nr)
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


# --- frame details: positions and locals -----------------------------------

MAX_LOCALS = 200        # frames with more names get "locals": null
MAX_REPR = 20000        # longer reprs of pure values are recorded as null
MAX_ITEMS = 100000      # items looked at to tell whether a value is pure
MAX_DEPTH = 50          # deeper nesting counts as "container"

_CO_OPTIMIZED, _CO_VARARGS, _CO_VARKEYWORDS = 0x1, 0x4, 0x8
_CONTAINER_TYPES = frozenset([tuple, list, dict, set, frozenset])
_PURE_TYPES = set([type(None), bool, int, float, str, bytes]) \
    | _CONTAINER_TYPES
try:
    _PURE_TYPES.update([long, unicode])     # noqa: F821  (Python 2)
except NameError:
    pass
_PURE_TYPES = frozenset(_PURE_TYPES)


def _all_pure(v, path, depth, budget):
    t = type(v)
    if t not in _PURE_TYPES:
        return False
    if t not in _CONTAINER_TYPES:
        return True
    if depth > MAX_DEPTH or id(v) in path:
        return False
    budget[0] -= len(v)
    if budget[0] < 0:
        return False
    path.add(id(v))
    try:
        if t is dict:
            for k, x in list(v.items()):
                if not (_all_pure(k, path, depth + 1, budget)
                        and _all_pure(x, path, depth + 1, budget)):
                    return False
        else:
            for x in list(v):
                if not _all_pure(x, path, depth + 1, budget):
                    return False
    finally:
        path.discard(id(v))
    return True


def value_shape(v):
    """"pure", "container" or "object" (see the module docstring)."""
    t = type(v)
    if t not in _PURE_TYPES:
        return "object"
    if t not in _CONTAINER_TYPES:
        return "pure"
    return "pure" if _all_pure(v, set(), 0, [MAX_ITEMS]) else "container"


def value_entry(name, kind, v):
    shape = value_shape(v)
    text = None
    if shape == "pure":
        try:
            text = repr(v)
        except Exception:           # e.g. 3.11+'s int digit limit
            text = None
        if text is not None and len(text) > MAX_REPR:
            text = None
    return {"name": name, "kind": kind, "type": type(v).__name__,
            "id": id(v), "shape": shape, "repr": text}


def frame_locals(frame):
    """The "locals" list of a frame, or None (see the module docstring)."""
    code = frame.f_code
    flags = code.co_flags
    if not flags & _CO_OPTIMIZED:
        return None
    if code.co_nlocals + len(code.co_cellvars) + len(code.co_freevars) \
            > MAX_LOCALS:
        return None
    items = list(frame.f_locals.items())    # 3.13+: a proxy
    if len(items) > MAX_LOCALS:
        return None
    nargs = code.co_argcount + getattr(code, "co_kwonlyargcount", 0) \
        + (1 if flags & _CO_VARARGS else 0) \
        + (1 if flags & _CO_VARKEYWORDS else 0)
    args = code.co_varnames[:nargs]
    values = dict(items)
    out = [value_entry(n, "arg", values[n]) for n in args if n in values]
    for n, v in items:
        if n in args:
            continue
        if n in code.co_cellvars:
            kind = "cell"
        elif n in code.co_freevars:
            kind = "free"
        else:
            kind = "local"
        out.append(value_entry(n, kind, v))
    return out


_positions_cache = {}       # id(code) -> (code, list of positions)


def frame_positions(frame):
    """[line, end_line, col, end_col] of the current instruction (3.11+),
    else None."""
    code = frame.f_code
    if not hasattr(code, "co_positions"):
        return None
    hit = _positions_cache.get(id(code))
    if hit is None or hit[0] is not code:
        hit = _positions_cache[id(code)] = (code, list(code.co_positions()))
    i = frame.f_lasti // 2
    if not 0 <= i < len(hit[1]):
        return None
    return list(hit[1][i])


def frame_details(frame, busy):
    """[(positions, locals)] innermost first; busy: the innermost frame
    moves (compare="outer"), so both are None for it."""
    out = []
    while frame is not None:
        if busy and not out:
            out.append((None, None))
        else:
            out.append((frame_positions(frame), frame_locals(frame)))
        frame = frame.f_back
    return out


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
        self.info = {}              # extra top-level record fields

    # --- called by the target -------------------------------------------

    def thread(self, name, func, *args, **kw):
        """Start a daemon thread that parks in func(*args).

        kw: compare="all" (default) or "outer" (func spins forever);
        expect=dict: recorded as the thread's "expect_state" (what the
        checker expects of snakescope's "state" of this thread)."""
        compare = kw.pop("compare", "all")
        expect = kw.pop("expect", None)
        if kw:
            raise TypeError("unexpected keyword arguments %r" % (kw,))
        t = threading.Thread(target=self.park, name=name,
                             args=(func,) + tuple(args),
                             kwargs={"compare": compare, "expect": expect})
        t.daemon = True
        t.start()
        self._threads.append(t)
        return t

    def adopt(self, thread):
        """Expect a thread started elsewhere; it must call park() itself."""
        self._threads.append(thread)

    def park(self, func, *args, **kw):
        """Register the calling thread, then run func(*args) (never returns).

        kw: compare= and expect= as for thread()."""
        compare = kw.pop("compare", "all")
        expect = kw.pop("expect", None)
        if kw:
            raise TypeError("unexpected keyword arguments %r" % (kw,))
        me = threading.current_thread()
        with self._lock:
            self._info[get_ident()] = {
                "name": me.name, "native_id": native_id(),
                "code": func.__code__, "compare": compare,
                "line": last_line(func.__code__), "expect": expect,
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
        # Take the busy threads' lines, and every frame's positions and
        # locals, from a fresh look: everything else is known not to move
        # any more.
        frames = sys._current_frames()
        threads = []
        for ident in sorted(expected):
            info = self._info[ident]
            stack = stack_of(frames[ident])
            if info["compare"] != "outer" and stack != snap[ident]:
                sys.stderr.write("_record: thread %r moved after it parked\n"
                                 % info["name"])
                os._exit(3)
            details = frame_details(frames[ident], info["compare"] == "outer")
            entry = {
                "thread_id": ident,
                "native_id": info["native_id"],
                "name": info["name"],
                "compare": info["compare"],
                "frames": [{"function": fn, "filename": fl, "line": ln,
                            "positions": pos, "locals": loc}
                           for (fn, fl, ln), (pos, loc)
                           in zip(stack, details)],
            }
            if info["expect"] is not None:
                entry["expect_state"] = info["expect"]
            threads.append(entry)
        # Reading the locals must not have moved anything either.
        for ident in sorted(expected):
            info = self._info[ident]
            if info["compare"] != "outer" \
                    and stack_of(frames[ident]) != snap[ident]:
                sys.stderr.write("_record: thread %r moved while its locals "
                                 "were read\n" % info["name"])
                os._exit(3)
        del frames
        threads.extend(self.extra)
        record = {
            "pid": os.getpid(),
            "version": sys.version.split()[0],
            "recorder_native_id": native_id(),
            "debug_build": hasattr(sys, "gettotalrefcount"),
            "threads": threads,
        }
        for k, v in self.info.items():
            record.setdefault(k, v)
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
