"""Live-test target: waits across processes, and the record of who waits
for whom as the target itself knows it (see tests/live/procwait_check.py).

  pipe_py   the subprocess pipe deadlock: the main thread in Popen.wait()
            of a Python child that writes 1 MiB to its stdout pipe, which
            nobody reads: the child blocks in write(), the parent in
            wait4() (deadlock: 2 processes)
  pipe_sh   the same with `sh -c 'head -c 1048576 /dev/zero; echo'`: sh
            waits for head, which blocks writing (deadlock: 3 processes,
            none of them Python but the parent)
  hang      the main thread waits for a child that is itself in a pipe
            deadlock with its own child (likely hang: the parent waits
            behind a cycle of 2 other processes)
  tcp       the main thread and a Python child connected over TCP on
            127.0.0.1, each in recv() waiting for the other to speak
            first (deadlock: 2 processes, through the sockets)
  reading   healthy: the main thread reads a child's output as it comes
            (a line every 50 ms), a thread waits for a child that sleeps
            (no verdict)

The record (RECORD_PATH, JSON): {"pid", "recorder_native_id", "threads":
[], "version", "shape", "verdict": "deadlock"|"likely_hang"|"none", "tid" (the main
thread's native id), "thread_id", "chain": [{"pid", "tid", "waits_on":
"child"|"pipe"|"socket", "fd", "inode", "writes", "waits_for", "outermost": a
Python peer's outermost frame {"function", "filename", "line"}, else
null}, ...] (the steps a verdict must name, in order, from the main
thread's), "cycle_from"}.
It is written once every process of the chain is blocked where it
should be (their wchan and syscall files).

usage: python procwait.py RECORD_PATH SHAPE
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402

BIG = 1 << 20
WRITER = ("import os\n"
          "b = b'x' * %d\n"
          "while b:\n"
          "    b = b[os.write(1, b):]\n" % BIG)
WRITER_LINE = 4                 # os.write(), where the writer blocks
# A Python child in the pipe deadlock with its own child (the hang shape).
MIDDLE = ("import subprocess, sys\n"
          "p = subprocess.Popen([sys.executable, '-c', %r],"
          " stdout=subprocess.PIPE)\n"
          "p.wait()\n" % WRITER)
MIDDLE_LINE = 3                 # p.wait()
# Connects to the parent's port, says its socket's descriptor and inode
# on stdout, then waits for the parent to speak first (which waits for it
# to: the tcp shape).
TCP_CHILD = ("import os, socket, sys\n"
             "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
             "sys.stdout.write('%d %d\\n' % (s.fileno(),"
             " os.fstat(s.fileno()).st_ino))\n"
             "sys.stdout.flush()\n"
             "s.recv(1)\n")
TCP_CHILD_LINE = 5              # s.recv(1)
TALKER = ("import os, sys, time\n"
          "p = os.getppid()\n"
          "while os.getppid() == p:\n"
          "    sys.stdout.write('tick\\n')\n"
          "    sys.stdout.flush()\n"
          "    time.sleep(0.05)\n")
SLEEPER = ("import os, time\n"
           "p = os.getppid()\n"
           "while os.getppid() == p:\n"
           "    time.sleep(0.2)\n")


def task_file(pid, tid, name):
    try:
        with open("/proc/%d/task/%d/%s" % (pid, tid, name)) as f:
            return f.read().strip()
    except (IOError, OSError):
        return ""


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (IOError, OSError):
        return []


def blocked(pid, tid, wchan):
    """Is task tid of pid asleep in a call whose wchan contains wchan?"""
    stat = task_file(pid, tid, "stat")
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state == ["S"] and wchan in task_file(pid, tid, "wchan")


def fd_inode(pid, fd):
    """The inode of a pipe's or a socket's descriptor."""
    link = os.readlink("/proc/%d/fd/%d" % (pid, fd))
    return int(link[link.index("[") + 1:-1]) if "[" in link else None


def step(pid, tid, waits_on, waits_for, fd=None, writes=None, line=None):
    """line: a Python peer's outermost frame's line in its -c code."""
    return {"pid": pid, "tid": tid, "waits_on": waits_on, "fd": fd,
            "inode": fd_inode(pid, fd) if fd is not None else None,
            "writes": writes, "waits_for": waits_for,
            "outermost": None if line is None else {
                "function": "<module>", "filename": "<string>",
                "line": line}}


def chain_of(shape, me, tid, p):
    """The chain as it stands, or None while a process is not there yet."""
    if not blocked(me, tid, "wait"):
        return None
    if shape == "pipe_py":
        if not blocked(p.pid, p.pid, "pipe_write"):
            return None
        return [step(me, tid, "child", p.pid),
                step(p.pid, p.pid, "pipe", me, fd=1, writes=True,
                     line=WRITER_LINE)], 0
    if shape == "pipe_sh":
        kids = children(p.pid)
        if len(kids) != 1 or not blocked(p.pid, p.pid, "wait") or \
                not blocked(kids[0], kids[0], "pipe_write"):
            return None
        return [step(me, tid, "child", p.pid),
                step(p.pid, p.pid, "child", kids[0]),
                step(kids[0], kids[0], "pipe", me, fd=1, writes=True)], 0
    if shape == "hang":
        kids = children(p.pid)
        if len(kids) != 1 or not blocked(p.pid, p.pid, "wait") or \
                not blocked(kids[0], kids[0], "pipe_write"):
            return None
        return [step(me, tid, "child", p.pid),
                step(p.pid, p.pid, "child", kids[0], line=MIDDLE_LINE),
                step(kids[0], kids[0], "pipe", p.pid, fd=1,
                     writes=True, line=WRITER_LINE)], 1
    if shape == "tcp":
        if not TCP_READY or not blocked(p.pid, p.pid, "wait"):
            return None
        fd, ino = TCP_READY
        return [step(me, tid, "socket", p.pid, fd=TCP_CONN[0],
                     writes=False),
                dict(step(p.pid, p.pid, "socket", me, writes=False,
                          line=TCP_CHILD_LINE), fd=fd, inode=ino)], 0
    return None


TCP_READY = []                  # the child's socket: fd, inode
TCP_CONN = []                   # ours: fd


def record_when_ready(rec_path, shape, tid, thread_id, p):
    me = os.getpid()
    out = {"pid": me, "recorder_native_id": _record.native_id(),
           "threads": [], "version": sys.version.split()[0],
           "shape": shape, "tid": tid,
           "thread_id": thread_id}
    if shape == "reading":
        # Healthy: let the talker talk a while first.
        time.sleep(0.5)
        out.update(verdict="none", chain=[], cycle_from=None)
    else:
        while True:
            got = chain_of(shape, me, tid, p)
            if got:
                break
            time.sleep(0.02)
        out.update(verdict="deadlock" if got[1] == 0 else "likely_hang",
                   chain=got[0], cycle_from=got[1])
    tmp = rec_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, rec_path)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s RECORD_PATH SHAPE\n" % sys.argv[0])
        sys.exit(2)
    rec_path, shape = sys.argv[1], sys.argv[2]
    py = sys.executable
    if shape == "pipe_py":
        p = subprocess.Popen([py, "-c", WRITER], stdout=subprocess.PIPE)
    elif shape == "pipe_sh":
        p = subprocess.Popen(["sh", "-c", "head -c %d /dev/zero; echo" % BIG],
                             stdout=subprocess.PIPE)
    elif shape == "hang":
        p = subprocess.Popen([py, "-c", MIDDLE])
    elif shape == "tcp":
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        p = subprocess.Popen([py, "-c", TCP_CHILD,
                              str(srv.getsockname()[1])],
                             stdout=subprocess.PIPE)
        conn = srv.accept()[0]
        srv.close()
        TCP_CONN.append(conn.fileno())
    elif shape == "reading":
        p = subprocess.Popen([py, "-c", TALKER], stdout=subprocess.PIPE)
        sleeper = subprocess.Popen([py, "-c", SLEEPER])
        t = threading.Thread(target=sleeper.wait, name="waiter")
        t.daemon = True
        t.start()
    else:
        sys.stderr.write("unknown shape %r\n" % shape)
        sys.exit(2)
    r = threading.Thread(target=record_when_ready, name="recorder",
                         args=(rec_path, shape, _record.native_id(),
                               _record.get_ident(), p))
    r.daemon = True
    r.start()
    if shape == "reading":
        for _ in iter(p.stdout.readline, b""):
            pass
    if shape == "tcp":
        line = p.stdout.readline().split()
        TCP_READY.extend([int(line[0]), int(line[1])])
        conn.recv(1)
    p.wait()


if __name__ == "__main__":
    main()
