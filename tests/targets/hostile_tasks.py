"""Live-test target: asyncio tasks with hostile names (Python 3.8+).

One task per hostile string of hostile_names.py (escape sequences,
newlines, NULs, C1 controls, lone surrogates, 1 MiB): the task's name is
it, and so are the name, qualified name and file name of the coroutine it
waits in, on an Event.  See _arecord.py for the record.

usage: python hostile_tasks.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402
from hostile_names import HOSTILE  # noqa: E402

rec = _arecord.recorder_from_argv()

WAIT_SOURCE = u"async def wait(ev):\n    await ev.wait()\n"


def hostile_coroutine_function(key, text):
    ns = {}
    exec(compile(WAIT_SOURCE, "hostile.py", "exec"), ns)
    c = ns["wait"].__code__
    kw = {"co_name": u"wait_" + text,
          "co_filename": u"/nonexistent/" + key + u"/" + text + u".py"}
    if hasattr(c, "co_qualname"):
        kw["co_qualname"] = kw["co_name"]
    f = types.FunctionType(c.replace(**kw), ns, kw["co_name"])
    f.__qualname__ = kw["co_name"]
    return f


async def main():
    loop = rec.loop()
    rec.expect(asyncio.current_task(), "event")
    for key, text in HOSTILE:
        wait = hostile_coroutine_function(key, text)
        task = loop.create_task(wait(asyncio.Event()))
        task.set_name(u"task_" + text)
        rec.expect(task, "event")
    rec.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
