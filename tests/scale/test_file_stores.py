"""The S3-compatible file store against moto's standalone server: streaming both ways,
multipart for large files, ranges, nothing left by a failed or cancelled upload, and the
orphan sweep (on the local store too); a bad FRONTDESK_FILE_STORE is one line."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from frontdesk.files.s3 import PART_BYTES, S3FileStore, S3Location
from frontdesk.files.store import FileMissing, LocalFileStore, make_file_store
from frontdesk.files.sweep import OrphanSweeper
from tests.scale.services import S3Server


@pytest.fixture
def prefix() -> str:
    return f"unit-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def store(s3_server: S3Server, prefix: str, tmp_path) -> AsyncIterator[S3FileStore]:
    made = make_file_store(
        f"s3://{s3_server.bucket}/{prefix}", tmp_path, s3_server.endpoint, "test", "test", None
    )
    assert isinstance(made, S3FileStore)
    yield made
    await made.close()


def listing(server: S3Server, prefix: str, what: str = "") -> str:
    """moto's own answer (unsigned) for the objects, or the unfinished multipart uploads."""
    query = {"uploads": ""} if what == "uploads" else {"list-type": "2"}
    answer = httpx.get(f"{server.endpoint}/{server.bucket}", params={**query, "prefix": prefix})
    assert answer.status_code == 200, answer.text
    return answer.text


async def raw_object(store: S3FileStore, key: str) -> bytes:
    """The object as S3 holds it, fetched without the store's own read path."""
    client = await store.client()
    answer = await client.get_object(Bucket=store.location.bucket, Key=store.location.name(key))
    async with answer["Body"] as body:
        return bytes(await body.read())


async def chunks_of(data: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read(store: S3FileStore, key: str, start: int, end: int) -> bytes:
    blob = await store.open(key)
    return b"".join([chunk async for chunk in blob.chunks(start, end)])


@pytest.mark.parametrize("size", [1, 70_000, PART_BYTES - 1, PART_BYTES, 2 * PART_BYTES + 17])
async def test_save_open_ranges_delete(
    store: S3FileStore, s3_server: S3Server, prefix: str, size: int
) -> None:
    data = os.urandom(size)
    stored = await store.save(chunks_of(data))
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    # Bytes unchanged, as an object under the prefix.
    assert f"<Key>{prefix}/{stored.key}</Key>" in listing(s3_server, prefix)
    assert await raw_object(store, stored.key) == data
    blob = await store.open(stored.key)
    assert (blob.size, blob.local_path) == (size, None)
    assert await read(store, stored.key, 0, size) == data
    for start, end in ((0, 1), (size // 2, size), (size - 1, size), (size // 3, size // 3 + 10)):
        assert await read(store, stored.key, start, end) == data[start:end]
    await store.delete(stored.key)
    await store.delete(stored.key)  # twice is fine
    with pytest.raises(FileMissing):
        await store.open(stored.key)
    for bad in ("../x", "", "A" * 32):
        with pytest.raises(FileMissing):
            await store.open(bad)


async def test_a_failing_stream_leaves_nothing(
    store: S3FileStore, s3_server: S3Server, prefix: str
) -> None:
    class Refused(Exception):
        pass

    async def broken(parts: int) -> AsyncIterator[bytes]:
        for _ in range(parts):
            yield os.urandom(PART_BYTES // 2)
        raise Refused

    for parts in (1, 5):  # before the multipart upload starts, and in the middle of one
        with pytest.raises(Refused):
            await store.save(broken(parts))
    assert "<Key>" not in listing(s3_server, prefix)
    assert "<Upload>" not in listing(s3_server, prefix, "uploads")


async def test_a_cancelled_upload_is_aborted(
    store: S3FileStore, s3_server: S3Server, prefix: str
) -> None:
    arrived = asyncio.Event()

    async def slow_client() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield os.urandom(PART_BYTES)
        arrived.set()
        await asyncio.sleep(3600)  # the client stalls: the request is cancelled
        yield b"never"

    saving = asyncio.ensure_future(store.save(slow_client()))
    await asyncio.wait_for(arrived.wait(), 30)
    await asyncio.sleep(0.5)
    assert "<Upload>" in listing(s3_server, prefix, "uploads")  # parts really were sent
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving
    assert "<Upload>" not in listing(s3_server, prefix, "uploads")
    assert "<Key>" not in listing(s3_server, prefix)


async def test_memory_stays_flat_for_a_large_upload(store: S3FileStore) -> None:
    # Streamed: 60 MiB through save and back through a read, without the file in memory.
    def rss() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    block = os.urandom(65536)

    async def sixty_mib() -> AsyncIterator[bytes]:
        for _ in range(960):
            yield block

    before = rss()
    stored = await store.save(sixty_mib())
    blob = await store.open(stored.key)
    total = 0
    async for chunk in blob.chunks(0, blob.size):
        total += len(chunk)
    assert total == 60 * 1024 * 1024
    assert rss() - before < 40 * 1024  # KiB: well under the file's 60 MiB


async def test_orphans_are_swept_and_named_files_kept(store: S3FileStore) -> None:
    named = await store.save(chunks_of(b"a message names me"))
    orphan = await store.save(chunks_of(b"nobody names me"))
    large_orphan = await store.save(chunks_of(os.urandom(PART_BYTES + 1)))

    async def referenced(keys: list[str]) -> set[str]:
        return {key for key in keys if key == named.key}

    # Young files are never taken: an upload may still be on its way to its message.
    assert await OrphanSweeper(store, referenced).sweep(force=True) == 0
    assert (await store.open(orphan.key)).size > 0

    await asyncio.sleep(2.1)  # keys carry whole seconds
    sweeper = OrphanSweeper(store, referenced, orphan_age=1)
    assert await sweeper.sweep(force=True) == 2
    assert (await store.open(named.key)).size == len(b"a message names me")
    for gone in (orphan, large_orphan):
        with pytest.raises(FileMissing):
            await store.open(gone.key)


async def test_the_sweep_aborts_uploads_a_killed_process_left(
    store: S3FileStore, s3_server: S3Server, prefix: str
) -> None:
    # What a process killed mid-upload leaves: a multipart upload with a part, never ended.
    client = await store.client()
    name = store.location.name(store.new_key())
    begun = await client.create_multipart_upload(Bucket=store.location.bucket, Key=name)
    await client.upload_part(
        Bucket=store.location.bucket,
        Key=name,
        UploadId=begun["UploadId"],
        PartNumber=1,
        Body=os.urandom(PART_BYTES),
    )
    assert "<Upload>" in listing(s3_server, prefix, "uploads")

    async def referenced(keys: list[str]) -> set[str]:
        return set()

    await asyncio.sleep(2.1)
    await OrphanSweeper(store, referenced, orphan_age=1).sweep(force=True)
    assert "<Upload>" not in listing(s3_server, prefix, "uploads")


def test_store_addresses() -> None:
    assert S3Location.parse("s3://bucket") == S3Location("bucket", "")
    assert S3Location.parse("s3://bucket/a/b/") == S3Location("bucket", "a/b")
    for bad in ("s3://", "bucket", "http://x/y", "s3:///prefix"):
        with pytest.raises(ValueError):
            S3Location.parse(bad)


async def test_local_orphans_are_swept_too(tmp_path) -> None:
    store = make_file_store("local", tmp_path)
    assert isinstance(store, LocalFileStore)
    named = await store.save(chunks_of(b"named"))
    orphan = await store.save(chunks_of(b"orphan"))
    young = await store.save(chunks_of(b"young orphan"))
    two_days_ago = time.time() - 2 * 24 * 3600
    for stored in (named, orphan):
        os.utime(store.path_for(stored.key), (two_days_ago, two_days_ago))

    async def referenced(keys: list[str]) -> set[str]:
        return {key for key in keys if key == named.key}

    assert await OrphanSweeper(store, referenced).sweep(force=True) == 1
    assert store.path_for(named.key).exists()
    assert store.path_for(young.key).exists()  # a day old at least before it is taken
    assert not store.path_for(orphan.key).exists()


def test_a_bad_store_address_is_one_line(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    env |= {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_FILE_STORE": "ftp://files"}
    done = subprocess.run(
        [sys.executable, "-m", "frontdesk", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("frontdesk: FRONTDESK_FILE_STORE: ")
    assert "must be local or s3://bucket[/prefix]" in done.stderr
    assert done.stderr.count("\n") == 1


async def test_an_upload_cancelled_by_an_anyio_scope_is_aborted(
    store: S3FileStore, s3_server: S3Server, prefix: str
) -> None:
    # Starlette cancels a request's work with anyio, whose cancellation repeats at every
    # await until the scope ends: the abort must still get through.
    arrived = anyio.Event()

    async def stalling_client() -> AsyncIterator[bytes]:
        for _ in range(2):
            yield os.urandom(PART_BYTES)
        arrived.set()
        await anyio.sleep(3600)
        yield b"never"

    async with anyio.create_task_group() as group:

        async def upload() -> None:
            with anyio.CancelScope() as scope:
                group.start_soon(cancel_when_stalled, scope)
                await store.save(stalling_client())

        async def cancel_when_stalled(scope: anyio.CancelScope) -> None:
            await arrived.wait()
            await anyio.sleep(0.5)
            assert "<Upload>" in listing(s3_server, prefix, "uploads")
            scope.cancel()

        group.start_soon(upload)
    assert "<Upload>" not in listing(s3_server, prefix, "uploads")
    assert "<Key>" not in listing(s3_server, prefix)
