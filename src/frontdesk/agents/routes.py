"""Agent API: sign-in, the caller, and the account's team."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.agents.service import agent_by_password, count_admins, create_agent, issue_token
from frontdesk.errors import AppError
from frontdesk.kit.ids import parse_id
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields, text_field
from frontdesk.kit.validation import normalized_email
from frontdesk.models import Agent
from frontdesk.runtime import runtime

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])

MIN_PASSWORD = 10
# Sign-in attempts per minute: per address and email, and per address over all emails.
LOGIN_PER_EMAIL = 10
LOGIN_PER_ADDRESS = 60


def agent_json(agent: Agent) -> dict[str, Any]:
    return {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role}


async def throttle_login(request: Request, email: str) -> None:
    rt = runtime(request)
    peer = request.client.host if request.client else None
    address = rt.client_address(peer, request.headers.get("x-forwarded-for"))
    for limit, key in (
        (LOGIN_PER_EMAIL, f"login/{address}/{email.lower()}"),
        (LOGIN_PER_ADDRESS, f"login/{address}"),
    ):
        verdict = await rt.limiter.hit(limit, key)
        if not verdict.allowed:
            raise AppError(429, "Too many sign-in attempts; try again later", verdict.headers())


async def password_login(request: Request) -> tuple[Agent, dict[str, Any]]:
    """Check email and password (throttled); shared by the API and the inbox's sign-in."""
    fields = await read_fields(request)
    email, password = fields.get("email"), fields.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise AppError(422, "Email and password are required")
    await throttle_login(request, email)
    async with runtime(request).db.read() as session:
        agent = await agent_by_password(session, email, password)
    if agent is None:
        raise AppError(401, "Invalid email or password")
    return agent, fields


@router.post("/login", summary="Exchange email and password for an API token")
async def login(request: Request) -> JSON:
    agent, _ = await password_login(request)
    async with runtime(request).db.write() as session:
        token = await issue_token(session, agent.id, "api")
    return JSON({"token": token, "agent": agent_json(agent)})


@router.get("/me", summary="The signed-in agent")
async def me(agent: CurrentAgent) -> JSON:
    return JSON(agent_json(agent))


@router.get("/agents", summary="The account's agents")
async def list_agents(request: Request, agent: CurrentAgent) -> JSON:
    async with runtime(request).db.read() as session:
        rows = await session.scalars(
            select(Agent).where(Agent.account_id == agent.account_id).order_by(Agent.id)
        )
        return JSON({"agents": [agent_json(row) for row in rows]})


@router.post("/agents", status_code=201, summary="Add an agent (admin)")
async def add_agent(request: Request, admin: CurrentAdmin) -> JSON:
    fields = await read_fields(request)
    email = text_field(fields, "email")
    name = text_field(fields, "name")
    password = fields.get("password")
    role = fields.get("role", "agent")
    if email is None or normalized_email(email) is None:
        raise AppError(422, "Invalid email address")
    if name is None:
        raise AppError(422, "Name is required")
    if len(name) > 255:
        raise AppError(422, "Name is too long (maximum 255 characters)")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AppError(422, "Password must be at least 10 characters")
    if len(password) > 1024:
        raise AppError(422, "Password is too long (maximum 1024 characters)")
    if role not in ("admin", "agent"):
        raise AppError(422, "Role must be admin or agent")
    async with runtime(request).db.write() as session:
        agent, api_token = await create_agent(
            session,
            account_id=admin.account_id,
            email=email,
            name=name,
            password=password,
            role=role,
        )
    return JSON({**agent_json(agent), "api_token": api_token}, status_code=201)


@router.delete("/agents/{agent_id}", status_code=204, summary="Remove an agent (admin)")
async def remove_agent(request: Request, agent_id: str, admin: CurrentAdmin) -> Response:
    async with runtime(request).db.write() as session:
        target_id = parse_id(agent_id)
        target = await session.get(Agent, target_id) if target_id else None
        if target is None or target.account_id != admin.account_id:
            raise AppError(404, "Agent not found")
        if target.id == admin.id:
            raise AppError(422, "You can't remove yourself")
        if target.role == "admin" and await count_admins(session, admin.account_id) <= 1:
            raise AppError(422, "An account needs at least one admin")
        await session.delete(target)
    return Response(status_code=204)
