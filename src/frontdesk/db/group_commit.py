"""Group commit: bare writes that arrive while one is under way share its transaction.

Every visitor's message is one short transaction, and most of its cost is the
transaction's, not the message's: BEGIN and COMMIT (on SQLite, with the WAL append, half
of the database's time per message; on PostgreSQL the WAL flush to disk, which messages
to one conversation wait for one after another, as each holds the conversation's row
lock until it is done).
So the first writer leads a transaction, and writers that arrive before it commits hand
it their work and wait: it runs each in turn, commits once, and answers them all. A
writer still hears back only once its work has committed, and each work still runs
alone under the same locks, in arrival order: grouping changes when COMMIT happens, not
what anyone reads or writes.

A work that fails rolls the whole group back; every work is then run again on its own,
so a failure reaches only its own writer. Works must therefore do nothing outside the
transaction before it commits (they queue events, which are published after).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, cast

from frontdesk.db.bare import BareTransaction

T = TypeVar("T")
Work = Callable[[BareTransaction], Awaitable[Any]]
# What opens one transaction for a key (Database.fast_write): its lock, BEGIN, and on
# leaving the outbox, COMMIT and the publishing of its events.
Opener = Callable[[Hashable], AbstractAsyncContextManager[BareTransaction]]

# Enough to spread a COMMIT thin; few enough that the first writer's wait stays short.
MOST_WORKS = 32


class _Group:
    __slots__ = ("waiting", "works")

    def __init__(self, leader: Work) -> None:
        self.works: list[Work] = [leader]
        # The answers of the writers who joined: works[1:], in order.
        self.waiting: list[asyncio.Future[Any]] = []


class _Failed(Exception):
    """A work failed inside a group: roll it back and run each work alone."""


class GroupCommit:
    def __init__(self, opener: Opener) -> None:
        self._open = opener
        self._groups: dict[Hashable, _Group] = {}
        # Committed so far: transactions, and the works they held (/metrics reads both).
        self.transactions = 0
        self.works = 0

    async def run(self, key: Hashable, work: Callable[[BareTransaction], Awaitable[T]]) -> T:
        """`work` in a transaction for `key`, shared with others that arrive meanwhile."""
        group = self._groups.get(key)
        if group is not None:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            group.works.append(work)
            group.waiting.append(future)
            if len(group.works) >= MOST_WORKS:
                del self._groups[key]  # full: the next writer leads the next one
            return cast(T, await future)
        group = self._groups[key] = _Group(work)
        try:
            answers = await self._answers(key, group)
        except BaseException as exc:  # COMMIT failed, or the leader was cancelled
            self._close(key, group)
            for future in group.waiting:
                if future.done():  # its writer was cancelled
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            raise
        for future, answer in zip(group.waiting, answers[1:], strict=True):
            if future.done():
                continue
            if isinstance(answer, _Raised):
                future.set_exception(answer.error)
            else:
                future.set_result(answer)
        if isinstance(answers[0], _Raised):
            raise answers[0].error
        return cast(T, answers[0])

    async def _answers(self, key: Hashable, group: _Group) -> list[Any]:
        """Each work's answer (or its _Raised), once committed: together, else alone."""
        try:
            return await self._together(key, group)
        except _Failed:
            self._close(key, group)
            return [await self._alone(key, each) for each in group.works]

    async def _together(self, key: Hashable, group: _Group) -> list[Any]:
        answers: list[Any] = []
        async with self._open(key) as transaction:
            while True:
                while len(answers) < len(group.works):
                    try:
                        answers.append(await group.works[len(answers)](transaction))
                    except Exception as exc:
                        raise _Failed from exc
                # Writers whose requests arrived with this one are ready to run now: one
                # turn of the event loop lets them join before COMMIT.
                await asyncio.sleep(0)
                if len(answers) == len(group.works):
                    self._close(key, group)  # later writers start their own
                    break
        self._committed(len(answers))
        return answers

    def _close(self, key: Hashable, group: _Group) -> None:
        if self._groups.get(key) is group:
            del self._groups[key]

    async def _alone(self, key: Hashable, work: Work) -> Any:
        try:
            async with self._open(key) as transaction:
                answer = await work(transaction)
        except Exception as exc:
            return _Raised(exc)
        self._committed(1)
        return answer

    def _committed(self, works: int) -> None:
        self.transactions += 1
        self.works += works


class _Raised:
    """A work's own failure, to be raised in its writer's task."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error
