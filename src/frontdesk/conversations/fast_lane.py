"""The widget's hot routes (config, reading and sending messages), ahead of the framework.

Every open widget polls or posts to these, so they skip FastAPI's middleware stack, route
matching and dependency solving. They run the very same handlers as the documented routes, and do
what the skipped layers would have done for them: the JSON error envelope, CORS headers
and metrics. Everything else passes straight through to the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.conversations.chat_routes import get_config, list_messages, send_message
from frontdesk.errors import AppError, error_response
from frontdesk.kit import cors
from frontdesk.ops.metrics import Metrics

log = logging.getLogger("frontdesk")

CONFIG = "/api/v1/chat/config"
CONVERSATIONS = "/api/v1/chat/conversations/"
MESSAGES = "/messages"
MESSAGES_ROUTE = "/api/v1/chat/conversations/{visitor_token}/messages"

Handler = Callable[[Request], Awaitable[Response]]


def _messages(token: str) -> Handler:
    def handler(request: Request) -> Awaitable[Response]:
        return list_messages(request, token, request.query_params.get("since"))

    return handler


def _send(token: str) -> Handler:
    def handler(request: Request) -> Awaitable[Response]:
        return send_message(request, token)

    return handler


class WidgetFastLane:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    def _match(self, method: str, path: str) -> tuple[Handler, str] | None:
        if method == "GET" and path == CONFIG:
            return get_config, CONFIG
        if path.startswith(CONVERSATIONS) and path.endswith(MESSAGES):
            token = path[len(CONVERSATIONS) : -len(MESSAGES)]
            if token and "/" not in token:
                if method == "GET":
                    return _messages(token), MESSAGES_ROUTE
                if method == "POST":
                    return _send(token), MESSAGES_ROUTE
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http":
            match = self._match(scope["method"], scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        handler, route = match
        started = time.perf_counter()
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except AppError as exc:
            headers = {**getattr(request.state, "extra_headers", {}), **exc.headers}
            response = error_response(exc.status, exc.message, headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], route)
            response = error_response(500, "Internal server error")
        raw_headers = response.raw_headers + cors.response_headers(request.headers.get("origin"))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": response.body})
        elapsed = time.perf_counter() - started
        self.metrics.record(scope["method"], route, response.status_code, elapsed)
