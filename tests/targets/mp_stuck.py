"""Live-test target for `snakescope dump --subprocesses` and `dump PID
PID...`: a multiprocessing Pool of forked workers, one of them stuck in
stuck_task() for good, the others idle, waiting for work.

usage: python mp_stuck.py RECORD_PATH [WORKERS]   (runs until killed)

WORKERS (default 4, at least 2) workers are forked (the 'fork' start
method, asked for explicitly where the context API exists: 3.14 made
'forkserver' the default on Linux).  One task goes to the pool: it puts
its worker's pid on a queue, then sleeps in stuck_task() for good.  The
other workers wait for work in the pool's task queue: one of them reads
its pipe, the others wait for the pipe's lock (so the idle workers are
two kinds of stack, the lock waiters alike).  Once the stuck worker has
reported, the parent writes RECORD_PATH atomically (tmp + rename):

  {"pid": int, "version": "3.12.1", "workers": [pid, ...],
   "stuck": pid, "stuck_function": "stuck_task",
   "stuck_line": the line of its sleep, "file": its co_filename,
   "start_method": "fork"}

and then sleeps.  SIGTERM or SIGINT terminate the pool and exit with status
0; the test starts the target in a process group of its own and kills the
group (the workers are in it too).

Works on Python 2.7 and 3.6+; standard library only.
"""
import json
import multiprocessing
import os
import signal
import sys
import time

_queue = None


def init_worker(q):
    global _queue
    _queue = q
    # The parent handles the signals; a worker just dies with the group.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stuck_task(index):
    _queue.put(os.getpid())
    while True:
        time.sleep(3600)  # stuck here


def stuck_line():
    with open(stuck_task.__code__.co_filename) as f:
        for n, line in enumerate(f, 1):
            if line.rstrip().endswith("# stuck here"):
                return n
    return None


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, sort_keys=True))
    os.rename(tmp, path)


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: mp_stuck.py RECORD_PATH [WORKERS]\n")
        sys.exit(2)
    path = sys.argv[1]
    nworkers = int(sys.argv[2]) if len(sys.argv) == 3 else 4
    get_context = getattr(multiprocessing, "get_context", None)
    ctx = get_context("fork") if get_context is not None else multiprocessing
    q = ctx.Queue()
    pool = ctx.Pool(max(2, nworkers), initializer=init_worker,
                    initargs=(q,))

    def stop(signum, frame):
        pool.terminate()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    pool.apply_async(stuck_task, (0,))
    try:
        stuck = q.get(timeout=25)
    except Exception:           # queue.Empty (Queue.Empty on 2.7)
        sys.stderr.write("mp_stuck: the stuck worker did not report\n")
        pool.terminate()
        sys.exit(3)
    write_json(path, {"pid": os.getpid(),
                      "version": sys.version.split()[0],
                      "workers": sorted(p.pid for p in pool._pool),
                      "stuck": stuck,
                      "stuck_function": "stuck_task",
                      "stuck_line": stuck_line(),
                      "file": stuck_task.__code__.co_filename,
                      "start_method": "fork"})
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
