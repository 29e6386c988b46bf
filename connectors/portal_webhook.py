"""Portal webhooks: verify, refuse replays, store durably, then answer — the receiving half of the connector.

The portal signs ``"{timestamp}.{body}"`` with HMAC-SHA256 and a shared secret (the Stripe/GitHub scheme)
and sends ``X-AutoHub-Timestamp``, ``X-AutoHub-Delivery`` and ``X-AutoHub-Signature: sha256=<hex>``.
Old timestamps (default > 5 min) and reused delivery ids are refused, so a captured request cannot be
replayed; a 2xx is answered only after the event's records are committed. The hub API's
``POST /v1/webhooks/portal`` route (hub_api/routes/webhooks.py) is a thin wrapper around ``receive``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field, SecretStr

from autohub.errors import DataError
from pipeline import Loader, LoadReport, to_source_record
from pipeline.screen import parse_json

SIGNATURE_HEADER = "X-AutoHub-Signature"
TIMESTAMP_HEADER = "X-AutoHub-Timestamp"
DELIVERY_HEADER = "X-AutoHub-Delivery"


class PortalWebhookConfig(BaseModel):
    """``AUTOHUB_PORTAL__SECRET`` (shared with the portal, never logged) and the accepted clock skew."""

    secret: SecretStr = SecretStr("")
    tolerance_s: int = Field(default=300, ge=1, le=3600)
    # A portal event is a few kB; the body is cut off while it is read, before the signature is checked, so an
    # unsigned flood cannot make the server hold it (413 beyond this).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)


# Portal event type → the stream its mapping reads (mappings/sources/portal.yaml).
EVENT_STREAMS = {"registration": "registrations", "service_request": "service_requests"}


@dataclass(frozen=True)
class WebhookResult:
    """What to answer: an HTTP status and, for errors, RFC 9457 problem-details fields."""

    status: int
    title: str
    detail: str = ""
    reason: str | None = None
    field: str | None = None


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value the portal sends (and tests and `autohub` demo senders use)."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower())


def verify(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, tolerance_s: int, now: float
) -> WebhookResult | None:
    """None when the request is authentic and fresh; otherwise the 401 to answer."""
    signature, timestamp = _header(headers, SIGNATURE_HEADER), _header(headers, TIMESTAMP_HEADER)
    # ASCII digits only and at most 12 of them: int() refuses "²" and numbers of more than 4 300 digits.
    if (
        not signature
        or not timestamp
        or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12)
    ):
        return WebhookResult(401, "Missing signature", f"send {SIGNATURE_HEADER} and {TIMESTAMP_HEADER}")
    if not hmac.compare_digest(signature, sign(secret, int(timestamp), body)):
        return WebhookResult(401, "Bad signature", "the signature does not match the body and timestamp")
    if abs(now - int(timestamp)) > tolerance_s:
        return WebhookResult(
            401, "Stale request", f"timestamp is more than {tolerance_s} s from the hub's clock"
        )
    return None


def receive(
    loader: Loader,
    report: LoadReport,
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> WebhookResult:
    refused = verify(secret, headers, body, tolerance_s=tolerance_s, now=time.time() if now is None else now)
    if refused:
        return refused
    delivery = _header(headers, DELIVERY_HEADER)
    if not delivery:
        return WebhookResult(
            422, "Missing delivery id", f"send {DELIVERY_HEADER}", reason="missing_delivery_id"
        )
    event, unparsed = parse_json(body)
    event_type = event.get("event_type") if isinstance(event, dict) else None
    stream = EVENT_STREAMS.get(event_type) if isinstance(event_type, str) else None
    if not isinstance(event, dict) or stream is None or not isinstance(event.get("data"), dict):
        reason = unparsed or ("not_json" if not isinstance(event, dict) else "unknown_event")
        loader.quarantine_unreadable(report, "webhook", [(reason, body.decode("utf-8", "replace"))])
        return WebhookResult(422, "Unreadable event", "expected {event_type: registration|service_request, data: {...}}",
                             reason=reason)  # fmt: skip
    record = to_source_record(
        loader.registry[report.source], stream, event["data"], fallback_id=f"delivery:{delivery}"
    )
    outcome = loader.load_messages(report, [(delivery, record)])[delivery]
    if outcome == "duplicate":
        return WebhookResult(409, "Delivery already received", f"delivery {delivery} was taken in before")
    if isinstance(outcome, DataError):
        return WebhookResult(
            422, "Event quarantined", str(outcome), reason=outcome.reason, field=outcome.field
        )
    return WebhookResult(202, "Stored")
