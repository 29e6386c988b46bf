"""What the ERP connector reads out of an answer and writes into a request, apart from zeep: nested request
parameters, values with XML attributes, SAP's date formats and indicators. Plain functions over plain values,
so the rules are tested without a server and the connector's modules stay about SOAP. What every type reads
alike (dotted paths, ids, zones) is ``connectors/values.py``'s."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from connectors.values import UnreadableTime, in_zone, record_id

# SAP DATS (YYYYMMDD) and TIMESTAMP/TIMESTAMPL (YYYYMMDDhhmmss[.fffffff]); written without a zone.
_SAP_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SAP_STAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,7}))?")
# SAP's initial values: a date or time stamp that was never set is all zeros, not absent.
_SAP_INITIAL = re.compile(r"0+(?:[.,]0*)?")
_TRUE = frozenset({"true", "1", "x", "yes"})  # xs:boolean, and SAP's CHAR1 indicator ("X" is true)


def put(params: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested request parameters, creating the levels; zeep takes nested dicts for
    nested elements (SAP: ``ProcessingConditions.QueryHitsMaximumNumberValue``)."""
    *levels, leaf = dotted.split(".")
    for level in levels:
        child = params.setdefault(level, {})
        if not isinstance(child, dict):
            raise ValueError(f"{dotted!r} goes into {level!r}, which another setting gives a plain value")
        params = child
    params[leaf] = value


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"Selection.Name": "*"}`` → ``{"Selection": {"Name": "*"}}``; nested dicts given as such are kept."""
    params: dict[str, Any] = {}
    for key, value in flat.items():
        if isinstance(value, dict):
            for inner, item in nested(value).items():
                put(params, f"{key}.{inner}", item)
        else:
            put(params, key, value)
    return params


def paths(params: dict[str, Any], prefix: str = "") -> list[str]:
    """Every leaf of nested parameters as a dotted path: what the WSDL must have room for."""
    found: list[str] = []
    for key, value in params.items():
        path = f"{prefix}{key}"
        found.extend(paths(value, f"{path}.") if isinstance(value, dict) and value else [path])
    return found


def text_of(value: Any) -> Any:
    """A value with XML attributes as its text: zeep gives ``<ID schemeID="…">0000100001</ID>``
    as ``{'_value_1': '0000100001', 'schemeID': …}`` (serialised) or an object with ``_value_1``."""
    if isinstance(value, dict):
        return value.get("_value_1")
    inner = getattr(value, "_value_1", None)
    return value if inner is None else inner


def id_text(value: Any) -> str | None:
    """An id or continuation as the raw store keys it, read through its XML attributes (``text_of``)."""
    return record_id(text_of(value))


def is_true(value: Any) -> bool:
    value = text_of(value)
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def change_time(value: Any, zone: tzinfo | None) -> datetime | None:
    """An aware datetime from ISO 8601 or SAP's DATS/TIMESTAMPL forms; None for no value or SAP's initial value.

    A time written without a zone is read in ``zone`` (the ERP's declared source_timezone); with no zone
    declared it is refused (``NaiveTime``), never guessed: a guess would shift the watermark by hours.
    """
    value = text_of(value)
    if isinstance(value, datetime):
        moment = value
    elif value is None or (
        isinstance(value, str) and (not value.strip() or _SAP_INITIAL.fullmatch(value.strip()))
    ):
        return None
    else:
        moment = _parse(str(value).strip())
    return in_zone(moment, value, zone)


def _parse(text: str) -> datetime:
    if stamp := _SAP_STAMP.fullmatch(text):
        year, month, day, hour, minute, second, fraction = stamp.groups()
        micro = (fraction or "0").ljust(6, "0")[:6]  # TIMESTAMPL has 7 digits (100 ns): cut to µs
        return _checked(text, year, month, day, hour, minute, second, micro)
    if date := _SAP_DATE.fullmatch(text):
        return _checked(text, *date.groups())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UnreadableTime(f"change time {text[:40]!r} is no ISO 8601 or SAP date/time stamp") from None


def _checked(text: str, *parts: str) -> datetime:
    """``parts``: year, month, day and optionally hour, minute, second, microsecond, as digits."""
    year, month, day, hour, minute, second, micro = (int(part) for part in (*parts, "0", "0", "0", "0")[:7])
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        raise UnreadableTime(f"change time {text[:40]!r} is no date (out of range)") from None
