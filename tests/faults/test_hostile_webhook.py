"""Hostile portal deliveries: a signed body the store cannot hold is refused alone with its reason (422 and
quarantined), an odd header is a 4xx, never an exception; on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.portal_webhook import (
    DELIVERY_HEADER,
    TIMESTAMP_HEADER,
    receive,
    signed_headers,
)
from pipeline import Loader, LoadReport
from store.tables import QuarantineRow
from tests.connectors.test_portal_webhook import NOW, SECRET
from tests.mappings.test_sources import PORTAL_REGISTRATION

pytestmark = pytest.mark.faults


def _signed(body: bytes, delivery: str = "d-1") -> dict[str, str]:
    return signed_headers(SECRET, body, delivery, at=NOW)


def _body(**data: object) -> bytes:
    event = {"event_type": "registration", "data": {**PORTAL_REGISTRATION, **data}}
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize(("body", "reason"), [
    (_body(name="王\u0000伟"), "unsafe_input.nul_character"),
    (_body(name="王\udcff伟"), "unsafe_input.lone_surrogate"),
    (b'{"event_type": "registration", "data": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001, "unsafe_input.too_deep"),
    (_body(extra=json.loads('{"a":' * 100 + "1" + "}" * 100)), "unsafe_input.too_deep"),
    (b'{"event_type": ["registration"], "data": {}}', "unknown_event"),
    (b'{"event_type": "registration", "data": {"n": ' + b"9" * 5000 + b"}}", "not_json"),
])  # fmt: skip
def test_a_signed_hostile_body_is_refused_and_quarantined(
    hub: tuple[Loader, LoadReport], body: bytes, reason: str
) -> None:
    loader, report = hub
    result = receive(loader, report, SECRET, _signed(body), body, now=NOW)
    assert (result.status, result.reason) == (422, reason)
    with Session(loader.sessions.kw["bind"]) as session:
        assert [q.reason for q in session.scalars(select(QuarantineRow))] == [reason]
    assert report.records_in == report.quarantined == 1


@pytest.mark.parametrize("timestamp", ["9" * 5000, "²", "1e9", "-1", " 1732000000"])
def test_an_odd_timestamp_header_is_a_401(hub: tuple[Loader, LoadReport], timestamp: str) -> None:
    loader, report = hub
    body = _body()
    headers = {**_signed(body), TIMESTAMP_HEADER: timestamp}
    assert receive(loader, report, SECRET, headers, body, now=NOW).status == 401


@pytest.mark.parametrize("delivery", ["d" * 129, "d-1.x", "d 1", "d\u00b2", ""])
def test_an_over_long_or_odd_delivery_id_is_a_401_and_nothing_is_stored(
    hub: tuple[Loader, LoadReport], delivery: str
) -> None:
    loader, report = hub
    body = _body()
    headers = _signed(body, delivery=delivery)
    result = receive(loader, report, SECRET, headers, body, now=NOW)
    assert (result.status, result.title) == (401, "Missing signature")
    assert DELIVERY_HEADER in result.detail
    assert report.records_in == 0


def test_the_signature_covers_the_delivery_id(hub: tuple[Loader, LoadReport]) -> None:
    """A captured request resent within the five minutes under a fresh delivery id was taken in a second time."""
    loader, report = hub
    body = _body()
    captured = _signed(body, delivery="d-1")
    assert receive(loader, report, SECRET, captured, body, now=NOW).status == 202
    replayed = {**captured, DELIVERY_HEADER: "d-2"}
    result = receive(loader, report, SECRET, replayed, body, now=NOW)
    assert (result.status, result.title) == (401, "Bad signature")
    assert report.records_in == 1
