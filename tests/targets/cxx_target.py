"""Live-test target for `snakescope dump --native` through C++ frames.

usage: python cxx_target.py RECORD_PATH LIBRARY

LIBRARY is tests/targets/cxx_block.cpp built as a shared library.  A
thread "cxx-block" calls its nt_cxx_block() through ctypes, which blocks
in libc's pause() under nt::Waiter<int>::wait(int).  When the thread is
there it writes RECORD_PATH atomically:

  {"pid": int, "ready": true, "tid": the thread's TID,
   "stack": [[function, file, line], ...]}

with the thread's Python stack as it saw it, innermost first.  Works on
Python 2.7 and 3.6+.
"""
import ctypes
import json
import os
import sys
import threading
import time

RECORD = sys.argv[1]
lib = ctypes.CDLL(sys.argv[2])
lib.nt_cxx_block.argtypes = [ctypes.c_int]
lib.nt_cxx_block.restype = ctypes.c_long
lib.nt_cxx_gettid.restype = ctypes.c_long
seen = {}
there = threading.Event()


def here():
    """Note this thread's stack (from the caller of here()) and TID."""
    f = sys._getframe(1)
    stack = []
    while f is not None:
        stack.append([f.f_code.co_name, f.f_code.co_filename, f.f_lineno])
        f = f.f_back
    seen["tid"] = lib.nt_cxx_gettid()
    seen["stack"] = stack
    there.set()


def cxx_block():
    here(); lib.nt_cxx_block(3)  # noqa: E702


t = threading.Thread(target=cxx_block, name="cxx-block")
t.daemon = True
t.start()
there.wait()
time.sleep(0.3)  # into pause()
rec = {"pid": os.getpid(), "ready": True, "tid": seen["tid"],
       "stack": seen["stack"]}
tmp = RECORD + ".tmp"
with open(tmp, "w") as out:
    json.dump(rec, out)
os.rename(tmp, RECORD)
while True:
    time.sleep(3600)
