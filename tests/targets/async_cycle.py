"""Live-test target: an await cycle.  "alpha" awaits the "beta" task and
"beta" awaits the "alpha" task; "gamma" awaits alpha (outside the cycle);
main (Task-1) awaits gamma; an unrelated "sleeper" sleeps 3600 s.
See _arecord.py for the record; cycles == [[alpha, beta]].

usage: python async_cycle.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402

rec = _arecord.recorder_from_argv()
rec.pstree = False          # pstree refuses graphs with cycles
tasks = {}


async def alpha(go):
    await go.wait()
    await tasks["beta"]


async def beta(go):
    await go.wait()
    await tasks["alpha"]


async def gamma():
    await tasks["alpha"]


async def sleeper():
    await asyncio.sleep(3600)


async def main():
    rec.loop()
    rec.expect(asyncio.current_task(), "task")
    loop = asyncio.get_running_loop()
    go = asyncio.Event()
    tasks["alpha"] = rec.expect(loop.create_task(alpha(go), name="alpha"),
                                "task")
    tasks["beta"] = rec.expect(loop.create_task(beta(go), name="beta"),
                               "task")
    g = rec.expect(loop.create_task(gamma(), name="gamma"), "task")
    rec.expect(loop.create_task(sleeper(), name="sleeper"), "sleep")
    rec.expect_cycles([[tasks["alpha"], tasks["beta"]]])
    go.set()
    rec.start()
    await g


if __name__ == "__main__":
    asyncio.run(main())
