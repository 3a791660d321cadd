"""The inbox's Webhooks section as the browser tests drive it: its endpoints, deliveries and
signatures, and the API calls that set up or check what the page shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect
from standardwebhooks import Webhook as Verifier

from tests.inbox.webhook_receiver import Received
from tests.support.browser import LiveFrontdesk

EVENTS = ["conversation.created", "conversation.updated", "message.created"]


def create_webhook(
    frontdesk: LiveFrontdesk,
    url: str,
    events: list[str] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "events": events or EVENTS}
    if description is not None:
        body["description"] = description
    response = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/webhooks", json=body, headers=frontdesk.admin
    )
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def stored_webhook(frontdesk: LiveFrontdesk, webhook_id: object) -> dict[str, Any]:
    response = httpx.get(
        f"{frontdesk.base_url}/api/v1/agent/webhooks/{webhook_id}", headers=frontdesk.admin
    )
    assert response.status_code == 200, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def listed_webhooks(frontdesk: LiveFrontdesk) -> list[dict[str, Any]]:
    response = httpx.get(f"{frontdesk.base_url}/api/v1/agent/webhooks", headers=frontdesk.admin)
    assert response.status_code == 200, response.text
    webhooks: list[dict[str, Any]] = response.json()["webhooks"]
    return webhooks


def listed_urls(frontdesk: LiveFrontdesk) -> list[str]:
    return [webhook["url"] for webhook in listed_webhooks(frontdesk)]


def open_webhooks(page: Page) -> Locator:
    """Settings, scrolled to the Webhooks section, which is returned."""
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    region = page.get_by_role("region", name="Webhooks")
    region.get_by_role("heading", name="Webhooks").scroll_into_view_if_needed()
    expect(region.get_by_role("button", name="Add webhook")).to_be_visible()
    expect(region.get_by_text("Loading webhooks…")).to_have_count(0)
    return region


def endpoint(region: Locator, url: str) -> Locator:
    """One endpoint in the list, found by its URL."""
    return (
        region.get_by_role("list", name="Webhook endpoints")
        .get_by_role("listitem")
        .filter(has=region.page.get_by_text(url, exact=True))
    )


def delivery_rows(item: Locator, event: str) -> Locator:
    return item.get_by_role("table", name="Deliveries").get_by_role("row").filter(has_text=event)


def is_event(event: str) -> Callable[[Received], bool]:
    return lambda hit: hit.body.get("type") == event


is_test = is_event("webhook.test")


def assert_signed(hit: Received, secret: str) -> None:
    """Signed as Standard Webhooks says, with `secret`: checked by its reference library."""
    Verifier(secret).verify(hit.raw, hit.headers)
