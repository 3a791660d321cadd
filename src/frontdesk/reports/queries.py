"""The report's SQL: one statement for every per-conversation figure, one for messages.

Both run unchanged on SQLite and PostgreSQL. A conversation's first inbound message and
first agent reply are kept on its row when they are posted (conversations/service.py):
reading them from the messages (a correlated subquery per conversation) took 5 s for a
year of 100,000 conversations on SQLite, the row's columns a small fraction of that.

Medians and 90th percentiles are picked in SQL (ROW_NUMBER over each group, sorted): the
database returns only the two values each percentile lies between and the fraction
between them, and Python does the one interpolation (PostgreSQL's percentile_cont,
which SQLite lacks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.reports.days import DAY_US, Window

# (numerator, denominator) of each percentile: integer arithmetic reads the same on both
# databases, where CAST of a fraction would round on one and truncate on the other.
MEDIAN, P90 = (1, 2), (9, 10)


def _percentile_columns(name: str, fraction: tuple[int, int]) -> str:
    num, den = fraction
    at = f"(n - 1) * {num} / {den}"
    return (
        f"MAX(CASE WHEN rn = {at} THEN d END) AS {name}_low, "
        f"MAX(CASE WHEN rn = {at} + 1 THEN d END) AS {name}_high, "
        f"MAX((n - 1) * {num} % {den}) AS {name}_rem"
    )


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


def _conversation_sql(window: Window) -> str:
    day = _local_day(window)
    response = "CAST(first_reply - first_in AS BIGINT)"
    answered = "first_reply IS NOT NULL AND first_in IS NOT NULL AND first_reply >= first_in"
    return f"""
WITH conv AS MATERIALIZED (
  SELECT c.id, c.status, c.created_us, c.first_closed_us, c.rating_score,
         {day} AS day, c.first_inbound_us AS first_in, c.first_reply_us AS first_reply,
         c.first_reply_agent_id AS first_agent
  FROM conversations c
  WHERE c.account_id = :account_id AND c.created_us >= :start_us AND c.created_us < :end_us
),
durations AS (
  SELECT 'fr' AS kind, 0 AS g, {response} AS d FROM conv WHERE {answered}
  UNION ALL SELECT 'fd', day, {response} FROM conv WHERE {answered}
  UNION ALL SELECT 'fa', first_agent, {response} FROM conv WHERE {answered}
  UNION ALL SELECT 'rs', 0, CAST(first_closed_us - created_us AS BIGINT) FROM conv
    WHERE first_closed_us IS NOT NULL AND first_closed_us >= created_us
),
ranked AS (
  SELECT kind, g, d,
         ROW_NUMBER() OVER (PARTITION BY kind, g ORDER BY d) - 1 AS rn,
         COUNT(*) OVER (PARTITION BY kind, g) AS n
  FROM durations
)
SELECT kind, g, CAST(MAX(n) AS BIGINT) AS n,
       {_percentile_columns("p50", MEDIAN)}, {_percentile_columns("p90", P90)}
FROM ranked GROUP BY kind, g
UNION ALL
SELECT 'cv', day, CAST(COUNT(*) AS BIGINT),
       CAST(SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(COUNT(rating_score) AS BIGINT), CAST(SUM(rating_score) AS BIGINT),
       NULL, NULL, NULL
FROM conv GROUP BY day
"""


# Messages in the window by their own time; a conversation with one in the window was
# active after its start and began before its end, which narrows the conversations read.
_MESSAGES_SQL = """
SELECT m.direction, m.agent_id, CAST(COUNT(*) AS BIGINT)
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE c.account_id = :account_id AND c.last_activity_us >= :start_us
  AND c.created_us < :end_us
  AND m.created_us >= :start_us AND m.created_us < :end_us AND m.private = false
GROUP BY m.direction, m.agent_id
"""


@dataclass
class Spread:
    """How many durations a group has, and its median and 90th percentile (microseconds)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass
class Figures:
    conversations: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    spreads: dict[tuple[str, int], Spread] = field(default_factory=dict)
    messages: list[tuple[str, int | None, int]] = field(default_factory=list)


def _interpolate(low: Any, high: Any, rem: Any, den: int) -> float | None:
    if low is None:
        return None
    if high is None or not rem:
        return float(low)
    return float(low) + (float(high) - float(low)) * int(rem) / den


async def report_figures(session: AsyncSession, account_id: int, window: Window) -> Figures:
    params: dict[str, Any] = {
        "account_id": account_id,
        "start_us": window.start_us,
        "end_us": window.end_us,
    }
    figures = Figures()
    rows = await session.execute(text(_conversation_sql(window)), params)
    for kind, group, n, p50_low, p50_high, p50_rem, p90_low, p90_high, p90_rem in rows:
        if kind == "cv":
            # conversations, closed, ratings, sum of scores (the columns' other meaning)
            figures.conversations[int(group)] = (
                int(n),
                int(p50_low or 0),
                int(p50_high or 0),
                int(p50_rem or 0),
            )
            continue
        figures.spreads[(kind, int(group) if group is not None else 0)] = Spread(
            int(n),
            _interpolate(p50_low, p50_high, p50_rem, MEDIAN[1]),
            _interpolate(p90_low, p90_high, p90_rem, P90[1]),
        )
    messages = await session.execute(text(_MESSAGES_SQL), params)
    figures.messages = [(d, a, int(n)) for d, a, n in messages]
    return figures
