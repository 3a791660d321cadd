"""One error type, one JSON envelope: `{"error": "<one sentence>"}`, finished in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.responses import Response

if TYPE_CHECKING:
    from frontdesk.ratelimits import Verdict


class AppError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class ErrorAnswer(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]


def error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def finish_error(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    rate: Verdict | None = None,
) -> ErrorAnswer:
    """Every error answer, whichever path serves it (the fast lane or FastAPI's handlers).

    The envelope, then the headers: the rate-limit verdict computed before the error still
    belongs on the answer, under the error's own headers (which win on a clash).
    """
    merged = {**rate.headers(), **(headers or {})} if rate is not None else dict(headers or {})
    return ErrorAnswer(status, error_body(message), merged)


def error_response(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    rate: Verdict | None = None,
) -> Response:
    """`finish_error` as a Starlette Response, for FastAPI's exception handlers."""
    answer = finish_error(status, message, headers, rate)
    return Response(
        answer.body,
        status_code=answer.status,
        headers=answer.headers,
        media_type="application/json",
    )


# The contract's shared sentences, named once.
MALFORMED = "Malformed request body"
TOO_LARGE = "Request body too large"
NOT_FOUND = "Not found"
METHOD_NOT_ALLOWED = "Method not allowed"
AUTH_REQUIRED = "Authentication required"
FORBIDDEN = "Forbidden"
INTERNAL = "Internal server error"
UNAVAILABLE = "Service unavailable"
# How long a client is asked to wait before it tries again while a dependency is down.
OUTAGE_RETRY_AFTER = "5"

log = logging.getLogger("frontdesk")


def unexpected_error(exc: BaseException, where: str) -> ErrorAnswer:
    """The answer to an exception no route handled, logged once (`where`: method and route
    template, never a path: chat paths hold visitor_tokens).

    503 with Retry-After when the database or Redis did not answer (a cut connection, a
    full pool, a locked SQLite file): nothing is wrong with the request, and clients and
    load balancers retry a 503. Anything else is a bug of ours: 500, with its traceback.
    """
    if _is_outage(exc):
        log.warning("%s: a dependency did not answer: %s", where, first_line(exc))
        return finish_error(503, UNAVAILABLE, {"Retry-After": OUTAGE_RETRY_AFTER})
    log.error("unhandled error on %s", where, exc_info=exc)
    return finish_error(500, INTERNAL)


def first_line(exc: BaseException) -> str:
    """An exception as one line of a log or of a command's error: the driver's own message
    (SQLAlchemy keeps it as `.orig`), its first line, or the type when it says nothing."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_outage(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, OperationalError)
    return isinstance(
        exc, (OSError, TimeoutError, PoolTimeoutError, RedisConnectionError, RedisTimeoutError)
    )
