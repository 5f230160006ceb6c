"""The event-loop scenarios of deadlocks.py (Python 3.8+; a module of its
own so that Python 2.7 can still parse deadlocks.py).

  blocked_loop       task "ticker" sleeps 0.5 s in a loop; task "blocker",
                     woken by ticker's first tick, calls time.sleep(3600):
                     the loop (in MainThread) is stuck with ticker's timer
                     overdue.  likely_hang, blocked_loop [MainThread,
                     blocker].
  blocked_loop_lock  the same, but blocker takes a threading.Lock that
                     thread "holder" holds (sleeping) for ever.
                     likely_hang, blocked_loop [MainThread, blocker]; the
                     lock is listed with its holder and waiter.
  healthy_loop       a TCP server and a client task "client" exchanging
                     requests on 127.0.0.1 (each handled with a little
                     work, every 20th with a 2 ms time.sleep()), task
                     "ticker" sleeping 10 ms in a loop, and task "offload"
                     awaiting run_in_executor(time.sleep, 3600): a long C
                     call in a worker thread that nobody but an idle task
                     waits for.  Recorded after 300 requests.  none.
  loop_waits_itself  task "waiter", in MainThread's loop, calls
                     run_coroutine_threadsafe(coro, its own loop).result():
                     the loop would start coro only once waiter returns.
                     deadlock, kind executor [MainThread, to be run by
                     its own loop]; no timer, so no blocked_loop.
  bridge_executor    task "first" awaits loop.run_in_executor(pool, g)
                     on a one-worker pool (thread "bridge_0"); g calls
                     run_coroutine_threadsafe(h(first), loop).result();
                     h's task (named "helper") awaits "first".  deadlock,
                     kind executor [first -> bridge_0 -> helper -> first,
                     and asyncio.run()'s task that awaits first].
  bridge_to_thread   the same through asyncio.to_thread(g) (3.9+): the
                     worker is the default executor's ("asyncio_0").
  bridge_lock        thread "locker" holds threading.Lock L and waits in
                     run_coroutine_threadsafe(lk_coro(), loop).result();
                     that task ("lk_coro") awaits to_thread (3.8:
                     run_in_executor) of lk_f, which takes L on the
                     default executor's worker ("asyncio_0").  deadlock,
                     kind executor [locker -> lk_coro -> asyncio_0 ->
                     locker].
  healthy_bridges    task "offloader" awaits to_thread (3.8:
                     run_in_executor) of short work in a loop, thread
                     "caller" waits in run_coroutine_threadsafe(coro,
                     loop).result() for short coroutines in a loop;
                     recorded after 200 rounds of each.  none.

The recorder is a plain thread.  For the blocked scenarios it polls until
MainThread's innermost frame is blocker's blocking line and the loop's
earliest timer is overdue by more than 1.5 s by loop.time() (so that
snakescope, which needs 1 s, sees it too), all unchanged for 8 looks in a
row; then it writes the record (see deadlocks.py) with a "blocked_loop"
member:
  {"loop": id(loop), "thread": party name, "task": party name,
   "coroutine": the task's coroutine function (co_qualname or co_name),
   "at": {"function", "filename", "line"} of the innermost frame}.
"""
import asyncio
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

OVERDUE = 1.5       # seconds the earliest timer must be late to record
HEALTHY_REQUESTS = 300


def place(func, marks, mark):
    code = func.__code__
    return {"function": _record.code_name(code),
            "filename": code.co_filename,
            "line": marks[mark]}


# --------------------------------------------------------------------------
# blocked_loop, blocked_loop_lock

async def ticker(started):
    """Wakes blocker, then ticks every 0.5 s (its timer stays scheduled
    while the loop is blocked)."""
    while True:
        started.set()
        await asyncio.sleep(0.5)  # mark:blocked_loop.ticker.wait


async def blocker_sleep(started):
    """Once ticker ticked: a blocking sleep inside the loop."""
    await started.wait()
    time.sleep(3600)  # mark:blocked_loop.blocker.block


async def blocker_lock(started, lock):
    """Once ticker ticked: a threading.Lock that another thread holds."""
    await started.wait()
    lock.acquire()  # mark:blocked_loop_lock.blocker.block


def holder(lock, held):
    """Holds the lock for ever."""
    with lock:  # mark:blocked_loop_lock.holder.hold
        held.set()
        while True:
            time.sleep(3600)  # mark:blocked_loop_lock.holder.park


def earliest_overdue(loop):
    """Seconds the earliest scheduled timer of the loop is late (racy
    reads of a loop that is blocked: it does not change)."""
    whens = [h.when() for h in list(loop._scheduled)]
    return loop.time() - min(whens) if whens else None


def look_blocked(loop, main_ident, code, line):
    frame = sys._current_frames().get(main_ident)
    problems = []
    if frame is None or frame.f_code is not code or frame.f_lineno != line:
        problems.append("MainThread: not (yet) at line %d of %s"
                        % (line, code.co_name))
    snap = _record.stack_of(frame) if frame is not None else None
    del frame
    overdue = earliest_overdue(loop)
    if overdue is None or overdue < OVERDUE:
        problems.append("earliest timer overdue by %s s, want %s"
                        % (overdue, OVERDUE))
    return snap, problems


def record_blocked(path, scenario, loop, tasks, funcs, marks, helpers,
                   lock_thread=None, lock=None):
    settle, write_record, fail = helpers
    main_ident = threading.main_thread().ident
    func = funcs["blocker"]
    mark = "%s.blocker.block" % scenario
    code, line = func.__code__, marks[mark]
    prev = settle(lambda: look_blocked(loop, main_ident, code, line),
                  "%s: MainThread" % scenario)
    parties = dict((name, {"kind": "task", "id": id(task)})
                   for name, task in tasks.items())
    parties["MainThread"] = {"kind": "thread", "id": main_ident}
    locks = []
    if lock is not None:
        parties["holder"] = {"kind": "thread", "id": lock_thread.ident}
        # The loop's thread blocks in the lock, on behalf of the task.
        w = {"party": "MainThread"}
        w.update(place(func, marks, mark))
        locks.append({"address": id(lock), "type": "threading.Lock",
                      "name": None, "holder": "holder",
                      "held_since": place(holder, marks,
                                          "blocked_loop_lock.holder.hold"),
                      "waiters": [w]})
    record = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": scenario,
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": parties,
        "verdict": "likely_hang",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": {
            "loop": id(loop),
            "thread": "MainThread",
            "task": "blocker",
            "coroutine": _record.code_name(code),
            "at": place(func, marks, mark),
        },
        "locks": locks,
    }
    snap, problems = look_blocked(loop, main_ident, code, line)
    if problems or snap != prev:
        fail(["%s: MainThread moved after it settled" % scenario] + problems)
    write_record(path, record)


async def main_blocked(path, scenario, marks, helpers):
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    lock = lock_thread = None
    if scenario == "blocked_loop_lock":
        lock, held = threading.Lock(), threading.Event()
        lock_thread = threading.Thread(target=holder, name="holder",
                                       args=(lock, held))
        lock_thread.daemon = True
        lock_thread.start()
        held.wait()
        func = blocker_lock
        b = loop.create_task(blocker_lock(started, lock), name="blocker")
    else:
        func = blocker_sleep
        b = loop.create_task(blocker_sleep(started), name="blocker")
    t = loop.create_task(ticker(started), name="ticker")
    r = threading.Thread(target=record_blocked, name="recorder",
                         args=(path, scenario, loop,
                               {"blocker": b, "ticker": t},
                               {"blocker": func}, marks, helpers,
                               lock_thread, lock))
    r.daemon = True
    r.start()
    await asyncio.gather(b, t)


# --------------------------------------------------------------------------
# healthy_loop

async def handle(reader, writer):
    """Answers each line: a little work, every 20th a brief block."""
    n = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        n += 1
        sum(range(2000))
        if n % 20 == 0:
            time.sleep(0.002)
        writer.write(line)
        await writer.drain()
    writer.close()


async def client(port, counter):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while True:
        writer.write(b"ping\n")
        await writer.drain()
        await reader.readline()
        counter[0] += 1


async def offload(loop):
    """A long C call in the default executor's worker thread."""
    await loop.run_in_executor(None, time.sleep, 3600)


async def tick():
    while True:
        await asyncio.sleep(0.01)


def record_healthy(path, loop, tasks, counter, helpers):
    settle, write_record, fail = helpers
    deadline = time.time() + 25.0
    while counter[0] < HEALTHY_REQUESTS:
        if time.time() > deadline:
            fail(["healthy_loop: %d requests in 25 s" % counter[0]])
        time.sleep(0.01)
    parties = dict((name, {"kind": "task", "id": id(task)})
                   for name, task in tasks.items())
    parties["MainThread"] = {"kind": "thread",
                             "id": threading.main_thread().ident}
    write_record(path, {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": "healthy_loop",
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": parties,
        "verdict": "none",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": None,
        "locks": [],
    })


async def main_healthy(path, helpers):
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    counter = [0]
    tasks = {
        "client": loop.create_task(client(port, counter), name="client"),
        "ticker": loop.create_task(tick(), name="ticker"),
        "offload": loop.create_task(offload(loop), name="offload"),
    }
    r = threading.Thread(target=record_healthy, name="recorder",
                         args=(path, loop, tasks, counter, helpers))
    r.daemon = True
    r.start()
    await asyncio.gather(*tasks.values())


# --------------------------------------------------------------------------
# loop_waits_itself

async def lwi_work():
    return 1


async def lwi_main_task(loop):
    """Inside the loop: waits for a coroutine only this loop would run."""
    asyncio.run_coroutine_threadsafe(lwi_work(), loop).result()  # mark:loop_waits_itself.wait


def record_lwi(path, loop, task, marks, helpers):
    settle, write_record, fail = helpers
    main_ident = threading.main_thread().ident
    code = lwi_main_task.__code__
    line = marks["loop_waits_itself.wait"]

    def look():
        frames = sys._current_frames()
        f = frames.get(main_ident)
        while f is not None and f.f_code is not code:
            f = f.f_back
        problems = []
        if f is None or f.f_lineno != line:
            problems.append("MainThread: not (yet) at line %d of %s"
                            % (line, code.co_name))
        snap = _record.stack_of(frames.get(main_ident))
        del frames, f
        return snap, problems

    prev = settle(look, "loop_waits_itself: MainThread")
    write_record(path, {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": "loop_waits_itself",
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": {"MainThread": {"kind": "thread", "id": main_ident},
                    "waiter": {"kind": "task", "id": id(task)}},
        "verdict": "deadlock",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": None,
        "executor": [{"party": "MainThread", "function": None,
                      "run_by": "MainThread", "executor": None,
                      "loop": id(loop),
                      "at": place(lwi_main_task, marks,
                                  "loop_waits_itself.wait")}],
        "locks": [],
    })
    snap, problems = look()
    if problems or snap != prev:
        fail(["loop_waits_itself: MainThread moved after it settled"]
             + problems)


async def main_lwi(path, marks, helpers):
    loop = asyncio.get_running_loop()
    task = loop.create_task(lwi_main_task(loop), name="waiter")
    r = threading.Thread(target=record_lwi, name="recorder",
                         args=(path, loop, task, marks, helpers))
    r.daemon = True
    r.start()
    await task


# --------------------------------------------------------------------------
# bridge_executor, bridge_to_thread

async def bridge_helper(first, named):
    """Runs as run_coroutine_threadsafe()'s task: awaits the task whose
    worker waits for it."""
    asyncio.current_task().set_name("helper")
    named.append(asyncio.current_task())
    await first  # mark:bridge.helper.wait


def bridge_g(loop, first, named):
    """On the worker: waits for a coroutine that awaits its caller."""
    asyncio.run_coroutine_threadsafe(bridge_helper(first[0], named), loop).result()  # mark:bridge.g.wait


async def bridge_first(loop, pool, first, named):
    if pool is None:
        await asyncio.to_thread(bridge_g, loop, first, named)  # mark:bridge.first.to_thread
    else:
        await loop.run_in_executor(pool, bridge_g, loop, first, named)  # mark:bridge.first.executor


def bridge_worker(loop, pool):
    """The thread that runs bridge_g: the pool's only one, or the default
    executor's (asyncio_0)."""
    pool = pool or loop._default_executor
    threads = list(pool._threads) if pool is not None else []
    return threads[0] if len(threads) == 1 else None


def record_bridge(path, scenario, loop, pool, first, named, main, marks,
                  helpers):
    settle, write_record, fail = helpers
    code = bridge_g.__code__
    line = marks["bridge.g.wait"]
    state = {}

    def look():
        problems = []
        w = bridge_worker(loop, pool)
        if w is None:
            return None, ["no worker (yet)"]
        state["worker"] = w
        frames = sys._current_frames()
        f = frames.get(w.ident)
        while f is not None and f.f_code is not code:
            f = f.f_back
        if f is None or f.f_lineno != line:
            problems.append("%s: not (yet) at line %d of bridge_g"
                            % (w.name, line))
        if not named:
            problems.append("helper: not started")
        snap = _record.stack_of(frames.get(w.ident))
        del frames, f
        return snap, problems

    prev = settle(look, "%s: worker" % scenario)
    worker = state["worker"]
    helper = named[0]
    write_record(path, {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": scenario,
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": {worker.name: {"kind": "thread", "id": worker.ident},
                    "first": {"kind": "task", "id": id(first[0])},
                    "helper": {"kind": "task", "id": id(helper)},
                    main.get_name(): {"kind": "task", "id": id(main)}},
        "verdict": "deadlock",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": None,
        "executor": [
            {"party": "first", "function": "bridge_g",
             "run_by": worker.name, "executor": None,
             "set_by_task": None, "awaits_task": None,
             "at": place(bridge_first, marks,
                         "bridge.first.to_thread" if pool is None
                         else "bridge.first.executor")},
            {"party": worker.name, "function": None, "run_by": None,
             "executor": None, "set_by_task": "helper",
             "awaits_task": None,
             "at": place(bridge_g, marks, "bridge.g.wait")},
            {"party": "helper", "function": None, "run_by": None,
             "executor": None, "set_by_task": None,
             "awaits_task": "first",
             "at": place(bridge_helper, marks, "bridge.helper.wait")},
            # asyncio.run()'s task, stuck behind them
            {"party": main.get_name(), "function": None, "run_by": None,
             "executor": None, "set_by_task": None,
             "awaits_task": "first",
             "at": place(main_bridge, marks, "bridge.main.wait")},
        ],
        "locks": [],
    })
    snap, problems = look()
    if problems or snap != prev:
        fail(["%s: the worker moved after it settled" % scenario]
             + problems)


async def main_bridge(path, scenario, marks, helpers):
    import concurrent.futures
    loop = asyncio.get_running_loop()
    pool = None
    if scenario == "bridge_executor":
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bridge")
    first, named = [], []
    first.append(loop.create_task(bridge_first(loop, pool, first, named),
                                  name="first"))
    r = threading.Thread(target=record_bridge, name="recorder",
                         args=(path, scenario, loop, pool, first, named,
                               asyncio.current_task(), marks, helpers))
    r.daemon = True
    r.start()
    await first[0]  # mark:bridge.main.wait


# --------------------------------------------------------------------------
# bridge_lock

def lk_f(lock):
    """On the worker: takes the lock the waiting thread holds."""
    with lock:  # mark:bridge_lock.f.wait
        pass


async def lk_coro(loop, lock, named):
    asyncio.current_task().set_name("lk_coro")
    named.append(asyncio.current_task())
    if sys.version_info >= (3, 9):
        await asyncio.to_thread(lk_f, lock)  # mark:bridge_lock.coro.to_thread
    else:
        await loop.run_in_executor(None, lk_f, lock)  # mark:bridge_lock.coro.executor


def lk_locker(loop, lock, named):
    """Holds the lock while it waits for a coroutine that needs it."""
    with lock:
        asyncio.run_coroutine_threadsafe(lk_coro(loop, lock, named), loop).result()  # mark:bridge_lock.locker.wait


def record_bridge_lock(path, loop, locker, named, marks, helpers):
    settle, write_record, fail = helpers
    code = lk_f.__code__
    line = marks["bridge_lock.f.wait"]
    state = {}

    def look():
        w = bridge_worker(loop, None)
        if w is None:
            return None, ["no worker (yet)"]
        state["worker"] = w
        problems = []
        frames = sys._current_frames()
        f = frames.get(w.ident)
        while f is not None and f.f_code is not code:
            f = f.f_back
        if f is None or f.f_lineno != line:
            problems.append("%s: not (yet) at line %d of lk_f"
                            % (w.name, line))
        snap = (_record.stack_of(frames.get(w.ident)),
                _record.stack_of(frames.get(locker.ident)))
        del frames, f
        return snap, problems

    prev = settle(look, "bridge_lock: worker")
    worker = state["worker"]
    task = named[0]
    write_record(path, {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": "bridge_lock",
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": {worker.name: {"kind": "thread", "id": worker.ident},
                    "locker": {"kind": "thread", "id": locker.ident},
                    "lk_coro": {"kind": "task", "id": id(task)}},
        "verdict": "deadlock",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": None,
        "executor": [
            {"party": "locker", "function": None, "run_by": None,
             "executor": None, "set_by_task": "lk_coro",
             "awaits_task": None, "held_by": None,
             "at": place(lk_locker, marks, "bridge_lock.locker.wait")},
            {"party": "lk_coro", "function": "lk_f",
             "run_by": worker.name, "executor": None,
             "set_by_task": None, "awaits_task": None, "held_by": None,
             "at": place(lk_coro, marks,
                         "bridge_lock.coro.to_thread"
                         if sys.version_info >= (3, 9)
                         else "bridge_lock.coro.executor")},
            {"party": worker.name, "function": None, "run_by": None,
             "executor": None, "set_by_task": None, "awaits_task": None,
             "held_by": "locker",
             "at": place(lk_f, marks, "bridge_lock.f.wait")},
        ],
        "locks": [],
    })
    snap, problems = look()
    if problems or snap != prev:
        fail(["bridge_lock: the worker moved after it settled"] + problems)


async def main_bridge_lock(path, marks, helpers):
    loop = asyncio.get_running_loop()
    lock = threading.Lock()
    named = []
    locker = threading.Thread(target=lk_locker, name="locker",
                              args=(loop, lock, named))
    locker.daemon = True
    locker.start()
    r = threading.Thread(target=record_bridge_lock, name="recorder",
                         args=(path, loop, locker, named, marks, helpers))
    r.daemon = True
    r.start()
    await asyncio.sleep(3600)


# --------------------------------------------------------------------------
# healthy_bridges

HEALTHY_BRIDGE_ROUNDS = 200


def short_work():
    return sum(range(1000))


async def short_coro():
    await asyncio.sleep(0)
    return 1


async def offloader(loop, counts):
    while True:
        if sys.version_info >= (3, 9):
            await asyncio.to_thread(short_work)
        else:
            await loop.run_in_executor(None, short_work)
        counts[0] += 1


def caller(loop, counts):
    while True:
        asyncio.run_coroutine_threadsafe(short_coro(), loop).result()
        counts[1] += 1


def record_healthy_bridges(path, loop, task, counts, helpers):
    settle, write_record, fail = helpers
    deadline = time.time() + 25.0
    while min(counts) < HEALTHY_BRIDGE_ROUNDS:
        if time.time() > deadline:
            fail(["healthy_bridges: %r rounds in 25 s" % counts])
        time.sleep(0.01)
    write_record(path, {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "scenario": "healthy_bridges",
        "recorder_native_id": _record.native_id(),
        "threads": [],
        "file": os.path.abspath(__file__),
        "parties": {"offloader": {"kind": "task", "id": id(task)},
                    "MainThread": {"kind": "thread",
                                   "id": threading.main_thread().ident}},
        "verdict": "none",
        "cycle": None,
        "hang_chain": None,
        "blocked_loop": None,
        "locks": [],
    })


async def main_healthy_bridges(path, helpers):
    loop = asyncio.get_running_loop()
    counts = [0, 0]
    task = loop.create_task(offloader(loop, counts), name="offloader")
    c = threading.Thread(target=caller, name="caller", args=(loop, counts))
    c.daemon = True
    c.start()
    r = threading.Thread(target=record_healthy_bridges, name="recorder",
                         args=(path, loop, task, counts, helpers))
    r.daemon = True
    r.start()
    await task


SCENARIOS = ("blocked_loop", "blocked_loop_lock", "healthy_loop",
             "loop_waits_itself", "bridge_executor", "bridge_to_thread",
             "bridge_lock", "healthy_bridges")


def run(path, scenario, find_markers, settle, write_record, fail):
    """Run the scenario (never returns); the helpers come from
    deadlocks.py."""
    marks = find_markers(__file__)
    helpers = (settle, write_record, fail)
    if scenario == "healthy_loop":
        asyncio.run(main_healthy(path, helpers))
    elif scenario == "loop_waits_itself":
        asyncio.run(main_lwi(path, marks, helpers))
    elif scenario in ("bridge_executor", "bridge_to_thread"):
        asyncio.run(main_bridge(path, scenario, marks, helpers))
    elif scenario == "bridge_lock":
        asyncio.run(main_bridge_lock(path, marks, helpers))
    elif scenario == "healthy_bridges":
        asyncio.run(main_healthy_bridges(path, helpers))
    else:
        asyncio.run(main_blocked(path, scenario, marks, helpers))
