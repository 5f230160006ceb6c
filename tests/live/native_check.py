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
               "address", "symbol_source", "internal", "eval",
               "caller_by"}
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


NTLIB = re.compile(r"^_nativetest")
TOP_ROW = re.compile(r"^\s*[0-9.]+\s+[0-9.]+\s+[0-9.]+\w+\s+[0-9.]+\w+\s+"
                     r"(\S+)\s+(\S+)\s*$")


def top_cases(cx, f, t):
    """top --native --idle, as text screens: the functions hold the
    extension's C functions (of its library), the C thread's, and the
    Python functions of the record's stacks (of the target's file); not
    the interpreter's own C frames (only with --native-all); the stack
    pane of the first thread (the main one, in main_sleep) holds a C
    frame of the C library above main_sleep."""
    rec = t.record
    r = cx.snakescope("top", "--native", "--idle", "--iterations", "2",
                      "--size", "250x90", "--no-color", t.pid)
    what = "top --native --idle: C functions among the Python ones, " \
        "and in the stack"
    if r.rc != 0:
        f.check(what, ["exit status %s" % r.rc] + r.describe())
        return
    text = r.out.decode("utf-8", "replace")
    screen = text[text.rfind("snakescope top "):]
    rows = {}
    for line in screen.splitlines():
        if line.startswith("STACK of"):
            break
        m = TOP_ROW.match(line)
        if m:
            rows[m.group(1)] = m.group(2)
    p = []
    for fn in ("nt_wait_forever", "nt_c_thread_loop"):
        if not NTLIB.search(rows.get(fn, "")):
            p.append("no row %s of the extension's library: %r"
                     % (fn, rows.get(fn)))
    base = os.path.basename(rec["file"])
    for fn in ("ext_block", "cb_outer", "cb_inner", "main_sleep"):
        if not rows.get(fn, "").endswith(base):
            p.append("no row %s of %s: %r" % (fn, base, rows.get(fn)))
    inner = [fn for fn in rows if fn == "_PyEval_EvalFrameDefault"]
    if inner:
        p.append("the interpreter's own frames without --native-all: %s"
                 % inner)
    stack = screen[screen.find("STACK of"):].splitlines()
    libc = index_of(stack, lambda s: bool(re.search(r"\s+libc[.-]", s)))
    main = index_of(stack, lambda s: s.strip().startswith("main_sleep "))
    if not (0 <= libc < main):
        p.append("the stack pane: expected a frame of libc (at %d) above "
                 "main_sleep (at %d)" % (libc, main))
    if p:
        p += ["screen:"] + ["  " + s for s in screen.splitlines()[:60]]
    f.check(what, p)
    top_tmux(cx, f, t)


def stack_has_libc(screen):
    """Does the stack pane hold a frame of the C library?"""
    i = screen.find("STACK of")
    return i >= 0 and bool(re.search(r"^\s+\S+\s+libc[.-]",
                                     screen[i:], re.M))


def top_tmux(cx, f, t):
    """top --native --idle in a tmux pane, as a person: the stack pane
    shows C frames; 'n' hides them (Python frames only), 'n' brings them
    back; 'q' exits 0."""
    import top_check
    what = "top --native in tmux: 'n' hides the stack's C frames and " \
        "shows them again; 'q' exits 0"
    if top_check.TMUX is None:
        f.skip(what + ": tmux is not installed")
        return
    tm = top_check.Tmux(cx.h, "native")
    exit_path = os.path.join(cx.workdir, "top-native-exit-%d"
                             % cx.h.serial())
    tm.start("%s top --native --idle --refresh 0.25 %s; echo $? > %s; "
             "sleep 30" % (cx.h.SNAKESCOPE, t.pid, exit_path), 160, 50)
    p = []
    try:
        screen, last = tm.wait(lambda s: stack_has_libc(s) and
                               "main_sleep" in s)
        if screen is None:
            p.append("no C frame of libc in the stack pane:\n" + last)
        else:
            tm.keys("n")
            screen, last = tm.wait(lambda s: "Python frames only" in s and
                                   "main_sleep" in s and
                                   not stack_has_libc(s))
            if screen is None:
                p.append("'n' left C frames in the stack:\n" + last)
            tm.keys("n")
            screen, last = tm.wait(lambda s: "Python and C frames" in s
                                   and stack_has_libc(s))
            if screen is None:
                p.append("'n' again did not bring the C frames back:\n"
                         + last)
        tm.keys("q")
        rc = top_check.wait_file(exit_path)
        if rc != "0":
            p.append("exit status %r after 'q'" % rc)
    finally:
        tm.kill()
    f.check(what, p)


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
        stack_cases(cx, f, t)
        top_cases(cx, f, t)
    except Exception:
        f.check("native cases crashed", traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)
    check_stripped(report, interp, version, workdir, harness)
    check_jit(report, interp, version, workdir, harness)
    check_cxx(report, interp, version, workdir, harness)


def stack_context(cx):
    """cx, with snakescope finding the evaluation loop by the stack alone
    (SNAKESCOPE_EVAL=stack), as it must in a stripped interpreter."""
    from record_check import Context

    class StackContext(Context):
        def snakescope(self, *args, **kw):
            kw.setdefault("env", dict(self.h.TARGET_ENV,
                                      SNAKESCOPE_EVAL="stack"))
            return Context.snakescope(self, *args, **kw)
    return StackContext(cx.h, cx.interp, cx.version, cx.workdir)


def stack_cases(cx, f, t):
    """The same cases, the evaluation-loop frames found by where each
    activation keeps its entry frame (3.12+) or _PyCFrame (3.11) on the
    C stack instead of by name: the same frames at the same places."""
    if cx.mm < (3, 11):
        f.skip("by the stack: before 3.11 no activation of the "
               "evaluation loop keeps a frame-chain pointer on the C "
               "stack; the loop is found by name only")
        return
    from record_check import Findings
    g = Findings("by the stack")
    run_cases(stack_context(cx), g, t)
    for kind, what, details in g.lines:
        f.lines.append((kind, "%s: %s" % (f.label, what), details))


def stripped_copy(cx, d):
    """A copy of Debian's static interpreter without its debug symbols:
    the same binary in d/bin, its standard library and headers linked,
    nothing under d names the debug files.  The path, or None."""
    real = os.path.realpath(cx.interp)
    m = re.search(r"/sid/usr/bin/(python3\.\d+)$", real)
    if not m:
        return None
    usr = os.path.dirname(os.path.dirname(real))
    name = m.group(1)
    os.makedirs(os.path.join(d, "bin"))
    os.makedirs(os.path.join(d, "lib"))
    os.chmod(d, 0o755)
    for sub in ("bin", "lib"):
        os.chmod(os.path.join(d, sub), 0o755)
    exe = os.path.join(d, "bin", name)
    subprocess.check_call(["cp", real, exe])
    os.symlink(os.path.join(usr, "lib", name),
               os.path.join(d, "lib", name))
    os.symlink(os.path.join(usr, "include"), os.path.join(d, "include"))
    return exe


def check_stripped(report, interp, version, workdir, harness):
    """Debian's static 3.14/3.15 without their -dbg files: the evaluation
    loop has no name (its exported _PyEval_EvalFrameDefault covers a few
    hundred bytes of it), yet every Python frame is placed where it is
    with the debug files."""
    from record_check import Context, Findings, wait_record
    label = "%s %s: native, stripped" % (version, interp)
    f = Findings(label)
    cx = Context(harness, interp, version, workdir)
    t = None
    try:
        d = os.path.join(workdir, "nosym-%d" % harness.serial())
        exe = stripped_copy(cx, d)
        if exe is None:
            f.skip("not a Debian static build with separate debug "
                   "symbols (Debian sid's python3.14/3.15)")
            f.report_to(report)
            return
        cx = Context(harness, exe, version, workdir)
        ext, why = build_extension(cx)
        if ext is None:
            f.skip("the test extension: %s" % why)
            f.report_to(report)
            return
        t = harness.Target(exe, "native_target.py", workdir, [ext])
        t.record = wait_record(t)
        doc = dump_json(cx, t, "--native-all")
        named = [x for th in doc["threads"] for x in th["frames"]
                 if x.get("eval") and x.get("function")]
        f.check("the copy's evaluation loop has no name (no debug file "
                "found)", ["named %r from %s" % (named[0]["function"],
                                                 named[0].get(
                                                     "symbol_source"))]
                if named else [])
        run_cases(cx, f, t)
    except Exception:
        f.check("stripped cases crashed",
                traceback.format_exc().splitlines())
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


def jit_problems(rec, frames, all_frames):
    """The JIT case: the lock's wait, then the JIT code ("[jit]", its
    caller found by the frame pointer (3.15's JIT code keeps one) or by
    scanning the stack (3.14's does not)), then the thread's Python
    frames at once; with --native-all, the evaluation loop right under
    them."""
    p = check_python(rec, frames)
    jit = index_of(frames, lambda x: x.get("library") == "[jit]")
    if jit < 0:
        return p + ["no [jit] frame"]
    j = frames[jit]
    if j.get("function") is not None or j.get("caller_by") not in (
            "frame_pointer", "stack_scan"):
        p.append("the [jit] frame: function %r, caller_by %r"
                 % (j.get("function"), j.get("caller_by")))
    if index_of(frames, lambda x: x.get("kind") == "python") != jit + 1:
        p.append("the Python frames do not follow the [jit] frame")
    if not any(x.get("kind") == "native" for x in frames[:jit]):
        p.append("no native frame (the lock's wait) above the [jit] one")
    last = max(i for i, x in enumerate(all_frames)
               if x.get("kind") == "python")
    if last + 1 >= len(all_frames) or \
            all_frames[last + 1].get("eval") is not True:
        p.append("--native-all: no evaluation-loop frame right under the "
                 "outermost Python frame")
    return p


def check_jit(report, interp, version, workdir, harness):
    """CPython's JIT (3.14+ builds with it, PYTHON_JIT=1): a thread
    blocked in a call made from JIT code."""
    from record_check import Context, Findings, wait_record
    f = Findings("%s %s: native, JIT" % (version, interp))
    cx = Context(harness, interp, version, workdir)
    t = None
    if cx.mm < (3, 13):
        f.skip("no JIT before 3.13")
        f.report_to(report)
        return
    try:
        # -E would hide PYTHON_JIT.
        t = harness.Target(interp, "jit_target.py", workdir,
                           cmd=[interp, "-s", "-B", os.path.join(
                               harness.TARGETS, "jit_target.py")],
                           env=dict(harness.TARGET_ENV, PYTHON_JIT="1"))
        rec = wait_record(t)
        if not rec.get("jit"):
            f.skip("built without the JIT (off with PYTHON_JIT=1)")
        else:
            for label, c in (("", cx), ("by the stack, ",
                                        stack_context(cx))):
                th = by_tid(dump_json(c, t, "--native")).get(rec["tid"])
                ta = by_tid(dump_json(c, t, "--native-all")).get(
                    rec["tid"])
                problems = ["no thread with TID %s" % rec["tid"]] \
                    if th is None or ta is None else \
                    jit_problems(rec, th["frames"], ta["frames"])
                if problems and th is not None:
                    problems.extend("  " + x for x in show(th["frames"]))
                f.check("%sdump --native: the JIT code named [jit], its "
                        "caller by frame pointer or stack scan, the "
                        "Python frames after it" % label, problems)
            r = cx.snakescope("dump", "--native", "--no-source", t.pid)
            text = r.out.decode("utf-8", "replace")
            want = re.compile(r"\(C\) \?\? \(\[jit\]\+0x[0-9a-f]+\) "
                              r"\[no unwind info: caller by (frame "
                              r"pointer|stack scan)\]\n +File \"[^\"]*jit_target\.py\","
                              r" line \d+, in hot\n")
            f.check("dump --native text: the [jit] frame, marked, above "
                    "hot()", [] if r.rc == 0 and want.search(text) else
                    [r.describe() if r.rc else text[:3000]])
    except Exception:
        f.check("JIT cases crashed", traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)


CXX_WAIT = "nt::Waiter<int>::wait(int)"


def check_cxx(report, interp, version, workdir, harness):
    """A C++ library's frames, demangled: a thread blocked in libc's
    pause() under nt::Waiter<int>::wait(int), called through ctypes."""
    import shutil
    from record_check import Context, Findings, wait_record
    f = Findings("%s %s: native, C++" % (version, interp))
    cx = Context(harness, interp, version, workdir)
    t = None
    if shutil.which("g++") is None:
        f.skip("no C++ compiler (g++) to build the test library")
        f.report_to(report)
        return
    try:
        so = os.path.join(workdir, "libcxxblock.so")
        if not os.path.exists(so):  # once for every interpreter
            why = harness.tool(["g++", "-shared", "-fPIC", "-O1", "-g",
                                "-fno-inline", "-fno-optimize-sibling-calls",
                                "-o", so, os.path.join(harness.TARGETS,
                                                       "cxx_block.cpp")])
            if why is not None:
                raise RuntimeError("cannot build cxx_block.cpp: %s" % why)
        t = harness.Target(interp, "cxx_target.py", workdir, [so])
        rec = wait_record(t)
        th = by_tid(dump_json(cx, t, "--native")).get(rec["tid"])
        problems = ["no thread with TID %s" % rec["tid"]] if th is None \
            else check_python(rec, th["frames"]) + expect_run(
                th["frames"], [(CXX_WAIT, is_native(CXX_WAIT)),
                               ("nt_cxx_block", is_native("nt_cxx_block"))])
        if th is not None:
            w = index_of(th["frames"], is_native(CXX_WAIT))
            if w >= 0 and not th["frames"][w].get("library", "").startswith(
                    "libcxxblock"):
                problems.append("%s in %r" % (CXX_WAIT,
                                              th["frames"][w]["library"]))
            if problems:
                problems.extend("  " + x for x in show(th["frames"]))
        f.check("dump --native: the C++ frame demangled, above its extern "
                "\"C\" caller", problems)
        r = cx.snakescope("dump", "--native", "--no-source", t.pid)
        want = "(C) %s+0x" % CXX_WAIT
        f.check("dump --native text: %s" % want,
                [] if r.rc == 0 and want.encode() in r.out else
                [r.describe() if r.rc else
                 r.out.decode("utf-8", "replace")[:3000]])
    except Exception:
        f.check("C++ cases crashed", traceback.format_exc().splitlines())
    finally:
        if t is not None:
            harness.kill(t.proc)
    f.report_to(report)
