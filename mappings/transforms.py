"""Named value transforms a mapping can apply (``transform: mobile``, ``transform: {date: "%Y%m%d"}``).

Each takes the source value and an optional argument from the YAML and returns a JSON-ready value, or raises
``TransformFailed`` with a machine-readable reason. Identifier rules come from ``canonical_model`` so a value
is judged the same way everywhere.

Full-width input (NFKC): a Chinese IME types ``１１０１０５…Ｘ``, ``＋８６ １３８－…`` or ``沪Ａ１２３４５``, which are
the ASCII values, not bad ones. The identifier rules in canonical_model fold it themselves (VIN, plate, mobile,
landline, resident ID, USCC, organisation code); numbers, dates, e-mails and the raw value ``identifier`` picks a
type by are folded here (``_folded``); text kept as written (``strip``, ``person_name``) is not folded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from canonical_model.entities.common import PartialVin, Repaired
from canonical_model.entities.party import PersonName
from canonical_model.identifiers import (
    InvalidIdentifier,
    landline,
    mobile,
    org_code,
    plate,
    resident_id,
    uscc,
    vin,
)
from canonical_model.identifiers.masking import mask_middle
from canonical_model.names import to_simplified
from mappings.context import width_folded as _folded

_KIND_SLUG = {
    "VIN": "vin", "resident ID": "resident_id", "unified social credit code": "uscc",
    "mobile number": "mobile", "licence plate": "plate", "landline number": "landline",
    "organisation code": "org_code",
}  # fmt: skip


class TransformFailed(ValueError):
    """A value could not be transformed. ``reason`` goes to quarantine (e.g. ``invalid_vin.check_digit``)."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def _identifier_failure(exc: InvalidIdentifier) -> TransformFailed:
    return TransformFailed(f"invalid_{_KIND_SLUG.get(exc.kind, 'identifier')}.{exc.reason}", exc.message)


def _text(value: Any) -> str:
    return str(value).strip()


def t_strip(value: Any, _arg: Any = None) -> str:
    return " ".join(_text(value).split())


def t_upper(value: Any, _arg: Any = None) -> str:
    return _text(value).upper()


def t_lower(value: Any, _arg: Any = None) -> str:
    return _text(value).lower()


def t_simplified(value: Any, _arg: Any = None) -> str:
    return to_simplified(_text(value))


def t_int(value: Any, _arg: Any = None) -> int:
    try:
        return int(Decimal(_folded(value)))
    except (InvalidOperation, ValueError) as exc:
        raise TransformFailed("bad_number", f"{_folded(value)!r} is not a whole number") from exc


def t_decimal(value: Any, _arg: Any = None) -> str:
    """Decimals travel as strings so that JSON never rounds money."""
    try:
        return str(Decimal(_folded(value).replace(",", "")))
    except InvalidOperation as exc:
        raise TransformFailed("bad_number", f"{_folded(value)!r} is not a decimal number") from exc


_TRUE = {"true", "1", "y", "yes", "是", "t"}
_FALSE = {"false", "0", "n", "no", "否", "f"}


def t_bool(value: Any, _arg: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    text = _folded(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TransformFailed("bad_boolean", f"{_folded(value)!r} is not a yes/no value")


def t_date(value: Any, arg: Any = None) -> str:
    """A date in the source's format (``arg``, strptime syntax; ISO by default) → ISO ``YYYY-MM-DD``."""
    text = _folded(value)
    try:
        return _iso_date(text, arg)
    except ValueError as exc:
        raise TransformFailed(
            "bad_date", f"{text!r} is not a date in the form {arg or 'YYYY-MM-DD'}"
        ) from exc


# Dates repeat (invoice days, birth dates across a person's records) and strptime is slow; bad dates raise
# and are not cached, so they fail the same way every time.
@lru_cache(maxsize=20_000)
def _iso_date(text: str, fmt: str | None) -> str:
    return (datetime.strptime(text, fmt).date() if fmt else date.fromisoformat(text[:10])).isoformat()


def t_datetime(value: Any, arg: Any = None) -> str:
    """A timestamp → ISO 8601 with offset.

    ``arg`` may give ``format`` (strptime) and ``timezone``: the zone a source's naive local times are in
    (finance databases store Beijing time without an offset). A naive value without a declared zone is
    refused rather than guessed.
    """
    options = arg or {}
    text = _folded(value)
    try:
        fmt = options.get("format")
        parsed = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
    except ValueError as exc:
        raise TransformFailed("bad_datetime", f"{text!r} is not a timestamp") from exc
    if parsed.tzinfo is None:
        zone = options.get("timezone")
        if not zone:
            raise TransformFailed(
                "naive_datetime", f"{text!r} has no UTC offset and the mapping declares no timezone"
            )
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.isoformat()


_PARTIAL_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{6,8}$")


def t_vin(value: Any, arg: Any = None) -> str:
    """A VIN checked by ISO 3779 / GB 16735. Letters that never occur (I, O, Q) are repaired to 1/0 when the
    repaired VIN passes its check digit — dealers type O for 0 — and the entity keeps the value as written
    (``repaired``); ``{vin: {repair: false}}`` refuses them instead. The last 6–8 characters alone (a
    dealer's habit) are a partial VIN: a service event keeps it for the store to resolve, any other entity
    refuses it; ``{vin: {partial: false}}`` refuses it in the transform.
    """
    options = arg or {}
    try:
        return vin.validate(_text(value))
    except InvalidIdentifier as exc:
        written = vin.compact(_text(value))
        if exc.reason == "length" and options.get("partial", True) and _PARTIAL_VIN.match(written):
            return PartialVin(written)
        if exc.reason == "forbidden_letter" and exc.suggestion and options.get("repair", True):
            return Repaired(exc.suggestion, original=written, rule="I/O/Q→1/0, check digit passes")
        raise _identifier_failure(exc) from exc


def t_plate(value: Any, _arg: Any = None) -> str:
    try:
        return plate.validate(_text(value))
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc


def t_mobile(value: Any, _arg: Any = None) -> str:
    try:
        return mobile.validate(_text(value))
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc


def t_mobile_contact(value: Any, _arg: Any = None) -> dict[str, Any]:
    """A mobile contact point, flagged when it is a known placeholder (13800000000 and the like)."""
    try:
        parsed = mobile.parse(_text(value))
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc
    return {"kind": "mobile", "mobile": parsed.e164, "is_placeholder": parsed.placeholder}


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def t_email(value: Any, _arg: Any = None) -> str:
    text = _folded(value).lower()
    if not _EMAIL.match(text):
        raise TransformFailed("invalid_email.format", f"{shown(text)!r} is not an email address")
    return text


def t_person_name(value: Any, arg: Any = None) -> dict[str, Any]:
    """A name as received plus its simplified form, surname/given split and pinyin key."""
    return dict(_person_name(_text(value), arg or "auto"))


# The same person's name arrives from several sources; building and dumping the model each time cost more
# than the (already cached) normalisation. Callers get a copy: the cached dict is never handed out.
@lru_cache(maxsize=50_000)
def _person_name(text: str, order: str) -> dict[str, Any]:
    return PersonName.from_raw(text, order).model_dump()


def t_landline(value: Any, arg: Any = None) -> str:
    """A landline in E.164 (``020-8888 0900`` → ``+862088880900``); ``arg`` may give ``default_area``."""
    try:
        return landline.validate(_text(value), default_area=(arg or {}).get("default_area"))
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc


def t_landline_contact(value: Any, arg: Any = None) -> dict[str, Any]:
    """A landline contact point with its extension; a 400/800 hotline is flagged like a placeholder mobile."""
    try:
        parsed = landline.parse(_text(value), default_area=(arg or {}).get("default_area"))
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc
    return {"kind": "landline", "landline": parsed.e164, "extension": parsed.extension,
            "is_placeholder": parsed.service}  # fmt: skip


def t_phone_contact(value: Any, arg: Any = None) -> dict[str, Any]:
    """A phone column that holds mobiles and landlines alike (a company's TEL column): whichever it is."""
    text = _folded(value)
    try:
        return t_mobile_contact(text)
    except TransformFailed:
        pass  # not a mobile: a landline, or neither
    try:
        return t_landline_contact(text, arg)
    except TransformFailed as exc:
        if exc.reason in ("invalid_landline.format", "invalid_landline.is_mobile"):
            raise TransformFailed(
                "invalid_phone.format", f"{shown(text)!r} is neither a mobile nor a landline"
            ) from exc
        raise


# ``type: auto``: the form of the value says which document it is — a column that holds resident IDs for
# people and USCCs or old organisation codes for companies (an ERP's tax number field, a DMS 证件号码).
_AUTO_TYPES = (
    ("resident_id", resident_id.is_valid),
    ("uscc", uscc.is_valid),
    ("org_code", org_code.is_valid),
)


def _auto_type(raw: str) -> str:
    for id_type, valid in _AUTO_TYPES:
        if valid(raw):
            return id_type
    compact = raw.replace(" ", "").replace("-", "")
    if len(compact) == 9:
        return "org_code"
    return "uscc" if len(compact) == 18 and not compact[:17].isdigit() else "resident_id"


def t_identifier(value: Any, _arg: Any = None) -> dict[str, Any]:
    """An identifier object ``{type, value}`` checked by the rule of its type; 15-digit IDs are upgraded.

    ``type: auto`` picks the type from the value's form; a value valid as none fails by the rule of the type
    its length suggests, so the quarantine reason still says what is wrong.
    """
    if not isinstance(value, dict) or not value.get("type") or value.get("value") in (None, ""):
        raise TransformFailed("bad_identifier", "an identifier needs a type and a value")
    id_type, raw = str(value["type"]), _folded(value["value"])
    if id_type == "auto":
        id_type = _auto_type(raw)
    result = {**value, "type": id_type}
    try:
        if id_type in {"resident_id", "hmt_residence_permit"}:
            parsed = _resident_id(raw, date.today())
            result.update(value=parsed.value, upgraded_from_15=parsed.upgraded_from_15)
        elif id_type == "uscc":
            result["value"] = uscc.validate(raw)
        elif id_type == "org_code":
            result["value"] = org_code.validate(raw)
        else:
            result["value"] = raw.upper().replace(" ", "")
    except InvalidIdentifier as exc:
        raise _identifier_failure(exc) from exc
    return result


# A person's ID number comes from ERP, finance and insurance alike. The rule depends on the day (no birth
# date in the future), so the day is part of the key; invalid numbers raise and are not cached.
@lru_cache(maxsize=20_000)
def _resident_id(raw: str, today: date) -> resident_id.ResidentId:
    return resident_id.parse(raw, today=today)


TRANSFORMS: dict[str, Callable[[Any, Any], Any]] = {
    "strip": t_strip, "upper": t_upper, "lower": t_lower, "simplified": t_simplified,
    "int": t_int, "decimal": t_decimal, "bool": t_bool, "date": t_date, "datetime": t_datetime,
    "vin": t_vin, "plate": t_plate, "mobile": t_mobile, "mobile_contact": t_mobile_contact, "email": t_email,
    "person_name": t_person_name, "identifier": t_identifier,
    "landline": t_landline, "landline_contact": t_landline_contact, "phone_contact": t_phone_contact,
}  # fmt: skip


def shown(value: Any) -> str:
    """A value safe to put in a quarantine message or a log: long strings keep only their ends."""
    text = _text(value)
    return mask_middle(text, 3, 2) if len(text) >= 8 else text
