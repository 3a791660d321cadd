"""`frontdesk backup` while `serve` takes messages, and `frontdesk restore` into an empty
data dir: every message acknowledged before the backup started comes back, files too."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.support.live_server import free_port
from tests.support.processes import create_account, start_serve, stop, wait_until_up

AGENT = "/api/v1/agent/conversations"


def frontdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRONTDESK_", "AWS_"))}
    # No FRONTDESK_SECRET_KEY: the one generated into the data dir must travel with it.
    return {**env, **extra}


class Writer(threading.Thread):
    """Posts agent replies as fast as the server takes them; remembers each one answered."""

    def __init__(self, base: str, token: str, conversation: int) -> None:
        super().__init__(daemon=True)
        self.url = f"{base}{AGENT}/{conversation}/messages"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.halt.is_set():
                body = f"line {n}"
                answer = client.post(self.url, json={"message": body}, headers=self.headers)
                assert answer.status_code == 201, answer.text
                with self.lock:
                    self.acknowledged.append((answer.json()["id"], body))
                n += 1

    def so_far(self) -> list[tuple[int, str]]:
        with self.lock:
            return list(self.acknowledged)


def test_backup_while_serving_restores_every_acknowledged_message(tmp_path: Path) -> None:
    env = clean_env(FRONTDESK_DATA_DIR=str(tmp_path / "live"))
    account = create_account(env, "Backed")
    admin = {"Authorization": f"Bearer {account['api_token']}"}
    widget = {"X-Api-Key": account["site_key"]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(env, port)
    archive = tmp_path / "backup.tar.gz"
    visitor = f"backed-visitor-{uuid.uuid4().hex[:8]}"
    content = os.urandom(300_000)
    try:
        wait_until_up(base, process)
        created = httpx.post(
            f"{base}/api/v1/chat/conversations",
            json={"name": "V", "email": "v@example.com", "message": "hi", "visitor_token": visitor},
            headers=widget,
        )
        assert created.status_code == 201, created.text
        sent = httpx.post(
            f"{base}/api/v1/chat/conversations/{visitor}/files",
            files={"file": ("kept.bin", content, "application/octet-stream")},
            headers=widget,
        )
        assert sent.status_code == 201, sent.text
        listing = httpx.get(f"{base}{AGENT}", headers=admin).json()["conversations"]
        cid = next(c["id"] for c in listing if c["visitor_token"] == visitor)

        writer = Writer(base, account["api_token"], cid)
        writer.start()
        time.sleep(1.0)
        before = writer.so_far()  # acknowledged before the backup started
        backed = frontdesk(env, "backup", str(archive))
        during = writer.so_far()
        time.sleep(0.5)
        writer.halt.set()
        writer.join(30)
        assert backed.returncode == 0, backed.stderr
        assert "Backed up" in backed.stderr
        # The writer really was writing while the backup ran.
        assert len(before) >= 5
        assert len(writer.acknowledged) > len(during) >= len(before)
    finally:
        stop(process)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert {"frontdesk.db", "manifest.json", "secret_key"} <= set(names)

    # Restore into an empty (here: not yet existing) data dir and serve from it.
    restored_env = clean_env(FRONTDESK_DATA_DIR=str(tmp_path / "restored"))
    restored = frontdesk(restored_env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    # Contract section 12: the data dir 0700, the database and files 0600, and so every
    # directory of files in between, as a live install makes them.
    everything = [tmp_path / "restored", *(tmp_path / "restored").rglob("*")]
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in everything}
    assert any(path.is_dir() and path.name == "files" for path in modes)
    assert {oct(mode) for path, mode in modes.items() if path.is_dir()} == {oct(0o700)}
    assert {oct(mode) for path, mode in modes.items() if path.is_file()} == {oct(0o600)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(restored_env, port)
    try:
        wait_until_up(base, process)
        conversation = httpx.get(f"{base}{AGENT}/{cid}", headers=admin)
        assert conversation.status_code == 200, conversation.text
        stored = {(m["id"], m["body"]) for m in conversation.json()["messages"]}
        assert set(before) <= stored
        # Nothing the backup didn't hold, nothing twice.
        assert len(stored) == len(conversation.json()["messages"])
        messages = httpx.get(
            f"{base}/api/v1/chat/conversations/{visitor}/messages", headers=widget
        ).json()
        [attachment] = [item for m in messages for item in m["attachments"]]
        got = httpx.get(f"{base}{attachment['url']}", headers=widget)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(content).digest()
        # The same secrets: the API token, the admin's password.
        login = httpx.post(
            f"{base}/api/v1/agent/login",
            json={"email": account["admin_email"], "password": account["admin_password"]},
        )
        assert login.status_code == 200, login.text
    finally:
        stop(process)

    # Restoring over anything is refused, and touches nothing.
    again = frontdesk(restored_env, "restore", str(archive))
    assert again.returncode == 1
    assert "is not empty: restore into an empty one" in again.stderr


def test_restore_refuses_a_non_empty_dir_and_a_bad_archive(tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    archive = tmp_path / "nothing.tar.gz"
    archive.write_bytes(b"not a backup")
    refused = frontdesk(clean_env(FRONTDESK_DATA_DIR=str(occupied)), "restore", str(archive))
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    bad = frontdesk(clean_env(FRONTDESK_DATA_DIR=str(empty)), "restore", str(archive))
    assert bad.returncode == 1
    assert "is not a Frontdesk backup" in bad.stderr
    assert not any(empty.iterdir())


def test_backup_on_postgres_points_at_pg_dump(tmp_path: Path) -> None:
    env = clean_env(
        FRONTDESK_DATA_DIR=str(tmp_path / "data"),
        FRONTDESK_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
    )
    refused = frontdesk(env, "backup", str(tmp_path / "b.tar.gz"))
    assert refused.returncode == 1
    assert "on PostgreSQL use pg_dump" in refused.stderr
