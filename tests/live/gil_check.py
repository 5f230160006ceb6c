"""Live checks of the gil_held verdict (issue 24; see live_test.py and
model/gil_check.c): a thread holding the GIL inside a C call while
others wait for it.  gil_held.py, on every interpreter:

  - regex: thread "regex" in a catastrophic re match, three spinners
    wanting the GIL.  `deadlock --json PID` exits 7 with one hang of kind
    "gil_held" naming the recorded thread, at the recorded line of
    run_regex, with at least one waiter and a held_for of at least the
    window; `deadlock PID` (text) tells it first ('Likely hang: thread
    "regex" ... has held the GIL'); `deadlock --json --native PID` names
    the C function it runs; with --no-pause, the same verdict (in one
    of three reads: unpaused, a waiter is seen only asleep);
  - alone: the same match with nobody waiting for the GIL: exit 0, no
    gil_held;
  - busy: four Python threads sharing the GIL: exit 0, no gil_held.

A build where the dump does not see the regex thread hold the GIL (the
holder not read) is skipped by name.  Standard library only (3.6+).
"""
import json

WINDOW = 0.2


def hangs(res):
    try:
        doc = json.loads(res.out.decode("utf-8"))
    except ValueError:
        return None, None
    return doc, [h for h in doc.get("hangs") or []
                 if h.get("kind") == "gil_held"]


def regex_problems(h, t, label):
    p = []
    rec = t.record["holder"]
    res = h.snakescope("deadlock", "--json", t.pid)
    doc, found = hangs(res)
    if doc is None:
        return ["%s: deadlock --json: not JSON" % label] + res.describe()
    if res.rc != h.EXIT_LIKELY_HANG:
        p.append("%s: deadlock --json: exit %s, expected %d"
                 % (label, res.rc, h.EXIT_LIKELY_HANG))
    if len(found) != 1:
        p.append("%s: %d gil_held hangs, expected 1: %r"
                 % (label, len(found), doc.get("hangs")))
        return p
    g = found[0]
    want = {"function": rec["function"], "filename": rec["filename"],
            "line": rec["line"]}
    if g.get("thread") != rec["thread_id"]:
        p.append("%s: thread %r, recorded %r" % (label, g.get("thread"),
                                               rec["thread_id"]))
    if g.get("at") != want:
        p.append("%s: at %r, recorded %r" % (label, g.get("at"), want))
    if not isinstance(g.get("waiters"), int) or g["waiters"] < 1:
        p.append("%s: waiters %r, expected at least 1" % (label,
                                                          g.get("waiters")))
    if not isinstance(g.get("held_for"), (int, float)) or \
            g["held_for"] < WINDOW * 0.9:
        p.append("%s: held_for %r, expected the window (%.1f s) at least"
                 % (label, g.get("held_for"), WINDOW))
    if g.get("function") is not None:
        p.append("%s: a C function %r without --native"
                 % (label, g.get("function")))
    return p


def check_gil(report, interp, version, workdir, h):
    what = "%s: gil_held.py" % version
    t = h.ready_target(report, interp, "gil_held.py", workdir,
                       what + " regex", ["regex"])
    if t is None:
        return
    try:
        holder = []

        def regex_holds():
            # the match starts once "regex" takes the GIL, after the record
            res = h.snakescope("dump", "--json", "--no-pause", t.pid)
            try:
                doc = json.loads(res.out.decode("utf-8"))
            except ValueError:
                doc = {}
            holder[:] = [x for x in doc.get("threads") or []
                         if x.get("holds_gil")]
            return [x.get("thread_id") for x in holder] == \
                [t.record["holder"]["thread_id"]]
        if not h.wait_until(regex_holds, 5.0, 0.1):
            report.skip("%s: gil_held: the dump does not see thread "
                        "\"regex\" hold the GIL on this build (holders %r)"
                        % (what, [x.get("name") for x in holder]))
            return
        report.check(what + " regex: deadlock --json: gil_held, as "
                     "recorded", regex_problems(h, t, "paused"))
        res = h.snakescope("deadlock", t.pid)
        out = res.out.decode("utf-8", "replace")
        first = [ln for ln in out.splitlines() if ln.startswith(
            ("Likely hang", "Deadlock", "No deadlock"))][:1]
        p = []
        if res.rc != h.EXIT_LIKELY_HANG:
            p.append("deadlock: exit %s, expected %d" % (
                res.rc, h.EXIT_LIKELY_HANG))
        if not first or not first[0].startswith(
                'Likely hang: thread "regex" (tid %s) has held the GIL'
                % t.record["holder"]["native_id"]):
            p.append("deadlock: the first verdict is %r" % first)
            p.extend(out.splitlines()[:20])
        report.check(what + " regex: deadlock (text): the holder told "
                     "first", p)
        res = h.snakescope("deadlock", "--json", "--native", t.pid)
        doc, found = hangs(res)
        p = []
        if not found or not found[0].get("function"):
            p.append("deadlock --json --native: no C function: %r"
                     % (found,))
        else:
            report.note("%s: the holder's C function: %s (%s)"
                        % (what, found[0]["function"],
                           found[0].get("library")))
        report.check(what + " regex: deadlock --native: the C function",
                     p)
        # Unpaused, a waiter is seen only asleep on the GIL's condition
        # (/proc), not while a loaded machine keeps it runnable between
        # two timed waits: up to three reads.
        for attempt in range(1, 4):
            res = h.snakescope("deadlock", "--json", "--no-pause", t.pid)
            doc, found = hangs(res)
            p = []
            if res.rc != h.EXIT_LIKELY_HANG or len(found) != 1 or \
                    found[0].get("thread") != \
                    t.record["holder"]["thread_id"]:
                p.append("deadlock --no-pause: exit %s, hangs %r"
                         % (res.rc, (doc or {}).get("hangs")))
            else:
                break
        if attempt > 1 and not p:
            report.note("%s: deadlock --no-pause found it at read %d"
                        % (what, attempt))
        report.check(what + " regex: deadlock --no-pause: gil_held", p)
    finally:
        t.kill()
    for mode, why in (("alone", "nobody waits for the GIL"),
                      ("busy", "Python threads share the GIL")):
        t = h.ready_target(report, interp, "gil_held.py", workdir,
                           "%s %s" % (what, mode), [mode])
        if t is None:
            continue
        try:
            res = h.snakescope("deadlock", "--json", t.pid)
            doc, found = hangs(res)
            p = []
            if res.rc != h.EXIT_OK or found:
                p.append("exit %s, gil_held hangs %r" % (res.rc, found))
            report.check("%s %s: deadlock: no gil_held (%s)"
                         % (what, mode, why), p)
        finally:
            t.kill()
