"""Health, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import asyncio
import hmac
import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from frontdesk.errors import AUTH_REQUIRED, AppError
from frontdesk.kit.json_response import JSON
from frontdesk.runtime import runtime

log = logging.getLogger("frontdesk")

router = APIRouter(tags=["operations"])
# Seconds each readiness check may take; load balancers often time a probe out at 5.
READY_TIMEOUT = 2.0


@router.get("/healthz", summary="The process is running")
async def healthz() -> JSON:
    return JSON({"status": "ok"})


@router.get("/readyz", summary="The database (and Redis, if configured) answer")
async def readyz(request: Request) -> JSON:
    rt = runtime(request)
    checks = {"database": rt.db.ping, "events": rt.bus.ping, "rate_limits": rt.limiter.ping}
    failed = []
    for name, check in checks.items():
        try:
            # A server that stopped answering (not refusing) must not hang the probe.
            async with asyncio.timeout(READY_TIMEOUT):
                await check()
        except Exception:
            failed.append(name)
    if failed:
        return JSON({"status": "unavailable", "failing": failed}, status_code=503)
    return JSON({"status": "ok"})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    rt = runtime(request)
    expected = rt.settings.metrics_token
    if expected:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Bytes: compare_digest refuses non-ASCII str, and a header may hold anything.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(errors="replace"), expected.encode()
        ):
            raise AppError(401, AUTH_REQUIRED, {"WWW-Authenticate": "Bearer"})
    try:
        await rt.refresh_outbox_metrics()
    except Exception:  # the database is away: /readyz says so; the rest still renders
        log.warning("metrics: could not read the outbox backlog", exc_info=True)
    return Response(rt.metrics.render(), media_type="text/plain; version=0.0.4")
