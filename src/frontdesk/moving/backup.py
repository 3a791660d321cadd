"""`frontdesk backup FILE.tar.gz` and `frontdesk restore FILE.tar.gz`, for SQLite installs.

The database is copied with SQLite's online backup API in one step, which reads one
consistent snapshot while `serve` goes on writing (WAL: writers don't wait for it); then
come the files that snapshot names (each fsynced before its message committed, so every
one is there), the secret key, and a manifest with the schema revision, each table's
row count and each file's size and SHA-256, which restore checks. The archive is written
beside its final name and renamed into place when complete, readable by its owner only.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Any

from frontdesk import __version__
from frontdesk.files.store import KEY_SHAPE, LocalFileStore
from frontdesk.moving import MoveError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "frontdesk.db"
SECRET = "secret_key"
COPY_CHUNK = 1024 * 1024


class BackupError(MoveError):
    """The backup or restore was refused or failed its checks."""


def _table_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names
    }


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def backup(database: Path, data_dir: Path, file_store: str, archive: Path) -> dict[str, Any]:
    """Write the archive; returns its manifest."""
    if not database.exists() or database.stat().st_size == 0:
        raise BackupError(f"There is no Frontdesk database at {database}")
    archive = archive.resolve()
    if not archive.parent.is_dir():
        raise BackupError(f"There is no folder {archive.parent} to write the backup into")
    with tempfile.TemporaryDirectory(prefix=".frontdesk-backup-", dir=archive.parent) as work:
        snapshot = Path(work) / DATABASE
        with (
            closing(sqlite3.connect(database)) as source,
            closing(sqlite3.connect(snapshot)) as copy,
        ):
            # pages=-1: the whole database in one step, one read transaction, one snapshot.
            source.backup(copy, pages=-1)
            try:
                counts = _table_counts(copy)
                revision = _revision(copy)
                keys = [row[0] for row in copy.execute("SELECT storage_key FROM attachments")]
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{database} is not a Frontdesk database: {exc}") from exc
        files = []
        store = LocalFileStore(data_dir.resolve() / "files") if file_store == "local" else None
        if store is not None:
            for key in sorted(set(keys)):
                path = store.path_for(key)
                if not path.exists():
                    raise BackupError(f"The file {key} that a message names is missing")
                files.append({"key": key, "size": path.stat().st_size, "sha256": _sha256(path)})
        manifest = {
            "format": FORMAT,
            "frontdesk_version": __version__,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "alembic_revision": revision,
            "tables": counts,
            "file_store": file_store,
            "files": files,
            "secret_key": (data_dir / SECRET).exists(),
        }
        partial = archive.with_name(archive.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                tar.add(snapshot, DATABASE)
                if manifest["secret_key"]:
                    tar.add(data_dir / SECRET, SECRET)
                if store is not None:
                    for item in files:
                        relative = store.path_for(item["key"]).relative_to(store.root)
                        tar.add(store.path_for(item["key"]), f"files/{relative}")
                body = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _member_path(name: str) -> Path:
    """Where a member goes, relative to the data dir; anything unexpected is refused."""
    if name in (DATABASE, SECRET, MANIFEST):
        return Path(name)
    parts = name.split("/")
    if (
        len(parts) == 4
        and parts[0] == "files"
        and KEY_SHAPE.match(parts[3])
        and parts[1] == parts[3][:2]
        and parts[2] == parts[3][2:4]
    ):
        return Path(*parts)
    raise BackupError(f"The archive holds an unexpected entry: {name!r}")


@contextmanager
def _emptied_on_failure(data_dir: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        for entry in data_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        raise


def _copy_out(source: IO[bytes], target: Path, data_dir: Path) -> str:
    # Each level its own mkdir: with parents=True, Python makes the missing parents
    # (files/) with the default mode, not 0700 (contract section 12).
    for directory in reversed(target.parent.relative_to(data_dir).parents[:-1]):
        (data_dir / directory).mkdir(mode=0o700, exist_ok=True)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def restore(archive: Path, data_dir: Path) -> dict[str, Any]:
    """Unpack into `data_dir`, which must be empty or not exist; returns the manifest."""
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"{data_dir} is a file, not a data directory")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"The data directory {data_dir} is not empty: restore into an empty one")
    if not archive.is_file():
        raise BackupError(f"There is no backup at {archive}")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    try:
        # Closed by the `with` below; opened here so a bad file gets its own sentence.
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} is not a Frontdesk backup: {exc}") from exc
    with tar, _emptied_on_failure(data_dir):
        digests: dict[str, str] = {}
        manifest: dict[str, Any] | None = None
        try:
            for member in tar:
                relative = _member_path(member.name)
                if not member.isfile():
                    raise BackupError(f"The archive holds an unexpected entry: {member.name!r}")
                stream = tar.extractfile(member)
                assert stream is not None
                if member.name == MANIFEST:
                    manifest = json.loads(stream.read(10 * 1024 * 1024))
                    continue
                digests[relative.name] = _copy_out(stream, data_dir / relative, data_dir)
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise BackupError(f"{archive} is damaged: {exc}") from exc
        if manifest is None or manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is not a Frontdesk backup (no manifest)")
        _check(manifest, digests, data_dir)
    return manifest


def _check(manifest: dict[str, Any], digests: dict[str, str], data_dir: Path) -> None:
    if DATABASE not in digests:
        raise BackupError("The backup holds no database")
    for item in manifest["files"]:
        if digests.get(item["key"]) != item["sha256"]:
            raise BackupError(f"The file {item['key']} is missing or damaged in the backup")
    with closing(sqlite3.connect(data_dir / DATABASE)) as connection:
        if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("The backed-up database fails SQLite's integrity check")
        if _table_counts(connection) != manifest["tables"]:
            raise BackupError("The restored database's row counts differ from the manifest")
