"""Live checks of the fully static binary (see live_test.py).

The binary to copy into a container that has nothing of ours: copied
alone into an empty directory and run from there with an empty
environment (`env -i ./snakescope ...`), against threads.py under one
interpreter:

  - it is static: no PT_INTERP program header, and ldd(1) finds nothing
    to load;
  - `dump --json PID` matches the target's own record, as any dump must,
    and leaves no thread stopped;
  - `dump --native PID` exits 0 and shows every thread of the record with
    its Python frames among C frames;
  - `top --once PID` exits 0, and its screen names the process and lists
    MainThread;
  - run as root, in a chroot holding only the binary and a /proc mounted
    in a private mount namespace (no /lib, /etc or /usr at all),
    `dump --json PID` still matches the record.

The binary: SNAKESCOPE_STATIC (`make check` sets it: snakescope-static,
or snakescope itself when configured with --enable-static-binary; empty,
with the reason in SNAKESCOPE_STATIC_WHY, when configure could not build
one, e.g. a sanitizer build).  Unset, SNAKESCOPE itself when static, else
snakescope-static beside it.  Without one the cases are skipped, with the
reason.  Standard library only (Python 3.6+).
"""
import json
import os
import re
import shutil
import subprocess

import elf

def static_binary(h):
    """(path, None) of the static binary to test, or (None, why not)."""
    path = os.environ.get("SNAKESCOPE_STATIC")
    if path is not None:
        if path:
            return path, None
        return None, os.environ.get("SNAKESCOPE_STATIC_WHY") or \
            "configure built none (SNAKESCOPE_STATIC is empty)"
    try:
        if elf.interp(h.SNAKESCOPE) == "":
            return h.SNAKESCOPE, None
    except (OSError, ValueError):
        pass
    beside = os.path.join(os.path.dirname(h.SNAKESCOPE), "snakescope-static")
    if os.path.isfile(beside):
        return beside, None
    return None, ("%s is dynamic and there is no snakescope-static beside it "
                  "(`make check` builds it; or configure "
                  "--enable-static-binary; or set SNAKESCOPE_STATIC)"
                  % h.SNAKESCOPE)


def static_problems(path):
    problems = []
    try:
        interp = elf.interp(path)
        if interp:
            problems.append("PT_INTERP names %s: a dynamic executable"
                            % interp)
    except (OSError, ValueError) as e:
        problems.append(str(e))
    if shutil.which("ldd") is None:
        return problems
    r = subprocess.run(["ldd", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = r.stdout.decode("utf-8", "replace").strip()
    if "not a dynamic executable" not in out and \
            "statically linked" not in out:
        problems.append("ldd says it loads libraries:\n" + out)
    return problems


def check_static(report, h, interp, workdir):
    """Checks of the static binary against threads.py under interp."""
    binary, why = static_binary(h)
    if binary is None:
        report.skip("static binary: none to test: %s" % why)
        return
    report.note("static binary: %s" % binary)
    if not os.path.isfile(binary):
        report.fail("static binary exists", ["%s not found" % binary])
        return
    report.check("static binary: no PT_INTERP, ldd finds nothing to load",
                 static_problems(binary))
    alone = os.path.join(workdir, "static-%d" % h.serial())
    os.mkdir(alone)
    shutil.copy2(binary, os.path.join(alone, "snakescope"))
    t = h.ready_target(report, interp, "threads.py", workdir,
                       "threads.py for the static binary")
    if t is None:
        return
    try:
        alone_cases(report, h, t, alone)
        chroot_case(report, h, t, binary, workdir)
    finally:
        t.kill()


def bare(h, alone, *args):
    """`env -i ./snakescope ARGS` in directory alone."""
    return h.run(["env", "-i", "./snakescope"] + [str(a) for a in args],
                 cwd=alone)


def json_problems(h, t, r):
    if r.timed_out or r.rc != h.EXIT_OK:
        return ["expected exit status 0"] + r.describe()
    try:
        doc = json.loads(r.out.decode("utf-8"))
    except ValueError as e:
        return ["output is not valid UTF-8 JSON: %s" % e,
                "stdout: %r" % r.out[:500]] + r.describe()
    problems = h.compare_dump(t.record, doc, ["--json"])
    if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
        problems.append("target left stopped after the dump: %s"
                        % h.task_states(t.pid))
    return problems


def native_problems(h, t, r):
    if r.timed_out or r.rc != h.EXIT_OK:
        return ["expected exit status 0"] + r.describe()
    out = r.out.decode("utf-8", "replace")
    problems = []
    blocks = re.split(r"^(?=Thread \d+ )", out, flags=re.M)
    for e in t.record["threads"]:
        block = [b for b in blocks
                 if b.startswith("Thread %d " % e["thread_id"])]
        who = "thread %r" % e["name"]
        if not block:
            problems.append("%s: no 'Thread %d' block"
                            % (who, e["thread_id"]))
            continue
        if not re.search(r"^\s+\(C\) \S", block[0], re.M):
            problems.append("%s: no C frame" % who)
        want = e["frames"][0]["function"] if e.get("frames") else None
        if want and not re.search(r'^\s+File "%s", line \d+, in %s$'
                                  % (re.escape(e["frames"][0]["filename"]),
                                     re.escape(want)), block[0], re.M):
            problems.append("%s: no Python frame 'File \"%s\", line N, "
                            "in %s'" % (who, e["frames"][0]["filename"],
                                        want))
    if problems:
        problems.append("output (first 60 lines):")
        problems.extend("  " + ln for ln in out.splitlines()[:60])
    return problems


def top_problems(t, r):
    screen = r.out.decode("utf-8", "replace")
    problems = []
    if r.timed_out or r.rc != 0:
        problems.extend(["expected exit status 0"] + r.describe())
    head = screen.splitlines()[0] if screen else ""
    if "pid %d" % t.pid not in head:
        problems.append("header %r should name pid %d" % (head, t.pid))
    if not re.search(r"^\s*%d\s+MainThread\b" % t.pid, screen, re.M):
        problems.append("no row for MainThread (TID %d)" % t.pid)
    if problems:
        problems.append("screen:\n" + screen)
    return problems


def alone_cases(report, h, t, alone):
    left = sorted(os.listdir(alone))
    if left != ["snakescope"]:
        report.fail("static binary alone in its directory",
                    ["the directory holds %r" % left])
        return
    report.check("static binary alone, env -i: dump --json matches "
                 "threads.py's record",
                 json_problems(h, t, bare(h, alone, "dump", "--json",
                                          t.pid)))
    report.check("static binary alone, env -i: dump --native shows every "
                 "thread's Python and C frames",
                 native_problems(h, t, bare(h, alone, "dump", "--native",
                                            t.pid)))
    report.check("static binary alone, env -i: top --once lists "
                 "MainThread",
                 top_problems(t, bare(h, alone, "top", "--once",
                                      "--refresh", "1", t.pid)))


def chroot_case(report, h, t, binary, workdir):
    what = "static binary in a chroot of itself and /proc, env -i: " \
        "dump --json matches threads.py's record"
    if os.geteuid() != 0:
        report.skip("%s: needs root" % what)
        return
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            report.skip("%s: %s not found" % (what, tool))
            return
    root = os.path.join(workdir, "chroot-%d" % h.serial())
    os.makedirs(os.path.join(root, "proc"))
    shutil.copy2(binary, os.path.join(root, "snakescope"))
    # /proc is mounted in a mount namespace of the command's own, so
    # nothing stays mounted, whatever happens to it.
    script = 'mount -t proc proc "$1/proc" && ' \
        'exec env -i "$(command -v chroot)" "$1" /snakescope dump --json "$2"'
    r = h.run(["unshare", "--mount", "--propagation", "private", "sh",
               "-c", script, "sh", root, str(t.pid)])
    report.check(what, json_problems(h, t, r))
