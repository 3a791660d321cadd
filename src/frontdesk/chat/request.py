"""What the chat API reads of a request, straight from the ASGI scope."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Receive, Scope

from frontdesk.kit.client_address import joined_forwarded_for
from frontdesk.ratelimits import Verdict

STATUS_HEADER = b"x-conversation-status"


class ChatRequest:
    """One chat API request, and the rate-limit verdict whose headers go on its answer.

    The hot routes run on this rather than Starlette's Request (see fast_lane.py); the
    other chat routes wrap their Request in one, so every route reads a header or the
    query the same way: a header's first value, a query parameter's last, as Starlette does.
    """

    __slots__ = (
        "_headers",
        "_query",
        "address",
        "conversation_status",
        "receive",
        "scope",
        "verdict",
    )

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.receive = receive
        self._headers: dict[bytes, bytes] = dict(reversed(scope["headers"]))
        self._query: Mapping[str, str] | None = None
        # Set by the gate: the rate-limit answer whose headers go on any response.
        self.verdict: Verdict | None = None
        # Set by the gate: the client's address (section 1's rule for X-Forwarded-For).
        self.address: str | None = None
        # Set by a read of messages: the conversation's status, as X-Conversation-Status,
        # so that a widget without an event stream learns of a close from its polls.
        self.conversation_status: str | None = None

    def header(self, name: bytes) -> str | None:
        value = self._headers.get(name)
        return None if value is None else value.decode("latin-1")

    def forwarded_for(self) -> str | None:
        """All X-Forwarded-For lines as one list (see kit.client_address)."""
        first = self._headers.get(b"x-forwarded-for")
        if first is None:
            return None
        if len(self._headers) == len(self.scope["headers"]):
            # No header name came twice, so this is the only line (behind one proxy,
            # nearly always): no second walk through the headers.
            line = first.decode("latin-1")
            return line if line.strip() else None
        return joined_forwarded_for(
            value.decode("latin-1")
            for name, value in self.scope["headers"]
            if name == b"x-forwarded-for"
        )

    def query(self, name: str) -> str | None:
        if self._query is None:
            self._query = _parse_query(self.scope.get("query_string", b""))
        return self._query.get(name)

    @property
    def peer(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    def rate_headers(self) -> dict[str, str]:
        """The headers of a successful answer: the verdict's, and the status if read."""
        return {name.decode(): value.decode() for name, value in self.raw_headers()}

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        headers = self.verdict.raw_headers() if self.verdict is not None else []
        if self.conversation_status is not None:
            headers.append((STATUS_HEADER, self.conversation_status.encode()))
        return headers


@lru_cache(maxsize=4096)
def _parse_query(raw: bytes) -> Mapping[str, str]:
    # A widget polls with the same query (its site key, its newest timestamp) until
    # something new arrives; read-only, as the cache shares it.
    return MappingProxyType(dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)))


def chat_request(request: Request) -> ChatRequest:
    """The ChatRequest of a route under FastAPI: one per request, holding its verdict."""
    chat: ChatRequest | None = getattr(request.state, "chat", None)
    if chat is None:
        chat = request.state.chat = ChatRequest(request.scope, request.receive)
    return chat


def rate_verdict(request: Request) -> Verdict | None:
    """The verdict the gate left on this request, if it is a chat request that got one."""
    chat: ChatRequest | None = getattr(request.state, "chat", None)
    return None if chat is None else chat.verdict
