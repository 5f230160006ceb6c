"""Live-test target: two event loops in two threads.

  main thread:  asyncio.run(main()); Task-1 gathers "main-ev-1" and
                "main-ev-2", each waiting on an asyncio.Event.
  "loop-worker" thread: asyncio.run(worker()); the worker's main task
                gathers "worker-ev-1" and "worker-ev-2" (asyncio.Event), and
                a "busy" task is RUNNING: it calls blocking_helper(), which
                blocks the loop thread in a threading.Event().wait().  On
                3.12+ "busy" is created by asyncio.eager_task_factory, so it
                blocks during its first, eager step (still an eager task);
                earlier it is an ordinary task blocking in its first step.
                Either way it is created from a plain loop callback
                (call_soon), so no other task is in the middle of a step.

See _arecord.py for the record; the main loop is idle in its selector.

usage: python async_threads.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402

rec = _arecord.recorder_from_argv()
rec.pstree = False
EAGER = hasattr(asyncio, "eager_task_factory")
rec.info["busy_eager"] = EAGER
worker_ready = threading.Event()


def blocking_helper():
    threading.Event().wait()


async def busy():
    rec.expect(asyncio.current_task(), "running")
    worker_ready.set()
    blocking_helper()


async def wait_event(ev):
    await ev.wait()


def spawn_busy(loop):
    if EAGER:
        loop.set_task_factory(asyncio.eager_task_factory)
    loop.create_task(busy(), name="busy")


async def worker():
    loop = rec.loop()
    rec.expect(asyncio.current_task(), "gather")
    kids = [rec.expect(loop.create_task(wait_event(asyncio.Event()),
                                        name="worker-ev-%d" % i), "event")
            for i in (1, 2)]
    loop.call_soon(spawn_busy, loop)
    await asyncio.gather(*kids)


async def main():
    loop = rec.loop()
    rec.expect(asyncio.current_task(), "gather")
    kids = [rec.expect(loop.create_task(wait_event(asyncio.Event()),
                                        name="main-ev-%d" % i), "event")
            for i in (1, 2)]
    t = threading.Thread(target=asyncio.run, args=(worker(),),
                         name="loop-worker")
    t.daemon = True
    t.start()
    while not worker_ready.is_set():
        await asyncio.sleep(0.005)
    rec.start()
    await asyncio.gather(*kids)


if __name__ == "__main__":
    asyncio.run(main())
