"""Settings: the one place that reads the environment (and `.env`)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(Exception):
    """An operator mistake in the configuration, shown as one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FRONTDESK_", env_file=".env", extra="ignore", frozen=False
    )

    data_dir: Path = Path("./frontdesk-data")
    database_url: str | None = None
    redis_url: str | None = None
    # Namespaces keys and channels, so installations (or test runs) can share one Redis.
    redis_prefix: str = "frontdesk"
    trusted_proxies: str = ""
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Files an account, and one conversation, may hold in all (files/quota.py); 0: no quota.
    storage_quota_bytes: int = Field(default=5 * 1024**3, ge=0)
    conversation_storage_quota_bytes: int = Field(default=100 * 1024**2, ge=0)
    secret_key: str | None = None
    # The address people use for the inbox. A sign-in form posted from it is accepted even
    # when a proxy in front rewrites the Host header (the login-CSRF check compares both).
    public_url: str = "http://127.0.0.1:8000"
    # Webhooks may target private and loopback addresses (receivers inside the network).
    webhook_allow_private: bool = False
    # Seconds to wait after each failed delivery attempt; past the last, it has failed.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    # Email (contract section 8). No SMTP URL: no email at all; see email/settings.py.
    smtp_url: str | None = None
    mail_from: str | None = None
    inbound_domain: str | None = None
    smtp_inbound: str | None = None
    inbound_token: str | None = None
    email_delay_seconds: float = Field(default=120.0, ge=0)
    # Event streams (contract section 12): the longest one lives (clients resume with
    # Last-Event-ID), how often an agent's stream looks at its token again, and how long an
    # open-stream slot in Redis outlives an instance that stopped renewing it (killed).
    stream_max_seconds: float = Field(default=3600.0, gt=0, le=3600)
    stream_recheck_seconds: float = Field(default=30.0, gt=0)
    stream_lease_seconds: float = Field(default=30.0, gt=0)
    # Attachment bytes (contract section 11): `local` (the data dir) or s3://bucket[/prefix],
    # reached at the endpoint below (unset: AWS) with the standard AWS_* credentials.
    file_store: str = "local"
    s3_endpoint_url: str | None = None
    aws_access_key_id: str | None = Field(default=None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(
        default=None, validation_alias="AWS_SECRET_ACCESS_KEY"
    )
    aws_region: str | None = Field(default=None, validation_alias="AWS_REGION")
    # /demo shows the first account's site key: true serves it, false never; unset, only
    # when `frontdesk serve` listens on a loopback address (web/widget_pages.py).
    demo: bool | None = None
    # Set by `frontdesk serve` from --host for its workers (an operator sets --host instead).
    bind_host: str | None = None
    # When set, GET /metrics answers only `Authorization: Bearer <this token>`.
    metrics_token: str | None = None
    # /docs, the API reference page (served from here, no CDN); false turns it off.
    docs: bool = True

    @field_validator(
        "redis_url",
        "database_url",
        "secret_key",
        "smtp_url",
        "mail_from",
        "inbound_domain",
        "smtp_inbound",
        "inbound_token",
        "s3_endpoint_url",
        "demo",
        "bind_host",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("file_store")
    @classmethod
    def _store_address(cls, value: str) -> str:
        value = value.strip()
        if value != "local" and not (value.startswith("s3://") and value[5:].split("/")[0]):
            raise ValueError("must be local or s3://bucket[/prefix]")
        return value

    @cached_property
    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        networks = []
        for part in self.trusted_proxies.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ConfigError(f"FRONTDESK_TRUSTED_PROXIES: {part!r} is not an address") from exc
        return tuple(networks)

    @cached_property
    def retry_schedule(self) -> tuple[float, ...]:
        try:
            delays = tuple(float(part) for part in self.webhook_retry_schedule.split(","))
        except ValueError:
            delays = ()
        if not delays or any(not 0 <= delay < 10**7 for delay in delays):
            raise ConfigError(
                "FRONTDESK_WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, e.g. 5,300,1800"
            )
        return delays

    def ensure_data_dir(self) -> Path:
        """The data dir, created 0700 if missing (it holds the database, files and secret),
        with the SQLite database created 0600 before SQLite would make it world-readable."""
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.database_url is None:
                database = self.data_dir / "frontdesk.db"
                # SQLite gives its -wal and -shm files the database's own permissions.
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
            probe = self.data_dir / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"The data directory {self.data_dir} is not writable: {exc.strerror}"
            ) from exc
        return self.data_dir

    @property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL with the async driver, from a plain one a user writes."""
        url = self.database_url
        if url is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'frontdesk.db').resolve()}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            return url
        raise ConfigError(
            "FRONTDESK_DATABASE_URL must start with postgresql:// or sqlite:// "
            f"(got {url.split('://')[0]}://...)"
        )

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once into the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.ensure_data_dir() / "secret_key"
        try:
            # O_EXCL: several workers starting at once agree on the first one written.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
