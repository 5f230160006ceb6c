"""Live-test target: the pure-Python asyncio Task and Future (the _asyncio
C accelerator is blocked), so every await of a future goes through the
generator Future.__await__.

  Task-1 main()           gather(waiter, joiner)
    waiter                  Event, one helper coroutine deep
    joiner                  awaits the "sleeper" task directly
      sleeper                 sleeps 3600 s

See _arecord.py for the record.

usage: python async_pure.py RECORD_PATH   (runs until killed)
"""
import os
import sys

sys.modules["_asyncio"] = None      # before anything imports asyncio
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asyncio  # noqa: E402
import _arecord  # noqa: E402

assert asyncio.Task.__module__ == "asyncio.tasks", asyncio.Task
rec = _arecord.recorder_from_argv()
rec.pstree = False


async def wait_helper(ev):
    await ev.wait()


async def waiter(ev):
    await wait_helper(ev)


async def sleeper():
    await asyncio.sleep(3600)


async def joiner():
    other = rec.expect(asyncio.get_running_loop().create_task(
        sleeper(), name="sleeper"), "sleep")
    await other


async def main():
    loop = rec.loop()
    rec.expect(asyncio.current_task(), "gather")
    w = rec.expect(loop.create_task(waiter(asyncio.Event()), name="waiter"),
                   "event")
    j = rec.expect(loop.create_task(joiner(), name="joiner"), "task")
    rec.start()
    await asyncio.gather(w, j)


if __name__ == "__main__":
    asyncio.run(main())
