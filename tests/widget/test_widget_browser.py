"""The embeddable widget in a real Chromium, on a host page of another origin with hostile CSS.

Controls are found by their accessible names: those names are part of the contract.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import LiveFrontdesk
from tests.widget.conftest import (
    AUTO_REPLY,
    GREETING,
    STREAM,
    AgentAPI,
    eventually,
    start_chat,
)

pytestmark = pytest.mark.browser

RED = "rgb(255, 0, 0)"


def test_visitor_and_agent_talk_without_reloads(
    page: Page, host_site: str, agent: AgentAPI, email: str, artifacts: Path
) -> None:
    page.goto(host_site + "/")
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()  # although the page hides every button it can reach
    box = launcher.bounding_box()
    assert box is not None and box["x"] > 1100 and box["y"] > 650, "launcher sits bottom-right"
    launcher.click()

    dialog = page.get_by_role("dialog", name="Acme Shop")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text(GREETING)).to_be_visible()
    page.get_by_label("Name").fill("Jane Doe")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Message").fill("Hi, I need help with billing.")
    page.screenshot(path=artifacts / "widget-desktop-form.png")
    page.get_by_role("button", name="Start chat").click()

    log = page.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log.get_by_text("Hi, I need help with billing.")).to_be_visible()
    expect(log.get_by_text(AUTO_REPLY)).to_be_visible()
    expect(log.get_by_text("Jane Doe")).to_have_count(1)
    expect(page.get_by_label("Name")).to_have_count(0)  # the form made way for the chat
    # The page's `* { color: red; font-size: 40px }` doesn't reach into the shadow root.
    bubble = log.get_by_text("Hi, I need help with billing.")
    assert bubble.evaluate("e => getComputedStyle(e).color") != RED
    assert bubble.evaluate("e => getComputedStyle(e).fontSize") == "14px"
    for name in ("Send", "Attach file"):
        expect(page.get_by_role("button", name=name)).to_be_visible()

    conversation = agent.conversation(email)
    hostile = "<img src=x onerror=alert(1)><b>bold</b>"
    agent.reply(conversation["id"], hostile)
    reply = log.get_by_text(hostile, exact=True)
    expect(reply).to_be_visible()  # by polling or the event stream, not a reload
    expect(log.locator("img")).to_have_count(0)
    expect(log.locator("b")).to_have_count(0)
    expect(log.get_by_text("Ada Admin")).to_have_count(1)  # the agent's name as author
    inbound = bubble.evaluate("e => getComputedStyle(e).backgroundColor")
    outbound = reply.evaluate("e => getComputedStyle(e).backgroundColor")
    assert inbound != outbound, "visitor and agent messages look alike"

    agent.reply(conversation["id"], "Our help pages: https://example.com/help.")
    link = log.get_by_role("link", name="https://example.com/help")
    expect(link).to_have_attribute("href", "https://example.com/help")
    expect(link).to_have_attribute("rel", re.compile("noopener"))

    # Enter sends; Shift+Enter breaks the line.
    message = page.get_by_label("Message")
    message.fill("line one")
    message.press("Shift+Enter")
    message.press_sequentially("line two")
    message.press("Enter")
    expect(message).to_have_value("")
    eventually(lambda: "line one\nline two" in agent.bodies(conversation["id"]), page)
    message.fill("And the invoice number is 42")
    page.get_by_role("button", name="Send").click()
    eventually(lambda: "And the invoice number is 42" in agent.bodies(conversation["id"]), page)

    # A reply after both sends proves a poll ran since; each message still shows once.
    agent.reply(conversation["id"], "Found it, thanks!")
    expect(log.get_by_text("Found it, thanks!")).to_be_visible()
    expect(log.get_by_text("line one")).to_have_count(1)
    expect(log.get_by_text("And the invoice number is 42")).to_have_count(1)
    expect(log.locator(".msg")).to_have_count(len(agent.messages(conversation["id"])))
    page.screenshot(path=artifacts / "widget-desktop.png")

    # A reload, and another page of the same site, show the same conversation.
    for url in (host_site + "/", host_site + "/other"):
        page.goto(url)
        page.get_by_role("button", name="Open chat").click()
        log = page.get_by_role("log")
        expect(log.get_by_text("Found it, thanks!")).to_be_visible()
        expect(log.get_by_text(hostile, exact=True)).to_be_visible()
        expect(log.locator(".msg")).to_have_count(7)
        expect(page.get_by_label("Name")).to_have_count(0)


def test_invalid_email_shows_the_api_sentence_and_keeps_what_was_typed(
    page: Page, host_site: str, email: str
) -> None:
    page.goto(host_site + "/")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_text("Name, email, message, and visitor_token are required")).to_be_visible()

    page.get_by_label("Name").fill("Jane Doe")
    page.get_by_label("Email").fill("jane-at-example")
    page.get_by_label("Message").fill("Please keep this text")
    page.get_by_role("button", name="Start chat").click()
    # No browser validation bubble stopped the submit: the API answered, in its words.
    expect(page.get_by_text("Invalid email address")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Jane Doe")
    expect(page.get_by_label("Email")).to_have_value("jane-at-example")
    expect(page.get_by_label("Message")).to_have_value("Please keep this text")

    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log").get_by_text("Please keep this text")).to_be_visible()


def test_rate_limited_start_says_when_to_try_again(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, email: str
) -> None:
    settings = f"{frontdesk.base_url}/api/v1/agent/settings"
    limit = {"rate_limits": {"create_conversation": 1}}
    assert httpx.patch(settings, json=limit, headers=frontdesk.admin).status_code == 200
    try:
        # One start from this address uses the whole minute's allowance.
        httpx.post(
            f"{frontdesk.base_url}/api/v1/chat/conversations",
            json={"name": "x", "email": "x@example.com", "message": "x", "visitor_token": ""},
            headers={"X-Api-Key": frontdesk.site_key},
        )
        page.goto(host_site + "/")
        page.get_by_role("button", name="Open chat").click()
        page.get_by_label("Name").fill("Jane Doe")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Message").fill("Is anyone there?")
        page.get_by_role("button", name="Start chat").click()
        expect(page.get_by_text(re.compile(r"try again in \d+ seconds?"))).to_be_visible()
        expect(page.get_by_label("Message")).to_have_value("Is anyone there?")
        expect(page.get_by_label("Email")).to_have_value(email)
    finally:
        limit = {"rate_limits": {"create_conversation": 1000}}
        assert httpx.patch(settings, json=limit, headers=frontdesk.admin).status_code == 200


def test_escape_closes_and_the_badge_counts_unread_replies(
    page: Page, host_site: str, agent: AgentAPI, email: str, artifacts: Path
) -> None:
    start_chat(page, host_site + "/", email, "Hello?")
    expect(page.get_by_role("log").get_by_text(AUTO_REPLY)).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_accessible_description("")

    conversation = agent.conversation(email)
    agent.reply(conversation["id"], "Hi! Sam here.")
    agent.reply(conversation["id"], "How can I help?")
    expect(launcher).to_have_accessible_description("2 unread messages")
    expect(page.locator(".badge")).to_have_text("2")
    page.screenshot(path=artifacts / "widget-desktop-badge.png")

    launcher.click()
    expect(page.get_by_role("log").get_by_text("How can I help?")).to_be_visible()
    expect(page.locator(".badge")).to_be_hidden()
    page.reload()  # what was read stays read: one more reply makes one unread, not three
    agent.reply(conversation["id"], "Still there?")
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_have_accessible_description("1 unread message")


def test_visitor_token_is_kept_per_site_key(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, email: str
) -> None:
    start_chat(page, host_site + "/", email, "Remember me")
    stored = dict(page.evaluate("() => Object.entries(localStorage)"))
    assert list(stored) == [f"frontdesk:{frontdesk.site_key}"]
    token = json.loads(stored[f"frontdesk:{frontdesk.site_key}"])["token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token), token


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x25\x63\xeb")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_attachments_are_links_and_thumbnails_with_the_site_key(
    page: Page,
    host_site: str,
    frontdesk: LiveFrontdesk,
    agent: AgentAPI,
    email: str,
) -> None:
    # The stream is blocked so the attachments arrive by polling, the fallback path.
    page.route(STREAM, lambda route: route.abort())
    start_chat(page, host_site + "/", email, "Can I have the invoice?")
    conversation = agent.conversation(email)
    pdf_bytes = b"%PDF-1.4\n" + b"0" * (48213 - 9)
    sent = agent.client.post(
        f"/api/v1/agent/conversations/{conversation['id']}/messages",
        data={"message": "Here is the invoice."},
        files=[
            ("files", ("photo.png", _png_1x1(), "image/png")),
            ("files", ("invoice.pdf", pdf_bytes, "application/pdf")),
        ],
    )
    assert sent.status_code == 201, sent.text
    log = page.get_by_role("log")
    expect(log.get_by_text("Here is the invoice.")).to_be_visible()
    base = f"{frontdesk.base_url}/api/v1/chat/conversations/{conversation['visitor_token']}/files/"
    pdf = log.get_by_role("link", name=re.compile(r"^invoice\.pdf \(47 KB\)"))
    href = pdf.get_attribute("href") or ""
    assert href.startswith(base) and href.endswith(f"?site_key={frontdesk.site_key}"), href
    thumb = log.get_by_role("img", name="photo.png")
    src = thumb.get_attribute("src") or ""
    assert src.startswith(base) and f"site_key={frontdesk.site_key}" in src, src
    assert "disposition=inline" in src


def test_attach_file_uploads_or_says_it_cannot(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, agent: AgentAPI, email: str
) -> None:
    start_chat(page, host_site + "/", email, "I have a screenshot")
    conversation = agent.conversation(email)
    token = conversation["visitor_token"]
    probe = httpx.post(
        f"{frontdesk.base_url}/api/v1/chat/conversations/{token}/files",
        headers={"X-Api-Key": frontdesk.site_key},
        files={"unrelated": ("x.txt", b"x", "text/plain")},
    )
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"order 42, broken lid\n"}
    )
    log = page.get_by_role("log")
    if probe.status_code in (404, 405) and probe.json()["error"] != "Conversation not found":
        # The upload route isn't on this server yet: the visitor is told so, calmly.
        expect(log.get_by_text(re.compile("Sending files isn't available"))).to_be_visible()
        expect(log.get_by_role("button", name="Retry")).to_be_visible()
    else:
        expect(log.get_by_role("link", name=re.compile(r"^notes\.txt"))).to_be_visible()
        eventually(
            lambda: any(
                a["filename"] == "notes.txt"
                for m in agent.messages(conversation["id"])
                for a in m["attachments"]
            )
        )


def test_demo_page_shows_the_widget(page: Page, frontdesk: LiveFrontdesk, artifacts: Path) -> None:
    page.goto(frontdesk.base_url + "/demo")
    expect(page.get_by_text(f'data-site-key="{frontdesk.site_key}"')).to_be_visible()
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("dialog", name="Acme Shop").get_by_text(GREETING)).to_be_visible()
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    page.screenshot(path=artifacts / "widget-demo.png")


@pytest.mark.parametrize(
    ("color", "ring"),
    [
        ("#2563eb", "rgb(37, 99, 235)"),
        ("#ffee00", "rgb(17, 17, 17)"),
        ("#7dd3fc", "rgb(17, 17, 17)"),
    ],
)
def test_focus_rings_stand_out_on_the_white_panel(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, color: str, ring: str, artifacts: Path
) -> None:
    # The account's color when it contrasts 3:1 with white (WCAG 1.4.11), else near-black:
    # a yellow or pale-blue ring on the white panel is all but invisible.
    settings = f"{frontdesk.base_url}/api/v1/agent/settings"
    assert httpx.patch(settings, json={"color": color}, headers=frontdesk.admin).status_code == 200
    try:
        page.goto(host_site + "/")
        page.get_by_role("button", name="Open chat").click()
        field = page.get_by_label("Name")
        field.focus()
        expect(field).to_have_css("outline-color", ring)
        page.screenshot(path=str(artifacts / f"widget-focus-{color[1:]}.png"))
    finally:
        httpx.patch(settings, json={"color": "#2563eb"}, headers=frontdesk.admin)


def test_a_visitor_reading_back_is_not_pulled_down_by_a_new_reply(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    start_chat(page, host_site, email, "Reading back")
    conversation_id = agent.conversation(email)["id"]
    log = page.get_by_role("log")
    for n in range(12):
        agent.reply(conversation_id, f"Earlier reply {n}")
        expect(log.get_by_text(f"Earlier reply {n}", exact=True)).to_be_visible()
    assert log.evaluate("el => el.scrollHeight > el.clientHeight + 200")
    log.evaluate("el => { el.scrollTop = 0; }")
    agent.reply(conversation_id, "A newer reply")
    expect(log.get_by_text("A newer reply")).to_be_attached()
    page.wait_for_timeout(300)  # a scroll would have happened by now
    assert log.evaluate("el => el.scrollTop") == 0
    # Back at the end, the log follows new replies again.
    log.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    agent.reply(conversation_id, "The newest reply")
    expect(log.get_by_text("The newest reply")).to_be_in_viewport()
