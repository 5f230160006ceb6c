#!/usr/bin/env python3
"""Record CPython line tables and the interpreter's own line mapping.

Usage: python record.py OUT.txt

Compiles a fixed sample (SAMPLE below) with the running interpreter and
writes, for the module code object and every nested code object, the raw
line table and the interpreter's answer for every instruction offset:

    code <name> first <co_firstlineno> kind <lnotab|310|loc>
    table <hex>
    at <offset> <line>                              (lnotab, 310)
    at <unit> <line> <end_line> <col> <end_col>     (loc)
    end

'at' is a byte offset (step 2) for lnotab (<=3.9) and 310 (3.10), and a
code-unit index for loc (3.11+).  None is written as -1.  The answers come
from the interpreter: dis.findlinestarts (<=3.9), co_lines() (3.10),
co_positions() (3.11+); where available the line is cross-checked against
the C function PyCode_Addr2Line through ctypes.
"""
import dis
import sys
import types

# Line numbers in SAMPLE matter: keep it stable once fixtures are committed.
SAMPLE = '''\
import os

def simple(a, b):
    x = a + b
    y = x * 2
    return y

def multiline(a, b, c):
    total = (a +
             b +
             c)
    r = max(
        a,
        b,
        c,
    )
    d = {
        "k": a,
        "l": [b,
              c],
    }
    return total, r, d

def loops(n):
    acc = 0
    for i in range(n):
        if i % 2:
            continue
        acc += i
    while acc > 10:
        acc -= 3
    else:
        acc += 1
    return [j * 2 for j in range(acc) if j]

def tries(f):
    try:
        v = f()
    except ValueError as e:
        v = str(e)
    except (KeyError, IndexError):
        v = None
    else:
        v = v + 1
    finally:
        f = None
    with open(os.devnull) as fh, open(os.devnull) as fh2:
        fh.read()
    return v

def outer(k):
    def inner(m):
        return k + m
    g = lambda z: (z,
                   k)
    return inner, g

def lineless(x):
    if x:
        return 1
    for i in x:
        try:
            pass
        finally:
            x = 0

def gen(n):
    for i in range(n):
        yield i
    yield from range(n)

async def agen(c):
    async with c as v:
        await v
    async for w in c:
        pass

class Klass:
    attr = 1
    def method(self):
        return self.attr

def big_jump(a):
    a = 1
''' + '\n' * 150 + '''\
    b = a + 1
    c = (a
''' + '\n' * 140 + '''\
         + b)
    return call_back(
''' + '\n' * 160 + '''\
        c)

def long_line(a):
    x = [a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a].count(a.real.imag)
    s = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"; t = s.upper()
    return x, t
'''


def addr2line_func():
    try:
        import ctypes
        f = ctypes.pythonapi.PyCode_Addr2Line
    except (ImportError, AttributeError):
        return None
    f.argtypes = [ctypes.py_object, ctypes.c_int]
    f.restype = ctypes.c_int
    return f


ADDR2LINE = addr2line_func()


def none1(v):
    return -1 if v is None else v


def rows_lnotab(code):
    starts = list(dis.findlinestarts(code))
    rows = []
    k = -1
    for off in range(0, len(code.co_code), 2):
        while k + 1 < len(starts) and starts[k + 1][0] <= off:
            k += 1
        line = starts[k][1] if k >= 0 else code.co_firstlineno
        rows.append((off, line))
    return rows


def rows_310(code):
    ranges = list(code.co_lines())
    rows = []
    for off in range(0, len(code.co_code), 2):
        line = -1
        for start, end, ln in ranges:
            if start <= off < end:
                line = none1(ln)
                break
        rows.append((off, line))
    return rows


def rows_loc(code):
    rows = []
    for i, pos in enumerate(code.co_positions()):
        rows.append((i,) + tuple(none1(v) for v in pos))
    return rows


def kind_of():
    if sys.version_info < (3, 10):
        return 'lnotab'
    if sys.version_info < (3, 11):
        return '310'
    return 'loc'


def table_of(code):
    if sys.version_info < (3, 10):
        return code.co_lnotab
    return code.co_linetable


def crosscheck(code, kind, rows):
    if ADDR2LINE is None:
        return
    for row in rows:
        off = row[0] * 2 if kind == 'loc' else row[0]
        got = ADDR2LINE(code, off)
        if got != row[1]:
            raise SystemExit('%s: PyCode_Addr2Line(%d) = %d, recorded %d'
                             % (code.co_name, off, got, row[1]))


def walk(code, out):
    kind = kind_of()
    if kind == 'lnotab':
        rows = rows_lnotab(code)
    elif kind == '310':
        rows = rows_310(code)
    else:
        rows = rows_loc(code)
    crosscheck(code, kind, rows)
    out.append('code %s first %d kind %s' % (code.co_name.replace(' ', '_'),
                                            code.co_firstlineno, kind))
    out.append('table %s' % table_of(code).hex())
    for row in rows:
        out.append('at ' + ' '.join(str(v) for v in row))
    out.append('end')
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            walk(const, out)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write('usage: %s OUT.txt\n' % sys.argv[0])
        return 2
    code = compile(SAMPLE, 'sample.py', 'exec')
    out = ['# snakescope line-table fixture, recorded by record.py',
           '# python %s' % sys.version.split()[0]]
    walk(code, out)
    with open(sys.argv[1], 'w') as f:
        f.write('\n'.join(out) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
