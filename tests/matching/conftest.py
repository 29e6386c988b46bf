"""A crowd of generated people in a real SQLite store, built once per module and copied for each test.

Name and phone frequencies must be those of a population: in a store of a handful of records, a name
carried by 3 of 4 records would rightly count for almost nothing (term-frequency adjustment).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from sample_data import generate
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from tests.mappings.test_sources import DMS_LEAD, ERP_CUSTOMER, INSURANCE_POLICY, PORTAL_REGISTRATION


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crowd") / "hub.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_store_engine(url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    loader.load(
        to_source_record(loader.registry[g.source], g.stream, g.payload) for g in generate(1000, seed=17)
    )
    engine.dispose()
    return path


@pytest.fixture
def hub(crowd: Path, tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Loader]]:
    path = tmp_path / "hub.db"
    shutil.copyfile(crowd, path)
    engine = create_store_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    yield sessions, Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    engine.dispose()


def load(loader: Loader, *items: tuple[str, str, dict[str, Any]]) -> None:
    records = [to_source_record(loader.registry[src], stream, payload) for src, stream, payload in items]
    reports = loader.load(records)
    assert all(r.quarantined == 0 for r in reports.values()), reports


def lead(customer_id: str, name: str, mobile: str, n: int) -> tuple[str, str, dict[str, Any]]:
    event = {**DMS_LEAD, "message_id": f"m-{n}", "dealer_code": customer_id.split("-")[0].lower(),
             "customer": {"dms_customer_id": customer_id, "name": name, "mobile": mobile, "gender": ""}}  # fmt: skip
    return "dms", "lead", event


MOBILE = "13917265843"  # the shared test payloads use 138 1234 5678, a placeholder the guard never trusts
ZHANG_WEI = (
    ("erp", "customers", {**ERP_CUSTOMER, "MOBILE": "139 1726 5843"}),  # 张伟, resident ID, mobile, e-mail
    (
        "insurance",
        "policies",
        {**INSURANCE_POLICY, "holder": {**INSURANCE_POLICY["holder"], "mobile": "+86" + MOBILE}},
    ),
    ("portal", "registrations", {**PORTAL_REGISTRATION, "mobile": "0086 " + MOBILE}),  # 張偉, the car, no ID
)


def erp_customer(number: str, name: str, mobile: str, street: str = "") -> tuple[str, str, dict[str, Any]]:
    """An ERP customer known by name, mobile and (optionally) street only: no ID, sex, birth date or region."""
    return "erp", "customers", {**ERP_CUSTOMER, "KUNNR": number, "NAME1": name, "ID_TYPE": "", "ID_NO": "",
                                "SEX": "", "GBDAT": "", "MOBILE": mobile, "EMAIL": "", "REGIO": "", "STRAS": street}  # fmt: skip
