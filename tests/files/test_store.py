"""The local file store and the pure helpers behind uploads and downloads."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from frontdesk.files import store as store_module
from frontdesk.files.downloads import RangeNotSatisfiable, content_disposition, parse_range
from frontdesk.files.metadata import display_filename, inline_allowed, recorded_content_type
from frontdesk.files.store import FileMissing, LocalFileStore
from tests.files.support import GIF, JPEG, PDF, PNG, WEBP


def regular_files(root: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(root) for n in names]


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("read_nowait", [True, False])
async def test_save_open_read_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_nowait: bool
) -> None:
    # Both ways of reading: straight from the page cache, and through a worker thread
    # (the path for uncached bytes and for systems without RWF_NOWAIT).
    monkeypatch.setattr(
        store_module, "_CAN_READ_NOWAIT", read_nowait and store_module._CAN_READ_NOWAIT
    )
    store = LocalFileStore(tmp_path / "files")
    data = os.urandom(700_000)
    stored = await store.save(chunks_of(data, 65_536))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    blob = await store.open(stored.key)
    assert blob.size == len(data)
    assert blob.local_path is not None
    assert blob.local_path.read_bytes() == data
    read = b"".join([c async for c in blob.chunks(0, len(data))])
    assert read == data
    middle = b"".join([c async for c in blob.chunks(300_000, 300_010)])
    assert middle == data[300_000:300_010]
    # Nothing temporary is left once a save completes.
    assert regular_files(tmp_path / "files") == [blob.local_path]
    # Visitors' files are for the service's user alone.
    assert stat.S_IMODE(blob.local_path.stat().st_mode) == 0o600
    for directory in (tmp_path / "files", blob.local_path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700

    await store.delete(stored.key)
    await store.delete(stored.key)  # deleting twice is fine
    with pytest.raises(FileMissing):
        await store.open(stored.key)


async def test_keys_are_random_and_never_paths(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    keys = {(await store.save(chunks_of(b"same"))).key for _ in range(20)}
    assert len(keys) == 20
    for bad in ("../../etc/passwd", "", "A" * 32, "0" * 31, "/abs/path"):
        with pytest.raises(FileMissing):
            await store.open(bad)


async def test_a_failing_stream_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 300_000  # past the write buffer: something really is on disk
        yield b"y" * 300_000
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.save(broken())
    assert regular_files(tmp_path / "files") == []


async def test_a_cancelled_save_leaves_nothing(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")

    async def slow() -> AsyncIterator[bytes]:
        yield b"x" * 300_000
        await anyio.sleep(10)
        yield b"never"

    with anyio.move_on_after(0.2):
        await store.save(slow())
    assert regular_files(tmp_path / "files") == []


async def test_sweep_removes_only_old_temporary_files(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    store.tmp.mkdir(parents=True)
    old, young = store.tmp / "old.part", store.tmp / "young.part"
    old.write_bytes(b"x")
    young.write_bytes(b"x")
    an_hour_ago = time.time() - 7200
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert store.sweep_temporary() == 1
    assert not old.exists()
    assert young.exists()


def test_content_types_are_checked_against_signatures() -> None:
    for declared, head in (
        ("image/png", PNG),
        ("image/jpeg", JPEG),
        ("image/gif", GIF),
        ("image/webp", WEBP),
        ("application/pdf", PDF),
    ):
        assert recorded_content_type(declared, {}, head[:16]) == declared
        assert recorded_content_type(declared, {}, b"<svg></svg>") == "application/octet-stream"
        assert recorded_content_type(declared.upper(), {}, head[:16]) == declared
    assert recorded_content_type("image/png", {}, b"") == "application/octet-stream"
    assert recorded_content_type("", {}, PNG) == "application/octet-stream"
    assert recorded_content_type("text/plain", {"charset": "x\r\ny"}, b"") == "text/plain"


def test_inline_types() -> None:
    for allowed in ("image/png", "application/pdf", "text/plain; charset=utf-8", "audio/ogg"):
        assert inline_allowed(allowed)
    for refused in ("image/svg+xml", "text/html", "text/xml", "application/octet-stream"):
        assert not inline_allowed(refused)


def test_display_filename() -> None:
    assert display_filename(None) == "file"
    assert display_filename("") == "file"
    assert display_filename("..") == "file"
    assert display_filename("dir/") == "file"
    assert display_filename("\x00\x01") == "file"
    assert display_filename("e\u0301t\u00e9.txt") == "\u00e9t\u00e9.txt"  # NFC
    long = display_filename("x" * 400)
    assert long == "x" * 255


def test_parse_range() -> None:
    assert parse_range("bytes=0-0", 10) == (0, 1)
    assert parse_range("bytes=9-", 10) == (9, 10)
    assert parse_range("bytes=-3", 10) == (7, 10)
    assert parse_range("bytes=2-100", 10) == (2, 10)
    assert parse_range("bytes=-", 10) is None
    # A last byte past the end is the end, however many digits it has (RFC 9110 14.1.2).
    assert parse_range("bytes=0-" + "9" * 18, 10) == (0, 10)
    assert parse_range("bytes=0-" + "9" * 20, 10) == (0, 10)
    assert parse_range("bytes=3-" + "0" * 30 + "5", 10) == (3, 6)
    assert parse_range("bytes=-" + "9" * 40, 10) == (0, 10)
    assert parse_range("bytes=\u0661-\u0665", 10) is None  # digits are ASCII digits
    for unsatisfiable in ("bytes=10-", "bytes=10-20", "bytes=-0", "bytes=" + "9" * 30 + "-"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(unsatisfiable, 10)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=0-", 0)


def test_content_disposition_fallbacks() -> None:
    assert content_disposition("inline", "日本.pdf") == (
        "inline; filename=\"file.pdf\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.pdf"
    )
    assert content_disposition("attachment", "報告") == (
        "attachment; filename=\"file\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A"
    )
