"""Identifiers written differently in different sources, joined: an old organisation code and the USCC that
holds it, a company's switchboard written two ways, a repair order keyed with the VIN's last characters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.identifiers import vin as vin_rule
from mappings import MappingRegistry
from matching.config import MatchingConfig
from matching.run import run_party_matching
from pipeline import Loader, to_source_record
from store.matching_input import party_vehicle_links
from store.tables import CanonicalRecordRow
from store.vin_partials import resolve_partial_vins
from tests.mappings.test_identifier_repair import YAML

Hub = tuple[sessionmaker[Session], Loader]


@pytest.fixture
def garage(hub: Hub, tmp_path: Path) -> Hub:
    """The test crowd's store with one more source: a garage export with mixed ID and phone columns."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "garage.yaml").write_text(YAML, encoding="utf-8")
    sessions, _ = hub
    return sessions, Loader(sessions, MappingRegistry.load(tmp_path / "maps"), pii_key=b"k")


def _vin(serial: str, vds: str = "T1V11") -> str:
    """A valid VIN ending in ``serial`` (6 digits): the check digit computed, as the maker would."""
    body = f"LRH{vds}0NH{serial}"
    return body[:8] + vin_rule.calc_check_digit(body) + body[9:]


def _order(
    loader: Loader, ro: str, name: str, tel: str, vin: str, cert: str = "", at: str = "2024-05-01"
) -> None:
    payload = {"ro": ro, "name": name, "tel": tel, "at": f"{at}T10:00:00+08:00", "vin": vin, "cert": cert}
    record = to_source_record(loader.registry["garage"], "orders", payload)
    reports = loader.load([record])
    assert reports["garage"].records_in == 1


def _cluster(report: Any, ro: str) -> str:
    return str(report.cluster_of[("garage", ro)])


def test_an_old_organisation_code_joins_the_uscc_that_holds_it(garage: Hub) -> None:
    sessions, loader = garage
    _order(
        loader,
        "RO-1",
        "杭州某某建设工程有限公司",
        "0571-8888 0901",
        _vin("100001"),
        cert="91350100M000100Y43",
    )
    _order(
        loader, "RO-2", "某某建工集团", "13957110071", _vin("100002"), cert="M000100Y-4"
    )  # another name, phone
    _order(loader, "RO-3", "某某建工集团", "13957110072", _vin("100003"), cert="600037341")  # another code
    report = run_party_matching(sessions, MatchingConfig())
    assert _cluster(report, "RO-1") == _cluster(report, "RO-2")
    assert _cluster(report, "RO-3") != _cluster(report, "RO-1")


def test_a_company_switchboard_written_two_ways_says_which_namesake_it_is(garage: Hub) -> None:
    sessions, loader = garage
    _order(loader, "RO-11", "杭州明川物流有限公司", "0571-8736 2200", _vin("100011"))
    _order(loader, "RO-12", "宁波明川物流有限公司", "0574-8736 2200", _vin("100012"))
    _order(loader, "RO-13", "明川物流有限公司", "+86 574 87362200转8", _vin("100013"))  # no place in the name
    report = run_party_matching(sessions, MatchingConfig())
    assert _cluster(report, "RO-11") != _cluster(report, "RO-12")
    assert _cluster(report, "RO-13") == _cluster(report, "RO-12")


def _event_body(sessions: sessionmaker[Session], ro: str) -> dict[str, Any]:
    with sessions() as session:
        c = CanonicalRecordRow
        return dict(
            session.scalars(select(c.body).where(c.entity_type == "service_event", c.entity_key == ro)).one()
        )


def test_a_partial_vin_is_resolved_when_exactly_one_known_car_ends_so(garage: Hub) -> None:
    sessions, loader = garage
    unique, twin_a, twin_b = _vin("200001"), _vin("200002"), _vin("200002", vds="T1V21")
    for n, known in enumerate((unique, twin_a, twin_b)):
        _order(loader, f"RO-2{n}", "刘强", f"1395711008{n}", known)
    _order(loader, "RO-31", "陈静", "13957110091", unique[-8:])  # the dealer typed the last 8
    _order(loader, "RO-32", "陈静", "13957110091", twin_a[-6:])  # two known cars end so
    _order(loader, "RO-33", "陈静", "13957110091", "9NH999")  # no known car ends so (yet)
    with sessions() as session:
        report = resolve_partial_vins(session)
    assert (report.resolved, report.ambiguous, report.unknown) == (1, 1, 1)
    resolved, ambiguous = _event_body(sessions, "RO-31"), _event_body(sessions, "RO-32")
    assert resolved["vin"] == unique
    assert resolved["vin_partial"] == unique[-8:]
    assert "partial" in resolved["repaired"]["vin"]
    assert "vin" not in ambiguous
    with sessions() as session:
        links = party_vehicle_links(session)
    assert links[("garage", "RO-31")] == {unique: False}  # now evidence, as a repaired VIN (weaker)
    with sessions() as session:
        again = resolve_partial_vins(session)
    assert (again.resolved, again.ambiguous, again.unknown) == (0, 1, 1)  # resolved once, the rest retried


def test_a_company_called_by_its_short_name_joins_it_on_its_switchboard(garage: Hub) -> None:
    sessions, loader = garage
    _order(loader, "RO-41", "武汉远航出行科技有限公司", "027-6427 3494", _vin("400001"))
    # the hotline's short name on the same number; the short name alone; another city's namesake
    _order(loader, "RO-42", "远航出行", "02764273494", _vin("400002"))
    _order(loader, "RO-43", "远航出行", "027-5555 0101", _vin("400003"))
    _order(loader, "RO-44", "宁波远航出行科技有限公司", "0574-8765 4321", _vin("400004"))
    report = run_party_matching(sessions, MatchingConfig())
    assert _cluster(report, "RO-41") == _cluster(report, "RO-42")
    assert _cluster(report, "RO-43") != _cluster(report, "RO-41")
    assert _cluster(report, "RO-44") != _cluster(report, "RO-41")
