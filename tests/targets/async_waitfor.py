"""Live-test target: awaits that go through asyncio's own futures.
"outer" awaits "inner" with asyncio.wait_for() (through a waiter future and
a functools.partial callback before 3.12, directly from 3.12), "shielder"
awaits "shielded" through asyncio.shield()'s outer future; both inner
tasks wait on one Event.  See _arecord.py for the record.

usage: python async_waitfor.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402

rec = _arecord.recorder_from_argv()
rec.pstree = True
DIRECT_WAIT_FOR = sys.version_info >= (3, 12)


async def inner(ev):
    await ev.wait()


async def outer(task):
    await asyncio.wait_for(task, 3600)


async def shielder(task):
    await asyncio.shield(task)


async def main():
    rec.loop()
    ev = asyncio.Event()
    loop = asyncio.get_running_loop()
    a = rec.expect(loop.create_task(inner(ev), name="inner"), "event")
    b = rec.expect(loop.create_task(inner(ev), name="shielded"), "event")
    wa = rec.expect(loop.create_task(outer(a), name="outer"),
                    "task" if DIRECT_WAIT_FOR else "future")
    sh = rec.expect(loop.create_task(shielder(b), name="shielder"), "future")
    rec.expect(asyncio.current_task(), "gather")
    rec.expect_awaits(wa, a)
    rec.expect_awaits(sh, b)
    rec.start()
    await asyncio.gather(wa, sh)


if __name__ == "__main__":
    asyncio.run(main())
