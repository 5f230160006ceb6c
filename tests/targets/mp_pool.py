"""Live-test target for `snakescope record --subprocesses`: a multiprocessing
Pool of two forked workers, each spinning in worker_spin() for good.

usage: python mp_pool.py RECORD_PATH   (runs until killed)

The workers are forked (the 'fork' start method, asked for explicitly where
the context API exists: 3.14 made 'forkserver' the default on Linux).  Each
worker puts its pid on a queue, then spins pure-Python arithmetic in
worker_spin() without calling a Python function, so worker_spin is its
innermost frame.  Once both workers have reported, the parent writes
RECORD_PATH atomically (tmp + rename):

  {"pid": int, "version": "3.12.1", "children": [pid, pid],
   "start_method": "fork", "file": worker_spin's co_filename}

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


def worker_spin(index):
    _queue.put(os.getpid())
    x = index
    while True:
        x = (x * 31 + 7) % 1000003


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(obj, sort_keys=True))
    os.rename(tmp, path)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: mp_pool.py RECORD_PATH\n")
        sys.exit(2)
    path = sys.argv[1]
    get_context = getattr(multiprocessing, "get_context", None)
    ctx = get_context("fork") if get_context is not None else multiprocessing
    q = ctx.Queue()
    pool = ctx.Pool(2, initializer=init_worker, initargs=(q,))

    def stop(signum, frame):
        pool.terminate()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # Two tasks, one each: a worker that took one never comes back for more.
    pool.map_async(worker_spin, [0, 1], chunksize=1)
    children = []
    deadline = time.time() + 25
    while len(set(children)) < 2:
        if time.time() > deadline:
            sys.stderr.write("mp_pool: workers did not report: %r\n"
                             % (children,))
            pool.terminate()
            sys.exit(3)
        try:
            children.append(q.get(timeout=1))
        except Exception:       # queue.Empty (Queue.Empty on 2.7)
            pass
    write_json(path, {"pid": os.getpid(),
                      "version": sys.version.split()[0],
                      "children": sorted(set(children)),
                      "start_method": "fork",
                      "file": worker_spin.__code__.co_filename})
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
