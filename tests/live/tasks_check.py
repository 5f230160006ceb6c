"""Comparing snakescope's asyncio output with the targets' own records.

compare_tasks(record, doc)
    record: what an async_*.py target wrote (tests/targets/_arecord.py);
    doc: `snakescope dump --json` output.  Returns a list of problem strings,
    empty when everything matches.

pstree_edges(text), tree_from_doc(doc), compare_pstree(text, doc)
    The output of `python3.14 -m asyncio pstree PID` (Lib/asyncio/tools.py)
    and snakescope's JSON, both reduced to the same canonical tree:
      edges:  {(parent task name, (frame label, ...), child task name)}
              the frames are the parent's coroutine stack, outermost first,
              that pstree prints between the parent and the child;
      leaves: {(task name, (frame label, ...))}
              the coroutine stack pstree prints under a task that awaits no
              other task, outermost first (() when it prints none).
    A frame label is "function filename:line", exactly as tools.py's
    _format_stack_entry() formats it.  tools.py merges equal labels under
    one parent into one node and prints a task once under every task that
    awaits it; as sets, both views carry the same information, so the
    comparison is exact (frames included), not just parent/child names.

Standard library only (Python 3.6+).
"""
import difflib
import re

_MAX_PROBLEMS = 60


# --------------------------------------------------------------------------
# compare_tasks

def _stack_tuples(frames):
    return [(f.get("function"), f.get("filename"), f.get("line"))
            for f in frames or []]


def _stack_diff(exp, got):
    fmt = lambda fr: ["%s  %s:%s" % f for f in fr]
    diff = list(difflib.unified_diff(fmt(exp), fmt(got), "expected (record)",
                                     "got (snakescope)", n=2, lineterm=""))
    if len(diff) > 30:
        diff = diff[:30] + ["... (%d more diff lines)" % (len(diff) - 30)]
    return ["  " + d for d in diff]


def _same_cycle(a, b):
    if len(a) != len(b) or not a or a[0] not in b:
        return False
    i = b.index(a[0])
    return list(b[i:]) + list(b[:i]) == list(a)


def compare_tasks(record, doc):
    """Problems found comparing doc (snakescope) with record (the target)."""
    problems = []
    if not isinstance(doc, dict):
        return ["output is not a JSON object"]
    tasks = doc.get("tasks")
    if not isinstance(tasks, list):
        return ["tasks: expected a list, got %r" % (type(tasks).__name__,)]

    exp = dict((t["id"], t) for t in record["tasks"])
    got = {}
    for t in tasks:
        if not isinstance(t, dict):
            problems.append("tasks: entry is not an object: %r" % (t,))
            continue
        if t.get("id") in got:
            problems.append("task %r (id %s) listed twice"
                            % (t.get("name"), t.get("id")))
        got[t.get("id")] = t

    def name(i):
        if i in exp:
            return exp[i]["name"]
        if i in got:
            return "%s (id %s)" % (got[i].get("name"), i)
        return "id %s" % (i,)

    def names(ids):
        return "[%s]" % ", ".join(name(i) for i in ids)

    missing = sorted(set(exp) - set(got), key=name)
    extra = sorted(set(got) - set(exp), key=lambda i: str(name(i)))
    if missing:
        problems.append("%d tasks missing: %s" % (
            len(missing), ", ".join(name(i) for i in missing[:10])
            + (", ..." if len(missing) > 10 else "")))
    if extra:
        problems.append("%d unexpected tasks: %s" % (
            len(extra), ", ".join(name(i) for i in extra[:10])
            + (", ..." if len(extra) > 10 else "")))

    for tid in sorted(set(exp) & set(got), key=lambda i: exp[i]["name"]):
        e, g = exp[tid], got[tid]
        who = "task %r" % (e["name"],)
        for field in ("name", "thread_id", "loop", "running", "state"):
            if g.get(field) != e[field]:
                problems.append("%s: %s: expected %r, got %r"
                                % (who, field, e[field], g.get(field)))
        if g.get("error") is not None:
            problems.append("%s: error: %r" % (who, g.get("error")))
        es = _stack_tuples(e["coroutine_stack"])
        gs = _stack_tuples(g.get("coroutine_stack"))
        if es != gs:
            problems.append("%s: coroutine_stack (innermost first; %d "
                            "expected, %d got):" % (who, len(es), len(gs)))
            problems.extend(_stack_diff(es, gs))
        problems.extend(_compare_awaiting(who, e, g, names))
        eb = sorted(e["awaited_by"])
        gb = g.get("awaited_by")
        gb = sorted(gb) if isinstance(gb, list) else gb
        if gb != eb:
            problems.append("%s: awaited_by: expected %s, got %s" % (
                who, names(eb), names(gb) if isinstance(gb, list) else
                repr(gb)))

    problems.extend(_compare_cycles(record, doc, names))
    if len(problems) > _MAX_PROBLEMS:
        problems = problems[:_MAX_PROBLEMS] + [
            "... %d more problems" % (len(problems) - _MAX_PROBLEMS)]
    return problems


def _compare_awaiting(who, e, g, names):
    ea, ga = e["awaiting"], g.get("awaiting")
    if ea is None or ga is None:
        if ea is not ga:
            return ["%s: awaiting: expected %s, got %s" % (
                who, "null" if ea is None else ea["kind"],
                "null" if ga is None else ga.get("kind")
                if isinstance(ga, dict) else repr(ga))]
        return []
    if not isinstance(ga, dict):
        return ["%s: awaiting: expected an object, got %r" % (who, ga)]
    out = []
    if ga.get("kind") != ea["kind"]:
        out.append("%s: awaiting.kind: expected %r, got %r"
                   % (who, ea["kind"], ga.get("kind")))
    if ga.get("object") != ea["object"]:
        out.append("%s: awaiting.object (%s): expected %s, got %s"
                   % (who, ea["kind"], _hex(ea["object"]),
                      _hex(ga.get("object"))))
    if "future" in ea and ga.get("future") != ea["future"]:
        out.append("%s: awaiting.future (the task's _fut_waiter): expected "
                   "%s, got %s" % (who, _hex(ea["future"]),
                                   _hex(ga.get("future"))))
    gt = ga.get("tasks")
    gt = sorted(gt) if isinstance(gt, list) else gt
    if gt != sorted(ea["tasks"]):
        out.append("%s: awaiting.tasks: expected %s, got %s" % (
            who, names(sorted(ea["tasks"])),
            names(gt) if isinstance(gt, list) else repr(gt)))
    dmax = e.get("delay_max")
    if ea["kind"] == "sleep" and dmax is not None:
        d = ga.get("delay")
        if not isinstance(d, (int, float)) or isinstance(d, bool) \
                or not 0 < d <= dmax:
            out.append("%s: awaiting.delay: expected in (0, %g], got %r"
                       % (who, dmax, d))
    return out


def _hex(v):
    return hex(v) if isinstance(v, int) and not isinstance(v, bool) \
        else repr(v)


def _compare_cycles(record, doc, names):
    want = [list(c) for c in record.get("cycles") or []]
    dl = doc.get("deadlocks")
    if dl is None:
        dl = []
    if not isinstance(dl, list):
        return ["deadlocks: expected a list, got %r" % (dl,)]
    got = [list(d.get("cycle") or []) for d in dl
           if isinstance(d, dict) and d.get("kind") == "await_cycle"]
    out = []
    used = set()
    for c in want:
        hits = [i for i, g in enumerate(got) if _same_cycle(c, g)]
        if not hits:
            out.append("await cycle %s not reported" % names(c))
        elif len(hits) > 1:
            out.append("await cycle %s reported %d times"
                       % (names(c), len(hits)))
        used.update(hits)
    for i, g in enumerate(got):
        if i not in used:
            out.append("unexpected await cycle %s" % names(g))
    return out


# --------------------------------------------------------------------------
# pstree

def frame_label(frame):
    """A frame as tools.py's _format_stack_entry() prints it."""
    fn, fl, ln = frame.get("function"), frame.get("filename"), \
        frame.get("line")
    if ln is None:
        if fl in ("", "~"):
            return "%s" % (fn,)
        return "%s %s" % (fn, fl)
    if ln == 0 and fl == "":
        return "%s" % (fn,)
    return "%s %s:%s" % (fn, fl, ln)


_TREE_LINE = re.compile(r"^((?:    |\u2502   )*)(?:\u251c\u2500\u2500 |"
                        r"\u2514\u2500\u2500 )(.*)$")


def pstree_edges(text):
    """{"edges": set, "leaves": set} from `python -m asyncio pstree` output.

    Lines are PREFIX CONNECTOR LABEL: PREFIX is 4 columns per level
    ("    " or "│   "), CONNECTOR "├── " or "└── ", LABEL "(T) NAME" for a
    task or " FRAME" (a space, then the frame label) for a coroutine frame.
    Every root starts at level 0.  Raises ValueError on anything else."""
    nodes = []                      # (depth, is_task, label)
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _TREE_LINE.match(line)
        if not m:
            raise ValueError("pstree line %d not understood: %r" % (n, line))
        depth = len(m.group(1)) // 4
        label = m.group(2)
        if label.startswith("(T) "):
            nodes.append((depth, True, label[4:]))
        elif label.startswith(" "):
            nodes.append((depth, False, label[1:]))
        else:
            raise ValueError("pstree line %d: neither task nor frame: %r"
                             % (n, line))
    edges, leaves = set(), set()
    # path[d] = (is_task, label) of the current node at depth d
    path = []
    for i, (depth, is_task, label) in enumerate(nodes):
        if depth > len(path):
            raise ValueError("pstree: line %r skips a level" % (label,))
        del path[depth:]
        path.append((is_task, label))
        has_kids = i + 1 < len(nodes) and nodes[i + 1][0] > depth
        # the nearest task above (or at) this node, and the frames between
        k = len(path) - 1 if not is_task else len(path) - 2
        while k >= 0 and not path[k][0]:
            k -= 1
        if is_task:
            if k >= 0:
                frames = tuple(lbl for _, lbl in path[k + 1:-1])
                edges.add((path[k][1], frames, label))
            if not has_kids:
                leaves.add((label, ()))
        elif not has_kids:
            if k < 0:
                raise ValueError("pstree: frame %r outside any task"
                                 % (label,))
            leaves.add((path[k][1], tuple(lbl for _, lbl in path[k + 1:])))
    return {"edges": edges, "leaves": leaves}


def tree_from_doc(doc):
    """The same structure as pstree_edges(), from snakescope's JSON."""
    tasks = [t for t in doc.get("tasks") or [] if isinstance(t, dict)]
    by_id = dict((t.get("id"), t) for t in tasks)

    def name(i):
        return by_id[i].get("name") if i in by_id else hex(i)

    def labels(t):
        return tuple(frame_label(f)
                     for f in reversed(t.get("coroutine_stack") or []))

    edges, leaves = set(), set()
    parents = set()
    for t in tasks:
        for p in t.get("awaited_by") or []:
            parents.add(p)
            stack = labels(by_id[p]) if p in by_id else ()
            edges.add((name(p), stack, t.get("name")))
    for t in tasks:
        if t.get("id") not in parents:
            leaves.add((t.get("name"), labels(t)))
    return {"edges": edges, "leaves": leaves}


def _fmt_edge(e):
    return "%s -> [%s] -> %s" % (e[0], " > ".join(e[1]), e[2])


def _fmt_leaf(l):
    return "%s: [%s]" % (l[0], " > ".join(l[1]))


def compare_pstree(pstree_text, doc):
    """Problems between pstree's tree and the one snakescope's JSON makes."""
    try:
        want = pstree_edges(pstree_text)
    except ValueError as e:
        return [str(e)]
    got = tree_from_doc(doc)
    problems = []
    for what, one, fmt in (("edges", "edge", _fmt_edge),
                           ("leaves", "leaf", _fmt_leaf)):
        for x in sorted(want[what] - got[what]):
            problems.append("%s only in pstree: %s" % (one, fmt(x)))
        for x in sorted(got[what] - want[what]):
            problems.append("%s only in snakescope: %s" % (one, fmt(x)))
    if not want["edges"] and not want["leaves"]:
        problems.append("pstree printed no tree")
    if len(problems) > _MAX_PROBLEMS:
        problems = problems[:_MAX_PROBLEMS] + [
            "... %d more problems" % (len(problems) - _MAX_PROBLEMS)]
    return problems
