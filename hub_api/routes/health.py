"""Liveness with a store round trip: a hub that cannot reach its store is not healthy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from hub_api.hub import HubDep
from hub_api.problems import Problem
from store.engine import ping

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and store reachability")
async def healthz(hub: HubDep) -> dict[str, Any]:
    try:
        await run_in_threadpool(ping, hub.engine)
    except Exception as exc:
        raise Problem(503, "Store unreachable", type(exc).__name__, reason="store_unreachable") from exc
    return {"status": "ok"}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route, golden records, quarantine and outbox backlog (no PII, no ids)."""
    body, content_type = await run_in_threadpool(request.app.state.metrics.exposition)
    return Response(body, media_type=content_type)
