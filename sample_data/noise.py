"""What goes wrong between the true world and a source record: noise to absorb, defects to quarantine.

Two kinds, kept apart because the hub must treat them oppositely. *Noise* is how real sources legitimately
differ — traditional characters, names in pinyin, ``+86`` prefixes, 15-digit IDs, lower-case VINs, one phone
shared by a family or typed by a dealer — and a good hub maps those records. *Quarantining defects* make
a record unusable (a VIN or ID failing its check character, an empty required field, an impossible date,
a mobile with ten digits, a list sent as text, text in a number field); the hub must quarantine them rather than guess.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache
from typing import Any

import opencc

from canonical_model.identifiers import mobile, resident_id
from canonical_model.names import COMMON_SURNAMES, to_simplified
from sample_data import tables
from sample_data.identity import pinyin_of

DEFECTS_THAT_QUARANTINE = frozenset(
    {
        "invalid_vin_check_digit",  # a China VIN whose 9th character is not the check digit (GB 16735)
        "invalid_resident_id",  # wrong check character (ISO 7064 MOD 11-2)
        "missing_required",  # a required field (name, buyer, policy holder) left empty
        "bad_date",  # a date or timestamp that is no calendar day ("2023-13-45")
        "invalid_mobile",  # a mobile with ten digits
        "bad_number",  # a number field holding text ("15万", "12,345km")
        "malformed_record",  # a list (a portal user's bound VINs) sent as one comma-separated string
    }
)
# A letter O typed for the digit 0 ("invalid_vin_o_for_0") is injected like the defects above but is absorbed:
# the mapping repairs it because the repaired VIN passes its check digit, and records the value as written.
QUARANTINE_RATE = 0.025  # share of records that get one quarantining defect

Path = tuple[str, ...]


# --- names -------------------------------------------------------------------------------------------------


@cache
def _traditional_table() -> dict[int, str]:
    """Simplified → traditional for every character the sample uses in names, one character at a time.

    Built with OpenCC once, and only where the hub's own normalisation turns the result back (so the noise
    is absorbable by construction); surnames that are written the same in traditional script stay.
    """
    to_traditional = opencc.OpenCC("s2t")
    pools = (
        tables.GIVEN_MALE_CLASSIC, tables.GIVEN_MALE_MODERN, tables.GIVEN_FEMALE_CLASSIC,
        tables.GIVEN_FEMALE_MODERN, tables.COMPOUND_SURNAMES, tuple(COMMON_SURNAMES),
    )  # fmt: skip
    chars = {ch for pool in pools for word in pool for ch in word} - tables.KEEP_IN_TRADITIONAL
    table: dict[int, str] = {}
    for ch in sorted(chars):
        converted = str(to_traditional.convert(ch))
        if len(converted) == 1 and converted != ch and to_simplified(converted) == ch:
            table[ord(ch)] = converted
    return table


def traditional(name: str) -> str:
    """张伟 → 張偉: how a customer on a Hong Kong or Taiwan keyboard writes the name."""
    return name.translate(_traditional_table())


def pinyin_name(name: str, rng: random.Random) -> str:
    """张伟 → "Wei Zhang" (Western order) or "ZHANG Wei" (passport style, surname in capitals)."""
    surname, given = pinyin_of(name)
    if rng.random() < 0.7:
        return f"{given.capitalize()} {surname.capitalize()}"
    return f"{surname.upper()} {given.capitalize()}"


# --- phones ------------------------------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def phone_as(national: str, style: str) -> str:
    """One of the ways sources write the same mainland mobile; "plain" is the 11 digits."""
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return {
        "plain": national,
        "e164": f"+86{national}",
        "+86 spaced": f"+86 {spaced}",
        "+86-": f"+86-{national}",
        "0086-": f"0086-{national}",
        "0086 ": f"0086 {national}",
        "dashed": f"{national[:3]}-{national[3:7]}-{national[7:]}",
        "spaced": spaced,
        "full_width": national.translate(_FULL_WIDTH),
    }[style]


# --- quarantining defects ----------------------------------------------------------------------------------


# Where each stream can be spoiled: defect → path of the field. A defect is only injected where the field
# holds something it can spoil (no check character to break in an empty or 15-digit ID, no date in a
# company's empty birth date), so one table serves persons and companies alike.
DEFECT_FIELDS: dict[tuple[str, str], dict[str, Path]] = {
    ("erp", "customers"): {
        "missing_required": ("NAME1",), "invalid_mobile": ("MOBILE",), "invalid_resident_id": ("ID_NO",),
        "bad_date": ("GBDAT",),
    },
    ("erp", "vehicles"): {
        "invalid_vin_check_digit": ("VIN",), "invalid_vin_o_for_0": ("VIN",), "bad_date": ("PROD_DATE",),
    },
    ("erp", "sales_orders"): {
        "missing_required": ("KUNNR",), "invalid_vin_check_digit": ("VIN",), "invalid_vin_o_for_0": ("VIN",),
        "bad_date": ("INVOICE_DATE",),
    },
    ("finance", "customers"): {
        "missing_required": ("cust_name",), "invalid_mobile": ("phone",), "bad_number": ("credit_limit",),
        "invalid_resident_id": ("id_number",),
    },
    ("insurance", "policies"): {
        "invalid_vin_check_digit": ("vin",), "invalid_vin_o_for_0": ("vin",), "missing_required": ("holderId",),
        "bad_date": ("startDate",), "invalid_mobile": ("holder", "mobile"),
        "invalid_resident_id": ("holder", "idNumber"),
    },
    ("dms", "lead"): {
        "missing_required": ("customer", "name"), "invalid_mobile": ("customer", "mobile"),
        "bad_date": ("occurred_at",),
    },
    ("dms", "delivery"): {
        "missing_required": ("customer", "name"), "invalid_mobile": ("customer", "mobile"),
        "invalid_vin_check_digit": ("delivery", "vin"), "invalid_vin_o_for_0": ("delivery", "vin"),
        "bad_date": ("delivery", "delivered_at"),
    },
    ("dms", "repair_order"): {
        "invalid_vin_check_digit": ("repair_order", "vin"), "invalid_vin_o_for_0": ("repair_order", "vin"),
        "missing_required": ("repair_order", "ro_number"), "bad_number": ("repair_order", "mileage_km"),
        "invalid_mobile": ("customer", "mobile"),
    },
    ("portal", "registrations"): {
        "missing_required": ("real_name",), "invalid_mobile": ("mobile",), "invalid_resident_id": ("id_card",),
        "bad_date": ("registered_at",), "malformed_record": ("bound_vins",),
    },
    ("portal", "service_requests"): {
        "invalid_vin_check_digit": ("vin",), "invalid_vin_o_for_0": ("vin",), "missing_required": ("user_id",),
        "bad_date": ("created_at",),
    },
}  # fmt: skip


class Spoiler:
    """Injects at most one quarantining defect into a small share of records, and says which."""

    def __init__(self, rng: random.Random, rate: float = QUARANTINE_RATE) -> None:
        self._rng = rng
        self._rate = rate

    def spoil(self, payload: dict[str, Any], source: str, stream: str) -> tuple[str, ...]:
        """Maybe spoil one field of the record (see ``DEFECT_FIELDS``); returns the defect's name, if any."""
        if self._rng.random() >= self._rate:
            return ()
        options = DEFECT_FIELDS[source, stream]
        usable = [d for d in options if _applies(d, _get(payload, options[d]))]
        if not usable:
            return ()
        defect = self._rng.choice(usable)
        path = options[defect]
        _set(payload, path, _SPOILERS[defect](_get(payload, path), self._rng))
        return (defect,)


def _get(payload: dict[str, Any], path: Path) -> Any:
    value: Any = payload
    for part in path:
        value = value[part]
    return value


def _set(payload: dict[str, Any], path: Path, value: Any) -> None:
    target = payload
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _applies(defect: str, value: Any) -> bool:
    """A defect needs something to spoil: no wrong check character in an empty ID, no O without a 0."""
    if defect == "invalid_vin_o_for_0":
        return isinstance(value, str) and len(value) == 17 and "0" in value
    if defect == "invalid_vin_check_digit":
        return isinstance(value, str) and len(value) == 17
    if defect == "invalid_resident_id":  # not a USCC or a passport in the same field, not a 15-digit ID
        return isinstance(value, str) and len(value) == 18 and resident_id.is_valid(value)
    return value not in (None, "", [], {})


def _wrong_check(value: str, position: int, alphabet: str, rng: random.Random) -> str:
    wrong = rng.choice([ch for ch in alphabet if ch != value[position].upper()])
    return value[:position] + wrong + value[position + 1 :]


def _o_for_0(value: str, _rng: random.Random) -> str:
    at = value.rindex("0")
    letter = "o" if value != value.upper() else "O"  # a lower-case VIN gets a lower-case o
    return value[:at] + letter + value[at + 1 :]


def _bad_date(value: str, _rng: random.Random) -> str:
    """Month 13, day 45 — in whichever layout the field uses (YYYYMMDD, ISO date, ISO timestamp)."""
    if len(value) == 8 and value.isdigit():
        return value[:4] + "1345"
    return value[:5] + "13-45" + value[10:]


def _short_mobile(value: str, _rng: random.Random) -> str:
    return mobile.compact(value)[:10]


def _text_number(value: Any, _rng: random.Random) -> str:
    if isinstance(value, int):
        return f"{value:,}km"
    return f"{float(value) / 10_000:g}万"


def _malformed(value: list[str], _rng: random.Random) -> str:
    return ",".join(value)


_SPOILERS: dict[str, Callable[[Any, random.Random], Any]] = {
    "invalid_vin_check_digit": lambda v, rng: _wrong_check(v, 8, "0123456789X", rng),
    "invalid_vin_o_for_0": _o_for_0,
    "invalid_resident_id": lambda v, rng: _wrong_check(v, 17, "0123456789X", rng),
    "missing_required": lambda _v, _rng: "",
    "bad_date": _bad_date,
    "invalid_mobile": _short_mobile,
    "bad_number": _text_number,
    "malformed_record": _malformed,
}
