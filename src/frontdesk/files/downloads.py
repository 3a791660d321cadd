"""Sending a stored file safely: the headers that keep a browser from running it, ranges,
conditional requests, and the bytes themselves, zero-copy where the server can.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from contextlib import aclosing
from urllib.parse import quote

import anyio
from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from frontdesk.errors import AppError, error_body
from frontdesk.files.metadata import inline_allowed
from frontdesk.files.store import FileMissing, FileStore, StoredBlob
from frontdesk.models import Attachment

log = logging.getLogger("frontdesk.files")

FILE_NOT_FOUND = "File not found"
INVALID_DISPOSITION = "Invalid disposition"
RANGE_NOT_SATISFIABLE = "Range not satisfiable"
DISPOSITIONS = ("inline", "attachment")
# Headers on every file answer. The CSP sandbox makes even a document a browser does render
# (a PDF, an image opened directly) unable to run script or reach out; the URL holds a
# visitor_token, so it must not leak through a Referer either.
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Referrer-Policy": "no-referrer",
    # Private: the answer depends on credentials; revalidated each time (ETag makes that cheap).
    "Cache-Control": "private, no-cache",
}
_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)\Z")
# Past any file: what a longer run of digits is read as (int() of a huge one is slow, and
# RFC 9110 reads a last byte past the end as the end).
_BEYOND = 10**18


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return _BEYOND if len(significant) > 18 else int(significant or "0")


def _ascii_fallback(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    folded = re.sub(r'[\x00-\x1f\x7f"\\%;]', "_", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    stem, dot, suffix = folded.rpartition(".")
    if not dot:
        stem, suffix = folded, ""
    stem = stem.strip(" .")
    if not stem:
        stem = "file"
    return f"{stem}.{suffix.strip()}" if suffix.strip() else stem


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback for old clients, the exact UTF-8 name in filename*."""
    encoded = quote(filename, safe="!#$&+^_`|~")
    return f"{disposition}; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"


def chosen_disposition(asked: str | None, content_type: str) -> str:
    """`asked` if allowed for this type; 'attachment' for anything a browser might run."""
    if asked == "inline" and inline_allowed(content_type):
        return "inline"
    return "attachment"


def etag_for(attachment: Attachment) -> str:
    # The content hash: the same bytes always have the same tag, whatever the row.
    return f'"{attachment.sha256}"'


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 13.1.2), as If-None-Match calls for.
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The one byte range [start, end) asked for; None to send the whole file.

    Malformed and multi-range headers are ignored (RFC 9110 14.2 allows it; one range is
    what players and download managers ask for). Raises RangeNotSatisfiable for a
    well-formed range that lies wholly past the end.
    """
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # a suffix: the last N bytes
        length = _position(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size
    start = _position(first)
    end = _position(last) + 1 if last else size
    if end <= start and last:
        return None  # last before first: not a valid range, so ignored
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size)


class FileDownload(Response):
    """A stored file as an HTTP answer: 200, 206, 304 or 416 as the request calls for.

    Full bodies from local disk go out with `http.response.pathsend` or
    `http.response.zerocopy` when the server offers one (no copy through Python);
    otherwise, and for ranges, the bytes stream in bounded chunks.
    """

    def __init__(
        self,
        blob: StoredBlob,
        attachment: Attachment,
        disposition: str,
        headers: Mapping[str, str] | None = None,
    ):
        self.blob = blob
        self.attachment = attachment
        self.status_code = 200
        self.background: BackgroundTask | None = None
        self.init_headers(
            {
                **(headers or {}),
                **SAFETY_HEADERS,
                "Content-Type": attachment.content_type,
                "Content-Disposition": content_disposition(disposition, attachment.filename),
                "ETag": etag_for(attachment),
                "Accept-Ranges": "bytes",
            }
        )

    def _plan(self, request_headers: Headers) -> tuple[int, tuple[int, int] | None]:
        """The status to answer with and, for 206, the byte range."""
        etag = etag_for(self.attachment)
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None and _etag_matches(if_none_match, etag):
            return 304, None
        range_header = request_headers.get("range")
        if_range = request_headers.get("if-range")
        # If-Range: a range only of the version the client already has part of.
        if range_header is None or (if_range is not None and if_range.strip() != etag):
            return 200, None
        try:
            wanted = parse_range(range_header, self.blob.size)
        except RangeNotSatisfiable:
            return 416, None
        return (200, None) if wanted is None else (206, wanted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, wanted = self._plan(Headers(scope=scope))
        size = self.blob.size
        head_only = scope["method"] == "HEAD"
        if status == 304:
            for name in ("content-type", "content-disposition", "accept-ranges"):
                del self.headers[name]
            await send({"type": "http.response.start", "status": 304, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        if status == 416:
            body = error_body(RANGE_NOT_SATISFIABLE)
            self.headers["content-type"] = "application/json"
            self.headers["content-range"] = f"bytes */{size}"
            self.headers["content-length"] = str(len(body))
            del self.headers["content-disposition"]
            await send({"type": "http.response.start", "status": 416, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b"" if head_only else body})
            return
        start, end = wanted if wanted is not None else (0, size)
        if status == 206:
            self.headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
        self.headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": status, "headers": self.raw_headers})
        if head_only or start == end:
            await send({"type": "http.response.body", "body": b""})
            return
        extensions = scope.get("extensions") or {}
        path = self.blob.local_path
        if path is not None and status == 200 and "http.response.pathsend" in extensions:
            await send({"type": "http.response.pathsend", "path": str(path)})
            return
        if path is not None and "http.response.zerocopy" in extensions:
            handle = await anyio.open_file(path, "rb")
            try:
                await send(
                    {
                        "type": "http.response.zerocopy",
                        "file": handle.wrapped,
                        "offset": start,
                        "count": end - start,
                        "more_body": False,
                    }
                )
            finally:
                with anyio.CancelScope(shield=True):
                    await handle.aclose()
            return
        await self._stream(receive, send, start, end)

    async def _stream(self, receive: Receive, send: Send, start: int, end: int) -> None:
        # Servers before ASGI 2.4 don't fail a send to a gone client; watch for the
        # disconnect ourselves so an abandoned download stops reading the disk.
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch_disconnect)
            async with aclosing(self.blob.chunks(start, end)) as chunks:
                sent = start
                async for chunk in chunks:
                    sent += len(chunk)
                    await send(
                        {"type": "http.response.body", "body": chunk, "more_body": sent < end}
                    )
            group.cancel_scope.cancel()


def asked_disposition(asked: str | None) -> str | None:
    """The `disposition` query parameter, checked; None when not given."""
    if asked is not None and asked not in DISPOSITIONS:
        raise AppError(422, INVALID_DISPOSITION)
    return asked


async def download(
    store: FileStore,
    attachment: Attachment | None,
    asked: str | None,
    headers: Mapping[str, str] | None = None,
) -> FileDownload:
    """The answer for an attachment the caller may see (None: not found, for them)."""
    if attachment is None:
        raise AppError(404, FILE_NOT_FOUND)
    try:
        blob = await store.open(attachment.storage_key)
    except FileMissing:
        # A row without its bytes is our fault, not the caller's; say so in the log only.
        log.error("attachment %d has no stored bytes", attachment.id)
        raise AppError(404, FILE_NOT_FOUND) from None
    return FileDownload(
        blob, attachment, chosen_disposition(asked, attachment.content_type), headers=headers
    )
