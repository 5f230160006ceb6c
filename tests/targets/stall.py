"""Live-test target for `snakescope watch --on-stall`.

usage: python stall.py RECORD_PATH hang|busy|deadlock

Both write RECORD_PATH.start once running (watch can attach then).
hang: busy work on the main thread for about 1.5 s (its stack changes all
      the time), then, at a moment it records, blocks forever on a lock it
      holds.  RECORD_PATH gets {"pid", "hang_time" (time.time() just before
      the stack stops changing), "frames": the main thread's stack from then
      on, innermost first, as [function, filename, line]}.
busy: the same busy work forever; RECORD_PATH gets {"pid"} when it starts.
deadlock: threads "alpha" and "beta" each hold a lock (taken with a with
      statement) and want the other's, while the main thread goes on with
      the busy work: only the deadlock verdict can tell.  RECORD_PATH gets
      {"pid", "deadlock_time" (time.time() once both hold theirs)}.

The lock's acquire is a C call, so the waiting frame is hang()'s own.
Python 2.7 and 3.x.
"""
import json
import os
import sys
import threading
import time


def write_record(path, rec):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f)
    os.rename(tmp, path)


def busy_step():
    # The stack's depth changes every 50 ms, in a cycle of 5: two samples
    # 100 ms apart (watch's default rate) never see the same stack, unless
    # the process does not run.  Sampled at random moments, the lines of
    # the work alone could look the same a second long now and then.
    return nest(int(time.time() * 20) % 5)


def nest(depth):
    if depth:
        return nest(depth - 1)
    x = 0
    for i in range(2000):
        x += i
    time.sleep(0.001)
    return x


def frames(f, innermost_line):
    out = []
    while f is not None:
        out.append([f.f_code.co_name, f.f_code.co_filename,
                    innermost_line if not out else f.f_lineno])
        f = f.f_back
    return out


def hang(path):
    lock = threading.Lock()
    lock.acquire()
    stack = frames(sys._getframe(), sys._getframe().f_lineno + 2)
    write_record(path, {"pid": os.getpid(), "hang_time": time.time(), "frames": stack})
    lock.acquire()


def crossed(mine, theirs, have_mine, have_theirs):
    with mine:
        have_mine.set()
        have_theirs.wait()
        with theirs:
            pass


def deadlock(path):
    a, b = threading.Lock(), threading.Lock()
    have_a, have_b = threading.Event(), threading.Event()
    for name, args in (("alpha", (a, b, have_a, have_b)),
                       ("beta", (b, a, have_b, have_a))):
        t = threading.Thread(target=crossed, name=name, args=args)
        t.daemon = True
        t.start()
    have_a.wait()
    have_b.wait()
    write_record(path, {"pid": os.getpid(), "deadlock_time": time.time()})
    while True:
        busy_step()


def main():
    modes = ("hang", "busy", "deadlock")
    if len(sys.argv) != 3 or sys.argv[2] not in modes:
        sys.stderr.write("usage: stall.py RECORD_PATH hang|busy|deadlock\n")
        sys.exit(2)
    path, mode = sys.argv[1], sys.argv[2]
    write_record(path + ".start", {"pid": os.getpid()})
    if mode == "deadlock":
        deadlock(path)
    if mode == "busy":
        write_record(path, {"pid": os.getpid()})
        while True:
            busy_step()
    end = time.time() + 1.5
    while time.time() < end:
        busy_step()
    hang(path)


if __name__ == "__main__":
    main()
