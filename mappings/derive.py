"""Values derived from another value: what a resident ID encodes, where an address is.

Sources that keep a customer's ID number often leave birth date, gender and home region blank, and many keep
the address as one line of text. A mapping derives them as transforms (``transform: resident_id_birth_date``)
instead of each connector parsing them its own way.

A resident ID that breaks its rules fails as the ``identifier`` transform does (``invalid_resident_id.<rule>``):
a birth date read from a mistyped number would be wrong, not missing. An address naming no known division is
blank (``None``): the field takes its ``default`` or is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from canonical_model.identifiers import InvalidIdentifier, resident_id
from mappings.context import width_folded
from mappings.gazetteer import Place, locate
from mappings.transforms import TransformFailed


def _text(value: Any) -> str:
    """The value as text, width-folded (a full-width ID typed with a Chinese IME is the same ID)."""
    if isinstance(value, dict):  # an identifier object {type, value}
        value = value.get("value", "")
    return width_folded(value)


# The rule depends on the day (no birth date in the future), so the day is part of the key; invalid numbers
# raise and are not cached.
@lru_cache(maxsize=20_000)
def _parsed(raw: str, today: date) -> resident_id.ResidentId:
    return resident_id.parse(raw, today=today)


def _resident_id(value: Any) -> resident_id.ResidentId:
    try:
        return _parsed(_text(value), date.today())
    except InvalidIdentifier as exc:
        raise TransformFailed(f"invalid_resident_id.{exc.reason}", exc.message) from exc


def t_resident_id_birth_date(value: Any, _arg: Any = None) -> str:
    return _resident_id(value).birth_date.isoformat()


def t_resident_id_gender(value: Any, _arg: Any = None) -> str:
    """male or female, by the parity of the 17th digit (GB 11643-1999)."""
    return _resident_id(value).gender


def t_resident_id_region(value: Any, _arg: Any = None) -> str:
    """The six-digit GB/T 2260 code of the division that issued the number (810000–830000 for HK/Macau/TW)."""
    return _resident_id(value).region_code


def _place(value: Any) -> Place | None:
    text = _text(value)
    return locate(text) if text else None


def t_address_region(value: Any, _arg: Any = None) -> str | None:
    place = _place(value)
    return place.region if place else None


def t_address_province(value: Any, _arg: Any = None) -> str | None:
    place = _place(value)
    return place.province if place else None


def t_address_city(value: Any, _arg: Any = None) -> str | None:
    place = _place(value)
    return place.city if place else None


def t_address_district(value: Any, _arg: Any = None) -> str | None:
    place = _place(value)
    return place.district if place else None


DERIVED: dict[str, Callable[[Any, Any], Any]] = {
    "resident_id_birth_date": t_resident_id_birth_date,
    "resident_id_gender": t_resident_id_gender,
    "resident_id_region": t_resident_id_region,
    "address_region": t_address_region,
    "address_province": t_address_province,
    "address_city": t_address_city,
    "address_district": t_address_district,
}
