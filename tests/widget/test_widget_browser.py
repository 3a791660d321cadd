"""The embeddable widget in a real Chromium, on a host page of another origin with hostile CSS.

Controls are found by their accessible names: those names are part of the contract.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, Route, ViewportSize, expect

from tests.support.browser import LiveFrontdesk
from tests.widget.conftest import AUTO_REPLY, GREETING, AgentAPI, eventually

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
RED = "rgb(255, 0, 0)"
STREAM = re.compile(r"/conversations/[^/]+/events\?")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new visitor: a fresh context has empty localStorage."""
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert dialogs == [], f"something ran script in the host page: {dialogs}"
    assert errors == [], f"the widget threw: {errors}"


def start_chat(page: Page, url: str, email: str, message: str, name: str = "Jane Doe") -> None:
    page.goto(url)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log").get_by_text(message)).to_be_visible()


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


def test_a_send_whose_answer_was_lost_is_retried_once(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    # No event stream (it would bring the stored copy, and the widget would rightly take that
    # as sent): polling only, and polls fail too while the answer is lost below.
    page.route(STREAM, lambda route: route.abort())
    start_chat(page, host_site + "/", email, "First message")
    conversation = agent.conversation(email)
    keys: list[str] = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.abort()  # a poll would show the stored copy
            return
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) > 1:
            route.continue_()  # the retry gets through
            return
        route.fetch()  # the server stores the message...
        route.abort()  # ...but its answer never reaches the visitor

    page.route("**/conversations/*/messages", lose_the_answer)
    page.get_by_label("Message").fill("Did this arrive?")
    page.get_by_label("Message").press("Enter")
    log = page.get_by_role("log")
    expect(log.get_by_text(re.compile("^Not sent"))).to_be_visible()
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
    page.route(STREAM, lambda route: route.abort())  # polling only: the test says when
    start_chat(page, host_site + "/", email, "First message")
    conversation = agent.conversation(email)
    lost: list[bool] = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            lost.append(True)
            route.fetch()  # stored, but the answer is lost
            route.abort()
        else:
            route.continue_()

    page.route("**/conversations/*/messages", lose_the_answer)
    page.get_by_label("Message").fill("Stored after all")
    page.get_by_label("Message").press("Enter")
    log = page.get_by_role("log")
    expect(log.get_by_text(re.compile("^Not sent"))).to_be_visible()
    # The next poll brings the stored copy: it takes the failed one's place, Retry and all.
    expect(log.locator(".msg:has(time)").filter(has_text="Stored after all")).to_have_count(1)
    expect(log.get_by_text("Stored after all")).to_have_count(1)
    expect(log.get_by_role("button", name="Retry")).to_have_count(0)
    assert agent.bodies(conversation["id"]).count("Stored after all") == 1


def test_visitor_token_is_kept_per_site_key(
    page: Page, host_site: str, frontdesk: LiveFrontdesk, email: str
) -> None:
    start_chat(page, host_site + "/", email, "Remember me")
    stored = dict(page.evaluate("() => Object.entries(localStorage)"))
    assert list(stored) == [f"frontdesk:{frontdesk.site_key}"]
    token = json.loads(stored[f"frontdesk:{frontdesk.site_key}"])["token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token), token


def test_replies_arrive_by_polling_when_there_is_no_event_stream(
    page: Page, host_site: str, agent: AgentAPI, email: str
) -> None:
    page.route(STREAM, lambda route: route.abort())
    start_chat(page, host_site + "/", email, "Polling?")
    conversation = agent.conversation(email)
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
