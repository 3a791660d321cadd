"""Each account's blocklist in memory, current on every instance without waiting for a bus.

Every blocklist change bumps `accounts.blocklist_version` in its transaction. The gate
reads the account on every request (from the database, or from the account cache, which
drops it synchronously on `account.changed`), so comparing versions tells whether the copy
here is current: a block works on the next request, whichever instance serves it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from sqlalchemy import select

from frontdesk.blocklist.matcher import EMPTY, Blocklist
from frontdesk.db import Database
from frontdesk.models import Account, BlocklistEntry, Contact

# A verified contact's email follows the site's; a changed one is seen this much later.
CONTACT_EMAIL_SECONDS = 60.0
MAX_CONTACTS = 100_000


class BlocklistCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lists: dict[int, Blocklist] = {}
        self._loading: dict[int, asyncio.Future[Blocklist]] = {}
        self._contact_emails: OrderedDict[int, tuple[float, str]] = OrderedDict()

    def current(self, account: Account) -> Blocklist | None:
        """The account's blocklist if the copy here is current, else None (ask `of`).

        Synchronous, for the gate: every widget request but config asks."""
        version = account.blocklist_version or 0
        if version == 0:
            return EMPTY  # never had an entry: nothing to load
        cached = self._lists.get(account.id)
        return cached if cached is not None and cached.version >= version else None

    async def of(self, account: Account) -> Blocklist:
        current = self.current(account)
        if current is not None:
            return current
        version = account.blocklist_version or 0
        # One load per account at a time: when a change lands under load, every request in
        # flight waits for the same load instead of each making its own.
        loading = self._loading.get(account.id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(account.id))
            self._loading[account.id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(account.id, None))
        blocklist = await asyncio.shield(loading)
        if blocklist.version < version:  # the load began before this change committed
            return await self.of(account)
        return blocklist

    async def _load(self, account_id: int) -> Blocklist:
        async with self.db.read() as session:
            # The version and the entries from one transaction: a copy is never newer
            # or older than the version it is labelled with.
            current = await session.scalar(
                select(Account.blocklist_version).where(Account.id == account_id)
            )
            rows = await session.execute(
                select(BlocklistEntry.kind, BlocklistEntry.value).where(
                    BlocklistEntry.account_id == account_id
                )
            )
            entries = [(kind, value) for kind, value in rows]
        blocklist = Blocklist(int(current or 0), entries)
        known = self._lists.get(account_id)
        if known is None or known.version <= blocklist.version:
            self._lists[account_id] = blocklist
        return blocklist

    async def contact_email(self, contact_id: int) -> str | None:
        now = time.monotonic()
        cached = self._contact_emails.get(contact_id)
        if cached is not None and now - cached[0] < CONTACT_EMAIL_SECONDS:
            return cached[1]
        async with self.db.read() as session:
            email = await session.scalar(
                select(Contact.email_lower).where(Contact.id == contact_id)
            )
        if email is None:
            self._contact_emails.pop(contact_id, None)
            return None
        self._contact_emails[contact_id] = (now, email)
        self._contact_emails.move_to_end(contact_id)
        while len(self._contact_emails) > MAX_CONTACTS:
            self._contact_emails.popitem(last=False)
        return email

    def forget_contact(self, contact_id: int) -> None:
        self._contact_emails.pop(contact_id, None)
