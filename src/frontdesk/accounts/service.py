"""Use cases on accounts: create one with its first admin, look one up, change settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.accounts.settings import apply_changes
from frontdesk.agents.service import create_agent
from frontdesk.audit.service import record
from frontdesk.db import queue_event
from frontdesk.events.bus import account_changed
from frontdesk.kit.clock import now_us
from frontdesk.kit.tokens import new_token
from frontdesk.models import Account, Agent


def new_site_key() -> str:
    return "fd_" + new_token(24)


@dataclass(frozen=True)
class NewAccount:
    account: Account
    admin: Agent
    admin_password: str
    api_token: str


async def create_account(
    session: AsyncSession, *, name: str, admin_email: str, admin_password: str, admin_name: str
) -> NewAccount:
    account = Account(
        name=name,
        site_key=new_site_key(),
        allowed_origins=[],
        rate_limits={},
        created_us=now_us(),
    )
    session.add(account)
    await session.flush()
    admin, api_token = await create_agent(
        session,
        account_id=account.id,
        email=admin_email,
        name=admin_name,
        password=admin_password,
        role="admin",
    )
    return NewAccount(account, admin, admin_password, api_token)


async def account_by_site_key(session: AsyncSession, site_key: str) -> Account | None:
    result = await session.execute(select(Account).where(Account.site_key == site_key))
    return result.scalar_one_or_none()


async def count_accounts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)


async def first_account(session: AsyncSession) -> Account | None:
    """The account with the lowest id (the demo page shows its widget)."""
    return await session.scalar(select(Account).order_by(Account.id).limit(1))


async def account_of(session: AsyncSession, agent: Agent) -> Account:
    account = await session.get(Account, agent.account_id)
    assert account is not None  # agents are deleted with their account
    return account


async def change_settings(session: AsyncSession, admin: Agent, fields: dict[str, Any]) -> Account:
    """Apply every field or none (a bad one changes nothing); caches hear of it on commit."""
    account = await account_of(session, admin)
    apply_changes(account, fields)
    await session.flush()
    queue_event(session, account_changed(account.id))
    await record(session, account.id, admin, "settings.updated", None, {"fields": sorted(fields)})
    return account


async def rotate_identity_secret(session: AsyncSession, admin: Agent) -> str:
    """A new identity secret; hashes made with the old one fail once this commits."""
    account = await account_of(session, admin)
    account.identity_secret = new_token(32)
    await session.flush()
    queue_event(session, account_changed(account.id))
    await record(session, account.id, admin, "identity_secret.rotated")
    return account.identity_secret


async def rotate_site_key(session: AsyncSession, admin: Agent) -> str:
    """A new site key; the old one stops working once this commits (caches drop it)."""
    account = await account_of(session, admin)
    account.site_key = new_site_key()
    await session.flush()
    queue_event(session, account_changed(account.id))
    await record(session, account.id, admin, "site_key.rotated")
    return account.site_key
