"""Run a coroutine to completion from synchronous test code, whatever loop the thread has.

Playwright's sync API keeps its own event loop registered as running in the main thread
for as long as it is open, so `asyncio.run()` there fails ("cannot be called from a running
event loop"). Fixtures that set up servers or databases call this instead: it runs the
coroutine on a loop of its own in a short-lived thread, so their order doesn't matter.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_off_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(make())` in a thread of its own; its result, or its exception."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(make())
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="run-off-loop")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
