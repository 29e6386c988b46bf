"""Hostile-input screen: what no store can hold, or no parser should walk, is refused with a reason up front.

A NUL character is legal JSON but PostgreSQL refuses it in text and JSONB; a lone surrogate cannot be
encoded as UTF-8; ``Infinity`` is not JSON at all; an id longer than its column fails the insert; JSON nested
thousands deep exhausts a recursive walker. Each of these used to fail a whole batch's commit, so one hostile
record took the good records of its batch with it. The screen finds them per record, before the batch is
written, so the record is quarantined alone with a reason a person can act on.

What cannot be stored as it came is stored as a *stand-in*: the payload's text with every unsafe character
escaped, under an id that fits. The stand-in keeps the raw store's promises (every record received is in it,
a re-read is recognised as the same record) without ever holding a byte the database refuses.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from pydantic import BaseModel, Field

from canonical_model.entities.source import SourceRecord
from core.errors import DataError
from core.settings import Settings

# The store's column widths (store/tables.py): source_record.source_id and canonical_record.entity_key.
MAX_ID_CHARS = 200
MAX_KEY_CHARS = 300


class InputLimits(BaseModel):
    """``AUTOHUB_INPUT__*``: bounds on one record's shape, beyond which it is refused as unsafe."""

    max_depth: int = Field(default=32, ge=4, le=1000, description="nesting of objects and lists")
    max_text_chars: int = Field(default=100_000, ge=100, description="characters in one string value")
    max_raw_chars: int = Field(default=10_000, ge=100, description="text kept of a refused record")


class UnsafeInput(DataError):
    """A record the store cannot hold as it came (NUL, lone surrogate, non-finite number, too deep, too long)."""


def safe_text(text: str) -> str:
    """``text`` with what no database text column takes escaped: NUL as ``\\x00``, lone surrogates as ``\\udcXX``."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def safe_id(value: str, limit: int = MAX_ID_CHARS) -> str:
    """An id that fits its column: escaped, and when too long, a prefix plus a hash of the whole (stable)."""
    text = safe_text(value)
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{text[: limit - 18]}…#{digest}"


def record_name(record: SourceRecord) -> str:
    """How a message names a record (source/stream/id), its id escaped and shortened: safe in any store or log."""
    return f"{record.source}/{record.stream}/{safe_id(record.source_id, 60)}"


def _unsafe(record: str, reason: str, message: str, path: str, fix: str) -> UnsafeInput:
    return UnsafeInput(message, reason=f"unsafe_input.{reason}", record=record, field=path or None, fix=fix)


def _text_fault(text: str, limits: InputLimits) -> tuple[str, str] | None:
    if "\x00" in text:
        return "nul_character", "text holds a NUL character"
    if len(text) > limits.max_text_chars:
        return "text_too_long", f"text of {len(text):,} characters (limit {limits.max_text_chars:,})"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "lone_surrogate", "text holds a lone UTF-16 surrogate (not encodable as UTF-8)"
    return None


def screen_record(record: SourceRecord, limits: InputLimits) -> UnsafeInput | None:
    """The first unsafe thing in ``record`` as a quarantine error, or None when it can be stored as it is.

    The walk is iterative, so a deep structure is measured, never recursed into.
    """
    where = record_name(record)
    fix = "correct the record in the source system; the rest of its batch was stored"
    if len(record.source_id) > MAX_ID_CHARS:
        return _unsafe(where, "id_too_long", f"record id of {len(record.source_id):,} characters "
                       f"(limit {MAX_ID_CHARS})", "source_id", fix)  # fmt: skip
    fault = _text_fault(record.source_id, limits)
    if fault:
        return _unsafe(where, fault[0], fault[1], "source_id", fix)
    stack: list[tuple[Any, str, int]] = [(record.payload, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > limits.max_depth:
            return _unsafe(where, "too_deep", f"nested more than {limits.max_depth} levels", path, fix)
        if isinstance(value, dict):
            for key, item in value.items():
                key_text = str(key)
                child = f"{path}.{key_text}" if path else key_text
                fault = _text_fault(key_text, limits)
                if fault:
                    return _unsafe(where, fault[0], f"a field name: {fault[1]}", safe_text(path), fix)
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{n}]", depth + 1) for n, item in enumerate(value))
        elif isinstance(value, str):
            fault = _text_fault(value, limits)
            if fault:
                return _unsafe(where, fault[0], fault[1], safe_text(path), fix)
        elif isinstance(value, float) and not math.isfinite(value):
            return _unsafe(
                where, "non_finite_number", f"number {value!r} is not finite (not JSON)", path, fix
            )
    return None


def stand_in(record: SourceRecord, limits: InputLimits) -> SourceRecord:
    """What is stored for a refused record: its escaped text under an id that fits, same hash as the original.

    The hash is the original's, so a re-read of the same hostile row is recognised and not quarantined again.
    """
    try:
        text = json.dumps(record.payload, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        text = "<not printable>"
    payload = {"unsafe_input": True, "text": safe_text(text[: limits.max_raw_chars])}
    return SourceRecord(source=record.source, stream=record.stream, source_id=safe_id(record.source_id),
                        received_at=record.received_at, payload=payload, payload_hash=record.payload_hash)  # fmt: skip


def parse_json(body: bytes) -> tuple[Any, str | None]:
    """A pushed body as JSON, or the reason it is not: ``not_json`` or ``unsafe_input.too_deep``.

    ``json.loads`` raises more than ``JSONDecodeError`` on hostile bodies — ``RecursionError`` for JSON nested
    thousands deep, ``ValueError`` for an integer of more than 4 300 digits — and each of those used to escape
    the consumer and take its whole batch round the delivery limit.
    """
    try:
        return json.loads(body), None
    except RecursionError:
        return None, "unsafe_input.too_deep"
    except (UnicodeDecodeError, ValueError):  # JSONDecodeError is a ValueError
        return None, "not_json"


def input_limits(settings: Settings) -> InputLimits:
    """``AUTOHUB_INPUT__…``: the bounds on one record's shape."""
    return settings.section("input", InputLimits)
