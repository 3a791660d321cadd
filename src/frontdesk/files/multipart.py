"""A multipart/form-data reader that streams: parts one after another, each as chunks.

python-multipart's push parser does the byte work; this turns its callbacks into a pull
interface (`async for part in reader.parts()`, then `async for chunk in part.chunks()`), so
the caller can hand a part's chunks straight to the file store and enforce limits while
the body is still arriving. Nothing here holds more than one received chunk at a time.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from frontdesk.errors import MALFORMED, AppError

# Per part: a browser sends two or three headers; 8 KiB for them all is generous.
MAX_HEADER_COUNT = 16
MAX_HEADER_SIZE = 8 * 1024


@dataclass(frozen=True, slots=True)
class PartHeaders:
    name: str
    filename: str | None  # None: the part carried no filename parameter at all
    content_type: str  # as declared, lower-cased, without parameters; "" when absent
    content_type_params: dict[str, str]


def _decode(raw: bytes) -> str:
    # Browsers send names as raw UTF-8; anything else is read as Latin-1 rather than refused.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_FORM_ESCAPE = re.compile(r"%(22|0[0-9A-Fa-f]|1[0-9A-Fa-f])")


def _unescape(filename: str) -> str:
    # HTML form encoding (WHATWG) writes a quote and line breaks in a filename as %22,
    # %0A, %0D; some clients escape every control character that way.
    return _FORM_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), filename)


class _Begin:
    __slots__ = ("headers",)

    def __init__(self, headers: PartHeaders):
        self.headers = headers


class _End:
    __slots__ = ()


Event = _Begin | _End | bytes


class MultipartReader:
    def __init__(self, content_type: str, stream: AsyncIterator[bytes]):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise AppError(400, MALFORMED)
        self._stream = stream
        self._events: deque[Event] = deque()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._finished = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
            },
            max_header_count=MAX_HEADER_COUNT,
            max_header_size=MAX_HEADER_SIZE,
        )

    # Callbacks: they only record what happened; the async side acts on it.
    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or name is None:
            raise AppError(400, MALFORMED)
        filename = options.get(b"filename")
        media, media_params = parse_options_header(self._headers.get(b"content-type"))
        self._events.append(
            _Begin(
                PartHeaders(
                    name=_decode(name),
                    filename=None if filename is None else _unescape(_decode(filename)),
                    content_type=media.decode("latin-1").strip(),
                    content_type_params={
                        k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in media_params.items()
                    },
                )
            )
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(data[start:end])

    def _on_part_end(self) -> None:
        self._events.append(_End())

    async def _next_event(self) -> Event | None:
        while not self._events:
            if self._finished:
                return None
            try:
                chunk = await anext(self._stream)
            except StopAsyncIteration:
                self._finished = True
                self._finalize()
                continue
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise AppError(400, MALFORMED) from exc
        return self._events.popleft()

    def _finalize(self) -> None:
        try:
            self._parser.finalize()
        except MultipartParseError as exc:
            raise AppError(400, MALFORMED) from exc
        # A body that stops mid-part (or before any boundary) is not a form.
        if self._parser.state != MultipartState.END:
            raise AppError(400, MALFORMED)

    async def parts(self) -> AsyncIterator[Part]:
        """Each part in order; a part's unread data is skipped when the next is asked for."""
        while True:
            event = await self._next_event()
            if event is None:
                return
            if isinstance(event, _Begin):
                part = Part(self, event.headers)
                yield part
                await part.skip()


class Part:
    def __init__(self, reader: MultipartReader, headers: PartHeaders):
        self._reader = reader
        self.headers = headers
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self._done:
            event = await self._reader._next_event()
            if event is None or isinstance(event, _Begin):
                # The parser emits an end before any next begin, so this is a truncated body.
                raise AppError(400, MALFORMED)
            if isinstance(event, _End):
                self._done = True
                return
            yield event

    async def skip(self) -> None:
        async for _ in self.chunks():
            pass
