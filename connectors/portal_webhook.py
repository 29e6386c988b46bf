"""Portal webhooks: verify, refuse replays, store durably, then answer — the receiving half of the connector.

The portal signs ``"{timestamp}.{delivery id}.{body}"`` with HMAC-SHA256 and a shared secret (the Standard
Webhooks / Svix scheme) and sends ``X-AutoHub-Timestamp``, ``X-AutoHub-Delivery`` and
``X-AutoHub-Signature: sha256=<hex>``. Old timestamps (default > 5 min) and reused delivery ids are refused, and
the signature covers the delivery id, so a captured request can be replayed neither as it was nor under a new
delivery id (signing only timestamp and body let a replay with a fresh id through within the five minutes). A
delivery id is 1–128 ASCII letters, digits, ``-``, ``_`` or ``:``: no ``.``, so the signed string has one reading.
A 2xx is answered only after the event's records are committed. The hub API's
``POST /v1/webhooks/portal`` route (hub_api/routes/webhooks.py) is a thin wrapper around ``receive``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from core.errors import DataError
from pipeline import Loader, LoadReport, to_source_record
from pipeline.screen import parse_json

SIGNATURE_HEADER = "X-AutoHub-Signature"
TIMESTAMP_HEADER = "X-AutoHub-Timestamp"
DELIVERY_HEADER = "X-AutoHub-Delivery"


class PortalWebhookConfig(BaseModel):
    """``AUTOHUB_PORTAL__SECRET`` (shared with the portal, never logged) and the accepted clock skew."""

    model_config = ConfigDict(extra="forbid")  # a misspelt ``secert`` would leave every delivery refused

    secret: SecretStr = SecretStr("")
    tolerance_s: int = Field(default=300, ge=1, le=3600)
    # A portal event is a few kB; the body is cut off while it is read, before the signature is checked, so an
    # unsigned flood cannot make the server hold it (413 beyond this).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)
    # The deliveries an API process takes in share one sync run per hour (pipeline/shared_run.py), its counts
    # and heartbeat written this often.
    progress_every_s: float = Field(default=5.0, ge=0)
    run_roll_after_s: float = Field(default=3600.0, ge=1)


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


_DELIVERY_ID = re.compile(r"[A-Za-z0-9_:-]{1,128}")


def sign(secret: bytes, timestamp: int, delivery: str, body: bytes) -> str:
    """The signature header value the portal sends for one delivery."""
    signed = f"{timestamp}.{delivery}.".encode() + body
    return f"sha256={hmac.new(secret, signed, hashlib.sha256).hexdigest()}"


def signed_headers(secret: bytes, body: bytes, delivery: str, *, at: int | None = None) -> dict[str, str]:
    """The three headers of one delivery as the portal sends them (the demo's sender and the tests use it)."""
    at = int(time.time()) if at is None else at
    return {
        SIGNATURE_HEADER: sign(secret, at, delivery, body),
        TIMESTAMP_HEADER: str(at),
        DELIVERY_HEADER: delivery,
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name.lower())


def verify(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, tolerance_s: int, now: float
) -> WebhookResult | None:
    """None when the request is authentic and fresh; otherwise the 401 to answer."""
    signature, timestamp = _header(headers, SIGNATURE_HEADER), _header(headers, TIMESTAMP_HEADER)
    delivery = _header(headers, DELIVERY_HEADER)
    # ASCII digits only and at most 12 of them: int() refuses "²" and numbers of more than 4 300 digits.
    if (
        not signature
        or not timestamp
        or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12)
        or not delivery
        or not _DELIVERY_ID.fullmatch(delivery)
    ):
        return WebhookResult(401, "Missing signature", f"send {SIGNATURE_HEADER}, {TIMESTAMP_HEADER} (Unix seconds) "
                             f"and {DELIVERY_HEADER} (1-128 of A-Z a-z 0-9 - _ :)")  # fmt: skip
    if not hmac.compare_digest(signature, sign(secret, int(timestamp), delivery, body)):
        return WebhookResult(
            401, "Bad signature", "the signature does not match the timestamp, delivery id and body"
        )
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
    """Verify, then take the event in under ``report`` (tests and one-off senders; the API verifies first and
    opens its shared run only for an authentic request)."""
    refused = verify(secret, headers, body, tolerance_s=tolerance_s, now=time.time() if now is None else now)
    if refused:
        return refused
    return take_in(loader, report, headers, body)


def take_in(loader: Loader, report: LoadReport, headers: Mapping[str, str], body: bytes) -> WebhookResult:
    """Store one verified delivery exactly once; what to answer."""
    delivery = str(_header(headers, DELIVERY_HEADER))  # verify() refused a request without one
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
