"""Comparing `snakescope deadlock` with the records of
tests/targets/deadlocks.py.

deadlock_problems(record, doc)
    doc: the JSON of `snakescope dump --json PID` or `snakescope deadlock
    --json PID` (both carry "threads", "tasks", "locks", "deadlocks",
    "hangs" and "verdict").  Checks the verdict; the one lock cycle of the
    record (same members, and each member waits for a lock held by the
    next one); the hang chain (the record's chain must end the doc's);
    the executor deadlock (exactly one of kind "executor", with the
    record's threads, each one's function, run_by, executor and place);
    the blocked loop (exactly one hang of kind "blocked_loop": its loop,
    thread, task, coroutine and innermost frame, a syscall or state, and
    at least 1 s stuck); that a "none" verdict comes with no lock cycle
    and no hang of any kind; every
    recorded lock (type, name, holder, held_since, waiters); and that
    every recorded waiter's thread or task waits_for that lock.

text_problems(record, out)
    The text of `snakescope deadlock PID`: "Deadlock" and every cycle
    member's name in double quotes; "Likely hang" and every chain member's
    name in double quotes (a blocked loop: its thread's and task's
    names); or "No deadlock".

Both return a list of problem strings, empty when everything matches, and
never raise on a malformed document.  The parties' names in the record are
the thread and task names.  Standard library only (Python 3.6+).
"""

_MAX_PROBLEMS = 60
_MISSING = object()


def _cap(problems):
    if len(problems) > _MAX_PROBLEMS:
        problems = problems[:_MAX_PROBLEMS] + [
            "... %d more problems" % (len(problems) - _MAX_PROBLEMS)]
    return problems


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _ref(obj):
    """("thread"|"task", id) of a doc reference such as {"thread": id, ...},
    or None when it is not one."""
    if not isinstance(obj, dict):
        return None
    for kind in ("thread", "task"):
        if kind in obj:
            return (kind, obj[kind]) if _is_int(obj[kind]) else None
    return None


def _where(obj):
    """(function, filename, line) of a doc location object, or None."""
    if not isinstance(obj, dict):
        return None
    where = (obj.get("function"), obj.get("filename"), obj.get("line"))
    if not all(v is None or isinstance(v, (str, int)) for v in where):
        return None
    return where


def _hex(address):
    return "0x%x" % address if _is_int(address) else repr(address)


class _Check(object):
    """The record's parties and the doc's pieces, with readable names."""

    def __init__(self, record, doc):
        self.record = record
        self.doc = doc
        self.scenario = record.get("scenario", "?")
        self.problems = []
        self.party = {}             # party name -> (kind, id)
        self.names = {}             # (kind, id) -> party name
        for name, p in sorted((record.get("parties") or {}).items()):
            ref = (p["kind"], p["id"])
            self.party[name] = ref
            self.names[ref] = name

    def add(self, text):
        self.problems.append("%s: %s" % (self.scenario, text))

    def who(self, ref):
        if ref is None:
            return "nobody"
        name = self.names.get(ref)
        if name is not None:
            return "%r (%s %d)" % (name, ref[0], ref[1])
        return "%s %r" % ref

    def list_of(self, key):
        """doc[key] if it is a list of objects, else None (reported)."""
        v = self.doc.get(key, _MISSING)
        if v is _MISSING:
            self.add("%r: missing from the document" % key)
            return None
        if not isinstance(v, list):
            self.add("%r: expected a list, got %s" % (key, type(v).__name__))
            return None
        bad = [x for x in v if not isinstance(x, dict)]
        if bad:
            self.add("%r: entries that are not objects: %r" % (key, bad[:3]))
        return [x for x in v if isinstance(x, dict)]


def deadlock_problems(record, doc):
    """Problems found comparing doc (snakescope's JSON) with record (what
    deadlocks.py wrote); empty when everything matches."""
    try:
        return _cap(_deadlock_problems(record, doc))
    except Exception as e:      # a malformed doc we did not foresee
        return ["%s: malformed document (%s: %s)" % (
            record.get("scenario", "?"), type(e).__name__, e)]


def _deadlock_problems(record, doc):
    scenario = record.get("scenario", "?")
    if not isinstance(doc, dict):
        return ["%s: the output is not a JSON object" % scenario]
    c = _Check(record, doc)
    verdict = doc.get("verdict", _MISSING)
    if verdict != record["verdict"]:
        c.add("verdict: expected %r, got %s" % (
            record["verdict"],
            "nothing" if verdict is _MISSING else repr(verdict)))
    threads = c.list_of("threads")
    tasks = c.list_of("tasks")
    locks = c.list_of("locks")
    deadlocks = c.list_of("deadlocks")
    hangs = c.list_of("hangs")

    by_address = {}
    for lk in locks or []:
        addr = lk.get("address")
        if not _is_int(addr):
            c.add("a lock with address %r (type %r)" % (addr, lk.get("type")))
            continue
        if addr in by_address:
            c.add("lock %s listed twice" % _hex(addr))
        by_address[addr] = lk
    waiting = {}                # (kind, id) -> the doc's thread or task
    for t in threads or []:
        if _is_int(t.get("thread_id")):
            waiting[("thread", t["thread_id"])] = t
    for t in tasks or []:
        if _is_int(t.get("id")):
            waiting[("task", t["id"])] = t

    lock_cycles = [d for d in deadlocks or []
                   if d.get("kind") == "lock_cycle"]
    executors = [d for d in deadlocks or [] if d.get("kind") == "executor"]
    if record.get("executor"):
        _check_executor(c, record["executor"], executors)
    else:
        for d in executors:
            c.add("unexpected executor deadlock: %r" % (d,))
    if record["cycle"]:
        _check_cycle(c, record["cycle"], lock_cycles, by_address)
    if record["hang_chain"]:
        _check_hang(c, record["hang_chain"], hangs)
    blocked = [h for h in hangs or [] if h.get("kind") == "blocked_loop"]
    if record.get("blocked_loop"):
        _check_blocked_loop(c, record["blocked_loop"], blocked)
    else:
        for h in blocked:
            c.add("unexpected blocked_loop: loop %s, thread %s, task %s"
                  % (_hex(h.get("loop")), c.who(("thread", h.get("thread"))),
                     c.who(("task", h.get("task")))))
    if record["verdict"] == "none":
        for d in lock_cycles:
            c.add("verdict none, but a lock_cycle: %s"
                  % _show_members(c, d.get("cycle")))
        for h in hangs or []:
            if h.get("kind") != "blocked_loop":
                c.add("verdict none, but a hang: %s"
                      % _show_members(c, h.get("chain")))

    if locks is not None:
        for want in record["locks"]:
            _check_lock(c, want, locks, by_address, waiting)
    return c.problems


def _members(entries):
    """[(kind, id) or None] of a doc cycle or chain, or None if it is not
    a list."""
    if not isinstance(entries, list):
        return None
    return [_ref(e) for e in entries]


def _show_members(c, entries):
    refs = _members(entries)
    if refs is None:
        return repr(entries)
    return "[%s]" % ", ".join(c.who(r) for r in refs)


def _is_rotation(a, b):
    if len(a) != len(b) or not a or a[0] not in b:
        return False
    i = b.index(a[0])
    return list(b[i:]) + list(b[:i]) == list(a)


def _check_cycle(c, names, lock_cycles, by_address):
    want = [c.party[n] for n in names]
    show_want = "[%s]" % ", ".join(c.who(r) for r in want)
    matching = []
    for d in lock_cycles:
        refs = _members(d.get("cycle"))
        if refs is not None and set(refs) == set(want) \
                and len(refs) == len(want):
            matching.append(d)
        else:
            c.add("unexpected lock_cycle %s (expected only %s)"
                  % (_show_members(c, d.get("cycle")), show_want))
    if len(matching) != 1:
        c.add("expected exactly one lock_cycle of %s, found %d"
              % (show_want, len(matching)))
        return
    entries = matching[0]["cycle"]
    refs = _members(entries)
    if not _is_rotation(refs, want):
        c.add("lock_cycle order %s is not a rotation of %s"
              % (_show_members(c, entries), show_want))
    # Each member waits for a lock held by the next one.
    for i, e in enumerate(entries):
        nxt = refs[(i + 1) % len(refs)]
        addr = e.get("waits_for")
        lk = by_address.get(addr) if _is_int(addr) else None
        if lk is None:
            c.add("lock_cycle member %s waits_for %s: no such lock"
                  % (c.who(refs[i]), _hex(addr)))
            continue
        holder = _ref(lk.get("holder"))
        if holder != nxt:
            c.add("lock_cycle member %s waits_for %s %s held by %s, "
                  "expected the next member %s"
                  % (c.who(refs[i]), lk.get("type"), _hex(addr),
                     c.who(holder), c.who(nxt)))


def _check_hang(c, names, hangs):
    want = [c.party[n] for n in names]
    show_want = "[%s]" % ", ".join(c.who(r) for r in want)
    for h in hangs or []:
        refs = _members(h.get("chain"))
        if refs is not None and len(refs) >= len(want) \
                and refs[len(refs) - len(want):] == want:
            return
    c.add("no hang whose chain ends with %s; hangs: %s"
          % (show_want, "; ".join(_show_members(c, h.get("chain"))
                                  for h in hangs or []) or "none"))


def _check_executor(c, want, executors):
    """The one executor deadlock against the record's threads and tasks:
    each one's future's function, who runs it, the pool it is queued in or
    the task that sets it (or the task awaited), and where it waits."""
    if len(executors) != 1:
        c.add("expected exactly one executor deadlock, found %d"
              % len(executors))
        if not executors:
            return
    got = {}
    for e in executors[0].get("threads") or []:
        if isinstance(e, dict) and _is_int(e.get("task")):
            got[("task", e["task"])] = e
        elif isinstance(e, dict) and _is_int(e.get("thread")):
            got[("thread", e["thread"])] = e
        else:
            c.add("executor deadlock: malformed thread %r" % (e,))
    for w in want:
        ref = c.party[w["party"]]
        e = got.pop(ref, None)
        if e is None:
            c.add("executor deadlock: %s is missing" % c.who(ref))
            continue
        if e.get("function") != w["function"]:
            c.add("executor deadlock: %s waits for %r, expected %r"
                  % (c.who(ref), e.get("function"), w["function"]))
        run_by = ("thread", e.get("run_by")) if _is_int(e.get("run_by")) \
            else None
        want_by = c.party[w["run_by"]] if w["run_by"] else None
        if run_by != want_by:
            c.add("executor deadlock: %s: run_by %s, expected %s"
                  % (c.who(ref), c.who(run_by), c.who(want_by)))
        if e.get("executor") != w["executor"]:
            c.add("executor deadlock: %s: executor %s, expected %s"
                  % (c.who(ref), _hex(e.get("executor")),
                     _hex(w["executor"])))
        for key in ("set_by_task", "awaits_task", "held_by"):
            if key not in w:
                continue
            kind = "thread" if key == "held_by" else "task"
            by = (kind, e.get(key)) if _is_int(e.get(key)) else None
            want_by = c.party[w[key]] if w[key] else None
            if by != want_by:
                c.add("executor deadlock: %s: %s %s, expected %s"
                      % (c.who(ref), key, c.who(by), c.who(want_by)))
        if "loop" in w and e.get("loop") != w["loop"]:
            c.add("executor deadlock: %s: loop %s, expected %s"
                  % (c.who(ref), _hex(e.get("loop")), _hex(w["loop"])))
        if _where(e.get("at")) != _where(w["at"]):
            c.add("executor deadlock: %s at %r, expected %s %s:%s"
                  % ((c.who(ref), e.get("at")) + _where(w["at"])))
    for ref in got:
        c.add("executor deadlock: unexpected %s" % c.who(ref))


def _check_blocked_loop(c, want, blocked):
    """The one blocked_loop hang against the record's: loop, thread, task,
    coroutine, innermost frame; blocked in something; >= 1 s stuck."""
    if len(blocked) != 1:
        c.add("expected exactly one blocked_loop hang, found %d"
              % len(blocked))
        if not blocked:
            return
    h = blocked[0]
    if h.get("loop") != want["loop"]:
        c.add("blocked_loop: loop %s, expected %s"
              % (_hex(h.get("loop")), _hex(want["loop"])))
    for key in ("thread", "task"):
        got = (key, h.get(key)) if _is_int(h.get(key)) else None
        if got != c.party[want[key]]:
            c.add("blocked_loop: %s %s, expected %s"
                  % (key, c.who(got), c.who(c.party[want[key]])))
    if h.get("coroutine") != want["coroutine"]:
        c.add("blocked_loop: coroutine %r, expected %r"
              % (h.get("coroutine"), want["coroutine"]))
    if _where(h.get("at")) != _where(want["at"]):
        c.add("blocked_loop: at %r, expected %s %s:%s"
              % ((h.get("at"),) + _where(want["at"])))
    if not h.get("syscall") and h.get("os_state") in (None, "running"):
        c.add("blocked_loop: blocked in nothing (syscall %r, os_state %r)"
              % (h.get("syscall"), h.get("os_state")))
    stuck = h.get("stuck_for")
    if not isinstance(stuck, (int, float)) or stuck < 1.0:
        c.add("blocked_loop: stuck_for %r, expected at least 1 s" % (stuck,))


def _find_lock(want, locks, by_address):
    if want["address"] is not None:
        return by_address.get(want["address"])
    for lk in locks:
        if lk.get("type") == want["type"] and lk.get("name") == want["name"]:
            return lk
    return None


def _check_lock(c, want, locks, by_address, waiting):
    label = "lock %s %s" % (want["type"], _hex(want["address"])
                            if want["address"] is not None
                            else repr(want["name"]))
    lk = _find_lock(want, locks, by_address)
    if lk is None:
        c.add("%s: not in the document's locks" % label)
        return
    address = lk.get("address")
    for key in ("type", "name"):
        if lk.get(key, _MISSING) != want[key]:
            c.add("%s: %s: expected %r, got %r"
                  % (label, key, want[key], lk.get(key)))

    holder = lk.get("holder", _MISSING)
    want_holder = c.party[want["holder"]] if want["holder"] else None
    if holder is _MISSING:
        c.add("%s: holder missing" % label)
    elif holder is not None and _ref(holder) is None:
        c.add("%s: holder: malformed %r" % (label, holder))
    elif _ref(holder) != want_holder:
        c.add("%s: holder: expected %s, got %s"
              % (label, c.who(want_holder), c.who(_ref(holder))))

    since = lk.get("held_since", _MISSING)
    want_since = _where(want["held_since"])
    if since is _MISSING:
        c.add("%s: held_since missing" % label)
    elif since is not None and _where(since) is None:
        c.add("%s: held_since: malformed %r" % (label, since))
    elif _where(since) != want_since:
        c.add("%s: held_since: expected %s, got %r"
              % (label, "%s %s:%s" % want_since if want_since else "null",
                 since))

    got_waiters = lk.get("waiters")
    if not isinstance(got_waiters, list):
        c.add("%s: waiters: expected a list, got %r" % (label, got_waiters))
        got_waiters = []
    got = set()
    for w in got_waiters:
        ref = _ref(w)
        at = _where(w.get("at")) if isinstance(w, dict) else None
        if ref is None or at is None:
            c.add("%s: malformed waiter %r" % (label, w))
            continue
        got.add(ref + at)
    exp = set(c.party[w["party"]] + _where(w) for w in want["waiters"])
    show = lambda e: "%s at %s %s:%s" % ((c.who(e[:2]),) + e[2:])
    for e in sorted(exp - got, key=str):
        c.add("%s: waiter missing: %s" % (label, show(e)))
    for e in sorted(got - exp, key=str):
        c.add("%s: unexpected waiter: %s" % (label, show(e)))

    # Every recorded waiter's thread or task waits for this lock.
    for w in want["waiters"]:
        ref = c.party[w["party"]]
        t = waiting.get(ref)
        if t is None:
            c.add("%s: waiter %s is not among the document's %ss"
                  % (label, c.who(ref), ref[0]))
        elif t.get("waits_for") != address:
            c.add("%s: waiter %s has waits_for %s, expected %s"
                  % (label, c.who(ref), _hex(t.get("waits_for")),
                     _hex(address)))


def text_problems(record, out):
    """Problems in the text of `snakescope deadlock PID`."""
    scenario = record.get("scenario", "?")
    if not isinstance(out, str):
        return ["%s: the output is not text: %r" % (scenario, type(out))]
    verdict = record["verdict"]
    problems = []
    if verdict == "deadlock" and record.get("executor"):
        words = "for futures that only"
        names = [e["party"] for e in record["executor"]]
    elif verdict == "deadlock":
        words, names = "Deadlock", record["cycle"] or []
    elif verdict == "likely_hang" and record.get("blocked_loop"):
        words = "Likely hang: the event loop"
        names = [record["blocked_loop"]["thread"],
                 record["blocked_loop"]["task"]]
    elif verdict == "likely_hang":
        words, names = "Likely hang", record["hang_chain"] or []
    else:
        words, names = "No deadlock", []
    if words not in out:
        problems.append("%s: verdict %s, but no %r in the text"
                        % (scenario, verdict, words))
    for name in names:
        if '"%s"' % name not in out:
            problems.append('%s: the name "%s" (in double quotes) is not in '
                            "the text" % (scenario, name))
    if problems:
        problems.append("output (first 60 lines):")
        problems.extend("  " + ln for ln in out.splitlines()[:60])
    return problems
