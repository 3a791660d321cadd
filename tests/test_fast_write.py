"""The bare write transaction (db.Database.fast_write), which visitors' messages take."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from frontdesk.app import create_app
from frontdesk.conversations.message_rows import BareRows
from frontdesk.conversations.service import post_message
from frontdesk.events.bus import Event
from tests.conftest import make_settings
from tests.support.accounts import make_account, start_conversation
from tests.support.services import require


async def test_a_failure_inside_rolls_back_publishes_nothing_and_the_next_write_works(app):
    """On SQLite (sqlite3) and PostgreSQL (asyncpg)."""
    rt = app.state.runtime
    account = await make_account(app)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        token = await start_conversation(client, account)
        url = f"/api/v1/chat/conversations/{token}/messages"
        conversation = await rt.conversations.conversation(account.id, token)
        # The agent API reads the database itself (the widget's reads may be cached).
        stored = f"/api/v1/agent/conversations/{conversation.id}"

        async def bodies() -> list[str]:
            found = await client.get(stored, headers=account.admin)
            return [m["body"] for m in found.json()["messages"]]

        before = await bodies()
        published: list[Event] = []
        rt.bus.listeners.append(published.append)

        with pytest.raises(RuntimeError):
            async with rt.db.fast_write() as transaction:
                await post_message(
                    BareRows(transaction), conversation.id, direction="inbound", body="lost"
                )
                raise RuntimeError("the disk said no")
        assert published == []
        assert await bodies() == before

        sent = await client.post(url, json={"message": "kept"}, headers=account.widget)
        assert sent.status_code == 201
        assert await bodies() == [*before, "kept"]
        widget = (await client.get(url, headers=account.widget)).json()
        assert [m["body"] for m in widget] == [*before, "kept"]
        # The widget's read also records that the visitor has now seen the auto-reply
        # (contract section 10: a conversation.updated event), after the message.
        assert [e.type for e in published][:1] == ["message.created"]
        assert set([e.type for e in published][1:]) <= {"conversation.updated"}


async def test_a_steady_stream_of_messages_keeps_the_wal_from_growing(tmp_path, sqlite_url):
    """Checkpoints copy while commits land; without holding writers off now and then, the
    WAL never starts over and grows for as long as the writes go on."""
    app = create_app(make_settings(tmp_path, sqlite_url))
    rt = app.state.runtime
    checkpointer = rt.db.checkpointer
    checkpointer.interval = 0.005  # before it starts: it sleeps this long first
    checkpointer.restart_bytes = 256 * 1024
    async with app.router.lifespan_context(app):
        account = await make_account(app)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = await start_conversation(client, account)
        conversation = await rt.conversations.conversation(account.id, token)
        largest = written = 0
        for i in range(3000):
            async with rt.db.fast_write() as transaction:
                await post_message(
                    BareRows(transaction),
                    conversation.id,
                    direction="inbound",
                    body=f"m{i}" * 200,
                )
            written += 1
            largest = max(largest, checkpointer.wal_file_bytes())
            await asyncio.sleep(0)  # as a server does between requests
    # Each commit appends a few 4 KiB pages. Without the restarts the WAL reached 83 MB
    # here (restart_bytes set out of reach); with them it stays far below, though a loaded
    # machine (a parallel test worker, CI's browsers) lets a checkpoint lag behind: 18.7 MB
    # once in CI, so the bound leaves room for that and still sits far under 83.
    assert written == 3000
    assert largest < 32 * 1024 * 1024, largest


async def test_a_lost_postgresql_connection_is_not_handed_out_again(tmp_path, pg_url):
    """The bare path uses the pool's asyncpg connections directly, so SQLAlchemy never sees
    their errors: a connection the server dropped must still leave the pool."""
    require("PostgreSQL", pg_url is not None, "set FRONTDESK_TEST_DATABASE_URL")
    app = create_app(make_settings(tmp_path, pg_url))
    async with app.router.lifespan_context(app):
        account = await make_account(app)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = await start_conversation(client, account)
            url = f"/api/v1/chat/conversations/{token}/messages"

            async def post() -> int:
                sent = await client.post(url, json={"message": "hi"}, headers=account.widget)
                return sent.status_code

            assert await post() == 201
            # As a server restart would: every connection of this database is cut.
            admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            finally:
                await admin.close()
            codes = [await post() for _ in range(10)]
    # Each dead connection fails the request that finds it, once; then it is gone.
    assert codes[-5:] == [201] * 5, codes
