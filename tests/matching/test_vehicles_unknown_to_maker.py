"""A VIN whose check digit passes but which the maker never built or sold is flagged, not passed off as a car of
the maker's (issue #15) — and only where the store holds the maker's own records to judge by."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.identifiers import vin as vin_rules
from mappings import MappingRegistry
from matching.config import MatchingConfig
from matching.run import run_party_matching
from matching.vehicles import UNKNOWN_TO_MAKER, build_golden_vehicles
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import GoldenRecordRow
from tests.mappings.test_sources import DMS_LEAD
from tests.matching.conftest import load


def _valid_vin(body: str) -> str:
    """A VIN with its check digit set: ``body`` is 17 characters with anything at position 9."""
    return body[:8] + vin_rules.calc_check_digit(body) + body[9:]


NEVER_BUILT = _valid_vin("LVSHCAMB0KE999999")


def _delivery(n: int, vin: str) -> tuple[str, str, dict[str, Any]]:
    return "dms", "delivery", {**DMS_LEAD, "message_id": f"dl-unknown-{n}", "event_type": "delivery", "lead": None,
                               "occurred_at": "2024-04-02T10:00:00+08:00",
                               "customer": {"dms_customer_id": f"D99002-0{n:05d}", "name": "欧阳娜娜",
                                            "mobile": "13661234988", "gender": "女"},
                               "delivery": {"vin": vin, "plate": "粤B·D12345", "delivered_at": "2024-04-02"}}  # fmt: skip


def _vehicles(sessions: sessionmaker[Session]) -> dict[str, dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(
            select(GoldenRecordRow).where(
                GoldenRecordRow.entity_type == "vehicle", GoldenRecordRow.status == "active"
            )
        )
        return {row.body["vin"]: row.body for row in rows}


def test_a_valid_vin_the_maker_never_built_is_flagged(hub: tuple[sessionmaker[Session], Loader]) -> None:
    sessions, loader = hub
    assert vin_rules.is_valid(NEVER_BUILT)
    load(loader, _delivery(1, NEVER_BUILT))
    run_party_matching(sessions, MatchingConfig())
    counts = build_golden_vehicles(sessions)
    vehicles = _vehicles(sessions)
    assert vehicles[NEVER_BUILT]["known_to_maker"] is False
    assert vehicles[NEVER_BUILT]["flags"] == [UNKNOWN_TO_MAKER]
    assert vehicles[NEVER_BUILT]["current_owner"]  # kept, with its owner, for a steward to look at
    built = [body for vin, body in vehicles.items() if vin != NEVER_BUILT]
    assert built
    assert all(body["known_to_maker"] is True and "flags" not in body for body in built)
    assert counts["unknown_to_maker"] == 1


def test_without_the_makers_records_nothing_is_called_unknown(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    load(Loader(sessions, MappingRegistry.load(), pii_key=b"k"), _delivery(2, NEVER_BUILT))
    run_party_matching(sessions, MatchingConfig())
    counts = build_golden_vehicles(sessions)
    body = _vehicles(sessions)[NEVER_BUILT]
    engine.dispose()
    assert "known_to_maker" not in body
    assert "flags" not in body
    assert counts["unknown_to_maker"] == 0
