"""Live-test target: code that names files the inspector must read as the
target sees them, or not at all (see tests/live/boundary_check.py).

usage: python boundary.py RECORD_PATH DIR [LIBRARY OTHER]

Run in a mount namespace of its own where DIR/etcdir/name is a file bind-
mounted over the host's.  Threads park in functions compiled with these
file names:
  - DIR/link/name, where DIR/link is an absolute symbolic link to
    DIR/etcdir: its line 2 reads differently here and on the host; the
    target records what it reads ("source_lines");
  - DIR/fifo (a FIFO with no writer), /dev/zero and DIR/sock (a socket):
    a reader that opens them blindly blocks or reads for ever.
With LIBRARY and OTHER, it loads LIBRARY (built from _side.c with
SIDE=mapped), then mounts OTHER over LIBRARY's path in its namespace, and
a thread blocks in mapped_side_wait(): the file at the path is no longer
the one mapped.
"""
import ctypes
import linecache
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

MS_BIND = 4096


def compiled_park(filename):
    """A function parked in ev.wait() whose code names filename, line 2."""
    ns = {}
    exec(compile("def park_named(ev):\n    ev.wait()\n", filename, "exec"),
         ns)
    return ns["park_named"]


def park_in_library(fn):
    fn()


def bind_over(other, path):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_ulong, ctypes.c_void_p]
    if libc.mount(other.encode(), path.encode(), None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --bind %s %s"
                      % (other, path))


def main():
    rec = _record.recorder_from_argv()
    d = sys.argv[2]
    via_link = os.path.join(d, "link", "name")
    rec.info["source_lines"] = {
        via_link: linecache.getline(via_link, 2).strip()}
    rec.thread("via-symlink", compiled_park(via_link), threading.Event())
    rec.thread("fifo-file", compiled_park(os.path.join(d, "fifo")),
               threading.Event())
    rec.thread("dev-zero", compiled_park("/dev/zero"), threading.Event())
    rec.thread("socket-file", compiled_park(os.path.join(d, "sock")),
               threading.Event())
    if len(sys.argv) > 4:
        lib = ctypes.CDLL(sys.argv[3])
        bind_over(sys.argv[4], sys.argv[3])
        rec.thread("in-library", park_in_library, lib.mapped_side_wait)
    rec.start()
    rec.park(_record.park_event, threading.Event())


if __name__ == "__main__":
    main()
