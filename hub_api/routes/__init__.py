"""The routes of the hub API: ``api_router`` is everything under ``/v1``, one router the app includes (health and
``/metrics`` stay at the root, where probes and Prometheus look); every route but the webhook answers the common
problem responses (401, 403, 422 …) in its OpenAPI document."""

from __future__ import annotations

from fastapi import APIRouter

from hub_api import problems
from hub_api.routes import (
    changes,
    customers,
    erasures,
    quarantine,
    recalls,
    stewardship,
    sync_runs,
    vehicles,
    webhooks,
    xref,
)

api_router = APIRouter(prefix="/v1")
api_router.include_router(webhooks.router)  # a signed delivery: answered by its own rules, not an API key's
for _routes in (xref, customers, vehicles, changes, stewardship, quarantine, recalls, erasures, sync_runs):
    api_router.include_router(_routes.router, responses=problems.COMMON_RESPONSES)
