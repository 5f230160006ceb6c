"""The privilege matrix, on every interpreter (see live_test.py).

check_access(report, interp, version, workdir, harness)
    harness: the live_test module.  Needs root, setpriv, the test user of
    privs_check (snakescope-test, created when missing;
    privs_check.remove_user() at the end removes it then), capsh and setcap
    (libcap2-bin) for scenarios 2 and 3; each scenario without them is
    skipped by name.

Scenarios (the acting identity runs snakescope; the target is
tests/targets/threads.py, which records its own stacks):

  1a  root against the test user's process, its interpreter copied into a
      directory only that user may read (mode 0700; the executable, its
      libpython and, when the user cannot read the original, the standard
      library hard-linked or copied, with the copy's own libpython through
      patchelf and LD_LIBRARY_PATH)
  1b  root against the test user's process, a world-readable interpreter
      (the one given, or a world-readable copy when the user cannot run it)
  2   the test user holding CAP_SYS_PTRACE (setcap on a copy of
      snakescope) against root's process, the interpreter as installed
  3a  root without CAP_SYS_PTRACE (capsh --drop) against the user's process
  3b  root without CAP_SYS_PTRACE against root's process
  4   the test user without capabilities against root's process

Commands, each against the scenario's target: dump --json (paused and
--no-pause), dump --json --native, dump --json --locals, deadlock --json,
watch --every 0.2 --count 2, record --idle --duration 0.5 (plain,
--pause, --native), top --once; and run dump -- PYTHON (a program parked
in parked_in_run), the program started by the acting identity as the
scenario's target user.  Each must either work (the dumps equal the
target's record, the other outputs show the recorded threads' functions,
the target left running) or fail with exit status 4 and one stderr line
naming what is missing and how to get it:

  1a, 1b          work
  2               works when the user can read the interpreter's files;
                  else (pyenv under /root, mode 0700) exit 4 naming the
                  unreadable file and CAP_DAC_READ_SEARCH ("UNREADABLE")
  3a, 3b          exit 4: root without CAP_SYS_PTRACE looks like a
                  container; names docker run --cap-add SYS_PTRACE, the
                  Kubernetes securityContext and kubectl debug; run: 3b
                  works (its program has root's reduced set, as in a
                  container), 3a is refused the same way
  4               exit 4: names root (uid 0), CAP_SYS_PTRACE and setcap;
                  run works (its own program; Yama's scope 2 refuses)

The targets share by identity: one for 1a, one for 1b and 3a, one of
root's for 2, 3b and 4; the scenarios on one target run in turn, those on
different targets and the run cases at once.  Standard library only.
"""
import json
import os
import re
import shutil
import subprocess
import threading
import time
import traceback

import privs_check

CMD_TIMEOUT = 20.0
NICE = shutil.which("nice")
CONTAINER = [r"looks like a container", r"docker run --cap-add SYS_PTRACE",
             r'securityContext\.capabilities\.add: \["SYS_PTRACE"\]',
             r"kubectl debug -it --profile=general --target=CONTAINER"]
OTHER_USER = [r"belongs to root \(uid 0\)", r"CAP_SYS_PTRACE",
              r"setcap cap_sys_ptrace\+ep"]
# Skipped stdlib parts of a copied pyenv tree: not needed to start.
SKIP_STDLIB = set(["test", "tests", "idlelib", "tkinter", "lib2to3",
                   "ensurepip", "site-packages", "turtledemo", "config"])
RUN_CODE = ("import time\n"
            "def parked_in_run():\n"
            "    time.sleep(%s)\n"
            "parked_in_run()\n")


# --------------------------------------------------------------------------
# module state: set up once for all interpreters

class Setup(object):
    def __init__(self):
        self.done = False
        self.why = None         # no scenario at all, and why
        self.ids = None
        self.dir = None
        self.plain = None       # a copy of snakescope anyone may run
        self.capped = None      # ... holding cap_sys_ptrace+ep, or None
        self.why_capped = None
        self.capsh = None
        self.yama = None


_setup = Setup()


def setup(h, workdir):
    s = _setup
    if s.done:
        return s
    s.done = True
    if os.geteuid() != 0:
        s.why = "need root (to create a user and start targets as it)"
        return s
    if shutil.which("setpriv") is None:
        s.why = "setpriv not found"
        return s
    s.ids, why = privs_check.test_user()
    if s.ids is None:
        s.why = "no test user: %s" % why
        return s
    s.dir = os.path.join(workdir, "access")
    os.makedirs(s.dir)
    os.chmod(s.dir, 0o755)
    for sub in ("plain", "cap"):
        os.makedirs(os.path.join(s.dir, sub))
        os.chmod(os.path.join(s.dir, sub), 0o755)
    s.plain = os.path.join(s.dir, "plain", "snakescope")
    shutil.copy2(h.SNAKESCOPE, s.plain)
    os.chmod(s.plain, 0o755)
    s.capsh = shutil.which("capsh")
    capped = os.path.join(s.dir, "cap", "snakescope")
    shutil.copy2(h.SNAKESCOPE, capped)
    os.chmod(capped, 0o755)
    if shutil.which("setcap") is None:
        s.why_capped = "setcap not found (libcap2-bin)"
    elif os.statvfs(s.dir).f_flag & os.ST_NOSUID:
        s.why_capped = "%s is on a nosuid mount: file capabilities are " \
            "ignored" % s.dir
    else:
        err = h.tool(["setcap", "cap_sys_ptrace+ep", capped])
        if err:
            s.why_capped = "setcap failed: %s" % err
        else:
            s.capped = capped
    s.yama = privs_check.yama_scope()
    return s


# --------------------------------------------------------------------------
# copies of an interpreter

def link_tree(src, dst, skip=()):
    """Hard-link the files of src into dst (copy across file systems),
    leaving out the top-level names in skip."""
    os.makedirs(dst)
    os.chmod(dst, 0o755)
    for name in os.listdir(src):
        if name in skip or name.startswith("config-"):
            continue
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        elif os.path.isdir(s):
            if name == "__pycache__":
                continue
            link_tree(s, d)
        else:
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


class Interp(object):
    """An interpreter as a scenario runs it: argv and environment."""

    def __init__(self, exe, env, libpython, note, private_dir=None):
        self.exe, self.env, self.libpython = exe, env, libpython
        self.note = note
        self.private_dir = private_dir

    def argv(self):
        return [self.exe]


def make_copy(h, facts, version, workdir, ids, private):
    """A copy of the interpreter in D (owned by the user, mode 0700, when
    private; else root's, 0755): D/bin/EXE, D/lib/LIBPYTHON and
    D/lib/pythonX.Y (a link to the original when the user may read it,
    else hard links).  A shared libpython is found in D/lib through
    patchelf --set-rpath on a copied executable and LD_LIBRARY_PATH."""
    d = os.path.join(workdir, "%s-%d" % ("private" if private else "public",
                                         h.serial()))
    os.makedirs(os.path.join(d, "bin"))
    os.makedirs(os.path.join(d, "lib"))
    for sub in ("bin", "lib"):
        os.chmod(os.path.join(d, sub), 0o755)
    prefix = facts["prefix"]
    stdlib = "python%d.%d" % h.major_minor(version)
    if not os.path.isdir(os.path.join(prefix, "lib", stdlib)):
        raise RuntimeError("no lib/%s under %s" % (stdlib, prefix))
    src = os.path.join(prefix, "lib", stdlib)
    if privs_check.runs_as(ids, ["test", "-r", os.path.join(src, "os.py")]) \
            is None:
        os.symlink(src, os.path.join(d, "lib", stdlib))
    else:
        link_tree(src, os.path.join(d, "lib", stdlib), SKIP_STDLIB)
    exe = os.path.join(d, "bin", os.path.basename(facts["executable"]))
    env = dict(h.TARGET_ENV)
    lib = facts.get("libpython")
    if lib:
        dst = os.path.join(d, "lib", os.path.basename(lib))
        try:
            os.link(lib, dst)
        except OSError:
            shutil.copy2(lib, dst)
        shutil.copy2(facts["executable"], exe)
        if shutil.which("patchelf"):
            # The copy's lib first; the rest (a build's own libc, as the
            # /opt/py ones have) stays where it was.
            old = subprocess.run(["patchelf", "--print-rpath", exe],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            # DT_RPATH (--force-rpath), unlike DT_RUNPATH, also serves
            # libpython's own needs.
            rpath = ":".join([os.path.join(d, "lib")] + [
                p for p in old.stdout.decode().strip().split(":") if p])
            err = h.tool(["patchelf", "--force-rpath", "--set-rpath", rpath,
                          exe])
            if err:
                raise RuntimeError("patchelf: %s" % err)
        env["LD_LIBRARY_PATH"] = os.path.join(d, "lib")
        lib = dst
    else:
        try:
            os.link(facts["executable"], exe)
        except OSError:
            shutil.copy2(facts["executable"], exe)
    if private:
        os.chown(d, ids[0], ids[1])
        os.chmod(d, 0o700)
    else:
        os.chmod(d, 0o755)
    return Interp(exe, env, lib, "%s copy in %s" % (
        "private (0700, the user's)" if private else "world-readable", d),
        d if private else None)


def maps_paths(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return set(l.split(None, 5)[5].strip() for l in f
                       if len(l.split(None, 5)) == 6)
    except OSError:
        return set()


def copy_in_use(t, interp):
    """Problems unless the target runs the copy's executable and
    libpython."""
    problems = []
    exe = os.path.realpath("/proc/%d/exe" % t.pid)
    if exe != interp.exe:
        problems.append("the target runs %s, not the copy %s"
                        % (exe, interp.exe))
    if interp.libpython:
        libs = [p for p in maps_paths(t.pid) if "libpython" in p]
        if libs != [interp.libpython]:
            problems.append("the target maps %s, not the copy's %s"
                            % (libs, interp.libpython))
    return problems


# --------------------------------------------------------------------------
# checks of one command's outcome

def markers(record):
    """The innermost function of each recorded thread that is the
    target's own (threads.py or _record.py): what any sample shows."""
    out = set()
    for t in record["threads"]:
        for f in t["frames"]:
            if os.path.basename(f["filename"] or "") in ("threads.py",
                                                         "_record.py"):
                out.add(f["function"])
                break
    return sorted(out)


def missing_markers(record, text, fmt):
    return ["%s not in the output" % m for m in markers(record)
            if (fmt % m) not in text]


def python_only(doc):
    """A --native JSON dump reduced to its Python frames."""
    for t in doc.get("threads") or []:
        if isinstance(t, dict) and isinstance(t.get("frames"), list):
            t["frames"] = [f for f in t["frames"]
                           if f.get("kind", "python") == "python"]
    doc["threads"] = [t for t in doc.get("threads") or []
                      if not isinstance(t, dict)
                      or t.get("thread_id") is not None]
    return doc


class Case(object):
    """A command against the target, its argv built per scenario, and
    how to judge its success."""

    def __init__(self, name, args, judge, out_ext=None):
        self.name, self.args, self.judge = name, args, judge
        self.out_ext = out_ext


def judge_dump(opts):
    def judge(h, t, res, out):
        if res.rc != h.EXIT_OK:
            return ["expected exit status 0"] + res.describe()
        try:
            doc = json.loads(res.out.decode("utf-8"))
        except ValueError as e:
            return ["not JSON: %s" % e] + res.describe()
        if "--native" in opts:
            if not any(f.get("kind") == "native"
                       for th in doc.get("threads") or []
                       for f in th.get("frames") or []):
                return ["--native: no native frame in the dump"]
            doc = python_only(doc)
        record = t.record
        py = doc.get("python") or {}
        if "system calls of" in (py.get("warning") or "") and \
                "--no-pause" in opts:
            # Read without pausing by a user who may not read the
            # syscall files: the verdict may be weaker, and says so.
            record = dict(record, verdict=doc.get("verdict"))
            py["warning"] = None
        return h.compare_dump(record, doc,
                              [o for o in opts if o != "--native"])
    return judge


def judge_deadlock(h, t, res, out):
    want = {"none": 0, "deadlock": 6, "likely_hang": 7}[
        t.record.get("verdict") or "none"]
    if res.rc != want:
        return ["expected exit status %d" % want] + res.describe()
    try:
        doc = json.loads(res.out.decode("utf-8"))
    except ValueError as e:
        return ["not JSON: %s" % e]
    if doc.get("verdict") != (t.record.get("verdict") or "none"):
        return ["verdict %r, the target says %r"
                % (doc.get("verdict"), t.record.get("verdict"))]
    return []


def judge_watch(h, t, res, out):
    if res.rc != h.EXIT_OK:
        return ["expected exit status 0"] + res.describe()
    text = res.out.decode("utf-8", "replace")
    heads = re.findall(r"^# \S+ pid %d dump (\d+)$" % t.pid, text, re.M)
    problems = []
    if heads != ["1", "2"]:
        problems.append("expected dumps 1 and 2, got headers %r" % heads)
    for part in re.split(r"^# \S+ pid \d+ dump \d+\n", text, flags=re.M)[1:]:
        problems += missing_markers(t.record, part, " in %s\n")
    return problems[:10]


def judge_record(h, t, res, out):
    if res.rc != h.EXIT_OK:
        return ["expected exit status 0"] + res.describe()
    try:
        with open(out) as f:
            text = f.read()
    except OSError as e:
        return ["no output: %s" % e] + res.describe()
    problems = missing_markers(t.record, text, "%s (")
    if problems:
        problems.append("output: %r" % text[:600])
    return problems


def judge_top(h, t, res, out):
    if res.rc != h.EXIT_OK:
        return ["expected exit status 0"] + res.describe()
    text = res.out.decode("utf-8", "replace")
    if "busy_spin" not in text or "pid %d" % t.pid not in text:
        return ["top --once shows no busy_spin or not pid %d: %r"
                % (t.pid, text[:600])]
    return []


REC = ["--idle", "--duration", "0.5", "-o"]
CASES = [
    Case("dump --json", ["dump", "--json"], judge_dump(["--json"])),
    Case("dump --json --no-pause", ["dump", "--json", "--no-pause"],
         judge_dump(["--json", "--no-pause"])),
    Case("dump --json --native", ["dump", "--json", "--native"],
         judge_dump(["--json", "--native"])),
    Case("dump --json --locals", ["dump", "--json", "--locals"],
         judge_dump(["--json", "--locals"])),
    Case("deadlock --json", ["deadlock", "--json"], judge_deadlock),
    Case("watch --every 0.2 --count 2",
         ["watch", "--every", "0.2", "--count", "2"], judge_watch),
    Case("record --idle --duration 0.5", ["record"] + REC, judge_record,
         "folded"),
    Case("record --pause --idle --duration 0.5", ["record", "--pause"] + REC,
         judge_record, "folded"),
    Case("record --native --idle --duration 0.5",
         ["record", "--native"] + REC, judge_record, "folded"),
    Case("top --once", ["top", "--once", "--refresh", "0.5", "--size",
                        "120x40"], judge_top),
]


# --------------------------------------------------------------------------
# scenarios

class Scenario(object):
    def __init__(self, key, what, actor, target, expect, run_expect,
                 run_as_user):
        self.key, self.what = key, what
        self.actor = actor              # argv prefix to run snakescope
        self.target = target            # "1a", "user" or "root"
        self.expect = expect            # None: works; else regexes
        self.run_expect = run_expect    # the same for run
        self.run_as_user = run_as_user  # run's program as the user


def actor_out_dir(h, s, workdir, user):
    d = os.path.join(workdir, "out-%d" % h.serial())
    os.makedirs(d)
    os.chmod(d, 0o755)
    if user:
        os.chown(d, s.ids[0], s.ids[1])
    return d


def run_scenario(h, s, sc, t, findings, label, outdir):
    if sc.expect is not None and isinstance(sc.expect, str):
        findings.append(("SKIP", "%s: %s: %s" % (label, sc.what, sc.expect),
                         None))
        return
    for case in CASES:
        what = "%s: %s: %s" % (label, sc.what, case.name)
        argv = list(case.args)
        out = None
        if case.out_ext:
            out = os.path.join(outdir, "rec-%d.%s" % (h.serial(),
                                                      case.out_ext))
            argv.append(out)
        argv.append(str(t.pid))
        res = h.run(sc.actor + argv, timeout=CMD_TIMEOUT,
                    env=h.TARGET_ENV)
        if sc.expect is None:
            problems = case.judge(h, t, res, out)
        else:
            problems = h.expect_exit(res, [h.EXIT_PERM], sc.expect)
            if not problems:
                what += " -> refused, exit 4"
        if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
            problems = problems + ["target left stopped: %s"
                                   % h.task_states(t.pid)]
        if t.proc.poll() is not None:
            problems = problems + ["the target died (status %s)"
                                   % t.proc.returncode]
        findings.append(("FAIL" if problems else "ok", what, problems[:30]))


def run_case(h, s, sc, interp, findings, label):
    """run dump -- PYTHON -c RUN_CODE, the program as the scenario's
    target user (root's program for root's scenarios but 1a/1b/3a)."""
    what = "%s: %s: run dump --delay 2 -- PYTHON" % (label, sc.what)
    if isinstance(sc.run_expect, str):
        findings.append(("SKIP", "%s: %s" % (what, sc.run_expect), None))
        return
    prog = [interp.exe] + h.TARGET_FLAGS + ["-c", RUN_CODE % 5]
    if sc.run_as_user:
        prog = privs_check.as_user(s.ids, prog)
    env = dict(interp.env)
    res = h.run(sc.actor + ["run", "dump", "--delay", "2", "--"] + prog,
                timeout=CMD_TIMEOUT, env=env)
    if sc.run_expect is None:
        problems = []
        if res.rc != 0:
            problems = ["expected exit status 0"] + res.describe()
        elif ", in parked_in_run\n" not in res.out.decode("utf-8",
                                                         "replace"):
            problems = ["the dump shows no parked_in_run: %r"
                        % res.out[:600]] + res.describe()
    else:
        problems = h.expect_exit(res, [h.EXIT_PERM], sc.run_expect)
        if not problems:
            what += " -> refused, exit 4"
    findings.append(("FAIL" if problems else "ok", what, problems[:30]))


def unreadable(s, paths):
    """The first of paths the user may not read, or None."""
    for p in paths:
        if p and privs_check.runs_as(s.ids, ["test", "-r", p]) is not None:
            return p
    return None


def check_access(report, interp, version, workdir, harness):
    h = harness
    label = "%s %s: access" % (version, interp)
    t0 = time.monotonic()
    s = setup(h, workdir)
    if s.why:
        report.skip("%s: privilege matrix: %s" % (label, s.why))
        return
    targets = []
    findings = []
    try:
        _check(h, s, report, interp, version, workdir, label, targets,
               findings)
    except Exception:
        findings.append(("FAIL", "%s: crashed" % label,
                         traceback.format_exc().splitlines()))
    finally:
        for t in targets:
            t.kill()
    for kind, what, details in findings:
        report.line(kind, what, details)
    report.note("%s: privilege matrix took %.1f s"
                % (label, time.monotonic() - t0))


def _check(h, s, report, interp, version, workdir, label, targets,
           findings):
    facts = h.interp_facts(interp)
    nice = [NICE, "-n", "19"] if NICE else []
    as_user = lambda argv: privs_check.as_user(s.ids, argv)  # noqa: E731
    real = Interp(interp, dict(h.TARGET_ENV), facts.get("libpython"),
                  "as installed")
    # Whether the user may read the interpreter's files, not whether
    # setpriv starts it: setpriv execs still holding root's capabilities
    # (a pyenv 3.11 under /root then even runs, on Debian's libpython).
    user_runs = unreadable(s, [os.path.realpath(interp),
                               facts.get("libpython")]) is None and \
        privs_check.runs_as(
            s.ids, [interp] + h.TARGET_FLAGS + ["-c", "pass"]) is None
    private = make_copy(h, facts, version, workdir, s.ids, True)
    public = real if user_runs else make_copy(h, facts, version, workdir,
                                              s.ids, False)
    user_interp = public          # what the user runs in run cases

    # The targets: the user's with the private copy, the user's with the
    # world-readable one, root's as installed.
    tdirs = {}
    for key in ("1a", "user", "root"):
        d = os.path.join(workdir, "acc-%s-%d" % (key, h.serial()))
        os.makedirs(d)
        os.chmod(d, 0o755)
        if key != "root":
            os.chown(d, s.ids[0], s.ids[1])
        tdirs[key] = d
    script = os.path.join(h.TARGETS, "threads.py")
    specs = {"1a": (private, True), "user": (public, True),
             "root": (real, False)}
    tg = {}
    for key, (ip, user) in specs.items():
        argv = [ip.exe] + h.TARGET_FLAGS + [script]
        tg[key] = h.Target(interp, "threads.py", tdirs[key],
                           cmd=nice + (as_user(argv) if user else argv),
                           env=ip.env)
        targets.append(tg[key])
    ready = {}
    for key, t in tg.items():
        try:
            t.ready()
            ready[key] = t
        except h.TargetError as e:
            findings.append(("FAIL", "%s: threads.py (%s, %s) ready"
                             % (label, key, specs[key][0].note), [str(e)]))
    if "1a" in ready:
        p = copy_in_use(ready["1a"], private)
        if p:
            findings.append(("FAIL", "%s: 1a target runs the private copy"
                             % label, p))
            del ready["1a"]

    capsh = None
    if s.capsh:
        capsh = [s.capsh, "--drop=cap_sys_ptrace", "--", "-c",
                 'exec "$@"', "snakescope", s.plain]
    plain = [s.plain]
    yama = s.yama or 0
    no_files = [p for p in (os.path.realpath(interp), facts.get("libpython"))
                if p and unreadable(s, [p])]
    if no_files:
        # Known problem, left to the file-opening code (pystructs/locate.c,
        # attach/rootfs.c): the expected line names the file and the fix.
        exp2 = ["|".join(re.escape(p) for p in no_files),
                r"CAP_DAC_READ_SEARCH", r"\broot\b"]
        what2 = "2 user+CAP_SYS_PTRACE vs root's process [UNREADABLE: " \
            "%s]" % " or ".join(no_files)
    else:
        exp2 = None
        what2 = "2 user+CAP_SYS_PTRACE vs root's process"
    run_user = None if yama < 2 else [r"ptrace_scope"]
    scen = [
        Scenario("1a", "1a root vs user's process, private interpreter (%s)"
                 % private.note, plain, "1a", None, None, True),
        Scenario("1b", "1b root vs user's process, world-readable "
                 "interpreter (%s)" % public.note, plain, "user", None, None,
                 True),
        Scenario("2", what2,
                 as_user([s.capped]) if s.capped else None, "root",
                 exp2 if s.capped else s.why_capped,
                 None if s.capped else s.why_capped, False),
        Scenario("3a", "3a root without CAP_SYS_PTRACE vs user's process",
                 capsh, "user", CONTAINER if capsh else "capsh not found",
                 CONTAINER if capsh else "capsh not found", True),
        Scenario("3b", "3b root without CAP_SYS_PTRACE vs root's process",
                 capsh, "root", CONTAINER if capsh else "capsh not found",
                 None if capsh else "capsh not found", False),
        Scenario("4", "4 user without capabilities vs root's process",
                 as_user(plain), "root", OTHER_USER, run_user, False),
    ]
    if yama == 3:
        for sc in scen:
            if sc.actor is not None:
                sc.expect = sc.run_expect = [r"ptrace_scope is 3"]

    by_target = {}
    for sc in scen:
        by_target.setdefault(sc.target, []).append(sc)
    results = {}

    def worker(key):
        out = []
        results[key] = out
        t = ready.get(key)
        for sc in by_target.get(key, []):
            user = sc.key in ("2", "4")
            if t is None:
                out.append(("FAIL", "%s: %s: no target" % (label, sc.what),
                            None))
                continue
            run_scenario(h, s, sc, t, out, label,
                         actor_out_dir(h, s, workdir, user))

    def run_worker(sc):
        out = []
        results["run " + sc.key] = out
        # 3b's program is root's, with root's reduced set; 1a's the
        # private copy; the others' the user's.
        ip = private if sc.key == "1a" else (
            real if sc.key == "3b" else user_interp)
        run_case(h, s, sc, ip, out, label)

    threads = [threading.Thread(target=worker, args=(k,))
               for k in ("1a", "user", "root")]
    threads += [threading.Thread(target=run_worker, args=(sc,))
                for sc in scen]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for key in ["1a", "user", "root"] + ["run " + sc.key for sc in scen]:
        findings.extend(results.get(key, []))
