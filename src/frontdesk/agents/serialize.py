"""The wire form of an agent (plain dicts, encoded with orjson)."""

from __future__ import annotations

from typing import Any

from frontdesk.models import Agent


def agent_json(agent: Agent) -> dict[str, Any]:
    return {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role}


def me_json(agent: Agent, online: set[int]) -> dict[str, Any]:
    """The signed-in agent, with their own preferences and presence."""
    return {
        **agent_json(agent),
        "email_notifications": agent.email_notifications,
        **presence_json(agent, online),
    }


def presence_json(agent: Agent, online: set[int]) -> dict[str, Any]:
    """The agent's own switch, and whether they are present (`online`: ids present now)."""
    return {
        "availability": agent.availability,
        "online": agent.availability == "online" and agent.id in online,
    }
