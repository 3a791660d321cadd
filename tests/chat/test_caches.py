"""The in-memory caches of one SQLite process answer exactly what the database holds."""

from __future__ import annotations

from frontdesk.conversations.cache import TAIL, Tail
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


def test_tail_keeps_the_newest_and_knows_where_it_is_complete():
    tail = Tail(Conversation())
    for stamp in range(1, TAIL + 6):
        tail.append(stamp, {"n": stamp})
    assert tail.complete_after_us == 5
    assert tail.after(None) is None and tail.after(4) is None  # older than what is kept
    assert [m["n"] for m in tail.after(5) or []] == list(range(6, TAIL + 6))
    assert tail.after(TAIL + 5) == []
    tail.append(3, {"n": 3})  # a late arrival lands in order, never lost at the end
    assert tail.stamps == sorted(tail.stamps)


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
