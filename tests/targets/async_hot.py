"""Live-test target for `snakescope record --tasks`: a known await chain
with a hot function at its end.

usage: python async_hot.py RECORD_PATH [cycle]

asyncio.run(main()) names its task "main"; main creates task "outer" and
awaits it; outer creates task "inner" and awaits it; inner spins in hot()
(pure-Python arithmetic, about HOT_SECONDS) and yields to the loop
(await asyncio.sleep(0)) forever.  So whenever hot() is on the main
thread's stack, the running task is inner, awaited by outer, awaited by
main.

With "cycle": task "spin" spins as inner does; task "a" (coroutine
gather_two) awaits gather(spin, b); task "b" (coroutine wait_a) awaits
a: an await cycle between a and b above the running task.  Walking the
awaiters up from spin (a, then b, then a again) stops where a task comes
back, so the chain recorded is b, a, spin.

Once inner has been round its loop, the target writes RECORD_PATH
atomically (tmp + rename), recording what asyncio itself says:

  {"pid": int, "version": "3.12.1", "file": this file's co_filename,
   "chain": ["main", "outer", "inner"],     outermost awaiter first,
                                            from the tasks' own names
   "coroutines": ["main", "outer", "inner"], each task's coroutine
   "leaf": "hot"}

Python 3.8+ (task names); standard library only.
"""
import asyncio
import json
import os
import platform
import sys
import time

HOT_SECONDS = 0.005


def hot():
    end = time.time() + HOT_SECONDS
    x = 0
    while time.time() < end:
        x = (x * 31 + 7) % 1000003
    return x


def write_record(path, chain, coroutines=("main", "outer", "inner")):
    record = {
        "pid": os.getpid(),
        "version": platform.python_version(),
        "file": hot.__code__.co_filename,
        "chain": chain,
        "coroutines": list(coroutines),
        "leaf": "hot",
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.rename(tmp, path)


async def inner(path, names):
    names.append(asyncio.current_task().get_name())
    written = False
    while True:
        hot()
        await asyncio.sleep(0)
        if not written:
            write_record(path, names)
            written = True


async def outer(path, names):
    names.append(asyncio.current_task().get_name())
    await asyncio.get_running_loop().create_task(inner(path, names),
                                                 name="inner")


async def main(path):
    asyncio.current_task().set_name("main")
    names = [asyncio.current_task().get_name()]
    await asyncio.get_running_loop().create_task(outer(path, names),
                                                 name="outer")


TASKS = {}


async def spin(path):
    for i in range(3):  # a and b have started and await
        hot()
        await asyncio.sleep(0)
    write_record(path, ["b", "a", "spin"], ["wait_a", "gather_two", "spin"])
    while True:
        hot()
        await asyncio.sleep(0)


async def gather_two():
    await asyncio.gather(TASKS["spin"], TASKS["b"])


async def wait_a():
    await TASKS["a"]


async def cycle_main(path):
    loop = asyncio.get_running_loop()
    TASKS["spin"] = loop.create_task(spin(path), name="spin")
    TASKS["a"] = loop.create_task(gather_two(), name="a")
    TASKS["b"] = loop.create_task(wait_a(), name="b")
    await asyncio.sleep(3600)


if __name__ == "__main__":
    if sys.argv[2:] == ["cycle"]:
        asyncio.run(cycle_main(sys.argv[1]))
    else:
        asyncio.run(main(sys.argv[1]))
