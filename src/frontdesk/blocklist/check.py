"""The widget's blocklist check (contract section 9): after the rate limit, every route but
config. A blocked client is its address, the email it gives, or its conversation's contact."""

from __future__ import annotations

from frontdesk.errors import AppError
from frontdesk.models import Account
from frontdesk.runtime import Runtime

BLOCKED = "You have been blocked"


def surely_clear(rt: Runtime, account: Account) -> bool:
    """True when the account's list is known, here and now, to be empty: check_client would
    pass anyone. Synchronous, so the gate's usual case awaits nothing."""
    blocklist = rt.blocklist.current(account)
    return blocklist is not None and blocklist.empty


async def check_client(
    rt: Runtime, account: Account, address: str, visitor_token: str | None
) -> None:
    blocklist = await rt.blocklist.of(account)
    if blocklist.empty:
        return
    if blocklist.address_blocked(address):
        raise AppError(403, BLOCKED)
    if visitor_token is not None and blocklist.has_emails:
        conversation = await rt.conversations.conversation(account.id, visitor_token)
        if conversation is not None and blocklist.email_blocked(
            await rt.blocklist.contact_email(conversation.contact_id)
        ):
            raise AppError(403, BLOCKED)


async def check_email(rt: Runtime, account: Account, email: str) -> None:
    if (await rt.blocklist.of(account)).email_blocked(email):
        raise AppError(403, BLOCKED)
