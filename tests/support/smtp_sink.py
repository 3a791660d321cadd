"""A real SMTP server on 127.0.0.1 (aiosmtpd's Controller) that keeps what it is sent."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.live_server import free_port


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, subtype
        content: str = body.get_content()
        return content

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")

    def __getitem__(self, header: str) -> Any:
        return self.message[header]


@dataclass
class Sink:
    url: str
    delivered: list[Delivered] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Answers for the next DATA commands (e.g. "451 try later"), then "250 OK".
    answers: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.answers:
                return self.answers.pop(0)
            self.delivered.append(
                Delivered(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 OK"

    def emails(self) -> list[Delivered]:
        with self.lock:
            return list(self.delivered)

    async def arrived(self, count: int, within: float = 15.0) -> list[Delivered]:
        """The first `count` emails once that many have arrived (then a moment for extras)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(got := self.emails()) >= count:
                return got[:count]
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.emails())} of {count} emails arrived")

    def wait_for(self, count: int, within: float = 30.0) -> list[Delivered]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if len(got := self.emails()) >= count:
                return got[:count]
            time.sleep(0.05)
        raise AssertionError(f"{len(self.emails())} of {count} emails arrived")

    def to(self, address: str) -> list[Delivered]:
        return [d for d in self.emails() if address in d.rcpt_tos]


@contextmanager
def smtp_sink() -> Iterator[Sink]:
    port = free_port()
    sink = Sink(f"smtp://127.0.0.1:{port}")
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
