"""Live checks of the grouping of threads with the same stack (issue 27;
see live_test.py and model/thread_groups.h).

groups.py starts three groups of 100 threads parked at one place each
(pool_a_N on one Event, pool_b_N on one held Lock, pool_c_N in
time.sleep()) and a few threads alone, and records every stack and the
groups it built.  On every interpreter:

  - `dump PID` (text, grouped by default) is under a tenth of `dump
    --no-group PID`; its group headers ("100 threads: "pool_a_0"-
    "pool_a_99" (tids ...)") are the record's groups (names and TIDs,
    expanded from their runs), the others are alone; every thread is
    there by name and TID, and every stack is the recorded one
    (frames_check, through the groups);
  - `dump --no-group PID` has one block per thread, as before;
  - `dump --json PID` has one entry per thread and "groups" equal to the
    record's (thread ids), each "stack" index naming its first member;
  - `deadlock PID`: one waiters line per group, naming it.

lone_event waits at pool_a's very line, on another Event: alone, unless
the dump reads no lock waited for at all (then the rule puts it with
pool_a, and the check expects that).  Standard library only (3.6+).
"""
import json
import re

import frames_check

_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"(?:-"((?:[^"\\]|\\.)*)")?')


def expand_names(text):
    """['w0', 'w1', ...] from '"w0"-"w1", "x"'."""
    out = []
    for m in _QUOTED.finditer(text):
        a, b = m.group(1), m.group(2)
        if b is None:
            out.append(a)
            continue
        pa = re.match(r"^(.*?)(\d+)$", a)
        pb = re.match(r"^(.*?)(\d+)$", b)
        if not pa or not pb or pa.group(1) != pb.group(1):
            out.extend([a, b])      # not a run: shown as both ends
            continue
        width = len(pa.group(2))
        for n in range(int(pa.group(2)), int(pb.group(2)) + 1):
            s = str(n)
            out.append(pa.group(1) + (s.zfill(width)
                                      if pa.group(2).startswith("0")
                                      else s))
    return out


def expected_groups(record, doc):
    """[sorted names] of the groups the dump must show."""
    groups = [list(g) for g in record["groups"]]
    waits = {}
    for t in (doc or {}).get("threads") or []:
        waits[t.get("name")] = t.get("waits_for")
    if waits.get("lone_event") == waits.get("pool_a_0"):
        groups[0].append("lone_event")
    return [sorted(g) for g in groups]


def json_problems(record, doc, want):
    problems = []
    threads = doc.get("threads") or []
    if len(threads) != len(record["threads"]):
        problems.append("dump --json: %d threads, expected %d (one entry "
                        "per thread)" % (len(threads), len(record["threads"])))
    name_of = dict((t.get("thread_id"), t.get("name")) for t in threads)
    got = []
    for g in doc.get("groups") or []:
        names = sorted(name_of.get(i) for i in g.get("threads") or [])
        got.append(names)
        first = g.get("stack")
        if not isinstance(first, int) or not 0 <= first < len(threads) or \
                threads[first].get("thread_id") != (g.get("threads") or
                                                    [None])[0]:
            problems.append("dump --json: group %r: stack %r is not its "
                            "first member's index" % (names[:3], first))
    if sorted(got) != sorted(want):
        problems.append("dump --json: groups %r, expected %r"
                        % ([g[:3] + ["..."] for g in got],
                           [g[:3] + ["..."] for g in want]))
    return problems


def text_problems(record, out, plain, want):
    problems = []
    if len(out) * 10 >= len(plain):
        problems.append("grouped text is %d bytes, --no-group %d: not "
                        "under a tenth" % (len(out), len(plain)))
    tid_of = dict((e["name"], e.get("native_id")) for e in record["threads"])
    got = []
    for count, names_text, tids, _ in frames_check.group_headers(out):
        names = expand_names(names_text)
        if count != len(names) or count != len(tids):
            problems.append("group header of %d threads lists %d names "
                            "and %d TIDs" % (count, len(names), len(tids)))
        if sorted(tid_of.get(n) for n in names) != sorted(tids):
            problems.append("group %r...: names and TIDs are not the same "
                            "threads" % names[:3])
        got.append(sorted(names))
    if sorted(got) != sorted(want):
        problems.append("text groups %r, expected %r"
                        % ([g[:3] + ["..."] for g in got],
                           [g[:3] + ["..."] for g in want]))
    grouped = set(n for g in got for n in g)
    singles = set(re.findall(r'^Thread \d+ "(.*?)"', out, re.M))
    tids = set(int(x) for x in re.findall(r"\(tid (\d+)", out))
    for g in frames_check.group_headers(out):
        tids.update(g[2])
    for e in record["threads"]:
        if e["name"] not in grouped and e["name"] not in singles:
            problems.append("thread %r not in the grouped text" % e["name"])
        if e.get("native_id") is not None and e["native_id"] not in tids:
            problems.append("TID %d (%r) not in the grouped text"
                            % (e["native_id"], e["name"]))
    problems.extend(frames_check.text_frame_problems(record, out))
    return problems[:60]


def deadlock_problems(out, want):
    problems = []
    lines = [ln for ln in out.splitlines() if "waited for by" in ln]
    for g in want:
        hits = [ln for ln in lines if '"%s"' % g[0] in ln]
        if len(hits) != 1 or "waited for by %d threads" % len(g) \
                not in hits[0]:
            problems.append("deadlock: expected one line 'waited for by %d "
                            "threads' naming %r, got %r"
                            % (len(g), g[0], [h[:100] for h in hits]))
    return problems


def check_groups(report, interp, version, workdir, h):
    what = "%s: groups.py" % version
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
        want = expected_groups(t.record, doc)
        p = h.compare_dump(t.record, doc, ("--json",))
        report.check(what + ": dump --json: groups as recorded",
                     p + json_problems(t.record, doc, want))
        grouped = h.snakescope("dump", t.pid)
        plain = h.snakescope("dump", "--no-group", t.pid)
        if grouped.rc != h.EXIT_OK or plain.rc != h.EXIT_OK:
            report.fail(what + ": dump, dump --no-group",
                        grouped.describe() + plain.describe())
            return
        out = grouped.out.decode("utf-8", "replace")
        report.note("%s: dump %d lines, dump --no-group %d lines"
                    % (what, out.count("\n"), plain.out.count(b"\n")))
        report.check(what + ": dump: the groups, every thread by name and "
                     "TID, under a tenth of --no-group",
                     text_problems(t.record, out, plain.out, want))
        p = frames_check.text_frame_problems(
            t.record, plain.out.decode("utf-8", "replace"))
        if frames_check.group_headers(plain.out.decode("utf-8", "replace")):
            p.append("dump --no-group: has group headers")
        report.check(what + ": dump --no-group: every thread alone", p)
        dl = h.snakescope("deadlock", t.pid)
        report.check(what + ": deadlock: one waiters line per group",
                     deadlock_problems(dl.out.decode("utf-8", "replace"),
                                       [g for g in want if g[0] !=
                                        "pool_c_0"]))
    finally:
        t.kill()
