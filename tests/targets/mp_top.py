"""Live-test target for `snakescope top --subprocesses` and `watch` of
several processes: a parent with forked children, one of them busy.

usage: python mp_top.py RECORD_PATH [IDLE [MODE]]   (runs until killed)

The parent forks (the 'fork' start method, asked for explicitly where the
context API exists: 3.14 made 'forkserver' the default on Linux) one busy
child, spinning in busy_child() for good, and IDLE (default 2) idle
children, sleeping in idle_child().  MODE "steps" (the default is
"spin") makes the busy child go on in steps instead: step_a() and step_b()
in turn, each a short sleep (its stack changes all the time: progress),
until it gets SIGUSR1; then it sleeps in stuck_here() for good (a stall).
The busy child tells the parent its
own word on where it is (its pid, and the function, file and first line
of the frame it runs, from sys._getframe()); then the parent writes
RECORD_PATH atomically (tmp + rename):

  {"pid": int, "version": "3.12.1", "busy": pid, "idle": [pid, ...],
   "busy_function": "busy_child", "file": co_filename,
   "busy_first_line": co_firstlineno, "idle_function": "idle_child",
   "start_method": "fork"}

Then the parent waits in a loop (time.sleep), and on
  SIGUSR1  forks one more child, sleeping in late_child(), and writes its
           pid to RECORD_PATH + ".late" (tmp + rename);
  SIGUSR2  ends that child (SIGKILL, reaped) and writes "gone" to
           RECORD_PATH + ".late".
SIGTERM or SIGINT end the children and exit with status 0; the test
starts the target in a process group of its own and kills the group.

Works on Python 2.7 and 3.6+; standard library only.
"""
import json
import multiprocessing
import os
import signal
import sys
import time


def busy_child(conn, mode):
    f = sys._getframe()
    stop = []
    # The parent's handlers came with the fork: this child's own.
    signal.signal(signal.SIGUSR1, lambda signum, frame: stop.append(1))
    signal.signal(signal.SIGUSR2, signal.SIG_DFL)
    conn.send((os.getpid(), f.f_code.co_name, f.f_code.co_filename,
               f.f_code.co_firstlineno))
    conn.close()
    if mode == "steps":
        while not stop:
            step_a()
            step_b()
        stuck_here()
    x = 0
    while True:
        x += 1


def step_a():
    time.sleep(0.02)


def step_b():
    time.sleep(0.02)


def stuck_here():
    while True:
        time.sleep(3600)


def idle_child():
    while True:
        time.sleep(3600)


def late_child():
    while True:
        time.sleep(3600)


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    if len(sys.argv) not in (2, 3, 4):
        sys.stderr.write("usage: mp_top.py RECORD_PATH [IDLE [MODE]]\n")
        sys.exit(2)
    path = sys.argv[1]
    nidle = int(sys.argv[2]) if len(sys.argv) >= 3 else 2
    mode = sys.argv[3] if len(sys.argv) == 4 else "spin"
    get_context = getattr(multiprocessing, "get_context", None)
    ctx = get_context("fork") if get_context is not None else multiprocessing
    want = []
    children = []

    def note(signum, frame):
        want.append(signum)

    def stop(signum, frame):
        for c in children:
            try:
                os.kill(c.pid, signal.SIGKILL)
            except OSError:
                pass
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, note)
    signal.signal(signal.SIGUSR2, note)

    mine, theirs = ctx.Pipe()
    busy = ctx.Process(target=busy_child, args=(theirs, mode))
    busy.start()
    children.append(busy)
    idle = [ctx.Process(target=idle_child) for _ in range(nidle)]
    for c in idle:
        c.start()
        children.append(c)
    pid, function, filename, first_line = mine.recv()
    write_file(path, json.dumps({
        "pid": os.getpid(), "version": "%d.%d.%d" % sys.version_info[:3],
        "busy": pid, "idle": [c.pid for c in idle],
        "busy_function": function, "file": filename,
        "busy_first_line": first_line, "idle_function": "idle_child",
        "mode": mode, "stuck_function": "stuck_here",
        "start_method": "fork"}, sort_keys=True))
    late = None
    while True:
        time.sleep(0.05)
        while want:
            signum = want.pop(0)
            if signum == signal.SIGUSR1 and late is None:
                late = ctx.Process(target=late_child)
                late.start()
                children.append(late)
                write_file(path + ".late", str(late.pid))
            elif signum == signal.SIGUSR2 and late is not None:
                os.kill(late.pid, signal.SIGKILL)
                late.join()
                children.remove(late)
                late = None
                write_file(path + ".late", "gone")


if __name__ == "__main__":
    main()
