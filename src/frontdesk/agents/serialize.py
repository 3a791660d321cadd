"""The wire form of an agent (plain dicts, encoded with orjson)."""

from __future__ import annotations

from typing import Any

from frontdesk.models import Agent


def agent_json(agent: Agent) -> dict[str, Any]:
    return {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role}


def me_json(agent: Agent) -> dict[str, Any]:
    """The signed-in agent, with their own preferences."""
    return {**agent_json(agent), "email_notifications": agent.email_notifications}
