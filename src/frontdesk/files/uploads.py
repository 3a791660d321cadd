"""Receiving a multipart upload: limits enforced while streaming, files straight to the store.

Limits (contract section 0): each file at most FRONTDESK_MAX_UPLOAD_BYTES, at most 10 files,
text fields at most 1 MiB together, like a JSON body. Breaking one answers 413
`Request body too large` the moment it is broken, and every file this request already
stored is deleted: a refused or failed upload leaves nothing behind.

Empty files: a file part with no bytes and no filename is what a browser sends for a file
input left empty (and `curl -F files=` for an empty field), so it is ignored. A named file
of 0 bytes is refused with 422 `File is empty`: a person who attaches an empty file has
almost always picked the wrong one, and the other side could do nothing with it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
from starlette.requests import ClientDisconnect, Request

from frontdesk.errors import MALFORMED, TOO_LARGE, AppError
from frontdesk.files import quota
from frontdesk.files.metadata import HEAD_BYTES, display_filename, recorded_content_type
from frontdesk.files.multipart import MultipartReader, Part
from frontdesk.files.store import FileStore, StoredFile, file_store
from frontdesk.kit.body_limit import allow_body
from frontdesk.kit.form_fields import FormFields
from frontdesk.kit.request_body import MAX_BODY_BYTES, MAX_FIELDS, MAX_FILES
from frontdesk.models import NewAttachment
from frontdesk.runtime import runtime

log = logging.getLogger("frontdesk.files")

# Room for each part's boundary and headers when judging a declared Content-Length.
PART_OVERHEAD = 16 * 1024
FILE_IS_EMPTY = "File is empty"
# `files` is the contract's name; `file` is what a client sending just one tends to write.
AGENT_FILE_FIELDS = frozenset({"files", "file"})


def is_multipart(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "multipart/form-data"


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    stored: StoredFile
    filename: str
    content_type: str

    def attachment(self) -> NewAttachment:
        return NewAttachment(
            filename=self.filename,
            content_type=self.content_type,
            size=self.stored.size,
            sha256=self.stored.sha256,
            storage_key=self.stored.key,
        )


@dataclass(slots=True)
class Upload:
    store: FileStore
    fields: FormFields = field(default_factory=FormFields)
    files: list[ReceivedFile] = field(default_factory=list)

    def attachments(self) -> list[NewAttachment]:
        return [item.attachment() for item in self.files]

    async def discard(self) -> None:
        """Delete every stored file: the message they were for was not stored."""
        with anyio.CancelScope(shield=True):
            for item in self.files:
                try:
                    await self.store.delete(item.stored.key)
                except OSError:
                    log.warning("could not delete unused upload %s", item.stored.key, exc_info=True)
            self.files.clear()


async def _request_chunks(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect as exc:
        # Nobody is left to read an answer; end the request without a logged traceback.
        raise AppError(400, MALFORMED) from exc


async def _capped(part: Part, limit: int, head: bytearray, error: AppError) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in part.chunks():
        size += len(chunk)
        if size > limit:
            raise error
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        yield chunk


async def _text(part: Part, budget: int) -> tuple[str, int]:
    data = bytearray()
    async for chunk in part.chunks():
        if len(data) + len(chunk) > budget:
            raise AppError(413, TOO_LARGE)
        data += chunk
    # PostgreSQL can't store NUL in text; keep a visible mark instead of failing.
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd"), len(data)


async def receive_upload(
    request: Request,
    *,
    file_fields: frozenset[str],
    max_files: int = MAX_FILES,
    too_many_files: AppError | None = None,
    quota_of: tuple[int, int] | None = None,
) -> Upload:
    """Parse a multipart body, storing parts named in `file_fields` as files.

    Other parts are text fields (the first value of a name wins). A file part past the
    route's `max_files` is never stored: the rest of the body is only read through (within
    its cap) so that more than MAX_FILES files stays the contract's 413, and the upload is
    then refused with `too_many_files`. `quota_of` (account id, conversation id): the files
    also fit the storage quotas (files/quota.py), or 413 as soon as they pass them. On any
    failure the files already stored are deleted before the error propagates.
    """
    rt = runtime(request)
    limit = rt.settings.max_upload_bytes
    ceiling = max_files * (limit + PART_OVERHEAD) + MAX_BODY_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > ceiling:
        raise AppError(413, TOO_LARGE)
    allow_body(request.scope, ceiling)
    room: quota.Room | None = None
    if quota_of is not None:
        async with rt.db.read() as session:
            room = await quota.room(session, rt.settings, *quota_of)
    room_left = room.bytes if room else 0

    store = file_store(request)
    upload = Upload(store)
    reader = MultipartReader(request.headers.get("content-type", ""), _request_chunks(request))
    text_budget = MAX_BODY_BYTES
    fields_seen = files_seen = other_files = 0
    refused: AppError | None = None
    try:
        async for part in reader.parts():
            headers = part.headers
            if headers.name not in file_fields and headers.filename:
                # A file under another name: not this route's to store, but still one of
                # the ten a body may carry (contract section 0).
                other_files += 1
                if files_seen + other_files > MAX_FILES:
                    raise AppError(413, TOO_LARGE)
                continue  # parts() skips its bytes
            if headers.name not in file_fields:
                fields_seen += 1
                if fields_seen > MAX_FIELDS:
                    raise AppError(413, TOO_LARGE)
                value, used = await _text(part, text_budget)
                text_budget -= used
                upload.fields.add(headers.name, value)
                continue
            files_seen += 1
            if files_seen + other_files > MAX_FILES:
                raise AppError(413, TOO_LARGE)
            if files_seen > max_files:
                if refused is None:  # the message won't be stored: neither will its files
                    refused = too_many_files or AppError(413, TOO_LARGE)
                    await upload.discard()
                continue  # parts() skips its bytes
            head = bytearray()
            cap, error = limit, AppError(413, TOO_LARGE)
            if room is not None and room_left < limit:
                cap, error = room_left, room.error
            stored = await store.save(_capped(part, cap, head, error))
            room_left -= stored.size
            received = ReceivedFile(
                stored,
                display_filename(headers.filename),
                recorded_content_type(
                    headers.content_type, headers.content_type_params, bytes(head)
                ),
            )
            upload.files.append(received)
            if stored.size == 0:
                if not headers.filename:  # an empty file input or field: no file chosen
                    await store.delete(stored.key)
                    upload.files.pop()
                    files_seen -= 1
                    continue
                raise AppError(422, FILE_IS_EMPTY)
        if refused is not None:
            raise refused
    except BaseException:
        # No need to read the rest of a refused body: the server discards what the client
        # still sends on a kept-alive connection, so the client gets to read our answer.
        await upload.discard()
        raise
    return upload
