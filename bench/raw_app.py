"""The ceiling: a bare ASGI app answering a fixed JSON body, served like Frontdesk is.

`bench/perf.py` runs it under the same uvicorn settings as `frontdesk serve`, in the same
run, so every Frontdesk figure is a ratio to what the server itself can do here and now.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"greeting":"Hi there! How can we help?","title":"My Company","color":"#2563eb"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    # Read the request body as a real handler would before answering.
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
