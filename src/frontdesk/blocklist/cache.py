"""Each account's blocklist in memory, current on every instance without waiting for a bus.

Every blocklist change bumps `accounts.blocklist_version` in its transaction. The gate
reads the account on every request (from the database, or from the account cache, which
drops it synchronously on `account.changed`), so comparing versions tells whether the copy
here is current: a block works on the next request, whichever instance serves it.
"""

from __future__ import annotations

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
        self._contact_emails: OrderedDict[int, tuple[float, str]] = OrderedDict()

    async def of(self, account: Account) -> Blocklist:
        version = account.blocklist_version or 0
        if version == 0:
            return EMPTY  # never had an entry: nothing to load
        cached = self._lists.get(account.id)
        if cached is not None and cached.version == version:
            return cached
        async with self.db.read() as session:
            # The version and the entries from one transaction: a copy is never newer
            # or older than the version it is labelled with.
            current = await session.scalar(
                select(Account.blocklist_version).where(Account.id == account.id)
            )
            rows = await session.execute(
                select(BlocklistEntry.kind, BlocklistEntry.value).where(
                    BlocklistEntry.account_id == account.id
                )
            )
            blocklist = Blocklist(int(current or 0), [(kind, value) for kind, value in rows])
        self._lists[account.id] = blocklist
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
