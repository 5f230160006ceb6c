"""Stress target that forks and execs all the time while its own Python
code keeps running: the main thread loops in fork_loop(), making a child
every few milliseconds, in turn:
  fork+exec   os.fork(), the child os.execv()s /bin/true
  fork+python os.fork(), the child execs this interpreter with -c "pass"
  fork+_exit  os.fork(), the child os._exit(0)s at once (a copy of this
              Python process that never execs)
  subprocess  subprocess.call(["/bin/true"]) (vfork/posix_spawn on 3.x)
and reaps it; a thread "worker" spins in work_loop() (pure Python); a
thread "parked" blocks in parked_wait() on an Event never set.

usage: python forkexec.py RECORD_PATH      (runs until killed)

After the first children it writes RECORD_PATH atomically:
  {"pid": int, "version": "3.12.1", "file": __file__,
   "threads": {"MainThread": ["fork_loop", "main", "<module>"],
               "worker": ["work_loop", ...], "parked": ["parked_wait", ...]}
   (each thread's own functions, innermost first, as a dump must show
   them below anything it calls), "children": count so far}

Python 2.7 and 3.6+; standard library only.
"""
import json
import os
import subprocess
import sys
import threading
import time
import warnings

# 3.12+: fork() in a process with threads warns; the point here.
warnings.filterwarnings("ignore", category=DeprecationWarning)

children = [0]


def work_loop():
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003


def parked_wait(ev):
    ev.wait()


def one_child(way):
    if way == 3:
        subprocess.call(["/bin/true"])
        return
    pid = os.fork()
    if pid == 0:
        try:
            if way == 0:
                os.execv("/bin/true", ["true"])
            elif way == 1:
                os.execv(sys.executable, [sys.executable, "-E", "-s", "-B",
                                          "-c", "pass"])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def fork_loop(record):
    n = 0
    while True:
        one_child(n % 4)
        n += 1
        children[0] = n
        if n == 8:
            write_record(record)
        time.sleep(0.002)


def write_record(path):
    info = {"pid": os.getpid(), "version": sys.version.split()[0],
            "file": os.path.abspath(__file__),
            "threads": {"MainThread": ["fork_loop", "main", "<module>"],
                        "worker": ["work_loop"],
                        "parked": ["parked_wait"]},
            "children": children[0]}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(info, f)
    os.rename(tmp, path)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: forkexec.py RECORD_PATH\n")
        sys.exit(2)
    for name, fn, args in (("worker", work_loop, ()),
                           ("parked", parked_wait, (threading.Event(),))):
        t = threading.Thread(target=fn, args=args, name=name)
        t.daemon = True
        t.start()
    fork_loop(sys.argv[1])


if __name__ == "__main__":
    main()
