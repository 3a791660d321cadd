"""Answering chats in the inbox, in a real Chromium, against the visitor's side of the API."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.inbox.conftest import Visitor, screenshot
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser


def png(width: int, height: int) -> bytes:
    """A real PNG (coloured bands), so the browser has an image to preview."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    bands = [(37, 99, 235), (96, 165, 250), (191, 219, 254), (30, 64, 175)]
    row = b"".join(bytes(bands[x * len(bands) // width]) for x in range(width))
    pixels = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


PNG = png(240, 120)


def heading(page: Page, name: str) -> Locator:
    """The open conversation's title (the contact panel repeats the name)."""
    return page.get_by_role("region", name="Conversation").get_by_role("heading", name=name)


def open_conversation(page: Page, name: str) -> None:
    page.get_by_role("link", name=re.compile(re.escape(name))).first.click()
    expect(heading(page, name)).to_be_visible()


def test_a_reply_typed_in_the_inbox_reaches_the_visitor(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    visitor = Visitor(frontdesk, "Ada Lovelace", "Where is my invoice?")
    page.reload()
    open_conversation(page, "Ada Lovelace")
    log = page.get_by_role("log")
    expect(log).to_contain_text("Where is my invoice?")

    page.get_by_label("Reply").fill("It is attached to your account page.")
    page.get_by_role("button", name="Send").click()

    expect(log).to_contain_text("It is attached to your account page.")
    expect(page.get_by_label("Reply")).to_have_value("")
    last = visitor.messages()[-1]
    assert last["body"] == "It is attached to your account page."
    assert last["direction"] == "outbound"
    assert last["author"] == "Ada Admin"


def test_a_private_note_stays_with_the_team(page: Page, frontdesk: LiveFrontdesk) -> None:
    visitor = Visitor(frontdesk, "Alan Turing", "Can I change my delivery address?")
    page.reload()
    open_conversation(page, "Alan Turing")

    page.get_by_label("Private note").check()
    page.get_by_label("Reply").fill("Check with the warehouse first.")
    page.get_by_role("button", name="Send").click()

    note = page.get_by_role("log").locator("article", has_text="Check with the warehouse first.")
    expect(note).to_contain_text("Private note")
    expect(note).to_have_class(re.compile("msg-note"))
    assert "Check with the warehouse first." not in [m["body"] for m in visitor.messages()]


def test_new_visitor_messages_appear_without_a_reload(page: Page, frontdesk: LiveFrontdesk) -> None:
    page.evaluate("window.stillTheSamePage = true")
    expect(page).not_to_have_title(re.compile(r"^\(\d+\)"))
    first = Visitor(frontdesk, "Katherine Johnson", "Hello, anyone there?")
    second = Visitor(frontdesk, "Dorothy Vaughan", "I have a question about sizes.")

    # New conversations arrive on their own, marked unread and counted in the title.
    katherine = page.get_by_role("link", name=re.compile("Katherine Johnson"))
    dorothy = page.get_by_role("link", name=re.compile("Dorothy Vaughan"))
    expect(katherine).to_contain_text("Unread")
    expect(dorothy).to_contain_text("Unread")
    expect(page).to_have_title(re.compile(r"^\(2\) Inbox"))
    open_conversation(page, "Dorothy Vaughan")
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox"))
    open_conversation(page, "Katherine Johnson")
    expect(page).not_to_have_title(re.compile(r"^\(\d+\)"))

    first.says("I'm still here, by the way.")
    expect(page.get_by_role("log")).to_contain_text("I'm still here, by the way.")
    expect(katherine).not_to_contain_text("Unread")  # she is on screen: read as it arrives

    second.says("Do the shoes run small?")
    items = page.locator("#conversation-list a")
    expect(items.first).to_contain_text("Dorothy Vaughan")
    expect(items.first).to_contain_text("Do the shoes run small?")
    expect(items.first).to_contain_text("Unread")
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox"))
    expect(katherine).not_to_contain_text("Unread")
    assert page.evaluate("window.stillTheSamePage") is True

    open_conversation(page, "Dorothy Vaughan")
    expect(page.get_by_role("log")).to_contain_text("Do the shoes run small?")
    expect(page).not_to_have_title(re.compile(r"^\(\d+\)"))
    expect(items.first).not_to_contain_text("Unread")


def test_close_and_reopen_a_conversation(page: Page, frontdesk: LiveFrontdesk) -> None:
    visitor = Visitor(frontdesk, "Margaret Hamilton", "Thanks, that solved it!")
    page.reload()
    open_conversation(page, "Margaret Hamilton")
    item = page.get_by_role("link", name=re.compile("Margaret Hamilton"))

    page.get_by_role("button", name="Close conversation").click()
    expect(page.get_by_role("button", name="Reopen conversation")).to_be_visible()
    assert visitor.conversation()["status"] == "closed"
    expect(item).to_have_count(0)  # the list shows open conversations

    page.get_by_role("button", name="Closed", exact=True).click()
    expect(item).to_be_visible()
    expect(item).to_contain_text("Closed")

    page.get_by_role("button", name="Reopen conversation").click()
    expect(page.get_by_role("button", name="Close conversation")).to_be_visible()
    assert visitor.conversation()["status"] == "open"
    expect(item).to_have_count(0)  # no longer among the closed ones
    page.get_by_role("button", name="Open", exact=True).click()
    expect(item).to_be_visible()


def test_assign_and_see_the_contacts_earlier_conversations(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    earlier = Visitor(frontdesk, "Hedy Lamarr", "Hello!")
    earlier.says("My first order was fine.")
    later = Visitor(frontdesk, "Hedy Lamarr", "Hello again!", email=earlier.email)
    later.says("My second order is late.")
    page.reload()
    page.get_by_role("link", name=re.compile("My second order is late")).click()
    contact = page.get_by_role("complementary", name="Contact")
    expect(contact).to_contain_text(earlier.email)
    expect(contact.get_by_role("link")).to_have_count(2)  # the mailto link and one earlier

    page.get_by_label("Assignee").select_option(label="Ada Admin")
    expect(page.get_by_role("link", name=re.compile("My second order is late"))).to_contain_text(
        "Ada Admin"
    )
    assert later.conversation()["assignee"]["name"] == "Ada Admin"
    assert earlier.conversation()["assignee"] is None

    contact.get_by_role("link", name=re.compile("My first order was fine")).click()
    expect(page.get_by_role("log")).to_contain_text("My first order was fine.")


def test_the_keyboard_alone_moves_opens_and_replies(page: Page, frontdesk: LiveFrontdesk) -> None:
    older = Visitor(frontdesk, "Barbara Liskov", "Question one.")
    Visitor(frontdesk, "Frances Allen", "Question two.")
    page.reload()
    expect(page.locator("#conversation-list a").first).to_contain_text("Frances Allen")

    page.keyboard.press("j")
    expect(heading(page, "Frances Allen")).to_be_visible()
    page.keyboard.press("j")
    expect(heading(page, "Barbara Liskov")).to_be_visible()
    page.keyboard.press("k")
    expect(heading(page, "Frances Allen")).to_be_visible()
    page.keyboard.press("j")
    expect(heading(page, "Barbara Liskov")).to_be_visible()

    page.keyboard.press("r")
    expect(page.get_by_label("Reply")).to_be_focused()
    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    page.keyboard.press("Enter")

    expect(page.get_by_role("log")).to_contain_text("second line")
    assert older.messages()[-1]["body"] == "First line\nsecond line"
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name=re.compile("Barbara Liskov"))).to_be_focused()
    # The reply made Barbara's the newest activity, so Frances is now below her.
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("link", name=re.compile("Frances Allen"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(heading(page, "Frances Allen")).to_be_visible()


def test_visitor_text_is_shown_as_text_never_as_html(page: Page, frontdesk: LiveFrontdesk) -> None:
    name = '<img src=x onerror="window.pwned=1">Mallory'
    Visitor(frontdesk, name, "<b>bold?</b> <script>window.pwned=2</script>", email=None)
    page.reload()
    item = page.locator("#conversation-list a", has_text="Mallory")
    expect(item).to_contain_text(name)
    item.click()
    log = page.get_by_role("log")
    expect(log).to_contain_text("<b>bold?</b> <script>window.pwned=2</script>")
    expect(log.locator("b, script, img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None


def test_a_file_the_agent_attaches_downloads_for_the_visitor(
    page: Page, frontdesk: LiveFrontdesk, tmp_path: Path
) -> None:
    visitor = Visitor(frontdesk, "Radia Perlman", "Could you send the receipt?")
    receipt = tmp_path / "receipt.png"
    receipt.write_bytes(PNG)
    page.reload()
    open_conversation(page, "Radia Perlman")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(str(receipt))
    expect(page.get_by_role("button", name="Remove receipt.png")).to_be_visible()
    page.get_by_label("Reply").fill("Here it is.")
    page.get_by_role("button", name="Send").click()

    sent = page.get_by_role("log").locator("article", has_text="Here it is.")
    expect(sent.get_by_role("img", name="receipt.png")).to_be_visible()
    last = visitor.messages()[-1]
    assert last["body"] == "Here it is."
    [attachment] = last["attachments"]
    assert attachment["filename"] == "receipt.png"
    download = httpx.get(frontdesk.base_url + attachment["url"], headers=visitor.headers)
    assert download.status_code == 200
    assert download.content == PNG


def test_without_the_event_stream_polling_keeps_the_inbox_current(
    context: BrowserContext, frontdesk: LiveFrontdesk
) -> None:
    # As if a proxy in between broke Server-Sent Events: the inbox must notice on its own.
    context.route("**/api/v1/agent/events*", lambda route: route.fulfill(status=404))
    page = context.new_page()
    page.goto(f"{frontdesk.base_url}/inbox")
    # Loaded (first list read) before she writes, so her conversation is news to this agent.
    expect(page.locator("#live-status")).to_have_text("Updating every few seconds")
    visitor = Visitor(frontdesk, "Joan Clarke", "Is anyone reading this?")
    item = page.get_by_role("link", name=re.compile("Joan Clarke"))
    expect(item).to_be_visible()
    expect(item).to_contain_text("Unread")
    open_conversation(page, "Joan Clarke")

    visitor.says("Polling found me.")
    expect(page.get_by_role("log")).to_contain_text("Polling found me.")
    expect(page.locator("#live-status")).to_have_text("Updating every few seconds")


def test_search_finds_conversations_by_message_text(page: Page, frontdesk: LiveFrontdesk) -> None:
    Visitor(frontdesk, "Mary Jackson", "Does the kettle come in teal?")
    Visitor(frontdesk, "Christine Darden", "Where is my parcel?")
    page.reload()
    items = page.locator("#conversation-list a")
    expect(page.get_by_role("link", name=re.compile("Christine Darden"))).to_be_visible()

    page.get_by_role("searchbox", name="Search conversations").fill("kettle")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Mary Jackson")
    page.get_by_role("searchbox", name="Search conversations").fill("no such words anywhere")
    expect(page.get_by_text("Nothing matches")).to_be_visible()
    page.get_by_role("searchbox", name="Search conversations").fill("")
    expect(page.get_by_role("link", name=re.compile("Christine Darden"))).to_be_visible()


def test_files_dropped_on_the_conversation_wait_in_the_reply_box(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    Visitor(frontdesk, "Mae Jemison", "Can I send you my order form?")
    page.reload()
    open_conversation(page, "Mae Jemison")
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["quantity: 3"], "order-form.txt", { type: "text/plain" }));
            const zone = document.getElementById("conversation");
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true }));
            }
        }"""
    )
    expect(page.get_by_role("list", name="Files to send")).to_contain_text("order-form.txt")
    page.get_by_role("button", name="Remove order-form.txt").click()
    expect(page.get_by_role("button", name="Remove order-form.txt")).to_have_count(0)


# Headless Chromium has no notification centre; record what the page asks of the API.
FAKE_NOTIFICATIONS = """
window.shown = [];
window.permissionRequests = 0;
window.Notification = class {
  static permission = "default";
  static async requestPermission() {
    window.permissionRequests += 1;
    window.Notification.permission = "granted";
    return "granted";
  }
  constructor(title, options) { window.shown.push({ title, body: options.body }); }
  addEventListener() {}
  close() {}
};
"""


def test_notifications_are_asked_for_on_a_click_and_shown_for_other_chats(
    context: BrowserContext, frontdesk: LiveFrontdesk
) -> None:
    context.add_init_script(FAKE_NOTIFICATIONS)
    page = context.new_page()
    page.goto(f"{frontdesk.base_url}/inbox")
    current = Visitor(frontdesk, "Annie Easley", "First!")
    other = Visitor(frontdesk, "Evelyn Boyd", "Second!")
    open_conversation(page, "Annie Easley")
    assert page.evaluate("window.permissionRequests") == 0  # never asked unprompted

    page.get_by_role("button", name="Enable notifications").click()
    expect(page.get_by_role("button", name="Enable notifications")).to_be_hidden()
    assert page.evaluate("window.permissionRequests") == 1

    current.says("Message in the open chat")
    expect(page.get_by_role("log")).to_contain_text("Message in the open chat")
    other.says("Message in another chat")
    expect(page.get_by_role("link", name=re.compile("Message in another chat"))).to_be_visible()
    page.wait_for_function("window.shown.length > 0")
    assert page.evaluate("window.shown") == [
        {"title": "Evelyn Boyd", "body": "Message in another chat"}
    ]


def test_screenshots_of_the_list_and_a_conversation(
    page: Page, frontdesk: LiveFrontdesk, tmp_path: Path
) -> None:
    chart = tmp_path / "size-chart.png"
    chart.write_bytes(PNG)
    Visitor(frontdesk, "Tim Berners-Lee", "Do you ship to Switzerland?")
    customer = Visitor(frontdesk, "Sophie Wilson", "Hi! I ordered the blue jacket last week.")
    customer.says("The sleeves are too long. Can I swap it for a smaller size?")
    page.reload()
    open_conversation(page, "Sophie Wilson")
    page.get_by_label("Private note").check()
    page.get_by_label("Reply").fill("She is a returning customer: offer free shipping.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log")).to_contain_text("returning customer")
    page.get_by_label("Private note").uncheck()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach file").click()
    chooser.value.set_files(str(chart))
    page.get_by_label("Reply").fill(
        "Of course! Here is our size chart. Which size would you like instead?"
    )
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log").get_by_role("img", name="size-chart.png")).to_be_visible()
    customer.says("Medium, please. Thank you!")
    expect(page.get_by_role("log")).to_contain_text("Medium, please.")
    Visitor(frontdesk, "Ken Thompson", "My discount code says expired.").says("Code: SPRING25")
    expect(page.locator("#conversation-list a").first).to_contain_text("Unread")
    page.get_by_label("Reply").fill("A medium is on its way")
    screenshot(page, "inbox-conversation.png")

    page.get_by_role("link", name="Conversations", exact=True).click()
    expect(page.get_by_text("No conversation selected")).to_be_visible()
    screenshot(page, "inbox-list.png")
