"""Live checks of the container boundary (see live_test.py).

For one interpreter:

  - boundary.py, in a mount namespace of its own (`unshare -m`), has code
    whose file name reaches, through an absolute symbolic link, a file that
    reads differently in its namespace and on the host: the text dump must
    show the target's line (its record says what it reads there), never
    the host's.  Code named after a FIFO with no writer, /dev/zero and a
    socket: the dump finishes promptly and says "(source unreadable)".  It
    also maps a library and then mounts another file over that path in its
    namespace: `dump --native` must name the mapped library's function,
    never the other file's.  Every dump is also taken without the
    capability that opens /proc/PID/map_files (CAP_CHECKPOINT_RESTORE and
    CAP_SYS_ADMIN dropped with capsh), where the files are found by path
    and kept by device and inode.
  - threads.py run by a copy of the interpreter chroot'ed into a directory
    of hard links (the maps name its files by their paths on the host, its
    code by the paths inside): `dump --json` must match its record, with
    and without map_files.

Needs root, unshare(1), chroot(8), capsh(1) (libcap2-bin) and a C
compiler; each case without them is skipped by name.  Standard library
only (Python 3.6+).
"""
import json
import os
import shutil
import socket
import subprocess

import elf

HOST_LINE = "# host-view-line: the host's file, which a dump must not show"
TARGET_LINE = "# target-view-line: the file as the target sees it"
NO_MAP_FILES = "cap_sys_admin,cap_checkpoint_restore"
PROMPT = 10.0  # seconds a dump of these targets may take, at most

_built = {}


def build_side_libs(h, workdir):
    """(mapped, other) shared objects built from _side.c, or (None, why)."""
    if "libs" in _built:
        return _built["libs"]
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        _built["libs"] = (None, "no C compiler")
        return _built["libs"]
    d = os.path.join(workdir, "side-libs")
    os.makedirs(d)
    out = []
    for side in ("mapped", "other"):
        so = os.path.join(d, "lib%s.so" % side)
        res = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-g",
                              "-DSIDE=%s" % side, "-o", so,
                              os.path.join(h.TARGETS, "_side.c")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if res.returncode != 0:
            _built["libs"] = (None, "cc: " + res.stdout.decode(
                "utf-8", "replace"))
            return _built["libs"]
        out.append(so)
    _built["libs"] = (tuple(out), None)
    return _built["libs"]


def boundary_dir(h, workdir):
    """DIR for boundary.py: link -> DIR/etcdir (absolute), etcdir/name (the
    host's view), tview (bind-mounted over it in the target's namespace),
    a FIFO, a socket, and the library the target maps."""
    d = os.path.join(workdir, "boundary-%d" % h.serial())
    os.makedirs(os.path.join(d, "etcdir"))
    for name, line in (("etcdir/name", HOST_LINE), ("tview", TARGET_LINE)):
        with open(os.path.join(d, name), "w") as f:
            f.write("def park_named(ev):\n%s\n" % line)
    os.symlink(os.path.join(d, "etcdir"), os.path.join(d, "link"))
    os.mkfifo(os.path.join(d, "fifo"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(d, "sock"))
    s.close()
    return d


def without_map_files(h, argv):
    """argv (SNAKESCOPE ...) run without the capabilities map_files needs."""
    return ["capsh", "--drop=" + NO_MAP_FILES, "--shell=" + argv[0],
            "--"] + argv[1:]


def source_after(out, filename, line):
    """The line a text dump prints under the frame at filename:line."""
    lines = out.splitlines()
    head = 'File "%s", line %d,' % (filename, line)
    for i, text in enumerate(lines):
        if head in text and i + 1 < len(lines):
            return lines[i + 1].strip()
    return None


def text_dump_problems(res, d, record):
    if res.timed_out or res.rc != 0:
        return ["expected exit status 0"] + res.describe()
    problems = []
    if res.seconds > PROMPT:
        problems.append("took %.1f s (FIFO, /dev/zero or socket read?)"
                        % res.seconds)
    out = res.out.decode("utf-8", "replace")
    via = os.path.join(d, "link", "name")
    want = record["source_lines"][via]
    if want != TARGET_LINE:
        problems.append("the target itself read %r at %s:2 (the bind mount "
                        "is not in place?)" % (want, via))
    got = source_after(out, via, 2)
    if got != want:
        problems.append("source of %s line 2: expected the target's %r, "
                        "got %r" % (via, want, got))
    if "host-view-line" in out:
        problems.append("the dump shows the host's file")
    for name in (os.path.join(d, "fifo"), "/dev/zero",
                 os.path.join(d, "sock")):
        got = source_after(out, name, 2)
        if got != "(source unreadable)":
            problems.append("source of %s line 2: expected '(source "
                            "unreadable)', got %r" % (name, got))
    return problems


def native_problems(res):
    if res.timed_out or res.rc != 0:
        return ["expected exit status 0"] + res.describe()
    out = res.out.decode("utf-8", "replace")
    problems = []
    if "other_side_wait" in out:
        problems.append("the dump names other_side_wait: the file now at "
                        "the library's path, not the one mapped")
    return problems


def check_namespace(report, interp, version, workdir, h, cap_ok):
    label = "%s %s: boundary.py in its own mount namespace" % (version,
                                                                interp)
    libs, why = build_side_libs(h, workdir)
    if libs is None:
        report.skip(label + ": library: %s" % why)
        return
    d = boundary_dir(h, workdir)
    lib = os.path.join(d, "libside.so")
    shutil.copy2(libs[0], lib)
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
           "sh", os.path.join(d, "tview"), os.path.join(d, "etcdir", "name"),
           interp] + h.TARGET_FLAGS + [os.path.join(h.TARGETS,
                                                      "boundary.py")]
    t = h.ready_target(report, interp, "boundary.py", workdir, label,
                       extra=[d, lib, libs[1]], cmd=cmd)
    if t is None:
        return
    try:
        res = h.snakescope("dump", "--json", t.pid)
        if res.timed_out or res.rc != 0:
            problems = ["expected exit status 0"] + res.describe()
        else:
            problems = h.compare_dump(t.record, json.loads(
                res.out.decode("utf-8")))
        report.check(label + ": dump --json matches its record", problems)
        ways = [("", lambda argv: argv)]
        if cap_ok:
            ways.append((" (no map_files: by device and inode)",
                         lambda argv: without_map_files(h, argv)))
        else:
            report.skip(label + ": without map_files: capsh not found")
        for how, wrap in ways:
            res = h.run(wrap([h.SNAKESCOPE, "dump", str(t.pid)]))
            report.check(label + ": dump shows the target's file through "
                         "its symbolic link, and reads no FIFO, device or "
                         "socket" + how, text_dump_problems(res, d,
                                                            t.record))
            res = h.run(wrap([h.SNAKESCOPE, "dump", "--native",
                              str(t.pid)]))
            problems = native_problems(res)
            out = res.out.decode("utf-8", "replace")
            # With map_files the library is read whole; without it, by
            # its path in our root, where it is the mapped file too.
            if not problems and "mapped_side_wait" not in out:
                problems.append("no frame in mapped_side_wait:\n"
                                + out[-3000:])
            report.check(label + ": dump --native names the mapped "
                         "library's function" + how, problems)
        if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
            report.fail(label + ": target left stopped",
                        [h.task_states(t.pid)])
    finally:
        t.kill()


JAIL_CODE = r"""
import json, os, sys, sysconfig, threading, dis, platform, ctypes
try:
    import queue
except ImportError:
    import Queue
try:  # pthread_exit loads it when a thread ends (glibc before 2.34)
    ctypes.CDLL('libgcc_s.so.1')
except OSError:
    pass
maps = [l.split(None, 5) for l in open('/proc/self/maps').read().split('\n')]
files = sorted(set(m[5] for m in maps if len(m) == 6 and m[5].startswith('/')
                   and os.path.isfile(m[5])))
paths = sysconfig.get_paths()
sys.stdout.write(json.dumps({
    'executable': os.path.realpath(sys.executable), 'files': files,
    'trees': sorted(set(os.path.realpath(paths[k])
                        for k in ('stdlib', 'platstdlib')))}))
"""


def link_into(jail, path):
    dst = jail + path
    if os.path.lexists(dst):
        return
    if not os.path.isdir(os.path.dirname(dst)):
        os.makedirs(os.path.dirname(dst))
    try:
        os.link(path, dst)
    except OSError:
        shutil.copy2(path, dst)


def mirror(jail, path, depth=0):
    """Make jail + path resolve as path does here: the same symbolic links
    on the way, then a hard link to the file."""
    parts = path.strip("/").split("/")
    cur = ""
    for i, part in enumerate(parts):
        cur += "/" + part
        if os.path.islink(cur) and depth < 40:
            target = os.readlink(cur)
            if not os.path.lexists(jail + cur):
                os.makedirs(os.path.dirname(jail + cur), exist_ok=True)
                os.symlink(target, jail + cur)
            base = "/" if target.startswith("/") else os.path.dirname(cur)
            rest = "/".join(parts[i + 1:])
            return mirror(jail, os.path.normpath(
                os.path.join(base, target, rest)), depth + 1)
    link_into(jail, path)


def make_jail(h, interp, workdir):
    """A directory of hard links holding what the interpreter needs to run
    threads.py, at the same paths inside: (jail, exe) or raise."""
    out = subprocess.run([interp] + h.TARGET_FLAGS + ["-c", JAIL_CODE],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30, env=h.TARGET_ENV)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode("utf-8", "replace")[-500:])
    facts = json.loads(out.stdout.decode("utf-8"))
    jail = os.path.join(workdir, "jail-%d" % h.serial())
    os.makedirs(jail)
    for tree in facts["trees"]:
        if os.path.isdir(jail + tree):
            continue
        os.makedirs(os.path.dirname(jail + tree), exist_ok=True)
        res = subprocess.run(["cp", "-al", tree, jail + tree],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if res.returncode != 0:
            raise RuntimeError("cp -al %s: %s" % (tree, res.stdout.decode(
                "utf-8", "replace")[-300:]))
    files = set(facts["files"] + [facts["executable"]])
    for path in files:
        link_into(jail, path)
    # The loader asks for a library by its soname (libz.so.1), a link to
    # the file the map names (libz.so.1.2.13).
    for d in set(os.path.dirname(p) for p in files):
        for name in os.listdir(d):
            path = os.path.join(d, name)
            if os.path.islink(path) and os.path.realpath(path) in files \
                    and not os.path.lexists(jail + path):
                os.symlink(os.readlink(path), jail + path)
    loader = elf.interp(facts["executable"])
    if loader:
        mirror(jail, loader)
    os.makedirs(jail + "/targets")
    for name in ("threads.py", "_record.py"):
        shutil.copy2(os.path.join(h.TARGETS, name), jail + "/targets/")
    # The record is written at the harness's path, inside the jail.
    os.makedirs(jail + workdir, exist_ok=True)
    return jail, facts["executable"]


def check_chroot(report, interp, version, workdir, h, cap_ok):
    label = "%s %s: a chroot'ed copy runs threads.py" % (version, interp)
    try:
        jail, exe = make_jail(h, interp, workdir)
    except (RuntimeError, OSError, ValueError) as e:
        report.fail(label, ["cannot build the jail: %s" % e])
        return
    cmd = ["chroot", jail, exe] + h.TARGET_FLAGS + ["/targets/threads.py"]
    t = h.Target(interp, "threads.py", workdir, cmd=cmd)
    t.record_path = jail + t.record_path
    try:
        try:
            t.ready()
        except h.TargetError as e:
            report.fail(label, ["target not ready: %s" % e])
            return
        ways = [("", lambda argv: argv)]
        if cap_ok:
            ways.append((" (no map_files: by device and inode)",
                         lambda argv: without_map_files(h, argv)))
        else:
            report.skip(label + ": without map_files: capsh not found")
        for how, wrap in ways:
            res = h.run(wrap([h.SNAKESCOPE, "dump", "--json", str(t.pid)]))
            if res.timed_out or res.rc != 0:
                problems = ["expected exit status 0"] + res.describe()
            else:
                problems = h.compare_dump(t.record, json.loads(
                    res.out.decode("utf-8")))
            if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
                problems.append("target left stopped: %s"
                                % h.task_states(t.pid))
            report.check(label + ": dump --json matches its record" + how,
                         problems)
    finally:
        t.kill()
        shutil.rmtree(jail, ignore_errors=True)


def check_boundary(report, interp, version, workdir, h):
    what = "%s %s: container boundary" % (version, interp)
    if os.geteuid() != 0:
        report.skip(what + ": needs root")
        return
    missing = [c for c in ("unshare", "chroot") if shutil.which(c) is None]
    if missing:
        report.skip(what + ": %s not found" % ", ".join(missing))
        return
    cap_ok = shutil.which("capsh") is not None
    check_namespace(report, interp, version, workdir, h, cap_ok)
    check_chroot(report, interp, version, workdir, h, cap_ok)
