"""CORS for the chat API: any site may call it; the origin allow-list is checked per account.

Preflights are answered here, before routing or authentication, because a browser can't
attach the site key to them.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Content-Type, X-Api-Key, Idempotency-Key, Last-Event-ID"
EXPOSE_HEADERS = (
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, "
    "Content-Disposition, Content-Length, X-Conversation-Status"
)


_EXPOSE = (b"access-control-expose-headers", EXPOSE_HEADERS.encode())
_VARY = (b"vary", b"Origin")


def response_headers(origin: str | None) -> list[tuple[bytes, bytes]]:
    """The CORS headers of an actual (not preflight) chat API response."""
    return [(b"access-control-allow-origin", (origin or "*").encode("latin-1")), _EXPOSE, _VARY]


class ChatCORSMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/v1/chat"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == self.prefix or path.startswith(self.prefix + "/")
        ):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if scope["method"] == "OPTIONS":
            headers = [
                (b"access-control-allow-origin", (origin or "*").encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", b"86400"),
                (b"vary", b"Origin"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        extra = response_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)
