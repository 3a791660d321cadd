"""The report's SQL: one pass over the range's conversations, then the replies of their
second and later agents, and the messages of conversations that cross the range's edges.

All three run on SQLite and PostgreSQL alike (string aggregation is spelled per dialect).
Nothing here reads a year's messages: post_message keeps on each conversation its first
inbound message, its first agent reply, how many public messages went each way and how
many replies its first agent wrote, and for any other agent how many it wrote
(reply_counts, usually empty). Counting a year's million messages took 0.7 s on SQLite
and 1.4 s on PostgreSQL (bench/reports.py).

Messages are counted by their own time. A conversation that began in the range and whose
newest message is before its end has all its messages inside (a message is never older
than its conversation: create_conversation stores the row, then the first message at a
later now_us(); only a wall clock stepped back in between could break that), so its stored
counts are used; one that began earlier or went on
past the end is counted from its messages in the range, which are few: only those
conversations active across an edge.

Medians and 90th percentiles stay exact: the database returns each (day, agent) group's
durations as one comma-separated string (one row per group, not per conversation:
fetching 150,000 rows cost more than everything else together), Python sorts them and
interpolates as PostgreSQL's percentile_cont does.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.reports.days import DAY_US, Window

_IN_RANGE = "c.account_id = :account_id AND c.created_us >= :start_us AND c.created_us < :end_us"
# Of the conversations in range: every message of it is in the range too.
_WHOLLY_INSIDE = "c.last_activity_us < :end_us"


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


def _joined(expression: str, dialect: str) -> str:
    """The group's non-null values of `expression`, comma-separated, in no set order."""
    if dialect == "postgresql":
        return f"string_agg(CAST({expression} AS TEXT), ',')"
    return f"group_concat({expression})"


def _conversations_sql(window: Window, dialect: str) -> str:
    """Per local day and first replier: counts, and the durations to take percentiles of."""
    first_response = (
        "CASE WHEN c.first_reply_us >= c.first_inbound_us"
        " THEN c.first_reply_us - c.first_inbound_us END"
    )
    resolution = (
        "CASE WHEN c.first_closed_us >= c.created_us THEN c.first_closed_us - c.created_us END"
    )
    return f"""
SELECT {_local_day(window)} AS day, c.first_reply_agent_id AS agent,
       CAST(COUNT(*) AS BIGINT),
       CAST(SUM(CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END) AS BIGINT),
       CAST(COUNT(c.rating_score) AS BIGINT), CAST(SUM(c.rating_score) AS BIGINT),
       CAST(SUM(CASE WHEN {_WHOLLY_INSIDE} THEN c.inbound_count ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN {_WHOLLY_INSIDE} THEN c.outbound_count ELSE 0 END) AS BIGINT),
       CAST(SUM(CASE WHEN {_WHOLLY_INSIDE} THEN c.first_agent_replies ELSE 0 END) AS BIGINT),
       {_joined(first_response, dialect)}, {_joined(resolution, dialect)}
FROM conversations c WHERE {_IN_RANGE}
GROUP BY 1, 2
"""


# The replies of agents who were not a conversation's first to reply (reply_counts).
_REPLIES = f"""
SELECT r.agent_id, CAST(SUM(r.replies) AS BIGINT)
FROM conversations c JOIN reply_counts r ON r.conversation_id = c.id
WHERE {_IN_RANGE} AND {_WHOLLY_INSIDE}
GROUP BY r.agent_id
"""

# The rest: conversations with messages in the range that are not wholly inside it (begun
# before it, or still going after it), counted from those messages.
_ACROSS_EDGES = """
SELECT m.direction, m.agent_id, CAST(COUNT(*) AS BIGINT)
FROM conversations c JOIN messages m ON m.conversation_id = c.id
WHERE c.account_id = :account_id AND c.last_activity_us >= :start_us
  AND c.created_us < :end_us
  AND (c.created_us < :start_us OR c.last_activity_us >= :end_us)
  AND m.created_us >= :start_us AND m.created_us < :end_us AND m.private = false
GROUP BY m.direction, m.agent_id
"""


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

    def add_day(self, day: int, conversations: int, closed: int, ratings: int, scores: int) -> None:
        before = self.days.get(day, (0, 0, 0, 0))
        self.days[day] = (
            before[0] + conversations,
            before[1] + closed,
            before[2] + ratings,
            before[3] + scores,
        )

    def add_replies(self, agent: int | None, replies: int) -> None:
        if agent is not None:
            self.replies[agent] = self.replies.get(agent, 0) + replies


@dataclass
class Durations:
    """First responses (overall, by day, by agent) and resolutions, in µs.

    Each (day, agent) group is sorted on arrival (a few dozen values); a day's or an
    agent's list is then made of sorted runs, which sorted() merges rather than sorts, and
    the overall list is made of the agents' sorted lists.
    """

    resolutions: list[int] = field(default_factory=list)
    by_day: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # None: a first reply whose agent has since been removed.
    by_agent: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(
        self, day: int, agent: int | None, responses: str | None, resolutions: str | None
    ) -> None:
        numbers = sorted(_numbers(responses))
        self.by_day[day] += numbers
        self.by_agent[agent] += numbers
        self.resolutions += _numbers(resolutions)

    def spread_into(self, figures: Figures) -> None:
        by_agent = {agent: sorted(values) for agent, values in self.by_agent.items()}
        responses = sorted(itertools.chain.from_iterable(by_agent.values()))
        figures.first_response = Spread.of(responses)
        figures.resolution = Spread.of(sorted(self.resolutions))
        figures.first_response_by_day = {
            day: Spread.of(sorted(values)) for day, values in self.by_day.items()
        }
        figures.first_response_by_agent = {
            agent: Spread.of(values)
            for agent, values in by_agent.items()
            if agent is not None and values
        }


def _numbers(joined: str | None) -> list[int]:
    return list(map(int, joined.split(","))) if joined else []


async def report_figures(session: AsyncSession, account_id: int, window: Window) -> Figures:
    params = {"account_id": account_id, "start_us": window.start_us, "end_us": window.end_us}
    figures = Figures()
    durations = Durations()
    sql = _conversations_sql(window, session.get_bind().dialect.name)
    for row in await session.execute(text(sql), params):
        day, agent, conversations, closed, ratings, scores, inbound, outbound, replies, fr, rs = row
        figures.add_day(int(day), int(conversations), int(closed), int(ratings), int(scores or 0))
        figures.inbound += int(inbound)
        figures.outbound += int(outbound)
        figures.add_replies(agent, int(replies))
        durations.add(int(day), agent, fr, rs)
    durations.spread_into(figures)

    for agent, replies in await session.execute(text(_REPLIES), params):
        figures.add_replies(agent, int(replies))
    for direction, agent, n in await session.execute(text(_ACROSS_EDGES), params):
        if direction == "inbound":
            figures.inbound += int(n)
        else:
            figures.outbound += int(n)
            figures.add_replies(agent, int(n))
    return figures
