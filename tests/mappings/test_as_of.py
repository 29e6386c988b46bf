"""Per-stream ``as_of``: when the source says a record's version was true, for the store's newest-wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from mappings import Mapper
from tests.mappings.crm import load, mapping, party, run

PERSON = party("kind: person\nname: {from: name, transform: person_name}")
SHANGHAI = timezone(timedelta(hours=8))


def _mapper(tmp_path: Path, as_of: str) -> Mapper:
    return load(tmp_path, mapping(PERSON, stream_extra=f"as_of: {as_of}"))


def test_a_local_timestamp_in_a_declared_zone_is_an_aware_as_of(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, '{from: updated_at, transform: {datetime: {format: "%Y-%m-%d %H:%M:%S", '
                               "timezone: Asia/Shanghai}}}")  # fmt: skip
    mapped = run(mapper, {"id": "1", "name": "张伟", "updated_at": "2024-03-01 10:00:00"})
    assert mapped.as_of == datetime(2024, 3, 1, 10, 0, tzinfo=SHANGHAI)
    assert mapped.as_of is not None
    assert mapped.as_of.utcoffset() == timedelta(hours=8)
    assert mapped.warnings == []


@pytest.mark.parametrize(
    "as_of", ["{from: snapshot_date, transform: {date: '%Y%m%d'}}", "{from: snapshot_date}"]
)
def test_a_date_is_midnight_utc(tmp_path: Path, as_of: str) -> None:
    snapshot = "20240301" if "%Y" in as_of else "2024-03-01"
    mapped = run(_mapper(tmp_path, as_of), {"id": "1", "name": "张伟", "snapshot_date": snapshot})
    assert mapped.as_of == datetime(2024, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "warning"),
    [
        ("01/03/2024", "as_of updated_at: bad_datetime (as_of unknown: the last loaded version wins)"),
        ("2024-03-01T10:00:00", "as_of: a timestamp without a UTC offset"),  # never guessed
    ],
)
def test_an_unreadable_as_of_keeps_the_record_with_a_warning(
    tmp_path: Path, value: str, warning: str
) -> None:
    mapper = _mapper(tmp_path, "{from: updated_at, transform: [strip]}")
    if "bad_" in warning:
        mapper = _mapper(tmp_path, "{from: updated_at, transform: datetime}")
    mapped = run(mapper, {"id": "1", "name": "张伟", "updated_at": value})
    assert mapped.as_of is None
    assert [e.entity_key for e in mapped.entities] == ["1"]
    (said,) = mapped.warnings
    assert said.startswith(warning)


def test_a_blank_as_of_or_none_declared_is_none_without_a_warning(tmp_path: Path) -> None:
    mapped = run(_mapper(tmp_path, "{from: [updated_at, created_at]}"), {"id": "1", "name": "张伟"})
    assert (mapped.as_of, mapped.warnings) == (None, [])
    assert run(load(tmp_path, mapping(PERSON)), {"id": "1", "name": "张伟"}).as_of is None


def test_the_first_non_blank_timestamp_is_the_as_of(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, "{from: [updated_at, created_at], transform: datetime}")
    mapped = run(mapper, {"id": "1", "name": "张伟", "updated_at": "", "created_at": "2024-01-02T03:04:05Z"})
    assert mapped.as_of == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
