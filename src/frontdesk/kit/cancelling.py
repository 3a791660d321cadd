"""Background loops that stop when they are told to, on Python 3.11 too."""

from __future__ import annotations

import asyncio


def stop_if_cancelling() -> None:
    """Raise CancelledError if this task has been asked to stop.

    For the `except Exception` of a loop that logs a failure and carries on: on Python
    3.11 a cancel() that lands while an asyncio.timeout is expiring (ours, or redis-py's
    around every socket read) can come out as TimeoutError, an Exception. The loop then
    caught it and slept on, and whoever awaited the cancelled task waited forever: seen
    as a test's teardown hanging on the instance heartbeat (events/instances.py). A cancel
    has also been seen lost with no exception at all (the task "cancelling" yet asleep
    again), so loops call this before each wait too, not only where they catch. The task
    still counts the request (Task.cancelling), so the loop can honour it here.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
