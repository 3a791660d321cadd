"""A contact's export as a zip: the JSON document and every file's bytes.

Written to a temporary file (files may be large), then streamed; the file is gone when the
response is.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from typing import Any

import anyio.to_thread
import orjson

from frontdesk.files.store import FileMissing, FileStore

UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def _member(message_id: int, attachment_id: int, filename: str) -> str:
    safe = UNSAFE.sub("_", filename).strip(" .") or "file"
    return f"files/{message_id}-{attachment_id}-{safe[:100]}"


async def build_zip(
    store: FileStore, document: dict[str, Any], files: list[tuple[int, int, str, str]]
) -> str:
    """The zip's path (a temporary file the caller deletes)."""
    handle, path = tempfile.mkstemp(prefix="frontdesk-export-", suffix=".zip")
    os.close(handle)
    try:
        archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        with archive:
            body = orjson.dumps(document, option=orjson.OPT_INDENT_2)
            await anyio.to_thread.run_sync(archive.writestr, "contact.json", body)
            for message_id, attachment_id, filename, key in files:
                try:
                    blob = await store.open(key)
                except FileMissing:
                    continue
                with archive.open(_member(message_id, attachment_id, filename), "w") as member:
                    async for chunk in blob.chunks(0, blob.size):
                        await anyio.to_thread.run_sync(member.write, chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path
