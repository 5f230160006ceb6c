"""Live checks of `snakescope dump --native` (see live_test.py).

For one interpreter: build tests/targets/_nativetest.c against its headers
(with the compiler flags its sysconfig gives for extensions), start
native_target.py, which parks threads in C (a C extension waiting in
pthread_cond_wait, a ctypes call into libc's sleep, a ctypes qsort whose
CFUNCTYPE comparator calls back into Python and blocks in C, a pthread
that never runs Python) and records each Python thread's own stack; then
compare `dump --native --json` with that record:

  - each thread's Python frames, in order, are the ones it recorded;
  - the native frames sit where they must, exactly: the libc wait above
    nt_wait_forever, then nt_block, then the Python function that called
    it; Python, C, Python, C for the callback; libc's sleep above the
    libffi call above the Python caller; qsort between the comparator and
    the Python caller;
  - the C-only thread is listed, with nt_c_thread_loop and no Python;
  - every native frame has kind, function, offset, library,
    library_offset, address, symbol_source; nothing is marked as lost;
  - --native-all keeps the evaluation-loop frames (flagged "eval"), with
    the same Python frames; the text dump shows the same order;
  - --native --no-pause is refused (exit 2);
  - `record --native --idle -f json`: every sample of every thread has
    the same frames, in the same order, as the dump (Python frames the
    recorded ones, C frames marked "native" with their library); the
    C-only thread is sampled; the folded stacks hold the callback
    thread's Python-C-Python-C run, outermost first.

Standard library only (Python 3.6+).
"""
import json
import os
import re
import subprocess
import traceback

from fleet_check import short_filename

EXT_CODE = r"""
import json, sys, sysconfig
v = sysconfig.get_config_var
sys.stdout.write(json.dumps({
    'include': sysconfig.get_paths().get('include') or v('INCLUDEPY'),
    'ext_suffix': v('EXT_SUFFIX') or v('SO') or '.so',
    'ccshared': v('CCSHARED') or '-fPIC',
    'debug': hasattr(sys, 'gettotalrefcount')}))
"""

NATIVE_KEYS = {"kind", "function", "offset", "library", "library_offset",
               "address", "symbol_source", "internal", "eval"}
_built = {}


def build_extension(cx):
    """Build _nativetest for cx.interp into the workdir: (dir, None) or
    (None, why)."""
    if cx.interp in _built:
        return _built[cx.interp]
    h = cx.h
    out = subprocess.run([cx.interp] + h.TARGET_FLAGS + ["-c", EXT_CODE],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, env=h.TARGET_ENV)
    if out.returncode != 0:
        res = (None, "sysconfig: " + out.stderr.decode("utf-8", "replace"))
        _built[cx.interp] = res
        return res
    cfg = json.loads(out.stdout.decode("utf-8"))
    facts = h.interp_facts(cx.interp)
    d = os.path.join(cx.workdir, "nativetest-%d" % h.serial())
    os.makedirs(d)
    flags = h.include_flags(cfg["include"], facts, d)
    inc = cfg["include"] or ""
    if flags is not None and cfg["debug"] and inc.endswith("d"):
        # Debian's pythonX.Yd/Python.h links to pythonX.Y/, whose
        # pyconfig.h wants x86_64-linux-gnu/pythonX.Y/: give it the
        # debug build's.
        multiarch = os.path.join(os.path.dirname(inc), "x86_64-linux-gnu",
                                 os.path.basename(inc))
        link = os.path.join(d, "dbg", "x86_64-linux-gnu",
                            os.path.basename(inc)[:-1])
        if os.path.isdir(multiarch):
            os.makedirs(os.path.dirname(link))
            os.symlink(multiarch, link)
            flags = ["-isystem", os.path.join(d, "dbg")] + flags
    if flags is None:
        res = (None, "no Python.h for %s" % cx.interp)
    else:
        so = os.path.join(d, "_nativetest" + cfg["ext_suffix"])
        why = h.tool(["cc", "-shared", "-O1", "-g", "-pthread",
                      "-fno-optimize-sibling-calls", "-fno-inline"]
                     + cfg["ccshared"].split() + flags
                     + (["-DPy_DEBUG"] if cfg["debug"] else [])
                     + ["-o", so, os.path.join(h.TARGETS, "_nativetest.c")])
        res = (d, None) if why is None else (None, "cannot build: " + why)
    _built[cx.interp] = res
    return res


def names(frames):
    return [f.get("function") for f in frames]


def py_frames(frames):
    return [f for f in frames if f.get("kind") == "python"]


def short(fn):
    """co_name of a qualified name ("Thread.run" -> "run")."""
    return (fn or "").split(".")[-1]


def index_of(frames, pred, start=0):
    for i in range(start, len(frames)):
        if pred(frames[i]):
            return i
    return -1


def is_native(name):
    return lambda f: f.get("kind") == "native" and f.get("function") == name


def is_py(name):
    return lambda f: f.get("kind") == "python" and \
        short(f.get("function")) == name


def show(frames):
    out = []
    for f in frames:
        if f.get("kind") == "python":
            out.append("py %s %s:%s" % (f.get("function"),
                                        os.path.basename(f.get("filename")
                                                         or "?"),
                                        f.get("line")))
        elif f.get("kind") == "native":
            out.append("C  %s (%s) [%s]" % (f.get("function") or "??",
                                            f.get("library"),
                                            f.get("symbol_source")))
        else:
            out.append("-- %s" % f.get("note"))
    return out


def expect_run(frames, steps):
    """steps: predicates that must hold for consecutive frames, the first
    anywhere.  Problems, or []."""
    i = index_of(frames, steps[0][1])
    if i < 0:
        return ["no frame %s" % steps[0][0]]
    for label, pred in steps[1:]:
        i += 1
        if i >= len(frames) or not pred(frames[i]):
            return ["after %s expected %s, found %s"
                    % (steps[0][0], label,
                       show([frames[i]])[0] if i < len(frames) else
                       "the end")]
    return []


def check_python(rec, frames):
    """The thread's Python frames are the recorded ones, in order."""
    got = py_frames(frames)
    want = rec["stack"]
    problems = []
    if len(got) != len(want):
        problems.append("%d Python frames, the thread recorded %d"
                        % (len(got), len(want)))
    for g, (fn, filename, line) in zip(got, want):
        if short(g.get("function")) != fn or g.get("filename") != filename \
                or g.get("line") != line:
            problems.append("Python frame %s:%s %s, recorded %s:%s %s"
                            % (g.get("filename"), g.get("line"),
                               g.get("function"), filename, line, fn))
            break
    return problems


def check_native_fields(frames):
    problems = []
    for f in frames:
        if f.get("kind") == "mark":
            problems.append("marked: %s" % f.get("note"))
        elif f.get("kind") == "native" and set(f) != NATIVE_KEYS:
            problems.append("native frame keys %s" % sorted(f))
        elif f.get("kind") not in ("native", "python", "mark"):
            problems.append("frame kind %r" % f.get("kind"))
    return problems


LIBC = re.compile(r"^(libc|libpthread)[.-]")
FFI = re.compile(r"^(libffi|_ctypes)")


def above_is_libc(frames, name):
    """Every frame above the first 'name' frame is in libc."""
    i = index_of(frames, is_native(name))
    bad = [f for f in frames[:max(i, 0)]
           if f.get("kind") != "native" or not LIBC.match(f.get("library")
                                                          or "")]
    return ["frame above %s not in libc: %s" % (name, show([bad[0]])[0])] \
        if bad else []


def thread_checks(name, rec, frames):
    """The exact order of the merged frames of thread 'name'."""
    p = []
    if name == "ext-block":
        p += expect_run(frames, [
            ("a pthread_cond_wait frame",
             lambda f: re.match(r"^_*pthread_cond_wait", f.get("function")
                                or "")),
            ("nt_wait_forever", is_native("nt_wait_forever")),
            ("nt_block", is_native("nt_block")),
            ("Python ext_block", is_py("ext_block"))])
        p += above_is_libc(frames, "nt_wait_forever")
    elif name == "callback":
        p += expect_run(frames, [
            ("nt_wait_forever", is_native("nt_wait_forever")),
            ("nt_block", is_native("nt_block")),
            ("Python cb_inner", is_py("cb_inner")),
            ("nt_call_inner", is_native("nt_call_inner")),
            ("nt_call", is_native("nt_call")),
            ("Python cb_outer", is_py("cb_outer"))])
        p += above_is_libc(frames, "nt_wait_forever")
    elif name == "ctypes-sleep":
        s = index_of(frames, lambda f: f.get("kind") == "native" and
                     f.get("function") == "sleep" and
                     LIBC.match(f.get("library") or ""))
        ffi = index_of(frames, lambda f: FFI.match(f.get("library") or ""),
                       max(s, 0))
        py = index_of(frames, is_py("ctypes_sleep"))
        if not 0 <= s < ffi < py:
            p.append("expected libc sleep (at %d) above a libffi/_ctypes "
                     "frame (at %d) above Python ctypes_sleep (at %d)"
                     % (s, ffi, py))
        elif index_of(frames[:py], lambda f: f.get("kind") == "python") >= 0:
            p.append("a Python frame above ctypes_sleep")
    elif name == "qsort-cb":
        order = [index_of(frames, is_native("nt_block")),
                 index_of(frames, is_py("qsort_cmp")),
                 index_of(frames, lambda f: "qsort" in (f.get("function")
                                                        or "")),
                 index_of(frames, is_py("qsort_outer"))]
        if min(order) < 0 or order != sorted(order):
            p.append("expected nt_block, Python qsort_cmp, libc qsort, "
                     "Python qsort_outer in that order, at %s" % order)
    return p


def check_native(report, interp, version, workdir, harness):
    from record_check import Context, Findings, wait_record
    label = "%s %s: native" % (version, interp)
    cx = Context(harness, interp, version, workdir)
    f = Findings(label)
    t = None
    try:
        d, why = build_extension(cx)
        if d is None:
            f.skip("dump --native: the test extension: %s" % why)
            f.report_to(report)
            return
        t = harness.Target(interp, "native_target.py", workdir, [d])
        t.record = wait_record(t)
        run_cases(cx, f, t)
    except Exception:
        f.check("native cases crashed", traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)


def dump_json(cx, t, *opts):
    r = cx.snakescope("dump", "--json", *(list(opts) + [t.pid]))
    if r.rc != 0:
        raise RuntimeError("dump %s: %s" % (" ".join(opts), r.describe()))
    return json.loads(r.out.decode("utf-8"))


def by_tid(doc):
    return {th.get("native_id"): th for th in doc["threads"]}


def run_cases(cx, f, t):
    rec = t.record
    doc = dump_json(cx, t, "--native")
    threads = by_tid(doc)
    for name in sorted(rec["threads"]):
        r = rec["threads"][name]
        th = threads.get(r["tid"])
        if th is None:
            f.check("--native: thread %s" % name,
                    ["no thread with TID %s" % r["tid"]])
            continue
        frames = th["frames"]
        problems = check_python(r, frames) + check_native_fields(frames) \
            + thread_checks(name, r, frames)
        if problems:
            problems.append("frames:")
            problems.extend("  " + s for s in show(frames))
        f.check("--native: thread %s, Python and C frames in order" % name,
                problems)

    c = threads.get(rec["c_thread"])
    problems = []
    if c is None:
        problems.append("no thread with TID %s" % rec["c_thread"])
    else:
        if c.get("native_only") is not True or c.get("thread_id") is not None:
            problems.append("native_only %r, thread_id %r" % (
                c.get("native_only"), c.get("thread_id")))
        if c.get("name") != "nt-c-worker":
            problems.append("name %r" % c.get("name"))
        problems += expect_run(c["frames"], [
            ("nt_c_thread_loop", is_native("nt_c_thread_loop")),
            ("nt_c_thread_main", is_native("nt_c_thread_main"))])
        if py_frames(c["frames"]):
            problems.append("Python frames in a C thread")
        if problems:
            problems.extend("  " + s for s in show(c["frames"]))
    f.check("--native: the C-only thread, with its native stack", problems)

    # --native-all: the interpreter's frames stay, the eval loop flagged.
    doc_all = dump_json(cx, t, "--native-all")
    problems = []
    for name in sorted(rec["threads"]):
        th = by_tid(doc_all).get(rec["threads"][name]["tid"])
        if th is None:
            problems.append("%s: missing" % name)
            continue
        frames = th["frames"]
        problems += ["%s: %s" % (name, p) for p in
                     check_python(rec["threads"][name], frames)]
        evals = [x for x in frames if x.get("eval")]
        if not evals:
            problems.append("%s: no evaluation-loop frame" % name)
        # Debian's stripped static builds: named by their debug files.
        if re.search(r"/sid/usr/bin/python3\.\d+$",
                     os.path.realpath(cx.interp)):
            bad = [x for x in evals if x.get("symbol_source") != "debuginfo"]
            if bad:
                problems.append("%s: evaluation loop named from %s, not "
                                "the debug file" % (name, bad[0].get(
                                    "symbol_source")))
        shown = len([x for x in frames if x.get("kind") == "native"])
        default = len([x for x in by_tid(doc)[th["native_id"]]["frames"]
                       if x.get("kind") == "native"])
        if shown <= default:
            problems.append("%s: %d native frames, no more than without "
                            "--native-all (%d)" % (name, shown, default))
    f.check("--native-all: evaluation-loop and interpreter frames kept",
            problems)

    # The text form: the same order, as a person reads it.
    r = cx.snakescope("dump", "--native", "--no-source", t.pid)
    text = r.out.decode("utf-8", "replace")
    want = [r"\(C\) nt_wait_forever\+0x[0-9a-f]+ \(_nativetest",
            r"\(C\) nt_block\+0x[0-9a-f]+ \(_nativetest",
            r'File "%s", line \d+, in (\S+\.)?cb_inner' % re.escape(
                rec["file"]),
            r"\(C\) nt_call_inner\+0x[0-9a-f]+ \(_nativetest",
            r"\(C\) nt_call\+0x[0-9a-f]+ \(_nativetest",
            r'File "%s", line \d+, in (\S+\.)?cb_outer' % re.escape(
                rec["file"])]
    # its own block (the summary's line for it comes first)
    block = re.split(r'(?m)^Thread \d+ "callback"', text)
    problems = []
    if r.rc != 0:
        problems.append(r.describe())
    elif len(block) < 2:
        problems.append("no thread 'callback' in:\n" + text)
    else:
        lines = block[1].splitlines()
        at = 0
        for w in want:
            k = index_of(lines, lambda ln: re.search(w, ln), at)
            if k < 0 or (at and k != at):
                problems.append("expected a line %r at line %d of the "
                                "thread" % (w, at))
                problems.extend(lines[:30])
                break
            at = k + 1
    f.check("dump --native text: the callback thread's frames in order",
            problems)

    r = cx.snakescope("dump", "--native", "--no-pause", t.pid)
    f.check("dump --native --no-pause is refused (exit 2, says why)",
            [] if r.rc == 2 and b"--no-pause" in r.err else
            [r.describe()])
    record_cases(cx, f, t)


def sample_frames(frames):
    """A record JSON line's frames in the dump's terms."""
    out = []
    for x in frames:
        if x.get("native"):
            out.append({"kind": "native", "function": x.get("function"),
                        "library": x.get("file")})
        else:
            out.append({"kind": "python", "function": x.get("function"),
                        "filename": x.get("file"), "line": x.get("line")})
    return out


def record_cases(cx, f, t):
    """record --native: the dump's stacks, sample after sample."""
    rec = t.record
    out = os.path.join(cx.workdir, "native-%d.json" % cx.h.serial())
    r = cx.snakescope("record", "--native", "--idle", "-d", "0.5", "-f",
                      "json", "-o", out, t.pid)
    problems = [] if r.rc == 0 else [r.describe()]
    samples = {}
    lines = []
    if not problems:
        with open(out) as fh:
            lines = [json.loads(ln) for ln in fh]
        for s in lines:
            samples.setdefault(s["native_id"], []).append(
                sample_frames(s["frames"]))
    for name in sorted(rec["threads"]):
        got = samples.get(rec["threads"][name]["tid"], [])
        # record names a file under the standard library from there
        # (threading.py), as py-spy does: the thread's own record so
        # named, exactly
        own = dict(rec["threads"][name], stack=[
            (fn, short_filename(filename), line)
            for fn, filename, line in rec["threads"][name]["stack"]])
        if not got:
            problems.append("%s: no sample" % name)
        for frames in got:
            p = check_python(own, frames) + \
                thread_checks(name, rec["threads"][name], frames)
            if p:
                problems += ["%s: %s" % (name, x) for x in p]
                problems.extend("  " + s for s in show(frames))
                break
    if not problems and any(s["thread_id"] is not None for s in
                            lines if s["native_id"] == rec["c_thread"]):
        problems.append("the C-only thread has a thread_id")
    c = samples.get(rec["c_thread"], [])
    if not c or any(expect_run(fr, [
            ("nt_c_thread_loop", is_native("nt_c_thread_loop")),
            ("nt_c_thread_main", is_native("nt_c_thread_main"))]) or
            py_frames(fr) for fr in c):
        problems.append("the C-only thread: %d samples, the first %s"
                        % (len(c), show(c[0]) if c else None))
    f.check("record --native -f json: every sample's stacks as the dump's",
            problems)

    r = cx.snakescope("record", "--native", "--idle", "-d", "0.3", "-o",
                      "-", t.pid)
    text = r.out.decode("utf-8", "replace")
    want = re.compile(r"cb_outer \(%s:\d+\);nt_call \(_nativetest[^;]*\);"
                      r"nt_call_inner \(_nativetest[^;]*\);cb_inner \(%s:\d+\);"
                      r"nt_block \(_nativetest[^;]*\);nt_wait_forever "
                      r"\(_nativetest" % (re.escape(rec["file"]),
                                         re.escape(rec["file"])))
    problems = [] if r.rc == 0 else [r.describe()]
    if not problems and not want.search(text):
        problems.append("no folded stack with cb_outer, nt_call, "
                        "nt_call_inner, cb_inner, nt_block, "
                        "nt_wait_forever:\n" + text[:3000])
    f.check("record --native (folded): Python and C frames in one stack",
            problems)
