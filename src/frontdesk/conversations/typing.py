"""Typing indicators (contract section 10): published on the event bus and nowhere else.

Never stored and never queued with a transaction, so no webhook or outbox job ever sees
one; a typing event lost in a reconnect costs nothing, the next keystroke sends another.
The bus carries two internal types so each side's stream picks only the other side's:
agents' streams send `typing.visitor` as `typing`, the visitor's stream `typing.agent`.
"""

from __future__ import annotations

from frontdesk.events.bus import Event
from frontdesk.kit.clock import now_us
from frontdesk.models import Agent, Conversation
from frontdesk.runtime import Runtime

VISITOR_TYPING = "typing.visitor"
AGENT_TYPING = "typing.agent"


async def visitor_typing(rt: Runtime, conversation: Conversation) -> None:
    await rt.bus.publish(
        [
            Event(
                account_id=conversation.account_id,
                type=VISITOR_TYPING,
                ts_us=now_us(),
                conversation_id=conversation.id,
                data={"conversation_id": conversation.id, "who": "visitor"},
            )
        ]
    )


async def agent_typing(rt: Runtime, agent: Agent, conversation: Conversation) -> None:
    await rt.bus.publish(
        [
            Event(
                account_id=conversation.account_id,
                type=AGENT_TYPING,
                ts_us=now_us(),
                conversation_id=conversation.id,
                visitor_token=conversation.visitor_token,
                data={"author": agent.name},
            )
        ]
    )
