"""Attachment bytes in any S3-compatible store (AWS S3, MinIO, R2, Ceph), through aiobotocore.

Why this client. Measured with `python -m bench.s3_clients` (a 50 MiB file streamed each
way against moto's server on this 2-core machine; MB/s up / down, peak memory above the
client's baseline). Two runs on a quiet machine: obstore 26 / 265-325, 3-4 MiB;
aioboto3 (aiobotocore underneath) 18-22 / 180-194, 19 MiB with 8 MiB parts; the MinIO
client 17-19 / 117-154, 48 MiB, and synchronous (worker threads). Again under load, with
the store's own 5 MiB parts: aiobotocore 12.5 MiB, obstore 4-6 MiB, MinIO 30 MiB.
obstore led on every number, but its Rust runtime aborted the Python process (SIGABRT)
at exit in 4 of about 35 runs of a small script after a completed async put, which would
fail test runs and muddy every restart; and it can neither abort a multipart upload it
was cancelled in nor list unfinished ones. aiobotocore is what aioboto3 wraps, without
boto3's extra layer: async, maintained with botocore, every S3 call explicit, so a failed
or cancelled upload is aborted here and parts left by a killed process are found and
aborted by the orphan sweep. Memory per transfer stays at about two parts (PART_BYTES).

Keys start with the upload time in hex seconds, so the orphan sweep lists only the
window it looks at (`stored_between`), never the whole bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from frontdesk.files.store import KEY_SHAPE, FileMissing, StoredBlob, StoredFile

# A file that ends within one part is one PUT; a larger one is a multipart upload of
# parts this size (S3's smallest allowed part is 5 MiB), sent one at a time: memory per
# upload is one part being filled plus the one on the wire.
PART_BYTES = 5 * 1024 * 1024
READ_CHUNK = 256 * 1024
_TIME_DIGITS = 8
_MISSING = {"NoSuchKey", "404", "NotFound"}


class StoreAddressError(ValueError):
    """FRONTDESK_FILE_STORE (or --files-to) is not `local` or `s3://bucket[/prefix]`."""


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, value: str) -> S3Location:
        rest = value.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if not value.startswith("s3://") or not bucket:
            raise StoreAddressError(f"{value!r} is not local or s3://bucket[/prefix]")
        return cls(bucket, prefix.strip("/"))

    def name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


@dataclass(frozen=True, slots=True)
class S3Blob:
    owner: S3FileStore
    key: str
    size: int

    @property
    def local_path(self) -> Path | None:
        return None

    async def chunks(self, start: int, end: int) -> AsyncGenerator[bytes, None]:
        # A Range request to the store for just the bytes asked for.
        client = await self.owner.client()
        try:
            answer = await client.get_object(
                Bucket=self.owner.location.bucket,
                Key=self.owner.location.name(self.key),
                Range=f"bytes={start}-{end - 1}",
            )
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(self.key) from exc
            raise
        body = answer["Body"]
        try:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk
        finally:
            body.close()


class S3FileStore:
    """Files as objects `<prefix>/<key>` in one bucket; bytes stored unchanged."""

    def __init__(
        self,
        location: S3Location,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        region: str | None,
    ):
        self.location = location
        self._options: dict[str, Any] = {
            "region_name": region or "us-east-1",
            "endpoint_url": endpoint_url or None,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
            "config": AioConfig(
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                # MinIO, Ceph and moto are addressed by path; AWS takes either.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                max_pool_connections=50,
            ),
        }
        self._client: Any = None
        self._exit = AsyncExitStack()
        self._lock = asyncio.Lock()

    async def client(self) -> Any:
        """One client (and connection pool) for the store's life, made on first use."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    made = get_session().create_client("s3", **self._options)
                    self._client = await self._exit.enter_async_context(made)
        return self._client

    async def close(self) -> None:
        await self._exit.aclose()
        self._client = None

    def new_key(self) -> str:
        return f"{int(time.time()):0{_TIME_DIGITS}x}{secrets.token_hex(12)}"

    async def save(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        client = await self.client()
        key = self.new_key()
        name = self.location.name(key)
        bucket = self.location.bucket
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= PART_BYTES:
                    if upload_id is None:
                        started = await client.create_multipart_upload(Bucket=bucket, Key=name)
                        upload_id = started["UploadId"]
                    part = bytes(buffer[:PART_BYTES])
                    del buffer[:PART_BYTES]
                    number = len(parts) + 1
                    sent = await client.upload_part(
                        Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=part
                    )
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
            if upload_id is None:
                # Most attachments: one PUT, no multipart round trips.
                await client.put_object(Bucket=bucket, Key=name, Body=bytes(buffer))
            else:
                if buffer or not parts:
                    number = len(parts) + 1
                    sent = await client.upload_part(
                        Bucket=bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=bytes(buffer),
                    )
                    parts.append({"ETag": sent["ETag"], "PartNumber": number})
                await client.complete_multipart_upload(
                    Bucket=bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                # Shielded: a cancelled request (client gone) must still clean up (anyio's
                # scope, as Starlette cancels with anyio); parts left by a process killed
                # here are aborted by the orphan sweep.
                with anyio.CancelScope(shield=True):
                    await self._abort(name, upload_id)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def _abort(self, name: str, upload_id: str) -> None:
        client = await self.client()
        # Already gone is fine; any other failure is left for the orphan sweep.
        with contextlib.suppress(ClientError):
            await client.abort_multipart_upload(
                Bucket=self.location.bucket, Key=name, UploadId=upload_id
            )

    async def open(self, key: str) -> StoredBlob:
        if not KEY_SHAPE.match(key):
            raise FileMissing(key)
        client = await self.client()
        try:
            head = await client.head_object(
                Bucket=self.location.bucket, Key=self.location.name(key)
            )
        except ClientError as exc:
            if _missing(exc):
                raise FileMissing(key) from exc
            raise
        return S3Blob(self, key, int(head["ContentLength"]))

    async def delete(self, key: str) -> None:
        if not KEY_SHAPE.match(key):
            return
        client = await self.client()
        # S3 answers 204 for a key that is not there: deleting twice is fine.
        await client.delete_object(Bucket=self.location.bucket, Key=self.location.name(key))

    async def stored_between(self, start: float, end: float) -> AsyncIterator[list[str]]:
        """Keys of objects stored in [start, end) (unix seconds), in batches.

        Also aborts unfinished multipart uploads begun in the window: a process killed
        mid-upload leaves their parts, invisible but stored.
        """
        client = await self.client()
        low = f"{max(0, int(start)):0{_TIME_DIGITS}x}"
        high = f"{max(0, int(end)):0{_TIME_DIGITS}x}"
        base = self.location.name("")
        await self._abort_unfinished(base, low, high)
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket,
            Prefix=base,
            # Listing starts after this: from the window's first second on.
            StartAfter=base + _before(low),
            PaginationConfig={"PageSize": 500},
        )
        async for page in pages:
            keys: list[str] = []
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(base) :]
                if not KEY_SHAPE.match(key):
                    continue
                if key[:_TIME_DIGITS] >= high:
                    if keys:
                        yield keys
                    return
                keys.append(key)
            if keys:
                yield keys

    async def _abort_unfinished(self, base: str, low: str, high: str) -> None:
        client = await self.client()
        pages = client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.location.bucket, Prefix=base
        )
        async for page in pages:
            for upload in page.get("Uploads", []):
                key = str(upload["Key"])[len(base) :]
                if KEY_SHAPE.match(key) and low <= key[:_TIME_DIGITS] < high:
                    await self._abort(str(upload["Key"]), str(upload["UploadId"]))


def _before(low: str) -> str:
    """A string sorting just before every key that starts with `low`."""
    if low == "0" * _TIME_DIGITS:
        return ""
    return f"{int(low, 16) - 1:0{_TIME_DIGITS}x}~"
