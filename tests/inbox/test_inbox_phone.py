"""The inbox on a phone: one pane at a time, nothing wider than the screen, every control
within reach of a thumb. Agents answer from their phones as well as from their desks."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    StorageState,
    ViewportSize,
    expect,
)

from tests.inbox.conftest import Visitor, assert_fits, inbox_page, screenshot, sign_in, watch_errors
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 667}


# Every element whose box reaches past the right edge of the screen (or starts left of it
# while still showing some of itself): what makes a page scroll sideways or cut text off.
# An element entirely off to the left is hidden on purpose (the skip link until focused).
def phone_context(
    browser: Browser, viewport: ViewportSize, state: StorageState | None = None
) -> BrowserContext:
    context = browser.new_context(
        viewport=viewport, is_mobile=True, has_touch=True, storage_state=state
    )
    context.set_default_timeout(12_000)
    return context


@pytest.fixture
def phone(browser: Browser, admin_state: StorageState) -> Iterator[BrowserContext]:
    context = phone_context(browser, PHONE, admin_state)
    yield context
    context.close()


@pytest.fixture
def page(phone: BrowserContext, frontdesk: LiveFrontdesk) -> Iterator[Page]:
    """The admin's inbox on a 375 x 667 phone."""
    yield from inbox_page(phone, frontdesk)


def assert_on_screen(page: Page, locator: Locator) -> None:
    """Wholly inside the screen (so a thumb can reach it), not merely somewhere on the page.

    Within a few seconds, as `expect` waits: after the screen changes size the page learns
    of it from a visualViewport resize event a frame later, and only then fits itself.
    """
    expect(locator).to_be_visible()
    screen = page.viewport_size
    assert screen is not None
    deadline = time.monotonic() + 5
    while True:
        box = locator.bounding_box()
        assert box is not None
        inside = (
            box["x"] >= 0
            and box["x"] + box["width"] <= screen["width"]
            and box["y"] >= 0
            and box["y"] + box["height"] <= screen["height"]
        )
        if inside or time.monotonic() > deadline:
            break
        page.wait_for_timeout(50)
    assert inside, (box, screen)


def font_size(field: Locator) -> float:
    size: float = field.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    return size


def conversation_link(page: Page, name: str) -> Locator:
    return page.get_by_role("list", name="Conversations").get_by_role(
        "link", name=re.compile(re.escape(name))
    )


def open_on_phone(page: Page, name: str) -> Locator:
    """Tap a conversation in the list; returns its region, which then fills the screen."""
    conversation_link(page, name).first.tap()
    region = page.get_by_role("region", name="Conversation")
    expect(region.get_by_role("heading", name=name)).to_be_visible()
    return region


def test_signing_in_on_a_phone(browser: Browser, frontdesk: LiveFrontdesk) -> None:
    context = phone_context(browser, PHONE)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{frontdesk.base_url}/inbox")
    for control in (
        page.get_by_label("Email"),
        page.get_by_label("Password"),
        page.get_by_role("button", name="Sign in"),
    ):
        assert_on_screen(page, control)
    # Below 16 px, iOS zooms into a field when it gets focus and leaves the page zoomed.
    for field in ("Email", "Password"):
        assert font_size(page.get_by_label(field)) >= 16, field
    assert_fits(page)

    page.get_by_label("Email").tap()
    sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
    assert_on_screen(page, page.get_by_role("button", name="Sign out"))
    assert_fits(page)
    assert errors == []
    context.close()


def test_a_phone_shows_the_list_then_the_conversation_then_the_list_again(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    visitor = Visitor(frontdesk, "Hedy Lamarr", "Is the frequency-hopping kit back in stock?")
    for n in range(8):  # enough to fill the screen: the reply box must stay within reach
        visitor.says(f"Also, question number {n + 2} about my order, which is rather long.")
    page.reload()

    # The list fills the screen, and the header's controls are on it.
    expect(conversation_link(page, "Hedy Lamarr")).to_be_visible()
    assert_on_screen(page, page.get_by_role("link", name="Settings"))
    assert_on_screen(page, page.get_by_role("button", name="Sign out"))
    expect(page.get_by_role("button", name="Back to conversations")).to_have_count(0)
    assert_fits(page)

    region = open_on_phone(page, "Hedy Lamarr")
    # One pane at a time: the list makes room for the conversation.
    expect(page.get_by_role("list", name="Conversations")).to_be_hidden()
    log = page.get_by_role("log")
    expect(log).to_contain_text("question number 9")
    reply = page.get_by_label("Reply")
    send = page.get_by_role("button", name="Send")
    for control in (
        page.get_by_role("button", name="Back to conversations"),
        reply,
        send,
        page.get_by_role("button", name="Attach file"),
        page.get_by_role("button", name="Close conversation"),
    ):
        assert_on_screen(page, control)
    assert font_size(reply) >= 16
    assert_fits(page)

    reply.tap()
    # The on-screen keyboard takes the bottom of the screen: the reply box moves up with it.
    page.set_viewport_size({"width": 375, "height": 400})
    assert_on_screen(page, reply)
    assert_on_screen(page, send)
    reply.fill("Yes, it is back.")
    # A phone keyboard has no Shift+Enter: there Enter starts a new line, and Send sends.
    reply.press("Enter")
    reply.press_sequentially("Shall I reserve one for you?")
    send.tap()
    expect(log).to_contain_text("Shall I reserve one for you?")
    expect(reply).to_have_value("")
    assert_on_screen(page, send)
    last = visitor.messages()[-1]
    assert last["body"] == "Yes, it is back.\nShall I reserve one for you?"
    assert last["direction"] == "outbound"
    page.set_viewport_size(PHONE)

    page.get_by_role("button", name="Back to conversations").tap()
    expect(conversation_link(page, "Hedy Lamarr")).to_be_visible()
    # Focus comes back to where the agent left the list, not to the top of the page.
    expect(conversation_link(page, "Hedy Lamarr")).to_be_focused()
    expect(region.get_by_role("heading", name="Hedy Lamarr")).to_have_count(0)
    assert "#/c/" not in page.url  # back in history, where the list was
    assert_fits(page)


def test_a_phone_shows_settings_without_sideways_scrolling(page: Page) -> None:
    settings = page.get_by_role("link", name="Settings")
    assert_on_screen(page, settings)
    settings.tap()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_label("Greeting")).to_be_visible()
    assert font_size(page.get_by_label("Greeting")) >= 16
    assert_fits(page)
    assert_on_screen(page, page.get_by_role("button", name="Sign out"))
    # The end of the page too: the team and the form to add an agent.
    add = page.get_by_role("button", name="Add agent")
    add.scroll_into_view_if_needed()
    assert_on_screen(page, add)
    assert_fits(page)

    page.get_by_role("link", name="Conversations", exact=True).tap()
    expect(page.get_by_role("list", name="Conversations")).to_be_visible()


# (width, height, phone?): a small and a big phone, the phone the tests use, a desktop.
SIZES = [(320, 568, True), (375, 667, True), (414, 896, True), (1280, 800, False)]


@pytest.mark.parametrize(
    ("width", "height", "mobile"), SIZES, ids=[f"{w}x{h}" for w, h, _ in SIZES]
)
def test_screenshots_at_phone_and_desktop_sizes(
    browser: Browser,
    admin_state: StorageState,
    frontdesk: LiveFrontdesk,
    width: int,
    height: int,
    mobile: bool,
) -> None:
    """PNGs in test-artifacts/ to look at: list, conversation and settings at each size."""
    label = f"{width}x{height}"
    customer = Visitor(frontdesk, f"Margaret Hamilton {label}", "My parcel says delivered.")
    customer.says("But it isn't here. Could a neighbour have it? Tracking: FD-2231-9904-XZ")
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        storage_state=admin_state,
    )
    context.set_default_timeout(12_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{frontdesk.base_url}/inbox")
    expect(conversation_link(page, customer.name)).to_be_visible()
    screenshot(page, f"inbox-{label}-list.png")
    assert_fits(page)

    conversation_link(page, customer.name).first.click()
    expect(page.get_by_role("log")).to_contain_text("Tracking: FD-2231")
    page.get_by_label("Reply").fill("Let me check with the courier")
    screenshot(page, f"inbox-{label}-conversation.png")
    assert_fits(page)

    # A phone gives an open conversation the whole screen: back to the list for the pages.
    back = page.get_by_role("button", name="Back to conversations")
    if back.is_visible():
        expect(page.get_by_role("link", name="Settings")).to_be_hidden()
        back.click()
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Greeting")).to_be_visible()
    screenshot(page, f"inbox-{label}-settings.png")
    assert_fits(page)
    parts = {"limits": "Save settings", "embed": "Rotate site key", "team": "Add agent"}
    for part, button in parts.items():
        page.get_by_role("button", name=button).scroll_into_view_if_needed()
        screenshot(page, f"inbox-{label}-settings-{part}.png")
        assert_fits(page)
    assert errors == []
    context.close()
