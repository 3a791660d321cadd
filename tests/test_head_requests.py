"""HEAD answers wherever GET does, over a real server: the same status and headers, no body."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browser import LiveFrontdesk, live_frontdesk


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveFrontdesk]:
    data: Path = tmp_path_factory.mktemp("head") / "data"
    data.mkdir()
    with live_frontdesk(data) as server:
        yield server


def test_head_is_get_without_the_body(live: LiveFrontdesk) -> None:
    widget = {"X-Api-Key": live.site_key}
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        token = "v-" + uuid.uuid4().hex
        created = client.post(
            "/api/v1/chat/conversations",
            json={"name": "J", "email": "j@example.com", "message": "hi", "visitor_token": token},
            headers=widget,
        )
        assert created.status_code == 201
        for path, headers in (
            ("/healthz", {}),
            ("/widget.js", {}),
            ("/api/v1/chat/config", widget),
            (f"/api/v1/chat/conversations/{token}/messages", widget),
            ("/api/v1/agent/me", live.admin),
        ):
            got = client.get(path, headers=headers)
            head = client.head(path, headers=headers)
            assert (head.status_code, head.content) == (got.status_code, b""), path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == str(len(got.content)), path
        # An event stream's HEAD ends with its head: the connection is free for the next
        # request at once (the stream would otherwise run on, unseen, for an hour).
        events = f"/api/v1/chat/conversations/{token}/events"
        head = client.head(events, headers=widget, timeout=5)
        assert head.status_code == 200
        assert head.headers["content-type"].startswith("text/event-stream")
        assert client.get("/healthz", timeout=5).status_code == 200
        # Counted like the GET it stands for.
        head = client.head("/api/v1/chat/config", headers=widget)
        assert int(head.headers["x-ratelimit-remaining"]) < 60
        # Where there is no GET, no HEAD either.
        refused = client.head("/api/v1/agent/login")
        assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
        unknown = client.head("/nothing-here")
        assert unknown.status_code == 404
