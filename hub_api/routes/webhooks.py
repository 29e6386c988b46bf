"""``POST /v1/webhooks/{source}``: the HTTP face of the webhook connector (connectors.portal_webhook) for
each declared webhook source — ``portal`` as shipped; a second portal or partner is a route of its own,
with its own secret, mapping and sync run.

The body is read raw — the signature covers the exact bytes — and the database work runs in a worker
thread; the answer (2xx only after the commit, 401, 409, 422 as problem details) is the receiver's.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from connectors.portal_webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookResult,
    take_in,
    verify,
)
from hub_api.hub import HubDep
from hub_api.problems import Problem, problem_response

router = APIRouter(tags=["webhooks"])

_DESCRIPTION = f"""Registrations, profile updates, consent changes and service requests from the customer portal.

Headers: `{TIMESTAMP_HEADER}` (Unix seconds), `{DELIVERY_HEADER}` (unique per delivery, 1-128 of A-Z a-z 0-9 - _ :),
`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of "{{timestamp}}.{{delivery id}}.{{body}}" with the shared secret>`.
Body: `{{"event_type": "registration" | "service_request", "data": {{…}}}}`.
Answers 202 once stored; 401 missing, bad or stale signature (or a malformed delivery id); 409 delivery already received; 413 a body larger than
`AUTOHUB_PORTAL__MAX_BODY_BYTES` (refused while it is read); 422 unreadable or invalid event (quarantined, with
`reason` and `field`)."""


@router.post(
    "/webhooks/{source}",
    status_code=202,
    summary="Receive a signed customer-portal event",
    description=_DESCRIPTION,
    responses={401: {"description": "bad or stale signature"}, 409: {"description": "replayed delivery"},
               413: {"description": "body too large"}, 422: {"description": "invalid event, quarantined"},
               503: {"description": "not configured"}},
)  # fmt: skip
async def portal_webhook(request: Request, hub: HubDep, source: str) -> Response:
    receiver = hub.webhooks.get(source)
    if receiver is None:
        raise Problem(404, "No such webhook source", f"declared webhook sources: {', '.join(sorted(hub.webhooks))}",
                      reason="unknown_source", field="source")  # fmt: skip
    config = receiver.config
    secret = config.secret.get_secret_value()
    if not secret:
        where = "AUTOHUB_PORTAL__SECRET" if source == "portal" else f"sources.{source}.settings.secret"
        raise Problem(503, f"Webhooks of {source} not configured", f"set {where} to the shared secret",
                      reason="not_configured", field=where)  # fmt: skip
    body = await _bounded_body(request, config.max_body_bytes)
    headers = dict(request.headers)

    def store() -> WebhookResult:
        # Verified before anything is written: an unsigned request opens no run and stores nothing.
        refused = verify(
            secret.encode("utf-8"), headers, body, tolerance_s=config.tolerance_s, now=time.time()
        )
        if refused:
            return refused
        part = receiver.run.part()
        try:
            return take_in(hub.loader, part, headers, body)
        finally:
            receiver.run.add(part)

    result = await run_in_threadpool(store)
    if result.status < 300:
        return Response(status_code=result.status)
    return problem_response(
        result.status, result.title, result.detail, reason=result.reason, field=result.field
    )


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused the moment it passes ``limit`` (a declared Content-Length
    beyond it is refused before a byte is read): the server never holds more than the limit of any request."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) < 19 and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Problem:
    return Problem(413, "Body too large", f"a portal event may have at most {limit:,} bytes",
                   reason="body_too_large", field="AUTOHUB_PORTAL__MAX_BODY_BYTES")  # fmt: skip
