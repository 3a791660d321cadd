"""Agent API: sign-in, the caller, and the account's team."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.agents import service
from frontdesk.agents.auth import CurrentAdmin, CurrentAgent
from frontdesk.agents.login import password_login
from frontdesk.agents.serialize import agent_json, me_json, presence_json
from frontdesk.audit.service import record
from frontdesk.availability.presence import AVAILABILITIES
from frontdesk.errors import AppError
from frontdesk.kit.form_fields import boolean
from frontdesk.kit.json_response import JSON
from frontdesk.kit.request_body import read_fields, text_field
from frontdesk.kit.validation import normalized_email
from frontdesk.runtime import runtime
from frontdesk.totp.service import enabled_agent_ids

router = APIRouter(prefix="/api/v1/agent", tags=["agent"])

MIN_PASSWORD = 10


@router.post("/login", summary="Exchange email and password for an API token")
async def login(request: Request) -> JSON:
    agent, _ = await password_login(request)
    async with runtime(request).db.write() as session:
        # An agent's own Bearer token: it expires, and their password change ends it.
        token = await service.issue_token(session, agent.id, "api", from_login=True)
    return JSON({"token": token, "agent": agent_json(agent)})


@router.get("/me", summary="The signed-in agent")
async def me(request: Request, agent: CurrentAgent) -> JSON:
    online = await runtime(request).presence.online(agent.account_id)
    return JSON(me_json(agent, online))


@router.patch("/me", summary="Change the signed-in agent's preferences")
async def update_me(request: Request, agent: CurrentAgent) -> JSON:
    """`{"email_notifications": bool, "availability": "online"|"away"}`, each optional."""
    fields = await read_fields(request, {"email_notifications": boolean})
    unknown = set(fields) - {"email_notifications", "availability"}
    if unknown:
        raise AppError(422, f"Unknown field: {sorted(unknown)[0][:100]}")
    notifications = fields.get("email_notifications")
    if "email_notifications" in fields and not isinstance(notifications, bool):
        raise AppError(422, "email_notifications must be true or false")
    availability = fields.get("availability")
    if "availability" in fields and availability not in AVAILABILITIES:
        raise AppError(422, "availability must be online or away")
    rt = runtime(request)
    async with rt.db.write() as session:
        updated = await service.update_preferences(
            session, agent.id, email_notifications=notifications, availability=availability
        )
    if availability is not None:
        # This instance's answers follow at once; the others when they hear the event.
        await rt.presence.changed(agent.account_id, agent.id, availability)
    return JSON(me_json(updated, await rt.presence.online(agent.account_id)))


@router.get("/agents", summary="The account's agents")
async def list_agents(request: Request, agent: CurrentAgent) -> JSON:
    rt = runtime(request)
    async with rt.db.read() as session:
        team = await service.list_agents(session, agent.account_id)
        two_factor = await enabled_agent_ids(session, [member.id for member in team])
    online = await rt.presence.online(agent.account_id)
    return JSON(
        {
            "agents": [
                {
                    **agent_json(member),
                    **presence_json(member, online),
                    "totp_enabled": member.id in two_factor,
                }
                for member in team
            ]
        }
    )


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
        agent, api_token = await service.create_agent(
            session,
            account_id=admin.account_id,
            email=email,
            name=name,
            password=password,
            role=role,
        )
        audit = {"role": role}
        await record(session, admin.account_id, admin, "agent.created", f"agent:{agent.id}", audit)
    return JSON({**agent_json(agent), "api_token": api_token}, status_code=201)


@router.delete("/agents/{agent_id}", status_code=204, summary="Remove an agent (admin)")
async def remove_agent(request: Request, agent_id: str, admin: CurrentAdmin) -> Response:
    async with runtime(request).db.write() as session:
        await service.remove_agent(session, admin, agent_id)
        await record(session, admin.account_id, admin, "agent.deleted", f"agent:{int(agent_id)}")
    return Response(status_code=204)
