"""Stale names: `record` and `top` against tests/targets/codechurn.py, whose
code objects die one generation after another and whose addresses are
reused by the next.  The target logs when each generation's function
gen_NNNNNN was alive (CLOCK_MONOTONIC); snakescope must never name gen_N
outside that interval, whatever was at the same address before.

check_codechurn(report, interp, version, workdir, harness)
    harness: the live_test module.  Used: spawn, kill, serial, run,
    SNAKESCOPE, TARGETS, TARGET_FLAGS, TARGET_ENV.

    record      `record --rate max -f json -d SECONDS -o FIFO`: the sample
                times are seconds since the recording started, which is
                after this script opened the FIFO (snakescope's fopen()
                of it returns only then), so "time opened + sample time"
                is a lower bound of when the sample was read: a sample
                naming gen_N must not come after gen_N ended (+1 ms).
                Its frame's file must be gen_N's own ("<gen-N>" or
                gen_mod_N.py), its line one of the function's (but for
                one in 100,000: a code object that dies while it is
                read, unpaused, is a torn frame); most generations must
                be seen.
    top         `top --iterations N --refresh 1 --size 120x60` (text
                screens): a screen read after gen_N ended by more than a
                refresh and a second must not show gen_N in its STACK
                pane; the time a function row counts for gen_N must not
                exceed the time gen_N lived by more than 50% + 0.1 s (a
                stale name piles up the time of later generations).
    locals      `dump --locals --json`: the innermost frame gen_N has a
                local `gen` whose value is N (read from the frame, not
                from the code object).

The same pieces are used by bench/bench-long.py for ten-minute runs.
Standard library only (Python 3.6+).
"""
import json
import os
import re
import subprocess
import threading
import time

GEN_RE = re.compile(r"^gen_(\d{6})$")
RECORD_LINE_RE = re.compile(
    rb'"time":([0-9.]+),[^\n]*?"function":"gen_(\d{6})","file":"([^"]*)",'
    rb'"line":(\d+|null)')
STALE_TOLERANCE = 0.001     # sample times are printed with 6 decimals


def read_log(path):
    """{N: (born, died)} from the target's log."""
    gens = {}
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    gens[int(parts[0])] = (float(parts[1]), float(parts[2]))
    except OSError:
        pass
    return gens


def file_of_gen(n, filename):
    return filename == "<gen-%d>" % n or \
        os.path.basename(filename) == "gen_mod_%d.py" % n


class RecordScan(object):
    """Reads `record -f json` lines as they come, keeps per generation
    the first and last sample time (seconds since the start) and counts
    samples, frames of gen functions and mismatched files or lines."""

    def __init__(self, body_lines):
        self.body = body_lines
        self.first, self.last, self.count = {}, {}, {}
        self.lines = 0
        self.gen_frames = 0
        self.bad = []           # (what, detail), the first few
        self.nbad = 0
        self.bytes = 0

    def feed_lines(self, data):
        self.lines += data.count(b"\n")
        self.bytes += len(data)
        for m in RECORD_LINE_RE.finditer(data):
            t, n = float(m.group(1)), int(m.group(2))
            self.gen_frames += 1
            if n in self.count:
                self.count[n] += 1
                if t > self.last[n]:
                    self.last[n] = t
            else:
                self.first[n], self.last[n], self.count[n] = t, t, 1
            fn = m.group(3).decode("utf-8", "replace")
            line = m.group(4)
            if not file_of_gen(n, fn) or line == b"null" or \
                    not self.body[0] <= int(line) <= self.body[1]:
                self.nbad += 1
                if len(self.bad) < 5:
                    self.bad.append("gen_%06d at %s:%s" % (
                        n, fn, line.decode()))

    def read_from(self, f):
        rest = b""
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            self.feed_lines(chunk[:cut])


def record_problems(scan, gens, t_open):
    """Problems of a scan against the log; t_open: time.monotonic() just
    before the FIFO was opened.  Also returns a summary line."""
    problems = []
    stale = [n for n in scan.last if n in gens and
             t_open + scan.last[n] > gens[n][1] + STALE_TOLERANCE]
    unknown = [n for n in scan.first if n not in gens and
               n < max(gens or [0])]
    for n in stale[:5]:
        problems.append("gen_%06d named %.3f s after it ended (%d samples)"
                        % (n, t_open + scan.last[n] - gens[n][1],
                           scan.count[n]))
    if len(stale) > 5:
        problems.append("... %d generations named after they ended"
                        % len(stale))
    if unknown:
        problems.append("generations the target never ran: %s"
                        % unknown[:5])
    # Unpaused, a code object can die between the frame's read and its
    # own (its file name read after it was freed): a torn frame, rare.
    if scan.nbad > max(1, scan.gen_frames // 100000):
        problems.append("%d gen frames with another generation's file or "
                        "a line outside its function: %s" % (scan.nbad,
                                                        scan.bad))
    # Generations that ran while the recording did (not the last, cut).
    during = [n for n, (b, d) in gens.items()
              if b >= t_open and n + 1 in gens]
    seen = len([n for n in during if n in scan.count])
    if during and seen < 0.8 * len(during):
        problems.append("only %d of %d generations seen" % (seen,
                                                           len(during)))
    summary = ("%d samples, %d frames of gen functions, %d/%d generations "
               "seen, %d named after they ended, %d with another file or "
               "line (torn)" % (scan.lines, scan.gen_frames, seen,
                                len(during), len(stale), scan.nbad))
    return problems, summary


# ---- top screens ---------------------------------------------------------

ROW_RE = re.compile(r"^\s*[0-9.]+\s+[0-9.]+\s+([0-9.]+)(m?s|m|h)\s+"
                    r"([0-9.]+)(m?s|m|h)\s+(gen_\d{6})\s+(\S+)\s*$")
UNIT = {"s": 1.0, "ms": 0.001, "m": 60.0, "h": 3600.0}
RATE_RE = re.compile(r"\s([0-9.]+)/s\s+samples\s")


def screen_gens(screen):
    """(gens in the STACK pane, {gen: total seconds} of function rows,
    seconds one sample stands for: 1 / the header's rate, or None)."""
    stack, rows, in_stack = [], {}, False
    m = RATE_RE.search(screen)
    interval = 1.0 / float(m.group(1)) if m and float(m.group(1)) else None
    for line in screen.splitlines():
        if line.startswith("STACK of"):
            in_stack = True
            continue
        m = ROW_RE.match(line)
        if m and not in_stack:
            n = int(GEN_RE.match(m.group(5)).group(1))
            rows[n] = float(m.group(3)) * UNIT[m.group(4)]
            continue
        if in_stack:
            m = re.match(r"^\s+(gen_\d{6})\s", line)
            if m:
                stack.append(int(GEN_RE.match(m.group(1)).group(1)))
    return stack, rows, interval


class TopScan(object):
    """Screens of top with the time each was read: [t_before, t_after]."""

    def __init__(self, refresh):
        self.refresh = refresh
        self.screens = 0
        self.stack = []     # (t_before, t_after, n)
        self.rows = {}      # n -> (largest total seconds shown, the
                            # seconds a sample stood for on that screen)

    def feed(self, screen, t0, t1):
        self.screens += 1
        stack, rows, interval = screen_gens(screen)
        for n in stack:
            self.stack.append((t0, t1, n))
        for n, secs in rows.items():
            if secs > self.rows.get(n, (-1, None))[0]:
                self.rows[n] = (secs, interval)


def top_problems(scan, gens):
    problems = []
    window = scan.refresh + 1.0
    last = max(gens or [0])
    stale = [(t0, n) for t0, t1, n in scan.stack
             if n in gens and t0 - window > gens[n][1]]
    early = [(t1, n) for t0, t1, n in scan.stack
             if n in gens and t1 < gens[n][0]]
    unknown = [n for _, _, n in scan.stack if n not in gens and n < last]
    for t0, n in stale[:5]:
        problems.append("STACK showed gen_%06d %.2f s after it ended"
                        % (n, t0 - gens[n][1]))
    for t1, n in early[:5]:
        problems.append("STACK showed gen_%06d before it started" % n)
    if unknown:
        problems.append("STACK showed generations never run: %s"
                        % unknown[:5])
    # A row counts its samples times the average interval (the header's
    # 1 / rate); samples come in bursts when the machine is loaded, so a
    # generation may be seen a sample or two more than its life at the
    # average rate would give (seen: 0.20 s for a life of 0.06 s, two
    # CI shares running at once).
    over = [(n, s) for n, (s, interval) in scan.rows.items() if n in gens
            and s > 1.5 * (gens[n][1] - gens[n][0]) +
            max(0.1, 2 * (interval or 0))]
    for n, s in over[:5]:
        problems.append("row gen_%06d counts %.2f s, it lived %.2f s"
                        % (n, s, gens[n][1] - gens[n][0]))
    summary = ("%d screens, %d STACK panes naming a generation (%d "
               "distinct), %d function rows of generations; %d stale, "
               "%d rows over their lifetime"
               % (scan.screens, len(scan.stack),
                  len(set(n for _, _, n in scan.stack)), len(scan.rows),
                  len(stale), len(over)))
    return problems, summary


# ---- the live-suite case -------------------------------------------------

def start_target(h, interp, workdir, period):
    """(process, record path, log path), the record written."""
    base = os.path.join(workdir, "codechurn-%d" % h.serial())
    record, log = base + ".json", base + ".log"
    p = h.spawn([interp] + h.TARGET_FLAGS +
                [os.path.join(h.TARGETS, "codechurn.py"), record, log,
                 str(period)], env=h.TARGET_ENV)
    deadline = time.monotonic() + 20
    while not os.path.exists(record):
        if p.poll() is not None or time.monotonic() > deadline:
            h.kill(p)
            return None, None, None
        time.sleep(0.01)
    with open(record) as f:
        return p, json.load(f), log


def record_via_fifo(h, pid, seconds, workdir, extra=()):
    """Run `record -f json -o FIFO` for 'seconds'; (scan fed, t_open,
    result of the run, the reader's error or None)."""
    fifo = os.path.join(workdir, "record-%d.fifo" % h.serial())
    os.mkfifo(fifo)
    box = {}

    def go():
        box["res"] = h.run([h.SNAKESCOPE, "record", "--rate", "max", "-f",
                            "json", "-d", str(seconds), "-o", fifo]
                           + list(extra) + [str(pid)],
                           timeout=seconds + 30)
    th = threading.Thread(target=go)
    th.start()
    return fifo, th, box


def check_codechurn(report, interp, version, workdir, h, seconds=3):
    label = "%s %s: codechurn.py" % (version, interp)
    p, rec, log = start_target(h, interp, workdir, 0.05)
    if p is None:
        report.fail("%s: target ready" % label, ["codechurn.py did not "
                                                 "start"])
        return
    try:
        # record
        scan = RecordScan(rec["body_lines"])
        fifo, th, box = record_via_fifo(h, p.pid, seconds, workdir)
        t_open = time.monotonic()
        with open(fifo, "rb") as f:
            scan.read_from(f)
        th.join()
        res = box["res"]
        problems = []
        if res.timed_out or res.rc != 0:
            problems = ["record failed"] + res.describe()
        else:
            problems, summary = record_problems(scan, read_log(log), t_open)
            report.note("%s: record: %s" % (label, summary))
        report.check("%s: record --rate max: no name outside its "
                     "generation's lifetime" % label, problems)

        # top, text screens as they come
        problems, summary = top_text(h, p.pid, seconds, log)
        if summary:
            report.note("%s: top: %s" % (label, summary))
        report.check("%s: top: no stale name in STACK or rows" % label,
                     problems)

        # locals: the local 'gen' agrees with the name
        report.check("%s: dump --locals: gen_N's local gen is N" % label,
                     locals_problems(h, p.pid))
    finally:
        h.kill(p)


def top_text(h, pid, seconds, log):
    """(problems, summary) of `top --iterations` text screens, each
    timed by when its first line and the next screen's arrived."""
    cmd = [h.SNAKESCOPE, "top", "--iterations", str(seconds), "--refresh",
           "1", "--size", "120x60", str(pid)]
    s = h.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=h.TARGET_ENV)
    scan = TopScan(1.0)
    buf, t_prev = [], time.monotonic()
    try:
        for raw in iter(s.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            if line.startswith("snakescope top") and buf:
                t = time.monotonic()
                scan.feed("".join(buf), t_prev, t)
                buf, t_prev = [], t
            buf.append(line)
        t = time.monotonic()
        if buf:
            scan.feed("".join(buf), t_prev, t)
        err = s.stderr.read()
        rc = s.wait(timeout=seconds + 30)
    finally:
        h.kill(s)
    if rc != 0:
        return ["top exit status %s: %r" % (rc, err[-500:])], None
    problems, summary = top_problems(scan, read_log(log))
    if scan.screens < seconds:
        problems.append("%d screens, expected %d" % (scan.screens, seconds))
    if not scan.stack:
        problems.append("no screen's STACK pane named a generation")
    return problems, summary


def locals_problems(h, pid, tries=5):
    problems, seen = [], 0
    for _ in range(tries):
        res = h.run([h.SNAKESCOPE, "dump", "--json", "--locals", str(pid)])
        if res.timed_out or res.rc != 0:
            return ["dump --locals failed"] + res.describe()
        doc = json.loads(res.out.decode("utf-8"))
        for t in doc.get("threads", []):
            for fr in t.get("frames", []):
                m = GEN_RE.match(fr.get("function") or "")
                if not m:
                    continue
                seen += 1
                vals = [v.get("repr") for v in fr.get("locals") or []
                        if v.get("name") == "gen"]
                if vals != [str(int(m.group(1)))]:
                    problems.append("%s: local gen is %r"
                                    % (fr["function"], vals))
    if not seen:
        problems.append("no dump of %d showed a gen function" % tries)
    return problems
