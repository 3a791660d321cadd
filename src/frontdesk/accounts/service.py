"""Use cases on accounts: create one with its first admin, look one up by site key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.agents.service import create_agent
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
