"""Admin settings in the inbox: what they change is what the widget API then serves."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.inbox.conftest import screenshot
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser


def open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()


def chat_config(frontdesk: LiveFrontdesk, key: str | None = None) -> httpx.Response:
    return httpx.get(
        f"{frontdesk.base_url}/api/v1/chat/config",
        headers={"X-Api-Key": key or frontdesk.site_key},
    )


def test_a_greeting_changed_in_settings_is_what_the_widget_gets(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    open_settings(page)
    greeting = page.get_by_label("Greeting")
    expect(greeting).to_have_value("Hi there! How can we help?")

    greeting.fill("Hello from Acme! Ask us anything.")
    page.get_by_label("Title").fill("Acme help")
    page.get_by_label("Allowed origins").fill("https://shop.example.com\nhttps://www.example.com")
    page.get_by_label("New conversations").fill("30")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_text("Saved.")).to_be_visible()
    config = chat_config(frontdesk).json()
    assert config["greeting"] == "Hello from Acme! Ask us anything."
    assert config["title"] == "Acme help"
    settings = httpx.get(f"{frontdesk.base_url}/api/v1/agent/settings", headers=frontdesk.admin)
    assert settings.json()["allowed_origins"] == [
        "https://shop.example.com",
        "https://www.example.com",
    ]
    assert settings.json()["rate_limits"]["create_conversation"] == 30


def test_an_invalid_setting_is_explained_and_nothing_changes(
    page: Page, frontdesk: LiveFrontdesk
) -> None:
    open_settings(page)
    page.get_by_label("Greeting").fill("This greeting must not be saved")
    page.get_by_label("Allowed origins").fill("not an origin")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_text("Invalid origin: not")).to_be_visible()
    assert chat_config(frontdesk).json()["greeting"] != "This greeting must not be saved"


def test_add_and_remove_an_agent(page: Page, frontdesk: LiveFrontdesk) -> None:
    open_settings(page)
    page.get_by_label("Name", exact=True).fill("Grace Agent")
    page.get_by_label("Email").fill("grace.agent@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Add agent").click()

    team = page.locator(".team")
    expect(team).to_contain_text("grace.agent@example.com")
    expect(page.get_by_text("shown this once")).to_be_visible()

    page.get_by_role("button", name="Remove Grace Agent").click()
    dialog = page.get_by_role("dialog", name="Remove Grace Agent?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Remove agent").click()
    expect(team).not_to_contain_text("grace.agent@example.com")
    agents = httpx.get(f"{frontdesk.base_url}/api/v1/agent/agents", headers=frontdesk.admin)
    assert "grace.agent@example.com" not in [a["email"] for a in agents.json()["agents"]]


def test_the_embed_snippet_is_ready_to_copy(
    page: Page, context: BrowserContext, frontdesk: LiveFrontdesk
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=frontdesk.base_url)
    open_settings(page)
    snippet = (
        f'<script src="{frontdesk.base_url}/widget.js" '
        f'data-site-key="{frontdesk.site_key}" async></script>'
    )
    expect(page.locator("#embed-snippet")).to_have_text(snippet)

    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(page, "inbox-settings.png")


def test_rotating_the_site_key_asks_first(page: Page, frontdesk: LiveFrontdesk) -> None:
    old_key = frontdesk.site_key
    open_settings(page)

    page.get_by_role("button", name="Rotate site key").click()
    dialog = page.get_by_role("dialog", name="Rotate the site key?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert chat_config(frontdesk, old_key).status_code == 200

    page.get_by_role("button", name="Rotate site key").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate key").click()
    expect(page.get_by_text("New key issued")).to_be_visible()
    new_key = page.locator(".site-key").inner_text()
    assert new_key != old_key
    expect(page.locator("#embed-snippet")).to_contain_text(f'data-site-key="{new_key}"')
    assert chat_config(frontdesk, old_key).status_code == 401
    assert chat_config(frontdesk, new_key).status_code == 200
    frontdesk.site_key = new_key  # later tests in this module speak as the widget
    expect(page.get_by_role("heading", name=re.compile("Settings"), level=1)).to_be_visible()
