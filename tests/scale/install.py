"""A small real install made through the API of a running `frontdesk serve`: conversations,
messages, files and agents, and the checks that another install serves it all the same."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

CHAT = "/api/v1/chat/conversations"
AGENT = "/api/v1/agent"


@dataclass
class Install:
    account: dict[str, Any]
    agent_email: str = ""
    agent_password: str = "agent-password-1234"
    agent_token: str = ""
    visitors: dict[str, list[str]] = field(default_factory=dict)  # token -> message bodies
    files: dict[str, bytes] = field(default_factory=dict)  # filename -> bytes

    @property
    def widget(self) -> dict[str, str]:
        return {"X-Api-Key": self.account["site_key"]}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.account['api_token']}"}


def fill(base: str, account: dict[str, Any]) -> Install:
    """Two conversations with messages both ways, three files, a second agent."""
    install = Install(account)
    install.agent_email = f"sam-{uuid.uuid4().hex[:6]}@example.com"
    with httpx.Client(base_url=base, timeout=30) as client:
        added = client.post(
            f"{AGENT}/agents",
            json={
                "email": install.agent_email,
                "name": "Sam",
                "password": install.agent_password,
                "role": "agent",
            },
            headers=install.admin,
        )
        assert added.status_code == 201, added.text
        install.agent_token = added.json()["api_token"]
        for n in range(2):
            token = f"moving-visitor-{n}-{uuid.uuid4().hex[:8]}"
            bodies = [f"hello {n}"]
            created = client.post(
                CHAT,
                json={"name": f"V{n}", "email": "v@example.com", "message": bodies[0]}
                | {"visitor_token": token},
                headers=install.widget,
            )
            assert created.status_code == 201, created.text
            for i in range(3):
                body = f"visitor {n} line {i}"
                sent = client.post(
                    f"{CHAT}/{token}/messages", json={"message": body}, headers=install.widget
                )
                assert sent.status_code == 201, sent.text
                bodies.append(body)
            install.visitors[token] = bodies
        token = next(iter(install.visitors))
        for name, size in (("photo.png", 70_000), ("big.bin", 6 * 1024 * 1024 + 5)):
            content = (
                b"\x89PNG\r\n\x1a\n" + os.urandom(size)
                if name.endswith("png")
                else os.urandom(size)
            )
            sent = client.post(
                f"{CHAT}/{token}/files",
                files={"file": (name, content, "application/octet-stream")},
                headers=install.widget,
            )
            assert sent.status_code == 201, sent.text
            install.files[name] = content
        cid = conversation_id(client, install, token)
        form = b"%PDF-1.7\n" + os.urandom(3000)
        reply = client.post(
            f"{AGENT}/conversations/{cid}/messages",
            data={"message": "here is the form"},
            files={"files": ("form.pdf", form, "application/pdf")},
            headers={"Authorization": f"Bearer {install.agent_token}"},
        )
        assert reply.status_code == 201, reply.text
        install.files["form.pdf"] = form
    return install


def conversation_id(client: httpx.Client, install: Install, token: str) -> int:
    listing = client.get(f"{AGENT}/conversations", params={"status": "all"}, headers=install.admin)
    assert listing.status_code == 200, listing.text
    return int(
        next(c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token)
    )


def snapshot(base: str, install: Install) -> dict[str, Any]:
    """What a visitor and the admin see: every conversation's messages and file digests."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for token in install.visitors:
            messages = client.get(f"{CHAT}/{token}/messages", headers=install.widget)
            assert messages.status_code == 200, messages.text
            rows = []
            for message in messages.json():
                files = []
                for item in message["attachments"]:
                    got = client.get(item["url"], headers=install.widget)
                    assert got.status_code == 200, got.text
                    ranged = client.get(
                        item["url"], headers={**install.widget, "Range": "bytes=1-8"}
                    )
                    assert ranged.status_code == 206
                    assert ranged.content == got.content[1:9]
                    files.append((item["filename"], hashlib.sha256(got.content).hexdigest()))
                rows.append((message["id"], message["body"], message["timestamp"], files))
            seen[token] = rows
    return seen


def check_served(base: str, install: Install, before: dict[str, Any]) -> None:
    """Keys, tokens, password, visitor_tokens and files work as they did; new ids are new."""
    assert snapshot(base, install) == before
    uploaded = {
        name: hashlib.sha256(data).hexdigest() for name, data in install.files.items() if data
    }
    served = {name: digest for rows in before.values() for row in rows for name, digest in row[3]}
    for name, digest in uploaded.items():
        assert served[name] == digest, name
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/v1/chat/config", headers=install.widget).status_code == 200
        me = client.get(f"{AGENT}/me", headers={"Authorization": f"Bearer {install.agent_token}"})
        assert (me.status_code, me.json()["email"]) == (200, install.agent_email)
        login = client.post(
            f"{AGENT}/login",
            json={"email": install.agent_email, "password": install.agent_password},
        )
        assert login.status_code == 200, login.text
        wrong = client.post(
            f"{AGENT}/login", json={"email": install.agent_email, "password": "not-the-password"}
        )
        assert wrong.status_code == 401
        admin_login = client.post(
            f"{AGENT}/login",
            json={
                "email": install.account["admin_email"],
                "password": install.account["admin_password"],
            },
        )
        assert admin_login.status_code == 200, admin_login.text
        # Ids continue after the copied ones (PostgreSQL's sequences were moved on).
        token = f"after-the-move-{uuid.uuid4().hex[:8]}"
        created = client.post(
            CHAT,
            json={
                "name": "New",
                "email": "n@example.com",
                "message": "first after",
                "visitor_token": token,
            },
            headers=install.widget,
        )
        assert created.status_code == 201, created.text
        token_old = next(iter(install.visitors))
        sent = client.post(
            f"{CHAT}/{token_old}/messages", json={"message": "still here"}, headers=install.widget
        )
        assert sent.status_code == 201, sent.text
        ids = [row[0] for rows in before.values() for row in rows]
        assert sent.json()["id"] > max(ids)
