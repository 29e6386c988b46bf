"""Portal webhooks: signature, freshness, replay and durability, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.portal_webhook import SIGNATURE_HEADER, receive, sign, signed_headers
from mappings import MappingRegistry
from pipeline import Loader, LoadReport
from store import reports
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, QuarantineRow
from tests.mappings.test_sources import PORTAL_REGISTRATION

SECRET = b"portal-shared-secret"
NOW = 1_732_000_000


@pytest.fixture
def hub(store_url: str) -> Iterator[tuple[Loader, LoadReport]]:
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    report = loader.begin("portal")
    yield loader, report
    loader.finish([report], error=None)
    engine.dispose()


def _request(data: dict[str, Any], delivery: str = "d-1", *, at: int = NOW, secret: bytes = SECRET,
             event_type: str = "registration") -> tuple[dict[str, str], bytes]:  # fmt: skip
    body = json.dumps({"event_type": event_type, "data": data}, ensure_ascii=False).encode()
    return signed_headers(secret, body, delivery, at=at), body


def _count(loader: Loader, table: Any) -> int:
    with Session(loader.sessions.kw["bind"]) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_signed_event_is_stored_before_the_202(hub: tuple[Loader, LoadReport]) -> None:
    loader, report = hub
    result = receive(loader, report, SECRET, *_request(PORTAL_REGISTRATION), now=NOW + 10)
    assert result.status == 202
    assert _count(loader, CanonicalRecordRow) > 0


def test_a_replayed_delivery_is_refused_with_409(hub: tuple[Loader, LoadReport]) -> None:
    loader, report = hub
    headers, body = _request(PORTAL_REGISTRATION)
    assert receive(loader, report, SECRET, headers, body, now=NOW).status == 202
    stored = _count(loader, CanonicalRecordRow)
    again = receive(loader, report, SECRET, headers, body, now=NOW + 5)
    assert again.status == 409
    assert _count(loader, CanonicalRecordRow) == stored


@pytest.mark.parametrize(("secret", "at", "title"), [
    (b"wrong-secret", NOW, "Bad signature"),
    (SECRET, NOW - 301, "Stale request"),
    (SECRET, NOW + 301, "Stale request"),
])  # fmt: skip
def test_forged_or_stale_requests_get_401_and_store_nothing(
    hub: tuple[Loader, LoadReport], secret: bytes, at: int, title: str
) -> None:
    loader, report = hub
    result = receive(loader, report, SECRET, *_request(PORTAL_REGISTRATION, at=at, secret=secret), now=NOW)
    assert (result.status, result.title) == (401, title)
    assert _count(loader, CanonicalRecordRow) == 0


def test_a_tampered_body_fails_the_signature(hub: tuple[Loader, LoadReport]) -> None:
    loader, report = hub
    headers, body = _request(PORTAL_REGISTRATION)
    result = receive(loader, report, SECRET, headers, body.replace(b"U0000042", b"U0000666"), now=NOW)
    assert result.status == 401


def test_invalid_payloads_get_422_and_a_quarantine_entry(hub: tuple[Loader, LoadReport]) -> None:
    loader, report = hub
    # A bad bound car alone no longer refuses the registration (it is stored partly mapped); a bad customer does.
    bad_id = {**PORTAL_REGISTRATION, "id_card": "110105194912310021"}
    result = receive(loader, report, SECRET, *_request(bad_id, "d-2"), now=NOW)
    assert (result.status, result.reason, result.field) == (422, "invalid_resident_id.check_digit", "id_card")
    headers, _ = _request(PORTAL_REGISTRATION, "d-3")
    garbage = b"{not json"
    headers[SIGNATURE_HEADER] = sign(SECRET, NOW, "d-3", garbage)
    unreadable = receive(loader, report, SECRET, headers, garbage, now=NOW)
    assert (unreadable.status, unreadable.reason) == (422, "not_json")
    unknown = receive(loader, report, SECRET, *_request({"x": 1}, "d-4", event_type="vote"), now=NOW)
    assert (unknown.status, unknown.reason) == (422, "unknown_event")
    with Session(loader.sessions.kw["bind"]) as session:
        assert sorted(e.reason for e in session.scalars(select(QuarantineRow))) == [
            "invalid_resident_id.check_digit", "not_json", "unknown_event"]  # fmt: skip
        (portal,) = reports.reconcile(session)
        assert portal.balanced
