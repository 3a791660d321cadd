"""Reports on a large database: 100,000 conversations and 1,000,000 messages.

    python -m bench.reports [--database sqlite,postgres] [--conversations 100000]
                            [--messages 10] [--repeat 5] [--pg-url postgresql://…]

Fills a fresh database of each kind (SQLite in a temporary directory; a database of its
own on the PostgreSQL server, dropped afterwards) through SQLAlchemy Core bulk inserts:
one account, 8 agents, conversations spread evenly over the last 365 days, each with an
inbound message, the auto-reply, an agent's reply 30 s to 1 h later and more messages
after; half closed, a fifth rated. Then times the report (reports/service.py, the
route's own code) for the last 30 days and for the whole 366, `--repeat` times each, and
prints the median; then the same without the index the migration adds for reports
(ix_conversations_created), to show what it is for. Timings are never a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import insert, text

from frontdesk import migrations
from frontdesk.accounts.service import create_account
from frontdesk.db import Database
from frontdesk.models import Agent, Contact, Conversation, Message
from frontdesk.reports.service import report

S = 1_000_000
DAY = 86_400 * S
BATCH = 20_000


def _inbound(index: int) -> bool:
    """Which of a conversation's messages are the visitor's (by their place)."""
    return index == 0 or (index > 2 and index % 2 == 1)


async def fill(db: Database, conversations: int, per_conversation: int) -> int:
    """The history; the account's id."""
    rng = random.Random(7)
    async with db.write() as session:
        made = await create_account(
            session,
            name="Bench",
            admin_email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            admin_password="bench password long",
            admin_name="Ada",
        )
        account_id = made.account.id
        agent_ids: list[int] = [made.admin.id]
        for n in range(7):
            agent_ids.append(
                (
                    await session.execute(
                        insert(Agent)
                        .values(
                            account_id=account_id,
                            email=f"agent{n}-{uuid.uuid4().hex[:8]}@example.com",
                            name=f"Agent {n}",
                            password_hash="x",
                            role="agent",
                            created_us=0,
                        )
                        .returning(Agent.id)
                    )
                ).scalar_one()
            )
    now = time.time_ns() // 1000
    start = now - 365 * DAY
    if conversations == 0:
        return account_id
    step = 365 * DAY // conversations
    contact_rows = [
        {
            "account_id": account_id,
            "name": f"Visitor {n}",
            "email": f"v{n}@example.com",
            "email_lower": f"v{n}@example.com",
            "created_us": start,
        }
        for n in range(conversations // 10)
    ]
    async with db.write() as session:
        await session.execute(insert(Contact), contact_rows)
        first_contact = await session.scalar(
            text("SELECT MIN(id) FROM contacts WHERE account_id = :a"), {"a": account_id}
        )
    for offset in range(0, conversations, BATCH):
        count = min(BATCH, conversations - offset)
        conversation_rows, plans = [], []
        for n in range(offset, offset + count):
            created = start + n * step
            reply_after = rng.randint(30, 3600) * S
            times = [created, created + S, created + reply_after]
            while len(times) < per_conversation:
                times.append(times[-1] + rng.randint(10, 600) * S)
            closed = rng.random() < 0.5
            conversation_rows.append(
                {
                    "account_id": account_id,
                    "contact_id": first_contact + n % len(contact_rows),
                    "visitor_token": f"bench-visitor-{n:08d}",
                    "conversation_token": f"bench-conversation-{n:08d}-{uuid.uuid4().hex}",
                    "status": "closed" if closed else "open",
                    "created_us": created,
                    "updated_us": times[-1],
                    "last_message_us": times[-1],
                    "last_activity_us": times[-1],
                    "first_closed_us": times[-1] + 60 * S if closed else None,
                    "rating_score": rng.randint(1, 5) if closed and rng.random() < 0.4 else None,
                }
            )
            agent_id = rng.choice(agent_ids)
            # As post_message keeps them (messages below: inbound, auto-reply, the agent,
            # then alternating, one of them a private note).
            inbound = sum(1 for i in range(len(times)) if _inbound(i))
            conversation_rows[-1].update(
                first_inbound_us=times[0],
                first_reply_us=times[2],
                first_reply_agent_id=agent_id,
                inbound_count=inbound,
                outbound_count=len(times) - inbound - (len(times) > 4),
                # Every agent message is this agent's, all but the private note.
                first_agent_replies=sum(
                    1 for i in range(2, len(times)) if not _inbound(i) and i != 4
                ),
            )
            plans.append((times, agent_id))
        async with db.write() as session:
            await session.execute(insert(Conversation), conversation_rows)
            ids = list(
                await session.scalars(
                    text(
                        "SELECT id FROM conversations WHERE account_id = :a "
                        "AND created_us >= :lo AND created_us <= :hi ORDER BY created_us"
                    ),
                    {
                        "a": account_id,
                        "lo": conversation_rows[0]["created_us"],
                        "hi": conversation_rows[-1]["created_us"],
                    },
                )
            )
            message_rows = []
            for cid, (times, agent_id) in zip(ids, plans, strict=True):
                for index, at in enumerate(times):
                    inbound = _inbound(index)
                    message_rows.append(
                        {
                            "conversation_id": cid,
                            "direction": "inbound" if inbound else "outbound",
                            "body": "a message of ordinary length, neither short nor long",
                            "author": "someone",
                            "agent_id": None if inbound or index == 1 else agent_id,
                            "private": index == 4,
                            "created_us": at,
                        }
                    )
            await session.execute(insert(Message), message_rows)
        print(f"  {offset + count:>7} conversations", flush=True)
    return account_id


async def fill_in_server(db: Database, conversations: int, per_conversation: int) -> int:
    """The same history made by PostgreSQL itself (INSERT … SELECT generate_series).

    For a loaded machine: row by row from Python, PostgreSQL took over 25 minutes for the
    first fifth. The shape is fill()'s: inbound, auto-reply, an agent's reply 30 s to an hour
    later, then alternating messages with one private note, half closed, some rated.
    """
    account_id = await fill(db, 0, per_conversation)
    now = time.time_ns() // 1000
    start = now - 365 * DAY
    step = 365 * DAY // conversations
    params: dict[str, object] = {"a": account_id, "n": conversations, "start": start, "step": step}
    async with db.write() as session:
        await session.execute(
            text(
                "INSERT INTO contacts (account_id, name, email, email_lower, created_us) "
                "SELECT :a, 'Visitor ' || g, 'v' || g || '@example.com', "
                "'v' || g || '@example.com', CAST(:start AS BIGINT) "
                "FROM generate_series(0, :n / 10 - 1) g"
            ),
            params,
        )
        agents = [
            r[0]
            for r in await session.execute(
                text("SELECT id FROM agents WHERE account_id = :a ORDER BY id"), params
            )
        ]
        params["agents"] = agents
        await session.execute(
            text(
                """
INSERT INTO conversations (account_id, contact_id, visitor_token, conversation_token,
  status, created_us, updated_us, last_message_us, last_activity_us, first_inbound_us,
  first_reply_us, first_reply_agent_id, first_closed_us, rating_score)
SELECT :a, (SELECT MIN(id) FROM contacts WHERE account_id = :a) + g % (:n / 10),
  'bench-visitor-' || g, 'bench-conversation-' || g || '-' || md5(g::text),
  CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'open' END,
  t, t + 7200000000, t + 7200000000, t + 7200000000, t,
  t + (30 + (g * 7919) % 3571) * CAST(1000000 AS BIGINT),
  agents[1 + g % cardinality(agents)],
  CASE WHEN g % 2 = 0 THEN t + 7260000000 END,
  CASE WHEN g % 5 = 0 THEN 1 + (g / 5) % 5 END
FROM (
  SELECT g, CAST(:start AS BIGINT) + g * CAST(:step AS BIGINT) AS t,
         CAST(:agents AS INTEGER[]) AS agents
  FROM generate_series(0, :n - 1) g
) AS planned
"""
            ),
            params,
        )
        await session.execute(
            text(
                f"""
INSERT INTO messages (conversation_id, direction, body, author, agent_id, private, created_us)
SELECT c.id,
  CASE WHEN i = 0 OR (i > 2 AND i % 2 = 1) THEN 'inbound' ELSE 'outbound' END,
  'a message of ordinary length, neither short nor long', 'someone',
  CASE WHEN i = 0 OR i = 1 OR (i > 2 AND i % 2 = 1) THEN NULL ELSE c.first_reply_agent_id END,
  i = 4,
  CASE WHEN i = 0 THEN c.created_us WHEN i = 1 THEN c.created_us + 1000000
       WHEN i = 2 THEN c.first_reply_us ELSE c.first_reply_us + i * 60000000 END
FROM conversations c CROSS JOIN generate_series(0, {int(per_conversation) - 1}) i
WHERE c.account_id = :a
"""
            ),
            params,
        )
        # The counts post_message keeps, as migration 0010 counts them.
        await session.execute(
            text(
                """
UPDATE conversations SET inbound_count = counted.inbound, outbound_count = counted.outbound
FROM (SELECT conversation_id, SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END) AS inbound,
             SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS outbound
      FROM messages WHERE private = false GROUP BY conversation_id) AS counted
WHERE conversations.id = counted.conversation_id
"""
            )
        )
        # One agent answers each: all its replies are counted on the conversation's row.
        await session.execute(
            text(
                """
UPDATE conversations SET first_agent_replies = counted.replies
FROM (SELECT conversation_id, COUNT(*) AS replies FROM messages
      WHERE direction = 'outbound' AND agent_id IS NOT NULL AND private = false
      GROUP BY conversation_id) AS counted
WHERE conversations.id = counted.conversation_id
"""
            )
        )
    return account_id


async def time_baseline(db: Database, repeat: int) -> float:
    """One plain pass over every message: what this machine does now, for scale."""
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        async with db.read(heavy=True) as session:
            await session.execute(text("SELECT COUNT(*), SUM(LENGTH(body)) FROM messages"))
        runs.append(time.perf_counter() - began)
    baseline = statistics.median(runs)
    print(f"  baseline, one pass over all messages: median {baseline * 1000:.0f} ms", flush=True)
    return baseline


async def time_reports(db: Database, account_id: int, repeat: int) -> dict[str, float]:
    today = date.today()
    ranges = {"30 days": today - timedelta(days=29), "366 days": today - timedelta(days=365)}
    timings = {}
    for name, first in ranges.items():
        runs = []
        for _ in range(repeat):
            began = time.perf_counter()
            async with db.read(heavy=True) as session:
                body = await report(session, account_id, first, today, ZoneInfo("Europe/Berlin"))
            runs.append(time.perf_counter() - began)
        timings[name] = statistics.median(runs)
        print(
            f"  {name:>9}: median {timings[name] * 1000:7.0f} ms over {repeat} "
            f"({body['conversations']} conversations, "
            f"{body['messages']['inbound'] + body['messages']['outbound']} messages)",
            flush=True,
        )
    return timings


async def analyze(db: Database) -> None:
    """Fresh statistics; on PostgreSQL VACUUM too, so index-only scans are possible."""
    if db.is_sqlite:
        async with db.write() as session:
            await session.execute(text("ANALYZE"))
        return
    engine = db.write_engine
    async with engine.connect() as connection:
        raw = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await raw.execute(text("VACUUM ANALYZE"))


async def bench(
    url: str, conversations: int, per: int, repeat: int, in_server: bool = False
) -> None:
    db = Database(url)
    try:
        began = time.perf_counter()
        if in_server:
            account_id = await fill_in_server(db, conversations, per)
        else:
            account_id = await fill(db, conversations, per)
        print(f"  filled in {time.perf_counter() - began:.0f} s", flush=True)
        async with db.write() as session:
            await session.execute(text("ANALYZE"))
        baseline = await time_baseline(db, repeat)
        print("  with the reports index:")
        timings = await time_reports(db, account_id, repeat)
        for name, seconds in timings.items():
            print(f"  {name}: {seconds / baseline:.1f} x the baseline pass")
        async with db.write() as session:
            await session.execute(text("DROP INDEX ix_conversations_created"))
        await analyze(db)
        print("  without it:")
        await time_reports(db, account_id, repeat)
    finally:
        await db.dispose()


async def postgres(base: str, conversations: int, per: int, repeat: int, in_server: bool) -> None:
    name = f"frontdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    server = admin.rpartition("/")[0]
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"{server}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        migrations.upgrade(url)
        await bench(url, conversations, per, repeat, in_server)
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite,postgres")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10, help="per conversation")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FRONTDESK_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument(
        "--fill-in-server",
        action="store_true",
        help="PostgreSQL: make the rows with INSERT … SELECT generate_series (much faster)",
    )
    args = parser.parse_args()
    kinds = args.database.split(",")
    total = args.conversations * args.messages
    if "sqlite" in kinds:
        print(f"SQLite: {args.conversations} conversations, {total} messages")
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
            migrations.upgrade(url)
            await bench(url, args.conversations, args.messages, args.repeat)
    if "postgres" in kinds:
        print(f"PostgreSQL: {args.conversations} conversations, {total} messages")
        await postgres(
            args.pg_url, args.conversations, args.messages, args.repeat, args.fill_in_server
        )


if __name__ == "__main__":
    asyncio.run(main())
