"""One error type, one JSON envelope: `{"error": "<one sentence>"}`."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response


class AppError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        error_body(message), status_code=status, headers=headers, media_type="application/json"
    )


# The contract's shared sentences, named once.
MALFORMED = "Malformed request body"
TOO_LARGE = "Request body too large"
NOT_FOUND = "Not found"
METHOD_NOT_ALLOWED = "Method not allowed"
AUTH_REQUIRED = "Authentication required"
FORBIDDEN = "Forbidden"
