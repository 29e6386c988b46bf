"""The data-quality scorecard on SQLite and PostgreSQL: exact counts for a store whose every record is known."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from mappings import MappingRegistry
from matching.config import MatchingConfig
from matching.run import run_party_matching
from matching.steward import merge
from pipeline import Loader, to_source_record
from store.engine import create_store_engine, session_factory
from store.quality import DealerScore, PartyFields, SourceScore, scorecard
from tests.mappings.test_sources import ERP_CUSTOMER
from tests.matching.conftest import lead

SHARED_PHONE = "13900001111"  # a dealer typing its own number for three different customers
ZHANG_WEI = {**ERP_CUSTOMER, "MOBILE": "139 1726 5843"}  # ID, mobile, e-mail, address, birth date
ERP = [
    ("erp", "customers", ZHANG_WEI),
    ("erp", "customers", {**ZHANG_WEI, "KUNNR": "C4"}),  # the same person again: same resident ID
    ("erp", "customers", {**ZHANG_WEI, "KUNNR": "C2", "NAME1": "王芳", "SEX": "2", "ID_TYPE": "", "ID_NO": "",
                          "MOBILE": "138 0013 8000", "EMAIL": "not-an-email", "STRAS": "", "GBDAT": ""}),
    ("erp", "customers", {**ZHANG_WEI, "KUNNR": "C9", "ID_NO": "110105194912310021"}),  # check digit
    ("erp", "vehicles", {"VIN": "LSVAB4182N2000777", "MAKE": "大众", "MODEL": "帕萨特"}),
    ("erp", "vehicles", {"VIN": "LFV2A21K0G3000001", "MAKE": "大众", "MODEL": "帕萨特"}),  # check digit
]  # fmt: skip
DMS = [
    lead("D99001-000001", "王伟", SHARED_PHONE, 1),
    lead("D99001-000002", "李娜", SHARED_PHONE, 2),
    lead("D99001-000003", "陈静", SHARED_PHONE, 3),
    lead("D99001-000010", "李雷", "13722223333", 10),
    lead("D99001-000011", "韩梅梅", "13644445555", 11),  # merged into 李雷 by a steward below
    (
        "dms",
        "lead",
        {**lead("D99002-000001", "赵敏", "13555556666", 12)[2], "occurred_at": "2024-13-45T00:00"},
    ),
]


@pytest.fixture
def card(store_url: str) -> dict[str, Any]:
    """The scorecard of the store above, after a full matching run and one steward merge."""
    engine = create_store_engine(store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    loader.load(to_source_record(loader.registry[s], stream, p) for s, stream, p in [*ERP, *DMS])
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C4")] == report.cluster_of[("erp", "C00000042")]
    with sessions.begin() as session:
        merge(session, report.cluster_of[("dms", "D99001-000010")], report.cluster_of[("dms", "D99001-000011")],
              actor="steward:test", reason="the same customer under two keys")  # fmt: skip
    with sessions() as session:
        result = scorecard(session)
    engine.dispose()
    return {s.source: s for s in result.sources} | {d.dealer: d for d in result.dealers}


def test_sources_received_mapped_and_quarantined_by_family(card: dict[str, Any]) -> None:
    erp, dms = card["erp"], card["dms"]
    assert isinstance(erp, SourceScore)
    assert (erp.received, erp.mapped, erp.quarantined) == (6, {"party": 3, "vehicle": 1}, 2)
    assert erp.quarantine_by_family == {"invalid_resident_id": 1, "invalid_vin": 1}
    # 赵敏's lead has a bad date: her customer record is kept, only the lead event is quarantined.
    assert (dms.received, dms.mapped, dms.quarantined) == (6, {"party": 6, "service_event": 5}, 1)
    assert dms.quarantine_by_family == {"bad_datetime": 1}
    assert (dms.partially_mapped, erp.partially_mapped) == (1, 0)
    assert set(card) == {"erp", "dms", "D99001", "D99002"}


def test_validity_is_the_share_received_not_quarantined_as_invalid(card: dict[str, Any]) -> None:
    assert card["erp"].validity() == {"vin": 0.8333, "resident_id": 0.8333, "mobile": 1.0}
    assert card["dms"].validity() == {"vin": 1.0, "resident_id": 1.0, "mobile": 1.0}
    assert card["erp"].warned == 1  # 王芳's e-mail was dropped with a warning
    assert card["dms"].warned == 0


def test_party_fields_as_sent_and_as_the_matcher_could_use_them(card: dict[str, Any]) -> None:
    # 王芳 has only a placeholder mobile, no ID, address or birth date.
    assert card["erp"].party_fields == PartyFields(
        parties=3, name=3, mobile=2, id_number=2, address=2, birth_date=2
    )
    assert card["erp"].party_fields.shares()["mobile"] == 0.6667
    assert card["dms"].party_fields == PartyFields(parties=6, name=6, mobile=6)
    # The matcher withdrew the dealer's own number: for matching, three of six DMS customers have no mobile.
    assert (card["dms"].completeness.parties, card["dms"].completeness.mobile) == (6, 3)


def test_duplicates_within_a_source_and_within_a_dealer(card: dict[str, Any]) -> None:
    assert card["erp"].duplicate_records == 1  # C4 is C00000042 again
    assert card["dms"].duplicate_records == 1  # the steward's merge
    assert (card["D99001"].parties, card["D99001"].duplicate_records) == (5, 1)


def test_shared_identifiers_per_source_and_dealer_are_masked(card: dict[str, Any]) -> None:
    assert (card["dms"].shared_identifiers, card["dms"].shared_masked) == (1, ["139****1111"])
    assert (card["D99001"].shared_identifiers, card["D99001"].shared_masked) == (1, ["139****1111"])
    assert card["erp"].shared_identifiers == 0
    assert card["D99002"].shared_masked == []


def test_dealer_rows_count_received_events_and_their_quarantine(card: dict[str, Any]) -> None:
    d1, d2 = card["D99001"], card["D99002"]
    assert isinstance(d1, DealerScore)
    assert (d1.received, d1.mapped, d1.quarantined) == (5, {"party": 5, "service_event": 5}, 0)
    assert d1.party_fields == PartyFields(parties=5, name=5, mobile=5)
    assert (d2.received, d2.mapped, d2.quarantine_by_family, d2.parties) == (
        1, {"party": 1}, {"bad_datetime": 1}, 1)  # fmt: skip
    assert (d1.partially_mapped, d2.partially_mapped) == (0, 1)
    assert sum(d.received for d in (d1, d2)) == card["dms"].received


def test_an_empty_store_has_an_empty_scorecard(store_session: Session) -> None:
    result = scorecard(store_session)
    assert (result.sources, result.dealers) == ([], [])


def test_a_second_declared_dealer_network_is_counted_per_dealer_too(store_url: str) -> None:
    """Events of `dms_north` (declared type amqp, read with the dms mapping) have dealer rows of their own."""
    engine = create_store_engine(store_url)
    loader = Loader(
        session_factory(engine), MappingRegistry.load().with_aliases({"dms_north": "dms"}), pii_key=b"k"
    )
    north = [lead("D77001-000001", "周杰", "13511112222", 1), lead("D77001-000002", "蔡琳", "13533334444", 2)]
    loader.load(to_source_record(loader.registry["dms_north"], stream, p) for _, stream, p in north)
    with Session(engine) as session:
        only_dms = {d.dealer for d in scorecard(session).dealers}
        both = {d.dealer: d for d in scorecard(session, ("dms", "dms_north")).dealers}
        sources = {s.source for s in scorecard(session).sources}
    engine.dispose()
    assert "dms_north" in sources  # a source row whatever its type
    assert "D77001" not in only_dms
    assert (both["D77001"].received, both["D77001"].mapped) == (2, {"party": 2, "service_event": 2})
