"""create_app(): routers, middleware, error handlers and the lifespan that owns resources."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Router
from starlette.types import Message, Receive, Scope, Send

from frontdesk import __version__
from frontdesk.accounts import settings_routes
from frontdesk.agents import routes as agent_routes
from frontdesk.agents import token_routes as agent_token_routes
from frontdesk.audit import routes as audit_routes
from frontdesk.blocklist import routes as blocklist_routes
from frontdesk.canned import routes as canned_routes
from frontdesk.chat import engagement_routes
from frontdesk.chat import routes as chat_routes
from frontdesk.chat.cors import ChatCORSMiddleware
from frontdesk.chat.fast_lane import ChatFastLane
from frontdesk.chat.request import rate_verdict
from frontdesk.chat.schemas import REQUEST_SCHEMAS
from frontdesk.config import Settings
from frontdesk.contacts import routes as contact_routes
from frontdesk.conversations import agent_routes as conversation_routes
from frontdesk.conversations import event_routes as conversation_event_routes
from frontdesk.conversations import file_routes as conversation_file_routes
from frontdesk.conversations import typing_routes
from frontdesk.errors import (
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    AppError,
    error_response,
    unexpected_error,
)
from frontdesk.files import storage_routes
from frontdesk.kit.body_limit import capped
from frontdesk.mail import routes as mail_routes
from frontdesk.ops import routes as ops_routes
from frontdesk.ops.metrics import MetricsMiddleware
from frontdesk.reports import routes as report_routes
from frontdesk.runtime import Runtime
from frontdesk.totp import routes as totp_routes
from frontdesk.web import api_docs, inbox_pages, widget_pages
from frontdesk.webhooks import routes as webhook_routes

# Every handler finishes its answer with errors.finish_error, as the fast lane does.


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(exc.status, exc.message, exc.headers, rate_verdict(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = NOT_FOUND
    elif exc.status_code == 405:
        message = METHOD_NOT_ALLOWED
        # Starlette names only the first route on the path (GET of .../messages, where POST
        # is allowed too): every route's methods for this path.
        return error_response(405, message, {"Allow": _allowed_methods(request)})
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, exc.headers)


def _allowed_methods(request: Request) -> str:
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if _routed(request.app.router, {**request.scope, "method": method}):
            allowed.append(method)
            if method == "GET":
                allowed.append("HEAD")  # wherever GET is (Frontdesk.capped_call)
    return ", ".join(allowed)


def _head_only(send: Send) -> Send:
    """`send` for a GET route answering HEAD: the answer ends with its head. An event stream
    would otherwise run on, unseen, holding the connection (and a stream slot) for an hour;
    ended, the server tells the stream its client has gone."""
    ended = False

    async def head_only(message: Message) -> None:
        nonlocal ended
        if message["type"] == "http.response.start":
            await send(message)
        elif not ended:
            ended = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return head_only


def _routed(router: Router, scope: Scope) -> bool:
    # Asked of the router as a request would (BaseRoute.matches): FastAPI nests included
    # routers, so there is no flat list of routes to read methods from.
    return any(route.matches(scope)[0] == Match.FULL for route in router.routes)


async def _validation_error(request: Request, exc: Exception) -> Response:
    return error_response(422, "Invalid request", rate=rate_verdict(request))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The route's template, never the path: chat paths hold visitor_tokens, which are secrets.
    route = getattr(request.scope.get("route"), "path", "unmatched route")
    answer = unexpected_error(exc, f"{request.method} {route}")
    return Response(answer.body, answer.status, answer.headers, media_type="application/json")


def _freeze_heap() -> None:
    """Leave everything alive at start-up out of the garbage collector's full passes.

    Modules, routes, schemas and mappers are most of the heap and live as long as the
    process; without this every full collection walks them again, which under load cost a
    cached chat request a third of its time. Not for tests: a frozen app that is dropped
    keeps its reference cycles forever.
    """
    gc.collect()
    gc.freeze()


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title="Frontdesk",
            version=__version__,
            description="Live chat: the public chat-widget API and the agent API.",
            routes=app.routes,
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(REQUEST_SCHEMAS)
        app.openapi_schema = schema
    return app.openapi_schema


class Frontdesk(FastAPI):
    """FastAPI, behind the chat API's hot routes: those are answered ahead of everything,
    outside even the error middleware (see chat/fast_lane.py); the rest goes to FastAPI."""

    fast_lane: ChatFastLane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.fast_lane(scope, receive, send)

    async def capped_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI with every body, for every route, capped (kit/body_limit.py).

        Behind the fast lane: its hot routes either read no body (config, polls) or read
        it through their own 1 MiB cap (request_body.read_capped), so the every-request
        wrapping of `receive` and `send` is spent only where a route might forget.
        """
        if scope["type"] == "http":
            receive, send = capped(scope, receive, send)
            if scope["method"] == "HEAD" and not _routed(self.router, scope):
                # HEAD answers wherever GET does, as HTTP asks (monitors and link checkers
                # send it): the GET route runs, and the server sends its head without the
                # body, since its own copy of the scope still says HEAD.
                scope, send = {**scope, "method": "GET"}, _head_only(send)
        await FastAPI.__call__(self, scope, receive, send)


def create_served_app() -> FastAPI:
    """The app as `frontdesk serve` runs it (uvicorn's factory, in every worker)."""
    return create_app(freeze_heap=True)


def create_app(settings: Settings | None = None, freeze_heap: bool = False) -> FastAPI:
    """The whole application. `freeze_heap`: see _freeze_heap, for serving processes only."""
    settings = settings or Settings()
    rt = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        if freeze_heap:
            _freeze_heap()
        try:
            yield
        finally:
            await rt.stop()

    app = Frontdesk(
        title="Frontdesk",
        version=__version__,
        lifespan=lifespan,
        # /docs is ours (web/api_docs.py): FastAPI's loads Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
        # Metrics and logs are ours (Prometheus, /metrics); FastAPI's OpenTelemetry hook would
        # otherwise look for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # An unknown path is 404 `Not found` (contract section 0), a trailing slash too: not a
        # 307 to the path without it.
        redirect_slashes=False,
    )
    app.state.runtime = rt
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
    for router in (
        ops_routes.router,
        chat_routes.router,
        agent_routes.router,
        agent_token_routes.router,
        totp_routes.router,
        blocklist_routes.router,
        contact_routes.router,
        audit_routes.router,
        conversation_routes.router,
        settings_routes.router,
        conversation_file_routes.router,
        storage_routes.router,
        conversation_event_routes.router,
        webhook_routes.router,
        mail_routes.chat_router,
        mail_routes.agent_router,
        mail_routes.inbound_router,
        engagement_routes.router,
        typing_routes.router,
        canned_routes.router,
        report_routes.router,
        widget_pages.router,
        inbox_pages.router,
        api_docs.router,
    ):
        app.include_router(router)
    app.add_middleware(ChatCORSMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=rt.metrics)
    app.fast_lane = ChatFastLane(app.capped_call, rt)
    return app
