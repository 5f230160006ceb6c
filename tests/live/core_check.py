"""Live checks of core files (see live_test.py).

For one interpreter:

  - gcore: threads.py parks and records itself; `gcore` writes a core of
    it, and the process is killed.  `dump --core CORE --json` must match
    the record as a dump of the live process does (threads, frames, the
    lock verdict), name the core in "core" with no signal; the text dump
    shows the core's header and the source lines; `dump --core --native`
    keeps the Python frames and adds C frames; `deadlock --core` exits 7
    as threads.py's likely hang makes it.
  - compressed: the same core compressed with zstd (and, for the first
    interpreter, lz4, xz and gzip) reads the same, and says how it was
    compressed.
  - another machine: with an empty --sysroot, the files are found by
    build-id in a --lib-path directory that holds copies under other
    names; a --lib-path that holds another interpreter's libpython under
    the same name is refused, naming the file and both build-ids.
  - a crash: crash.py, run with RLIMIT_CORE raised in a directory of its
    own, has a thread read address 0; the kernel's core must say
    SIGSEGV, address 0 and that thread, the parked threads must match the
    record, and the crashed thread's Python stack must end in
    ctypes.string_at() called from wait_then_crash().

Needs root (gcore attaches with ptrace) and gdb's gcore; each case
without them is skipped by name.  Standard library only (Python 3.6+).
"""
import json
import os
import re
import resource
import signal
import shutil
import subprocess
import time

import elf

COMPRESSORS = [("zstd", ["zstd", "-q", "-1"], ".zst"),
               ("lz4", ["lz4", "-q", "-1"], ".lz4"),
               ("xz", ["xz", "-k", "-1", "-T1"], ".xz"),
               ("gzip", ["gzip", "-k", "-1"], ".gz")]

_first = [True]


def gcore(h, pid, workdir):
    """Path of a core of pid written by gcore, or raise RuntimeError."""
    prefix = os.path.join(workdir, "core-%d" % h.serial())
    res = subprocess.run(["gcore", "-o", prefix, str(pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=120)
    path = "%s.%d" % (prefix, pid)
    if res.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("gcore failed: %s" % res.stdout.decode(
            "utf-8", "replace")[-500:])
    return path


def guarded_stacks(pid):
    """Do pid's thread stacks carry guard regions (VmFlags gu:
    MADV_GUARD_INSTALL, glibc 2.42+)?  Debian 12's gdb 13 writes such
    stacks into a gcore as zeros."""
    try:
        with open("/proc/%d/smaps" % pid) as f:
            text = f.read()
    except OSError:
        return False
    return re.search(r"^VmFlags:.* gu( |$)", text, re.M) is not None


def kernel_core(t, d):
    """The kernel's core of target t (started in directory d), made by
    SIGSEGV with RLIMIT_CORE raised: its path, or raise RuntimeError."""
    resource.prlimit(t.pid, resource.RLIMIT_CORE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    os.kill(t.pid, signal.SIGSEGV)
    try:
        t.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise RuntimeError("the target did not die of SIGSEGV")
    cores = [n for n in os.listdir(d) if n == "core" or
             n.startswith("core.")]
    if not cores:
        raise RuntimeError("no core in %s (status %s)" % (d,
                                                           t.proc.returncode))
    return os.path.join(d, cores[0])


def dump_json(h, args):
    res = h.snakescope(*args, timeout=120)
    if res.timed_out or res.rc != h.EXIT_OK:
        return None, ["expected exit status 0"] + res.describe()
    try:
        return json.loads(res.out.decode("utf-8")), []
    except ValueError as e:
        return None, ["not JSON: %s" % e]


def core_problems(doc, path, compression, signal):
    core = doc.get("core")
    if not isinstance(core, dict):
        return ["\"core\": expected an object, got %r" % (core,)]
    problems = []
    if core.get("file") != path:
        problems.append("core.file: expected %r, got %r"
                        % (path, core.get("file")))
    if core.get("compression") != compression:
        problems.append("core.compression: expected %r, got %r"
                        % (compression, core.get("compression")))
    if signal is None and core.get("signal") is not None:
        problems.append("core.signal: expected null (gcore), got %r"
                        % (core.get("signal"),))
    if signal is not None and (core.get("signal") or {}).get("name") != \
            signal:
        problems.append("core.signal: expected %s, got %r"
                        % (signal, core.get("signal")))
    return problems


UNCHECKED = "the core does not hold the build-id of"


def without_core(doc):
    """A core's dump compared as a live one: 'core' set aside, and the
    warning that a file's build-id could not be checked (a binary whose
    build-id note lies past its first page: the dumpers keep only that
    page of a file's read-only mappings)."""
    doc = dict(doc)
    doc.pop("core", None)
    py = dict(doc.get("python") or {})
    if UNCHECKED in (py.get("warning") or ""):
        py["warning"] = None
    doc["python"] = py
    return doc


def python_only(doc):
    doc = json.loads(json.dumps(doc))
    for t in doc.get("threads") or []:
        t["frames"] = [f for f in t.get("frames") or []
                       if f.get("kind") != "native"]
    doc["threads"] = [t for t in doc.get("threads") or []
                      if t.get("thread_id") is not None]
    return doc


def check_gcore(report, interp, version, workdir, h):
    label = "%s %s: core file (gcore) of threads.py" % (version, interp)
    d = os.path.join(workdir, "gcore-%d" % h.serial())
    os.makedirs(d)
    # One malloc arena: with one per thread (64 MiB of address space each)
    # gdb writes a core of about a gigabyte, and compressing it took most
    # of this check's time.
    t = h.ready_target(report, interp, "threads.py", workdir, label, cwd=d,
                       env=dict(h.TARGET_ENV, MALLOC_ARENA_MAX="1"))
    if t is None:
        return
    sig = None
    try:
        if guarded_stacks(t.pid):
            report.skip(label + ": this machine's gdb writes thread stacks "
                        "with guard regions (VmFlags gu, glibc 2.42+) as "
                        "zeros; the same checks run on the kernel's core")
            label = "%s %s: core file (kernel, SIGSEGV) of threads.py" % (
                version, interp)
            path, sig = kernel_core(t, d), "SIGSEGV"
        else:
            path = gcore(h, t.pid, d)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        report.fail(label, [str(e)])
        t.kill()
        return
    t.kill()
    record = t.record
    try:
        doc, problems = dump_json(h, ["dump", "--core", path, "--json"])
        if doc is not None:
            problems = core_problems(doc, path, None, sig) + \
                h.compare_dump(record, without_core(doc))
        report.check(label + ": dump --core --json matches its record",
                     problems)

        res = h.snakescope("dump", "--core", path, timeout=120)
        out = res.out.decode("utf-8", "replace")
        problems = [] if res.rc == 0 and not res.timed_out else \
            ["expected exit status 0"] + res.describe()
        if not problems:
            if not out.startswith("Core file %s" % path):
                problems.append("no 'Core file' header: %r" % out[:200])
            problems += h.frames_check.text_frame_problems(record, out)
        report.check(label + ": dump --core (text): header, frames and "
                     "source lines", problems)

        doc, problems = dump_json(h, ["dump", "--core", path, "--json",
                                      "--native"])
        if doc is not None:
            if not any(f.get("kind") == "native"
                       for th in doc.get("threads") or []
                       for f in th.get("frames") or []):
                problems.append("--native: no C frame")
            problems += h.compare_dump(record,
                                       without_core(python_only(doc)))
        report.check(label + ": dump --core --native: C frames, the same "
                     "Python frames", problems)

        res = h.snakescope("deadlock", "--core", path, timeout=120)
        want = {"none": 0, "deadlock": 6, "likely_hang": 7}[
            record.get("verdict") or "none"]
        report.check(label + ": deadlock --core exits %d" % want,
                     [] if res.rc == want else
                     ["expected exit status %d" % want] + res.describe())

        check_compressed(report, label, path, record, sig, h)
        check_elsewhere(report, label, path, record, workdir, h)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_compressed(report, label, path, record, sig, h):
    for name, argv, ext in COMPRESSORS[:None if _first[0] else 1]:
        what = "%s: compressed with %s" % (label, name)
        if shutil.which(argv[0]) is None:
            report.skip(what + ": %s not found" % argv[0])
            continue
        out = path + ext
        with open(path, "rb") as src, open(out, "wb") as dst:
            res = subprocess.run(argv + ["-c"], stdin=src, stdout=dst,
                                 stderr=subprocess.PIPE)
        if res.returncode != 0:
            report.fail(what, ["%s failed: %s" % (name, res.stderr)])
            continue
        doc, problems = dump_json(h, ["dump", "--core", out, "--json"])
        if doc is not None:
            problems = core_problems(doc, out, name, sig) + \
                h.compare_dump(record, without_core(doc))
        report.check(what, problems)
        os.unlink(out)
    _first[0] = False


def mapped_elf_files(doc):
    """The executable and the libpython the dump names."""
    py = doc.get("python") or {}
    return [p for p in (py.get("executable"), py.get("libpython")) if p]


def check_elsewhere(report, label, path, record, workdir, h):
    what = label + ": another machine (empty --sysroot): files found by " \
        "build-id in --lib-path"
    doc, problems = dump_json(h, ["dump", "--core", path, "--json"])
    if doc is None:
        report.fail(what, problems)
        return
    sysroot = os.path.join(workdir, "sysroot-%d" % h.serial())
    libs = os.path.join(workdir, "libs-%d" % h.serial())
    os.makedirs(sysroot)
    os.makedirs(libs)
    files = mapped_elf_files(doc)
    if not all(elf.note_in_first_page(f) for f in files):
        report.skip(what + " (and the build-id refusal): the build-id "
                    "note of %s lies past its first page, which is all a "
                    "core keeps of it" % " or ".join(files))
        return
    for i, f in enumerate(files):
        # Other names: only the build-id can find them.
        shutil.copy(f, os.path.join(libs, "copy-%d-%s" % (i,
                                                          os.path.basename(f))))
    doc, problems = dump_json(h, ["dump", "--core", path, "--json",
                                  "--sysroot", sysroot, "--lib-path", libs])
    if doc is not None:
        problems = h.compare_dump(record, without_core(doc)) if \
            doc.get("python", {}).get("warning") is None else \
            ["warning: %r" % doc["python"]["warning"]]
        # Source lines come from the sysroot: there are none.
    report.check(what, problems)

    what = label + ": a file with another build-id is refused, named"
    wrong = os.path.join(workdir, "wrong-%d" % h.serial())
    os.makedirs(wrong)
    runtime = files[-1]
    other = "/bin/true" if runtime != "/bin/true" else "/bin/false"
    shutil.copy(other, os.path.join(wrong, os.path.basename(runtime)))
    res = h.snakescope("dump", "--core", path, "--sysroot", sysroot,
                       "--lib-path", wrong, timeout=120)
    problems = h.expect_exit(res, [1, h.EXIT_NOTPY],
                             [os.path.basename(runtime), "build-id"])
    report.check(what, problems)
    shutil.rmtree(sysroot, ignore_errors=True)
    shutil.rmtree(libs, ignore_errors=True)
    shutil.rmtree(wrong, ignore_errors=True)


def raise_core_limit():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY,
                                              resource.RLIM_INFINITY))
    os.setsid()


def check_crash(report, interp, version, workdir, h):
    label = "%s %s: kernel core of crash.py (SIGSEGV)" % (version, interp)
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
    except OSError:
        pattern = ""
    if pattern.startswith("|") or "/" in pattern:
        report.skip(label + ": core_pattern %r does not write a core in "
                    "the process's directory" % pattern)
        return
    d = os.path.join(workdir, "crash-%d" % h.serial())
    os.makedirs(d)
    record_path = os.path.join(d, "record.json")
    argv = [interp] + h.TARGET_FLAGS + [os.path.join(h.TARGETS, "crash.py"),
                                        record_path]
    p = subprocess.Popen(argv, cwd=d, env=h.TARGET_ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=raise_core_limit)
    try:
        deadline = time.monotonic() + h.RECORD_TIMEOUT
        while not os.path.exists(record_path):
            if p.poll() is not None or time.monotonic() > deadline:
                report.fail(label, ["no record: %s" % p.stderr.read()[-500:]
                                    if p.poll() is not None else
                                    "no record in time"])
                return
            time.sleep(0.01)
        with open(record_path) as f:
            record = json.load(f)
        # The recorder thread exits after writing the record; a crash
        # before it has gone would put it in the core.
        tid = record.get("recorder_native_id")
        if tid is not None and not h.wait_until(
                lambda: not os.path.exists("/proc/%d/task/%d" % (p.pid, tid)),
                max(1.0, deadline - time.monotonic())):
            report.fail(label, ["the recorder thread did not exit"])
            return
        open(record_path + ".go", "w").close()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
    cores = [n for n in os.listdir(d) if n == "core" or
             n.startswith("core.")]
    if not cores:
        report.fail(label, ["no core written in %s (exit %s; core_pattern "
                            "%r, RLIMIT_CORE raised)" % (d, p.returncode,
                                                         pattern)])
        return
    path = os.path.join(d, cores[0])
    crasher = [t for t in record["threads"] if t["name"] == "crasher"][0]
    parked = dict(record, threads=[t for t in record["threads"]
                                   if t["name"] != "crasher"])
    doc, problems = dump_json(h, ["dump", "--core", path, "--json"])
    if doc is not None:
        sig = (doc.get("core") or {}).get("signal") or {}
        if sig.get("name") != "SIGSEGV" or sig.get("address") != 0:
            problems.append("core.signal: expected SIGSEGV at address 0, "
                            "got %r" % (sig,))
        if crasher["native_id"] is not None and \
                sig.get("thread") != crasher["native_id"]:
            problems.append("core.signal.thread: expected the crasher's "
                            "%r, got %r" % (crasher["native_id"],
                                            sig.get("thread")))
        threads = doc.get("threads") or []
        crashed = [t for t in threads
                   if t.get("thread_id") == crasher["thread_id"]]
        if not crashed:
            problems.append("the crashed thread is not in the dump")
        else:
            names = [f.get("function") for f in crashed[0].get("frames")]
            if names[:2] != ["string_at", "wait_then_crash"]:
                problems.append("the crashed thread's stack: expected "
                                "string_at < wait_then_crash, got %r"
                                % names[:4])
        other = dict(doc, threads=[t for t in threads
                                   if t.get("thread_id") !=
                                   crasher["thread_id"]])
        problems += h.compare_dump(parked, without_core(other))
    report.check(label, problems)
    shutil.rmtree(d, ignore_errors=True)


def check_core(report, interp, version, workdir, h):
    what = "%s %s: core files" % (version, interp)
    if os.geteuid() != 0:
        report.skip(what + ": needs root")
        return
    if shutil.which("gcore") is None:
        report.skip(what + ": gcore (gdb) not found")
    else:
        check_gcore(report, interp, version, workdir, h)
    check_crash(report, interp, version, workdir, h)
