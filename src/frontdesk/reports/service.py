"""The report of contract section 10, assembled from reports/queries.py's figures."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.models import Account, Agent
from frontdesk.reports.days import day_of, report_dates, window
from frontdesk.reports.queries import Figures, Spread, report_figures
from frontdesk.reports.zone import account_zone


def _seconds(us: float | None) -> float | None:
    return None if us is None else round(us / 1_000_000, 6)


def _spread(spread: Spread) -> dict[str, float | None]:
    return {"median": _seconds(spread.median), "p90": _seconds(spread.p90)}


async def account_report(
    session: AsyncSession, account_id: int, raw_from: str | None, raw_to: str | None
) -> dict[str, Any]:
    account = await session.get(Account, account_id)
    zone = account_zone(account)
    first, last = report_dates(raw_from, raw_to, zone)
    return await report(session, account_id, first, last, zone)


async def report(
    session: AsyncSession, account_id: int, first: date, last: date, zone: ZoneInfo
) -> dict[str, Any]:
    """Figures for the local days `first` to `last` (inclusive) of `zone`."""
    span = window(first, last, zone)
    agents = list(
        await session.execute(
            select(Agent.id, Agent.name).where(Agent.account_id == account_id).order_by(Agent.id)
        )
    )
    figures = await report_figures(session, account_id, span)
    return _assemble(figures, span.days(), agents)


def _assemble(figures: Figures, days: list[date], agents: list[Any]) -> dict[str, Any]:
    per_day = {day_of(number): row for number, row in figures.days.items()}
    by_day_spread = {day_of(number): s for number, s in figures.first_response_by_day.items()}
    ratings = sum(row[2] for row in per_day.values())
    score_sum = sum(row[3] for row in per_day.values())
    by_day = [
        {
            "date": day.isoformat(),
            "conversations": per_day.get(day, (0,))[0],
            "first_response_median_seconds": _seconds(by_day_spread.get(day, Spread()).median),
        }
        for day in days
    ]
    by_agent: list[dict[str, Any]] = [
        {
            "agent": {"id": agent_id, "name": name},
            "replies": figures.replies.get(agent_id, 0),
            "first_response_median_seconds": _seconds(
                figures.first_response_by_agent.get(agent_id, Spread()).median
            ),
        }
        for agent_id, name in agents
    ]
    # The busiest first; ties by id, so the order is stable.
    by_agent.sort(key=lambda item: (-item["replies"], item["agent"]["id"]))
    return {
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "conversations": sum(row[0] for row in per_day.values()),
        "closed": sum(row[1] for row in per_day.values()),
        "messages": {"inbound": figures.inbound, "outbound": figures.outbound},
        "first_response_seconds": _spread(figures.first_response),
        "resolution_seconds": _spread(figures.resolution),
        "csat": {
            "responses": ratings,
            "average": round(score_sum / ratings, 2) if ratings else None,
        },
        "by_day": by_day,
        "by_agent": by_agent,
    }
