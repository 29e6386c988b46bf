"""A small made-up source (``crm``) for the mapping-language tests: each test gives its own fields."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from canonical_model.entities import SourceRecord
from mappings import MappedRecord, Mapper, load_mapping

HEADER = """
source: crm
version: 1
codes:
  sex_cn: {男: male, 女: female}
streams:
  customers:
    source_id: id
"""


def party(fields: str, *, when: str = "", key: str = "[$source_id]") -> str:
    """An emit of a party whose ``fields`` are the YAML lines given (indented here)."""
    head = f"  - entity: party\n    key: {key}\n" + (f"    when: {when}\n" if when else "")
    return head + "    fields:\n" + textwrap.indent(textwrap.dedent(fields).strip("\n"), " " * 6) + "\n"


def mapping(*emits: str, stream_extra: str = "") -> str:
    extra = textwrap.indent(textwrap.dedent(stream_extra).strip("\n"), " " * 4) + "\n" if stream_extra else ""
    emit_lines = textwrap.indent("".join(emits), " " * 4)
    return HEADER + extra + "    emit:\n" + emit_lines


def load(tmp_path: Path, text: str) -> Mapper:
    path = tmp_path / "crm.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def run(mapper: Mapper, payload: dict[str, Any]) -> MappedRecord:
    record = SourceRecord(source="crm", stream="customers", source_id=str(payload["id"]), payload=payload)
    return mapper.map(record)


def body(mapper: Mapper, payload: dict[str, Any], entity: str = "party") -> dict[str, Any]:
    (found,) = [e.body for e in run(mapper, payload).entities if e.entity_type == entity]
    return found
