"""`frontdesk`: serve, account create, db upgrade. Operator mistakes are one line on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import errno
import json
import os
import resource
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from frontdesk import migrations
from frontdesk.accounts.service import NewAccount, count_accounts, create_account
from frontdesk.agents.passwords import generate_password
from frontdesk.config import ConfigError, Settings
from frontdesk.db import Database
from frontdesk.db.serving_lock import DatabaseInUse, ServingLock
from frontdesk.errors import AppError, first_line
from frontdesk.kit.validation import normalized_email
from frontdesk.moving import MoveError
from frontdesk.retention.command import run_now as run_retention
from frontdesk.web.exposure import demo_on


class CommandError(Exception):
    """Shown to the operator as one line, with exit status 1."""


def load_settings(ensure_data_dir: bool = True) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "FRONTDESK_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise CommandError(f"{field}: {first['msg']}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"The .env file is not UTF-8 text: {exc.reason}") from exc
    # Read now, so a bad value stops the command before it does anything (serve would
    # otherwise set up the first account first).
    settings.trusted_networks  # noqa: B018
    settings.retry_schedule  # noqa: B018
    if ensure_data_dir:
        settings.ensure_data_dir()
    return settings


def upgrade_schema(settings: Settings) -> None:
    url = settings.async_database_url
    try:
        migrations.upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = first_line(exc)
        raise CommandError(f"Can't open the database {_safe_url(url)}: {reason}") from exc


def _safe_url(url: str) -> str:
    # Never print a password from a URL.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url


async def _create_account(
    settings: Settings, name: str, email: str, password: str | None
) -> NewAccount:
    db = Database(settings.async_database_url)
    try:
        async with db.write() as session:
            return await create_account(
                session,
                name=name,
                admin_email=email,
                admin_password=password or generate_password(),
                admin_name="Admin",
            )
    finally:
        await db.dispose()


async def _bootstrap(settings: Settings) -> NewAccount | None:
    """On an empty database: a first account and admin, so a new user can start at once."""
    db = Database(settings.async_database_url)
    try:
        async with db.write() as session:
            if not db.is_sqlite:
                # Instances starting together on an empty database: one sets it up.
                await session.execute(text("SELECT pg_advisory_xact_lock(7263542)"))
            if await count_accounts(session):
                return None
            return await create_account(
                session,
                name="My Company",
                admin_email="admin@example.com",
                admin_password=generate_password(),
                admin_name="Admin",
            )
    finally:
        await db.dispose()


FIRST_CREDENTIALS = "first-admin-credentials.txt"


def _write_first_credentials(settings: Settings, created: NewAccount) -> Path:
    """The first admin's password and API token, once, in a 0600 file in the data dir."""
    path = settings.data_dir.resolve() / FIRST_CREDENTIALS
    body = (
        "Frontdesk's first admin (delete this file once you have changed the password).\n"
        f"admin:     {created.admin.email}\n"
        f"password:  {created.admin_password}\n"
        f"api token: {created.api_token}\n"
    )
    # A file left from an earlier database goes; O_EXCL then never writes through a link.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    return path


def _raise_open_file_limit() -> None:
    """Every open event stream holds a socket; the usual soft limit of 1,024 is too few."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            wanted = soft
    if wanted < 10_000:
        print(
            f"frontdesk: warning: the open-file limit is {wanted}, so at most about that many "
            "chats can be open at once; raise it (ulimit -n, or LimitNOFILE= under systemd)",
            file=sys.stderr,
        )


def _check_sole_server(settings: Settings) -> None:
    """Say it plainly when another process already serves this SQLite database."""
    if not settings.is_sqlite or settings.redis_url:
        return
    probe = ServingLock(make_url(settings.async_database_url).database or "")
    try:
        probe.acquire()
    except DatabaseInUse as exc:
        raise CommandError(str(exc)) from exc
    finally:
        probe.release()


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(f"Port {port} on {host} is already in use") from exc
            raise CommandError(f"Can't listen on {host}:{port}: {exc.strerror}") from exc


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from frontdesk.ops.http_protocol import CoalescingHttpProtocol

    settings = load_settings()
    if args.workers > 1 and not settings.redis_url:
        raise CommandError(
            "--workers above 1 needs FRONTDESK_REDIS_URL: instances share limits and events there"
        )
    _check_port(args.host, args.port)
    _raise_open_file_limit()
    upgrade_schema(settings)
    _check_sole_server(settings)
    created = asyncio.run(_bootstrap(settings))
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"  # an IPv6 address in a URL (RFC 3986)
    base = f"http://{shown_host}:{args.port}"
    if created is not None:
        print("Frontdesk is set up. Your first account:")
        print(f"  site key:   {created.account.site_key}")
        print(f"  admin:      {created.admin.email}")
        if sys.stdout.isatty():
            print(f"  password:   {created.admin_password}")
            print(f"  api token:  {created.api_token}")
        else:
            # Not a person at a terminal: a service manager's log, which keeps what it is
            # given and shows it to whoever reads logs. The secrets go to a file only the
            # server's user can read.
            path = _write_first_credentials(settings, created)
            print(f"  password:   in {path} (with the API token; readable only by you)")
    print(f"  inbox:      {base}/inbox")
    if demo_on(settings, args.host):
        print(f"  demo page:  {base}/demo")
    if settings.docs:
        print(f"  API docs:   {base}/docs")
    sys.stdout.flush()
    # Workers build their settings from the environment: this is how they learn the bind.
    os.environ["FRONTDESK_BIND_HOST"] = args.host
    uvicorn.run(
        "frontdesk.app:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # uvicorn's httptools protocol, sending each answer's head and body in one write.
        http=CoalescingHttpProtocol,
        # The contract's own X-Forwarded-For rule applies (FRONTDESK_TRUSTED_PROXIES);
        # uvicorn's default would believe the header from 127.0.0.1.
        proxy_headers=False,
        forwarded_allow_ips="",
        server_header=False,
        log_level="info",
        log_config=_log_config(args.access_log),
        access_log=False,  # it would log visitor_tokens; ops/metrics.py logs route templates
        timeout_graceful_shutdown=3,
    )
    return 0


def _log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging, plus Frontdesk's loggers; workers are configured from it too."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["frontdesk"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # Off by default, like gunicorn's: a reverse proxy usually logs requests already, and a
    # line per request costs a tenth of a cached chat request.
    config["loggers"]["frontdesk.access"] = {
        "handlers": ["default"],
        "level": "INFO" if access_log else "WARNING",
        "propagate": False,
    }
    return config


def cmd_account_create(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.name.strip():
        raise CommandError("--name must not be blank")
    if normalized_email(args.admin_email) is None:
        raise CommandError(f"--admin-email {args.admin_email!r} is not a valid email address")
    if args.admin_password is not None and len(args.admin_password) < 10:
        raise CommandError("--admin-password must be at least 10 characters")
    upgrade_schema(settings)
    try:
        created = asyncio.run(
            _create_account(settings, args.name.strip(), args.admin_email, args.admin_password)
        )
    except AppError as exc:
        raise CommandError(exc.message) from exc
    result = {
        "account_id": created.account.id,
        "site_key": created.account.site_key,
        "admin_email": created.admin.email,
        "admin_password": created.admin_password,
        "api_token": created.api_token,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade_schema(settings)
    print("Database schema is up to date.", file=sys.stderr)
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    from frontdesk.moving.commands import db_copy

    settings = load_settings()
    upgrade_schema(settings)
    print(db_copy(settings, args.to, args.files_to), file=sys.stderr)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from frontdesk.moving.commands import take_backup

    # No schema upgrade: a backup only reads, and may run beside a serving older version.
    # Nor a data dir made: with no install here, there is nothing to back up.
    print(take_backup(load_settings(ensure_data_dir=False), args.file), file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from frontdesk.moving.commands import restore_backup

    # The data dir must be empty: nothing may be made in it before the check.
    print(restore_backup(load_settings(ensure_data_dir=False), args.file), file=sys.stderr)
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    if args.days is not None and not 0 <= args.days <= 3650:
        raise CommandError("--days must be a whole number from 0 to 3650")
    settings = load_settings()
    upgrade_schema(settings)
    erased = asyncio.run(run_retention(settings, args.days))
    print(f"Erased {erased} closed conversations.")
    return 0


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high}")
        return int(text)

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdesk", description="Self-hosted live chat.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_whole_number(1, 65535), default=8000)
    serve.add_argument("--workers", type=_whole_number(1, 512), default=1)
    serve.add_argument(
        "--access-log", action="store_true", help="log every request (route, never the path)"
    )
    serve.set_defaults(run=cmd_serve)

    account = commands.add_parser("account", help="manage accounts")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    create = account_commands.add_parser("create", help="create an account and its admin")
    create.add_argument("--name", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-password")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(run=cmd_account_create)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(run=cmd_db_upgrade)
    db_copy = db_commands.add_parser(
        "copy", help="copy this install into an empty database (e.g. SQLite to PostgreSQL)"
    )
    db_copy.add_argument("--to", required=True, metavar="URL", help="the empty database")
    db_copy.add_argument(
        "--files-to", metavar="STORE", help="also copy the files: local or s3://bucket[/prefix]"
    )
    db_copy.set_defaults(run=cmd_db_copy)

    backup = commands.add_parser(
        "backup", help="a consistent snapshot of a SQLite install (database, files), while serving"
    )
    backup.add_argument("file", metavar="FILE.tar.gz")
    backup.set_defaults(run=cmd_backup)
    restore = commands.add_parser("restore", help="unpack a backup into an empty data dir")
    restore.add_argument("file", metavar="FILE.tar.gz")
    restore.set_defaults(run=cmd_restore)

    retention = commands.add_parser("retention", help="erase old closed conversations")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    run = retention_commands.add_parser("run", help="run the retention sweep now")
    run.add_argument(
        "--days", type=int, help="for every account, whatever its setting (0: every closed one)"
    )
    run.set_defaults(run=cmd_retention_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (CommandError, ConfigError, MoveError) as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
