"""The chat API's hot routes (config, starting a conversation, reading and sending messages),
ahead of the framework.

Every open widget polls or posts to these, so they skip FastAPI's middleware stack, route
matching, dependency solving and Starlette's Request and Response objects. They run the
same handlers as the documented routes (handlers.config, .create, .messages, .send) on a
ChatRequest read straight from the ASGI scope, and do what the skipped layers would have
done: the error envelope and headers (errors.finish_error, as FastAPI's handlers use),
rate-limit and CORS headers, metrics. Everything else passes straight through to the app.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.chat import cors, handlers
from frontdesk.chat.request import ChatRequest
from frontdesk.errors import AppError, ErrorAnswer, finish_error, unexpected_error
from frontdesk.runtime import Runtime

CONFIG = "/api/v1/chat/config"
CREATE = "/api/v1/chat/conversations"
CONVERSATIONS = "/api/v1/chat/conversations/"
MESSAGES = "/messages"
MESSAGES_ROUTE = "/api/v1/chat/conversations/{visitor_token}/messages"
JSON_TYPE = (b"content-type", b"application/json")


class ChatFastLane:
    def __init__(self, app: ASGIApp, rt: Runtime) -> None:
        self.app = app
        self.rt = rt

    def _answer(
        self, scope: Scope, receive: Receive
    ) -> tuple[Awaitable[tuple[int, Any]], str, ChatRequest] | None:
        """For a hot route: the handler's answer to await, the route template, the request."""
        method, path = scope["method"], scope["path"]
        if method == "GET" and path == CONFIG:
            request = ChatRequest(scope, receive)
            return handlers.config(self.rt, request), CONFIG, request
        if method == "POST" and path == CREATE:
            request = ChatRequest(scope, receive)
            return handlers.create(self.rt, request), CREATE, request
        if path.startswith(CONVERSATIONS) and path.endswith(MESSAGES):
            token = path[len(CONVERSATIONS) : -len(MESSAGES)]
            if token and "/" not in token and method in ("GET", "POST"):
                request = ChatRequest(scope, receive)
                handler = handlers.messages if method == "GET" else handlers.send
                return handler(self.rt, request, token), MESSAGES_ROUTE, request
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._answer(scope, receive) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        answer, route, request = found
        started = time.perf_counter()
        headers = [JSON_TYPE]
        error: ErrorAnswer | None = None
        try:
            status, content = await answer
            body = orjson.dumps(content)
            headers += request.raw_headers()
        except AppError as exc:
            error = finish_error(exc.status, exc.message, exc.headers, request.verdict)
        except ClientDisconnect:
            return  # nobody is left to answer
        except Exception as exc:
            error = unexpected_error(exc, f"{method} {route}")
        if error is not None:
            status, body = error.status, error.body
            headers += [
                (name.lower().encode(), value.encode()) for name, value in error.headers.items()
            ]
        headers.append((b"content-length", b"%d" % len(body)))
        headers += cors.response_headers(request.header(b"origin"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.rt.metrics.record(method, route, status, time.perf_counter() - started)
