"""snakescope's demo target: a few named threads, each parked somewhere
different, and an asyncio service in its own thread whose tasks wait on
each other, so a dump has something to show.  Prints READY when set up."""
import asyncio
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


async def handle(conn_id, lock, replies):
    async with lock:                       # the lock is held elsewhere
        await replies.get()


async def serve(started):
    lock = asyncio.Lock()
    await lock.acquire()
    replies = asyncio.Queue()
    conns = [asyncio.create_task(handle(i, lock, replies),
                                 name="conn-%d" % i) for i in (1, 2)]
    ticker = asyncio.create_task(asyncio.sleep(3600), name="ticker")
    await asyncio.sleep(0)
    started.set()
    await asyncio.gather(*conns, ticker)


def run_service(started):
    asyncio.run(serve(started))


def main():
    cache = Cache()
    jobs = queue.Queue()
    stop = threading.Event()
    threading.Thread(target=cache.refresh, name="cache-refresher",
                     daemon=True).start()
    threading.Thread(target=poll_forever, name="poller", daemon=True).start()
    threading.Thread(target=consume, args=(jobs,), name="worker-1",
                     daemon=True).start()
    started = threading.Event()
    threading.Thread(target=run_service, args=(started,), name="service",
                     daemon=True).start()
    started.wait()
    print("READY", flush=True)
    stop.wait()


if __name__ == "__main__":
    sys.exit(main())
