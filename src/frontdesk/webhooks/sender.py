"""One delivery attempt: POST the stored body, signed now, to the endpoint as it is now."""

from __future__ import annotations

import asyncio
import time

import httpx

from frontdesk import __version__
from frontdesk.db import Database
from frontdesk.models import Webhook
from frontdesk.outbox.jobs import ClaimedJob, Outcome
from frontdesk.webhooks.addresses import GuardedTransport
from frontdesk.webhooks.signing import signature

# Success is a 2xx within this long, connection included (contract section 5).
TIMEOUT_SECONDS = 10.0
USER_AGENT = f"Frontdesk-Webhooks/{__version__}"
TEST_EVENT = "webhook.test"


class WebhookSender:
    """The outbox's handler for `webhook` jobs."""

    def __init__(self, db: Database, allow_private: bool) -> None:
        self.db = db
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(allow_private),
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,  # a redirect is a failure, not a second target
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def __call__(self, job: ClaimedJob) -> Outcome:
        async with self.db.read() as session:
            webhook = await session.get(Webhook, job.webhook_id)
        if webhook is None:
            return Outcome(False, error="The endpoint was removed")
        if not webhook.active and job.event_type != TEST_EVENT:
            return Outcome(False, error="The endpoint is inactive")
        body = job.payload.encode()
        # Signed at each attempt with the endpoint's secret of the moment: after a rotation
        # the old secret signs nothing more, retries included.
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": job.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(webhook.secret, job.message_id, timestamp, body),
        }
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                request = self.client.build_request(
                    "POST", webhook.url, content=body, headers=headers
                )
                # The answer's body is never read: a receiver can't make us hold megabytes.
                response = await self.client.send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return Outcome(False, error=f"No answer within {TIMEOUT_SECONDS:g} seconds")
        except httpx.HTTPError as exc:
            return Outcome(False, error=str(exc) or type(exc).__name__)
        except (httpx.InvalidURL, UnicodeError) as exc:  # saved before the URL checks were
            return Outcome(False, error=f"The URL can't be sent to ({exc})")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True, status)
        if 300 <= status < 400:
            return Outcome(False, status, f"Redirected ({status}); redirects are not followed")
        return Outcome(False, status, f"The endpoint answered {status}")
