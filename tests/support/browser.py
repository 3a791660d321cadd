"""Browser tests: Debian's Chromium driven by Playwright, a live Frontdesk, a host site.

Never downloads a browser: Chromium comes from Debian (`apt-get install chromium`).
Every browser test uses Playwright's sync API through the `browser` fixture below (one
Chromium per module), registered for the whole suite by tests/conftest.py. Nothing here
calls `asyncio.run()` in the main thread, where that API keeps its loop (see off_loop.py),
so fixtures may be set up in any order.
"""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from frontdesk import migrations
from frontdesk.accounts.service import create_account
from frontdesk.app import create_app
from frontdesk.config import Settings
from frontdesk.db import Database
from frontdesk.ops.http_protocol import CoalescingHttpProtocol
from tests.support.live_server import free_port, live_server
from tests.support.off_loop import run_off_loop
from tests.support.services import chromium_path, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class LiveFrontdesk:
    base_url: str
    site_key: str
    admin_email: str
    admin_password: str
    admin_token: str
    account_id: int

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@contextmanager
def live_frontdesk(
    data_dir: Path, protocol: type[asyncio.Protocol] = CoalescingHttpProtocol, **settings: object
) -> Iterator[LiveFrontdesk]:
    """A real server on SQLite in `data_dir`, with one account made the way the CLI makes it
    (served with `protocol`, by default the one `frontdesk serve` uses)."""
    values: dict[str, Any] = {"data_dir": data_dir, "secret_key": "browser-tests", **settings}
    config = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    config.ensure_data_dir()
    migrations.upgrade(config.async_database_url)

    async def make() -> tuple[int, str, str]:
        db = Database(config.async_database_url)
        try:
            async with db.write() as session:
                created = await create_account(
                    session,
                    name="Acme Shop",
                    admin_email="admin@example.com",
                    admin_password="correct horse battery",
                    admin_name="Ada Admin",
                )
                return created.account.id, created.account.site_key, created.api_token
        finally:
            await db.dispose()

    account_id, site_key, token = run_off_loop(make)
    with live_server(create_app(config), protocol) as base_url:
        yield LiveFrontdesk(
            base_url, site_key, "admin@example.com", "correct horse battery", token, account_id
        )


@contextmanager
def static_site(pages: dict[str, str]) -> Iterator[str]:
    """Serve fixed HTML pages from another origin (another port) than Frontdesk."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def launch_chromium(playwright: Playwright) -> Browser:
    path = chromium_path()
    require("Chromium", path is not None, "install Debian's chromium package")
    return playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    """Playwright's sync API for one module's tests; module-scoped, not session-scoped,
    because while it is open no asyncio test can run in this thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One Debian Chromium per module; tests open their own contexts in it."""
    chromium = launch_chromium(playwright_instance)
    yield chromium
    chromium.close()
