"""A background loop that logs failures and carries on still stops when cancelled, even
when the cancellation reaches it as TimeoutError (Python 3.11's asyncio.timeout can do
that when a cancel lands as the timeout expires: kit/cancelling.py)."""

from __future__ import annotations

import asyncio

import pytest

from frontdesk.kit.cancelling import stop_if_cancelling


async def _step_that_turns_a_cancel_into_a_timeout() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        raise TimeoutError from None  # what a timeout expiring at the same moment does


async def _loop(rounds: list[int], stop_when_asked: bool) -> None:
    while 0 not in rounds:  # a 0 ends it (the test's own clean-up)
        try:
            await _step_that_turns_a_cancel_into_a_timeout()
        except Exception:
            if stop_when_asked:
                stop_if_cancelling()
        rounds.append(1)
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("stop_when_asked", [True, False])
async def test_a_swallowed_cancel_still_stops_the_loop(stop_when_asked: bool) -> None:
    rounds: list[int] = []
    task = asyncio.create_task(_loop(rounds, stop_when_asked))
    await asyncio.sleep(0.01)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.5)
    if stop_when_asked:
        assert task in done and task.cancelled() and rounds == []
    else:
        # Without the check the loop runs on: the hang this guards against.
        assert not done and rounds
        rounds.append(0)
        task.cancel()
        await asyncio.wait_for(task, 1)
