"""Verified visitors in the inbox (contract sections 1 and 6): the Verified mark, the name a
visitor typed beside the contact's, a verified contact's conversations in the contact panel,
and the admin's identity settings."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.inbox.conftest import ARTIFACTS, screenshot
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser

SETTINGS = "/api/v1/agent/settings"


def user_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def new_secret(frontdesk: LiveFrontdesk) -> str:
    response = httpx.post(
        f"{frontdesk.base_url}{SETTINGS}/identity-secret", headers=frontdesk.admin
    )
    assert response.status_code == 200, response.text
    secret: str = response.json()["identity_secret"]
    return secret


def start(
    frontdesk: LiveFrontdesk,
    name: str,
    email: str,
    message: str,
    identity: tuple[str, str] | None = None,
    token: str | None = None,
) -> httpx.Response:
    """A conversation as the widget starts it; `identity`: (user_id, user_hash)."""
    body = {"name": name, "email": email, "message": message}
    body["visitor_token"] = token or uuid.uuid4().hex
    if identity:
        body |= {"user_id": identity[0], "user_hash": identity[1]}
    return httpx.post(
        f"{frontdesk.base_url}/api/v1/chat/conversations",
        json=body,
        headers={"X-Api-Key": frontdesk.site_key},
    )


def started(
    frontdesk: LiveFrontdesk,
    name: str,
    email: str,
    message: str,
    identity: tuple[str, str] | None = None,
) -> int:
    """Start a conversation (as `start` does); its id in the agent API."""
    token = uuid.uuid4().hex
    response = start(frontdesk, name, email, message, identity, token)
    assert response.status_code == 201, response.text
    listing = httpx.get(
        f"{frontdesk.base_url}/api/v1/agent/conversations",
        params={"status": "all", "limit": 100},
        headers=frontdesk.admin,
    )
    ids = [c["id"] for c in listing.json()["conversations"] if c["visitor_token"] == token]
    assert len(ids) == 1
    conversation_id: int = ids[0]
    return conversation_id


def settings(frontdesk: LiveFrontdesk) -> dict[str, object]:
    response = httpx.get(f"{frontdesk.base_url}{SETTINGS}", headers=frontdesk.admin)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_the_admin_makes_a_secret_that_verifies_and_can_require_it(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    page.get_by_role("link", name="Settings").click()
    section = page.get_by_role("region", name="Identity verification")
    # Its content arrives with the settings: until then the section may be drawn again,
    # and an element found before that is gone from the page (a CI run failed so).
    expect(section).to_contain_text(re.compile("No secret yet|A secret is set"))
    section.scroll_into_view_if_needed()
    first = ""
    if not settings(frontdesk)["identity_secret_set"]:
        expect(section).to_contain_text("No secret yet")
        section.get_by_role("button", name="Generate identity secret").click()
        expect(section.get_by_text("shown this once")).to_be_visible()
        first = section.locator("#identity-secret").inner_text()
    # Rotating asks first: the old secret stops at once. The rotation's request is held (then
    # sent on to the real server) to see the page meanwhile: the old secret is gone, not left
    # beside an earlier "made" message (a CI run read the old one so, and failed).
    held: list[Route] = []
    page.route("**/settings/identity-secret", lambda route: held.append(route))
    section.get_by_role("button", name="Rotate identity secret").click()
    dialog = page.get_by_role("dialog", name="Rotate the identity secret?")
    dialog.get_by_role("button", name="Rotate secret").click()
    expect(section.get_by_text("Making a new secret…")).to_be_visible()
    expect(section.locator("#identity-secret")).to_have_count(0)
    for _ in range(250):  # the request reaches the route in milliseconds; 5 s at most
        if held:
            break
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute("**/settings/identity-secret")
    expect(section.get_by_text("New identity secret made.")).to_be_visible()
    expect(section).to_contain_text("A secret is set")
    secret = section.locator("#identity-secret").inner_text()
    assert len(secret) >= 32
    assert secret != first
    # The secret shown is the one the server checks against.
    made = start(frontdesk, "Kim", "kim@example.com", "Hi", ("kim-1", user_hash(secret, "kim-1")))
    assert made.status_code == 201, made.text
    expect(section.locator("pre.snippet")).to_contain_text("hmac.new(secret.encode()")
    expect(section.locator("pre.snippet")).to_contain_text(frontdesk.site_key)

    required = section.get_by_label("Require verified identity")
    expect(required).not_to_be_checked()
    required.check()
    expect(section.get_by_text("Saved.")).to_be_visible()
    assert settings(frontdesk)["require_identity"] is True
    anonymous = start(frontdesk, "Anon", "anon@example.com", "Hello?")
    assert (anonymous.status_code, anonymous.json()) == (
        403,
        {"error": "Identity verification required"},
    )
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=ARTIFACTS / "inbox-identity-settings.png")
    page.reload()
    required = page.get_by_role("region", name="Identity verification").get_by_label(
        "Require verified identity"
    )
    expect(required).to_be_checked()
    required.uncheck()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert settings(frontdesk)["require_identity"] is False


def test_a_verified_contact_is_marked_and_a_typed_name_shown_beside_it(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    secret = new_secret(frontdesk)
    user = f"user-{uuid.uuid4().hex[:6]}"
    signed = (user, user_hash(secret, user))
    old_email, new_email = f"{user}@old.example.com", f"{user}@new.example.com"
    # The site knew her as "Jane" then; her account says "Jane Doe" now, with a new email.
    first = started(frontdesk, "Jane", old_email, "First: my parcel is late", signed)
    second = started(frontdesk, "Jane Doe", new_email, "Second: still late", signed)
    # Someone not signed in types another person's email and a name: the contact keeps its own.
    grace = f"grace-{uuid.uuid4().hex[:6]}@example.com"
    started(frontdesk, "Grace Hopper", grace, "Hello, it's Grace")
    mallory = started(frontdesk, "Mallory", grace, "Refund to my new card please")

    page.reload()
    rows = page.get_by_role("list", name="Conversations")
    jane_row = rows.locator(f'a[href="#/c/{second}"]')
    expect(jane_row).to_contain_text("Verified")
    first_row = rows.locator(f'a[href="#/c/{first}"]')
    expect(first_row).to_contain_text("Verified")
    expect(first_row).to_contain_text("typed “Jane”")
    mallory_row = rows.locator(f'a[href="#/c/{mallory}"]')
    expect(mallory_row).to_contain_text("typed “Mallory”")
    expect(mallory_row).not_to_contain_text("Verified")

    jane_row.click()
    region = page.get_by_role("region", name="Conversation")
    expect(region.get_by_role("heading", name="Jane Doe")).to_be_visible()
    header = region.locator(".conv-header")
    expect(header.get_by_text("Verified", exact=True)).to_be_visible()
    expect(header.get_by_text("typed")).to_have_count(0)  # she typed her own name this time
    contact = page.get_by_role("complementary", name="Contact")
    expect(contact.get_by_text("Verified", exact=True)).to_be_visible()
    expect(contact).to_contain_text(user)
    # Both her conversations, although the first was under her old email.
    expect(contact.locator(f'a[href="#/c/{first}"]')).to_be_visible()
    screenshot(page, "inbox-identity-verified.png")

    mallory_row.click()
    expect(region.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    expect(header.get_by_text("typed “Mallory”")).to_be_visible()
    expect(header.get_by_text("Verified", exact=True)).to_have_count(0)
    screenshot(page, "inbox-identity-typed-name.png")


def test_a_narrow_screen_reaches_the_contact_panel_with_a_button(
    context: BrowserContext, frontdesk: LiveFrontdesk
) -> None:
    secret = new_secret(frontdesk)
    user = f"user-{uuid.uuid4().hex[:6]}"
    email = f"{user}@example.com"
    signed = (user, user_hash(secret, user))
    earlier = started(frontdesk, "Lin Narrow", email, "Earlier question", signed)
    today = started(frontdesk, "Lin Narrow", email, "Today's question", signed)
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(f"{frontdesk.base_url}/inbox")
    page.locator(f'a[href="#/c/{today}"]').click()
    contact = page.get_by_role("complementary", name="Contact")
    expect(contact).to_be_hidden()
    toggle = page.get_by_role("button", name="Contact", exact=True)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(contact).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(contact.get_by_text("Verified", exact=True)).to_be_visible()
    expect(contact.locator(f'a[href="#/c/{earlier}"]')).to_be_visible()
    screenshot(page, "inbox-identity-phone-contact.png")
    contact.get_by_role("button", name="Close contact").click()
    expect(contact).to_be_hidden()
    expect(toggle).to_be_focused()
