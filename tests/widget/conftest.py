"""Widget tests: a live Frontdesk, a host site on another origin, one Chromium per module."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, ViewportSize, expect

from tests.support.browser import LiveFrontdesk, live_frontdesk, static_site

T = TypeVar("T")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AUTO_REPLY = "Thanks for reaching out! We'll get back to you soon."
GREETING = "Hi there! How can we help?"

# CSS a careless (or hostile) site might ship. None of it may change the widget.
HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; line-height: 3 !important;
    font-family: "Comic Sans MS", cursive !important; box-sizing: content-box !important; }
button { display: none !important; }
div, section, form, label, input, textarea, p, span, header, h2 { all: unset !important; }
svg { width: 400px !important; height: 400px !important; }
[role] { visibility: hidden !important; }
body > :last-child { display: none !important; opacity: 0 !important;
                     transform: scale(0.2) !important; }
"""


DEVICE_WIDTH = "width=device-width, initial-scale=1"


def host_page(
    frontdesk: LiveFrontdesk,
    title: str,
    viewport: str | None = DEVICE_WIDTH,
    css: str = "",
    body_style: str | None = None,
) -> str:
    """A page of the customer's site. `viewport=None` leaves out <meta name=viewport>, as
    many small sites do (a phone then lays the page out 980 px wide and zooms out)."""
    snippet = (
        f'<script src="{frontdesk.base_url}/widget.js" '
        f'data-site-key="{frontdesk.site_key}" async></script>'
    )
    meta = f"<meta name='viewport' content='{viewport}'>" if viewport is not None else ""
    body = f"<body style='{body_style}'>" if body_style is not None else "<body>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>{meta}"
        f"<title>{title}</title><style>{HOSTILE_CSS}{css}</style></head>"
        f"{body}<h1>{title}</h1><p>Hand-made ceramics, shipped worldwide.</p>{snippet}"
        "</body></html>"
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("widget") / "data"
    path.mkdir()  # live_frontdesk migrates before anything creates the directory
    return path


@pytest.fixture(scope="module")
def frontdesk(data_dir: Path) -> Iterator[LiveFrontdesk]:
    with live_frontdesk(data_dir) as server:
        # Every test here starts conversations from 127.0.0.1; the default 5 a minute
        # would make the tests depend on each other's timing.
        limits = {"create_conversation": 1000, "get_messages": 1000, "send_message": 1000}
        response = httpx.patch(
            f"{server.base_url}/api/v1/agent/settings",
            json={"rate_limits": limits},
            headers=server.admin,
        )
        assert response.status_code == 200, response.text
        yield server


@pytest.fixture(scope="module")
def host_site(frontdesk: LiveFrontdesk) -> Iterator[str]:
    pages = {"/": host_page(frontdesk, "Clay & Co"), "/other": host_page(frontdesk, "About us")}
    with static_site(pages) as url:
        yield url


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def email() -> str:
    """A fresh visitor address: each test finds its own conversation by it."""
    return f"visitor-{uuid.uuid4().hex[:10]}@example.com"


def eventually(check: Callable[[], T | None], page: Any = None, timeout: float = 10.0) -> T:
    """The first truthy result of `check`, retried until `timeout` (a server-side wait).

    With a page, waits through it, so Playwright keeps serving routes and events meanwhile.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        if page is None:
            time.sleep(0.1)
        else:
            page.wait_for_timeout(100)


class AgentAPI:
    """What an agent's script sees: the agent API with the admin's Bearer token."""

    def __init__(self, frontdesk: LiveFrontdesk):
        self.client = httpx.Client(base_url=frontdesk.base_url, headers=frontdesk.admin)

    def conversation(self, email: str) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            response = self.client.get("/api/v1/agent/conversations", params={"status": "all"})
            assert response.status_code == 200, response.text
            found = [c for c in response.json()["conversations"] if c["contact"]["email"] == email]
            return found[0] if found else None

        return eventually(find)

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/agent/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    def bodies(self, conversation_id: int) -> list[str]:
        return [m["body"] for m in self.messages(conversation_id)]

    def reply(self, conversation_id: int, text: str) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/agent/conversations/{conversation_id}/messages", json={"message": text}
        )
        assert response.status_code == 201, response.text
        message: dict[str, Any] = response.json()
        return message


@pytest.fixture(scope="module")
def agent(frontdesk: LiveFrontdesk) -> Iterator[AgentAPI]:
    api = AgentAPI(frontdesk)
    yield api
    api.client.close()


DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# The widget's event stream, for tests that cut or hold it to see the other paths.
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
