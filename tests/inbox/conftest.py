"""Inbox browser tests: one live Frontdesk and one Chromium per module, a fresh context per test.

Agents sign in through the real form once per module; later tests reuse that session
cookie, because sign-in is throttled per address and email just as it is for people.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    StorageState,
    ViewportSize,
    expect,
)

from tests.support.browser import LiveFrontdesk, live_frontdesk

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Polling runs every 5 s when the event stream is missing; leave room for one full cycle.
expect.set_options(timeout=12_000)


@contextmanager
def inbox_frontdesk(data_dir: Path, **settings: Any) -> Iterator[LiveFrontdesk]:
    """A live Frontdesk (`settings` as in Settings) ready for inbox tests."""
    with live_frontdesk(data_dir, **settings) as server:
        # Tests start many chats from one address; the default 5 a minute is for visitors.
        response = httpx.patch(
            f"{server.base_url}/api/v1/agent/settings",
            json={"rate_limits": {"create_conversation": 1000, "send_message": 1000}},
            headers=server.admin,
        )
        assert response.status_code == 200, response.text
        yield server


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFrontdesk]:
    """The module's server; a module needing other settings overrides this fixture."""
    with inbox_frontdesk(tmp_path_factory.mktemp("data")) as server:
        yield server


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/inbox")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
def admin_state(browser: Browser, frontdesk: LiveFrontdesk) -> StorageState:
    context = browser.new_context()
    sign_in(context.new_page(), frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
    # The cookie only: each test's browser starts without the inbox's stored unread marks,
    # like an agent's first visit, so what counts as new depends on that test alone.
    state: StorageState = {"cookies": context.storage_state()["cookies"], "origins": []}
    context.close()
    return state


@pytest.fixture
def context(browser: Browser, admin_state: StorageState) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT, storage_state=admin_state)
    context.set_default_timeout(12_000)  # fail in seconds, not Playwright's default 30
    yield context
    context.close()


def watch_errors(page: Page) -> list[str]:
    """Uncaught script errors and CSP violations on `page`, collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A CSP violation is only a console message, but it means something silently broke.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return errors


def inbox_page(context: BrowserContext, frontdesk: LiveFrontdesk) -> Iterator[Page]:
    """The admin's inbox, loaded in `context`; an uncaught script error or CSP violation
    fails the test (for `page` fixtures: yields once)."""
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{frontdesk.base_url}/inbox")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    yield page
    assert errors == []


@pytest.fixture
def page(context: BrowserContext, frontdesk: LiveFrontdesk) -> Iterator[Page]:
    """The admin's inbox at desktop size."""
    yield from inbox_page(context, frontdesk)


class Visitor:
    """A visitor using the public widget API, as the widget would."""

    def __init__(self, server: LiveFrontdesk, name: str, message: str, email: str | None = None):
        self.server = server
        self.name = name
        local = re.sub(r"[^a-z]", "", name.split()[0].lower()) or "visitor"
        self.email = email or f"{local}-{uuid.uuid4().hex[:8]}@example.com"
        self.token = "v-" + uuid.uuid4().hex
        response = httpx.post(
            f"{server.base_url}/api/v1/chat/conversations",
            json={
                "name": name,
                "email": self.email,
                "message": message,
                "visitor_token": self.token,
            },
            headers=self.headers,
        )
        assert response.status_code == 201, response.text

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.server.site_key}

    def says(self, text: str) -> None:
        response = httpx.post(
            f"{self.server.base_url}/api/v1/chat/conversations/{self.token}/messages",
            json={"message": text},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text

    def messages(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.server.base_url}/api/v1/chat/conversations/{self.token}/messages",
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()
        return messages

    def conversation(self) -> dict[str, Any]:
        """The agent API's view of this visitor's conversation."""
        response = httpx.get(
            f"{self.server.base_url}/api/v1/agent/conversations",
            params={"status": "all", "q": self.email},
            headers=self.server.admin,
        )
        assert response.status_code == 200, response.text
        rows = [
            row for row in response.json()["conversations"] if row["visitor_token"] == self.token
        ]
        assert len(rows) == 1
        conversation: dict[str, Any] = rows[0]
        return conversation


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


# Every element's box, for the phone layouts: nothing may stick out past the screen.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width < 2 || box.height < 2 || box.right <= 0) continue;
    if (box.right > width + 0.5 || box.left < -0.5) {
      const name = element.id ? "#" + element.id : element.className || element.tagName;
      const span = `${Math.round(box.left)}..${Math.round(box.right)}`;
      out.push(`${element.tagName.toLowerCase()} ${name} ${span}`);
    }
  }
  return out;
}"""


def assert_fits(page: Page) -> None:
    """Nothing scrolls sideways and nothing sticks out of the screen."""
    width = page.evaluate("document.documentElement.clientWidth")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    outside = page.evaluate(OVERFLOWING)
    assert scroll_width <= width and outside == [], (
        f"the page is {scroll_width} px wide on a {width} px screen; sticking out: {outside}"
    )
