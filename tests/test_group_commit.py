"""Group commit (db/group_commit.py): visitors' messages that arrive together share one
COMMIT, on SQLite and PostgreSQL, and each writer still stores and hears what it would
have alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from frontdesk.conversations.message_rows import BareRows
from frontdesk.conversations.service import Posted, post_message
from frontdesk.db.bare import BareTransaction
from frontdesk.db.group_commit import MOST_WORKS, GroupCommit
from frontdesk.events.bus import Event
from frontdesk.kit.clock import format_us
from tests.support.accounts import TestAccount, make_account, start_conversation


@asynccontextmanager
async def widget_client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def stored(client: httpx.AsyncClient, account: TestAccount, conversation_id: int) -> list:
    """The conversation's messages as the agent API reads them: from the database."""
    found = await client.get(
        f"/api/v1/agent/conversations/{conversation_id}", headers=account.admin
    )
    assert found.status_code == 200, found.text
    return list(found.json()["messages"])


async def allow_many(client: httpx.AsyncClient, account: TestAccount) -> None:
    limits = {"send_message": 1000, "get_messages": 1000}
    answer = await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": limits}, headers=account.admin
    )
    assert answer.status_code == 200, answer.text


@dataclass
class Chat:
    client: httpx.AsyncClient
    account: TestAccount
    token: str
    conversation_id: int
    before: list  # its messages at the start

    @property
    def url(self) -> str:
        return f"/api/v1/chat/conversations/{self.token}/messages"

    async def stored_since(self) -> list:
        """The messages stored since the start (the agent API reads the database)."""
        return (await stored(self.client, self.account, self.conversation_id))[len(self.before) :]


@asynccontextmanager
async def a_chat(app) -> AsyncIterator[Chat]:
    """A new account's visitor with a conversation, allowed many messages a minute."""
    account = await make_account(app)
    async with widget_client(app) as client:
        await allow_many(client, account)
        token = await start_conversation(client, account)
        found = await app.state.runtime.conversations.conversation(account.id, token)
        before = await stored(client, account, found.id)
        yield Chat(client, account, token, found.id, before)


async def test_messages_sent_at_once_share_commits_and_each_is_stored_once_in_order(app):
    rt = app.state.runtime
    async with a_chat(app) as chat:
        transactions, works = rt.db.groups.transactions, rt.db.groups.works
        published: list[Event] = []
        rt.bus.listeners.append(published.append)
        posts = [{"message": f"m{i}"} for i in range(40)]
        sent = await asyncio.gather(
            *(chat.client.post(chat.url, json=body, headers=chat.account.widget) for body in posts)
        )
        assert [s.status_code for s in sent] == [201] * 40
        after = await chat.stored_since()
        metrics = (await chat.client.get("/metrics")).text

    # Each message once, as answered, in the order the writers arrived.
    assert [m["body"] for m in after] == [f"m{i}" for i in range(40)]
    assert [m["id"] for m in after] == [s.json()["id"] for s in sent]
    assert [m["timestamp"] for m in after] == [s.json()["timestamp"] for s in sent]
    stamps = [m["timestamp"] for m in after]
    assert stamps == sorted(stamps) and len(set(stamps)) == 40
    # Each message's event names the one before it (the widget's streams and the
    # conversation cache check the chain): within a group, the earlier writers' messages.
    created = [e for e in published if e.type == "message.created"]
    assert [format_us(e.ts_us) for e in created] == stamps
    previous = [format_us(e.prev_ts_us or 0) for e in created]
    assert previous == [chat.before[-1]["timestamp"], *stamps[:-1]]
    # ...in fewer transactions than messages: they were grouped.
    assert rt.db.groups.works - works == 40
    assert rt.db.groups.transactions - transactions < 40
    assert f"frontdesk_grouped_writes_total {float(rt.db.groups.works)}" in metrics
    assert (
        f"frontdesk_grouped_write_transactions_total {float(rt.db.groups.transactions)}" in metrics
    )


async def test_a_write_that_fails_in_a_group_fails_alone(app):
    """The group is rolled back and every write runs again on its own: the others are
    stored (once), the failing one's writer hears its own error, and only the stored
    ones are published."""
    rt = app.state.runtime
    async with a_chat(app) as chat:
        published: list[Event] = []
        rt.bus.listeners.append(published.append)
        runs: list[str] = []

        def storing(body: str, fail: bool = False):
            async def work(transaction: BareTransaction) -> Posted:
                runs.append(body)
                posted = await post_message(
                    BareRows(transaction), chat.conversation_id, direction="inbound", body=body
                )
                if fail:
                    raise ValueError("this one can't be stored")
                return posted

            return work

        key = ("conversation", chat.conversation_id)
        transactions, works = rt.db.groups.transactions, rt.db.groups.works
        answers: list[object] = await asyncio.gather(
            rt.db.grouped_write(key, storing("first")),
            rt.db.grouped_write(key, storing("lost", fail=True)),
            rt.db.grouped_write(key, storing("third")),
            return_exceptions=True,
        )
        after = await chat.stored_since()
    first, failed, third = answers

    assert isinstance(failed, ValueError)
    assert isinstance(first, Posted) and first.message.body == "first"
    assert isinstance(third, Posted) and third.message.body == "third"
    # Together first (the failure stopped the group before "third"), then each alone.
    assert runs == ["first", "lost", "first", "lost", "third"]
    assert [m["body"] for m in after] == ["first", "third"]
    assert [m["id"] for m in after] == [first.message.id, third.message.id]
    created = [e for e in published if e.type == "message.created"]
    assert [e.data["message"]["body"] for e in created] == ["first", "third"]
    assert (rt.db.groups.transactions - transactions, rt.db.groups.works - works) == (2, 2)


async def test_a_repeated_idempotency_key_in_one_group_stores_one_message(app):
    async with a_chat(app) as chat:
        widget = chat.account.widget
        same = {**widget, "Idempotency-Key": "one-click-twice"}
        sent = await asyncio.gather(
            chat.client.post(chat.url, json={"message": "before"}, headers=widget),
            chat.client.post(chat.url, json={"message": "once"}, headers=same),
            chat.client.post(chat.url, json={"message": "once"}, headers=same),
            chat.client.post(chat.url, json={"message": "after"}, headers=widget),
        )
        after = await chat.stored_since()

    assert [s.status_code for s in sent] == [201] * 4
    assert sent[1].json() == sent[2].json()
    assert [m["body"] for m in after] == ["before", "once", "after"]


async def test_messages_into_a_closed_conversation_at_once_reopen_it_and_are_all_kept(app):
    """Reopening takes the session path (NeedsSession from inside the group)."""
    async with a_chat(app) as chat:
        agent_url = f"/api/v1/agent/conversations/{chat.conversation_id}"
        admin = chat.account.admin
        closed = await chat.client.patch(agent_url, json={"status": "closed"}, headers=admin)
        assert closed.status_code == 200, closed.text
        posts = [{"message": f"r{i}"} for i in range(5)]
        sent = await asyncio.gather(
            *(chat.client.post(chat.url, json=body, headers=chat.account.widget) for body in posts)
        )
        after = await chat.stored_since()
        status = (await chat.client.get(agent_url, headers=admin)).json()["status"]

    assert [s.status_code for s in sent] == [201] * 5
    assert sorted(m["body"] for m in after) == [f"r{i}" for i in range(5)]
    assert status == "open"


# The coordination itself, on a transaction that only records what happens to it.


class Recorder:
    def __init__(self, fail_commit: bool = False) -> None:
        self.log: list[str] = []
        self.fail_commit = fail_commit

    @asynccontextmanager
    async def open(self, key: Hashable) -> AsyncIterator[BareTransaction]:
        self.log.append("begin")
        yield BareTransaction()
        if self.fail_commit:
            self.log.append("commit failed")
            raise OSError("disk full")
        self.log.append("commit")

    def work(self, name: str):
        async def run(transaction: BareTransaction) -> str:
            self.log.append(name)
            return name

        return run


async def test_writers_hear_back_only_after_their_group_has_committed():
    recorder = Recorder()
    groups = GroupCommit(recorder.open)

    async def write(name: str) -> None:
        await groups.run("k", recorder.work(name))
        recorder.log.append(f"answered {name}")

    await asyncio.gather(write("a"), write("b"), write("c"))
    assert recorder.log[:5] == ["begin", "a", "b", "c", "commit"]
    assert sorted(recorder.log[5:]) == ["answered a", "answered b", "answered c"]


@pytest.mark.parametrize(("writers", "transactions"), [(MOST_WORKS, 1), (MOST_WORKS + 1, 2)])
async def test_a_group_holds_at_most_most_works(writers, transactions):
    recorder = Recorder()
    groups = GroupCommit(recorder.open)
    answers = await asyncio.gather(
        *(groups.run("k", recorder.work(f"w{i}")) for i in range(writers))
    )
    assert answers == [f"w{i}" for i in range(writers)]
    assert recorder.log.count("commit") == groups.transactions == transactions
    assert groups.works == writers


async def test_a_failed_commit_reaches_every_writer_of_the_group():
    recorder = Recorder(fail_commit=True)
    groups = GroupCommit(recorder.open)
    answers = await asyncio.gather(
        *(groups.run("k", recorder.work(name)) for name in "abc"), return_exceptions=True
    )
    assert [type(a) for a in answers] == [OSError] * 3
    assert recorder.log == ["begin", "a", "b", "c", "commit failed"]
    assert (groups.transactions, groups.works) == (0, 0)


async def test_groups_of_different_keys_are_separate_transactions():
    recorder = Recorder()
    groups = GroupCommit(recorder.open)
    await asyncio.gather(groups.run("k1", recorder.work("a")), groups.run("k2", recorder.work("b")))
    assert recorder.log.count("begin") == recorder.log.count("commit") == 2


async def test_a_cancelled_leader_leaves_no_writer_waiting():
    """Cancelled while its group runs (as at shutdown): the transaction is abandoned,
    and the writers who joined hear so at once instead of waiting forever."""
    recorder = Recorder()
    groups = GroupCommit(recorder.open)
    stuck = asyncio.Event()

    async def hangs(transaction: BareTransaction) -> str:
        recorder.log.append("hangs")
        await stuck.wait()
        return "never"

    leader = asyncio.create_task(groups.run("k", hangs))
    joined = [asyncio.create_task(groups.run("k", recorder.work(name))) for name in "ab"]
    await asyncio.sleep(0.01)
    assert recorder.log == ["begin", "hangs"]  # "a" and "b" joined and wait their turn
    leader.cancel()
    done, pending = await asyncio.wait([leader, *joined], timeout=5)
    assert not pending
    assert all(task.cancelled() for task in done)
    assert "commit" not in recorder.log
