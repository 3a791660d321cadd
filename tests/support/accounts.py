"""Accounts made the way the CLI makes them, one fresh account per test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from frontdesk.accounts.service import create_account
from frontdesk.agents.service import create_agent
from frontdesk.db import Database
from frontdesk.runtime import Runtime


@dataclass
class TestAccount:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    id: int
    site_key: str
    admin_id: int
    admin_email: str
    admin_password: str
    admin_token: str

    @property
    def widget(self) -> dict[str, str]:
        return {"X-Api-Key": self.site_key}

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


async def _create(db: Database, name: str) -> TestAccount:
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"
    async with db.write() as session:
        created = await create_account(
            session, name=name, admin_email=email, admin_password=password, admin_name="Ada Admin"
        )
    return TestAccount(
        id=created.account.id,
        site_key=created.account.site_key,
        admin_id=created.admin.id,
        admin_email=email,
        admin_password=password,
        admin_token=created.api_token,
    )


async def make_account(app: FastAPI, name: str = "Acme") -> TestAccount:
    rt: Runtime = app.state.runtime
    return await _create(rt.db, name)


async def make_agent(app: FastAPI, account: TestAccount, name: str = "Sam", role: str = "agent"):
    rt: Runtime = app.state.runtime
    async with rt.db.write() as session:
        agent, token = await create_agent(
            session,
            account_id=account.id,
            email=f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com",
            name=name,
            password="another long password",
            role=role,
        )
    return agent, {"Authorization": f"Bearer {token}"}


def visitor_token() -> str:
    return "v-" + uuid.uuid4().hex


async def start_conversation(
    client: httpx.AsyncClient, account: TestAccount, token: str | None = None, **fields: str
) -> str:
    """Create a conversation through the widget API and return its visitor_token."""
    token = token or visitor_token()
    body = {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "message": "Hi, I need help with billing.",
        "visitor_token": token,
        **fields,
    }
    response = await client.post("/api/v1/chat/conversations", json=body, headers=account.widget)
    assert response.status_code == 201, response.text
    return token


async def make_account_in(database_url: str, name: str = "Acme") -> TestAccount:
    """An account made through a Database of its own: for apps running in another thread."""
    db = Database(database_url)
    try:
        return await _create(db, name)
    finally:
        await db.dispose()
