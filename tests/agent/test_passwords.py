"""argon2 runs off the event loop: a sign-in never stalls the requests beside it."""

from __future__ import annotations

import asyncio

from frontdesk.agents.passwords import hash_password, verify_password


async def test_hashing_and_verifying_leave_the_event_loop_free() -> None:
    # A task that counts its turns on the loop: while a hash ran on the loop it got none
    # (four parallel sign-ins stalled /healthz for 0.8 s); in a thread it keeps turning.
    turns = 0
    done = asyncio.Event()

    async def count_turns() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    start = turns
    hashed = await hash_password("correct horse battery")
    while_hashing, start = turns - start, turns
    results = await asyncio.gather(
        *(verify_password(hashed, guess) for guess in ("correct horse battery", "wrong", "x", ""))
    )
    while_verifying = turns - start
    done.set()
    await counter
    assert results == [True, False, False, False]
    assert while_hashing > 10 and while_verifying > 10, (while_hashing, while_verifying)


async def test_an_unknown_email_costs_a_verification_too() -> None:
    assert await verify_password(None, "anything") is False
