"""Health, readiness, metrics and the OpenAPI description."""

from __future__ import annotations

import httpx
from sqlalchemy.exc import OperationalError

from frontdesk.app import create_app
from frontdesk.ops.metrics import Metrics
from tests.conftest import make_settings
from tests.support.accounts import start_conversation


async def test_healthz(client):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_the_database_answers(client):
    response = await client.get("/readyz")
    assert (response.status_code, response.json()["status"]) == (200, "ok")


async def test_readyz_is_503_when_the_database_is_gone(tmp_path):
    # A database file in a directory that doesn't exist can't be opened.
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/missing/dir/x.db"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert "database" in response.json()["failing"]


async def test_metrics_count_requests_by_route_and_rate_limits(client, account):
    token = await start_conversation(client, account)
    await client.patch(
        "/api/v1/agent/settings", json={"rate_limits": {"config": 1}}, headers=account.admin
    )
    for _ in range(2):
        await client.get("/api/v1/chat/config", headers=account.widget)
    text = (await client.get("/metrics")).text
    assert 'route="/api/v1/chat/config",status="429"' in text
    assert 'frontdesk_rate_limited_requests_total{endpoint="config"} 1.0' in text
    assert "frontdesk_http_request_duration_seconds_bucket" in text
    assert "frontdesk_open_event_streams" in text
    assert token not in text  # route templates, never visitor tokens


async def test_openapi_describes_both_apis(client):
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/chat/config",
        "/api/v1/chat/conversations",
        "/api/v1/chat/conversations/{visitor_token}/messages",
        "/api/v1/agent/login",
        "/api/v1/agent/conversations",
        "/api/v1/agent/conversations/{conversation_id}",
        "/api/v1/agent/settings",
        "/api/v1/agent/agents",
    ):
        assert path in paths, path
    create = paths["/api/v1/chat/conversations"]["post"]["requestBody"]["content"]
    assert set(create) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert "CreateConversation" in schema["components"]["schemas"]


async def test_request_metrics_count_every_request_of_a_hot_route(client, account):
    for _ in range(3):
        assert (await client.get("/api/v1/chat/config", headers=account.widget)).status_code == 200
    text = (await client.get("/metrics")).text
    route = 'route="/api/v1/chat/config"'
    assert f'frontdesk_http_requests_total{{method="GET",{route},status="200"}} 3.0' in text
    assert f"frontdesk_http_request_duration_seconds_count{{{route}}} 3.0" in text
    assert f'frontdesk_http_request_duration_seconds_bucket{{le="+Inf",{route}}} 3.0' in text


def test_latency_buckets_are_cumulative_and_a_bound_belongs_to_its_bucket():
    metrics = Metrics()
    for seconds in (0.0005, 0.001, 0.003, 7.0):
        metrics.record("GET", "/r", 200, seconds)
    text = metrics.render().decode()

    def bucket(le: str) -> str:
        return f'frontdesk_http_request_duration_seconds_bucket{{le="{le}",route="/r"}}'

    assert f"{bucket('0.001')} 2.0" in text  # 0.001 itself is "less than or equal"
    assert f"{bucket('0.0025')} 2.0" in text
    assert f"{bucket('0.005')} 3.0" in text
    assert f"{bucket('5.0')} 3.0" in text
    assert f"{bucket('+Inf')} 4.0" in text
    assert 'frontdesk_http_request_duration_seconds_sum{route="/r"} 7.0045' in text


async def test_an_unexpected_error_is_logged_by_route_never_by_path(tmp_path, caplog):
    # A route that fails, added for the test: the catch-all must answer 500 with the
    # envelope and log the route's template, never the visitor_token in the path.
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/x.db"))

    async def fails(visitor_token: str) -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/v1/chat/conversations/{visitor_token}/boom", fails)
    secret_token = "visitor-secret-0123456789"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get(f"/api/v1/chat/conversations/{secret_token}/boom")
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    logged = caplog.text
    assert "/api/v1/chat/conversations/{visitor_token}/boom" in logged
    assert secret_token not in logged


async def test_a_database_that_does_not_answer_is_503_to_retry(tmp_path):
    # What SQLite raises when another process holds the file past the busy timeout; the
    # PostgreSQL case (a cut connection) is tests/scale/test_redis_blinks.py's.
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/x.db"))

    async def locked() -> None:
        raise OperationalError("UPDATE conversations ...", {}, Exception("database is locked"))

    app.add_api_route("/api/v1/agent/locked", locked)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/v1/agent/locked")
    assert (response.status_code, response.json()) == (503, {"error": "Service unavailable"})
    assert response.headers["retry-after"] == "5"
