"""A service whose worker thread crashes in C, for the README's core-file
recipe: parse_header() hands a NULL pointer to ctypes, which reads it.

usage: ulimit -c unlimited; python3 crash.py     (dies of SIGSEGV)
"""
import ctypes
import threading
import time


def parse_header(buf):
    return ctypes.string_at(buf)


def handle(request):
    return parse_header(request)


threading.Thread(target=handle, args=(0,), name="worker-1").start()
time.sleep(5)
