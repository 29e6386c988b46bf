"""Customer search over HTTP: by mobile, name, pinyin, plate, VIN and ID number (by keyed hash), masked by scope."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from canonical_model.identifiers import resident_id
from core.settings import Settings
from sample_data.identity import to_15_digits
from store.engine import create_store_engine, session_factory
from store.erasure import erase
from store.tables import GoldenRecordRow, PiiAccessRow, SourceRecordRow, XrefRow
from tests.hub_api.conftest import WORLD_PII_KEY, WorldApi, serve


def _found(api: WorldApi, headers: dict[str, str], **criterion: str) -> list[dict[str, Any]]:
    answer = api.client.get("/v1/customers", params=criterion, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def _people(api: WorldApi) -> list[GoldenRecordRow]:
    """Active golden persons in golden-id order (the ids are random: "the first" differs from run to run)."""
    with api.sessions() as session:
        rows = session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "party",
                                                             GoldenRecordRow.status == "active").order_by(GoldenRecordRow.golden_id))  # fmt: skip
        return [r for r in rows if r.body.get("kind") == "person"]


def _chinese_name(row: GoldenRecordRow) -> bool:
    """The generator also makes people with romanised names only, whose simplified name is empty."""
    return bool((row.body.get("name") or {}).get("simplified"))


def _customer_with(api: WorldApi, attribute: str) -> GoldenRecordRow:
    return next(r for r in _people(api) if r.body.get(attribute))


def test_search_by_mobile_in_any_format_and_by_name_and_pinyin(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    customer = next(r for r in _people(world_api) if r.body.get("mobile") and _chinese_name(r))
    e164 = customer.body["mobile"]["mobile"]
    national = e164[3:]
    for typed in (national, f"{national[:3]} {national[3:7]} {national[7:]}", f"0086{national}", e164):
        hits = _found(world_api, headers, mobile=typed)
        assert customer.golden_id in {h["golden_id"] for h in hits}, typed
    hit = next(h for h in _found(world_api, headers, mobile=national) if h["golden_id"] == customer.golden_id)
    assert hit["mobile"] != e164
    assert "****" in hit["mobile"]
    clear = _found(world_api, world_api.token("read:pii"), mobile=national)
    assert e164 in {h["mobile"] for h in clear}
    simplified = customer.body["name"]["simplified"]
    by_name = _found(world_api, headers, name=simplified, limit="500")
    assert customer.golden_id in {h["golden_id"] for h in by_name}
    assert all(h["name"] == simplified for h in by_name)
    by_pinyin = _found(world_api, headers, pinyin=customer.body["name"]["pinyin"].upper(), limit="500")
    assert customer.golden_id in {h["golden_id"] for h in by_pinyin}
    surname, given = customer.body["name"]["pinyin"].split(" ", 1)
    romanised = _found(world_api, headers, name=f"{given.title()} {surname.title()}", limit="500")
    assert customer.golden_id in {h["golden_id"] for h in romanised}  # "Wei Zhang" finds 张伟


def test_a_customer_with_a_romanised_name_only_is_found_by_it_as_written(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    foreign = [
        r for r in _people(world_api) if not _chinese_name(r) and (r.body.get("name") or {}).get("raw")
    ]
    assert foreign  # the generated world has them
    for customer in foreign:
        hits = _found(world_api, headers, name=customer.body["name"]["raw"], limit="500")
        assert customer.golden_id in {h["golden_id"] for h in hits}, customer.body["name"]


def test_search_by_plate_and_vin_finds_the_cars_people(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    with world_api.sessions() as session:
        car = next(r for r in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))
                   if r.body.get("plates") and str(r.body.get("current_owner", "")).startswith("P-"))  # fmt: skip
    owner = car.body["current_owner"]
    assert owner in {h["golden_id"] for h in _found(world_api, headers, vin=car.body["vin"].lower())}
    assert owner in {
        h["golden_id"] for h in _found(world_api, headers, plate=car.body["plates"][-1]["plate"])
    }
    bad = world_api.client.get("/v1/customers", params={"vin": "LFV3A28E9KF01676"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["reason"].startswith("invalid_vin.")


def test_search_by_id_number_uses_the_keyed_hash_and_accepts_the_15_digit_form(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    with world_api.sessions() as session:
        payloads = session.scalars(select(SourceRecordRow).where(SourceRecordRow.source == "erp",
                                                                 SourceRecordRow.stream == "customers"))  # fmt: skip
        record = next(p for p in payloads if p.payload.get("ID_TYPE") == "RIC" and resident_id.is_valid(p.payload["ID_NO"])
                      and p.payload["ID_NO"][6:8] == "19" and p.outcome == "mapped")  # fmt: skip
        golden = session.scalar(select(XrefRow.golden_id).where(XrefRow.source == "erp",
                                                                XrefRow.entity_key == record.payload["KUNNR"]))  # fmt: skip
    number = resident_id.validate(record.payload["ID_NO"])
    assert [h["golden_id"] for h in _found(world_api, headers, id_number=number)] == [golden]
    assert [h["golden_id"] for h in _found(world_api, headers, id_number=to_15_digits(number))] == [golden]
    assert _found(world_api, headers, id_number="110105194912310029") == []


def test_one_criterion_and_restricted_customers_are_not_searchable(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    assert world_api.client.get("/v1/customers", headers=headers).json()["reason"] == "one_criterion"
    two = world_api.client.get(
        "/v1/customers", params={"name": "张伟", "pinyin": "zhangwei"}, headers=headers
    )
    assert two.status_code == 400
    customer = _customer_with(world_api, "mobile")
    mobile = customer.body["mobile"]["mobile"]
    with world_api.sessions.begin() as session:
        erase(session, customer.golden_id, actor="privacy", request_ref="T", restrict_only=True)
    assert customer.golden_id not in {h["golden_id"] for h in _found(world_api, headers, mobile=mobile)}


def test_name_search_pages_through_namesakes(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    with world_api.sessions() as session:
        bodies = [r.body for r in session.scalars(select(GoldenRecordRow).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active"))]  # fmt: skip
    surname_pinyin = {}
    for body in bodies:
        if (body.get("name") or {}).get("simplified"):
            surname_pinyin.setdefault(body["name"]["simplified"], []).append(body)
    name, holders = max(surname_pinyin.items(), key=lambda kv: len(kv[1]))
    seen: list[str] = []
    cursor = None
    while True:
        page = world_api.client.get("/v1/customers", params={"name": name, "limit": 1} | ({"cursor": cursor} if cursor else {}),
                                    headers=headers).json()  # fmt: skip
        assert "items" in page, page
        seen.extend(h["golden_id"] for h in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= len(holders)


@pytest.fixture
def limited_api(world: Path, tmp_path: Path) -> Iterator[WorldApi]:
    """The world behind an API that allows three ID-number searches per key and hour."""
    path = tmp_path / "hub.db"
    shutil.copyfile(world, path)
    url = f"sqlite:///{path}"
    settings = Settings(
        data_dir=tmp_path, database_url=url, pii_hash_key=WORLD_PII_KEY, id_number_searches_per_hour=3
    )
    engine = create_store_engine(url)
    with serve(settings) as client:
        yield WorldApi(client, settings, url, session_factory(engine))
    engine.dispose()


def test_an_id_number_search_is_audited_and_limited_per_key(limited_api: WorldApi) -> None:
    """A read key could test a list of leaked ID numbers: each answer says whether the number is a customer's."""
    api = limited_api
    with api.sessions() as session:
        hashed = session.scalars(select(SourceRecordRow).where(SourceRecordRow.source == "erp",
                                                               SourceRecordRow.stream == "customers"))  # fmt: skip
        record = next(p for p in hashed if p.payload.get("ID_TYPE") == "RIC" and resident_id.is_valid(p.payload["ID_NO"])
                      and p.outcome == "mapped")  # fmt: skip
        golden = session.scalar(select(XrefRow.golden_id).where(XrefRow.source == "erp",
                                                                XrefRow.entity_key == record.payload["KUNNR"]))  # fmt: skip
    number = resident_id.validate(record.payload["ID_NO"])
    prober = api.token("read", name="prober")
    assert [h["golden_id"] for h in _found(api, prober, id_number=number)] == [golden]
    assert _found(api, prober, id_number="110105194912310029") == []
    with api.sessions() as session:
        audit = session.scalars(select(PiiAccessRow).where(PiiAccessRow.key_name == "prober")
                                .order_by(PiiAccessRow.id)).all()  # fmt: skip
    assert [(a.golden_id, a.fields) for a in audit] == [(golden, ["id_number"]), (None, ["id_number"])]
    assert all(number not in a.action for a in audit), "the audit names the kind of search, never the number"
    assert _found(api, prober, id_number=number)
    refused = api.client.get("/v1/customers", params={"id_number": number}, headers=prober)
    assert refused.status_code == 429
    assert refused.json()["reason"] == "id_search_limit"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    assert "prober" in refused.json()["detail"]
    assert _found(api, prober, name="张伟") is not None, "other searches stay open"
    assert _found(api, api.token("read", name="crm"), id_number=number), "another key has its own budget"
