"""The asyncio half of top_target.py (3.8+ syntax, kept apart so that the
target still runs on 2.7): root -> gather(child-a, child-b), the children
sleeping in child_sleep().  on_ready(names) is called once they all run."""
import asyncio


async def child_sleep():
    while True:
        await asyncio.sleep(3600)


async def root(on_ready):
    a = asyncio.create_task(child_sleep(), name="child-a")
    b = asyncio.create_task(child_sleep(), name="child-b")
    await asyncio.sleep(0)
    on_ready(["root", "child-a", "child-b"])
    await asyncio.gather(a, b)


async def amain(on_ready):
    await asyncio.create_task(root(on_ready), name="root")


def run(on_ready):
    asyncio.run(amain(on_ready))
