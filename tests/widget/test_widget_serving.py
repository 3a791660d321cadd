"""/widget.js as a plain, small, cacheable script, and the /demo page that embeds it."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx

import frontdesk as frontdesk_package
from frontdesk import migrations
from frontdesk.accounts.service import create_account
from frontdesk.app import create_app
from frontdesk.config import Settings
from frontdesk.db import Database
from tests.support.browser import LiveFrontdesk
from tests.support.live_server import live_server
from tests.support.off_loop import run_off_loop

# 16 KiB gzipped: Part two adds the away notice, typing and ratings to the widget; this is
# still a fraction of one hosted widget's loader, and every byte is our own (no framework).
BUDGET = 16 * 1024  # bytes, gzipped


def test_widget_js_fits_the_budget_gzipped(frontdesk: LiveFrontdesk) -> None:
    response = httpx.get(f"{frontdesk.base_url}/widget.js")
    assert response.status_code == 200
    size = len(gzip.compress(response.content, compresslevel=9))
    print(f"widget.js: {len(response.content)} bytes, {size} bytes gzipped")
    assert size <= BUDGET, f"widget.js is {size} bytes gzipped, over the {BUDGET} budget"


def test_widget_js_is_a_plain_cacheable_script(frontdesk: LiveFrontdesk) -> None:
    response = httpx.get(
        f"{frontdesk.base_url}/widget.js", headers={"Origin": "https://shop.example.com"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/javascript"
    cache = response.headers["cache-control"]
    assert "public" in cache
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 3600, "a fix must reach customers' sites within the hour"
    # A <script> tag needs no CORS, and the widget must never ride on cookies.
    assert "access-control-allow-credentials" not in response.headers
    assert "set-cookie" not in response.headers
    # Plain ASCII: the script reads the same whatever charset the host page declares.
    response.content.decode("ascii")
    assert b"data-site-key" in response.content

    again = httpx.get(
        f"{frontdesk.base_url}/widget.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


def test_widget_js_is_served_whole_with_its_parts_and_styles_put_in(
    frontdesk: LiveFrontdesk,
) -> None:
    served = httpx.get(f"{frontdesk.base_url}/widget.js").content
    static = Path(frontdesk_package.__file__).parent / "web" / "static"
    assert b"@include" not in served and b"__FRONTDESK_WIDGET_CSS__" not in served
    for part in ("widget_dom.js", "widget_host.js"):
        assert (static / part).read_bytes() in served, f"{part} is not in the served script"
    # The parts sit inside the widget's function, ahead of its code that uses them.
    assert served.index(b"const linkify") < served.index(b"linkify(String(m.body")
    assert served.index(b"const hostPage") < served.index(b"phone) hostPage.takeOver()")


def _add_account(data_dir: Path, name: str) -> str:
    config = Settings(_env_file=None, data_dir=data_dir, secret_key="browser-tests")  # type: ignore[call-arg]

    async def make() -> str:
        db = Database(config.async_database_url)
        try:
            async with db.write() as session:
                created = await create_account(
                    session,
                    name=name,
                    admin_email=f"admin@{name.lower()}.example.com",
                    admin_password="another long password",
                    admin_name="Bo",
                )
                return created.account.site_key
        finally:
            await db.dispose()

    return run_off_loop(make)


def test_demo_embeds_the_snippet_with_the_first_accounts_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    config = Settings(_env_file=None, data_dir=data_dir, secret_key="demo-tests")  # type: ignore[call-arg]
    migrations.upgrade(config.async_database_url)
    with live_server(create_app(config)) as base_url:
        empty = httpx.get(f"{base_url}/demo")
        assert empty.status_code == 200
        assert empty.headers["content-type"].startswith("text/html")
        assert "No account yet" in empty.text
        assert "frontdesk account create" in empty.text
        assert "<script" not in empty.text

        first_key = _add_account(data_dir, "Acme")
        second_key = _add_account(data_dir, "Globex")
        page = httpx.get(f"{base_url}/demo")
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        snippet = f'<script src="{base_url}/widget.js" data-site-key="{first_key}" async></script>'
        assert snippet in page.text
        assert second_key not in page.text
