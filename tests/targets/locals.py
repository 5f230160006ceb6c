# -*- coding: utf-8 -*-
"""Live-test target: threads parked in functions whose arguments and locals
hold a value of every type snakescope decodes (`dump --locals`), values it
does not decode, *args/**kwargs, keyword-only and positional-only arguments
(3.x, 3.8+), cell and free variables, and calls whose column range is not
trivial (a sub-expression of a long line after non-ASCII text, a call that
spans two lines).

usage: python locals.py RECORD_PATH   (see _record.py; runs until killed)

One file for Python 2.7 and 3.6+: the functions with 3.x-only syntax are
compiled from strings below, aligned with this file's own lines (so their
positions and source lines are real), and only on the versions that have it.
"""
import collections
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

HUGE = int("123456789" * 22 + "12")     # 200 digits
SMALL_LONG = type(2 ** 64)(5)           # 2.7: a long (5L); 3.x: int


class Thing(object):
    pass


class MyInt(int):
    pass


class MyList(list):
    pass


def compute(x):
    return x


def helper(*args):
    return args


# --- the parked functions: the blocking call is always on the last line ---

def park_scalars(ev, none, yes, no, zero, neg, big, negbig, huge, neghuge,
                 small_long):
    ev.wait()


def park_floats(ev, tenth, one_half, neg_zero, e16, e_5, mixed, e300, inf,
                neg_inf, nan, subnormal):
    ev.wait()


def park_strings(ev, ascii, squote, dquote, both, text, controls, empty,
                 native, long_text, dots, long_wide):
    ev.wait()


def park_bytes(ev, empty, abc, odd, long_bytes):
    ev.wait()


def park_containers(ev, empty_tuple, one_tuple, nested, mixed_keys,
                    empty_set, a_set, fs, empty_fs, empty_list, empty_dict,
                    long_list, long_dict, tuple_of_tuple):
    ev.wait()


def park_objects(ev, thing, impure_list, impure_dict, impure_tuple,
                 impure_set, impure_fs, sub_int, sub_list, func, cls,
                 ordered, deep_impure):
    ev.wait()


def park_varargs(ev, first, *args, **kwargs):
    ev.wait()


def closure_outer(ev, a):
    b = [a, u'cell']
    c = u'plain local'

    def closure_inner(d):
        e = (a, b)
        ev.wait()
    closure_inner(c)


def park_arg_cell(ev, captured, other):
    def reader():
        return captured
    ev.wait()


def park_with_locals(ev, n):
    total = n * 2
    word = u'w\xf6rd'
    pair = (total, word)
    gone = [pair]
    del gone
    if ev is None:
        never = 1
    ev.wait()


def park_long_line(ev, a, b):
    label = u'ünïcödé'
    result = compute(a) + len(label) + len(helper(u'héllo wörld ✓ 日本語', ev.wait(), b))  # noqa: E501


def park_multi_line(ev, a):
    x = u'ä' + compute(ev.wait(
    ))


def run_varargs(ev):
    park_varargs(ev, 1, u"two", 3.0, key=u"value", other=[1, 2])


def run_kwonly(ev):
    park_kwonly(ev, 1, 2, 3, 4, c=u"see", extra=None)  # noqa: F821


def run_posonly(ev):
    park_posonly(ev, 1, 2, r=3)  # noqa: F821


def main_park(lock):
    lock.acquire()


# --- 3.x-only syntax, compiled at the lines where it stands in this file --

KWONLY_SRC = """
def park_kwonly(ev, a, b=2, *rest, c, d=u'dee', **more):
    ev.wait()
"""

POSONLY_SRC = """
def park_posonly(ev, p, /, q, *, r):
    ev.wait()
"""


def define(name):
    """Compile NAME_SRC so that its lines are this file's lines."""
    filename = define.__code__.co_filename
    with open(filename, "rb") as f:
        lines = f.read().decode("utf-8").split(u"\n")
    first = lines.index(u'%s_SRC = """' % name.upper()) + 1
    src = globals()[name.upper() + "_SRC"]
    code = compile(u"\n" * (first - 1) + src, filename, "exec")
    exec(code, globals())


def main():
    rec = _record.recorder_from_argv()
    ev = threading.Event         # every thread waits on an Event of its own
    rec.thread("scalars", park_scalars, ev(), None, True, False, 0, -5,
               2 ** 62, -(2 ** 64), HUGE, -HUGE, SMALL_LONG)
    rec.thread("floats", park_floats, ev(), 0.1, 1.5, -0.0, 1e16, 1e-05,
               123456789.123, 1e300, float("inf"), float("-inf"),
               float("nan"), 2.5e-310)
    rec.thread("strings", park_strings, ev(), u"plain ascii",
               u"it's", u'say "hi"', u"both ' and \"", u"héllo wörld ✓ 日本語",
               u"\n\t\x01\x7f", u"", "native str", u"x" * 300,
               u"a...b" * 40, u"é" * 150)
    rec.thread("bytes", park_bytes, ev(), b"", b"abc", b"\x00\xff'\"",
               b"\x00\x01" * 100)
    rec.thread("containers", park_containers, ev(), (), (1,),
               [1, [2, [3, (4, {5: set([6])})]], {u"k": [frozenset([7])]}],
               {1: u"one", u"two": 2, (3, u"three"): [3.0], None: None,
                2.5: b"x", False: frozenset([1])},
               set(), set([1, 2, 3]), frozenset([u"a"]), frozenset(), [], {},
               list(range(1000)), dict((i, str(i)) for i in range(200)),
               ((),))
    rec.thread("objects", park_objects, ev(), Thing(), [1, Thing()],
               {u"key": Thing()}, (Thing(), 2), set([Thing()]),
               frozenset([Thing()]), MyInt(7), MyList([1, 2]), compute, Thing,
               collections.OrderedDict([(u"a", 1)]), [[[Thing()]]])
    rec.thread("varargs", run_varargs, ev())
    if sys.version_info >= (3,):
        define("kwonly")
        rec.thread("kwonly", run_kwonly, ev())
    if sys.version_info >= (3, 8):
        define("posonly")
        rec.thread("posonly", run_posonly, ev())
    rec.thread("closure", closure_outer, ev(), u"free")
    rec.thread("arg-cell", park_arg_cell, ev(), [u"captured"], 42)
    rec.thread("locals", park_with_locals, ev(), 21)
    rec.thread("long-line", park_long_line, ev(), 1, 2)
    rec.thread("multi-line", park_multi_line, ev(), 3)
    rec.start()
    rec.park(main_park, _record.held_lock())


if __name__ == "__main__":
    main()
