"""Live-test target: 10,000 tasks (default names) each sleeping 3600 s,
gathered by main (Task-1).  See _arecord.py for the record.

usage: python async_many.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402

COUNT = 10000
rec = _arecord.recorder_from_argv()
rec.pstree = False          # too big to be worth it


async def sleeper():
    await asyncio.sleep(3600)


async def main():
    rec.loop()
    rec.expect(asyncio.current_task(), "gather")
    loop = asyncio.get_running_loop()
    kids = [rec.expect(loop.create_task(sleeper()), "sleep")
            for _ in range(COUNT)]
    rec.start()
    await asyncio.gather(*kids)


if __name__ == "__main__":
    asyncio.run(main())
