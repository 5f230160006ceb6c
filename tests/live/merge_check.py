"""Live checks of `snakescope merge` (issue 27's many hosts; see
live_test.py, model/merge.h and README.md's "Many hosts").

On every interpreter, four copies of tests/targets/merge_rank.py run:
three "ranks" whose main thread waits in step_wait(), one ("odd") in
stuck_wait().  Each is dumped with `dump --json`, which must carry
"schema_version": 1 and "host": this machine's name.  The documents are
then merged from four files, in the forms merge accepts:

  - rank 1's document as it is, and a copy edited to "host":
    "merge-fake-node07" (a peer on another machine: the host name
    cannot be changed here);
  - ranks 2 and 3 in one {"processes": [...]} document (dump PID PID);
  - a line that is not JSON, then the odd rank's document on one line
    (watch --json's form), so that the bad line is reported by file and
    line and the rest still merged (exit status 1).

`merge --json`: exactly those five processes (host, PID) from 2 hosts;
two groups, the odd one holding only the odd rank and marked odd; the
tree's step_wait node reached by exactly the four peers and its
stuck_wait node by exactly the odd rank; one error naming the bad file.
`merge` (text): the header "5 processes from 2 hosts", the odd rank
named as the odd one out and on the stuck_wait branch, the bad line on
stderr by file and line.  `merge -` reads the standard input.
"""
import json
import os
import socket

FAKE_HOST = "merge-fake-node07"


def node_procs(doc, function):
    """{(host, pid)} of the node(s) for function, by the process list."""
    procs = doc.get("processes") or []
    out = []
    for n in doc.get("nodes") or []:
        f = n.get("function") or ""
        if f == function or f.endswith("." + function):
            out.append(set((procs[i]["host"], procs[i]["pid"])
                           for i in n.get("processes") or []))
    return out


def json_problems(doc, want, odd, host):
    problems = []
    procs = set((p.get("host"), p.get("pid"))
                for p in doc.get("processes") or [])
    if procs != want:
        problems.append("processes %r, expected %r" % (sorted(procs),
                                                      sorted(want)))
    if doc.get("hosts") != 2:
        problems.append("hosts %r, expected 2" % doc.get("hosts"))
    groups = doc.get("groups") or []
    plist = doc.get("processes") or []
    got = [(set((plist[i]["host"], plist[i]["pid"])
                for i in g.get("processes") or []), g.get("odd"))
           for g in groups]
    if got != [(want - set([odd]), False), (set([odd]), True)]:
        problems.append("groups %r, expected the four peers, then the odd "
                        "rank %r marked odd" % (got, odd))
    step = node_procs(doc, "step_wait")
    stuck = node_procs(doc, "stuck_wait")
    if step != [want - set([odd])]:
        problems.append("step_wait nodes reached by %r, expected %r"
                        % (step, want - set([odd])))
    if stuck != [set([odd])]:
        problems.append("stuck_wait nodes reached by %r, expected %r"
                        % (stuck, set([odd])))
    errors = doc.get("errors") or []
    if len(errors) != 1 or errors[0].get("source") != "lines.json" or \
            not (errors[0].get("message") or "").startswith("line 1, "):
        problems.append("errors %r, expected one for lines.json, line 1"
                        % errors)
    return problems


def text_problems(res, odd, host):
    problems = []
    out = res.out.decode("utf-8", "replace")
    err = res.err.decode("utf-8", "replace")
    if res.rc != 1:
        problems.append("exit status %r, expected 1 (a bad line)" % res.rc)
    if not out.startswith("5 processes from 2 hosts, 10 threads\n"):
        problems.append("header %r" % out.split("\n")[0])
    want = "  1 process, odd one out: %s:%d\n" % odd
    if want not in out:
        problems.append("no %r" % want.strip())
    lines = [ln for ln in out.splitlines() if "stuck_wait (" in ln]
    if len(lines) != 1 or not lines[0].endswith(": %s:%d" % odd):
        problems.append("stuck_wait lines %r: expected one, naming only "
                        "%s:%d" % ((lines,) + odd))
    if "merge: lines.json: line 1, column 1: " not in err:
        problems.append("stderr %r does not name lines.json, line 1"
                        % err[:300])
    return problems


def check_merge(report, interp, version, workdir, h):
    what = "%s: merge_rank.py x4" % version
    host = os.uname()[1]
    targets = []
    try:
        for extra in ((), (), (), ("odd",)):
            t = h.ready_target(report, interp, "merge_rank.py", workdir,
                               what, extra)
            if t is None:
                return
            targets.append(t)
        docs = []
        for t in targets:
            res = h.snakescope("dump", "--json", t.pid)
            try:
                docs.append(json.loads(res.out.decode("utf-8")))
            except ValueError as e:
                report.fail(what + ": dump --json", ["not JSON: %s" % e] +
                            res.describe())
                return
        p = []
        for d in docs:
            if d.get("schema_version") != 1 or d.get("host") != host:
                p.append("dump --json of %s: schema_version %r, host %r; "
                         "expected 1, %r" % (d.get("pid"),
                                              d.get("schema_version"),
                                              d.get("host"), host))
        report.check(what + ": dump --json: schema_version, host", p)
        d = os.path.join(workdir, "merge-%d" % targets[0].pid)
        os.mkdir(d)
        fake = dict(docs[0])
        fake["host"] = FAKE_HOST
        files = {
            "one.json": json.dumps(docs[0], indent=1),
            "fake.json": json.dumps(fake),
            "multi.json": json.dumps({"processes": docs[1:3]}),
            "lines.json": "not json\n" + json.dumps(docs[3]) + "\n",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        names = sorted(files)
        pids = [t.pid for t in targets]
        want = set([(host, p) for p in pids] + [(FAKE_HOST, pids[0])])
        odd = (host, pids[3])
        res = h.snakescope("merge", "--json", *names, cwd=d)
        try:
            doc = json.loads(res.out.decode("utf-8"))
        except ValueError as e:
            report.fail(what + ": merge --json", ["not JSON: %s" % e] +
                        res.describe())
            return
        report.check(what + ": merge --json: the processes, hosts, groups "
                     "and branches expected, the bad line named",
                     json_problems(doc, want, odd, host) +
                     ([] if res.rc == 1 else res.describe()))
        res = h.snakescope("merge", *names, cwd=d)
        report.check(what + ": merge: header, the odd rank named",
                     text_problems(res, odd, host))
        res = h.run(["sh", "-c", '"$0" merge - < one.json', h.SNAKESCOPE],
                    cwd=d)
        out = res.out.decode("utf-8", "replace")
        report.check(what + ": merge - (stdin)",
                     [] if res.rc == 0 and out.startswith(
                         "1 process from 1 host, 2 threads\n")
                     else ["unexpected output %r" % out[:200]] +
                     res.describe())
    finally:
        for t in targets:
            t.kill()
