"""One cap on every request body, applied where the app meets the server (contract 0, 12).

Routes read their bodies through capped readers already; this is what makes a route that
forgets (or a framework parser that reads behind its back) safe too: the ASGI `receive`
every route sees refuses to hand over more than 1 MiB, with 413 `Request body too large`.
Upload routes raise their own ceiling, before reading, with `allow_body`; nothing else can.
A route that takes no body never calls `receive`, so it reads none of one.
"""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from frontdesk.errors import TOO_LARGE, AppError
from frontdesk.kit.request_body import MAX_BODY_BYTES

_BUDGET = "frontdesk.body_budget"


class _Budget:
    __slots__ = ("answered", "limit", "received")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0
        self.answered = False


def capped(scope: Scope, receive: Receive, send: Send) -> tuple[Receive, Send]:
    """`receive`, refusing (413) the first chunk that takes the body past its ceiling, and
    `send`, which notes when the answer has begun.

    At most one chunk past the ceiling is ever held, and the refused one is dropped. Once
    an answer has begun (an event stream that only listens for the client going away), a
    413 can no longer be sent: the request is then told the client left, and it ends.
    """
    budget = _Budget(MAX_BODY_BYTES)
    scope[_BUDGET] = budget

    async def capped_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            budget.received += len(message.get("body", b""))
            if budget.received > budget.limit:
                if budget.answered:
                    return {"type": "http.disconnect"}
                raise AppError(413, TOO_LARGE)
        return message

    async def noting_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            budget.answered = True
        await send(message)

    return capped_receive, noting_send


def allow_body(scope: Scope, limit: int) -> None:
    """Raise this request's ceiling to `limit` bytes: for upload routes, before reading."""
    budget = scope.get(_BUDGET)
    if budget is not None:
        budget.limit = limit
