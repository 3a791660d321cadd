"""Migration 0010 counts what was stored before it: a database at 0009 with messages, then
upgraded, holds the counts post_message would have kept."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import insert, select, text

from frontdesk.accounts.service import create_account
from frontdesk.agents.service import create_agent
from frontdesk.db import Database
from frontdesk.migrations import alembic_config
from frontdesk.models import Contact, Message, ReplyCount
from tests.support.off_loop import run_off_loop
from tests.support.services import postgres_url, require
from tests.working.counts import IN, OUT, assert_counts_match

S = 1_000_000
T0 = 1_773_136_800 * S  # 2026-03-10 10:00 UTC


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    base = postgres_url()
    require("PostgreSQL", base is not None, "set FRONTDESK_TEST_DATABASE_URL")
    assert base is not None
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    name = f"frontdesk_test_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_off_loop(lambda: execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin.rpartition('/')[0]}/{name}".replace(
            "postgresql://", "postgresql+asyncpg://", 1
        )
    finally:
        run_off_loop(lambda: execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def migrate(url: str, revision: str) -> None:
    # env.py runs a loop of its own: a thread without one.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


async def conversation(session, account_id: int, contact_id: int, n: int, **firsts) -> int:
    """A conversation row as 0009 knows it (the columns the ORM adds after it unnamed)."""
    values = {
        "a": account_id,
        "c": contact_id,
        "vt": f"old-visitor-{n}-token",
        "ct": f"old-conversation-{n}-token",
        "t": T0 + n * 3600 * S,
        "fi": firsts.get("first_inbound_us"),
        "fr": firsts.get("first_reply_us"),
        "fa": firsts.get("first_reply_agent_id"),
    }
    return int(
        await session.scalar(
            text(
                "INSERT INTO conversations (account_id, contact_id, visitor_token,"
                " conversation_token, status, created_us, updated_us, last_message_us,"
                " last_activity_us, first_inbound_us, first_reply_us, first_reply_agent_id)"
                " VALUES (:a, :c, :vt, :ct, 'open', :t, :t, :t, :t, :fi, :fr, :fa)"
                " RETURNING id"
            ),
            values,
        )
    )


async def test_the_migration_counts_the_messages_already_stored(empty_url):
    await migrate(empty_url, "0009")
    db = Database(empty_url)
    try:
        async with db.write() as session:
            made = await create_account(
                session,
                name="Old",
                admin_email=f"old-{uuid.uuid4().hex[:8]}@example.com",
                admin_password="an old long password",
                admin_name="Ada",
            )
            ada = made.admin.id
            sam, _ = await create_agent(
                session,
                account_id=made.account.id,
                email=f"sam-{uuid.uuid4().hex[:8]}@example.com",
                name="Sam",
                password="another long password",
                role="agent",
            )
            contact_id = await session.scalar(
                insert(Contact)
                .values(
                    account_id=made.account.id,
                    name="Jane",
                    email="jane@example.com",
                    email_lower="jane@example.com",
                    created_us=T0,
                )
                .returning(Contact.id)
            )
            assert contact_id is not None
            contact = int(contact_id)
            # As 0008 filled them: the first inbound, the first public agent reply.
            answered = await conversation(
                session,
                made.account.id,
                contact,
                0,
                first_inbound_us=T0,
                first_reply_us=T0 + 60 * S,
                first_reply_agent_id=ada,
            )
            unanswered = await conversation(
                session, made.account.id, contact, 1, first_inbound_us=T0 + 3600 * S
            )
            script = [
                (answered, 0, IN, None, False),
                (answered, 1, OUT, None, False),  # the auto-reply
                (answered, 60, OUT, ada, False),
                (answered, 90, OUT, ada, True),  # a note
                (answered, 120, OUT, sam.id, False),
                (answered, 180, OUT, sam.id, False),
                (answered, 240, IN, None, False),
                (answered, 300, OUT, ada, False),
                (unanswered, 3600, IN, None, False),
                (unanswered, 3601, OUT, None, False),
                (unanswered, 3700, OUT, sam.id, True),
            ]
            await session.execute(
                insert(Message),
                [
                    {
                        "conversation_id": cid,
                        "direction": direction,
                        "body": "text",
                        "author": "someone",
                        "agent_id": agent,
                        "private": private,
                        "created_us": T0 + seconds * S,
                    }
                    for cid, seconds, direction, agent, private in script
                ],
            )
        account_id = made.account.id
        await db.dispose()

        await migrate(empty_url, "head")
        kept = await assert_counts_match(db, account_id)
        assert kept == {
            answered: Counter({IN: 2, OUT: 5, ada: 2, sam.id: 2}),
            unanswered: Counter({IN: 1, OUT: 1}),
        }
        async with db.read() as session:
            others = (await session.execute(select(ReplyCount))).scalars().all()
        # The first to reply is counted on the conversation's row; Sam in reply_counts.
        assert [(r.conversation_id, r.agent_id, r.replies) for r in others] == [
            (answered, sam.id, 2)
        ]
    finally:
        await db.dispose()
