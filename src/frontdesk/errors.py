"""One error type, one JSON envelope: `{"error": "<one sentence>"}`, finished in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import orjson
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
