"""The email buttons in a real Chromium: the widget's and the inbox's."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.inbox.conftest import sign_in
from tests.support.browser import LiveFrontdesk, live_frontdesk, static_site
from tests.support.smtp_sink import Sink, smtp_sink
from tests.widget.conftest import host_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory, sink: Sink) -> Iterator[LiveFrontdesk]:
    data = tmp_path_factory.mktemp("mail") / "data"
    with live_frontdesk(
        data, smtp_url=sink.url, email_delay_seconds=30, webhook_retry_schedule="0.2"
    ) as server:
        yield server


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []


def transcripts_to(sink: Sink, address: str) -> list[str]:
    return [e.text for e in sink.to(address) if e["Subject"].startswith("Transcript")]


def test_the_widget_emails_the_visitor_a_transcript(page: Page, frontdesk, sink):
    with static_site({"/": host_page(frontdesk, "Shop")}) as site:
        page.goto(site + "/")
        page.get_by_role("button", name="Open chat").click()
        page.get_by_label("Name").fill("Wendy Widget")
        page.get_by_label("Email").fill("wendy@example.com")
        page.get_by_label("Message").fill("Where is my order?")
        page.get_by_role("button", name="Start chat").click()
        expect(page.get_by_role("log").get_by_text("Where is my order?")).to_be_visible()
        page.get_by_role("button", name="Email transcript").click()
        expect(page.get_by_role("status").filter(has_text="Sent to your email.")).to_be_visible()
    sink.wait_for(1)
    for _ in range(200):
        if transcripts_to(sink, "wendy@example.com"):
            break
        page.wait_for_timeout(50)
    assert "Where is my order?" in transcripts_to(sink, "wendy@example.com")[0]


def test_the_inbox_sends_a_transcript_and_saves_the_email_switch(page: Page, frontdesk, sink):
    body = {
        "name": "Ivan",
        "email": "ivan@example.com",
        "message": "Hello inbox",
        "visitor_token": "v-inbox-transcript",
    }
    created = httpx.post(
        f"{frontdesk.base_url}/api/v1/chat/conversations",
        json=body,
        headers={"X-Api-Key": frontdesk.site_key},
    )
    assert created.status_code == 201
    sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
    page.get_by_role("link", name="Ivan").first.click()
    page.get_by_role("button", name="Send transcript").click()
    expect(page.get_by_role("status").filter(has_text="Transcript sent")).to_be_visible()
    for _ in range(200):
        if transcripts_to(sink, "ivan@example.com"):
            break
        page.wait_for_timeout(50)
    assert "Hello inbox" in transcripts_to(sink, "ivan@example.com")[0]
    # Each agent's own switch for notification emails.
    switch = page.get_by_label("Notify me by mail of new and unanswered conversations")
    expect(switch).to_be_checked()
    switch.uncheck()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    me = httpx.get(f"{frontdesk.base_url}/api/v1/agent/me", headers=frontdesk.admin).json()
    assert me["email_notifications"] is False
    # The admins' Email card says it is configured.
    page.get_by_role("link", name="Settings").click()
    card = page.locator("section.email-status")
    expect(card).to_contain_text("Sending as frontdesk@127.0.0.1")
