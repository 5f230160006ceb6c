"""A worker pool waiting for work: 100 threads blocked on one queue, and
the main thread waiting for them (the README's grouped-dump example)."""
import queue
import threading

jobs = queue.Queue()


def worker():
    while True:
        job = jobs.get()        # nothing is ever put: every worker waits
        job()


threads = [threading.Thread(target=worker, name="worker-%d" % i)
           for i in range(100)]
for t in threads:
    t.start()
for t in threads:
    t.join()
