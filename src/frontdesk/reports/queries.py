"""The report's SQL: per-conversation durations, per-day counts, and messages.

All three run unchanged on SQLite and PostgreSQL. A conversation's first inbound message
and first agent reply are kept on its row when they are posted (conversations/service.py):
reading them from the messages (a correlated subquery per conversation) took 5 s for a
year of 100,000 conversations on SQLite.

Medians and 90th percentiles: the database sorts the durations once (ORDER BY kind, d)
and Python walks that one sorted list, splitting it by day and by agent (each part stays
sorted) and interpolating as PostgreSQL's percentile_cont does. Picking them in SQL with
ROW_NUMBER windows cost a sort per grouping (overall, per day, per agent) and was three
to four times slower on SQLite (bench/reports.py); what comes back is one small row per
conversation of the range, at most a year's worth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.reports.days import DAY_US, Window

# Past this many agents the message counts are grouped by agent instead of one column each.
MAX_AGENT_COLUMNS = 200

_IN_RANGE = "c.account_id = :account_id AND c.created_us >= :start_us AND c.created_us < :end_us"


def _local_day(window: Window) -> str:
    """SQL for the local day number of `c.created_us` (see days.py).

    The offsets are written in as integer literals (computed here, never from input):
    PostgreSQL can't type a bare parameter in a CASE branch.
    """
    cases = []
    for until_us, offset_us in window.pieces:
        if until_us is None:
            cases.append(f"ELSE {int(offset_us)}")
        else:
            cases.append(f"WHEN c.created_us < {int(until_us)} THEN {int(offset_us)}")
    offset = cases[0].removeprefix("ELSE ") if len(cases) == 1 else f"CASE {' '.join(cases)} END"
    return f"(c.created_us + {offset}) / {DAY_US}"


def _durations_sql(window: Window) -> str:
    day = _local_day(window)
    return f"""
SELECT 'fr' AS kind, {day} AS day, c.first_reply_agent_id AS agent,
       CAST(c.first_reply_us - c.first_inbound_us AS BIGINT) AS d
FROM conversations c
WHERE {_IN_RANGE} AND c.first_reply_us IS NOT NULL AND c.first_inbound_us IS NOT NULL
  AND c.first_reply_us >= c.first_inbound_us
UNION ALL
SELECT 'rs', {day}, NULL, CAST(c.first_closed_us - c.created_us AS BIGINT)
FROM conversations c
WHERE {_IN_RANGE} AND c.first_closed_us IS NOT NULL AND c.first_closed_us >= c.created_us
ORDER BY 1, 4
"""


def _days_sql(window: Window) -> str:
    return f"""
SELECT {_local_day(window)} AS day, CAST(COUNT(*) AS BIGINT),
       CAST(SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(COUNT(c.rating_score) AS BIGINT), CAST(SUM(c.rating_score) AS BIGINT)
FROM conversations c WHERE {_IN_RANGE}
GROUP BY 1
"""


# Messages in the window by their own time; a conversation with one in the window was
# active after its start and began before its end, which narrows the conversations read.
_MESSAGES_FROM = """
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE c.account_id = :account_id AND c.last_activity_us >= :start_us
  AND c.created_us < :end_us
  AND m.created_us >= :start_us AND m.created_us < :end_us AND m.private = false
"""


def _messages_sql(agent_ids: Sequence[int]) -> str:
    """One pass and no GROUP BY (a sort of every message on SQLite): a column per agent."""
    counts = [
        "SUM(CASE WHEN m.direction = 'inbound' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN m.direction = 'outbound' THEN 1 ELSE 0 END)",
    ]
    counts += [
        f"SUM(CASE WHEN m.agent_id = {int(a)} AND m.direction = 'outbound' THEN 1 ELSE 0 END)"
        for a in agent_ids
    ]
    return "SELECT " + ", ".join(f"CAST({c} AS BIGINT)" for c in counts) + _MESSAGES_FROM


_MESSAGES_BY_AGENT = (
    "SELECT m.direction, m.agent_id, CAST(COUNT(*) AS BIGINT)"
    + _MESSAGES_FROM
    + "GROUP BY m.direction, m.agent_id"
)


def percentile(values: Sequence[int], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass
class Spread:
    """A group's median and 90th percentile (microseconds)."""

    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: Sequence[int]) -> Spread:
        return cls(percentile(values, 0.5), percentile(values, 0.9))


@dataclass
class Figures:
    # local day number -> (conversations, closed, ratings, sum of scores)
    days: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    first_response: Spread = field(default_factory=Spread)
    resolution: Spread = field(default_factory=Spread)
    first_response_by_day: dict[int, Spread] = field(default_factory=dict)
    first_response_by_agent: dict[int, Spread] = field(default_factory=dict)
    inbound: int = 0
    outbound: int = 0
    replies: dict[int, int] = field(default_factory=dict)


async def report_figures(
    session: AsyncSession, account_id: int, window: Window, agent_ids: Sequence[int]
) -> Figures:
    params = {"account_id": account_id, "start_us": window.start_us, "end_us": window.end_us}
    figures = Figures()
    responses: list[int] = []
    resolutions: list[int] = []
    by_day: dict[int, list[int]] = defaultdict(list)
    by_agent: dict[int, list[int]] = defaultdict(list)
    # Sorted by duration: every list below is filled in order, so it is sorted too.
    for kind, day, agent, duration in await session.execute(text(_durations_sql(window)), params):
        if kind == "rs":
            resolutions.append(int(duration))
            continue
        responses.append(int(duration))
        by_day[int(day)].append(int(duration))
        if agent is not None:
            by_agent[int(agent)].append(int(duration))
    figures.first_response = Spread.of(responses)
    figures.resolution = Spread.of(resolutions)
    figures.first_response_by_day = {day: Spread.of(v) for day, v in by_day.items()}
    figures.first_response_by_agent = {agent: Spread.of(v) for agent, v in by_agent.items()}

    for day, conversations, closed, ratings, scores in await session.execute(
        text(_days_sql(window)), params
    ):
        figures.days[int(day)] = (
            int(conversations),
            int(closed or 0),
            int(ratings),
            int(scores or 0),
        )

    if len(agent_ids) <= MAX_AGENT_COLUMNS:
        row = (await session.execute(text(_messages_sql(agent_ids)), params)).one()
        figures.inbound, figures.outbound = int(row[0] or 0), int(row[1] or 0)
        figures.replies = {a: int(n or 0) for a, n in zip(agent_ids, row[2:], strict=True)}
    else:
        for direction, agent, n in await session.execute(text(_MESSAGES_BY_AGENT), params):
            if direction == "inbound":
                figures.inbound += int(n)
                continue
            figures.outbound += int(n)
            if agent is not None:
                figures.replies[int(agent)] = figures.replies.get(int(agent), 0) + int(n)
    return figures
