"""Stress target that exits at a random moment soon after it starts.

usage: python randexit.py [MAX_SECONDS [SEED]]

Starts three threads (one spinning in Python, one sleeping, one making and
dropping objects), prints "ready" on stdout, then after a random delay in
[0, MAX_SECONDS) (default 0.2) ends one of five ways, chosen at random:
  return    the main thread returns: interpreter finalization, the daemon
            threads still running while the runtime is torn down
  exit      sys.exit(0) from inside a function
  raise     an uncaught exception (exit status 1)
  _exit     os._exit(0): no finalization at all
  kill      SIGKILL to itself
It prints "exit WAY" on stdout just before.  Python 2.7 and 3.6+.
"""
import os
import random
import signal
import sys
import threading
import time


def spin():
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003


def sleeper():
    while True:
        time.sleep(0.01)


def churn():
    while True:
        junk = [dict(a=i, b=str(i)) for i in range(200)]
        del junk


def finish(way):
    sys.stdout.write("exit %s\n" % way)
    sys.stdout.flush()
    if way == "exit":
        sys.exit(0)
    if way == "raise":
        raise RuntimeError("randexit: the chosen way out")
    if way == "_exit":
        os._exit(0)
    if way == "kill":
        os.kill(os.getpid(), signal.SIGKILL)


def main():
    most = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else None)
    for fn in (spin, sleeper, churn):
        t = threading.Thread(target=fn, name=fn.__name__)
        t.daemon = True
        t.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    time.sleep(rng.random() * most)
    finish(rng.choice(["return", "exit", "raise", "_exit", "kill"]))


if __name__ == "__main__":
    main()
