"""The inbox's Security page in Chromium: change your password, see and revoke your own
sessions and tokens (contract section 12; issue #17 finding 8)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.inbox.conftest import VIEWPORT, assert_fits, screenshot, sign_in, watch_errors
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 667}
PASSWORD = "sams first password"


def new_agent(frontdesk: LiveFrontdesk) -> str:
    """A fresh agent (the module's admin keeps their password); their email."""
    email = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    response = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/agents",
        json={"email": email, "name": "Sam Agent", "password": PASSWORD, "role": "agent"},
        headers=frontdesk.admin,
    )
    assert response.status_code == 201, response.text
    return email


def other_browser_session(frontdesk: LiveFrontdesk, email: str) -> str:
    """Sam signed in somewhere else too: that session's cookie."""
    response = httpx.post(
        f"{frontdesk.base_url}/inbox/login", data={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 303
    return response.cookies["frontdesk_session"]


def works(frontdesk: LiveFrontdesk, headers: dict[str, str]) -> bool:
    response = httpx.get(f"{frontdesk.base_url}/api/v1/agent/me", headers=headers)
    assert response.status_code in (200, 401)
    return response.status_code == 200


def open_security(page: Page) -> None:
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()


def test_change_password_and_revoke_a_session(browser: Browser, frontdesk: LiveFrontdesk):
    email = new_agent(frontdesk)
    elsewhere = {"Cookie": f"frontdesk_session={other_browser_session(frontdesk, email)}"}
    login = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/login", json={"email": email, "password": PASSWORD}
    )
    script = {"Authorization": f"Bearer {login.json()['token']}"}
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(12_000)
    try:
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, frontdesk.base_url, email, PASSWORD)
        open_security(page)
        rows = page.get_by_role("row")
        # A header row, then: the token made with Sam, /login's, the other session, this one.
        expect(rows).to_have_count(5)
        expect(page.get_by_role("row").filter(has_text="This browser")).to_have_count(1)
        expect(page.get_by_role("row").filter(has_text="API token")).to_have_count(2)
        screenshot(page, "security-desktop.png")

        # Revoke the session elsewhere (the one that isn't this browser).
        others = (
            page.get_by_role("row")
            .filter(has_text="Inbox session")
            .filter(has_not_text="This browser")
        )
        others.get_by_role("button", name="Revoke").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Revoke this inbox session?")
        dialog.get_by_role("button", name="Revoke").click()
        expect(rows).to_have_count(4)
        assert not works(frontdesk, elsewhere)

        # A wrong current password, a short new one, then a good change.
        page.get_by_label("Current password").fill("not my password")
        page.get_by_label("New password").fill("a new password for sam")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status").filter(has_text="Invalid password")).to_be_visible()
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password").fill("too short")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status").filter(has_text="Password is too short")).to_be_visible()
        page.get_by_label("New password").fill("a new password for sam")
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("status").filter(has_text="Password changed")).to_be_visible()
        # /login's token ended with the change; this browser and the admin-made token stay.
        expect(rows).to_have_count(3)
        assert not works(frontdesk, script)
        screenshot(page, "security-changed-desktop.png")
        page.reload()
        expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
        assert errors == []
    finally:
        context.close()
    signed_in = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/login",
        json={"email": email, "password": "a new password for sam"},
    )
    assert signed_in.status_code == 200


def test_revoking_this_browsers_session_signs_it_out(browser: Browser, frontdesk: LiveFrontdesk):
    email = new_agent(frontdesk)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(12_000)
    try:
        page = context.new_page()
        errors = watch_errors(page)
        sign_in(page, frontdesk.base_url, email, PASSWORD)
        open_security(page)
        expect(page.get_by_role("row").filter(has_text="This browser")).to_have_count(1)
        assert_fits(page)
        screenshot(page, "security-phone.png")
        page.get_by_role("button", name="(this browser)").click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert errors == []
    finally:
        context.close()
