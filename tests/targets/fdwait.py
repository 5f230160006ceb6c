"""Live-test target: threads blocked in system calls on descriptors and
children, and what each waits on as the target itself knows it (the
record's "fdwait": thread name -> the "waits_on" a paused dump must give,
see tests/live/fdwait_check.py):

  recv      sock.recv() on a TCP connection to a listener of its own:
            socket, tcp, the connection's local and peer addresses
  accept    sock.accept() on a listening TCP socket: its address, LISTEN
  poll      select.poll() of one TCP socket, no timeout: as recv (with
            a timeout, an interrupted poll() comes back as
            restart_syscall, whose arguments are the kernel's)
  pipe      os.read() on a pipe whose write end only a child holds (the
            target closed its own): pipe, its inode, the child's PID
  fifo      os.read() on a FIFO (RECORD_PATH.fifo) that a child holds
            open for writing: fifo, its path and inode, the child's PID
  waitpid   os.waitpid() on a child: child, its PID and command line
  flock     fcntl.flock() on a file (RECORD_PATH.lock) a child holds
            locked: file, its path
  MainThread  acquires a held Lock (waits on nothing we name)

The children end when the target does (each polls its parent).

usage: python fdwait.py RECORD_PATH   (see _record.py)
"""
import fcntl
import os
import select
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _record  # noqa: E402
from _record import held_lock, park_lock  # noqa: E402

# A child that lives as long as its parent: argv[1] names a FIFO to open
# for writing and write one byte to, or "-"; argv[2] (if any) a file to
# lock (flock), then say so on its stdout.
CHILD = ("import os,sys,time,fcntl;p=os.getppid();"
         "f=os.open(sys.argv[1],os.O_WRONLY) if sys.argv[1]!='-' else None;"
         "f is None or os.write(f,b'x');"
         "g=open(sys.argv[2],'a') if sys.argv[2:] else None;"
         "g is None or (fcntl.flock(g,fcntl.LOCK_EX),os.write(1,b'L'));"
         "[time.sleep(0.2) for _ in iter(lambda:os.getppid()==p,False)]")


def child(arg="-", keep=(), lock=None):
    argv = [sys.executable, "-c", CHILD, arg] + ([lock] if lock else [])
    out = subprocess.PIPE if lock else None
    if sys.version_info >= (3, 2):
        p = subprocess.Popen(argv, pass_fds=keep, stdout=out)
    else:                       # 2.7: descriptors are inherited
        p = subprocess.Popen(argv, close_fds=not keep, stdout=out)
    if lock:
        p.stdout.read(1)        # it holds the lock
    return p, argv


def addr(a):
    return "%s:%d" % (a[0], a[1])


def recv(sock):
    sock.recv(1)


def poll(poller):
    poller.poll()


def accept(c_accept):
    c_accept()


def read_pipe(fd):
    os.read(fd, 1)


def read_fifo(path, info):
    fd = os.open(path, os.O_RDONLY)     # until the child opens it
    os.read(fd, 1)                      # the child's byte
    info["fd"] = fd
    info["inode"] = os.fstat(fd).st_ino
    os.read(fd, 1)


def flock(f):
    fcntl.flock(f, fcntl.LOCK_EX)


def waitpid(pid):
    os.waitpid(pid, 0)


def main():
    rec = _record.recorder_from_argv()
    expect = {}
    rec.info["fdwait"] = expect

    # The pipe's write end goes to a child and is closed here: the child
    # is the only writer.
    r, w = os.pipe()
    pipe_child, _ = child(keep=(w,))
    os.close(w)
    expect["pipe"] = {"kind": "pipe", "fd": r, "inode": os.fstat(r).st_ino,
                      "other_end": [pipe_child.pid], "syscall": ["read"]}

    fifo = os.path.realpath(rec.path) + ".fifo"
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    fifo_child, _ = child(fifo)
    fifo_info = {"kind": "fifo", "path": fifo,
                 "other_end": [fifo_child.pid], "syscall": ["read"]}
    expect["fifo"] = fifo_info

    lockfile = os.path.realpath(rec.path) + ".lock"
    lock_child, _ = child(lock=lockfile)
    locked = open(lockfile, "a")
    expect["flock"] = {"kind": "file", "fd": locked.fileno(),
                       "path": lockfile, "syscall": ["flock"]}

    wait_child, argv = child()
    expect["waitpid"] = {"kind": "child", "pid": wait_child.pid,
                         "cmdline": " ".join(argv), "syscall": ["wait4"]}

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    conn = socket.create_connection(listener.getsockname())
    served, _ = listener.accept()
    expect["recv"] = {"kind": "socket", "proto": "tcp",
                      "fd": conn.fileno(),
                      "local": addr(conn.getsockname()),
                      "peer": addr(conn.getpeername()),
                      "state": "ESTABLISHED", "syscall": ["recvfrom"]}
    timed = socket.create_connection(listener.getsockname())
    timed_served, _ = listener.accept()
    expect["poll"] = {"kind": "socket", "proto": "tcp",
                      "fd": timed.fileno(),
                      "local": addr(timed.getsockname()),
                      "peer": addr(timed.getpeername()),
                      "state": "ESTABLISHED", "syscall": ["poll", "ppoll"]}
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    expect["accept"] = {"kind": "socket", "proto": "tcp", "fd": lst.fileno(),
                        "local": addr(lst.getsockname()), "peer": None,
                        "state": "LISTEN", "syscall": ["accept", "accept4"]}

    rec.thread("recv", recv, conn)
    poller = select.poll()
    poller.register(timed.fileno(), select.POLLIN)
    rec.thread("poll", poll, poller)
    # socket.accept() is Python: park in the C call under it.
    rec.thread("accept", accept, getattr(lst, "_accept", None) or
               lst._sock.accept)
    rec.thread("pipe", read_pipe, r)
    rec.thread("fifo", read_fifo, fifo, fifo_info)
    rec.thread("waitpid", waitpid, wait_child.pid)
    rec.thread("flock", flock, locked)
    rec.start()
    rec.park(park_lock, held_lock())
    served.close()
    timed_served.close()


if __name__ == "__main__":
    main()
