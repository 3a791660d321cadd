"""Replies by email (section 8.4): real SMTP into the receiver, and the HTTP route."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from email.message import EmailMessage

import pytest

from tests.availability.test_settings_and_away import AWAY, close_account
from tests.mail.conftest import INBOUND_DOMAIN, INBOUND_TOKEN, MAX_UPLOAD
from tests.mail.test_outbound import AGENT, conversation_id
from tests.support.accounts import start_conversation

ROUTE = "/api/v1/inbound/email"
QUOTED = """Yes, the invoice number is 4711.

On Mon, Jan 6, 2025 at 10:00 AM Acme <support@frontdesk.example> wrote:
> You have a new reply from Acme
> Which invoice?
"""


async def reply_address(client, account, sink) -> tuple[str, int]:
    """A conversation whose contact got an email, and the address to answer it at."""
    token = await start_conversation(client, account)
    cid = await conversation_id(client, account, token)
    await client.post(
        f"{AGENT}/{cid}/messages", json={"message": "Which invoice?"}, headers=account.admin
    )
    for _ in range(300):
        to_contact = [e for e in sink.emails() if e["Reply-To"] and f"/c/{cid}" not in e.text]
        if to_contact:
            break
        await asyncio.sleep(0.05)
    address = str(to_contact[-1]["Reply-To"].addresses[0].addr_spec)
    assert address.startswith("reply+") and address.endswith("@" + INBOUND_DOMAIN)
    return address, cid


def mail(to: str, body: str = QUOTED, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Jane Doe <jane@example.com>"
    message["To"] = to
    message["Subject"] = "Re: New reply from Acme"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def attach(message: EmailMessage, name: str, size: int) -> None:
    message.add_attachment(
        b"x" * size, maintype="application", subtype="octet-stream", filename=name
    )


async def smtp_send(port: int, message: EmailMessage, to: str, mail_from: str = "jane@example.com"):
    def send() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            # On the wire, lines end in CRLF (smtplib leaves bytes as they are).
            raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            smtp.sendmail(mail_from, [to], raw)

    await asyncio.to_thread(send)


async def messages(client, account, cid: int) -> list[dict]:
    view = await client.get(f"{AGENT}/{cid}", headers=account.admin)
    return [m for m in view.json()["messages"] if m["direction"] == "inbound"][1:]


async def test_a_reply_by_smtp_becomes_one_clean_message_with_its_file(
    client, account, sink, inbound_port
):
    address, cid = await reply_address(client, account, sink)
    await client.patch(f"{AGENT}/{cid}", json={"status": "closed"}, headers=account.admin)
    message = mail(address)
    attach(message, "invoice.pdf", 100)
    await smtp_send(inbound_port, message, address)
    stored = await messages(client, account, cid)
    assert len(stored) == 1
    assert stored[0]["body"] == "Yes, the invoice number is 4711."
    assert stored[0]["author"] == "Jane Doe"
    assert [a["filename"] for a in stored[0]["attachments"]] == ["invoice.pdf"]
    download = await client.get(stored[0]["attachments"][0]["url"], headers=account.admin)
    assert download.content == b"x" * 100
    view = await client.get(f"{AGENT}/{cid}", headers=account.admin)
    assert view.json()["status"] == "open"  # reopened
    # The same Message-ID again (a copy, a retry) stores nothing more.
    await smtp_send(inbound_port, message, address)
    assert len(await messages(client, account, cid)) == 1


# The signature's separator is "-- " (with its space), the usual one.
SIGNED = (
    "Yes, the invoice number is 4711.\n\n-- \nJane Doe\nDoe Trading Ltd.\n\n"
    "On Mon, Jan 6, 2025 at 10:00 AM Acme <support@frontdesk.example> wrote:\n"
    "> Which invoice?\n"
)


async def test_signatures_are_taken_off_like_quoted_history(client, account, sink, inbound_port):
    # Contract section 8.4: "with quoted history and signature removed".
    address, cid = await reply_address(client, account, sink)
    for body in (
        SIGNED,
        "Yes, the invoice number is 4711.\n\n-- \nJane Doe\n",
        "Yes, the invoice number is 4711.\n\nSent from my iPhone\n",
    ):
        await smtp_send(inbound_port, mail(address, body=body), address)
    stored = [m["body"] for m in await messages(client, account, cid)]
    assert stored == ["Yes, the invoice number is 4711."] * 3


async def test_quoted_lines_without_an_attribution_are_history_too(
    client, account, sink, inbound_port
):
    # Some clients quote with ">" alone, no "On ... wrote:" above: above or below the answer.
    address, cid = await reply_address(client, account, sink)
    for body in (
        "Yes, the invoice number is 4711.\n\n> Which invoice?\n> Acme\n",
        "> Which invoice?\n>\n\nYes, the invoice number is 4711.\n",
        # Answers written between the quotes keep them: they say what is answered.
        "About the invoice:\n> Which invoice?\n4711.\n> When?\nMonday.\n\n> -- \n> Acme\n",
    ):
        await smtp_send(inbound_port, mail(address, body=body), address)
    stored = [m["body"] for m in await messages(client, account, cid)]
    assert stored == [
        "Yes, the invoice number is 4711.",
        "Yes, the invoice number is 4711.",
        "About the invoice:\n> Which invoice?\n4711.\n> When?\nMonday.",
    ]


async def test_auto_replies_bounces_and_lists_store_nothing(client, account, sink, inbound_port):
    address, cid = await reply_address(client, account, sink)
    await smtp_send(inbound_port, mail(address, Auto_Submitted="auto-replied"), address)
    await smtp_send(inbound_port, mail(address, Precedence="bulk"), address)
    await smtp_send(inbound_port, mail(address, Precedence="list"), address)
    await smtp_send(inbound_port, mail(address), address, mail_from="")  # MAIL FROM:<>
    await smtp_send(inbound_port, mail(address, Auto_Submitted="no"), address)
    assert [m["body"] for m in await messages(client, account, cid)] == [
        "Yes, the invoice number is 4711."
    ]


async def test_unknown_reply_addresses_are_refused_at_rcpt_to(client, account, sink, inbound_port):
    await reply_address(client, account, sink)
    for unknown in (
        f"reply+0123456789abcdef01234567@{INBOUND_DOMAIN}",
        f"someone@{INBOUND_DOMAIN}",
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await smtp_send(inbound_port, mail(unknown), unknown)
        assert refused.value.recipients[unknown][0] == 550


async def test_inbound_file_limits_at_and_past_the_edge(client, account, sink, inbound_port):
    address, cid = await reply_address(client, account, sink)
    at_edge = mail(address, body="ten files")
    for i in range(10):
        attach(at_edge, f"f{i}.bin", MAX_UPLOAD if i == 0 else 10)
    await smtp_send(inbound_port, at_edge, address)
    stored = await messages(client, account, cid)
    assert len(stored[0]["attachments"]) == 10
    assert stored[0]["attachments"][0]["size"] == MAX_UPLOAD
    too_big = mail(address, body="too big")
    attach(too_big, "big.bin", MAX_UPLOAD + 1)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await smtp_send(inbound_port, too_big, address)
    assert refused.value.smtp_code == 552
    too_many = mail(address, body="eleven")
    for i in range(11):
        attach(too_many, f"f{i}.bin", 10)
    response = await client.post(
        ROUTE,
        content=too_many.as_bytes(),
        headers={"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 413 and response.json() == {"error": "Request body too large"}
    assert len(await messages(client, account, cid)) == 1


async def test_the_http_route_stores_like_smtp(client, account, sink):
    address, cid = await reply_address(client, account, sink)
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"}
    message = mail(address)
    response = await client.post(ROUTE, content=message.as_bytes(), headers=auth)
    assert response.status_code == 202 and response.json() == {"status": "accepted"}
    again = await client.post(ROUTE, content=message.as_bytes(), headers=auth)
    assert again.status_code == 202 and again.json() == {"status": "accepted"}
    ignored = mail(address, Auto_Submitted="auto-generated")
    assert (await client.post(ROUTE, content=ignored.as_bytes(), headers=auth)).status_code == 202
    bounce = mail(address, Return_Path="<>")
    assert (await client.post(ROUTE, content=bounce.as_bytes(), headers=auth)).status_code == 202
    assert [m["body"] for m in await messages(client, account, cid)] == [
        "Yes, the invoice number is 4711."
    ]
    wrong = {**auth, "Authorization": "Bearer nope"}
    response = await client.post(ROUTE, content=message.as_bytes(), headers=wrong)
    assert response.status_code == 401
    unknown = mail(f"reply+ffffffffffffffffffffffff@{INBOUND_DOMAIN}")
    response = await client.post(ROUTE, content=unknown.as_bytes(), headers=auth)
    assert response.status_code == 404 and response.json() == {"error": "Conversation not found"}


async def test_a_reply_while_closed_gets_the_away_message_once(client, account, sink):
    """Section 7: a visitor message in a closed period, by email too, gets the away message
    stored once; a second reply in the same period does not get it again."""
    address, cid = await reply_address(client, account, sink)
    await close_account(client, account)
    auth = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"}
    for body in ("Are you there?", "Hello?"):
        response = await client.post(ROUTE, content=mail(address, body).as_bytes(), headers=auth)
        assert response.status_code == 202
    view = (await client.get(f"{AGENT}/{cid}", headers=account.admin)).json()
    said = [(m["direction"], m["body"]) for m in view["messages"]][-4:]
    assert said == [
        ("outbound", "Which invoice?"),
        ("inbound", "Are you there?"),
        ("outbound", AWAY),
        ("inbound", "Hello?"),
    ]
