"""Settings → Webhooks in the inbox (contract section 5), driven by an admin in Chromium
against a live Frontdesk that posts to a real receiver on 127.0.0.1.

The module's server allows private receivers (127.0.0.1 is one) and retries after half a
second, one and two seconds, so a failing endpoint fails within seconds; a second server
with the default rule refuses private addresses with the API's sentence.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

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

from tests.inbox.conftest import (
    ARTIFACTS,
    VIEWPORT,
    Visitor,
    assert_fits,
    inbox_frontdesk,
    screenshot,
    sign_in,
    watch_errors,
)
from tests.inbox.webhook_pages import (
    EVENTS,
    assert_signed,
    create_webhook,
    delivery_rows,
    endpoint,
    is_event,
    is_test,
    listed_urls,
    listed_webhooks,
    open_webhooks,
    stored_webhook,
)
from tests.inbox.webhook_receiver import Receiver, receiving
from tests.support.browser import LiveFrontdesk

pytestmark = pytest.mark.browser

RETRY_SCHEDULE = "0.5,1,2"  # seconds: three retries, so four attempts in all
ATTEMPTS = 4
PHONE: ViewportSize = {"width": 375, "height": 667}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture(scope="module")
def frontdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFrontdesk]:
    """This module's server: receivers on 127.0.0.1 allowed, retries within seconds."""
    with inbox_frontdesk(
        tmp_path_factory.mktemp("data"),
        webhook_allow_private=True,
        webhook_retry_schedule=RETRY_SCHEDULE,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def strict_frontdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFrontdesk]:
    """A server with the default rule: no webhooks to private addresses."""
    with inbox_frontdesk(tmp_path_factory.mktemp("strict")) as server:
        yield server


# Helpers


# Tests


def test_an_admin_adds_an_endpoint_and_its_test_event_is_delivered(
    page: Page, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    path = "/hooks/added-in-the-inbox"
    region = open_webhooks(page)
    region.get_by_role("button", name="Add webhook").click()
    region.get_by_label("Endpoint URL").fill(receiver.url(path))
    region.get_by_label("Description").fill("Order system")
    for event in EVENTS:
        box = region.get_by_role("checkbox", name=event)
        expect(box).to_be_checked()  # a new endpoint starts with every event
        box.uncheck()

    # No event at all: the API's sentence beside the form, and nothing typed is lost.
    region.get_by_role("button", name="Save webhook").click()
    expect(region.get_by_role("alert")).to_have_text("Invalid webhook events")
    expect(region.get_by_label("Endpoint URL")).to_have_value(receiver.url(path))
    expect(region.get_by_label("Description")).to_have_value("Order system")
    assert listed_urls(frontdesk).count(receiver.url(path)) == 0

    region.get_by_role("checkbox", name="conversation.created").check()
    region.get_by_role("checkbox", name="message.created").check()
    region.get_by_role("button", name="Save webhook").click()

    item = endpoint(region, receiver.url(path))
    expect(item).to_contain_text("Order system")
    expect(item.get_by_role("list", name="Events").get_by_role("listitem")).to_have_text(
        ["conversation.created", "message.created"]
    )
    expect(item.get_by_text("Active", exact=True)).to_be_visible()
    expect(region.get_by_label("Endpoint URL")).to_have_count(0)  # the form has closed
    secret = item.get_by_text(re.compile(r"^whsec_")).inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret), secret
    [stored] = [w for w in listed_webhooks(frontdesk) if w["url"] == receiver.url(path)]
    assert sorted(stored["events"]) == ["conversation.created", "message.created"]
    assert stored["description"] == "Order system" and stored["active"] is True

    expect(item.get_by_text("No deliveries yet")).to_be_visible()
    item.get_by_role("button", name="Send test").click()
    row = delivery_rows(item, "webhook.test")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("200")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)

    [hit] = receiver.wait_for(path, is_test)
    assert hit.headers["content-type"].startswith("application/json")
    assert hit.headers["user-agent"].startswith("Frontdesk-Webhooks/")
    assert_signed(hit, secret)  # the secret the inbox showed is the one that signs
    screenshot(page, "inbox-webhooks-added-1280x800.png")


def test_a_visitors_message_reaches_the_endpoint_and_is_listed(
    page: Page, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    path = "/hooks/messages"
    webhook = create_webhook(frontdesk, receiver.url(path), ["message.created"])
    visitor = Visitor(frontdesk, "Grace Hopper", "Do you ship to Norway?")
    visitor.says("My order number is FD-7781.")

    [hit] = receiver.wait_for(path, lambda hit: b"FD-7781" in hit.raw)
    assert hit.body["type"] == "message.created"
    assert hit.body["data"]["conversation_id"] == visitor.conversation()["id"]
    assert_signed(hit, webhook["secret"])
    # Only the events asked for: no conversation.created went to this endpoint.
    assert {received.body["type"] for received in receiver.at(path)} == {"message.created"}

    region = open_webhooks(page)
    item = endpoint(region, receiver.url(path))
    rows = delivery_rows(item, "message.created")
    delivered = len(receiver.at(path))
    assert delivered >= 2  # the first message and the one after it (and an auto-reply)
    expect(rows).to_have_count(delivered)
    expect(rows.first).to_contain_text("Succeeded")
    expect(rows.first).to_contain_text("200")


def test_an_edit_persists_and_a_paused_endpoint_gets_nothing(
    page: Page, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    paused, witness = "/hooks/paused", "/hooks/witness"
    webhook = create_webhook(frontdesk, receiver.url(paused), description="Warehouse")
    create_webhook(frontdesk, receiver.url(witness), ["message.created"])
    region = open_webhooks(page)
    item = endpoint(region, receiver.url(paused))
    expect(item.get_by_text("Active", exact=True)).to_be_visible()

    item.get_by_role("button", name="Edit").click()
    expect(item.get_by_label("Endpoint URL")).to_have_value(receiver.url(paused))
    expect(item.get_by_label("Description")).to_have_value("Warehouse")
    item.get_by_role("checkbox", name="conversation.updated").uncheck()
    item.get_by_role("checkbox", name="Active").uncheck()
    item.get_by_label("Description").fill("Warehouse (paused for the move)")
    item.get_by_role("button", name="Save webhook").click()
    expect(item.get_by_text("Paused", exact=True)).to_be_visible()
    expect(item.get_by_text("Saved.")).to_be_visible()

    page.reload()
    region = open_webhooks(page)
    item = endpoint(region, receiver.url(paused))
    expect(item.get_by_text("Paused", exact=True)).to_be_visible()
    expect(item).to_contain_text("Warehouse (paused for the move)")
    expect(item.get_by_role("list", name="Events").get_by_role("listitem")).to_have_text(
        ["conversation.created", "message.created"]
    )
    item.get_by_role("button", name="Edit").click()
    expect(item.get_by_role("checkbox", name="conversation.updated")).not_to_be_checked()
    expect(item.get_by_role("checkbox", name="message.created")).to_be_checked()
    expect(item.get_by_role("checkbox", name="Active")).not_to_be_checked()
    item.get_by_role("button", name="Cancel").click()
    expect(item.get_by_role("button", name="Edit")).to_be_focused()

    stored = stored_webhook(frontdesk, webhook["id"])
    assert stored["active"] is False
    assert sorted(stored["events"]) == ["conversation.created", "message.created"]
    assert stored["description"] == "Warehouse (paused for the move)"

    # Once the active witness has the visitor's message, the paused endpoint had its chance.
    Visitor(frontdesk, "Ada Lovelace", "Parcel PK-1 is late")
    receiver.wait_for(witness, lambda hit: b"PK-1" in hit.raw)
    assert receiver.at(paused) == []


def test_a_failing_endpoint_shows_failed_deliveries_and_retry_sends_once_more(
    page: Page, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    path = "/hooks/failing"
    receiver.answers[path] = 500
    create_webhook(frontdesk, receiver.url(path), ["conversation.created"])
    region = open_webhooks(page)
    item = endpoint(region, receiver.url(path))

    # A test is sent once, never retried: failed after its one attempt.
    item.get_by_role("button", name="Send test").click()
    test_row = delivery_rows(item, "webhook.test")
    expect(test_row).to_contain_text("Failed")
    expect(test_row).to_contain_text("500")
    expect(test_row.get_by_role("cell").nth(2)).to_have_text("1")
    expect(test_row.get_by_role("button", name="Retry")).to_be_visible()

    # A real event is retried on the short schedule, then failed; once its first attempt is
    # listed, the list follows the retries without a reload.
    Visitor(frontdesk, "Alan Turing", "Is the enigma kit in stock?")
    receiver.wait_for(path, is_event("conversation.created"))
    item.get_by_role("button", name="Refresh").click()
    row = delivery_rows(item, "conversation.created")
    expect(row).to_contain_text("Failed", timeout=20_000)
    expect(row).to_contain_text("500")
    expect(row.get_by_role("cell").nth(2)).to_have_text(str(ATTEMPTS))
    retry = row.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    hits = receiver.at(path)
    created = [hit for hit in hits if is_event("conversation.created")(hit)]
    assert len(created) == ATTEMPTS
    assert len({hit.headers["webhook-id"] for hit in created}) == 1
    screenshot(page, "inbox-webhooks-failed-1280x800.png")

    receiver.answers[path] = 200
    retry.click()
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text("200")
    expect(row.get_by_role("cell").nth(2)).to_have_text(str(ATTEMPTS + 1))
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    again = receiver.wait_for(path, is_event("conversation.created"), count=ATTEMPTS + 1)
    assert again[-1].headers["webhook-id"] == created[0].headers["webhook-id"]
    time.sleep(1.0)  # and only once, the test delivery untouched
    assert len(receiver.at(path)) == len(hits) + 1


def test_rotating_the_secret_and_removing_an_endpoint_ask_first(
    page: Page, context: BrowserContext, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=frontdesk.base_url)
    path = "/hooks/rotated"
    webhook = create_webhook(frontdesk, receiver.url(path), ["message.created"])
    old = webhook["secret"]
    region = open_webhooks(page)
    item = endpoint(region, receiver.url(path))
    expect(item.get_by_text(old)).to_have_count(0)  # hidden until asked for

    item.get_by_role("button", name="Reveal secret").click()
    expect(item.get_by_text(old, exact=True)).to_be_visible()
    item.get_by_role("button", name="Copy secret").click()
    expect(item.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == old
    item.get_by_role("button", name="Hide secret").click()
    expect(item.get_by_text(old)).to_have_count(0)

    item.get_by_role("button", name="Rotate secret").click()
    dialog = page.get_by_role("dialog", name="Rotate the signing secret?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert stored_webhook(frontdesk, webhook["id"])["secret"] == old

    item.get_by_role("button", name="Rotate secret").click()
    dialog.get_by_role("button", name="Rotate secret").click()
    expect(item.get_by_text("New secret issued")).to_be_visible()
    new = item.get_by_text(re.compile(r"^whsec_")).inner_text()
    assert new != old
    assert stored_webhook(frontdesk, webhook["id"])["secret"] == new
    item.get_by_role("button", name="Send test").click()
    [hit] = receiver.wait_for(path, is_test)
    assert_signed(hit, new)

    item.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog", name="Remove this webhook?")
    expect(dialog).to_contain_text(receiver.url(path))
    dialog.get_by_role("button", name="Cancel").click()
    expect(item).to_have_count(1)
    item.get_by_role("button", name="Remove").click()
    dialog.get_by_role("button", name="Remove webhook").click()
    expect(item).to_have_count(0)
    expect(region.get_by_text("Webhook removed.")).to_be_visible()
    assert receiver.url(path) not in listed_urls(frontdesk)


def test_a_private_address_is_refused_with_the_apis_sentence(
    browser: Browser, strict_frontdesk: LiveFrontdesk
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(12_000)
    page = context.new_page()
    errors = watch_errors(page)
    server = strict_frontdesk
    sign_in(page, server.base_url, server.admin_email, server.admin_password)
    region = open_webhooks(page)
    expect(region.get_by_text("No endpoints yet")).to_be_visible()

    region.get_by_role("button", name="Add webhook").click()
    region.get_by_label("Endpoint URL").fill("ftp://files.example.com/drop")
    region.get_by_label("Description").fill("Internal CRM")
    region.get_by_role("button", name="Save webhook").click()
    alert = region.get_by_role("alert")
    expect(alert).to_have_text("Invalid webhook URL")

    region.get_by_label("Endpoint URL").fill("http://10.0.0.1/x")
    region.get_by_role("button", name="Save webhook").click()
    expect(alert).to_have_text("Webhook URL points to a private address")
    expect(region.get_by_label("Endpoint URL")).to_have_value("http://10.0.0.1/x")
    expect(region.get_by_label("Description")).to_have_value("Internal CRM")
    expect(region.get_by_role("checkbox", name="message.created")).to_be_checked()
    screenshot(page, "inbox-webhooks-refused-1280x800.png")
    assert listed_urls(server) == []

    region.get_by_role("button", name="Cancel").click()
    expect(region.get_by_label("Endpoint URL")).to_have_count(0)
    expect(region.get_by_role("button", name="Add webhook")).to_be_focused()
    assert errors == []
    context.close()


def test_an_agent_who_is_not_admin_has_no_webhooks(
    browser: Browser, frontdesk: LiveFrontdesk
) -> None:
    created = httpx.post(
        f"{frontdesk.base_url}/api/v1/agent/agents",
        json={
            "name": "Wanda Agent",
            "email": "wanda@example.com",
            "password": "wanda's long password",
            "role": "agent",
        },
        headers=frontdesk.admin,
    )
    assert created.status_code == 201, created.text
    refused = httpx.get(
        f"{frontdesk.base_url}/api/v1/agent/webhooks",
        headers={"Authorization": f"Bearer {created.json()['api_token']}"},
    )
    assert refused.status_code == 403
    assert refused.json() == {"error": "Forbidden"}

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(12_000)
    page = context.new_page()
    errors = watch_errors(page)
    sign_in(page, frontdesk.base_url, "wanda@example.com", "wanda's long password")
    page.goto(f"{frontdesk.base_url}/inbox#/settings")
    expect(page.get_by_role("list", name="Conversations")).to_be_visible()
    expect(page.get_by_role("heading", name="Webhooks")).to_have_count(0)
    expect(page.get_by_role("button", name="Add webhook")).to_have_count(0)
    assert errors == []
    context.close()


def test_webhooks_at_desktop_and_phone_sizes(
    browser: Browser, admin_state: StorageState, frontdesk: LiveFrontdesk, receiver: Receiver
) -> None:
    """PNGs in test-artifacts/ to look at; on a phone nothing is wider than the screen."""
    ok, failing = "/hooks/screens/orders-and-a-rather-long-path-name", "/hooks/screens/legacy"
    receiver.answers[failing] = 503
    good = create_webhook(frontdesk, receiver.url(ok), description="Order system (ERP)")
    bad = create_webhook(frontdesk, receiver.url(failing), ["message.created"], "Legacy CRM")
    for webhook in (good, bad):
        response = httpx.post(
            f"{frontdesk.base_url}/api/v1/agent/webhooks/{webhook['id']}/test",
            headers=frontdesk.admin,
        )
        assert response.status_code == 202, response.text
    Visitor(frontdesk, "Katherine Johnson", "Where is my parcel? SC-55")
    receiver.wait_for(ok, lambda hit: b"SC-55" in hit.raw)
    receiver.wait_for(failing, lambda hit: b"SC-55" in hit.raw, count=ATTEMPTS, timeout=20)
    receiver.wait_for(failing, is_test)

    for label, size, mobile in (("1280x800", VIEWPORT, False), ("375x667", PHONE, True)):
        context = browser.new_context(
            viewport=size,
            is_mobile=mobile,
            has_touch=mobile,
            storage_state=admin_state,
        )
        context.set_default_timeout(12_000)
        page = context.new_page()
        errors = watch_errors(page)
        page.goto(f"{frontdesk.base_url}/inbox")
        region = open_webhooks(page)
        good_item = endpoint(region, receiver.url(ok))
        bad_item = endpoint(region, receiver.url(failing))
        expect(delivery_rows(good_item, "webhook.test")).to_contain_text("Succeeded")
        expect(delivery_rows(bad_item, "message.created").first).to_contain_text("Failed")
        expect(delivery_rows(bad_item, "webhook.test")).to_contain_text("Failed")
        page.wait_for_timeout(300)  # let the last rows settle before the pictures
        screenshot(page, f"inbox-webhooks-{label}.png")
        # The whole section in one picture: a screen tall enough to hold it.
        page.set_viewport_size({"width": size["width"], "height": 2400})
        ARTIFACTS.mkdir(exist_ok=True)
        region.screenshot(path=str(ARTIFACTS / f"inbox-webhooks-{label}-section.png"))
        page.set_viewport_size(size)
        assert_fits(page)

        bad_item.get_by_role("button", name="Retry").first.scroll_into_view_if_needed()
        screenshot(page, f"inbox-webhooks-{label}-failed.png")
        assert_fits(page)

        good_item.get_by_role("button", name="Edit").click()
        expect(good_item.get_by_label("Endpoint URL")).to_be_focused()
        screenshot(page, f"inbox-webhooks-{label}-edit.png")
        assert_fits(page)
        good_item.get_by_role("button", name="Cancel").click()

        region.get_by_role("button", name="Add webhook").click()
        region.get_by_label("Endpoint URL").fill("not a url")
        region.get_by_role("button", name="Save webhook").click()
        expect(region.get_by_role("alert")).to_have_text("Invalid webhook URL")
        screenshot(page, f"inbox-webhooks-{label}-add.png")
        assert_fits(page)
        assert errors == []
        context.close()
