"""The in-memory caches answer exactly what the database holds: on one SQLite process, and on
PostgreSQL + Redis per instance (tests/scale/test_cached_poll_race.py races two of them)."""

from __future__ import annotations

from sqlalchemy import event

from frontdesk.conversations.cache import TAIL, Tail
from frontdesk.events.bus import Event
from frontdesk.kit.generation_cache import GenerationCache
from frontdesk.models import Conversation
from tests.support.accounts import start_conversation

BASE = "/api/v1/chat/conversations"


def test_a_load_that_an_invalidation_overtook_is_not_kept():
    cache: GenerationCache[str, int] = GenerationCache(max_entries=2)
    started = cache.generation
    cache.fence()  # a commit was published while the load ran
    cache.store("k", 1, started)
    assert cache.get("k") is None
    cache.store("k", 2, cache.generation)
    assert cache.get("k") == 2
    cache.store("a", 3, cache.generation)
    cache.store("b", 4, cache.generation)
    assert len(cache) == 2 and cache.get("k") is None  # least recently used went first


def _created(ts: int, prev: int, public: bool = True) -> Event:
    return Event(
        account_id=1,
        type="message.created",
        ts_us=ts,
        data={},
        conversation_id=1,
        visitor_token="t" * 16,
        public={"n": ts} if public else None,
        prev_ts_us=prev,
    )


def test_tail_keeps_the_newest_and_knows_where_it_is_complete():
    tail = Tail(Conversation(), last_us=0)
    for stamp in range(1, TAIL + 6):
        assert tail.follow(_created(stamp, stamp - 1))
    assert tail.complete_after_us == 5
    assert tail.after(None) is None and tail.after(4) is None  # older than what is kept
    assert [m["n"] for m in tail.after(5) or []] == list(range(6, TAIL + 6))
    assert tail.after(TAIL + 5) == []
    assert tail.follow(_created(3, 2))  # one the read already had: nothing changes
    assert tail.stamps == list(range(6, TAIL + 6))


def test_tail_refuses_a_message_whose_predecessor_it_has_not_heard():
    tail = Tail(Conversation(), last_us=10)
    # Two instances' publishes may arrive out of commit order: 12 (after 11) before 11.
    assert not tail.follow(_created(12, 11))
    assert tail.after(10) == []  # nothing taken: the caller drops the entry
    assert tail.follow(_created(11, 10, public=False))  # a note moves the watermark only
    assert tail.follow(_created(12, 11))
    assert [m["n"] for m in tail.after(None) or []] == [12]


async def test_long_history_reads_past_the_cached_tail(client, account):
    await client.patch(
        "/api/v1/agent/settings",
        json={"rate_limits": {"send_message": 1000}},
        headers=account.admin,
    )
    token = await start_conversation(client, account)
    url = f"{BASE}/{token}/messages"
    for i in range(TAIL + 10):
        assert (
            await client.post(url, json={"message": f"m{i}"}, headers=account.widget)
        ).status_code == 201
    everything = (await client.get(url, headers=account.widget)).json()
    assert len(everything) == TAIL + 12
    assert [m["body"] for m in everything[2:]] == [f"m{i}" for i in range(TAIL + 10)]
    stamps = [m["timestamp"] for m in everything]
    assert stamps == sorted(stamps)
    for index in (0, 5, 150, len(everything) - 1):
        since = (
            await client.get(url, params={"since": stamps[index]}, headers=account.widget)
        ).json()
        assert [m["id"] for m in since] == [m["id"] for m in everything[index + 1 :]]


async def test_polls_see_replies_and_never_notes(client, account):
    token = await start_conversation(client, account)
    url = f"{BASE}/{token}/messages"
    newest = (await client.get(url, headers=account.widget)).json()[-1]["timestamp"]
    assert (await client.get(url, params={"since": newest}, headers=account.widget)).json() == []
    listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
    cid = listing.json()["conversations"][0]["id"]
    reply = f"/api/v1/agent/conversations/{cid}/messages"
    await client.post(reply, json={"message": "note", "private": True}, headers=account.admin)
    answer = await client.post(reply, json={"message": "answer"}, headers=account.admin)
    polled = (await client.get(url, params={"since": newest}, headers=account.widget)).json()
    assert [m["id"] for m in polled] == [answer.json()["id"]]


async def test_a_poll_with_nothing_new_reads_and_writes_no_conversation_row(app, client, account):
    token = await start_conversation(client, account)
    url = f"{BASE}/{token}/messages"
    # The first read fills the cache and records the auto-reply as seen (a write).
    newest = (await client.get(url, headers=account.widget)).json()[-1]["timestamp"]
    assert (await client.get(url, params={"since": newest}, headers=account.widget)).json() == []
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = app.state.runtime.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        for _ in range(3):
            polled = await client.get(url, params={"since": newest}, headers=account.widget)
            assert polled.status_code == 200 and polled.json() == []
        # The gate may read the site key's account (its cache is not this one's): no more.
        assert [s for s in statements if "FROM accounts" not in s] == []
        # A message makes the next poll answer it from the bus's event: no messages read.
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        cid = listing.json()["conversations"][0]["id"]
        reply = f"/api/v1/agent/conversations/{cid}/messages"
        answer = await client.post(reply, json={"message": "answer"}, headers=account.admin)
        statements.clear()
        polled = await client.get(url, params={"since": newest}, headers=account.widget)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert [m["id"] for m in polled.json()] == [answer.json()["id"]]
    # Recording that the visitor has seen the reply does write and read the row; the
    # poll itself reads no messages of the conversation.
    assert not [s for s in statements if "messages.conversation_id =" in s]


async def test_messages_heard_out_of_commit_order_are_never_skipped(app, client, account):
    """Instances' publishes may reach this one out of commit order (rare in a live race,
    so here the two events are handed to the bus's dispatch in reverse)."""
    rt = app.state.runtime
    token = await start_conversation(client, account)
    url = f"{BASE}/{token}/messages"
    newest = (await client.get(url, headers=account.widget)).json()[-1]["timestamp"]
    assert (await client.get(url, params={"since": newest}, headers=account.widget)).json() == []
    held: list[Event] = []

    async def hold(events: list[Event]) -> None:
        held.extend(events)

    publish, rt.db.publish = rt.db.publish, hold
    try:
        first = await client.post(url, json={"message": "first"}, headers=account.widget)
        listing = await client.get("/api/v1/agent/conversations", headers=account.admin)
        cid = listing.json()["conversations"][0]["id"]
        reply = f"/api/v1/agent/conversations/{cid}/messages"
        second = await client.post(reply, json={"message": "second"}, headers=account.admin)
    finally:
        rt.db.publish = publish
    created = [e for e in held if e.type == "message.created"]
    assert [e.public["body"] for e in created if e.public] == ["first", "second"]
    rt.bus.dispatch(created[1])  # the later message is heard first
    polled = (await client.get(url, params={"since": newest}, headers=account.widget)).json()
    assert [m["id"] for m in polled] == [first.json()["id"], second.json()["id"]]
    for late in [created[0], *(e for e in held if e.type != "message.created")]:
        rt.bus.dispatch(late)
    since = polled[-1]["timestamp"]
    assert (await client.get(url, params={"since": since}, headers=account.widget)).json() == []
    everything = (await client.get(url, headers=account.widget)).json()
    assert [m["body"] for m in everything[-2:]] == ["first", "second"]
