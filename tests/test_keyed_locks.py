"""db/keyed_locks.py: one lock per key, gone once nobody holds or waits for it."""

from __future__ import annotations

import asyncio

from frontdesk.db.keyed_locks import KeyedLocks


async def test_one_key_lets_one_in_at_a_time_in_arrival_order_and_other_keys_pass():
    locks = KeyedLocks()
    inside: list[str] = []
    order: list[str] = []
    release = asyncio.Event()

    async def worker(key: str, name: str) -> None:
        async with locks.hold(key):
            inside.append(name)
            assert [n for n in inside if n.startswith(key)] == [name]  # alone with its key
            order.append(name)
            if name == "a1":
                await release.wait()
            await asyncio.sleep(0)
            inside.remove(name)

    tasks = [asyncio.create_task(worker("a", f"a{i}")) for i in (1, 2, 3)]
    other = asyncio.create_task(worker("b", "b1"))
    await asyncio.wait_for(other, 1)  # not held up by key "a"
    assert order == ["a1", "b1"]
    assert len(locks) == 1  # "a" only: "b" went when its only user left
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a1", "b1", "a2", "a3"]
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_entry_behind():
    locks = KeyedLocks()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.hold("k"):
            holding.set()
            await release.wait()

    first = asyncio.create_task(holder())
    await holding.wait()

    async def waiter() -> None:
        async with locks.hold("k"):
            pass

    second = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    release.set()
    await first
    assert len(locks) == 0
