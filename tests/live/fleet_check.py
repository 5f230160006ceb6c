"""The live cases of record's fleet formats (pprof, Chrome traces) and of
its frame labels, against tests/targets/profile_mix.py (a known mix of
hot and cold code that measures itself; see record_check.py).

check_fleet(report, interp, version, workdir, harness)
    harness: the live_test module, as for record_check.

    pprof        record --format pprof --rate 100 --duration 3, read with
                 Go's own reader (`go tool pprof`; SKIP "go tool pprof not
                 installed" without it): -top's flat samples of hot and cold
                 give the same hot/cold fraction as the target's own over
                 the window, within record_check's tolerance (and its
                 window logic: a stalled window dropped, a missed one
                 recorded again and pooled); -raw gives back every stack
                 with profile_mix's shape (<module>, main, descend..., loop,
                 hot|cold; files and lines as record_check checks folded
                 stacks), its leaf counts equal to -top's, and labels
                 thread_name, thread_id and pid on every sample (the main
                 thread's: MainThread, its TID, the target's PID)
    chrometrace  record --format chrometrace --rate 100 --duration 3: valid
                 JSON, a process_name and a thread_name event per thread,
                 each thread's begin/end events balanced, nested and in
                 time order, the main thread's stacks profile_mix's, and
                 the time spent in hot against cold within the tolerance
    labels       record --idle --format json: file names under the
                 standard library shown short (threading.py) and, with
                 --full-filenames, in full (the short name being the part
                 after lib/pythonX.Y/), profile_mix's own file in full in
                 both; --function: each frame at its function's first line;
                 --nolineno: no line at all

The target is not niced (its fractions are measured); the cases run one
after the other on it.  About 10 s per interpreter.
"""
import json
import os
import re
import shutil
import time
import traceback

import record_check as rc

GO_FALLBACK = "/usr/lib/go/bin/go"
GO_TIMEOUT = 60.0

# `go tool pprof -raw`: a sample line ("COUNT WALL: LOC LOC ..."), its
# labels ("key:[value]"), a location line ("ID: 0xADDR M=N NAME FILE:LINE
# s=START(SYSTEM)")
RAW_SAMPLE_RE = re.compile(r"^\s+(\d+)\s+(\d+):((?: \d+)+)\s*$")
RAW_LABEL_RE = re.compile(r"(\w+):\[([^\]]*)\]")
RAW_LOC_RE = re.compile(r"^\s*(\d+): 0x[0-9a-f]+ M=\d+ (.+) (\S+):(\d+) "
                        r"s=\d+(?:\(.*\))?$")
# `go tool pprof -top -sample_index=samples`: "flat flat% sum% cum cum% NAME"
TOP_RE = re.compile(r"^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+\d+\s+[\d.]+%\s+(.+)$")
# the directories a file is named from by default (cli/profile.c)
SHORT_RE = re.compile(r"(?:^|(?<=/))(?:site-packages/|dist-packages/|"
                      r"lib/python\d+\.\d+[tdm]?/)")


def short_filename(path):
    """The file name record shows by default: the part after the last
    sys.path-like directory in it, as py-spy shows it."""
    after = None
    for m in SHORT_RE.finditer(path):
        after = m.end()
    return path[after:] if after is not None and after < len(path) else path


def find_go():
    return shutil.which("go") or (GO_FALLBACK if os.access(
        GO_FALLBACK, os.X_OK) else None)


# --------------------------------------------------------------------------
# pprof through Go's reader

def go_pprof(cx, go, *args):
    """(text of `go tool pprof ARGS`, problems)."""
    res = cx.h.run([go, "tool", "pprof"] + list(args), timeout=GO_TIMEOUT,
                   env=dict(cx.h.TARGET_ENV, HOME=cx.workdir))
    if res.timed_out or res.rc != 0:
        return None, ["go tool pprof %s failed" % " ".join(args)] + \
            res.describe()
    return res.out.decode("utf-8", "replace"), []


def parse_raw(text):
    """[(frames root first as (function, file, line), count, labels)] and
    problems, from `go tool pprof -raw`."""
    samples, locs, problems = [], {}, []
    part = None
    for line in text.splitlines():
        if line.startswith("Samples:"):
            part = "samples"
            continue
        if line.startswith("Locations"):
            part = "locations"
            continue
        if line.startswith("Mappings"):
            part = None
            continue
        if part == "samples":
            m = RAW_SAMPLE_RE.match(line)
            if m:
                samples.append([[int(x) for x in m.group(3).split()],
                                int(m.group(1)), int(m.group(2)), {}])
            elif samples and RAW_LABEL_RE.search(line):
                samples[-1][3].update(RAW_LABEL_RE.findall(line))
        elif part == "locations" and line.strip():
            m = RAW_LOC_RE.match(line)
            if not m:
                problems.append("location line not understood: %r" % line)
                continue
            locs[int(m.group(1))] = (m.group(2), m.group(3), m.group(4))
    out = []
    for ids, count, wall, labels in samples:
        if any(i not in locs for i in ids):
            problems.append("a sample names unknown locations: %r" % ids)
            continue
        out.append(([locs[i] for i in reversed(ids)], count, wall, labels))
    if not samples:
        problems.append("no samples in go tool pprof -raw's output")
    return out, problems[:10]


def top_counts(text):
    """{"hot": N, "cold": N, "other": N} of -top's flat samples."""
    counts = {"hot": 0, "cold": 0, "other": 0}
    for line in text.splitlines():
        m = TOP_RE.match(line)
        if m:
            name = m.group(2).strip()
            counts[name if name in counts else "other"] += int(m.group(1))
    return counts


def pprof_counts(cx, go, out):
    """Leaf counts of a pprof file by -top, for record_check's windows."""
    text, problems = go_pprof(cx, go, "-top", "-sample_index=samples", out)
    return (top_counts(text) if text else None), problems


def case_pprof(cx, f, t, record, go):
    what = "record --format pprof"
    out = cx.out_path("fleet", "pb.gz")
    argv = ["record", t.pid, "-o", out, "--format", "pprof", "--rate", "100",
            "--duration", "3"]
    s0 = rc.read_stats(t)
    started = time.time()
    res = cx.snakescope(*argv)
    s1 = rc.stats_after(t, started + res.seconds)
    problems = rc.run_problems(res)
    if problems:
        f.check(what, problems)
        return
    problems += rc.parse_summary(res.text_err, out)[1]
    with open(out, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            problems.append("not gzipped")
    raw, p = go_pprof(cx, go, "-raw", out)
    problems += p
    top, p = go_pprof(cx, go, "-top", "-sample_index=samples", out)
    problems += p
    if problems:
        f.check(what, problems)
        return
    samples, problems = parse_raw(raw)
    stacks = [([], frames, count) for frames, count, _, _ in samples]
    problems += rc.folded_structure(cx, record, stacks, "raw stack")
    period = None
    m = re.search(r"^Period: (\d+)$", raw, re.M)
    if m:
        period = int(m.group(1))
    if period != 10000000:
        problems.append("period %r, expected 10000000 ns (100 Hz)" % period)
    main = 0
    for frames, count, wall, labels in samples:
        missing = [k for k in ("thread_name", "thread_id", "pid")
                   if k not in labels]
        if missing:
            problems.append("a sample without the labels %s: %r"
                            % (missing, labels))
            continue
        if wall != count * (period or 0):
            problems.append("a sample's wall %d ns is not %d samples x %r"
                            % (wall, count, period))
        if labels["pid"] != str(t.pid):
            problems.append("label pid %s, expected %d" % (labels["pid"],
                                                           t.pid))
        if any(fr[0] == "loop" for fr in frames):
            main += count
            if labels["thread_name"] != "MainThread" or \
                    labels["thread_id"] != str(record["main_native_id"]):
                problems.append("the main thread's stack labelled %r"
                                % labels)
    if not main:
        problems.append("no stack of the main thread")
    raw_leaves = rc.leaf_counts(stacks)
    counts = top_counts(top)
    if raw_leaves != counts:
        problems.append("-raw's leaves %r differ from -top's flat samples "
                        "%r" % (raw_leaves, counts))
    f.check(what + ": go tool pprof -raw (%d stacks)" % len(samples),
            problems[:20])
    rc.check_fraction(cx, f, t, record, argv, out, [(counts, s0, s1)],
                      what="record --format pprof --rate 100 --duration 3: "
                      "go tool pprof -top's hot/cold fraction",
                      counts_of=lambda path: pprof_counts(cx, go, path))


# --------------------------------------------------------------------------
# Chrome traces

def trace_events(text):
    """(document, problems)."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        return None, ["not JSON: %s" % e]
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"),
                                                   list):
        return None, ["no traceEvents array"]
    return doc, []


def trace_threads(doc):
    """{(pid, tid): [(ts, "B"/"E", name, args)]}, thread names by (pid,
    tid), process names by pid, problems."""
    threads, tnames, pnames, problems = {}, {}, {}, []
    for ev in doc["traceEvents"]:
        ph = ev.get("ph")
        if ph == "M":
            name = ev.get("args", {}).get("name")
            if ev.get("name") == "thread_name":
                tnames[(ev.get("pid"), ev.get("tid"))] = name
            elif ev.get("name") == "process_name":
                pnames[ev.get("pid")] = name
            continue
        if ph not in ("B", "E") or not isinstance(ev.get("ts"),
                                                  (int, float)):
            problems.append("an event neither B nor E with a time: %r" % ev)
            continue
        threads.setdefault((ev.get("pid"), ev.get("tid")), []).append(
            (ev["ts"], ph, ev.get("name"), ev.get("args", {})))
    return threads, tnames, pnames, problems[:5]


def replay(events):
    """Each begin/end pair as (begin, end, stack root first as (function,
    file, line)), in order; problems when unbalanced or out of order."""
    open_, spans, problems, last = [], [], [], None
    for ts, ph, name, args in events:
        if last is not None and ts < last:
            problems.append("time goes back: %r after %r" % (ts, last))
        last = ts
        if ph == "B":
            open_.append((ts, (name, args.get("file"),
                               None if args.get("line") is None
                               else str(args.get("line")))))
        elif not open_:
            problems.append("an end event at %r with nothing begun" % ts)
        else:
            begin, _ = open_[-1]
            spans.append((begin, ts, [fr for _, fr in open_]))
            open_.pop()
    if open_:
        problems.append("%d frames never end" % len(open_))
    return spans, problems[:5]


def trace_leaf_seconds(spans):
    """Seconds in hot and cold as leaves: a span whose frame is the
    innermost open (the stack's last frame) is what ran."""
    counts = {"hot": 0.0, "cold": 0.0, "other": 0.0}
    for begin, end, stack in spans:
        name = stack[-1][0]
        if name in ("hot", "cold"):
            counts[name] += (end - begin) / 1e6
    return counts


def chrometrace_counts(out, interval=0.01):
    """Leaf 'samples' of hot and cold (their time over the interval) in
    the main thread of a trace, for record_check's windows."""
    text, err = rc.read_text(out)
    if err:
        return None, [err]
    doc, problems = trace_events(text)
    if problems:
        return None, problems
    threads, _, _, problems = trace_threads(doc)
    counts = {"hot": 0, "cold": 0, "other": 0}
    for events in threads.values():
        spans, p = replay(events)
        problems += p
        secs = trace_leaf_seconds(spans)
        counts["hot"] += int(round(secs["hot"] / interval))
        counts["cold"] += int(round(secs["cold"] / interval))
    return counts, problems


def case_chrometrace(cx, f, t, record):
    what = "record --format chrometrace"
    out = cx.out_path("fleet", "trace.json")
    argv = ["record", t.pid, "-o", out, "--format", "chrometrace", "--rate",
            "100", "--duration", "3"]
    s0 = rc.read_stats(t)
    started = time.time()
    res = cx.snakescope(*argv)
    s1 = rc.stats_after(t, started + res.seconds)
    problems = rc.run_problems(res)
    text = None
    if not problems:
        problems += rc.parse_summary(res.text_err, out)[1]
        text, err = rc.read_text(out)
        if err:
            problems.append(err)
    doc = None
    if text is not None:
        doc, p = trace_events(text)
        problems += p
    if doc is None:
        f.check(what, problems)
        return
    threads, tnames, pnames, p = trace_threads(doc)
    problems += p
    if t.pid not in pnames:
        problems.append("no process_name event for %d: %r" % (t.pid, pnames))
    main_key = (t.pid, record["main_native_id"])
    want = 'thread "MainThread" (%d)' % record["main_native_id"]
    if tnames.get(main_key) != want:
        problems.append("main thread named %r, expected %r"
                        % (tnames.get(main_key), want))
    for key in threads:
        if key not in tnames:
            problems.append("events of %r without a thread_name" % (key,))
    stacks = []
    for key, events in sorted(threads.items()):
        spans, p = replay(events)
        problems += ["thread %r: %s" % (key, x) for x in p]
        if key == main_key:
            # the innermost spans are the stacks sampled
            stacks += [([], stack, 1) for _, _, stack in spans
                       if stack[-1][0] in ("hot", "cold", "loop")]
    if not stacks:
        problems.append("no stack of the main thread")
    problems += rc.folded_structure(cx, record, stacks, "trace stack")
    f.check(what + " (%d events, %d threads)" % (len(doc["traceEvents"]),
                                                 len(threads)),
            problems[:20])
    counts, p = chrometrace_counts(out)
    if p:
        f.check(what + ": hot/cold time", p)
        return
    rc.check_fraction(cx, f, t, record, argv, out, [(counts, s0, s1)],
                      what="record --format chrometrace --rate 100 "
                      "--duration 3: hot/cold time fraction",
                      counts_of=chrometrace_counts)


# --------------------------------------------------------------------------
# labels

def json_frames(cx, t, extra):
    """[(thread name, frames innermost first)] of record --idle -f json
    EXTRA, and problems."""
    out = cx.out_path("fleet-labels", "jsonl")
    res = cx.snakescope(*(["record", t.pid, "--idle", "--format", "json",
                           "-o", out, "--duration", "0.5"] + extra))
    problems = rc.run_problems(res)
    if problems:
        return [], problems
    text, err = rc.read_text(out)
    if err:
        return [], [err]
    lines = []
    for ln in text.splitlines():
        try:
            doc = json.loads(ln)
        except ValueError as e:
            return [], ["a line is not JSON (%s): %r" % (e, ln[:200])]
        lines.append((doc.get("name"), doc.get("frames") or []))
    if not lines:
        problems.append("no lines")
    return lines, problems


def case_labels(cx, f, t, record):
    full, problems = json_frames(cx, t, ["--full-filenames"])
    short, p = json_frames(cx, t, [])
    problems += p
    # threading's frames (the stats writer's): an absolute file in full,
    # the part after lib/pythonX.Y/ by default
    want = {}
    for _, frames in full:
        for fr in frames:
            if fr["file"] == record["file"]:
                continue
            if not fr["file"].startswith("/"):
                problems.append("--full-filenames: %s's file %r is not "
                                "absolute" % (fr["function"], fr["file"]))
            want[fr["function"]] = short_filename(fr["file"])
    if not problems and "threading.py" not in want.values():
        problems.append("--full-filenames: no frame of threading.py "
                        "under lib/pythonX.Y/: %r" % sorted(want.items()))
    seen = 0
    for _, frames in short:
        for fr in frames:
            if fr["function"] in record["functions"] or \
                    fr["function"] in ("<module>", "main"):
                if fr["file"] != record["file"]:
                    problems.append("%s's file %r, expected %r in full"
                                    % (fr["function"], fr["file"],
                                       record["file"]))
            elif fr["function"] in want:
                seen += 1
                if fr["file"] != want[fr["function"]]:
                    problems.append("%s's file %r, expected %r"
                                    % (fr["function"], fr["file"],
                                       want[fr["function"]]))
    if not seen and not problems:
        problems.append("no frame of the standard library in the default "
                        "recording")
    f.check("record: short file names by default (threading.py), "
            "--full-filenames in full", problems[:10])

    lines, problems = json_frames(cx, t, ["--function"])
    n = 0
    for _, frames in lines:
        for fr in frames:
            span = record["functions"].get(fr["function"])
            if span and fr["file"] == record["file"]:
                n += 1
                if fr["line"] != span[0]:
                    problems.append("--function: %s at line %r, expected "
                                    "its first line %d"
                                    % (fr["function"], fr["line"], span[0]))
    if not n and not problems:
        problems.append("--function: no frame of profile_mix's functions")
    f.check("record --function: each frame at its function's first line",
            problems[:10])

    lines, problems = json_frames(cx, t, ["--nolineno"])
    for _, frames in lines:
        if any(fr["line"] is not None for fr in frames):
            problems.append("--nolineno: a line in %r" % frames[:3])
            break
    f.check("record --nolineno: no line numbers", problems[:10])


# --------------------------------------------------------------------------

def check_fleet(report, interp, version, workdir, harness):
    label = "%s %s: fleet formats" % (version, interp)
    cx = rc.Context(harness, interp, version, workdir)
    f = rc.Findings(label)
    go = find_go()
    t = cx.target("profile_mix.py", ["--depth", "2"], niced=False)
    try:
        try:
            record = rc.wait_record(t, stats=True)
        except (RuntimeError, ValueError) as e:
            f.check("profile_mix.py ready", [str(e)])
            f.report_to(report)
            return
        time.sleep(0.3)  # start-up is not steady state
        for case in (case_pprof, case_chrometrace, case_labels):
            try:
                if case is case_pprof and go is None:
                    f.skip("record --format pprof: go tool pprof not "
                           "installed (Debian: golang-go)")
                elif case is case_pprof:
                    case(cx, f, t, record, go)
                else:
                    case(cx, f, t, record)
            except Exception:
                f.check("%s crashed" % case.__name__,
                        traceback.format_exc().splitlines())
    finally:
        t.kill()
    f.report_to(report)
