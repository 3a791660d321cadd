"""One attempt at an `email.send` job: the stored email over SMTP, as it was composed."""

from __future__ import annotations

import asyncio

import aiosmtplib

from frontdesk.mail.config import MailConfig
from frontdesk.mail.render import Outgoing, mime
from frontdesk.outbox.jobs import Outcome

# The whole exchange, connection included; well inside the outbox's lease.
TIMEOUT_SECONDS = 30.0


class SmtpSender:
    def __init__(self, config: MailConfig) -> None:
        self.config = config

    async def send(self, email: Outgoing) -> Outcome:
        config = self.config
        message = mime(email, config.mail_from)
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await aiosmtplib.send(
                    message,
                    sender=config.mail_from,
                    recipients=[email.to],
                    hostname=config.host,
                    port=config.port,
                    username=config.username,
                    password=config.password,
                    use_tls=config.implicit_tls,
                    # None: STARTTLS when the server offers it, plain otherwise.
                    start_tls=None if not config.implicit_tls else False,
                    timeout=TIMEOUT_SECONDS,
                )
        except TimeoutError:
            return Outcome(False, error=f"No answer within {TIMEOUT_SECONDS:g} seconds")
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(False, exc.code, f"The mail server answered {exc.code}: {exc.message}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(False, error=str(exc) or type(exc).__name__)
        return Outcome(True)
