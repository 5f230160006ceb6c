"""Live-test target: a thread that holds the GIL inside a C call (a regex
that backtracks for ever) while other threads want the GIL, and the
healthy cases the gil_held verdict must not fire on.

usage: python gil_held.py RECORD_PATH MODE   (runs until killed)

MODE:
  regex   three threads "spinner-N" count in a Python loop (they want
          the GIL), then thread "regex" runs a compiled pattern's match()
          on a catastrophic input ((a+)+$ on 'a' * 40 + 'b': 2**40 steps)
          without ever letting go of the GIL.
  alone   thread "regex" alone in that match; every other thread sleeps
          (nobody waits for the GIL).
  busy    four spinners and nothing else: the GIL changes hands every
          switch interval.

The record is written (RECORD_PATH + ".tmp", then rename) before the
match starts: once it runs, no other Python code of the process does.
  {"pid", "version", "mode",
   "holder": {"name", "thread_id", "native_id", "function", "filename",
              "line"} | null,   (regex, alone: where the match is called)
   "spinners": [names], "threads": [{"name"} of every thread]}
The main thread then sleeps.  Python 2.7 and 3.6+, standard library only.
"""
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

PATTERN = re.compile(r"(a+)+$")
TEXT = "a" * 40 + "b"


def spin():
    n = 0
    while True:
        n += 1


def run_regex(go, me):
    me["thread_id"] = threading.current_thread().ident
    me["native_id"] = _record.native_id()
    go.wait()
    PATTERN.match(TEXT)  # mark:match


def match_line():
    with open(os.path.abspath(__file__)) as f:
        for i, line in enumerate(f, 1):
            if line.rstrip().endswith("# mark:match"):
                return i
    raise SystemExit("gil_held.py: no mark:match line")


def main():
    path, mode = sys.argv[1], sys.argv[2]
    spinners = ["spinner-%d" % i for i in
                range({"regex": 3, "alone": 0, "busy": 4}[mode])]
    for name in spinners:
        t = threading.Thread(target=spin, name=name)
        t.daemon = True
        t.start()
    holder = None
    go = threading.Event()
    if mode != "busy":
        me = {}
        t = threading.Thread(target=run_regex, name="regex", args=(go, me))
        t.daemon = True
        t.start()
        while "native_id" not in me:
            time.sleep(0.01)
        holder = {"name": "regex", "thread_id": me["thread_id"],
                  "native_id": me["native_id"], "function": "run_regex",
                  "filename": os.path.abspath(__file__),
                  "line": match_line()}
    rec = {"pid": os.getpid(), "version": "%d.%d.%d" % sys.version_info[:3],
           "mode": mode, "holder": holder, "spinners": spinners,
           "threads": [{"name": t.name} for t in threading.enumerate()]}
    with open(path + ".tmp", "w") as f:
        json.dump(rec, f)
    os.rename(path + ".tmp", path)
    go.set()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
