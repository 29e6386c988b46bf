"""Search keys on SQLite and PostgreSQL: records loaded through the real Loader are found by what a person types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from canonical_model.identifiers.errors import InvalidMobile, InvalidVin
from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store import search_keys
from store.engine import create_store_engine, session_factory
from store.migrate import downgrade, upgrade
from store.tables import CanonicalRecordRow, SearchKeyRow
from tests.mappings.test_sources import (
    ERP_CUSTOMER,
    FINANCE_CUSTOMER,
    INSURANCE_POLICY,
    PORTAL_REGISTRATION,
)

KEY = b"search-test-key"
MOBILE = "13917265843"
VIN = "LFV2A21K7G3000001"
RIC = "11010519491231002X"
RECORDS = [
    ("erp", "customers", {**ERP_CUSTOMER, "MOBILE": "139 1726 5843"}),  # 张伟, ID, mobile, e-mail
    ("erp", "customers", {**ERP_CUSTOMER, "KUNNR": "C2", "NAME1": "王芳", "SEX": "2", "ID_NO": "",
                          "ID_TYPE": "", "EMAIL": "", "MOBILE": "138 0013 8000"}),  # a placeholder number
    ("erp", "customers", {**ERP_CUSTOMER, "KUNNR": "C3", "KTOKD": "O", "NAME1": "上海明達物流有限公司",
                          "ID_TYPE": "USCC", "ID_NO": "91350100M000100Y43", "SEX": "", "GBDAT": "", "EMAIL": ""}),
    ("finance", "customers", {**FINANCE_CUSTOMER, "phone": "13917265843"}),  # the 15-digit form of the ID
    ("insurance", "policies", {**INSURANCE_POLICY, "holder": {**INSURANCE_POLICY["holder"], "mobile": MOBILE}}),
    ("portal", "registrations", {**PORTAL_REGISTRATION, "mobile": "0086 " + MOBILE}),  # 張偉, traditional
]  # fmt: skip


@pytest.fixture
def loader(store_url: str) -> Iterator[Loader]:
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=KEY)
    _load(loader, RECORDS)
    yield loader
    engine.dispose()


def _load(loader: Loader, items: list[tuple[str, str, dict[str, Any]]]) -> None:
    reports = loader.load(to_source_record(loader.registry[s], stream, p) for s, stream, p in items)
    assert all(r.quarantined == 0 for r in reports.values()), reports


def _found(session: Session, kind: str, typed: str) -> set[tuple[str, str, str]]:
    """(source, entity type, entity key) of the records a typed query finds."""
    ids = search_keys.find(session, kind, search_keys.normalise_query(kind, typed))
    return _named(session, ids)


def _named(session: Session, ids: list[int]) -> set[tuple[str, str, str]]:
    r = CanonicalRecordRow
    rows = session.execute(select(r.source, r.entity_type, r.entity_key).where(r.id.in_(ids))).all()
    assert len(rows) == len(ids)
    return {(row.source, row.entity_type, row.entity_key) for row in rows}


ZHANG_WEI = {("erp", "party", "C00000042"), ("finance", "party", "F0000042"), ("insurance", "party", "H000042"),
             ("portal", "party", "U0000042")}  # fmt: skip


@pytest.mark.parametrize("typed", ["139 1726 5843", "+86 139-1726-5843", "0086 13917265843", "8613917265843"])
def test_a_mobile_typed_in_any_format_finds_every_source_that_has_it(loader: Loader, typed: str) -> None:
    with loader.sessions() as session:
        assert _found(session, "mobile", typed) == ZHANG_WEI


def test_a_placeholder_mobile_is_not_a_key(loader: Loader) -> None:
    with loader.sessions() as session:
        assert _found(session, "mobile", "138 0013 8000") == set()
        assert _found(session, "name", "王芳") == {("erp", "party", "C2")}  # the record itself is there
        stored = session.scalars(select(SearchKeyRow.value).where(SearchKeyRow.kind == "mobile")).all()
    assert set(stored) == {"+86" + MOBILE}


def test_names_in_traditional_characters_pinyin_email_and_organisation(loader: Loader) -> None:
    with loader.sessions() as session:
        assert _found(session, "name", "張偉") == ZHANG_WEI
        assert _found(session, "name", "张伟") == ZHANG_WEI
        assert _found(session, "pinyin", "Zhang Wei") == ZHANG_WEI
        assert _found(session, "email", " Wei.Zhang@EXAMPLE.cn") == {("erp", "party", "C00000042")}
        assert _found(session, "organisation", "上海明达物流有限公司") == {("erp", "party", "C3")}


def test_plate_and_lower_case_vin_find_the_car_and_what_is_said_about_it(loader: Loader) -> None:
    with loader.sessions() as session:
        assert _found(session, "plate", "沪a 12345") == {("insurance", "vehicle", VIN)}
        by_vin = _found(session, "vin", VIN.lower())
    assert ("insurance", "vehicle", VIN) in by_vin
    assert ("insurance", "insurance_policy", INSURANCE_POLICY["policyNo"]) in by_vin
    assert {source for source, entity_type, _ in by_vin if entity_type == "vehicle_relationship"} == {
        "insurance", "portal",
    }  # fmt: skip


def test_an_id_number_is_found_by_its_keyed_hash_and_the_15_digit_form_upgrades(loader: Loader) -> None:
    holders = {
        ("erp", "party", "C00000042"),
        ("finance", "party", "F0000042"),
        ("insurance", "party", "H000042"),
    }
    with loader.sessions() as session:
        assert _named(session, search_keys.find_by_id_number(session, RIC, KEY)) == holders
        assert _named(session, search_keys.find_by_id_number(session, "110105491231002", KEY)) == holders
        assert _named(session, search_keys.find_by_id_number(session, "91350100M000100Y43", KEY)) == {
            ("erp", "party", "C3")
        }
        assert search_keys.find_by_id_number(session, RIC, b"another-key") == []
        assert search_keys.find_by_id_number(session, "110105194912310021", KEY) == []  # wrong check digit
        assert not session.scalars(select(SearchKeyRow).where(SearchKeyRow.value.like("%1949%"))).all()


def test_invalid_identifiers_in_a_query_raise_the_rules_error() -> None:
    with pytest.raises(InvalidVin) as caught:
        search_keys.normalise_query("vin", "LFV2A21K0G3000001")
    assert caught.value.reason == "check_digit"
    with pytest.raises(InvalidMobile):
        search_keys.normalise_query("mobile", "139 1726 584")
    with pytest.raises(ValueError, match="unknown search kind"):
        search_keys.normalise_query("shoe_size", "42")


def test_a_resaved_record_loses_its_old_keys(loader: Loader) -> None:
    changed = {**ERP_CUSTOMER, "MOBILE": "186 0210 3344", "EMAIL": "zw@new.example.cn", "NAME1": "张威",
               "CHANGED_AT": "2024-04-01T10:00:00+08:00"}  # fmt: skip
    _load(loader, [("erp", "customers", changed)])
    with loader.sessions() as session:
        assert ("erp", "party", "C00000042") not in _found(session, "mobile", MOBILE)
        assert _found(session, "mobile", "18602103344") == {("erp", "party", "C00000042")}
        assert _found(session, "email", "wei.zhang@example.cn") == set()
        assert _found(session, "name", "张威") == {("erp", "party", "C00000042")}
        assert ("erp", "party", "C00000042") not in _found(session, "name", "张伟")
        (record_id,) = session.scalars(
            select(CanonicalRecordRow.id).where(CanonicalRecordRow.entity_key == "C00000042")
        )
        keys = session.execute(select(SearchKeyRow.kind, SearchKeyRow.value).where(
            SearchKeyRow.canonical_record_id == record_id)).all()  # fmt: skip
    assert sorted(keys) == [("email", "zw@new.example.cn"), ("mobile", "+8618602103344"), ("name", "张威"),
                            ("pinyin", "zhangwei")]  # fmt: skip


def test_pages_follow_the_record_id_cursor(loader: Loader) -> None:
    with loader.sessions() as session:
        everyone = search_keys.find(session, "mobile", "+86" + MOBILE)
        pages: list[int] = []
        after = 0
        while page := search_keys.find(session, "mobile", "+86" + MOBILE, after_id=after, limit=3):
            pages.extend(page)
            after = page[-1]
    assert pages == everyone == sorted(everyone)
    assert len(everyone) == 4


def test_the_migration_backfills_keys_of_existing_records(loader: Loader, store_url: str) -> None:
    with loader.sessions() as session:
        before = _all_keys(session)
    assert before
    loader.sessions.kw["bind"].dispose()  # the downgrade drops the table: no pooled connection may hold it
    try:
        downgrade(store_url, "0007")
    finally:
        upgrade(
            store_url
        )  # back at head even when the downgrade failed half-way (the PostgreSQL store is shared)
    with loader.sessions() as session:
        assert _all_keys(session) == before


def _all_keys(session: Session) -> list[tuple[int, str, str]]:
    k = SearchKeyRow
    rows = session.execute(select(k.canonical_record_id, k.kind, k.value)).all()
    return sorted((row.canonical_record_id, row.kind, row.value) for row in rows)
