"""Live-test target: names and values chosen to break a naive printer.

Thread names, function names (co_name and co_qualname), file names and
string arguments hold terminal escape sequences (CSI, OSC with BEL),
newlines and carriage returns, NUL bytes, C1 controls, lone surrogates
(which have no UTF-8 form) and a name of 1 MiB.  Each thread parks in a
function whose code object is renamed and given a hostile file name, with
its hostile string as an argument; the main thread has a hostile name
too.  The record (_record.py) holds the true names, so the checker can
say exactly what snakescope must print for each.

usage: python hostile_names.py RECORD_PATH   (see _record.py; runs until
killed; Python 3.6+)
"""
import os
import sys
import threading
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

HOSTILE = [
    ("csi", u"\x1b[31mred\x1b[0m\x1b[2J\x1b[H"),
    ("osc", u"\x1b]0;pwned title\x07\x1b]8;;http://x\x1b\\link"),
    ("newline", u"first\nsecond\r\nthird\ttab"),
    ("nul", u"nul\x00byte\x00"),
    ("c1", u"c1\x9b31m\x85\x7f"),
    ("surrogate", u"lone\udcff\ud800surrogates"),
    ("huge", u"H" * (1 << 20)),
]

PARK_SOURCE = u"def park(ev, s):\n    ev.wait()\n"


def renamed(func, name, filename):
    """func with its code object's names and file name replaced."""
    c = func.__code__
    if hasattr(c, "replace"):
        kw = {"co_name": name, "co_filename": filename}
        if hasattr(c, "co_qualname"):
            kw["co_qualname"] = name
        code = c.replace(**kw)
    else:
        code = types.CodeType(
            c.co_argcount, c.co_kwonlyargcount, c.co_nlocals,
            c.co_stacksize, c.co_flags, c.co_code, c.co_consts, c.co_names,
            c.co_varnames, filename, name, c.co_firstlineno, c.co_lnotab,
            c.co_freevars, c.co_cellvars)
    return types.FunctionType(code, func.__globals__, name)


def main_park(lock):
    lock.acquire()


def main():
    rec = _record.recorder_from_argv()
    for key, text in HOSTILE:
        ns = {}
        exec(compile(PARK_SOURCE, "hostile.py", "exec"), ns)
        park = renamed(ns["park"], u"park_" + text,
                       u"/nonexistent/" + key + u"/" + text + u".py")
        rec.thread(u"thread_" + text, park, threading.Event(), u"arg_" + text)
    threading.current_thread().name = u"main\x1b[1m\nthread"
    rec.start()
    rec.park(main_park, _record.held_lock())


if __name__ == "__main__":
    main()
