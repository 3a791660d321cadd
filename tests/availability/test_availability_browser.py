"""In Chromium: a closed account's widget says so and when it is back, and still takes the
message, which reaches the inbox; the inbox's availability switch and hours editor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.inbox.conftest import ARTIFACTS, assert_fits, screenshot, sign_in
from tests.support.browser import LiveFrontdesk, live_frontdesk, static_site
from tests.widget.conftest import host_page

pytestmark = pytest.mark.browser

ZONE = "America/New_York"
AWAY = "We're out for the holidays. Leave a message and we'll email you."


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFrontdesk]:
    data_dir = tmp_path_factory.mktemp("availability") / "data"
    data_dir.mkdir()
    with live_frontdesk(data_dir) as server:
        yield server


@pytest.fixture(scope="module")
def reopens(frontdesk: LiveFrontdesk) -> datetime:
    """Closed (holidays from yesterday to tomorrow in New York); when it opens again."""
    today = datetime.now(ZoneInfo(ZONE)).date()
    holidays = [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    response = httpx.patch(
        f"{frontdesk.base_url}/api/v1/agent/settings",
        json={
            "timezone": ZONE,
            "holidays": holidays,
            "away_message": AWAY,
            "rate_limits": {"create_conversation": 1000},
        },
        headers=frontdesk.admin,
    )
    assert response.status_code == 200, response.text
    return datetime.combine(today + timedelta(days=2), datetime.min.time(), ZoneInfo(ZONE))


@pytest.fixture(scope="module")
def host_site(frontdesk: LiveFrontdesk) -> Iterator[str]:
    with static_site({"/": host_page(frontdesk, "Clay & Co")}) as url:
        yield url


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 375, "height": 667}, "phone")],
)
def test_closed_widget_shows_the_away_message_and_still_takes_the_message(
    browser: Browser,
    frontdesk: LiveFrontdesk,
    host_site: str,
    reopens: datetime,
    viewport,
    name: str,
) -> None:
    # A visitor in Tokyo who reads British English: the time is theirs, in their format.
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Asia/Tokyo")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(host_site + "/")
        page.get_by_role("button", name="Open chat").click()
        notice = page.get_by_role("status").filter(has_text=AWAY)
        expect(notice).to_be_visible()
        local = reopens.astimezone(ZoneInfo("Asia/Tokyo"))
        expect(notice).to_contain_text(f"We're back {local.strftime('%A')} {local.day} ")
        expect(notice).to_contain_text(f"{local.hour:02d}:{local.minute:02d}")
        email = f"visitor-{name}@example.com"
        page.get_by_label("Name").fill("Jane Doe")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Message").fill(f"Are you there? ({name})")
        screenshot(page, f"availability-widget-closed-{name}.png")
        page.get_by_role("button", name="Start chat").click()
        log = page.get_by_role("log")
        expect(log.get_by_text(f"Are you there? ({name})")).to_be_visible()
        expect(log.get_by_text(AWAY)).to_be_visible()
        expect(notice).to_be_visible()
        screenshot(page, f"availability-widget-chat-{name}.png")
    finally:
        context.close()
    assert errors == []

    # The message is in the inbox.
    inbox = browser.new_context(viewport=viewport)
    inbox.set_default_timeout(10_000)
    try:
        agent_page = inbox.new_page()
        sign_in(agent_page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
        entry = agent_page.locator("#conversation-list").get_by_text("Jane Doe").first
        expect(entry).to_be_visible()
        entry.click()
        expect(
            agent_page.get_by_role("log").get_by_text(f"Are you there? ({name})")
        ).to_be_visible()
    finally:
        inbox.close()


def test_inbox_availability_switch(browser: Browser, frontdesk: LiveFrontdesk) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    me = f"{frontdesk.base_url}/api/v1/agent/me"
    config = f"{frontdesk.base_url}/api/v1/chat/config"
    widget = {"X-Api-Key": frontdesk.site_key}
    try:
        sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
        switch = page.get_by_label("Availability")
        expect(switch).to_have_value("online")
        # The inbox's own event stream makes the agent present.
        expect(page.locator("#live-status")).to_contain_text("Live")
        assert httpx.get(config, headers=widget).json()["agents_online"] is True
        switch.select_option("away")
        expect(page.get_by_role("status").filter(has_text="You are away.")).to_be_attached()
        assert httpx.get(me, headers=frontdesk.admin).json()["availability"] == "away"
        assert httpx.get(config, headers=widget).json()["agents_online"] is False
        screenshot(page, "availability-inbox-away.png")
        page.reload()
        expect(page.get_by_label("Availability")).to_have_value("away")
        page.get_by_label("Availability").select_option("online")
        expect(page.get_by_role("status").filter(has_text="You are online.")).to_be_attached()
        assert httpx.get(me, headers=frontdesk.admin).json()["availability"] == "online"
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (375, 667)])
def test_hours_editor(
    browser: Browser, frontdesk: LiveFrontdesk, reopens: datetime, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    settings = f"{frontdesk.base_url}/api/v1/agent/settings"
    before = httpx.get(settings, headers=frontdesk.admin).json()
    try:
        sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
        page.goto(f"{frontdesk.base_url}/inbox#/settings")
        form = page.get_by_role("form", name="Availability")
        expect(form.get_by_label("Time zone")).to_have_value(ZONE)
        # Monday: two periods, the second to midnight; Tuesday one, then removed again.
        form.get_by_role("button", name="Add Monday hours").click()
        form.get_by_role("button", name="Add Monday hours").click()
        form.get_by_label("Monday opens").nth(1).fill("18:00")
        form.get_by_label("Monday closes").nth(1).fill("00:00")
        form.get_by_role("button", name="Add Tuesday hours").click()
        form.get_by_role("button", name="Remove Tuesday period 1").click()
        form.get_by_role("button", name="Add holiday").click()
        form.get_by_label("Holiday", exact=True).last.fill("2030-12-25")
        form.get_by_label("Auto-assign").select_option("round_robin")
        screenshot(page, f"availability-settings-{width}.png")
        form.screenshot(path=str(ARTIFACTS / f"availability-form-{width}.png"))
        form.get_by_role("button", name="Save availability").click()
        expect(form.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
        stored = httpx.get(settings, headers=frontdesk.admin).json()
        assert stored["business_hours"] == [
            {"day": "mon", "open": "09:00", "close": "17:00"},
            {"day": "mon", "open": "18:00", "close": "24:00"},
        ]
        assert "2030-12-25" in stored["holidays"]
        assert stored["auto_assign"] == "round_robin"
        if width < 400:
            assert_fits(page)
        # The server's sentence for a bad zone, shown as it comes.
        form.get_by_label("Time zone").fill("Mars/Olympus")
        form.get_by_role("button", name="Save availability").click()
        expect(form.get_by_text("Unknown time zone")).to_be_visible()
    finally:
        context.close()
        restore = {k: before[k] for k in ("business_hours", "holidays", "auto_assign", "timezone")}
        assert httpx.patch(settings, json=restore, headers=frontdesk.admin).status_code == 200


@contextmanager
def widget_open_on_a_clock(
    browser: Browser, frontdesk: LiveFrontdesk, host_site: str, at: datetime | None = None
) -> Iterator[tuple[Page, Callable[[str], None]]]:
    """The closed account's widget open, on Playwright's clock (from `at`, or now); and a
    way to change the away message, put back afterwards."""
    settings = f"{frontdesk.base_url}/api/v1/agent/settings"

    def change_away_message(text: str) -> None:
        changed = httpx.patch(settings, json={"away_message": text}, headers=frontdesk.admin)
        assert changed.status_code == 200, changed.text

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    if at is None:
        page.clock.install()
    else:
        page.clock.install(time=at)
    try:
        page.goto(host_site + "/")
        page.get_by_role("button", name="Open chat").click()
        expect(page.get_by_role("status").filter(has_text=AWAY)).to_be_visible()
        yield page, change_away_message
    finally:
        context.close()
        change_away_message(AWAY)


def test_an_open_widget_asks_again_while_it_stays_open(
    browser: Browser, frontdesk: LiveFrontdesk, host_site: str, reopens: datetime
) -> None:
    """Left open across a change (here the away message; in life, closing time or the last
    agent leaving), the widget shows it within five minutes, without being closed and
    opened again. The page's clock is Playwright's, so five minutes pass at once."""
    with widget_open_on_a_clock(browser, frontdesk, host_site) as (page, change_away_message):
        later = "Back on Monday. Leave a message."
        change_away_message(later)
        page.clock.run_for(60_000)  # a minute: not yet asked again
        expect(page.get_by_role("status").filter(has_text=AWAY)).to_be_visible()
        page.clock.run_for(5 * 60_000)
        expect(page.get_by_role("status").filter(has_text=later)).to_be_visible()


def test_a_closed_widget_asks_again_just_after_the_announced_opening(
    browser: Browser, frontdesk: LiveFrontdesk, host_site: str, reopens: datetime
) -> None:
    """The page's clock set two minutes before `next_open_at`: the widget asks again just
    after it, well before its five-minute round."""
    at = reopens - timedelta(minutes=2)
    with widget_open_on_a_clock(browser, frontdesk, host_site, at) as (page, change_away_message):
        later = "Open again: say hello."
        change_away_message(later)
        page.clock.run_for(125_000)
        expect(page.get_by_role("status").filter(has_text=later)).to_be_visible()
