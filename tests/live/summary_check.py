"""Live checks of the diagnosis that opens `dump` and `deadlock` (issue
24; see live_test.py and cli/out_summary.c): the verdict, then one line
per thread or group of threads with one stack, in columns THREAD, STATE,
WAITING FOR, HELD BY, WHERE, before the stacks.  On every interpreter:

  - groups.py (304 threads in three groups of 100 and four alone): in the
    first screen (SCREEN lines) of `dump PID`, the verdict, then the
    heading "Threads (304, ...)" with one row per recorded group ('100
    threads "pool_a_0"-"pool_a_99"') and per thread alone (its name and
    TID), each row's WHERE the recorded innermost frame of its own code
    (outside threading.py and queue.py, 2.7's Queue.py), its WAITING
    FOR the kind of object its function waits on (Event, Lock, Queue,
    Condition; "-" in time.sleep), all before the first stack; `dump --no-summary PID` has
    no such table, the same other lines, and the verdict after the locks;
  - deadlocks.py (two_locks, three_cycle, join_cycle, hang_chain,
    import_wait): `dump PID` and `deadlock PID` (exit 6 / 7 / 0 as the
    record's verdict) open with the verdict, and in the first screen each
    waiting party's row names the recorded lock (its address or module),
    the recorded holder under HELD BY, and the recorded place of the
    wait under WHERE.

Standard library only (Python 3.6+).
"""
import json
import os
import re

import groups_check

SCREEN = 40
COLUMNS = ("THREAD", "STATE", "WAITING FOR", "HELD BY", "WHERE")
SCENARIOS = ["two_locks", "three_cycle", "join_cycle", "hang_chain",
             "import_wait"]
# the kind of object each groups.py function waits on (summary column)
# (2.7's Queue waits in its Condition: named so)
WAITS = {"park_event": ("<threading.Event 0x",),
         "park_lock": ("<threading.Lock 0x",),
         "main_park": ("<threading.Lock 0x",),
         "park_queue": ("<queue.Queue 0x", "<threading.Condition 0x"),
         "park_condition": ("<threading.Condition 0x",),
         "park_sleep": "-"}
VERDICT = re.compile(r"^(Deadlock|Likely hang|No deadlock): ")


def table(lines):
    """(index of the heading "Threads (N...)", N, [row dicts]) of the
    summary table in lines, or (None, None, [])."""
    for i, ln in enumerate(lines):
        m = re.match(r"^Threads \((\d+)[,)]", ln)
        if not m or i + 1 >= len(lines):
            continue
        head = lines[i + 1]
        starts = [head.find(c) for c in COLUMNS]
        if -1 in starts or starts != sorted(starts):
            continue
        rows = []
        for row in lines[i + 2:]:
            if not row.startswith("  ") or row.startswith("  ... and "):
                break
            cells = [row[a:b].strip() for a, b in
                     zip(starts, starts[1:] + [len(row)])]
            rows.append(dict(zip(COLUMNS, cells)))
        return i, int(m.group(1)), rows
    return None, None, []


def own_frame(frames):
    """"file.py:12 in f" of the innermost recorded frame outside
    threading.py and queue.py."""
    for f in frames:
        base = os.path.basename(f["filename"])
        if base.lower() not in ("threading.py", "queue.py"):
            return "%s:%s in %s" % (base, f["line"], f["function"])
    return None


def first_stack(lines):
    for i, ln in enumerate(lines):
        if re.match(r"^(Thread \d+|\d+ threads: )", ln):
            return i
    return len(lines)


def order_problems(lines, what):
    """The verdict first, then the table, then the stacks."""
    p = []
    verdict = next((i for i, ln in enumerate(lines) if VERDICT.match(ln)),
                   None)
    at, _, _ = table(lines)
    if verdict is None or verdict >= SCREEN:
        p.append("%s: no verdict line in the first %d lines" % (what, SCREEN))
    if at is None:
        p.append("%s: no thread table" % what)
    if verdict is not None and at is not None and verdict > at:
        p.append("%s: the verdict (line %d) after the table (line %d)"
                 % (what, verdict + 1, at + 1))
    if at is not None and at > first_stack(lines):
        p.append("%s: the table after the first stack" % what)
    return p


def groups_problems(record, doc, out):
    lines = out.splitlines()
    p = order_problems(lines, "dump")
    at, count, rows = table(lines)
    if at is None:
        return p
    if count != len(record["threads"]):
        p.append("dump: heading says %d threads, the record %d"
                 % (count, len(record["threads"])))
    by_name = dict((e["name"], e) for e in record["threads"])
    want = groups_check.expected_groups(record, doc)
    grouped = set(n for g in want for n in g)
    expect = []   # (THREAD cell, the record entry of its first member)
    for g in want:
        first = sorted(g, key=lambda n: (len(n), n))[0]
        expect.append((lambda c, g=g: c.startswith("%d threads " % len(g))
                       and sorted(groups_check.expand_names(c)) == sorted(g),
                       by_name[first], "group of %s..." % first))
    for e in record["threads"]:
        if e["name"] in grouped:
            continue
        cell = '"%s" (tid %s)' % (e["name"], e.get("native_id"))
        expect.append((lambda c, cell=cell: c == cell, e, e["name"]))
    for match, e, who in expect:
        found = [(k, r) for k, r in enumerate(rows) if match(r["THREAD"])]
        if len(found) != 1:
            p.append("dump: %d rows for %s, expected 1" % (len(found), who))
            continue
        k, r = found[0]
        if at + 2 + k >= SCREEN:
            p.append("dump: the row of %s is line %d, past the first %d"
                     % (who, at + 3 + k, SCREEN))
        where = own_frame(e["frames"])
        if r["WHERE"] != where:
            p.append("dump: %s: WHERE %r, recorded %r" % (who, r["WHERE"],
                                                         where))
        func = (where or "").rpartition(" in ")[2]
        waits = WAITS.get(func)
        if waits == "-" and r["WAITING FOR"] != "-" or \
                waits != "-" and not r["WAITING FOR"].startswith(
                    tuple(waits or ("?",))):
            p.append("dump: %s: WAITING FOR %r, expected %r"
                     % (who, r["WAITING FOR"], waits))
    if len(rows) != len(expect):
        p.append("dump: %d rows, expected %d" % (len(rows), len(expect)))
    return p


def plain_problems(out, plain):
    """--no-summary: no table; the same lines but the table's; the
    verdict after the locks."""
    p = []
    lines, plines = out.splitlines(), plain.splitlines()
    at, _, rows = table(lines)
    pat, _, _ = table(plines)
    if pat is not None:
        p.append("dump --no-summary: has the thread table")
    if at is not None:
        summary = set(lines[at:at + 2 + len(rows)])
        rest = sorted(ln for ln in lines if ln not in summary and ln)
        prest = sorted(ln for ln in plines if ln)
        if rest != prest:
            p.append("dump --no-summary: not the lines of dump without "
                     "its table: %r only in dump, %r only in --no-summary"
                     % (sorted(set(rest) - set(prest))[:3],
                        sorted(set(prest) - set(rest))[:3]))
    verdict = next((i for i, ln in enumerate(plines) if VERDICT.match(ln)),
                   None)
    locks = next((i for i, ln in enumerate(plines)
                  if ln.startswith("Locks (held or waited for)")), None)
    if verdict is None or (locks is not None and verdict < locks) or \
            verdict < first_stack(plines):
        p.append("dump --no-summary: the verdict (line %s) not after the "
                 "stacks and locks (line %s)" % (verdict, locks))
    return p


def lock_cell(lock):
    if lock["type"] == "import":
        return "<import lock of '%s'>" % lock["name"]
    if lock["type"] == "thread":
        return 'the end of thread "%s"' % lock["holder"]
    return "0x%x>" % lock["address"]


def deadlock_problems(record, out, what):
    lines = out.splitlines()
    p = order_problems(lines, what)
    at, _, rows = table(lines)
    want = {"deadlock": "Deadlock", "likely_hang": "Likely hang",
            "none": "No deadlock"}[record["verdict"]]
    if not any(ln.startswith(want + ":") for ln in lines[:SCREEN]):
        p.append("%s: no %r verdict in the first %d lines"
                 % (what, want, SCREEN))
    if at is None:
        return p
    row_of = {}
    for k, r in enumerate(rows):
        m = re.match(r'^"(.*)" \(tid \d+\)$', r["THREAD"])
        if m:
            row_of[m.group(1)] = (k, r)
    for lock in record["locks"]:
        for w in lock.get("waiters") or []:
            who = w["party"]
            if who not in row_of:
                p.append("%s: no row for %r" % (what, who))
                continue
            k, r = row_of[who]
            if at + 2 + k >= SCREEN:
                p.append("%s: the row of %r past the first %d lines"
                         % (what, who, SCREEN))
            if lock_cell(lock) not in r["WAITING FOR"]:
                p.append("%s: %r: WAITING FOR %r, expected %r"
                         % (what, who, r["WAITING FOR"], lock_cell(lock)))
            held = '%s "%s"' % ((record["parties"].get(lock["holder"]) or
                                 {}).get("kind", "thread"),
                                lock["holder"]) if lock.get("holder") \
                else None
            if lock["type"] == "thread":
                held = "-"      # the joined thread is named in its cell
            if held and r["HELD BY"] != held:
                p.append("%s: %r: HELD BY %r, recorded %r"
                         % (what, who, r["HELD BY"], held))
            where = "%s:%d in %s" % (os.path.basename(w["filename"]),
                                     w["line"], w["function"])
            if r["WHERE"] != where:
                p.append("%s: %r: WHERE %r, recorded %r"
                         % (what, who, r["WHERE"], where))
    return p


def with_output(problems, out):
    if problems:
        problems = problems[:30] + ["output (first %d lines):" % SCREEN] + \
            ["  " + ln for ln in out.splitlines()[:SCREEN]]
    return problems


def check_groups_summary(report, interp, version, workdir, h):
    what = "%s: summary: groups.py" % version
    t = h.ready_target(report, interp, "groups.py", workdir, what)
    if t is None:
        return
    try:
        res = h.snakescope("dump", "--json", t.pid)
        try:
            doc = json.loads(res.out.decode("utf-8"))
        except ValueError as e:
            report.fail(what + ": dump --json", ["not JSON: %s" % e] +
                        res.describe())
            return
        for attempt in range(3):
            # a pause makes blocked threads restart their calls (running
            # for a moment: another state, another group): let them settle
            h.settle_after_pause(t)
            res = h.snakescope("dump", t.pid)
            h.settle_after_pause(t)
            plain = h.snakescope("dump", "--no-summary", t.pid)
            if res.rc != h.EXIT_OK or plain.rc != h.EXIT_OK:
                report.fail(what + ": dump, dump --no-summary",
                            res.describe() + plain.describe())
                return
            out = res.out.decode("utf-8", "replace")
            if not plain_problems(out, plain.out.decode("utf-8",
                                                        "replace")):
                break
        report.check(what + ": dump: the verdict and a row per group and "
                     "per thread alone, as recorded, in the first %d lines"
                     % SCREEN, with_output(groups_problems(t.record, doc,
                                                           out), out))
        report.check(what + ": dump --no-summary: the plain order",
                     plain_problems(out, plain.out.decode("utf-8",
                                                          "replace")))
    finally:
        t.kill()


def check_summary(report, interp, version, workdir, h):
    check_groups_summary(report, interp, version, workdir, h)
    mm = h.major_minor(version)
    for scenario in SCENARIOS:
        what = "%s: summary: deadlocks.py %s" % (version, scenario)
        why = h.deadlock_unavailable(scenario, mm)
        if why:
            report.skip("%s: %s" % (what, why))
            continue
        t = h.ready_target(report, interp, "deadlocks.py", workdir, what,
                           [scenario])
        if t is None:
            continue
        try:
            h.settle_after_pause(t)
            dl = h.snakescope("deadlock", t.pid)
            h.settle_after_pause(t)
            dump = h.snakescope("dump", t.pid)
            p = []
            if dl.rc != h.VERDICT_EXIT[t.record["verdict"]]:
                p.append("deadlock: exit %s, expected %d (verdict %s)"
                         % (dl.rc, h.VERDICT_EXIT[t.record["verdict"]],
                            t.record["verdict"]))
            if dump.rc != h.EXIT_OK:
                p += dump.describe()
            for res, name in ((dl, "deadlock"), (dump, "dump")):
                out = res.out.decode("utf-8", "replace")
                p += with_output(deadlock_problems(t.record, out, name), out)
            report.check(what + ": the verdict, then each waiter's lock, "
                         "holder and place in the first %d lines" % SCREEN,
                         p)
        finally:
            t.kill()
