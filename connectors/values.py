"""How every pulled source's answer is read, whatever its protocol: a dotted path into it, the record's id as
the raw store keys it, and a change time made aware in the source's declared zone.

Why one module: the ERP (``erp_values.py``) and the ``http`` type (``rest_values.py``) each had their own copy,
and the copies drifted — one keyed a number id ``1042.0`` as ``"1042"``, the other as ``"1042.0"``; one walked
lists, the other did not. A rule about ids or zones now changes in one place for every type; what is truly
SOAP's (SAP's date forms, values with XML attributes) or REST's (a declared time format) stays beside it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

_MISSING = object()
# What a JSON or SOAP answer holds at its leaves: never walked into by name (``"abc".upper`` is no field).
_SCALARS = (str, bytes, int, float, bool)


class UnreadableTime(ValueError):
    """A change time in no form the source's settings allow; the message shows the value, shortened.
    One record's problem: it is stored raw and quarantined."""


class NaiveTime(ValueError):
    """A change time without a zone where no source_timezone is declared: configuration, not one record —
    a guess would move every watermark by hours."""


def dig(body: Any, dotted: str) -> Any:
    """The value at ``a.b.0.c`` in nested dicts, lists (by index) and objects with attributes (zeep's values);
    ``""`` is the body itself; None where a step is missing (``has_path`` tells a missing step from a null)."""
    found = _walk(body, dotted)
    return None if found is _MISSING else found


def has_path(body: Any, dotted: str) -> bool:
    return _walk(body, dotted) is not _MISSING


def _walk(body: Any, dotted: str) -> Any:
    if not dotted:
        return body
    for part in dotted.split("."):
        if isinstance(body, dict):
            body = body.get(part, _MISSING)
        elif isinstance(body, list):
            body = body[int(part)] if part.isdigit() and int(part) < len(body) else _MISSING
        elif body is None or isinstance(body, _SCALARS):
            return _MISSING
        else:
            body = getattr(body, part, _MISSING)
        if body is _MISSING:
            return _MISSING
    return body


def record_id(value: Any) -> str | None:
    """The id as the raw store keys it: text (a number id ``1042`` is ``"1042"``, ``1042.0`` too), never the
    printed form of a structure or a boolean; None if there is none."""
    if value is None or isinstance(value, bool | dict | list | tuple | set):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def in_zone(moment: datetime, written: Any, zone: tzinfo | None) -> datetime:
    """``moment`` aware: as written when it has a zone, else read in ``zone`` (the source's declared
    source_timezone); with none declared it is ``NaiveTime``, never guessed. ``written`` is shown in the error."""
    if moment.tzinfo is not None:
        return moment
    if zone is None:
        raise NaiveTime(f"change time {str(written)[:40]!r} has no zone")
    return moment.replace(tzinfo=zone)
