"""Signing in and out of the inbox, in a real Chromium, and who sees what."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.inbox.conftest import VIEWPORT, Visitor, sign_in, watch_errors
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser


def test_sign_in_shows_a_conversation_started_in_the_widget(
    browser: Browser, frontdesk: LiveFrontdesk
) -> None:
    Visitor(frontdesk, "Grace Hopper", "My order never arrived.")
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{frontdesk.base_url}/inbox")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)

    item = page.get_by_role("link", name=re.compile("Grace Hopper"))
    expect(item).to_be_visible()
    # The newest message is the account's auto-reply, sent by its bot right after hers.
    expect(item).to_contain_text("Support: Thanks for reaching out!")
    cookie = next(c for c in context.cookies() if c["name"] == "frontdesk_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http here; https gets Secure (see the session tests)
    assert errors == []
    context.close()


def test_a_wrong_password_says_so_on_the_page(browser: Browser, frontdesk: LiveFrontdesk) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(f"{frontdesk.base_url}/inbox")
    page.get_by_label("Email").fill(frontdesk.admin_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
    expect(page.get_by_label("Email")).to_have_value(frontdesk.admin_email)
    expect(page.get_by_label("Password")).to_have_value("")
    assert not [c for c in context.cookies() if c["name"] == "frontdesk_session"]
    context.close()


def test_sign_out_ends_the_session(browser: Browser, frontdesk: LiveFrontdesk) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, frontdesk.base_url, frontdesk.admin_email, frontdesk.admin_password)
    session = next(c["value"] for c in context.cookies() if c["name"] == "frontdesk_session")

    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == "frontdesk_session"]
    # The old cookie is dead on the server too, not just forgotten by this browser.
    replay = httpx.get(
        f"{frontdesk.base_url}/api/v1/agent/me", cookies={"frontdesk_session": session}
    )
    assert replay.status_code == 401
    context.close()


def test_an_agent_who_is_not_admin_sees_no_settings(
    browser: Browser, frontdesk: LiveFrontdesk
) -> None:
    created = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/agents",
        json={
            "name": "Sam Agent",
            "email": "sam@example.com",
            "password": "sam's long password",
            "role": "agent",
        },
        headers=frontdesk.admin,
    )
    assert created.status_code == 201, created.text
    Visitor(frontdesk, "Linus Visitor", "Is the shop open on Sunday?")
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, frontdesk.base_url, "sam@example.com", "sam's long password")

    expect(page.get_by_role("link", name=re.compile("Linus Visitor"))).to_be_visible()
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto(f"{frontdesk.base_url}/inbox#/settings")
    expect(page.get_by_role("link", name=re.compile("Linus Visitor"))).to_be_visible()
    expect(page.get_by_label("Greeting")).to_have_count(0)
    expect(page.get_by_role("button", name="Rotate site key")).to_have_count(0)
    assert errors == []
    context.close()
