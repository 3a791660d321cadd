"""The widget's rating after a close and the agent's typing (contract section 10), in
Chromium: asked within 10 seconds of the close, without a reload."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.support.browser import LiveFrontdesk
from tests.widget.conftest import STREAM, AgentAPI, eventually, start_chat

PHONE: ViewportSize = {"width": 375, "height": 667}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], f"the widget threw: {errors}"


def close(frontdesk: LiveFrontdesk, conversation_id: int) -> None:
    response = httpx.patch(
        f"{frontdesk.base_url}/api/v1/agent/conversations/{conversation_id}",
        json={"status": "closed"},
        headers=frontdesk.admin,
    )
    assert response.status_code == 200, response.text


def wait_for_stream(page: Page, agent: AgentAPI, conversation_id: int, text: str) -> None:
    """A reply shown without a reload: the widget is live (stream or polling)."""
    agent.reply(conversation_id, text)
    expect(page.get_by_role("log").get_by_text(text)).to_be_visible()


def close_and_expect_the_question(
    page: Page, frontdesk: LiveFrontdesk, conversation_id: int
) -> Locator:
    """Not asked while open; asked within 10 seconds of the close, without a reload."""
    question = page.get_by_text("How was your conversation?")
    expect(question).to_be_hidden()
    closed_at = time.monotonic()
    close(frontdesk, conversation_id)
    expect(question).to_be_visible(timeout=10_000)
    assert time.monotonic() - closed_at < 10
    return question


def test_rating_is_asked_after_a_close_and_stored(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str, artifacts
):
    start_chat(page, host_site, email, "My parcel is late")
    conversation_id = agent.conversation(email)["id"]
    wait_for_stream(page, agent, conversation_id, "It ships today.")
    close_and_expect_the_question(page, frontdesk, conversation_id)
    group = page.get_by_role("group", name="How was your conversation?")
    for n in range(1, 6):
        expect(group.get_by_role("button", name=f"Rate {n} of 5")).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-rating-desktop.png"))
    group.get_by_role("button", name="Rate 4 of 5").click()
    expect(group.get_by_role("status")).to_have_text("Thank you!")
    expect(group.get_by_role("button", name="Rate 4 of 5")).to_have_attribute(
        "aria-pressed", "true"
    )
    rating = eventually(
        lambda: agent.client.get(f"/api/v1/agent/conversations/{conversation_id}").json()["rating"]
    )
    assert rating["score"] == 4 and rating["comment"] is None
    # The optional comment replaces the rating with the same score and the words.
    group.get_by_label("Comment (optional)").fill("Fast and friendly")
    group.get_by_role("button", name="Send comment").click()
    expect(group.get_by_label("Comment (optional)")).to_be_hidden()
    view = agent.client.get(f"/api/v1/agent/conversations/{conversation_id}").json()
    assert view["rating"]["score"] == 4 and view["rating"]["comment"] == "Fast and friendly"


def test_agent_typing_shows_in_the_widget_for_five_seconds(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
):
    start_chat(page, host_site, email, "Anyone there?")
    conversation_id = agent.conversation(email)["id"]
    wait_for_stream(page, agent, conversation_id, "Yes, one moment.")
    response = agent.client.post(f"/api/v1/agent/conversations/{conversation_id}/typing")
    assert response.status_code == 204
    note = page.get_by_text("Ada Admin is typing…")
    expect(note).to_be_visible()
    shown = time.monotonic()
    expect(note).to_be_hidden(timeout=9_000)
    assert time.monotonic() - shown > 3.5  # about five seconds, not at once


def test_the_newest_message_stays_in_view_when_the_prompt_appears(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str, artifacts
):
    # Enough replies to fill the log; the prompt then takes room below it, and the log
    # (scrolled to its end) must stay at its end rather than hide the last reply.
    start_chat(page, host_site, email, "A long one")
    conversation_id = agent.conversation(email)["id"]
    for n in range(12):
        wait_for_stream(page, agent, conversation_id, f"Reply number {n}")
    log = page.get_by_role("log")

    def hidden_below() -> float:
        return float(log.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight"))

    assert hidden_below() > -1 and log.evaluate("el => el.scrollHeight > el.clientHeight")
    close_and_expect_the_question(page, frontdesk, conversation_id)
    eventually(lambda: hidden_below() < 2, page=page)
    expect(log.get_by_text("Reply number 11")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / "widget-rating-after-a-long-chat.png"))


def test_rating_on_a_phone(
    browser: Browser,
    host_site: str,
    frontdesk: LiveFrontdesk,
    agent: AgentAPI,
    email: str,
    artifacts,
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        start_chat(page, host_site, email, "Phone question")
        conversation_id = agent.conversation(email)["id"]
        wait_for_stream(page, agent, conversation_id, "Answered!")
        close(frontdesk, conversation_id)
        group = page.get_by_role("group", name="How was your conversation?")
        expect(group.get_by_role("button", name="Rate 5 of 5")).to_be_visible()
        group.get_by_role("button", name="Rate 5 of 5").tap()
        expect(group.get_by_role("status")).to_have_text("Thank you!")
        page.screenshot(path=str(artifacts / "widget-rating-phone.png"))
    finally:
        context.close()


def test_rating_is_asked_while_polling(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
):
    """No event stream (a proxy that drops it, a browser without EventSource): the polls
    tell the widget of the close."""
    page.route(STREAM, lambda route: route.abort())
    start_chat(page, host_site, email, "Polling only")
    conversation_id = agent.conversation(email)["id"]
    wait_for_stream(page, agent, conversation_id, "Polled reply")
    question = close_and_expect_the_question(page, frontdesk, conversation_id)
    group = page.get_by_role("group", name="How was your conversation?")
    group.get_by_role("button", name="Rate 3 of 5").click()
    expect(group.get_by_role("status")).to_have_text("Thank you!")
    rating = eventually(
        lambda: agent.client.get(f"/api/v1/agent/conversations/{conversation_id}").json()["rating"]
    )
    assert rating["score"] == 3
    # The visitor writes again: the conversation is open, the question goes.
    page.get_by_label("Message").fill("One more thing")
    page.get_by_label("Message").press("Enter")
    expect(question).to_be_hidden(timeout=10_000)


def test_rating_is_asked_after_a_reload(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
):
    """Closed while the page was away: the widget that loads afterwards asks at once."""
    start_chat(page, host_site, email, "Before the reload")
    conversation_id = agent.conversation(email)["id"]
    page.goto("about:blank")
    close(frontdesk, conversation_id)
    page.goto(host_site)
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("log").get_by_text("Before the reload")).to_be_visible()
    group = page.get_by_role("group", name="How was your conversation?")
    expect(group).to_be_visible(timeout=10_000)
    group.get_by_role("button", name="Rate 5 of 5").click()
    expect(group.get_by_role("status")).to_have_text("Thank you!")
    # Rated: the next page of the site doesn't ask again.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("log").get_by_text("Before the reload")).to_be_visible()
    page.wait_for_timeout(1000)
    expect(page.get_by_text("How was your conversation?")).to_be_hidden()
