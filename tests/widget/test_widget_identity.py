"""A signed-in visitor (contract section 6) in a real Chromium: the site's page carries
data-user-id, data-user-hash, data-user-name and data-user-email on the script tag.

The hash is computed here as a site's server would, from a secret made through the API.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.support.browser import LiveFrontdesk, static_site
from tests.widget.conftest import AUTO_REPLY, AgentAPI, host_page

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 667}
PHONE_EMULATION: dict[str, Any] = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
FAILED = "Identity verification failed"


def user_hash(secret: str, user_id: str) -> str:
    """What the site's server computes: lowercase hex HMAC-SHA256(secret, user_id)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def secret(frontdesk: LiveFrontdesk) -> str:
    response = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/settings/identity-secret", headers=frontdesk.admin
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["identity_secret"]
    return value


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    """The host site's pages; tests add their signed-in pages as they go."""
    return {}


@pytest.fixture(scope="module")
def site(pages: dict[str, str]) -> Iterator[str]:
    with static_site(pages) as url:
        yield url


@pytest.fixture
def signed_in_page(
    frontdesk: LiveFrontdesk, pages: dict[str, str], site: str
) -> Callable[..., str]:
    """The URL of a page of the site as `user_id` sees it (attributes left out when None)."""

    def make(
        user_id: str | None,
        user_hash: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> str:
        path = f"/account/{uuid.uuid4().hex[:12]}"
        given = {"id": user_id, "hash": user_hash, "name": name, "email": email}
        attrs = " ".join(f'data-user-{k}="{escape(v)}"' for k, v in given.items() if v)
        page = host_page(frontdesk, "Clay & Co: your account")
        pages[path] = page.replace(" async></script>", f" {attrs} async></script>")
        return site + path

    return make


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Fresh browsers (empty localStorage); none of their pages may throw."""
    opened: list[tuple[BrowserContext, list[str]]] = []

    def new(viewport: ViewportSize = DESKTOP, phone: bool = False) -> BrowserContext:
        context = browser.new_context(viewport=viewport, **(PHONE_EMULATION if phone else {}))
        context.set_default_timeout(10_000)
        errors: list[str] = []
        context.on("page", lambda page: page.on("pageerror", lambda e: errors.append(str(e))))
        opened.append((context, errors))
        return context

    yield new
    for context, errors in opened:
        context.close()
        assert errors == [], f"the widget threw: {errors}"


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def stored(page: Page) -> str:
    value: str = page.evaluate("() => JSON.stringify({...localStorage})")
    return value


def test_a_verified_visitor_gets_their_conversation_back_in_another_browser(
    contexts: Callable[..., BrowserContext],
    signed_in_page: Callable[..., str],
    secret: str,
    agent: AgentAPI,
    email: str,
    artifacts: Path,
) -> None:
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    url = signed_in_page(user_id, user_hash(secret, user_id), "Jane Doe", email)
    page = contexts().new_page()
    open_chat(page, url)
    # Name and email come from the site: the form asks only for the message.
    expect(page.get_by_label("Name")).to_have_count(0)
    expect(page.get_by_label("Email")).to_have_count(0)
    expect(page.get_by_label("Message")).to_be_focused()
    page.get_by_label("Message").fill("Where is my order #1042?")
    page.screenshot(path=artifacts / "widget-identity-form.png")
    page.get_by_role("button", name="Start chat").click()
    log = page.get_by_role("log")
    expect(log.get_by_text("Where is my order #1042?")).to_be_visible()
    expect(log.get_by_text(AUTO_REPLY)).to_be_visible()

    conversation = agent.conversation(email)
    assert conversation["contact"]["user_id"] == user_id
    assert conversation["contact"]["name"] == "Jane Doe"
    agent.reply(conversation["id"], "It ships tomorrow, Jane.")
    expect(log.get_by_text("It ships tomorrow, Jane.")).to_be_visible()
    page.screenshot(path=artifacts / "widget-identity-desktop.png")

    # Another browser (empty localStorage), the same signed-in user: the same conversation,
    # no form, and it goes on from there.
    again = contexts().new_page()
    open_chat(again, url)
    log = again.get_by_role("log")
    expect(log.get_by_text("Where is my order #1042?")).to_be_visible()
    expect(log.get_by_text("It ships tomorrow, Jane.")).to_be_visible()
    expect(again.get_by_role("button", name="Start chat")).to_have_count(0)
    assert conversation["visitor_token"] in stored(again)
    again.get_by_label("Message").fill("Thanks!")
    again.get_by_role("button", name="Send").click()
    expect(log.get_by_text("Thanks!")).to_be_visible()
    assert "Thanks!" in agent.bodies(conversation["id"])

    # And on a phone: the whole screen, the same conversation.
    phone = contexts(PHONE, phone=True).new_page()
    open_chat(phone, url)
    expect(phone.get_by_role("log").get_by_text("Thanks!")).to_be_visible()
    expect(phone.get_by_label("Message")).to_be_visible()
    phone.screenshot(path=artifacts / "widget-identity-phone.png")


def test_a_wrong_hash_is_told_beside_the_form(
    contexts: Callable[..., BrowserContext],
    signed_in_page: Callable[..., str],
    agent: AgentAPI,
    email: str,
    artifacts: Path,
) -> None:
    url = signed_in_page("user-mallory", "0" * 64, "Mallory", email)
    page = contexts().new_page()
    open_chat(page, url)
    # Said as soon as the widget knows (it looked for the user's conversations), and again
    # when the visitor tries anyway; what they typed stays.
    expect(page.get_by_role("alert")).to_have_text(FAILED)
    page.get_by_label("Message").fill("Let me in")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("alert")).to_have_text(FAILED)
    expect(page.get_by_label("Message")).to_have_value("Let me in")
    page.screenshot(path=artifacts / "widget-identity-wrong-hash.png")
    listing = agent.client.get("/api/v1/agent/conversations", params={"q": email})
    assert listing.json()["conversations"] == []


def test_another_user_on_the_same_browser_never_sees_the_first_ones_chat(
    contexts: Callable[..., BrowserContext],
    signed_in_page: Callable[..., str],
    secret: str,
    agent: AgentAPI,
) -> None:
    first = f"user-{uuid.uuid4().hex[:8]}"
    first_email = f"{first}@example.com"
    first_url = signed_in_page(first, user_hash(secret, first), "Ann First", first_email)
    page = contexts().new_page()
    open_chat(page, first_url)
    page.get_by_label("Message").fill("My private question")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log").get_by_text("My private question")).to_be_visible()
    token = agent.conversation(first_email)["visitor_token"]

    # Ann signs out, Bob signs in on the same computer. The site doesn't know Bob's name:
    # the form asks for that alone.
    second = f"user-{uuid.uuid4().hex[:8]}"
    second_email = f"{second}@example.com"
    second_url = signed_in_page(second, user_hash(secret, second), None, second_email)
    open_chat(page, second_url)
    expect(page.get_by_role("button", name="Start chat")).to_be_visible()
    expect(page.get_by_label("Name")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_count(0)
    expect(page.get_by_text("My private question")).to_have_count(0)
    assert token not in stored(page), "the first user's token stays on a shared computer"
    page.get_by_label("Name").fill("Bob Second")
    page.get_by_label("Message").fill("Bob here")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("log").get_by_text("Bob here")).to_be_visible()
    bob = agent.conversation(second_email)
    assert bob["contact"]["user_id"] == second and bob["contact"]["name"] == "Bob Second"
    assert bob["visitor_token"] != token

    # Nor does a visitor who isn't signed in see Bob's.
    open_chat(page, signed_in_page(None))
    expect(page.get_by_label("Email")).to_be_visible()
    expect(page.get_by_text("Bob here")).to_have_count(0)

    # Ann back on this computer: her own conversation, from the server.
    open_chat(page, first_url)
    expect(page.get_by_role("log").get_by_text("My private question")).to_be_visible()
    expect(page.get_by_text("Bob here")).to_have_count(0)
