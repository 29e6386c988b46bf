"""Newest wins by the source's own time (a stream's ``as_of``), on SQLite and PostgreSQL: an older extract
loaded last never overwrites a newer address, in one batch or across loads; without ``as_of`` the last load
wins, as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow

YAML = """
source: crm_extract
version: 1
streams:
  customers:
    source_id: id
    required: [id, name]
    {as_of}
    emit:
      - entity: party
        key: [$source_id]
        fields:
          kind: person
          name: {{from: name, transform: person_name}}
          contact_points:
            - fields: {{kind: address, address: {{street: {{from: street, transform: strip}}}}}}
              when: street
"""
DATED = "as_of: {from: snapshot, transform: {date: '%Y%m%d'}}"


def _loader(store_url: str, folder: Path, as_of: str) -> Iterator[Loader]:
    folder.mkdir()
    (folder / "crm_extract.yaml").write_text(YAML.format(as_of=as_of), encoding="utf-8")
    engine = create_store_engine(store_url)
    yield Loader(session_factory(engine), MappingRegistry.load(folder), pii_key=b"k")
    engine.dispose()


@pytest.fixture
def dated(store_url: str, tmp_path: Path) -> Iterator[Loader]:
    yield from _loader(store_url, tmp_path / "dated", DATED)


@pytest.fixture
def undated(store_url: str, tmp_path: Path) -> Iterator[Loader]:
    yield from _loader(store_url, tmp_path / "undated", "")


def _row(street: str, snapshot: str) -> dict[str, Any]:
    return {"id": "C-1", "name": "张伟", "street": street, "snapshot": snapshot}


def _street(loader: Loader) -> str:
    with loader.sessions() as session:
        body = session.scalars(
            select(CanonicalRecordRow.body).where(CanonicalRecordRow.source == "crm_extract")
        ).one()
    return str(body["contact_points"][0]["address"]["street"])


def _load(loader: Loader, *rows: dict[str, Any]) -> int:
    records = [to_source_record(loader.registry["crm_extract"], "customers", row) for row in rows]
    report = loader.load(records)["crm_extract"]
    assert report.balanced
    assert report.quarantined == 0
    return report.older_than_stored


def test_an_older_extract_loaded_last_does_not_overwrite_a_newer_address(dated: Loader) -> None:
    assert _load(dated, _row("文三路90号", "20240630")) == 0
    assert _load(dated, _row("解放路1号", "20231231")) == 1  # last year's extract, loaded late
    assert _street(dated) == "文三路90号"
    assert _load(dated, _row("延安路8号", "20241231")) == 0  # a newer one still wins
    assert _street(dated) == "延安路8号"


def test_within_one_batch_the_newest_version_wins_whatever_the_order(dated: Loader) -> None:
    assert _load(dated, _row("文三路90号", "20240630"), _row("解放路1号", "20231231")) == 1
    assert _street(dated) == "文三路90号"


def test_a_version_without_a_date_is_replaced_by_the_next_load(dated: Loader) -> None:
    _load(dated, _row("文三路90号", ""))  # no snapshot: as_of unknown, last loaded wins
    _load(dated, _row("解放路1号", "20231231"))
    assert _street(dated) == "解放路1号"


def test_without_as_of_the_last_load_wins(undated: Loader) -> None:
    _load(undated, _row("文三路90号", "20240630"))
    _load(undated, _row("解放路1号", "20231231"))
    assert _street(undated) == "解放路1号"
