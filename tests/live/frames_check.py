"""Comparing snakescope's per-frame details and per-thread states with the
targets' own records (tests/targets/_record.py).

compare_frame_details(record, doc, opts)
    Every frame that matched its recorded (function, filename, line): its
    "end_line", "column", "end_column" (and "line") against the recorded
    co_positions() entry (3.11+; all three null before), and with "--locals"
    in opts its "locals" against the recorded ones: the same names, kinds,
    types, reprs (width: --repr-width=N, default 100), arguments first.
    Without "--locals" no frame may have "locals".

compare_states(record, doc, opts=())
    Every thread's "state" (keys and types, and the rules that tie them
    together), "importing" and "torn"; the recorded "expect_state" of a
    thread and "expect_monitoring" of the record.

text_frame_problems(record, out)
    The text dump: every frame line followed by its stripped source line
    (when the file is readable here) and, on 3.11+, the caret line; the
    frames of an import in progress replaced by one "importing 'MOD'" line.

All return a list of problem strings, empty when everything matches.
Standard library only (Python 3.6+).
"""
import re

_MAX_PROBLEMS = 60
_DEFAULT_WIDTH = 100
_MISSING = object()

OS_STATES = ("running", "sleeping", "disk", "stopped", "traced", "zombie",
             "idle")
GIL_STATES = ("holds", "waits", "none", "unknown")
KINDS = ("arg", "local", "cell", "free")
FROZEN_IMPORT = ("<frozen importlib._bootstrap>",
                 "<frozen importlib._bootstrap_external>")
# How an impure container's repr starts (3.x sets: "{...}"; 2.7: "set([").
_OPENERS = {"list": ("[",), "tuple": ("(",), "dict": ("{",),
            "set": ("{", "set("), "frozenset": ("frozenset(",)}


def _cap(problems):
    if len(problems) > _MAX_PROBLEMS:
        problems = problems[:_MAX_PROBLEMS] + [
            "... %d more problems" % (len(problems) - _MAX_PROBLEMS)]
    return problems


def _version(record):
    m = re.match(r"(\d+)\.(\d+)", str(record.get("version", "")))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _show(s, limit=120):
    """A string for a problem message: repr, cut in the middle if long."""
    if not isinstance(s, str):
        return repr(s)
    if len(s) <= limit:
        return repr(s)
    return "%r...%r (%d chars)" % (s[:limit // 2], s[-limit // 4:], len(s))


def repr_width(opts):
    for o in opts or ():
        if o.startswith("--repr-width="):
            return int(o.split("=", 1)[1])
    return _DEFAULT_WIDTH


def _doc_threads(doc):
    """{(interpreter_id, thread_id): thread} of the doc's thread objects."""
    threads = doc.get("threads") if isinstance(doc, dict) else None
    if not isinstance(threads, list):
        return {}
    return dict(((t.get("interpreter_id"), t.get("thread_id")), t)
                for t in threads if isinstance(t, dict))


def _key(entry):
    return (entry.get("interpreter_id", 0), entry["thread_id"])


def _same_frame(e, g, innermost_busy):
    if g.get("function") != e["function"] or \
            g.get("filename") != e["filename"]:
        return False
    return innermost_busy or g.get("line") == e["line"]


# --------------------------------------------------------------------------
# compare_frame_details

def compare_frame_details(record, doc, opts=()):
    if "threads" not in record or not isinstance(doc, dict):
        return []
    got = _doc_threads(doc)
    with_locals = "--locals" in (opts or ())
    width = repr_width(opts)
    pre311 = _version(record) < (3, 11)
    problems = []
    for e in record["threads"]:
        g = got.get(_key(e))
        if g is None or not isinstance(g.get("frames"), list):
            continue            # compare_dump reports it
        lines = []
        stray_locals = 0
        for j, (ef, gf) in enumerate(zip(e["frames"], g["frames"])):
            busy = j == 0 and e.get("compare") == "outer"
            if not isinstance(gf, dict) or not _same_frame(ef, gf, busy):
                continue        # frames_diff reports it
            where = "frame %d (%s %s:%s)" % (j, ef["function"],
                                             ef["filename"], ef["line"])
            lines.extend("%s: %s" % (where, p)
                         for p in _positions_problems(ef, gf, pre311))
            if with_locals:
                lines.extend("%s: %s" % (where, p)
                             for p in _locals_problems(ef, gf, width))
            elif "locals" in gf:
                stray_locals += 1
        if stray_locals:
            lines.append("%d frames have 'locals' without --locals"
                         % stray_locals)
        if lines:
            problems.append("thread %r (thread_id %d):" % (e["name"],
                                                           e["thread_id"]))
            problems.extend("  " + s for s in lines)
    return _cap(problems)


def _positions_problems(ef, gf, pre311):
    out = []
    names = ("end_line", "column", "end_column")
    for n in names:
        v = gf.get(n, _MISSING)
        if v is _MISSING:
            out.append("%s: missing" % n)
        elif v is not None and not _is_int(v):
            out.append("%s: expected an int or null, got %r" % (n, v))
    if out:
        return out
    pos = ef.get("positions")
    if pos is None:
        if pre311:
            for n in names:
                if gf[n] is not None:
                    out.append("%s: expected null before 3.11, got %r"
                               % (n, gf[n]))
        return out
    for n, want in zip(("line",) + names, pos):
        if n == "line" and want is None:
            continue            # f_lineno, compared with the frame
        if gf.get(n) != want:
            out.append("%s: expected %r, got %r (co_positions %r)"
                       % (n, want, gf.get(n), pos))
    return out


def _type_ok(want, got):
    return isinstance(got, str) and (got == want
                                     or got.endswith("." + want))


def _cut_ok(full, got, width):
    """The cut rule: at most width characters, containing "...", and the
    text before the first "..." a prefix of the full repr."""
    return (len(got) <= width and "..." in got
            and full.startswith(got.split("...", 1)[0]))


def repr_problem(e, g, width):
    """None if g's repr (snakescope) fits the recorded local e, else why."""
    r = g.get("repr")
    if not isinstance(r, str):
        return "repr: expected a string, got %r" % (r,)
    if len(r) > width:
        return "repr: %d characters, more than the width %d: %s" % (
            len(r), width, _show(r))
    shape = e.get("shape")
    if shape == "pure":
        want = e.get("repr")
        if want is None:        # too long to record: only the rule's shape
            if width < 20000 and "..." not in r:
                return "repr: a repr longer than 20000 characters not " \
                       "cut: %s" % _show(r)
            return None
        if len(want) <= width:
            if r != want:
                return "repr: expected %s, got %s" % (_show(want), _show(r))
            return None
        if not _cut_ok(want, r, width):
            return "repr: expected %s cut to at most %d characters with " \
                   "'...' after a prefix of it, got %s" % (
                       _show(want), width, _show(r))
        return None
    if shape == "container":
        opens = _OPENERS.get(e.get("type"), tuple(
            o for os_ in _OPENERS.values() for o in os_))
        if not r.startswith(opens):
            return "repr: a %s holding other objects should start with " \
                   "%s, got %s" % (e.get("type"), " or ".join(opens),
                                   _show(r))
        return None
    tname = g.get("type") if isinstance(g.get("type"), str) else e["type"]
    want = "<%s at 0x%x>" % (tname, e["id"])
    if r == want or (len(want) > width and _cut_ok(want, r, width)):
        return None
    return "repr: expected %s, got %s" % (_show(want), _show(r))


def _locals_problems(ef, gf, width):
    el = ef.get("locals")
    if el is None:
        return []
    gl = gf.get("locals", _MISSING)
    if gl is _MISSING:
        return ["locals: missing with --locals"]
    if not isinstance(gl, list) or not all(isinstance(x, dict) for x in gl):
        return ["locals: expected a list of objects, got %s"
                % _show(repr(gl))]
    out = []
    gnames = [x.get("name") for x in gl]
    exp = dict((x["name"], x) for x in el)
    got = {}
    for x in gl:
        if x.get("name") in got:
            out.append("local %r listed twice" % (x.get("name"),))
        got[x.get("name")] = x
    missing = [n for n in (x["name"] for x in el) if n not in got]
    extra = [n for n in gnames if n not in exp]
    if missing:
        out.append("locals missing: %s" % ", ".join(map(str, missing)))
    if extra:
        out.append("unexpected locals: %s" % ", ".join(map(repr, extra)))
    for x in el:
        g = got.get(x["name"])
        if g is None:
            continue
        who = "local %r" % (x["name"],)
        if g.get("kind") != x["kind"]:
            out.append("%s: kind: expected %r, got %r"
                       % (who, x["kind"], g.get("kind")))
        if not _type_ok(x["type"], g.get("type")):
            out.append("%s: type: expected %r (or ending in '.%s'), got %r"
                       % (who, x["type"], x["type"], g.get("type")))
        why = repr_problem(x, g, width)
        if why:
            out.append("%s: %s" % (who, why))
    args = [x["name"] for x in el if x["kind"] == "arg"]
    if gnames[:len(args)] != args:
        out.append("arguments first, in co_varnames order: expected %s, "
                   "got %s" % (args, gnames))
    return out


# --------------------------------------------------------------------------
# compare_states

def _state_problems(st, record):
    """Keys and types of one "state" object, and how they tie together."""
    out = []

    def check(key, ok, what):
        v = st.get(key, _MISSING)
        if v is _MISSING:
            out.append("state.%s: missing" % key)
        elif not ok(v):
            out.append("state.%s: expected %s, got %r" % (key, what, v))

    str_or_null = lambda v: v is None or isinstance(v, str)
    check("os_state", lambda v: v is None or v in OS_STATES,
          "one of %s or null" % "/".join(OS_STATES))
    check("on_cpu", lambda v: v is None or isinstance(v, bool),
          "a bool or null")
    check("syscall", str_or_null, "a string or null")
    check("gil", lambda v: v in GIL_STATES, "one of %s" % "/".join(GIL_STATES))
    check("active", lambda v: isinstance(v, bool), "a bool")
    check("gc", lambda v: isinstance(v, bool), "a bool")
    check("trace", str_or_null, "a string or null")
    check("profile", str_or_null, "a string or null")
    # A debug build's interpreter layout is only known in part: there
    # (and only there) both may be null.
    debug = record.get("debug_build")
    check("monitoring", lambda v: (v is None and debug) or
          (isinstance(v, list) and all(isinstance(x, str) for x in v)),
          "a list of strings" + (" or null" if debug else ""))
    check("eval_hook", lambda v: (v is None and debug) or
          isinstance(v, bool), "a bool" + (" or null" if debug else ""))
    if out:
        return out
    os_state, on_cpu, gil = st["os_state"], st["on_cpu"], st["gil"]
    if os_state is None and on_cpu is not None:
        out.append("state.on_cpu is %r, but os_state is null" % (on_cpu,))
    if os_state is not None and on_cpu != (os_state == "running"):
        out.append("state.on_cpu is %r, but os_state is %r"
                   % (on_cpu, os_state))
    if gil == "waits" and st["syscall"] != "futex":
        out.append("state.gil is 'waits', but syscall is %r, not 'futex'"
                   % (st["syscall"],))
    if (on_cpu is True or gil == "waits") and st["active"] is not True:
        out.append("state.active is false, but on_cpu is %r and gil %r"
                   % (on_cpu, gil))
    if on_cpu is not True and gil == "none" and st["active"] is not False:
        out.append("state.active is true, but the thread is off the CPU "
                   "and has nothing to do with the GIL")
    return out


def _expect_problems(exp, t, st):
    out = []
    for key, want in sorted(exp.items()):
        if key == "syscall":
            if st.get("syscall") not in want:
                out.append("state.syscall: expected one of %s, got %r"
                           % (", ".join(want), st.get("syscall")))
        elif key in ("on_cpu", "trace", "profile"):
            if st.get(key) != want:
                out.append("state.%s: expected %r, got %r"
                           % (key, want, st.get(key)))
        elif key == "importing":
            if t.get("importing") != want:
                out.append("importing: expected %r, got %r"
                           % (want, t.get("importing")))
        else:
            out.append("the record expects an unknown key %r" % (key,))
    return out


def compare_states(record, doc, opts=()):
    if not isinstance(doc, dict) or not isinstance(doc.get("threads"), list):
        return []               # compare_dump reports it
    paused = "--no-pause" not in (opts or ())
    expect = dict((_key(e), e.get("expect_state") or {})
                  for e in record.get("threads") or [])
    monitoring = sorted(record.get("expect_monitoring") or [])
    problems = []
    holders = {}
    for t in doc["threads"]:
        if not isinstance(t, dict):
            continue
        key = (t.get("interpreter_id"), t.get("thread_id"))
        exp = expect.get(key, {})
        lines = []
        imp = t.get("importing", _MISSING)
        if imp is _MISSING:
            lines.append("importing: missing")
        elif imp is not None and not isinstance(imp, str):
            lines.append("importing: expected a string or null, got %r"
                         % (imp,))
        elif "importing" not in exp and imp is not None:
            lines.append("importing: expected null, got %r" % (imp,))
        torn = t.get("torn", _MISSING)
        if not isinstance(torn, bool):
            lines.append("torn: expected a bool, got %s"
                         % ("nothing" if torn is _MISSING else repr(torn)))
        elif torn and paused:
            lines.append("torn is true in a paused dump")
        if paused and isinstance(t.get("frames"), list):
            n = sum(1 for f in t["frames"]
                    if isinstance(f, dict) and f.get("torn"))
            if n:
                lines.append("%d frames torn in a paused dump" % n)
        st = t.get("state")
        if not isinstance(st, dict):
            lines.append("state: expected an object, got %r" % (st,))
        else:
            lines.extend(_state_problems(st, record))
            if st.get("gil") == "holds":
                holders.setdefault(key[0], []).append(t.get("name"))
            hg = t.get("holds_gil")
            if (hg is True and st.get("gil") in ("waits", "none")) or \
                    (st.get("gil") == "holds" and hg is False):
                lines.append("state.gil is %r, but holds_gil is %r"
                             % (st.get("gil"), hg))
            want = monitoring if key[0] == 0 else []
            if isinstance(st.get("monitoring"), list) and \
                    sorted(st["monitoring"]) != want:
                lines.append("state.monitoring: expected %r, got %r"
                             % (want, st["monitoring"]))
            lines.extend(_expect_problems(exp, t, st))
        if lines:
            problems.append("thread %r (thread_id %r):" % (t.get("name"),
                                                           key[1]))
            problems.extend("  " + s for s in lines)
    for interp, names in sorted(holders.items(), key=str):
        if len(names) > 1:
            problems.append("%d threads of interpreter %r have state.gil "
                            "'holds': %s" % (len(names), interp,
                                             ", ".join(map(repr, names))))
    return _cap(problems)


# --------------------------------------------------------------------------
# text_frame_problems

def escape_text(s):
    """What common/escape.c's escape_text() makes of a string read from the
    target: a lone surrogate is printed as Python escapes it."""
    out = []
    for ch in s:
        c = ord(ch)
        if 0xd800 <= c <= 0xdfff:
            out.append("\\u%04x" % c)
        elif c < 0x20 or c == 0x7f:
            out.append("\\x%02x" % c)
        elif ch == "\\":
            out.append("\\\\")
        elif 0x80 <= c < 0xa0:
            out.append("".join("\\x%02x" % b for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out)


_source_cache = {}


def source_line(filename, line):
    """Line `line` of the file (no line end), or None if it is unreadable."""
    if not isinstance(line, int) or line < 1 or not filename \
            or filename.startswith("<"):
        return None
    if filename not in _source_cache:
        try:
            with open(filename, "rb") as f:
                data = f.read()
        except (OSError, IOError):
            data = None
        if data is not None:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            data = [ln.rstrip("\r") for ln in text.split("\n")]
        _source_cache[filename] = data
    lines = _source_cache[filename]
    if lines is None or line > len(lines):
        return None
    return lines[line - 1]


def caret_line(text, positions):
    """The caret line the contract asks for under source line `text`, or
    None when the positions give none (a null, or an empty range)."""
    if not positions or any(not _is_int(p) for p in positions):
        return None
    line, end_line, col, end_col = positions
    raw = text.encode("utf-8")
    start = len(raw[:col].decode("utf-8", "ignore"))
    if end_line > line:
        end = len(text.rstrip())
    else:
        end = len(raw[:end_col].decode("utf-8", "ignore"))
    stripped = len(text) - len(text.lstrip())
    if end <= start or start < stripped:
        return None
    # Like CPython's tracebacks: no carets under the whole line.
    if start == stripped and end >= len(text.rstrip()):
        return WHOLE_LINE
    return " " * 8 + " " * (start - stripped) + "^" * (end - start)


WHOLE_LINE = ""  # caret_line(): the expression is the whole line


_HEADER = re.compile(r"^Thread (\d+)(.*)$")
_IMPORTING = re.compile(r"^    importing '(.*)'$")
_CARETS = re.compile(r"^ {8} *\^+\s*$")


# A group of threads with the same stack (the default; --no-group prints
# each): '300 threads: "w0"-"w99", "x" (tids 101-400) [interpreter 1]'.
_GROUP = re.compile(r"^(\d+) threads: (.*?)(?: \(tids? ([0-9, -]+)\))?"
                    r"( \[interpreter (\d+)\])?$")


def expand_runs(text):
    """[101, 102, 103, 7] from '101-103, 7'."""
    out = []
    for part in text.split(", "):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def group_headers(out):
    """[(count, names text, [tids], interpreter id)] of the text's group
    headers."""
    found = []
    for ln in out.splitlines():
        m = _GROUP.match(ln)
        if m:
            found.append((int(m.group(1)), m.group(2),
                          expand_runs(m.group(3)) if m.group(3) else [],
                          int(m.group(5) or 0)))
    return found


def text_blocks(out, record=None):
    """{(interpreter_id, thread_id): [lines of that thread's block]}; with
    the record, a group's block is every member's (found by TID)."""
    by_tid = {}
    for e in (record or {}).get("threads", ()):
        if e.get("native_id") is not None:
            by_tid[(e.get("interpreter_id", 0), e["native_id"])] = \
                e["thread_id"]
    blocks = {}
    cur = None
    for ln in out.splitlines():
        m = _HEADER.match(ln)
        g = _GROUP.match(ln)
        if m:
            im = re.search(r" \[interpreter (\d+)\]", m.group(2))
            key = (int(im.group(1)) if im else 0, int(m.group(1)))
            cur = blocks.setdefault(key, [])
        elif g:
            interp = int(g.group(5) or 0)
            cur = []
            for tid in expand_runs(g.group(3)) if g.group(3) else []:
                if (interp, tid) in by_tid:
                    blocks[(interp, by_tid[(interp, tid)])] = cur
        elif cur is not None:
            if ln and not ln.startswith(" "):
                cur = None      # the next section ("Asyncio: ...")
            else:
                cur.append(ln)
    return blocks


def _text_items(lines):
    """[[kind, line, [detail lines]]]: kind "frame" for a File line,
    "importing", or "other" (a stack cut / incomplete note)."""
    items = []
    for ln in lines:
        if ln.startswith('    File "'):
            items.append(["frame", ln, []])
        elif _IMPORTING.match(ln):
            items.append(["importing", ln, []])
        elif ln.startswith("      ") and items:
            items[-1][2].append(ln)
        elif ln.startswith("    ") and not ln.startswith("     "):
            items.append(["other", ln, []])
    return items


def _frame_line(f, any_line=False):
    return '    File "%s", line %s, in %s' % (
        escape_text(f["filename"]),
        "*" if any_line else ("?" if f["line"] is None else f["line"]),
        escape_text(f["function"]))


def _thread_text_problems(e, lines, pre311):
    out = []
    exp = []
    for j, f in enumerate(e["frames"]):
        if f["filename"] in FROZEN_IMPORT:
            if not (exp and exp[-1][0] == "importing"):
                exp.append(("importing", j, f))
        else:
            exp.append(("frame", j, f))
    items = _text_items(lines)
    if len(items) != len(exp) and not any(i[0] == "other" for i in items):
        out.append("%d frame/importing lines, expected %d"
                   % (len(items), len(exp)))
    for (kind, j, f), (gkind, gline, details) in zip(exp, items):
        if kind == "importing":
            if gkind != "importing":
                out.append("frame %d: expected an \"    importing 'MOD'\" "
                           "line for the frames of importlib, got %r"
                           % (j, gline))
                break
            continue
        busy = j == 0 and e.get("compare") == "outer"
        want = _frame_line(f, any_line=busy)
        ok = gkind == "frame" and (
            re.match("^%s$" % re.escape(want).replace(r"\*", r"\d+"), gline)
            if busy else gline == want)
        if not ok:
            out.append("frame %d: expected %r, got %r" % (j, want, gline))
            break
        if busy:
            continue
        src = source_line(f["filename"], f["line"])
        if src is None:
            continue
        body = src.lstrip()
        wants = set([(" " * 8 + body).rstrip(),
                     (" " * 8 + escape_text(body)).rstrip()])
        if not details or details[0].rstrip() not in wants:
            out.append("%s: expected the source line %r under it, got %r"
                       % (gline.strip(), " " * 8 + body,
                          details[0] if details else None))
            continue
        caret = caret_line(src, f.get("positions"))
        nxt = details[1] if len(details) > 1 else None
        if caret == WHOLE_LINE:
            if nxt is not None and _CARETS.match(nxt):
                out.append("%s: carets under the whole line: %r"
                           % (gline.strip(), nxt))
        elif caret is not None:
            if nxt != caret:
                out.append("%s: expected the caret line %r (positions %r), "
                           "got %r" % (gline.strip(), caret,
                                       f.get("positions"), nxt))
        elif pre311 and nxt is not None and _CARETS.match(nxt):
            out.append("%s: a caret line before 3.11: %r"
                       % (gline.strip(), nxt))
    return out


def text_frame_problems(record, out):
    if "threads" not in record:
        return []
    version = _version(record)
    blocks = text_blocks(out, record)
    problems = []
    for e in record["threads"]:
        lines = blocks.get(_key(e))
        who = "thread %r (thread_id %d)" % (e["name"], e["thread_id"])
        if lines is None:
            problems.append("%s: no 'Thread %d' block" % (who,
                                                          e["thread_id"]))
            continue
        p = _thread_text_problems(e, lines, version < (3, 11))
        mod = (e.get("expect_state") or {}).get("importing")
        if mod is not None and version >= (3, 0):
            if "    importing '%s'" % mod not in lines:
                p.append("no line \"    importing '%s'\"" % mod)
            if any("<frozen importlib._bootstrap" in ln for ln in lines):
                p.append("importlib's frames shown (not replaced by the "
                         "importing line)")
        if p:
            problems.append("%s:" % who)
            problems.extend("  " + s for s in p)
    if problems:
        problems = _cap(problems)
        problems.append("output (first 60 lines):")
        problems.extend("  " + ln for ln in out.splitlines()[:60])
    return problems
