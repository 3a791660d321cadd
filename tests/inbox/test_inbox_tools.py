"""Inbox, contract section 10 in Chromium: the canned-response listbox, labels, typing both
ways (with the real widget on a host page), Seen, ratings and the Reports page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, StorageState, ViewportSize, expect

from tests.inbox.conftest import Visitor, assert_fits, inbox_page, screenshot
from tests.support.browser import LiveFrontdesk, static_site
from tests.widget.conftest import host_page

PHONE: ViewportSize = {"width": 375, "height": 667}


@pytest.fixture(scope="module")
def host_site(frontdesk: LiveFrontdesk) -> Iterator[str]:
    with static_site({"/": host_page(frontdesk, "Clay & Co")}) as url:
        yield url


def open_conversation(page: Page, visitor: Visitor) -> int:
    conversation_id = visitor.conversation()["id"]
    page.goto(page.url.split("#")[0] + f"#/c/{conversation_id}")
    expect(page.locator(".conv-header").get_by_role("heading", name=visitor.name)).to_be_visible()
    return int(conversation_id)


def save_canned(frontdesk: LiveFrontdesk, shortcut: str, body: str) -> None:
    response = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/canned-responses",
        json={"shortcut": shortcut, "body": body},
        headers=frontdesk.admin,
    )
    assert response.status_code in (201, 409), response.text


def test_canned_page_adds_one_and_the_reply_box_offers_it(page: Page, frontdesk: LiveFrontdesk):
    page.get_by_role("link", name="Canned responses").click()
    expect(page.get_by_role("heading", name="Canned responses", level=1)).to_be_visible()
    page.get_by_label("Shortcut", exact=True).fill("thanks")
    page.get_by_label("Body", exact=True).fill("Thanks {{contact.first_name}}, we're on it.")
    page.get_by_role("button", name="Save canned response").click()
    expect(page.get_by_label("Body of /thanks")).to_have_value(
        "Thanks {{contact.first_name}}, we're on it."
    )
    # The API's sentence, shown beside the form.
    page.get_by_label("Shortcut", exact=True).fill("Thanks")
    page.get_by_label("Body", exact=True).fill("x")
    page.get_by_role("button", name="Save canned response").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid shortcut")
    save_canned(frontdesk, "thx", "Thank you, {{contact.name}}!")
    save_canned(frontdesk, "hours", "We answer from 9 to 5.")

    visitor = Visitor(frontdesk, "Jane Doe", "Where is my order?")
    page.get_by_role("link", name="Conversations", exact=True).click()
    open_conversation(page, visitor)
    reply = page.get_by_label("Reply")
    reply.click()
    reply.press_sequentially("/th")
    listbox = page.get_by_role("listbox", name="Canned responses")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(listbox.get_by_role("option", name="thanks", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    expect(listbox.get_by_role("option", name="thx", exact=True)).to_be_visible()
    reply.press("ArrowDown")
    expect(listbox.get_by_role("option", name="thx", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    reply.press("Tab")  # Tab puts the body in, placeholders filled
    expect(reply).to_have_value("Thank you, Jane Doe!")
    expect(listbox).to_be_hidden()
    expect(reply).to_be_focused()
    # After text, `/` starts another; Enter puts it in rather than sending.
    reply.press_sequentially(" /than")
    expect(listbox.get_by_role("option")).to_have_count(1)
    reply.press("Enter")
    expect(reply).to_have_value("Thank you, Jane Doe! Thanks Jane, we're on it.")
    assert visitor.messages()[-1]["body"] != "Thank you, Jane Doe! Thanks Jane, we're on it."
    reply.press("Enter")  # now it sends
    expect(
        page.get_by_role("log").get_by_text("Thank you, Jane Doe! Thanks Jane, we're on it.")
    ).to_be_visible()
    # Nothing matching: no listbox; Escape closes one.
    reply.press_sequentially("/zzz")
    expect(listbox).to_be_hidden()
    reply.fill("")
    reply.press_sequentially("/h")
    expect(listbox.get_by_role("option", name="hours")).to_be_visible()
    reply.press("Escape")
    expect(listbox).to_be_hidden()


def test_labels_are_edited_in_the_header_and_filter_the_list(page: Page, frontdesk: LiveFrontdesk):
    labelled = Visitor(frontdesk, "Lara Label", "Invoice question")
    other = Visitor(frontdesk, "Otto Other", "Hello")
    open_conversation(page, labelled)
    add = page.get_by_label("Add label")
    add.fill("VIP")
    add.press("Enter")
    header = page.locator(".conv-header")
    expect(header.get_by_role("button", name="Remove label vip")).to_be_visible()
    add = page.get_by_label("Add label")
    add.fill("billing")
    add.press("Enter")
    expect(header.get_by_role("button", name="Remove label billing")).to_be_visible()
    assert sorted(labelled.conversation()["labels"]) == ["billing", "vip"]
    conversations = page.get_by_role("list", name="Conversations")
    expect(conversations.get_by_text("Otto Other")).to_be_visible()
    page.get_by_label("Label", exact=True).fill("vip")
    expect(conversations.get_by_text("Otto Other")).to_be_hidden()
    expect(conversations.get_by_text("Lara Label")).to_be_visible()
    page.get_by_label("Label", exact=True).fill("")
    expect(conversations.get_by_text("Otto Other")).to_be_visible()
    header.get_by_role("button", name="Remove label billing").click()
    expect(header.get_by_role("button", name="Remove label billing")).to_be_hidden()
    assert labelled.conversation()["labels"] == ["vip"]
    assert other.conversation()["labels"] == []


def test_typing_both_ways_with_the_real_widget(
    browser: Browser, context: BrowserContext, frontdesk: LiveFrontdesk, host_site: str
):
    widget = browser.new_page()
    try:
        widget.goto(host_site)
        widget.get_by_role("button", name="Open chat").click()
        widget.get_by_label("Name").fill("Wanda Widget")
        widget.get_by_label("Email").fill("wanda@example.com")
        widget.get_by_label("Message").fill("Hello there")
        widget.get_by_role("button", name="Start chat").click()
        expect(widget.get_by_role("log")).to_contain_text("Hello there")
        inbox = next(inbox_page(context, frontdesk))
        listing = httpx.get(
            f"{frontdesk.base_url}/api/v1/agent/conversations",
            params={"q": "wanda@example.com"},
            headers=frontdesk.admin,
        ).json()["conversations"]
        conversation_id = listing[0]["id"]
        inbox.goto(f"{frontdesk.base_url}/inbox#/c/{conversation_id}")
        header = inbox.locator(".conv-header")
        expect(header.get_by_role("heading", name="Wanda Widget")).to_be_visible()
        # The widget's stream is live once a reply gets there without a reload.
        inbox.get_by_label("Reply").fill("Hi Wanda")
        inbox.get_by_label("Reply").press("Enter")
        expect(widget.get_by_role("log")).to_contain_text("Hi Wanda")

        # Agent types: the visitor sees it, by the agent's name; one request per 3 s.
        sent: list[str] = []
        inbox.wait_for_timeout(3100)  # past the 3 s of the reply typed above
        inbox.on("request", lambda r: sent.append(r.url) if r.url.endswith("/typing") else None)
        inbox.get_by_label("Reply").press_sequentially("Let me check")
        expect(widget.get_by_text("Ada Admin is typing…")).to_be_visible()
        assert len(sent) == 1
        # A private note is for the team: typing one tells the visitor nothing.
        inbox.get_by_label("Reply").fill("")
        inbox.get_by_label("Private note").check()
        inbox.wait_for_timeout(3100)
        inbox.get_by_label("Reply").press_sequentially("internal")
        inbox.wait_for_timeout(300)
        assert len(sent) == 1
        inbox.get_by_label("Private note").uncheck()
        # Visitor types: the agent sees it, by the visitor's name.
        widget.get_by_label("Message").press_sequentially("Thanks")
        expect(inbox.get_by_text("Wanda Widget is typing…")).to_be_visible()
        # Shown for 5 seconds, then gone.
        expect(inbox.get_by_text("Wanda Widget is typing…")).to_be_hidden(timeout=8000)
        expect(widget.get_by_text("Ada Admin is typing…")).to_be_hidden(timeout=8000)
    finally:
        widget.close()


def test_seen_under_the_last_reply_the_visitor_received(page: Page, frontdesk: LiveFrontdesk):
    visitor = Visitor(frontdesk, "Sean Seen", "Are you there?")
    conversation_id = open_conversation(page, visitor)
    for text in ("First answer", "Second answer"):
        page.get_by_label("Reply").fill(text)
        page.get_by_label("Reply").press("Enter")
        expect(page.get_by_role("log").get_by_text(text)).to_be_visible()
    log = page.get_by_role("log")
    expect(log.get_by_text("Seen", exact=True)).to_have_count(0)
    visitor.messages()  # the visitor's widget fetches both replies
    seen = log.locator("article", has=page.get_by_text("Seen", exact=True))
    expect(seen).to_have_count(1)
    expect(seen).to_contain_text("Second answer")
    assert conversation_id


def test_rating_shows_in_the_conversation(page: Page, frontdesk: LiveFrontdesk):
    visitor = Visitor(frontdesk, "Rita Rater", "Help please")
    open_conversation(page, visitor)
    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("button", name="Reopen conversation")).to_be_visible()
    base = f"{frontdesk.base_url}/api/v1/chat/conversations/{visitor.token}/rating"
    response = httpx.post(base, json={"score": 4, "comment": "Quick"}, headers=visitor.headers)
    assert response.status_code == 201
    expect(page.locator(".conv-header")).to_contain_text("Rated 4 of 5: “Quick”")


def test_reports_page_desktop_and_phone(
    browser: Browser, page: Page, frontdesk: LiveFrontdesk, admin_state: StorageState
):
    Visitor(frontdesk, "Rex Report", "Numbers please")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    figures = page.locator(".report-figures")
    for name in (
        "Conversations",
        "Closed",
        "First response, median",
        "Resolution, median",
        "Satisfaction",
    ):
        expect(figures.get_by_text(name, exact=True)).to_be_visible()
    # Each figure beside its name: the value in the same box as the name.
    conversations = figures.locator(".figure", has=page.get_by_text("Conversations", exact=True))
    count = int(conversations.locator("dd").inner_text())
    report = httpx.get(f"{frontdesk.base_url}/api/v1/agent/reports", headers=frontdesk.admin).json()
    assert count == report["conversations"] >= 1
    chart = page.get_by_role("img", name="Conversations and first-response time per day")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() == 30
    expect(page.get_by_role("table", name="By agent")).to_contain_text("Ada Admin")
    screenshot(page, "inbox-reports-desktop.png")
    # Another range, through the form.
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("To").fill("2026-01-07")
    page.get_by_role("button", name="Show").click()
    expect(chart.locator("rect.bar")).to_have_count(7)

    phone = browser.new_context(
        viewport=PHONE, storage_state=admin_state, is_mobile=True, has_touch=True
    )
    try:
        small = phone.new_page()
        small.goto(f"{frontdesk.base_url}/inbox#/reports")
        expect(
            small.get_by_role("img", name="Conversations and first-response time per day")
        ).to_be_visible()
        assert_fits(small)
        screenshot(small, "inbox-reports-phone.png")
        small.get_by_role("table", name="By agent").scroll_into_view_if_needed()
        screenshot(small, "inbox-reports-phone-chart.png")
    finally:
        phone.close()


def test_canned_listbox_screenshot_desktop_and_phone(
    page: Page, frontdesk: LiveFrontdesk, browser: Browser, admin_state: StorageState
):
    save_canned(frontdesk, "refund", "Hi {{contact.name}}, your refund is on its way.")
    save_canned(frontdesk, "return", "Returns are free within 30 days.")
    visitor = Visitor(frontdesk, "Pia Phone", "Refund?")
    httpx.patch(
        f"{frontdesk.base_url}/api/v1/agent/conversations/{visitor.conversation()['id']}",
        json={"labels": ["refunds", "vip"]},
        headers=frontdesk.admin,
    )
    open_conversation(page, visitor)
    page.get_by_label("Reply").press_sequentially("/re")
    expect(page.get_by_role("listbox", name="Canned responses")).to_be_visible()
    screenshot(page, "inbox-canned-desktop.png")
    phone = browser.new_context(
        viewport=PHONE, storage_state=admin_state, is_mobile=True, has_touch=True
    )
    try:
        small = phone.new_page()
        small.goto(f"{frontdesk.base_url}/inbox#/c/{visitor.conversation()['id']}")
        header = small.locator(".conv-header")
        expect(header.get_by_role("heading", name="Pia Phone")).to_be_visible()
        small.get_by_label("Reply").press_sequentially("/re")
        expect(small.get_by_role("listbox", name="Canned responses")).to_be_visible()
        assert_fits(small)
        screenshot(small, "inbox-canned-phone.png")
    finally:
        phone.close()
