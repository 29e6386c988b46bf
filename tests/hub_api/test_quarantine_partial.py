"""Partly mapped records over HTTP: the quarantine lists the rejected entities, the scorecard counts the records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store import api_keys
from store.engine import create_store_engine, session_factory
from tests.hub_api.conftest import LiveApi
from tests.mappings.test_policies import _delivery
from tests.mappings.test_sources import DMS_LEAD


@pytest.fixture
def loaded(live_api: LiveApi) -> Iterator[tuple[LiveApi, dict[str, str]]]:
    """A delivery with a bad VIN (partly mapped) and a lead with a bad mobile (quarantined whole)."""
    engine = create_store_engine(live_api.store_url)
    sessions = session_factory(engine)
    registry = MappingRegistry.load()
    bad_vin = {**_delivery("LSGPC52U5HF012345"), "message_id": "m-1"}
    customer: dict[str, Any] = {**DMS_LEAD["customer"], "mobile": "1381234567"}  # type: ignore[dict-item]
    bad_mobile = {**DMS_LEAD, "message_id": "m-2", "customer": customer}
    Loader(sessions, registry, pii_key=b"k").load(
        [to_source_record(registry["dms"], s, p) for s, p in (("delivery", bad_vin), ("lead", bad_mobile))]
    )
    with sessions.begin() as session:
        _, token = api_keys.create(session, "crm-sync", ["read"])
    yield live_api, {"Authorization": f"Bearer {token}"}
    engine.dispose()


def test_the_quarantine_lists_each_rejected_entity_of_a_partly_mapped_record(
    loaded: tuple[LiveApi, dict[str, str]],
) -> None:
    api, headers = loaded
    items = api.client.get("/v1/quarantine", headers=headers).json()["items"]
    entities = [(q["source_id"], q["entity_type"], q["field"], q["record_partly_mapped"]) for q in items]
    assert entities == [
        ("m-1", "vehicle", "vehicle.vin", True),
        ("m-1", "vehicle_relationship", "vehicle_relationship.vin", True),
        ("m-1", "service_event", "service_event.vin", True),
        ("m-2", None, "customer.mobile", False),
    ]
    assert {q["reason"] for q in items[:3]} == {"invalid_vin.check_digit"}


def test_the_scorecard_counts_partly_mapped_records(loaded: tuple[LiveApi, dict[str, str]]) -> None:
    api, headers = loaded
    card = api.client.get("/v1/quality", headers=headers).json()
    (dms,) = card["sources"]
    assert (dms["received"], dms["partially_mapped"], dms["quarantined"]) == (2, 1, 4)
    (dealer,) = card["dealers"]
    assert (dealer["dealer"], dealer["partially_mapped"]) == ("D31001", 1)


def test_the_openapi_document_describes_the_new_fields(loaded: tuple[LiveApi, dict[str, str]]) -> None:
    api, _ = loaded
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    item = schemas["QuarantineItem"]["properties"]
    assert {"entity_type", "record_partly_mapped"} <= set(item)
    assert "partially_mapped" in schemas["SourceQuality"]["properties"]
