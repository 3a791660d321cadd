"""uvicorn's httptools protocol, with each response's head and body sent in one write.

uvicorn writes a response's status line and headers when the app sends
`http.response.start`, and the body when it sends `http.response.body`: two `send()`
calls and two TCP segments for every small answer. Over loopback the second send cost a
bare ASGI app a fifth of its CPU per request (bench/http_layer.py), and on a real network
it is a second packet for the client to wait on. Here the writes one turn of the event
loop makes to a connection are joined and sent at the end of that turn, so an answer the
app builds without waiting (every JSON answer) leaves in one write, while a stream (an
event stream's frames, a file's chunks) still leaves as soon as its task yields.

Writes are held until the end of the turn (or the answer's end, while its request's body
is still arriving), and never past FLUSH_BYTES: a large body goes out at once, and the
transport's own flow control (pause_writing, which uvicorn awaits before each body chunk)
works as before.

Each response's head is also written here (QuickHeadCycle), with the same checks and bytes
as uvicorn's, but a header line already checked once is remembered: uvicorn runs two
regular expressions and a lowercasing per header per response (the searches alone were 6%
of a poll's CPU under wrk), and a poll's ten headers are nearly all the same from one
answer to the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent, HTTPResponseStartEvent

# Past this many held bytes, write now: joining copies, and a big body gains nothing from
# sharing a segment with its head.
FLUSH_BYTES = 64 * 1024

# Header lines checked once, by their (name, value): the date, the content type, the CORS
# and rate-limit headers repeat from answer to answer. Emptied when full (values that vary,
# like a remaining count, come and go; the repeating ones are back after one answer).
REMEMBERED_LINES = 4096


class CoalescingTransport(asyncio.Transport):
    """A connection's transport whose writes within one loop turn become one write."""

    __slots__ = ("_held", "_held_bytes", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None
        self._held_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data) if not isinstance(data, bytes) else data
        if self._held is None:
            if len(data) >= FLUSH_BYTES:
                self._transport.write(data)
                return
            self._held = [data]
            self._held_bytes = len(data)
            self._loop.call_soon(self.flush)
            return
        self._held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes >= FLUSH_BYTES:
            self.flush()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what is held (at the end of the turn, or before closing)."""
        held, self._held = self._held, None
        if not held or self._transport.is_closing():
            return  # the peer went: stock uvicorn's write would have been dropped too
        if len(held) == 1:
            self._transport.write(held[0])
        elif self._held_bytes < FLUSH_BYTES:
            self._transport.write(b"".join(held))
        else:
            self._transport.writelines(held)  # big: not copied into one bytes here

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        held = self._held_bytes if self._held else 0
        return self._transport.get_write_buffer_size() + held

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


_checked_lines: dict[tuple[bytes, bytes], bytes] = {}


class QuickHeadCycle(RequestResponseCycle):
    """uvicorn's request/response cycle, writing a response's head as its `send` does (the
    same bytes, the same refusals: tests/test_http_protocol.py compares them) with each
    header line checked once rather than on every answer."""

    async def send(self, message: ASGISendEvent) -> None:
        if (
            message["type"] == "http.response.start"
            and not self.response_started
            and not self.disconnected
            and not self.flow.write_paused
            and not self.access_log
        ):
            self._write_head(message)
        else:
            await super().send(message)  # bodies, and every unusual case, as uvicorn does

    def _write_head(self, message: HTTPResponseStartEvent) -> None:
        self.response_started = True
        self.waiting_for_100_continue = False
        status_code = message["status"]
        content = [STATUS_LINE[status_code]]
        self._sent_close = False
        for header in chain(self.default_headers, message.get("headers", ())):
            try:
                line = _checked_lines.get(header)
            except TypeError:  # a list rather than a tuple: fine for ASGI, not as a key
                line = None
            content.append(line or self._header_line(*header))
        if not self.keep_alive and not self._sent_close:
            content.append(b"connection: close\r\n")
        if (
            self.chunked_encoding is None
            and self.scope["method"] != "HEAD"
            and status_code not in (204, 304)
        ):
            self.chunked_encoding = True  # neither content-length nor transfer-encoding
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        self.transport.write(b"".join(content))

    def _header_line(self, name: bytes, value: bytes) -> bytes:
        """One header's line, checked and read as uvicorn's `send` does; remembered unless
        it frames the response."""
        if HEADER_RE.search(name):
            raise RuntimeError("Invalid HTTP header name.")
        if HEADER_VALUE_RE.search(value):
            raise RuntimeError("Invalid HTTP header value.")
        lowered = name.lower()
        line = b"%s: %s\r\n" % (lowered, value)
        if lowered == b"content-length":
            if self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
        elif lowered == b"transfer-encoding":
            if value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
        elif lowered == b"connection":
            if b"close" in [token.lower().strip() for token in value.split(b",")]:
                self.keep_alive = False
                self._sent_close = True
        elif type(name) is bytes and type(value) is bytes:
            if len(_checked_lines) >= REMEMBERED_LINES:
                _checked_lines.clear()
            _checked_lines[name, value] = line
        return line


class CoalescingHttpProtocol(HttpToolsProtocol):
    """What `frontdesk serve` runs uvicorn with (`http=`): its httptools protocol, on a
    CoalescingTransport, with QuickHeadCycle's head writer."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.coalescing = CoalescingTransport(transport, self.loop)
        super().connection_made(self.coalescing)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        # uvicorn makes its own cycle in on_headers_complete (forty lines not worth copying)
        # and starts the app here, the one place every cycle passes (pipelined ones too),
        # before it has sent anything: the cycle becomes a QuickHeadCycle, which adds only
        # methods, so its state is untouched.
        cycle.__class__ = QuickHeadCycle
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        # An answer that came before all of its request's body goes now: the client is
        # still sending (a flood refused by a body cap), and stops when it sees the answer;
        # held to the end of a busy turn, it got to send megabytes more. Any other answer
        # waits for the turn's end: the answers of one turn then go out together, and the
        # next requests come back together (a poll cost 34 us of CPU written at once, 29 at
        # the turn's end, under wrk).
        if self.cycle is not None and self.cycle.more_body:
            self.coalescing.flush()
        super().on_response_complete()
