"""What a server shows beyond the APIs (#17 finding 14): /demo only on a loopback bind or
with FRONTDESK_DEMO=true, with a CSP and a script URL no Host header can change; /metrics
behind FRONTDESK_METRICS_TOKEN when set; /docs with nothing loaded from a CDN, or off."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.conftest import Served, serve_env, serving
from tests.support.live_server import free_port
from tests.support.processes import start_serve, stop, wait_until_up

METRICS_TOKEN = "metrics-" + "x" * 24


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`frontdesk serve` as the README starts it (127.0.0.1), with a metrics token."""
    with serving(
        tmp_path_factory.mktemp("loopback") / "data", FRONTDESK_METRICS_TOKEN=METRICS_TOKEN
    ) as served:
        yield served


def test_the_demo_is_served_on_a_loopback_bind_with_a_csp(loopback: Served) -> None:
    page = httpx.get(f"{loopback.base}/demo")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and f"script-src 'self' {loopback.base}" in csp
    assert "frame-ancestors 'none'" in csp
    script = (
        f'<script src="{loopback.base}/widget.js" data-site-key="{loopback.account["site_key"]}"'
    )
    assert script in page.text


def test_the_demo_script_url_does_not_come_from_the_host_header(loopback: Served) -> None:
    page = httpx.get(f"{loopback.base}/demo", headers={"Host": "evil.example"})
    assert page.status_code == 200
    assert "evil.example" not in page.text
    assert "evil.example" not in page.headers["content-security-policy"]
    assert f'src="{loopback.base}/widget.js"' in page.text


def test_the_demo_is_off_on_a_wildcard_bind_unless_asked_for(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "off")
    port = free_port()
    process = start_serve(env, port, "--host", "0.0.0.0", stdout=subprocess.PIPE)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process)
        hidden = httpx.get(f"http://127.0.0.1:{port}/demo")
        assert (hidden.status_code, hidden.json()) == (404, {"error": "Not found"})
        assert process.stdout is not None
        printed: list[str] = []
        while not any("API docs" in line for line in printed):  # the last line it prints
            line = process.stdout.readline()
            assert line, "serve stopped before printing its links"
            printed.append(line)
        # serve doesn't point at a page it won't serve.
        assert not any("demo page" in line for line in printed), printed
    finally:
        stop(process)
    with serving(
        tmp_path / "on", "--host", "0.0.0.0", with_account=False, FRONTDESK_DEMO="true"
    ) as served:
        shown = httpx.get(f"{served.base}/demo")
        assert shown.status_code == 200 and "data-site-key=" in shown.text
        assert "content-security-policy" in shown.headers


def test_metrics_need_the_token_when_one_is_set(loopback: Served) -> None:
    url = f"{loopback.base}/metrics"
    for value in (
        None,
        b"Bearer wrong",
        f"Bearer {METRICS_TOKEN}x".encode(),  # just past it
        f"Basic {METRICS_TOKEN}".encode(),
        ("Bearer " + "é" * 10).encode(),
    ):
        headers = {} if value is None else {b"Authorization": value}
        refused = httpx.get(url, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json() == {"error": "Authentication required"}
        assert refused.headers["www-authenticate"] == "Bearer"
    shown = httpx.get(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert shown.status_code == 200
    assert "frontdesk_http_requests_total" in shown.text or "# TYPE" in shown.text


def test_docs_load_nothing_from_elsewhere(loopback: Served) -> None:
    page = httpx.get(f"{loopback.base}/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    # Every src and href on the page is our own.
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith("/"), url
    script = httpx.get(f"{loopback.base}/docs/reference.js")
    assert script.status_code == 200 and "openapi.json" in script.text
    assert not re.search(r"https?://", script.text)
    assert httpx.get(f"{loopback.base}/openapi.json").status_code == 200


def test_docs_can_be_turned_off_and_the_schema_stays(tmp_path: Path) -> None:
    with serving(tmp_path / "data", with_account=False, FRONTDESK_DOCS="false") as served:
        for path in ("/docs", "/docs/reference.js"):
            off = httpx.get(f"{served.base}{path}")
            assert (off.status_code, off.json()) == (404, {"error": "Not found"})
        assert httpx.get(f"{served.base}/openapi.json").status_code == 200
