"""The open widget on a phone: the whole screen, at device scale, whatever the host page says.

A page without <meta name="viewport"> is laid out 980 px wide on a phone and shown at about
40 %: without help the widget would be unreadable, its buttons too small to hit, and every
field would zoom the page on focus. These tests open the widget in Chromium's mobile
emulation on such pages (and on pages with a zoomed, transformed or clipped body) and check
what a visitor sees, and that the host page is left exactly as it was once the chat closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect

from tests.support.browser import LiveFrontdesk, static_site
from tests.widget.conftest import AUTO_REPLY, GREETING, AgentAPI, host_page

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 667}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Long enough to scroll, so the tests can tell that the page's scroll position comes back.
TALL = "h1 { margin-bottom: 3000px; }"
BODY_STYLE = "background: #fdf6e3; margin: 8px"
# What each page of the host site is like: (viewport content or None, extra CSS, body style).
VARIANTS: dict[str, tuple[str | None, str, str | None]] = {
    "device-width": ("width=device-width, initial-scale=1", TALL, BODY_STYLE),
    "no-viewport": (None, TALL, None),
    "fixed-width-viewport": ("width=1024", TALL, BODY_STYLE),
    "body-zoom": (None, TALL + "body { zoom: 1.5; }", BODY_STYLE),
    "body-transform": (None, TALL + "body { transform: scale(0.9); }", BODY_STYLE),
    "body-overflow-hidden": (None, TALL + "html, body { overflow: hidden; }", BODY_STYLE),
    "html-zoom": (None, TALL + "html { zoom: 1.5; }", BODY_STYLE),
    "html-transform": (None, TALL + "html { transform: scale(0.9); }", None),
}
# What a close must give back exactly: the head (viewport tag included), the inline styles of
# <html> and <body>, the layout width the page had, and where it was scrolled to.
HOST_STATE = """() => ({
    head: document.head.innerHTML,
    html: document.documentElement.getAttribute('style'),
    body: document.body.getAttribute('style'),
    width: window.innerWidth,
    scroll: [window.scrollX, window.scrollY],
})"""


@pytest.fixture(scope="module")
def phone_site(frontdesk: LiveFrontdesk) -> Iterator[str]:
    pages = {
        f"/{name}": host_page(frontdesk, "Clay & Co", viewport, css, body_style)
        for name, (viewport, css, body_style) in VARIANTS.items()
    }
    with static_site(pages) as url:
        yield url


def new_page(
    browser: Browser, viewport: ViewportSize, phone: bool
) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh visitor (empty localStorage) on a phone or a desktop; and what the page threw."""
    emulation: dict[str, Any] = {"is_mobile": True, "has_touch": True, "device_scale_factor": 3}
    context = browser.new_context(viewport=viewport, **(emulation if phone else {}))
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context, page, errors = new_page(browser, PHONE, phone=True)
    yield page
    context.close()
    assert errors == [], f"the widget threw: {errors}"


def host_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(HOST_STATE)
    return state


def box_of(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} has no box"
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


def assert_on_screen(locator: Locator, top: float = 0, bottom: float = PHONE["height"]) -> None:
    """Wholly inside the phone's screen, and big enough for a thumb."""
    box = box_of(locator)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    assert box["y"] >= top - 0.5 and box["y"] + box["height"] <= bottom + 0.5, box
    assert box["height"] >= 40, f"too small to tap: {box}"


def font_px(locator: Locator) -> float:
    return float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def open_widget(page: Page, url: str) -> dict[str, Any]:
    """Go to `url`, scroll a little, open the chat; returns the host's state before opening."""
    page.goto(url)
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    page.evaluate("window.scrollTo(0, 400)")
    # A transformed <html> holds even a fixed launcher: it sits at the page's end, where a
    # visitor scrolls to tap it. Any other page stays where it was.
    launcher.scroll_into_view_if_needed()
    before = host_state(page)
    assert before["scroll"][1] >= 400, before
    launcher.tap()
    expect(page.get_by_role("dialog", name="Acme Shop").get_by_text(GREETING)).to_be_visible()
    return before


def assert_fills_the_screen(page: Page) -> None:
    viewport = page.evaluate("() => [innerWidth, visualViewport.width, visualViewport.scale]")
    assert viewport == [PHONE["width"], PHONE["width"], 1], (
        f"the page is not at device scale while the chat is open: {viewport}"
    )
    panel = box_of(page.get_by_role("dialog", name="Acme Shop"))
    expected = {"x": 0, "y": 0, "width": PHONE["width"], "height": PHONE["height"]}
    assert all(abs(panel[k] - v) <= 1 for k, v in expected.items()), panel


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_open_widget_fills_a_phone_and_the_page_gets_it_back(
    phone: Page, phone_site: str, agent: AgentAPI, email: str, variant: str
) -> None:
    page = phone
    before = open_widget(page, f"{phone_site}/{variant}")
    assert_fills_the_screen(page)

    fields = [page.get_by_label(name) for name in ("Name", "Email", "Message")]
    for control in fields:
        assert font_px(control) >= 16, "a smaller font makes a phone zoom in on focus"
        assert_on_screen(control)
    start = page.get_by_role("button", name="Start chat")
    assert_on_screen(start)
    assert font_px(start) >= 16

    for control, text in zip(fields, ("Pat Phone", email, "Do you ship to Norway?"), strict=True):
        control.tap()
        control.fill(text)
    start.tap()
    log = page.get_by_role("log")
    expect(log.get_by_text("Do you ship to Norway?")).to_be_visible()
    expect(log.get_by_text(AUTO_REPLY)).to_be_visible()
    conversation = agent.conversation(email)
    agent.reply(conversation["id"], "We do! Shipping takes 3 to 5 days.")
    expect(log.get_by_text("We do! Shipping takes 3 to 5 days.")).to_be_visible()

    assert_fills_the_screen(page)
    message = page.get_by_label("Message")
    assert font_px(message) >= 16
    assert_on_screen(message)
    send = page.get_by_role("button", name="Send")
    assert_on_screen(send)
    assert box_of(send)["y"] > PHONE["height"] / 2, "Send sits at the bottom, within thumb reach"
    assert_on_screen(page.get_by_role("button", name="Close chat"))
    message.tap()
    message.fill("Great, thank you")
    send.tap()
    # to_have_count waits out the moment the event stream may deliver the message before the
    # POST's answer does: the widget shows both copies until that answer arrives.
    expect(log.get_by_text("Great, thank you")).to_have_count(1)
    expect(log.locator(".pending")).to_have_count(0)

    page.get_by_role("button", name="Close chat").tap()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Open chat")).to_be_visible()
    assert host_state(page) == before, "the page is not back as it was"


def test_the_composer_follows_the_visual_viewport_above_the_keyboard(
    phone: Page, phone_site: str, email: str, artifacts: Path
) -> None:
    """An on-screen keyboard shrinks the visual viewport (and may pan it); Chromium can't
    show one headless, so the visual viewport reports a keyboard's worth less height."""
    page = phone
    open_widget(page, f"{phone_site}/no-viewport")
    page.get_by_label("Name").fill("Kim Keys")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Message").fill("Typing with a keyboard up")
    page.get_by_role("button", name="Start chat").tap()
    expect(page.get_by_role("log").get_by_text(AUTO_REPLY)).to_be_visible()

    for top in (0, 120):
        keyboard_up(page, height=367, offset_top=top)
        panel = box_of(page.get_by_role("dialog", name="Acme Shop"))
        assert panel == {"x": 0, "y": top, "width": 375, "height": 367}, panel
        for control in (page.get_by_label("Message"), page.get_by_role("button", name="Send")):
            assert_on_screen(control, top=top, bottom=top + 367)
        if top == 0:
            page.evaluate(
                """() => document.documentElement.append(Object.assign(
                    document.createElement('aside'), {id: 'kbd', textContent: 'keyboard',
                    style: 'position:fixed;left:0;right:0;bottom:0;height:300px;z-index:2147483647;'
                         + 'background:#d1d5db;font:20px sans-serif;text-align:center'}))"""
            )
            page.screenshot(path=artifacts / "widget-phone-keyboard.png")
            page.evaluate("document.getElementById('kbd').remove()")

    # A real resize of the viewport (a keyboard that resizes the page) is followed too.
    keyboard_down(page)
    page.set_viewport_size({"width": 375, "height": 400})
    expect(page.get_by_role("dialog", name="Acme Shop")).to_have_js_property("offsetHeight", 400)
    assert_on_screen(page.get_by_role("button", name="Send"), bottom=400)


def keyboard_up(page: Page, height: float, offset_top: float) -> None:
    page.evaluate(
        """([height, offsetTop]) => {
            const proto = VisualViewport.prototype;
            if (!proto.__real) {
                proto.__real = {};
                for (const k of ['height', 'offsetTop']) {
                    proto.__real[k] = Object.getOwnPropertyDescriptor(proto, k);
                    Object.defineProperty(proto, k, { configurable: true,
                        get() { return k in (this.__fake || {}) ? this.__fake[k]
                                       : proto.__real[k].get.call(this); } });
                }
            }
            visualViewport.__fake = { height, offsetTop };
            visualViewport.dispatchEvent(new Event('resize'));
            visualViewport.dispatchEvent(new Event('scroll'));
        }""",
        [height, offset_top],
    )


def keyboard_down(page: Page) -> None:
    page.evaluate(
        """() => {
            const proto = VisualViewport.prototype;
            for (const k of Object.keys(proto.__real || {})) {
                Object.defineProperty(proto, k, proto.__real[k]);
            }
            delete proto.__real;
            visualViewport.dispatchEvent(new Event('resize'));
        }"""
    )


@pytest.mark.parametrize(
    ("viewport", "name"),
    [
        ({"width": 320, "height": 568}, "320x568"),
        ({"width": 375, "height": 667}, "375x667"),
        ({"width": 414, "height": 896}, "414x896"),
    ],
)
def test_screenshots_of_the_open_widget_on_phones_without_a_viewport_tag(
    browser: Browser, phone_site: str, artifacts: Path, viewport: ViewportSize, name: str
) -> None:
    context, page, _ = new_page(browser, viewport, phone=True)
    try:
        page.goto(f"{phone_site}/no-viewport")
        launcher = page.get_by_role("button", name="Open chat")
        expect(launcher).to_be_visible()
        page.screenshot(path=artifacts / f"widget-phone-{name}-closed.png")
        # The page is shown zoomed out; the launcher keeps its size on the screen, bottom-right.
        scale = page.evaluate("visualViewport.scale")
        assert scale < 0.5, "without a viewport tag the page is shown zoomed out"
        box = {k: v * scale for k, v in box_of(launcher).items()}
        assert abs(box["width"] - 56) <= 1 and abs(box["height"] - 56) <= 1, box
        assert viewport["width"] - 30 <= box["x"] + box["width"] <= viewport["width"], box
        assert viewport["height"] - 30 <= box["y"] + box["height"] <= viewport["height"], box
        launcher.tap()
        panel = page.get_by_role("dialog", name="Acme Shop")
        expect(panel.get_by_text(GREETING)).to_be_visible()
        assert page.evaluate("innerWidth") == viewport["width"]
        assert box_of(panel) == {"x": 0, "y": 0, **viewport}
        page.get_by_label("Name").fill("Pat Phone")
        page.screenshot(path=artifacts / f"widget-phone-{name}-open.png")
    finally:
        context.close()


def test_on_a_desktop_the_host_page_is_left_alone(
    browser: Browser, phone_site: str, artifacts: Path
) -> None:
    context, page, _ = new_page(browser, DESKTOP, phone=False)
    try:
        for variant in ("no-viewport", "device-width"):
            page.goto(f"{phone_site}/{variant}")
            page.evaluate("window.scrollTo(0, 400)")
            before = host_state(page)
            page.get_by_role("button", name="Open chat").click()
            panel = page.get_by_role("dialog", name="Acme Shop")
            expect(panel.get_by_text(GREETING)).to_be_visible()
            assert host_state(page) == before, "opening the chat changed the page"
            box = box_of(panel)
            assert box["width"] == 380 and box["x"] + box["width"] == DESKTOP["width"] - 20, box
            if variant == "no-viewport":
                page.screenshot(path=artifacts / "widget-desktop-1280x800-open.png")
            page.get_by_role("button", name="Close chat").click()
            assert host_state(page) == before
    finally:
        context.close()


def test_in_a_narrow_desktop_window_the_panel_fills_it_and_the_page_is_left_alone(
    browser: Browser, phone_site: str
) -> None:
    context, page, _ = new_page(browser, {"width": 400, "height": 700}, phone=False)
    try:
        page.goto(f"{phone_site}/device-width")
        before = host_state(page)
        page.get_by_role("button", name="Open chat").click()
        panel = page.get_by_role("dialog", name="Acme Shop")
        expect(panel.get_by_text(GREETING)).to_be_visible()
        assert box_of(panel) == {"x": 0, "y": 0, "width": 400, "height": 700}
        assert host_state(page) == before, "a desktop window is not a phone: the page scrolls on"
        page.set_viewport_size({"width": 900, "height": 700})  # widened: the usual panel again
        expect(panel).to_have_js_property("offsetWidth", 380)
    finally:
        context.close()
