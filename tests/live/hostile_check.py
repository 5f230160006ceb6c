"""Live checks of hostile names and values (see live_test.py).

hostile_names.py gives threads, functions (co_name, co_qualname), file
names and string arguments terminal escape sequences, newlines, NULs, C1
controls, lone surrogates and a length of 1 MiB, and records the true
names.  From the record this module works out exactly what snakescope
must print, and checks:

  - dump --json and dump --json --locals parse as strict JSON, and every
    thread, frame and local matches the record once names are put the way
    snakescope documents: lone surrogates and NULs are kept (\\udcff,
    \\u0000), thread names are cut at 1024 characters and function and
    file names at 4096, a cut name ends in "..."; the locals' reprs are
    Python's, cut at the repr width;
  - the text dump is valid UTF-8 with no control character but newline, one
    header line per thread, each name escaped as documented (\\xNN);
  - record's folded stacks are one line per stack ("frames count"), with
    no control character; its JSON lines and speedscope file parse; its
    flame graph (--threads) is valid UTF-8 with no control character but
    newline, python3's XML parser takes it, and every box's title reads
    'FRAME (N samples, P%)' matching its data;
  - watch and top --once print no control character but newline;
  - the target is never left stopped.

hostile_tasks.py (3.8+) does the same to asyncio task names and the
coroutines they wait in: dump --json must match its record, and the text
dump's task tree must show each name escaped, on one line.

Standard library only (Python 3.6+).
"""
import gzip
import json
import os
import re

import record_check

from frames_check import escape_text as escaped
import fleet_check

THREAD_NAME_MAX = 1024   # pystructs/threads.c
TASK_NAME_MAX = 1024     # pystructs/asyncio.c
CODE_NAME_MAX = 4096     # pystructs/code.h (PY_CODE_NAME_MAX)
CUT = "..."

# Bytes a terminal acts on: C0 controls but newline, DEL, and (as UTF-8)
# the C1 controls U+0080..U+009F.
BAD_TEXT = re.compile(u"[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]")


def shown(s, limit):
    """What snakescope's JSON holds for the target's string s."""
    if s is None:
        return None
    if len(s) > limit:
        s = s[:limit] + CUT
    return s


def expected_record(record):
    """The record as snakescope must show it."""
    rec = json.loads(json.dumps(record))
    for t in rec.get("threads", ()):
        t["name"] = shown(t["name"], THREAD_NAME_MAX)
    for t in rec.get("tasks", ()):
        t["name"] = shown(t["name"], TASK_NAME_MAX)
    for t in rec.get("threads", []) + rec.get("tasks", []):
        for f in t.get("frames", []) + t.get("coroutine_stack", []):
            f["function"] = shown(f["function"], CODE_NAME_MAX)
            f["filename"] = shown(f["filename"], CODE_NAME_MAX)
    return rec


def text_problems(what, raw, threads=None):
    """Output that a terminal would act on; threads: the expected thread
    names (as JSON shows them), each of which must head one line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return ["%s: not valid UTF-8: %s" % (what, e)]
    problems = []
    bad = BAD_TEXT.search(text)
    if bad:
        at = bad.start()
        problems.append("%s: control character %r at offset %d: %r"
                        % (what, bad.group(), at, text[max(0, at - 40):
                                                       at + 40]))
    if threads is not None:
        heads = [ln for ln in text.splitlines() if ln.startswith("Thread ")]
        if len(heads) != len(threads):
            problems.append("%s: %d thread header lines, expected %d"
                            % (what, len(heads), len(threads)))
        for name in threads:
            want = '"%s"' % escaped(name)
            if not any(want in ln for ln in heads):
                problems.append("%s: no header line with the name %s"
                                % (what, want[:200]))
    return problems


def json_doc(what, res, h):
    if res.timed_out or res.rc != h.EXIT_OK:
        return None, ["%s: expected exit status 0" % what] + res.describe()
    try:
        return json.loads(res.out.decode("utf-8")), []
    except ValueError as e:
        return None, ["%s: not strict JSON: %s" % (what, e)]


def pprof_problems(h, what, path, data):
    """A gzip stream whose every string is valid UTF-8 without control
    characters (the names escaped), read by Go's reader when present."""
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError) as e:
        return ["%s: not gzip: %s" % (what, e)]
    go = fleet_check.find_go()
    if go is None:
        return []
    res = h.run([go, "tool", "pprof", "-raw", path], timeout=60,
                env=dict(h.TARGET_ENV, HOME=os.path.dirname(path)))
    if res.timed_out or res.rc != 0:
        return ["%s: go tool pprof -raw refused it (%d bytes)"
                % (what, len(raw))] + res.describe()
    return text_problems(what + " (go tool pprof -raw)", res.out)


def record_problems(h, pid, workdir):
    problems = []
    base = os.path.join(workdir, "hostile-%d" % h.serial())
    for fmt in ("folded", "json", "speedscope", "flamegraph",
                "chrometrace", "pprof"):
        path = "%s.%s" % (base, fmt)
        # a flame graph: a section per thread, labelled with its name
        res = h.snakescope("record", pid, "--duration", "0.3", "--idle",
                           "--format", fmt, "-o", path,
                           *(["--threads"] if fmt == "flamegraph" else []))
        what = "record --format %s" % fmt
        if res.timed_out or res.rc != h.EXIT_OK:
            problems += ["%s: expected exit status 0" % what] + \
                res.describe()
            continue
        with open(path, "rb") as f:
            data = f.read()
        if fmt == "folded":
            problems += text_problems(what, data)
            for ln in data.decode("utf-8", "replace").splitlines():
                if not re.match(r"^\S.* \d+$", ln):
                    problems.append("%s: not 'frames count': %r"
                                    % (what, ln[:200]))
                    break
        elif fmt == "flamegraph":
            problems += text_problems(what, data)
            problems += record_check.parse_svg(path)[1]
        elif fmt == "pprof":
            problems += pprof_problems(h, what, path, data)
        elif fmt == "json":
            for ln in data.splitlines():
                try:
                    json.loads(ln.decode("utf-8"))
                except ValueError as e:
                    problems.append("%s: a line is not JSON: %s" % (what, e))
                    break
        else:
            try:
                json.loads(data.decode("utf-8"))
            except ValueError as e:
                problems.append("%s: not JSON: %s" % (what, e))
    return problems


def check_hostile(report, interp, version, workdir, h):
    label = "%s %s: hostile_names.py" % (version, interp)
    if h.major_minor(version) < (3, 6):
        report.skip(label + ": needs Python 3 (2.7's json cannot record "
                    "names that are not UTF-8)")
        return
    t = h.ready_target(report, interp, "hostile_names.py", workdir, label)
    if t is None:
        return
    try:
        rec = expected_record(t.record)
        names = [th["name"] for th in rec["threads"]]
        for opts in (["--json"], ["--json", "--locals"]):
            what = "%s: dump %s" % (label, " ".join(opts))
            doc, problems = json_doc(what, h.snakescope("dump", *(opts +
                                                                  [t.pid])), h)
            if doc is not None:
                problems = h.compare_dump(rec, doc, opts)
            report.check(what, problems)

        res = h.snakescope("dump", t.pid)
        what = "%s: dump (text): escaped, one line per header" % label
        if res.timed_out or res.rc != h.EXIT_OK:
            report.check(what, ["expected exit status 0"] + res.describe())
        else:
            report.check(what, text_problems("dump", res.out, names))

        res = h.snakescope("watch", t.pid, "--every", "0.1", "--count", "1")
        what = "%s: watch: escaped" % label
        if res.timed_out or res.rc != h.EXIT_OK:
            report.check(what, ["expected exit status 0"] + res.describe())
        else:
            report.check(what, text_problems("watch", res.out, names))

        res = h.snakescope("top", t.pid, "--once")
        what = "%s: top --once: escaped" % label
        if res.timed_out or res.rc != h.EXIT_OK:
            report.check(what, ["expected exit status 0"] + res.describe())
        else:
            report.check(what, text_problems("top --once", res.out))

        problems = record_problems(h, t.pid, workdir)
        if not h.wait_until(lambda: not h.stopped_tasks(t.pid), 1.0):
            problems.append("target left stopped: %s" % h.task_states(t.pid))
        report.check("%s: record (folded, json, speedscope, flamegraph, "
                     "chrometrace, pprof): one line per stack, parses"
                     % label, problems)
    finally:
        t.kill()
    if h.major_minor(version) >= (3, 8):
        check_hostile_tasks(report, interp, version, workdir, h)


def check_hostile_tasks(report, interp, version, workdir, h):
    label = "%s %s: hostile_tasks.py" % (version, interp)
    t = h.ready_target(report, interp, "hostile_tasks.py", workdir, label)
    if t is None:
        return
    try:
        rec = expected_record(t.record)
        what = "%s: dump --json" % label
        doc, problems = json_doc(what, h.snakescope("dump", "--json",
                                                    t.pid), h)
        if doc is not None:
            problems = h.compare_dump(rec, doc)
        report.check(what, problems)
        res = h.snakescope("dump", t.pid)
        what = "%s: dump (text): escaped" % label
        if res.timed_out or res.rc != h.EXIT_OK:
            report.check(what, ["expected exit status 0"] + res.describe())
        else:
            problems = text_problems("dump", res.out)
            text = res.out.decode("utf-8", "replace")
            for task in rec["tasks"]:
                if "(T) %s " % escaped(task["name"]) not in text:
                    problems.append("no task line for %s"
                                    % escaped(task["name"])[:200])
            report.check(what, problems)
    finally:
        t.kill()
