"""The outbox's handler for `email` jobs: compose ones and send ones (see __init__)."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from frontdesk.db import Database
from frontdesk.mail.compose import COMPOSERS, compose
from frontdesk.mail.config import MailConfig
from frontdesk.mail.queue import KIND, SEND
from frontdesk.mail.render import Outgoing
from frontdesk.mail.sender import SmtpSender
from frontdesk.outbox.jobs import ClaimedJob, Outcome, insert_jobs, job_values


class EmailJobs:
    def __init__(self, db: Database, config: MailConfig, wake: Callable[[], None]) -> None:
        self.db = db
        self.config = config
        self.sender = SmtpSender(config)
        self.wake = wake

    async def __call__(self, job: ClaimedJob) -> Outcome:
        if job.event_type == SEND:
            return await self.sender.send(Outgoing.from_payload(job.payload))
        if job.event_type not in COMPOSERS:
            return Outcome(False, error=f"Unknown email job {job.event_type}")
        async with self.db.write() as session:
            emails = await compose(session, self.config, job.event_type, orjson.loads(job.payload))
            await insert_jobs(
                session,
                [
                    job_values(
                        account_id=job.account_id,
                        kind=KIND,
                        event_type=SEND,
                        payload=email.payload(),
                    )
                    for email in emails
                ],
            )
        if emails:
            self.wake()  # the send jobs are due now; this worker holds no wake-up for them
        return Outcome(True)
