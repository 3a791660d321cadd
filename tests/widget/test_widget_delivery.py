"""Each message shows once in the widget, whichever way it came, in a real Chromium: a send
whose answer was lost is retried with the same Idempotency-Key, and a message brought by
both the event stream and polling, or streamed back before its own answer, is not doubled.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.browser import LiveFrontdesk
from tests.widget.conftest import STREAM, AgentAPI, eventually, start_chat

pytestmark = pytest.mark.browser


def polling_chat(
    page: Page, host_site: str, agent: AgentAPI, email: str, first: str
) -> dict[str, Any]:
    """A chat started in the widget with its event stream refused from the start, so that
    replies and stored copies come by polling, when the test says; the agent API's
    conversation."""
    page.route(STREAM, lambda route: route.abort())
    start_chat(page, host_site + "/", email, first)
    return agent.conversation(email)


def send_losing_its_answer(page: Page, message: str, polls_pass: bool) -> list[str]:
    """Sends `message` in a polling_chat (an event stream would bring the stored copy):
    the server stores it, but its answer never reaches the widget. Later sends go through;
    polls too when `polls_pass`. Returns every send's Idempotency-Key, as the test goes on."""
    keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            if polls_pass:
                route.continue_()
            else:
                route.abort()
            return
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) > 1:
            route.continue_()
            return
        route.fetch()  # the server stores the message...
        route.abort()  # ...but its answer never reaches the visitor

    page.route("**/conversations/*/messages", lose_the_first_answer)
    page.get_by_label("Message").fill(message)
    page.get_by_label("Message").press("Enter")
    expect(page.get_by_role("log").get_by_text(re.compile("^Not sent"))).to_be_visible()
    return keys


def test_a_send_whose_answer_was_lost_is_retried_once(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    conversation = polling_chat(page, host_site, agent, email, "First message")
    # Polls fail too while the answer is lost: a poll would show the stored copy.
    keys = send_losing_its_answer(page, "Did this arrive?", polls_pass=False)
    log = page.get_by_role("log")
    eventually(lambda: "Did this arrive?" in agent.bodies(conversation["id"]), page)

    with page.expect_request(lambda r: r.method == "POST" and "/messages" in r.url) as request:
        log.get_by_role("button", name="Retry").click()
    page.unroute("**/conversations/*/messages")
    page.unroute(STREAM)
    assert request.value.headers["idempotency-key"] == keys[0]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", keys[0]), "128 random bits, base64url"
    expect(log.get_by_text(re.compile("^Not sent"))).to_have_count(0)
    expect(log.get_by_role("button", name="Retry")).to_have_count(0)
    agent.reply(conversation["id"], "It did.")
    expect(log.get_by_text("It did.")).to_be_visible()
    expect(log.get_by_text("Did this arrive?")).to_have_count(1)
    assert agent.bodies(conversation["id"]).count("Did this arrive?") == 1


def test_a_failed_send_whose_stored_copy_arrives_shows_once(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    conversation = polling_chat(page, host_site, agent, email, "First message")
    send_losing_its_answer(page, "Stored after all", polls_pass=True)
    log = page.get_by_role("log")
    # The next poll brings the stored copy: it takes the failed one's place, Retry and all.
    expect(log.locator(".msg:has(time)").filter(has_text="Stored after all")).to_have_count(1)
    expect(log.get_by_text("Stored after all")).to_have_count(1)
    expect(log.get_by_role("button", name="Retry")).to_have_count(0)
    assert agent.bodies(conversation["id"]).count("Stored after all") == 1


def test_replies_arrive_by_polling_when_there_is_no_event_stream(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    conversation = polling_chat(page, host_site, agent, email, "Polling?")
    with page.expect_request(re.compile(r"/messages\?since=")) as poll:
        agent.reply(conversation["id"], "Polling works")
        expect(page.get_by_role("log").get_by_text("Polling works")).to_be_visible()
    assert "since=" in poll.value.url


def test_polling_rests_while_the_event_stream_is_live(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
) -> None:
    with page.expect_response(STREAM) as answer:
        start_chat(page, host_site + "/", email, "Live?")
    if answer.value.status == 404:
        pytest.skip("this server offers no visitor event stream (yet)")
    assert answer.value.status == 200
    assert answer.value.headers["content-type"].startswith("text/event-stream")
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/messages?since=" in r.url else None)
    conversation = agent.conversation(email)
    agent.reply(conversation["id"], "Pushed, not polled")
    expect(page.get_by_role("log").get_by_text("Pushed, not polled")).to_be_visible()
    page.wait_for_timeout(3500)  # longer than one polling interval: none may happen
    assert polls == []
    expect(page.get_by_role("log").get_by_text("Pushed, not polled")).to_have_count(1)


def test_a_message_from_both_the_stream_and_polling_shows_once(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
) -> None:
    # Until the server's event stream is there, this stands in for it with the real
    # messages, so both paths deliver the same ones.
    streamed: list[str] = []

    def stream(route: Route) -> None:
        token = route.request.url.split("/conversations/")[1].split("/")[0]
        messages = httpx.get(
            f"{frontdesk.base_url}/api/v1/chat/conversations/{token}/messages",
            headers={"X-Api-Key": frontdesk.site_key},
        ).json()
        events = "retry: 300\n\n" + "".join(
            f"id: {m['timestamp']}\ndata: {json.dumps(m)}\n\n" for m in messages
        )
        streamed.append(events)
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=events)

    page.route(STREAM, stream)
    start_chat(page, host_site + "/", email, "Streaming?")
    conversation = agent.conversation(email)
    agent.reply(conversation["id"], "Both ways")
    log = page.get_by_role("log")
    expect(log.get_by_text("Both ways")).to_be_visible()
    # The stand-in resends everything on each reconnect, as a resumed stream may.
    eventually(lambda: sum("Both ways" in body for body in streamed) >= 2, page)
    expect(log.get_by_text("Both ways")).to_have_count(1)
    expect(log.locator(".msg")).to_have_count(3)


def test_a_sent_message_streamed_back_before_its_answer_shows_once(
    page: Page, host_site: str, email: str
) -> None:
    # The send's answer is held back (the server has stored the message), so the event
    # stream brings the stored copy while the widget still shows the message as sending.
    held: list[tuple[Route, object]] = []

    def hold(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        held.append((route, route.fetch()))

    start_chat(page, host_site + "/", email, "Hello first")
    page.route(re.compile(r"/conversations/[^/]+/messages$"), hold)
    page.get_by_role("textbox", name="Message").fill("Held answer")
    page.get_by_role("button", name="Send").click()
    log = page.get_by_role("log")
    stored = log.locator(".msg:has(time)").filter(has_text="Held answer")
    expect(stored).to_have_count(1)  # the stream delivered it, the answer is still held
    assert len(held) == 1
    assert log.get_by_text("Held answer").count() == 1, "shown twice while sending"
    route, response = held[0]
    route.fulfill(response=response)  # type: ignore[arg-type]
    page.wait_for_timeout(500)
    expect(log.get_by_text("Held answer")).to_have_count(1)
    expect(log.locator(".msg.failed")).to_have_count(0)
