"""Live-test target: threads (or asyncio tasks) stuck on locks, for
`snakescope deadlock`.

usage: python deadlocks.py RECORD_PATH SCENARIO   (runs until killed)

Every scenario starts daemon threads that end up blocked at a known place.
A short-lived recorder thread polls sys._current_frames() every 10 ms until
each participating thread ("party") has, as the innermost frame of its
scenario function, the expected line, and all their stacks stayed the same
for 8 looks in a row (after 25 s it gives up: a message on stderr and exit
status 3).  It then writes RECORD_PATH atomically (RECORD_PATH + ".tmp",
then rename) and ends.  The main thread parks in `time.sleep` forever, so
that it waits on no lock of its own.

The expected lines are found through trailing `mark:NAME` comments in this
file (and in _deadlock_async.py), never through hardcoded numbers.  Thread
and task names are the party names.

Scenarios:
  two_locks       alpha holds A and wants B, beta holds B and wants A.
                  deadlock, cycle [alpha, beta].
  three_cycle     t1 holds L1 wants L2, t2 holds L2 wants L3, t3 holds L3
                  wants L1.  deadlock, cycle [t1, t2, t3].
  rlock_wait      owner holds an RLock (taken twice, nested) and sleeps;
                  wanter wants it.  verdict none.
  condition_wait  waiter waits in cond.wait() that nobody notifies.  none.
  join_cycle      joiner holds L and joins "blocked", which wants L.
                  deadlock, cycle [joiner, blocked].
  import_wait     importer is stuck inside `import _deadlock_import_mod`
                  (the module's top level sleeps forever); second imports
                  it too and waits for the module lock.  none.  Python 3
                  only: on 2.7 the target exits with status 2.
  hang_chain      sleeper holds L and waits for an Event nobody sets;
                  wanter wants L.  likely_hang, chain [wanter, sleeper].
  self_lock       selfish holds a Lock and acquires it again.  deadlock,
                  cycle [selfish].
  async_locks     asyncio tasks A1 and A2 each hold one asyncio.Lock and
                  want the other's (see _deadlock_async.py).  deadlock,
                  cycle [A1, A2].  Python 3.8+ only: else exit status 2.
  healthy         4 workers loop forever taking a shared Lock briefly;
                  recorded once each ran 100 rounds.  none, no locks.
  executor_self   a one-worker ThreadPoolExecutor runs a task that
                  submits another to it and waits for its result; thread
                  submitter waits for the first.  deadlock, kind executor
                  [pool_0 (waits for exec_inner, queued), submitter (waits
                  for exec_self_outer, run by pool_0)].
  executor_full   both workers of a 2-worker pool wait for items they
                  submitted, queued behind them.  deadlock, kind executor
                  [full_0, full_1].
  executor_wait   the only worker of a pool submits three items to it and
                  waits for them in concurrent.futures.wait().  deadlock,
                  kind executor [waitpool_0].
  healthy_pool    4 workers do short jobs for a submitter thread (recorded
                  after 100 rounds), and thread patient waits for a
                  1-hour time.sleep() running on a worker.  none.
                  The executor scenarios need Python 3.7+ (else exit
                  status 2).
  blocked_loop, blocked_loop_lock, healthy_loop, loop_waits_itself
                  an asyncio loop blocked by time.sleep() or by a
                  threading.Lock in a task, a busy healthy loop, and a
                  loop's thread waiting for a coroutine it would run (see
                  _deadlock_loop.py).  Python 3.8+ only: else exit
                  status 2.

The record (JSON):
  {"pid", "version", "scenario", "recorder_native_id", "threads": [],
   "file": absolute path of the file holding the scenario functions,
   "parties": {name: {"kind": "thread"|"task", "id": ident or id(task)}},
   "verdict": "deadlock"|"likely_hang"|"none",
   "cycle": [names] | null,          each waits for a lock the next holds
   "hang_chain": [names] | null,     the waiter first, the blocked one last
   "blocked_loop": {...} | null,     (loop scenarios: _deadlock_loop.py)
   "executor": [{"party", "function": the work item's callable,
                 "run_by": party | null, "executor": id(pool) | null,
                 "loop": id(loop) (only when a loop will run it),
                 "at": {"function", "filename", "line"}}] | null,
                                     the threads of an executor deadlock
   "locks": [{"address": id(obj) (null: an import lock not found),
              "type": "threading.Lock"|"threading.RLock"|
                      "threading.Condition"|"threading.Event"|"thread"|
                      "import"|"asyncio.Lock",
              "name": null (the module name for "import"),
              "holder": party name | null,
              "held_since": {"function", "filename", "line"} | null,
              "waiters": [{"party", "function", "filename", "line"}]}]}
function is co_qualname (3.11+) or co_name, filename the code's
co_filename, line that of the statement where the lock was taken
(held_since) or where the party blocks (waiters).

Runs on Python 2.7 and 3.6+, standard library only.
"""
from __future__ import absolute_import, print_function

import json
import os
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _record  # noqa: E402

POLL_INTERVAL = 0.01    # seconds between two looks at sys._current_frames()
STABLE_POLLS = 8        # identical looks in a row needed before recording
GIVE_UP_AFTER = 25.0    # seconds; then explain on stderr and exit(3)
HEALTHY_ROUNDS = 100    # rounds every healthy worker must have done

IMPORT_MODULE = "_deadlock_import_mod"


# --------------------------------------------------------------------------
# helpers shared with _deadlock_async.py

_MARK = re.compile(r"#.*\bmark:([\w.-]+)\s*$")


def source_path(path):
    """The .py file of a module's __file__."""
    path = os.path.abspath(path)
    if path.endswith((".pyc", ".pyo")):
        path = path[:-1]
    return path


def find_markers(path):
    """{marker name: line number} of the trailing `mark:NAME` comments of
    the code lines of file `path`."""
    marks = {}
    with open(source_path(path)) as f:
        for number, text in enumerate(f, 1):
            m = _MARK.search(text)
            if m is None or text.strip().startswith("#"):
                continue
            name = m.group(1)
            if name in marks:
                raise ValueError("marker %r on lines %d and %d"
                                 % (name, marks[name], number))
            marks[name] = number
    return marks


def write_record(path, record):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.rename(tmp, path)


def fail(lines):
    """Explain on stderr and end the process with status 3."""
    sys.stderr.write("deadlocks: %s\n" % lines[0])
    for line in lines[1:41]:
        sys.stderr.write("  %s\n" % line)
    sys.stderr.flush()
    os._exit(3)


def settle(look, what):
    """Poll look() -> (snapshot, problems) until it gave the same snapshot
    with no problems STABLE_POLLS times in a row, and return that
    snapshot; fail() after GIVE_UP_AFTER seconds.  `what` names the
    parties ("threads did not park ...")."""
    deadline = time.time() + GIVE_UP_AFTER
    prev, same = None, 0
    while True:
        snap, problems = look()
        if not problems and snap == prev:
            same += 1
        else:
            same = 0
        prev = snap if not problems else None
        if same >= STABLE_POLLS:
            return snap
        if time.time() > deadline:
            fail(["%s did not settle within %gs:" % (what, GIVE_UP_AFTER)]
                 + (problems or ["they kept changing"]))
        time.sleep(POLL_INTERVAL)


MARKS = find_markers(__file__)


def place(func, mark):
    """{"function", "filename", "line"} of marker `mark` in func, as a frame
    of func reports it."""
    code = func.__code__
    return {"function": _record.code_name(code),
            "filename": code.co_filename,
            "line": MARKS[mark]}


def module_lock_address(name):
    """id() of importlib's _ModuleLock for module `name`, or None."""
    bootstrap = sys.modules.get("_frozen_importlib")
    locks = getattr(bootstrap, "_module_locks", None)
    if not isinstance(locks, dict):
        return None
    ref = locks.get(name)
    lock = ref() if ref is not None else None
    return id(lock) if lock is not None else None


# --------------------------------------------------------------------------
# what a scenario builds and expects

class Scenario(object):
    """The threads of one scenario and what the record says about them."""

    def __init__(self, name, verdict, cycle=None, hang_chain=None):
        self.name = name
        self.verdict = verdict
        self.cycle = cycle
        self.hang_chain = hang_chain
        self.threads = {}       # party name -> Thread
        self.funcs = {}         # party name -> its scenario function
        self.parked = []        # (party name, mark where it stays)
        self.locks = []         # specs, turned into records by record()
        self.counts = None      # healthy: rounds done by each worker
        self.executor = None    # executor deadlock: its threads

    def thread(self, name, func, mark, args, start=True):
        """A daemon thread `name` running func(*args), which is expected to
        stay at marker `mark` of func (mark None: it never stays)."""
        t = threading.Thread(target=func, name=name, args=args)
        t.daemon = True
        self.threads[name] = t
        self.funcs[name] = func
        if mark is not None:
            self.parked.append((name, mark))
        if start:
            t.start()
        return t

    def lock(self, obj, kind, holder=None, waiters=(), name=None):
        """obj's record: holder is (party, mark of where it took obj, or
        None for no held_since) or None; waiters are (party, mark of where
        it blocks)."""
        self.locks.append({"object": obj, "type": kind, "name": name,
                           "holder": holder, "waiters": list(waiters)})

    def executor_record(self):
        if self.executor is None:
            return None
        out = []
        for e in self.executor:
            entry = dict((k, v) for k, v in e.items() if k != "mark")
            entry["at"] = place(self.funcs[e["party"]], e["mark"])
            out.append(entry)
        return out

    def record(self):
        parties = {}
        for name, t in self.threads.items():
            parties[name] = {"kind": "thread", "id": t.ident}
        locks = []
        for spec in self.locks:
            if spec["type"] == "import":
                address = module_lock_address(spec["name"])
            else:
                address = id(spec["object"])
            holder = held_since = None
            if spec["holder"] is not None:
                holder, mark = spec["holder"]
                if mark is not None:
                    held_since = place(self.funcs[holder], mark)
            waiters = []
            for party, mark in spec["waiters"]:
                entry = {"party": party}
                entry.update(place(self.funcs[party], mark))
                waiters.append(entry)
            locks.append({"address": address, "type": spec["type"],
                          "name": spec["name"], "holder": holder,
                          "held_since": held_since, "waiters": waiters})
        return {
            "pid": os.getpid(),
            "version": sys.version.split()[0],
            "scenario": self.name,
            "recorder_native_id": _record.native_id(),
            "threads": [],
            "file": source_path(__file__),
            "parties": parties,
            "verdict": self.verdict,
            "cycle": self.cycle,
            "hang_chain": self.hang_chain,
            "blocked_loop": None,
            "executor": self.executor_record(),
            "locks": locks,
        }


# --------------------------------------------------------------------------
# two_locks: the classic lock-order inversion

def two_locks_alpha(a, b, a_held, b_held):
    """Takes A, waits until beta holds B, then wants B."""
    with a:  # mark:two_locks.alpha.hold
        a_held.set()
        b_held.wait()
        with b:  # mark:two_locks.alpha.wait
            pass


def two_locks_beta(a, b, a_held, b_held):
    """Takes B, waits until alpha holds A, then wants A."""
    with b:  # mark:two_locks.beta.hold
        b_held.set()
        a_held.wait()
        with a:  # mark:two_locks.beta.wait
            pass


def setup_two_locks():
    a, b = threading.Lock(), threading.Lock()
    a_held, b_held = threading.Event(), threading.Event()
    s = Scenario("two_locks", "deadlock", cycle=["alpha", "beta"])
    args = (a, b, a_held, b_held)
    s.thread("alpha", two_locks_alpha, "two_locks.alpha.wait", args)
    s.thread("beta", two_locks_beta, "two_locks.beta.wait", args)
    s.lock(a, "threading.Lock", holder=("alpha", "two_locks.alpha.hold"),
           waiters=[("beta", "two_locks.beta.wait")])
    s.lock(b, "threading.Lock", holder=("beta", "two_locks.beta.hold"),
           waiters=[("alpha", "two_locks.alpha.wait")])
    return s


# --------------------------------------------------------------------------
# three_cycle: t1 -> t2 -> t3 -> t1

def three_cycle_member(mine, wanted, mine_held, wanted_held):
    """Takes its own lock, waits until the next member holds the lock it
    wants, then wants it."""
    with mine:  # mark:three_cycle.hold
        mine_held.set()
        wanted_held.wait()
        with wanted:  # mark:three_cycle.wait
            pass


def setup_three_cycle():
    names = ["t1", "t2", "t3"]
    locks = [threading.Lock() for _ in names]
    held = [threading.Event() for _ in names]
    s = Scenario("three_cycle", "deadlock", cycle=list(names))
    for i, name in enumerate(names):
        j = (i + 1) % len(names)
        s.thread(name, three_cycle_member, "three_cycle.wait",
                 (locks[i], locks[j], held[i], held[j]))
    for i, name in enumerate(names):
        before = names[i - 1]       # the member that wants locks[i]
        s.lock(locks[i], "threading.Lock",
               holder=(name, "three_cycle.hold"),
               waiters=[(before, "three_cycle.wait")])
    return s


# --------------------------------------------------------------------------
# rlock_wait: an RLock held (recursively) by a sleeping thread

def rlock_wait_owner(r, owned):
    """Takes the RLock twice (nested) and sleeps forever holding it."""
    with r:  # mark:rlock_wait.owner.hold
        with r:
            owned.set()
            while True:
                time.sleep(3600)  # mark:rlock_wait.owner.park


def rlock_wait_wanter(r, owned):
    """Wants the RLock once owner holds it."""
    owned.wait()
    with r:  # mark:rlock_wait.wanter.wait
        pass


def setup_rlock_wait():
    r = threading.RLock()
    owned = threading.Event()
    s = Scenario("rlock_wait", "none")
    s.thread("owner", rlock_wait_owner, "rlock_wait.owner.park", (r, owned))
    s.thread("wanter", rlock_wait_wanter, "rlock_wait.wanter.wait",
             (r, owned))
    s.lock(r, "threading.RLock", holder=("owner", "rlock_wait.owner.hold"),
           waiters=[("wanter", "rlock_wait.wanter.wait")])
    return s


# --------------------------------------------------------------------------
# condition_wait: a Condition nobody notifies

def condition_wait_waiter(cond):
    """Waits on the condition, without a timeout."""
    with cond:
        cond.wait()  # mark:condition_wait.waiter.wait


def setup_condition_wait():
    cond = threading.Condition()
    s = Scenario("condition_wait", "none")
    s.thread("waiter", condition_wait_waiter, "condition_wait.waiter.wait",
             (cond,))
    s.lock(cond, "threading.Condition",
           waiters=[("waiter", "condition_wait.waiter.wait")])
    return s


# --------------------------------------------------------------------------
# join_cycle: joining a thread that waits for a lock the joiner holds

def join_cycle_joiner(lock, other):
    """Takes L, starts "blocked" and joins it."""
    with lock:  # mark:join_cycle.joiner.hold
        other.start()
        other.join()  # mark:join_cycle.joiner.wait


def join_cycle_blocked(lock):
    """Started while joiner holds L: wants L."""
    with lock:  # mark:join_cycle.blocked.wait
        pass


def setup_join_cycle():
    lock = threading.Lock()
    s = Scenario("join_cycle", "deadlock", cycle=["joiner", "blocked"])
    blocked = s.thread("blocked", join_cycle_blocked,
                       "join_cycle.blocked.wait", (lock,), start=False)
    s.thread("joiner", join_cycle_joiner, "join_cycle.joiner.wait",
             (lock, blocked))
    s.lock(lock, "threading.Lock", holder=("joiner", "join_cycle.joiner.hold"),
           waiters=[("blocked", "join_cycle.blocked.wait")])
    s.lock(blocked, "thread", holder=("blocked", None),
           waiters=[("joiner", "join_cycle.joiner.wait")])
    return s


# --------------------------------------------------------------------------
# import_wait: a second import of a module whose import never finishes

def import_wait_importer():
    """Imports the module, whose top level sleeps forever."""
    import _deadlock_import_mod  # noqa: F401  mark:import_wait.importer.hold


def import_wait_second(started):
    """Once the import is under way, imports the same module."""
    started.wait()
    import _deadlock_import_mod  # noqa: F401  mark:import_wait.second.wait


def setup_import_wait():
    # Set by _deadlock_import_mod's top level, once it runs.
    started = _record.deadlock_import_started = threading.Event()
    s = Scenario("import_wait", "none")
    s.thread("importer", import_wait_importer, "import_wait.importer.hold",
             ())
    s.thread("second", import_wait_second, "import_wait.second.wait",
             (started,))
    s.lock(None, "import", name=IMPORT_MODULE,
           holder=("importer", "import_wait.importer.hold"),
           waiters=[("second", "import_wait.second.wait")])
    return s


# --------------------------------------------------------------------------
# hang_chain: a thread waits for a lock whose holder waits forever

def hang_chain_sleeper(lock, ev, held):
    """Takes L, then waits for an Event nobody sets."""
    with lock:  # mark:hang_chain.sleeper.hold
        held.set()
        ev.wait()  # mark:hang_chain.sleeper.wait


def hang_chain_wanter(lock, held):
    """Wants L once sleeper holds it."""
    held.wait()
    with lock:  # mark:hang_chain.wanter.wait
        pass


def setup_hang_chain():
    lock, ev, held = threading.Lock(), threading.Event(), threading.Event()
    s = Scenario("hang_chain", "likely_hang", hang_chain=["wanter", "sleeper"])
    s.thread("sleeper", hang_chain_sleeper, "hang_chain.sleeper.wait",
             (lock, ev, held))
    s.thread("wanter", hang_chain_wanter, "hang_chain.wanter.wait",
             (lock, held))
    s.lock(lock, "threading.Lock",
           holder=("sleeper", "hang_chain.sleeper.hold"),
           waiters=[("wanter", "hang_chain.wanter.wait")])
    s.lock(ev, "threading.Event",
           waiters=[("sleeper", "hang_chain.sleeper.wait")])
    return s


# --------------------------------------------------------------------------
# self_lock: acquiring a (non-reentrant) Lock twice

def self_lock_selfish(lock):
    """Takes L, then acquires it again."""
    with lock:  # mark:self_lock.selfish.hold
        lock.acquire()  # mark:self_lock.selfish.wait


def setup_self_lock():
    lock = threading.Lock()
    s = Scenario("self_lock", "deadlock", cycle=["selfish"])
    s.thread("selfish", self_lock_selfish, "self_lock.selfish.wait", (lock,))
    s.lock(lock, "threading.Lock",
           holder=("selfish", "self_lock.selfish.hold"),
           waiters=[("selfish", "self_lock.selfish.wait")])
    return s


# --------------------------------------------------------------------------
# healthy: busy threads sharing a lock, nothing stuck

def healthy_worker(lock, counts, i):
    """Forever: count a round under the lock, a little work, a nap."""
    while True:
        with lock:
            counts[i] += 1
        sum(range(200))
        time.sleep(0.001)


def setup_healthy():
    lock = threading.Lock()
    s = Scenario("healthy", "none")
    s.counts = [0, 0, 0, 0]
    for i in range(len(s.counts)):
        s.thread("worker-%d" % (i + 1), healthy_worker, None,
                 (lock, s.counts, i))
    return s


SCENARIOS = {
    "two_locks": setup_two_locks,
    "three_cycle": setup_three_cycle,
    "rlock_wait": setup_rlock_wait,
    "condition_wait": setup_condition_wait,
    "join_cycle": setup_join_cycle,
    "import_wait": setup_import_wait,
    "hang_chain": setup_hang_chain,
    "self_lock": setup_self_lock,
    "healthy": setup_healthy,
}

# --------------------------------------------------------------------------
# executor_self: a one-worker pool whose task waits for a task it submits

def exec_inner():
    return 1


def exec_self_outer(pool):
    """Runs on the only worker: submits to the same pool and waits."""
    return pool.submit(exec_inner).result()  # mark:executor_self.outer.wait


def exec_self_submitter(fut):
    """Waits for the outer task's result."""
    fut.result()  # mark:executor_self.submitter.wait


def pool_workers(s, pool, count, func, mark):
    """Adds the pool's worker threads as parties, sorted by name, once
    there are `count` of them; returns their names."""
    deadline = time.time() + GIVE_UP_AFTER
    while len(pool._threads) < count:
        if time.time() > deadline:
            fail(["%s: %d pool workers, expected %d"
                  % (s.name, len(pool._threads), count)])
        time.sleep(POLL_INTERVAL)
    names = []
    for t in sorted(pool._threads, key=lambda t: t.name):
        s.threads[t.name] = t
        s.funcs[t.name] = func
        s.parked.append((t.name, mark))
        names.append(t.name)
    return names


def setup_executor_self():
    import concurrent.futures
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                 thread_name_prefix="pool")
    s = Scenario("executor_self", "deadlock")
    fut = pool.submit(exec_self_outer, pool)
    worker, = pool_workers(s, pool, 1, exec_self_outer,
                           "executor_self.outer.wait")
    s.thread("submitter", exec_self_submitter, "executor_self.submitter.wait",
             (fut,))
    s.executor = [
        {"party": worker, "function": "exec_inner", "run_by": None,
         "executor": id(pool), "mark": "executor_self.outer.wait"},
        {"party": "submitter", "function": "exec_self_outer",
         "run_by": worker, "executor": None,
         "mark": "executor_self.submitter.wait"},
    ]
    return s


# --------------------------------------------------------------------------
# executor_full: every worker waits for an item queued behind it

def exec_full_outer(pool, barrier):
    """Once both workers run one: submits to the same pool and waits."""
    barrier.wait()
    return pool.submit(exec_inner).result()  # mark:executor_full.outer.wait


def setup_executor_full():
    import concurrent.futures
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2,
                                                 thread_name_prefix="full")
    barrier = threading.Barrier(2)
    s = Scenario("executor_full", "deadlock")
    for _ in range(2):
        pool.submit(exec_full_outer, pool, barrier)
    workers = pool_workers(s, pool, 2, exec_full_outer,
                           "executor_full.outer.wait")
    s.executor = [{"party": w, "function": "exec_inner", "run_by": None,
                   "executor": id(pool), "mark": "executor_full.outer.wait"}
                  for w in workers]
    return s


# --------------------------------------------------------------------------
# executor_wait: the only worker waits in wait() for items it queued

def exec_wait_outer(pool):
    """Runs on the only worker: submits three items and waits for all."""
    import concurrent.futures
    fs = [pool.submit(exec_inner) for _ in range(3)]
    concurrent.futures.wait(fs)  # mark:executor_wait.outer.wait


def setup_executor_wait():
    import concurrent.futures
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                 thread_name_prefix="waitpool")
    s = Scenario("executor_wait", "deadlock")
    pool.submit(exec_wait_outer, pool)
    worker, = pool_workers(s, pool, 1, exec_wait_outer,
                           "executor_wait.outer.wait")
    s.executor = [{"party": worker, "function": "exec_inner", "run_by": None,
                   "executor": id(pool), "mark": "executor_wait.outer.wait"}]
    return s


# --------------------------------------------------------------------------
# healthy_pool: a pool doing real work, a thread waiting on a long call

def healthy_pool_job():
    return sum(range(20000))


def healthy_pool_submitter(pool, counts):
    """Forever: a few jobs, wait for each result."""
    while True:
        for f in [pool.submit(healthy_pool_job) for _ in range(4)]:
            f.result()
        counts[0] += 1


def healthy_pool_patient(fut):
    """Waits for a long C call running on a worker: no deadlock."""
    fut.result()  # mark:healthy_pool.patient.wait


def setup_healthy_pool():
    import concurrent.futures
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4,
                                                 thread_name_prefix="busy")
    s = Scenario("healthy_pool", "none")
    s.counts = [0]
    long_call = pool.submit(time.sleep, 3600)
    s.thread("patient", healthy_pool_patient, "healthy_pool.patient.wait",
             (long_call,))
    s.thread("submitter", healthy_pool_submitter, None, (pool, s.counts))
    return s


EXECUTOR_SCENARIOS = {
    "executor_self": setup_executor_self,
    "executor_full": setup_executor_full,
    "executor_wait": setup_executor_wait,
    "healthy_pool": setup_healthy_pool,
}

# In _deadlock_loop.py (asyncio, 3.8+).
LOOP_SCENARIOS = ("blocked_loop", "blocked_loop_lock", "healthy_loop",
                  "loop_waits_itself", "bridge_executor", "bridge_to_thread",
                  "bridge_lock", "healthy_bridges")

# --------------------------------------------------------------------------
# recorder thread

def look(s):
    """(snapshot, problems): every parked party's stack, and why some are
    not (yet) where they should stay."""
    frames = sys._current_frames()
    snap = {}
    problems = []
    for name, mark in s.parked:
        ident = s.threads[name].ident
        frame = frames.get(ident) if ident is not None else None
        if frame is None:
            problems.append("%s: not running" % name)
            continue
        code = s.funcs[name].__code__
        f = frame
        while f is not None and f.f_code is not code:
            f = f.f_back
        if f is None:
            problems.append("%s: %s not on the stack" % (name, code.co_name))
        elif f.f_lineno != MARKS[mark]:
            problems.append("%s: %s at line %d, expected %d (%s)" % (
                name, code.co_name, f.f_lineno, MARKS[mark], mark))
        else:
            snap[name] = _record.stack_of(frame)
    del frames
    if s.counts is not None:
        for i, n in enumerate(list(s.counts)):
            if n < HEALTHY_ROUNDS:
                problems.append("worker-%d: %d rounds" % (i + 1, n))
    return snap, problems


def record_when_parked(s, path):
    prev = settle(lambda: look(s), "%s: threads" % s.name)
    record = s.record()
    snap, problems = look(s)
    if problems or snap != prev:
        fail(["%s: threads moved after they parked" % s.name] + problems)
    write_record(path, record)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: %s RECORD_PATH SCENARIO\n  SCENARIO: %s\n"
                         % (sys.argv[0],
                            " ".join(sorted(SCENARIOS) + ["async_locks"]
                                     + sorted(EXECUTOR_SCENARIOS)
                                     + list(LOOP_SCENARIOS))))
        sys.exit(2)
    path, scenario = sys.argv[1], sys.argv[2]
    if scenario == "async_locks":
        if sys.version_info < (3, 8):
            sys.stderr.write("async_locks needs Python 3.8+\n")
            sys.exit(2)
        import _deadlock_async
        _deadlock_async.run(path, find_markers, settle, write_record, fail)
        return
    if scenario in LOOP_SCENARIOS:
        if sys.version_info < (3, 8) or (scenario == "bridge_to_thread"
                                         and sys.version_info < (3, 9)):
            sys.stderr.write("%s needs Python %s+\n" % (
                scenario, "3.9" if scenario == "bridge_to_thread" else "3.8"))
            sys.exit(2)
        import _deadlock_loop
        _deadlock_loop.run(path, scenario, find_markers, settle,
                           write_record, fail)
        return
    if scenario in EXECUTOR_SCENARIOS:
        if sys.version_info < (3, 7):
            sys.stderr.write("%s needs Python 3.7+\n" % scenario)
            sys.exit(2)
        SCENARIOS.update(EXECUTOR_SCENARIOS)
    if scenario not in SCENARIOS:
        sys.stderr.write("unknown scenario %r\n" % scenario)
        sys.exit(2)
    if scenario == "import_wait" and sys.version_info < (3,):
        sys.stderr.write("import_wait needs Python 3\n")
        sys.exit(2)
    s = SCENARIOS[scenario]()
    r = threading.Thread(target=record_when_parked, args=(s, path),
                         name="recorder")
    r.daemon = True
    r.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
