"""Hostile extract files never cost the good rows around a bad one, and a file that cannot be read is refused
whole, naming its line or column (issue: a byte-order mark quarantined every row, an unterminated quote swallowed
the rest of the file, a 50 MB field and a file in two encodings each failed the whole load with a traceback).

Each case goes through ``load_file`` — the one path ``autohub load`` and the drop folder share — on SQLite and on
PostgreSQL; the last through the CLI, for what a person sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from connectors.file_lines import FileReadLimits, UnreadableFile
from jobs.file_load import load_file
from pipeline import Loader
from store.tables import CanonicalRecordRow, QuarantineRow, SourceRecordRow, SyncRun
from tests.mappings.test_sources import FINANCE_CUSTOMER

pytestmark = pytest.mark.faults
FIELDS = list(FINANCE_CUSTOMER)


def _customer(n: int, **changes: Any) -> dict[str, Any]:
    return {**FINANCE_CUSTOMER, "cust_id": f"F{n:04d}", "phone": f"139{n:08d}", **changes}


def _csv(*rows: dict[str, Any], header: list[str] = FIELDS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def _lines(*rows: dict[str, Any]) -> list[str]:
    """Each row as one CSV line of its own (to splice a broken one between them)."""
    return _csv(*rows).splitlines(keepends=True)


def _stored(loader: Loader) -> tuple[set[str], list[tuple[str, str, dict[str, Any]]]]:
    """(party keys mapped, quarantine as (reason, message, raw payload))."""
    with Session(loader.sessions.kw["bind"]) as session:
        keys = set(session.scalars(select(CanonicalRecordRow.entity_key)
                                   .where(CanonicalRecordRow.entity_type == "party")))  # fmt: skip
        rows = session.execute(
            select(QuarantineRow.reason, QuarantineRow.message, SourceRecordRow.payload)
            .join(SourceRecordRow, SourceRecordRow.id == QuarantineRow.source_record_id, isouter=True)
            .order_by(QuarantineRow.id)
        ).all()
    return keys, [(r, m, p or {}) for r, m, p in rows]


def test_a_byte_order_mark_is_understood_and_no_row_is_quarantined(tmp_path: Path, loader: Loader) -> None:
    rows = [_customer(n) for n in range(3)]
    utf8 = tmp_path / "excel-utf8.csv"
    utf8.write_bytes(_csv(*rows).encode("utf-8-sig"))  # what Excel's "CSV UTF-8" writes
    wide = tmp_path / "utf16.csv"
    wide.write_bytes(_csv(_customer(7)).encode("utf-16"))  # a mark, then UTF-16 LE
    first = load_file(loader, "finance", utf8)
    second = load_file(loader, "finance", wide, encoding="gbk")  # the mark wins over the declared encoding
    assert (first.report.mapped, first.report.quarantined) == (3, 0)
    assert (second.report.mapped, second.report.quarantined) == (1, 0)
    assert _stored(loader) == ({"F0000", "F0001", "F0002", "F0007"}, [])


def test_an_unterminated_quote_costs_only_its_own_row(tmp_path: Path, loader: Loader) -> None:
    good = _lines(*(_customer(n) for n in range(1, 5)))
    broken = good[2].replace(",张伟,", ',"张伟 broken,', 1)  # row 2 of 5 opens a quote it never closes
    path = tmp_path / "quote.csv"
    path.write_text("".join([good[0], good[1], broken, good[2], good[3], good[4]]), encoding="utf-8")
    done = load_file(loader, "finance", path)
    keys, quarantine = _stored(loader)
    assert keys == {"F0001", "F0002", "F0003", "F0004"}  # every good row, also those after the broken one
    ((reason, message, payload),) = quarantine
    assert reason == "unreadable_row"
    assert "[quote.csv:3]" in message
    assert "never closed" in message or "unclosed quote" in message
    assert payload["_raw"] == broken  # the broken line as it was, to correct
    assert done.lines.balanced
    assert (done.lines.physical, done.lines.rows) == (6, 5)


def test_a_quoted_line_break_is_still_one_row(tmp_path: Path, loader: Loader) -> None:
    """Not every row over two lines is broken: an address may hold a line break, inside its quotes."""
    path = tmp_path / "address.csv"
    path.write_text(_csv(_customer(1, cust_name="王芳\n(北京分公司)"), _customer(2)), encoding="utf-8")
    done = load_file(loader, "finance", path)
    assert (done.report.mapped, done.report.quarantined) == (2, 0)
    assert (done.lines.physical, done.lines.rows, done.lines.row_lines) == (4, 2, 3)


def test_a_huge_field_is_one_quarantined_row(tmp_path: Path, loader: Loader) -> None:
    lines = _lines(*(_customer(n) for n in range(1, 4)))
    huge = f'F9999,"{"长" * (17 * 1024 * 1024)}",个人\r\n'  # 50 MB in UTF-8, between clean rows
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines([lines[0], lines[1], huge, lines[2], lines[3]])
    done = load_file(loader, "finance", path)
    keys, quarantine = _stored(loader)
    assert keys == {"F0001", "F0002", "F0003"}
    ((reason, message, payload),) = quarantine
    assert reason == "unreadable_row"
    assert "[huge.csv:3]" in message
    assert "over max_row_bytes" in message
    assert len(payload["_raw"]) <= 2000  # a sample to recognise it, not the 50 MB
    assert done.lines.balanced


def test_an_over_long_json_line_is_one_quarantined_row(tmp_path: Path, loader: Loader) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('\ufeff{"cust_id": "F0001", "cust_name": "张伟"}\n{"cust_id": "F0002", "cust_name": "'
                    + "x" * 5000 + '"}\n{"cust_id": "F0003", "cust_name": "李娜"}\n', encoding="utf-8")  # fmt: skip
    done = load_file(loader, "finance", path, limits=FileReadLimits(max_row_bytes=4096))
    keys, quarantine = _stored(loader)
    assert keys == {"F0001", "F0003"}
    assert [m.split("]")[0] for _, m, _ in quarantine] == ["[rows.jsonl:2"]
    assert done.lines.balanced


def test_a_file_in_two_encodings_is_refused_naming_its_line(tmp_path: Path, loader: Loader) -> None:
    lines = _lines(*(_customer(n) for n in range(1, 5)))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"".join([*(line.encode("utf-8") for line in lines[:3]), lines[3].encode("gbk"),
                               lines[4].encode("utf-8")]))  # fmt: skip
    with pytest.raises(UnreadableFile) as refused:
        load_file(loader, "finance", path)
    assert refused.value.record == "mixed.csv:4"
    assert "line 4 is not utf-8" in str(refused.value)
    assert "--encoding gbk" in str(refused.value)
    assert _stored(loader) == (set(), [])  # refused whole: nothing half loaded
    with Session(loader.sessions.kw["bind"]) as session:
        run = session.scalars(select(SyncRun)).one()
    assert run.status == "failed"  # and the run says why, for whoever looks at the runs
    assert run.error_message is not None
    assert "mixed.csv:4" in run.error_message


def test_a_header_without_the_id_column_is_refused_as_a_file(tmp_path: Path, loader: Loader) -> None:
    path = tmp_path / "renamed.csv"
    header = ["customer_no" if name == "cust_id" else name for name in FIELDS]
    path.write_text(_csv(*({**_customer(n), "customer_no": f"F{n:04d}"} for n in range(50)), header=header),
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(UnreadableFile) as refused:
        load_file(loader, "finance", path)
    assert refused.value.field == "cust_id"
    assert "customer_no" in str(refused.value)  # the header it found
    assert _stored(loader) == (set(), [])  # not fifty missing_required rows


def test_autohub_load_refuses_a_bad_file_loads_the_good_one_and_exits_1(
    hub_cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    good = tmp_path / "good.csv"
    good.write_text(_csv(_customer(1), _customer(2)), encoding="utf-8-sig")
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(_csv(_customer(3)).encode("utf-8") + _lines(_customer(4))[1].encode("gbk"))
    done = hub_cli("load", "finance", str(mixed), str(good))
    assert done.exit_code == 1, done.output
    said = " ".join(done.output.split())  # as the terminal wrapped it
    assert "mixed.csv refused" in said
    assert "--encoding gbk" in said
    assert "good.csv: 3 lines: 1 header, 0 blank, 2 rows" in said
    with Session(create_engine(f"sqlite:///{tmp_path}/autohub.db")) as session:
        keys = set(session.scalars(select(CanonicalRecordRow.entity_key)))
    assert {"F0001", "F0002"} <= keys
    assert not {"F0003", "F0004"} & keys


def test_a_dropped_file_in_two_encodings_is_set_aside_before_a_page_is_stored(
    tmp_path: Path, loader: Loader
) -> None:
    """The whole file is decoded before its first page: pages of two rows, the bad line fourth, nothing stored."""
    from connectors.file_drop import FileDropConfig, FileDropConnector
    from connectors.runner import run_sync

    folder = tmp_path / "drop"
    folder.mkdir()
    lines = _lines(*(_customer(n) for n in range(1, 7)))
    (folder / "mixed.csv").write_bytes(
        b"".join(line.encode("gbk" if n == 4 else "utf-8") for n, line in enumerate(lines, start=1))
    )
    config = FileDropConfig(folder=folder, stream="customers", id_field="cust_id", page_size=2)
    report = run_sync(FileDropConnector(config, "finance"), loader)
    assert report.records_in == 0
    assert _stored(loader) == (set(), [])
    reason = (folder / "rejected" / "mixed.csv.reason.txt").read_text(encoding="utf-8")
    assert "[mixed.csv:4] line 4 is not utf-8" in reason


def test_loaders_on_partitions_of_one_file_load_each_row_once_and_quarantine_a_broken_row_once(
    tmp_path: Path, loader: Loader
) -> None:
    """``autohub load --partition K/N``: N loaders read the same file; each row is loaded by exactly one of them,
    a row that cannot be read is quarantined by the first only, and every loader reconciles every line."""
    from pipeline.partition import Partition

    good = _lines(*(_customer(n) for n in range(1, 41)))
    broken = good[7].replace(",张伟,", ',"张伟 broken,', 1)
    path = tmp_path / "part.csv"
    path.write_text("".join([*good[:7], broken, *good[7:]]), encoding="utf-8")
    first = load_file(loader, "finance", path, partition=Partition(1, 2))
    second = load_file(loader, "finance", path, partition=Partition(2, 2))
    keys, quarantine = _stored(loader)
    assert keys == {f"F{n:04d}" for n in range(1, 41)}
    assert [reason for reason, _, _ in quarantine] == ["unreadable_row"]
    assert first.report.records_in + second.report.records_in == 41
    assert 0 < first.report.records_in < 41
    assert (first.elsewhere, second.elsewhere) == (second.report.records_in, first.report.records_in)
    assert first.lines.balanced
    assert second.lines.balanced
    assert first.report.balanced
    assert second.report.balanced
