"""Shared helper for the snakescope asyncio live-test targets (Python 3.8+).

A target is started as `python -E -s -B TARGET.py RECORD_PATH`.  It builds
its asyncio programs and tells an AsyncRecorder what it built:

    rec = _arecord.recorder_from_argv()
    rec.loop()                 # in each event loop's thread, loop running
    rec.expect(task, "event")  # every task that must be pending at record
                               # time, with the awaiting kind it must reach
                               # ("running" for the one running task)
    rec.expect_cycles([[a, b]])  # optional: the await cycles it built
    rec.pstree = True          # optional: fit for `python -m asyncio pstree`
    rec.start()                # once everything above is registered

A short-lived recorder thread (a plain threading.Thread, never a task) then
polls until every loop is idle in its selector (or, for a loop with an
expected running task, blocked in a threading wait inside that task), the
pending tasks of the registered loops are exactly the expected ones, each
has reached its expected kind, and nothing has changed for STABLE_POLLS
looks in a row.  It writes RECORD_PATH atomically (tmp + rename) and exits:

  {"pid", "version", "recorder_native_id",
   "tasks": [{"id", "name", "thread_id", "loop", "running", "state",
              "coroutine_stack": [{"function", "filename", "line"}...],
              "awaiting": null | {"kind", "object", "future", "tasks"},
              "delay_max": float|null, "awaited_by": [ids]}],
   "cycles": [[ids in await order]...], "pstree": bool,
   ...plus whatever the target put into rec.info}

Definitions (the brief this mirrors is the contract snakescope is held to):

  state      "running" if the task is asyncio.current_task(loop), else
             "waiting" if task._fut_waiter is not None, else "scheduled".
  coroutine_stack, waiting task: the await chain from task.get_coro()
             (coroutine cr_frame/cr_await, generator gi_frame/gi_yieldfrom,
             async generator ag_frame/ag_await, an async_generator_asend
             is replaced by the async generator it drives), stopping at the
             first object that is none of these; function is the object's
             __qualname__; innermost first.
  coroutine_stack, running task: the loop thread's frames from the
             innermost down to the task coroutine's cr_frame; function is
             the owning coroutine/generator's __qualname__ for frames on
             the await chain, else co_qualname (3.11+) or co_name.
  awaiting   (waiting tasks only) decided from the innermost chain entry
             that is not pure-Python asyncio's Future.__await__ generator:
             Lock.acquire/Event.wait/Condition.wait/Semaphore.acquire/
             Queue.get/Queue.put/TaskGroup.__aexit__/TaskGroup._aexit in
             asyncio -> lock/event/condition/semaphore/queue/taskgroup with
             object = that frame's self (taskgroup: tasks = the group's
             pending children); `sleep` in asyncio/tasks.py -> sleep,
             object = the sleep future, delay_max = its `delay` argument;
             else by task._fut_waiter: a Task -> task, a _GatheringFuture
             -> gather (tasks = its pending task children), other -> future.
             "future" is always id(task._fut_waiter) (an extra field).
  awaited_by a "task" awaiting gives its task the awaiter; "gather"
             children are awaited by the gathering task; a TaskGroup's
             pending children are awaited by the group's parent task.
  cycles     elementary cycles of the awaited_by graph (parent -> child),
             each listed in await order (each entry awaits the next, the
             last awaits the first).

On 3.14+ asyncio.capture_call_graph(task) (called from the recorder thread,
where no loop runs, so it builds the graph from _asyncio_awaited_by) must
agree with awaited_by; a disagreement is printed to stderr, exit status 3.
"""
import asyncio
import gc
import json
import os
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

POLL_INTERVAL = 0.01    # seconds between two looks
STABLE_POLLS = 8        # identical looks in a row needed before recording
STABLE_TIME = 0.1       # ...or at least 3 looks spanning this many seconds
GIVE_UP_AFTER = 25.0    # seconds; then explain on stderr and exit(3)

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__))

# innermost frame's qualname (code in asyncio) -> awaiting kind; object is
# the frame's `self`
_SELF_KINDS = {
    "Lock.acquire": "lock",
    "Event.wait": "event",
    "Condition.wait": "condition",
    "Semaphore.acquire": "semaphore",
    "BoundedSemaphore.acquire": "semaphore",
    "Queue.get": "queue",
    "Queue.put": "queue",
    "TaskGroup.__aexit__": "taskgroup",
    "TaskGroup._aexit": "taskgroup",
}

_CTask = getattr(asyncio.tasks, "_CTask", None)
_TASK_TYPES = tuple(set(t for t in (asyncio.Task, _CTask,
                                    getattr(asyncio.tasks, "_PyTask", None))
                        if isinstance(t, type)))


def is_task(obj):
    return isinstance(obj, _TASK_TYPES)


_in_asyncio_cache = {}


def _in_asyncio(filename):
    """(is filename in the asyncio package, its base name)"""
    hit = _in_asyncio_cache.get(filename)
    if hit is None:
        hit = (os.path.dirname(os.path.abspath(filename)) == _ASYNCIO_DIR,
               os.path.basename(filename))
        _in_asyncio_cache[filename] = hit
    return hit


def _is_future_await(obj, frame):
    """Pure-Python asyncio's Future.__await__ generator (also Task's)."""
    return (type(obj) is types.GeneratorType
            and obj.__qualname__ == "Future.__await__"
            and _in_asyncio(frame.f_code.co_filename)[0])


def await_chain(coro):
    """[(object, frame)] outermost first, from a task's coroutine."""
    out = []
    seen = set()
    obj = coro
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        if isinstance(obj, types.CoroutineType):
            frame, nxt = obj.cr_frame, obj.cr_await
        elif isinstance(obj, types.GeneratorType):
            frame, nxt = obj.gi_frame, obj.gi_yieldfrom
        elif isinstance(obj, types.AsyncGeneratorType):
            frame, nxt = obj.ag_frame, obj.ag_await
        elif type(obj).__name__ == "async_generator_asend":
            gens = [o for o in gc.get_referents(obj)
                    if isinstance(o, types.AsyncGeneratorType)]
            obj = gens[0] if len(gens) == 1 else None
            continue
        else:
            break
        if frame is None:           # finished
            break
        out.append((obj, frame))
        obj = nxt
    return out


def task_name(task):
    """task.get_name(), without its side effect: since 3.12 a C Task with a
    default name keeps only the counter (an int) until get_name() formats
    and stores "Task-N"; snakescope must cope with both, so leave it be."""
    if _CTask is not None and isinstance(task, _CTask):
        ints = [o for o in gc.get_referents(task) if type(o) is int]
        if len(ints) == 1:
            return "Task-%d" % ints[0]
    return task.get_name()


def _entry(function, frame):
    return {"function": function, "filename": frame.f_code.co_filename,
            "line": frame.f_lineno}


def _code_name(code):
    return getattr(code, "co_qualname", code.co_name)


class TaskLook(object):
    """What the recorder saw of one task at one look."""

    def __init__(self, task, loop, thread_id, frames):
        self.task = task
        self.id = id(task)
        self.name = task_name(task)
        self.loop = id(loop)
        self.thread_id = thread_id
        self.running = asyncio.current_task(loop) is task
        waiter = self.waiter = task._fut_waiter
        if self.running:
            self.state = "running"
        elif waiter is not None:
            self.state = "waiting"
        else:
            self.state = "scheduled"
        chain = await_chain(task.get_coro())
        self.problem = None
        self._key = None
        self.delay_max = None
        self.awaiting = None
        self.awaiting_tasks = []        # the task objects, for awaited_by
        if self.running:
            self.stack = self._running_stack(chain, frames.get(thread_id))
        else:
            self.stack = [_entry(o.__qualname__, f) for o, f in chain][::-1]
        if self.state == "waiting":
            self._find_awaiting(chain, waiter)

    def _running_stack(self, chain, frame):
        if not chain:
            self.problem = "running, but its coroutine has no frame"
            return []
        names = dict((id(f), o.__qualname__) for o, f in chain)
        stop = chain[0][1]
        out = []
        while frame is not None:
            out.append(_entry(names.get(id(frame), _code_name(frame.f_code)),
                              frame))
            if frame is stop:
                return out
            frame = frame.f_back
        self.problem = ("running, but its coroutine's frame is not on the "
                        "loop thread's stack")
        return out

    def _find_awaiting(self, chain, waiter):
        inner = [(o, f) for o, f in chain if not _is_future_await(o, f)]
        obj, frame = inner[-1] if inner else (None, None)
        qualname = obj.__qualname__ if obj is not None else None
        where = _in_asyncio(frame.f_code.co_filename) if frame else None
        if qualname in _SELF_KINDS and where[0]:
            kind = _SELF_KINDS[qualname]
            target = frame.f_locals.get("self")
            tasks = []
            if kind == "taskgroup":
                tasks = [t for t in list(target._tasks) if not t.done()]
            self._set(kind, target, tasks)
        elif qualname == "sleep" and where == (True, "tasks.py"):
            self.delay_max = float(frame.f_locals.get("delay"))
            self._set("sleep", waiter, [])
        elif is_task(waiter):
            self._set("task", waiter, [waiter])
        elif type(waiter).__name__ == "_GatheringFuture":
            self._set("gather", waiter,
                      [c for c in list(waiter._children)
                       if is_task(c) and not c.done()])
        else:
            self._set("future", waiter, [])

    def _set(self, kind, obj, tasks):
        self.awaiting_tasks = tasks
        self.awaiting = {"kind": kind,
                         "object": id(obj) if obj is not None else None,
                         "future": id(self.waiter),
                         "tasks": sorted(id(t) for t in tasks)}

    def key(self):
        """Everything that must stay the same while the task is settled."""
        if self._key is None:
            self._key = self._make_key()
        return self._key

    def _make_key(self):
        stack = tuple((e["function"], e["filename"], e["line"])
                      for e in self.stack)
        aw = self.awaiting
        aw = None if aw is None else (aw["kind"], aw["object"],
                                      aw["future"], tuple(aw["tasks"]))
        return (self.name, self.loop, self.thread_id, self.running,
                self.state, stack, aw, self.delay_max, self.problem)

    def as_record(self, awaited_by):
        return {
            "id": self.id,
            "name": self.name,
            "thread_id": self.thread_id,
            "loop": self.loop,
            "running": self.running,
            "state": self.state,
            "coroutine_stack": self.stack,
            "awaiting": self.awaiting,
            "delay_max": self.delay_max,
            "awaited_by": awaited_by,
        }


def _all_tasks(loop):
    for _ in range(100):
        try:
            return [t for t in asyncio.all_tasks(loop) if not t.done()]
        except RuntimeError:        # a set changed size while copied
            time.sleep(0.001)
    raise RuntimeError("asyncio.all_tasks(loop) kept failing")


def _taskgroups():
    """Every TaskGroup that has pending children (3.11+)."""
    cls = getattr(asyncio, "TaskGroup", None)
    if cls is None:
        return []
    groups = {}
    for obj in gc.get_objects():
        if isinstance(obj, cls) and obj._tasks:
            groups[id(obj)] = obj
    return list(groups.values())


def awaited_by_map(looks, extra=()):
    """{task id: set of ids of the tasks awaiting it}, expected; extra:
    (parent id, child id) edges the target declared (wait_for, shield)."""
    by = dict((lk.id, set()) for lk in looks)
    for parent, child in extra:
        by.setdefault(child, set()).add(parent)
    for lk in looks:
        if lk.awaiting and lk.awaiting["kind"] in ("task", "gather"):
            for t in lk.awaiting_tasks:
                by.setdefault(id(t), set()).add(lk.id)
    for tg in _taskgroups():
        parent = tg._parent_task
        if parent is None or not is_task(parent):
            continue
        for child in list(tg._tasks):
            if not child.done():
                by.setdefault(id(child), set()).add(id(parent))
    return by


def find_cycles(awaited_by):
    """Elementary cycles of the graph parent -> child, each in await order,
    rotated to start at its smallest id; sorted."""
    graph = {}
    for child, parents in awaited_by.items():
        for p in parents:
            graph.setdefault(p, set()).add(child)
    cycles = set()
    # Johnson would be overkill: these graphs are tiny where cycles exist;
    # a bounded DFS from every node that can only find a cycle through its
    # start, restricted to nodes >= start, yields each cycle once.
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.add(tuple(path))
                elif nxt > start and nxt not in path and len(path) < 64:
                    stack.append((nxt, path + [nxt]))
    return sorted(list(c) for c in cycles)


def same_cycle(a, b):
    if len(a) != len(b) or not a:
        return False
    if a[0] not in b:
        return False
    i = b.index(a[0])
    return list(b[i:]) + list(b[:i]) == list(a)


class AsyncRecorder(object):
    def __init__(self, path):
        self.path = path
        self.pstree = False
        self.info = {}              # extra top-level record fields
        self._lock = threading.Lock()
        self._loops = {}            # id(loop) -> (loop, thread ident)
        self._expect = {}           # id(task) -> (task, kind)
        self._cycles = None
        self._edges = []            # (parent id, child id), declared
        self._started = False
        self._blocking = _record._blocking_places()

    # --- called by the target -------------------------------------------

    def loop(self, loop=None):
        """Register the event loop running in the calling thread."""
        if loop is None:
            loop = asyncio.get_running_loop()
        with self._lock:
            self._loops[id(loop)] = (loop, threading.get_ident())
        return loop

    def expect(self, task, kind):
        """task must be pending at record time, awaiting `kind` (an
        awaiting kind, or "running")."""
        with self._lock:
            self._expect[id(task)] = (task, kind)
        return task

    def expect_awaits(self, parent, child):
        """parent awaits child through a future of asyncio's own (shield's
        outer future, wait_for's waiter before 3.12)."""
        with self._lock:
            self._edges.append((id(parent), id(child)))

    def expect_cycles(self, cycles):
        """The await cycles the target built, lists of tasks in await
        order; the record lists them in this rotation."""
        self._cycles = [[id(t) for t in c] for c in cycles]

    def start(self):
        if self._started:
            return
        self._started = True
        r = threading.Thread(target=self._run, name="recorder")
        r.daemon = True
        r.start()

    # --- recorder thread ---------------------------------------------------

    def _loop_problem(self, loop, ident, frame, running_looks):
        if frame is None:
            return "no Python frame in its thread"
        if running_looks:
            top = frame
            if top.f_code not in self._blocking:
                return "running task's thread not blocked (innermost %s)" % (
                    top.f_code.co_name,)
            line = self._blocking[top.f_code]
            if line is not None and top.f_lineno != line:
                return "running task's thread not at the blocking call"
            return None
        code = frame.f_code
        if code.co_name != "select" or not code.co_filename.endswith(
                "selectors.py"):
            return "not idle in its selector (innermost %s %s:%d)" % (
                code.co_name, code.co_filename, frame.f_lineno)
        return None

    def _look(self):
        with self._lock:
            loops = list(self._loops.values())
            expect = dict(self._expect)
        frames = sys._current_frames()
        problems = []
        looks = []
        try:
            for loop, ident in loops:
                for task in _all_tasks(loop):
                    looks.append(TaskLook(task, loop, ident, frames))
            by_loop = {}
            for lk in looks:
                by_loop.setdefault(lk.loop, []).append(lk)
            for loop, ident in loops:
                run = [lk for lk in by_loop.get(id(loop), []) if lk.running]
                why = self._loop_problem(loop, ident, frames.get(ident), run)
                if why:
                    problems.append("loop in thread %d: %s" % (ident, why))
        finally:
            del frames
        seen = set()
        for lk in looks:
            seen.add(lk.id)
            if lk.id not in expect:
                problems.append("unexpected task %r (%s)" % (
                    lk.name, lk.state))
                continue
            kind = expect[lk.id][1]
            got = "running" if lk.running else (
                lk.awaiting["kind"] if lk.awaiting else lk.state)
            if got != kind:
                problems.append("task %r: %s, expected %s" % (
                    lk.name, got, kind))
            if lk.problem:
                problems.append("task %r: %s" % (lk.name, lk.problem))
        missing = [t for i, (t, _) in expect.items() if i not in seen]
        if missing:
            problems.append("%d expected tasks not pending, e.g. %r" % (
                len(missing), missing[0].get_name()))
        return looks, problems

    def _fail(self, lines):
        sys.stderr.write("_arecord: " + lines[0] + "\n")
        for p in lines[1:41]:
            sys.stderr.write("  %s\n" % p)
        if len(lines) > 41:
            sys.stderr.write("  ... %d more\n" % (len(lines) - 41))
        sys.stderr.flush()
        os._exit(3)

    def _run(self):
        try:
            self._record()
        except BaseException:
            import traceback
            self._fail(["recorder failed:"]
                       + traceback.format_exc().splitlines())

    def _record(self):
        deadline = time.time() + GIVE_UP_AFTER
        prev, same = None, 0
        while True:
            looks, problems = self._look()
            snap = None if problems else dict(
                (lk.id, lk.key()) for lk in looks)
            if snap is not None and snap == prev:
                same += 1
            else:
                same = 0
            prev = snap
            if same == 0:
                settled_at = time.time()
            # Big targets: a look takes long enough that fewer will do.
            if same >= STABLE_POLLS or (
                    same >= 2 and time.time() - settled_at >= STABLE_TIME):
                break
            if time.time() > deadline:
                self._fail(["tasks did not settle within %gs:" % GIVE_UP_AFTER]
                           + (problems or ["tasks kept changing"]))
            time.sleep(POLL_INTERVAL)

        by = awaited_by_map(looks, self._edges)
        names = dict((lk.id, lk.name) for lk in looks)
        self._check_call_graph(looks, by, names)
        cycles = find_cycles(by)
        if self._cycles is not None:
            want = self._cycles
            if len(want) != len(cycles) or not all(
                    any(same_cycle(w, c) for c in cycles) for w in want):
                show = lambda cs: [[names.get(i, i) for i in c] for c in cs]
                self._fail(["await cycles %r, the target built %r"
                            % (show(cycles), show(want))])
            cycles = want
        elif cycles:
            self._fail(["unexpected await cycles %r" % (
                [[names.get(i, i) for i in c] for c in cycles],)])
        tasks = [lk.as_record(sorted(by.get(lk.id, ()))) for lk in looks]
        tasks.sort(key=lambda t: t["id"])

        # Nothing may have moved while the above was worked out.
        again, problems = self._look()
        if problems or dict((lk.id, lk.key()) for lk in again) != prev:
            self._fail(["tasks moved after they settled"] + problems)
        del again, looks

        record = {
            "pid": os.getpid(),
            "version": sys.version.split()[0],
            "recorder_native_id": _record.native_id(),
            "tasks": tasks,
            "cycles": cycles,
            "pstree": bool(self.pstree),
        }
        for k, v in self.info.items():
            record.setdefault(k, v)
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1)
        os.rename(tmp, self.path)

    def _check_call_graph(self, looks, by, names):
        """3.14+: asyncio.capture_call_graph must agree on awaited_by."""
        capture = getattr(asyncio, "capture_call_graph", None)
        if capture is None:
            return
        diffs = []
        for lk in looks:
            try:
                graph = capture(lk.task, limit=0)
                got = set(id(g.future) for g in graph.awaited_by)
            except RecursionError:
                # capture_call_graph recurses along awaited_by without
                # noticing cycles; use the data it is built from instead.
                got = set(id(f) for f in lk.task._asyncio_awaited_by or ())
            want = by.get(lk.id, set())
            if got != want:
                diffs.append("task %r: capture_call_graph awaited_by %r, "
                             "expected %r" % (
                                 lk.name,
                                 sorted(names.get(i, hex(i)) for i in got),
                                 sorted(names.get(i, hex(i)) for i in want)))
        if diffs:
            self._fail(["capture_call_graph disagrees with the expected "
                        "awaited_by:"] + diffs)


def recorder_from_argv():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: %s RECORD_PATH\n" % sys.argv[0])
        sys.exit(2)
    return AsyncRecorder(sys.argv[1])


def forever():
    """A future that is never resolved, of the running loop."""
    return asyncio.get_running_loop().create_future()
