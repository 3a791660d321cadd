"""Where attachment bytes live: a store interface and its local-disk implementation.

Routes speak only to `FileStore`; `s3.py` is the S3-compatible one, and `make_file_store`
picks by FRONTDESK_FILE_STORE. `save` consumes a chunk stream (an S3 multipart upload
fits it), `open` returns a blob that can stream any byte range and, when the bytes are on
local disk, offers its path so the server may send it zero-copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio
import anyio.to_thread
from starlette.requests import Request

log = logging.getLogger("frontdesk.files")

# Chunks are gathered up to this size before a write, so a thread hop moves a useful
# amount of data while memory per upload stays a small constant.
WRITE_BUFFER = 256 * 1024
READ_CHUNK = 256 * 1024
_CAN_READ_NOWAIT = hasattr(os, "preadv") and hasattr(os, "RWF_NOWAIT")
# Keys are ours alone (never from a filename); checking their shape on every use means a
# corrupted row can't turn into a path outside the store.
_KEY = re.compile(r"^[0-9a-f]{32}\Z")
KEY_SHAPE = _KEY


class FileMissing(Exception):
    """A recorded key whose bytes are not in the store."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class StoredBlob(Protocol):
    """Bytes ready to be read: a size, a way to stream any range, maybe a local path."""

    @property
    def size(self) -> int: ...

    @property
    def local_path(self) -> Path | None: ...

    def chunks(self, start: int, end: int) -> AsyncGenerator[bytes, None]:
        """Bytes [start, end) in chunks of a bounded size."""
        ...


class FileStore(Protocol):
    async def save(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        """Store the stream under a new random key; nothing is visible unless it completes.

        If the stream raises (a limit, a client gone), nothing is left behind and the
        exception propagates.
        """
        ...

    async def open(self, key: str) -> StoredBlob:
        """The blob for `key`; FileMissing if it is not there."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key`; a missing key is not an error (deletes are retried and raced)."""
        ...

    def stored_between(self, start: float, end: float) -> AsyncIterator[list[str]]:
        """Keys stored in [start, end) (unix seconds), in batches: for the orphan sweep."""
        ...

    async def close(self) -> None:
        """Release connections; the app calls it once, at shutdown."""
        ...


@dataclass(frozen=True, slots=True)
class LocalBlob:
    path: Path
    size: int

    @property
    def local_path(self) -> Path | None:
        return self.path

    async def chunks(self, start: int, end: int) -> AsyncGenerator[bytes, None]:
        fd = await anyio.to_thread.run_sync(os.open, self.path, os.O_RDONLY)
        try:
            buffer = memoryview(bytearray(READ_CHUNK))
            nowait = _CAN_READ_NOWAIT
            offset = start
            while offset < end:
                want = min(READ_CHUNK, end - offset)
                chunk = b""
                if nowait:
                    # Bytes already in the page cache are copied right here: a thread hop
                    # per chunk costs more than the copy (about a third of the throughput).
                    # RWF_NOWAIT refuses instead of blocking when they'd need the disk.
                    try:
                        got = os.preadv(fd, [buffer[:want]], offset, os.RWF_NOWAIT)
                        chunk = bytes(buffer[:got])
                    except BlockingIOError:
                        pass
                    except OSError:  # a filesystem without RWF_NOWAIT
                        nowait = False
                if not chunk:
                    chunk = await anyio.to_thread.run_sync(os.pread, fd, want, offset)
                    if not chunk:  # the file shrank under us; stop rather than spin
                        raise FileMissing(str(self.path))
                offset += len(chunk)
                yield chunk
        finally:
            os.close(fd)


class LocalFileStore:
    """Files under `root`, sharded two levels deep by key so no directory grows huge.

    A file is written to `root/.tmp`, flushed to disk, then renamed into place: a crash
    leaves at most an orphaned temporary file, never a half file under a key. The data is
    fsynced before the rename, so once a message row names a key, its bytes survive even
    a power loss that the database itself survives.
    """

    def __init__(self, root: Path):
        self.root = root
        self.tmp = root / ".tmp"

    def path_for(self, key: str) -> Path:
        if not _KEY.match(key):
            raise FileMissing(key)
        return self.root / key[:2] / key[2:4] / key

    async def save(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        key = secrets.token_hex(16)
        final = self.path_for(key)
        temporary = self.tmp / f"{key}.part"
        await anyio.to_thread.run_sync(
            _make_dirs, self.root, self.tmp, final.parent.parent, final.parent
        )
        handle = await anyio.to_thread.run_sync(_open_new, temporary)
        digest = hashlib.sha256()
        size = 0
        try:
            buffer = bytearray()
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER:
                    await anyio.to_thread.run_sync(handle.write, buffer)
                    buffer = bytearray()
            if buffer:
                await anyio.to_thread.run_sync(handle.write, buffer)
            await anyio.to_thread.run_sync(_flush_and_close, handle)
            await anyio.to_thread.run_sync(_publish, temporary, final)
        except BaseException:
            # Shielded: a cancelled request (client gone) must still clean up after itself.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, handle, temporary)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str) -> StoredBlob:
        path = self.path_for(key)
        try:
            stat = await anyio.to_thread.run_sync(os.stat, path)
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc
        return LocalBlob(path, stat.st_size)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await anyio.to_thread.run_sync(_unlink_quietly, path)

    async def stored_between(self, start: float, end: float) -> AsyncIterator[list[str]]:
        # A walk of the whole tree (keys here are random, not ordered by time); the
        # sweep runs it rarely, and one box's files walk in about a second per 100,000.
        keys = await anyio.to_thread.run_sync(self._walk_between, start, end)
        for first in range(0, len(keys), 500):
            yield keys[first : first + 500]

    def _walk_between(self, start: float, end: float) -> list[str]:
        found = []
        for directory, names, files in os.walk(self.root):
            if Path(directory) == self.tmp:
                names.clear()
                continue
            for name in files:
                if not _KEY.match(name):
                    continue
                try:
                    modified = os.stat(os.path.join(directory, name)).st_mtime
                except FileNotFoundError:
                    continue
                if start <= modified < end:
                    found.append(name)
        return found

    async def close(self) -> None:
        return None

    def sweep_temporary(self, older_than_seconds: float = 3600) -> int:
        """Remove temporary files a crash left behind; returns how many went.

        Only old ones: another process may be writing a young one right now.
        """
        removed = 0
        cutoff = time.time() - older_than_seconds
        try:
            entries = list(os.scandir(self.tmp))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if entry.name.endswith(".part") and entry.stat().st_mtime < cutoff:
                _unlink_quietly(Path(entry.path))
                removed += 1
        return removed


def _make_dirs(*directories: Path) -> None:
    # Visitors' files: for this service's user only, like the data dir above them. Each
    # level is named, as mkdir gives the parents it makes the umask's default instead.
    for directory in directories:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _open_new(path: Path) -> BinaryIO:
    # O_EXCL: a key collision (2^-128) or a stray file is an error, never an overwrite.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def _flush_and_close(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _publish(temporary: Path, final: Path) -> None:
    os.replace(temporary, final)
    # The rename itself is durable only once its directory is flushed.
    fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(handle: BinaryIO, temporary: Path) -> None:
    try:
        handle.close()
    except OSError:
        log.warning("closing an abandoned upload failed", exc_info=True)
    _unlink_quietly(temporary)


def _unlink_quietly(path: Path) -> None:
    path.unlink(missing_ok=True)


def make_file_store(
    address: str,
    data_dir: Path,
    endpoint_url: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    region: str | None = None,
) -> FileStore:
    """The store FRONTDESK_FILE_STORE names: `local` (the data dir) or `s3://bucket[/prefix]`."""
    if address.strip() == "local":
        return LocalFileStore(data_dir.resolve() / "files")
    from frontdesk.files.s3 import S3FileStore, S3Location

    return S3FileStore(
        S3Location.parse(address.strip()), endpoint_url, access_key_id, secret_access_key, region
    )


def file_store(request: Request) -> FileStore:
    """The app's store; the Runtime holds it (not imported here: it imports this module)."""
    store: FileStore = request.app.state.runtime.files
    return store
