"""Auto-assignment of a new conversation among the agents online now (contract section 7).

Race-safe across instances: the choice is made under the account row's lock (PostgreSQL
`FOR NO KEY UPDATE`, which foreign-key checks of concurrent inserts don't wait on; SQLite
runs one writer at a time anyway) and the round-robin cursor is moved in that same
transaction, so two creates at once are served one after the other, each seeing the
other's assignment and cursor.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.models import Account, Agent, Conversation

STRATEGIES = ("none", "round_robin", "least_busy")


async def choose_assignee(session: AsyncSession, account_id: int, online: set[int]) -> int | None:
    """The agent a new conversation goes to, or None; call before inserting anything."""
    locked = await session.execute(
        select(Account.auto_assign, Account.assign_cursor)
        .where(Account.id == account_id)
        .with_for_update(key_share=True)
    )
    strategy, cursor = locked.one()
    if strategy == "none" or not online:
        return None
    candidates = sorted(
        await session.scalars(
            select(Agent.id).where(
                Agent.account_id == account_id,
                Agent.id.in_(online),
                Agent.availability == "online",
            )
        )
    )
    if not candidates:
        return None
    # Round-robin order: the agents after the one assigned last, then from the start.
    order = [a for a in candidates if a > cursor] + [a for a in candidates if a <= cursor]
    chosen = order[0]
    if strategy == "least_busy":
        rows = await session.execute(
            select(Conversation.assignee_id, func.count())
            .where(
                Conversation.account_id == account_id,
                Conversation.status == "open",
                Conversation.assignee_id.in_(candidates),
            )
            .group_by(Conversation.assignee_id)
        )
        counts = {agent_id: int(count) for agent_id, count in rows if agent_id is not None}
        # Ties go in round-robin order, so equally busy agents take turns.
        chosen = min(order, key=lambda agent_id: counts.get(agent_id, 0))
    await session.execute(
        update(Account).where(Account.id == account_id).values(assign_cursor=chosen)
    )
    return chosen
