"""The email settings, read once from Settings; None when FRONTDESK_SMTP_URL is unset."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from frontdesk.config import ConfigError, Settings

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True, slots=True)
class MailConfig:
    host: str
    port: int
    implicit_tls: bool  # smtps://; smtp:// upgrades with STARTTLS when the server offers it
    username: str | None
    password: str | None
    mail_from: str
    inbound_domain: str | None
    delay_us: int
    public_url: str

    @property
    def from_domain(self) -> str:
        return self.mail_from.rsplit("@", 1)[-1]

    def reply_address(self, token: str | None) -> str | None:
        if token is None or not self.inbound_domain:
            return None
        return f"reply+{token}@{self.inbound_domain}"


def mail_config(settings: Settings) -> MailConfig | None:
    if not settings.smtp_url:
        return None
    url = urlsplit(settings.smtp_url)
    if url.scheme not in DEFAULT_PORTS or not url.hostname:
        raise ConfigError(
            "FRONTDESK_SMTP_URL must look like smtp://[user:password@]host[:port] or smtps://…"
        )
    try:
        port = url.port or DEFAULT_PORTS[url.scheme]
    except ValueError as exc:
        raise ConfigError("FRONTDESK_SMTP_URL has an invalid port") from exc
    public_host = urlsplit(settings.public_url).hostname or "localhost"
    return MailConfig(
        host=url.hostname,
        port=port,
        implicit_tls=url.scheme == "smtps",
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        mail_from=settings.mail_from or f"frontdesk@{public_host}",
        inbound_domain=(settings.inbound_domain or "").strip().lower() or None,
        delay_us=int(settings.email_delay_seconds * 1_000_000),
        public_url=settings.public_url.rstrip("/"),
    )


def inbound_address(settings: Settings) -> tuple[str, int] | None:
    """FRONTDESK_SMTP_INBOUND as (host, port), or None."""
    raw = settings.smtp_inbound
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("FRONTDESK_SMTP_INBOUND must be host:port, e.g. 0.0.0.0:2525")
    return host.strip("[]"), int(port)
