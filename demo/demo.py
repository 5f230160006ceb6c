"""snakescope's demo target: a few named threads, each parked somewhere
different, so a dump has something to show.  Prints READY when set up."""
import queue
import sys
import threading
import time


class Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.lock.acquire()  # held forever: refresh() will block on it

    def refresh(self):
        with self.lock:
            pass


def poll_forever():
    time.sleep(3600)


def consume(jobs):
    while True:
        job = jobs.get()
        job()


def main():
    cache = Cache()
    jobs = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=cache.refresh, name="cache-refresher",
                     daemon=True).start()
    threading.Thread(target=poll_forever, name="poller", daemon=True).start()
    threading.Thread(target=consume, args=(jobs,), name="worker-1",
                     daemon=True).start()
    print("READY", flush=True)
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
