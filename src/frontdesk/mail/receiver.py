"""The SMTP door for replies (FRONTDESK_SMTP_INBOUND): aiosmtpd inside `serve`.

Unknown reply addresses are refused at RCPT TO (550), so the sending server bounces them
to their author at once rather than us accepting mail no one will read. The listening
socket is opened with SO_REUSEPORT, so every worker process of `serve` can share the port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from frontdesk.errors import AppError
from frontdesk.mail.inbound import InboundMail, max_raw_bytes

log = logging.getLogger("frontdesk")


class ReplyHandler:
    def __init__(self, inbound: InboundMail) -> None:
        self.inbound = inbound

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if await self.inbound.conversation_for([address]) is None:
            return "550 5.1.1 No such conversation"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)  # decode_data=False
        try:
            await self.inbound.receive(raw, list(envelope.rcpt_tos), envelope.mail_from or "")
        except AppError as exc:
            if exc.status == 413:
                return "552 5.3.4 Message too big for this conversation"
            return "550 5.1.1 No such conversation"
        except Exception:
            log.exception("inbound email: could not store a reply")
            return "451 4.3.0 Try again later"
        return "250 OK"


class SmtpReceiver:
    def __init__(self, inbound: InboundMail, host: str, port: int) -> None:
        self.handler = ReplyHandler(inbound)
        self.host = host
        self.port = port
        self.limit = max_raw_bytes(inbound.max_upload_bytes)
        self._server: asyncio.Server | None = None

    def _protocol(self) -> SMTP:
        return SMTP(self.handler, data_size_limit=self.limit, ident="Frontdesk")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, reuse_port=True
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
