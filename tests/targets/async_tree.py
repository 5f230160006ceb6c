"""Live-test target: a tree of asyncio tasks parked on every common kind of
await (see _arecord.py for the record).

  Task-1 main()                      awaits the "server" task
    server                           TaskGroup (3.11+) / gather (older) of:
      conn-1                           gather(reader-1, writer-1)
        reader-1                         Event, two helper coroutines deep
        writer-1                         Lock held by lock-holder
      conn-2                           gather(reader-2, writer-2)
        reader-2                         Queue.get
        writer-2                         Condition.wait
      sem-waiter                       Semaphore(0).acquire
      stream                           async for over an async generator
                                       whose body awaits an Event
      joiner                           awaits a Task-N directly
        Task-N                           a loop.create_future() never set
  lock-holder                        holds the Lock, sleeps 3600 s
  Task-N                             sleeps 3600 s

usage: python async_tree.py RECORD_PATH   (runs until killed)
"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _arecord  # noqa: E402

rec = _arecord.recorder_from_argv()
rec.pstree = True
HAVE_TASKGROUP = hasattr(asyncio, "TaskGroup")
rec.info["conn_group"] = "taskgroup" if HAVE_TASKGROUP else "gather"


def spawn(coro, kind, name=None):
    return rec.expect(asyncio.get_running_loop().create_task(coro, name=name),
                      kind)


async def read_bytes(ev):
    await ev.wait()


async def read_frame(ev):
    await read_bytes(ev)


async def reader_event(ev):
    await read_frame(ev)


async def writer_lock(lock):
    async with lock:
        pass


async def reader_queue(q):
    await q.get()


async def writer_condition(cond):
    async with cond:
        await cond.wait()


async def conn(n, shared):
    if n == 1:
        r = spawn(reader_event(asyncio.Event()), "event", "reader-1")
        w = spawn(writer_lock(shared["lock"]), "lock", "writer-1")
    else:
        r = spawn(reader_queue(asyncio.Queue()), "queue", "reader-2")
        w = spawn(writer_condition(asyncio.Condition()), "condition",
                  "writer-2")
    await asyncio.gather(r, w)


async def hold_lock(lock, got):
    async with lock:
        got.set()
        await asyncio.sleep(3600)


async def sem_wait(sem):
    await sem.acquire()


async def ticks(ev):
    while True:
        await ev.wait()
        yield 1


async def stream(ev):
    async for _ in ticks(ev):
        pass


async def wait_future():
    await _arecord.forever()


async def joiner():
    other = spawn(wait_future(), "future")
    await other


async def sleeper():
    await asyncio.sleep(3600)


def children(shared, create):
    create(conn(1, shared), "gather", "conn-1")
    create(conn(2, shared), "gather", "conn-2")
    create(sem_wait(asyncio.Semaphore(0)), "semaphore", "sem-waiter")
    create(stream(asyncio.Event()), "event", "stream")
    create(joiner(), "task", "joiner")


async def server():
    lock, got = asyncio.Lock(), asyncio.Event()
    spawn(hold_lock(lock, got), "sleep", "lock-holder")
    await got.wait()
    shared = {"lock": lock}
    if HAVE_TASKGROUP:
        async with asyncio.TaskGroup() as tg:
            children(shared, lambda coro, kind, name: rec.expect(
                tg.create_task(coro, name=name), kind))
    else:
        kids = []
        children(shared, lambda coro, kind, name: kids.append(
            spawn(coro, kind, name)))
        await asyncio.gather(*kids)


async def main():
    rec.loop()
    rec.expect(asyncio.current_task(), "task")
    srv = spawn(server(), "taskgroup" if HAVE_TASKGROUP else "gather",
                "server")
    spawn(sleeper(), "sleep")
    rec.start()
    await srv


if __name__ == "__main__":
    asyncio.run(main())
