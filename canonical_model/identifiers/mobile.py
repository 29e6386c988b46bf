"""Mainland China mobile numbers, stored in E.164 (``+8613812345678``).

The gate is the numbering plan's shape (``^1[3-9]\\d{9}$`` after removing separators and the +86 / 0086 / 86
country prefix). Which 3-digit prefixes are in service changes as ranges open, so ``phonenumbers``'s
metadata is used for formatting and as reference data (a warning), never to reject a number.

Dealers type placeholder numbers (13800000000, 13888888888, 13812345678) when a customer will not give one;
those pass the shape but are flagged ``placeholder`` so matching never treats them as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

from canonical_model.identifiers.errors import InvalidMobile
from canonical_model.identifiers.masking import mask_mobile
from canonical_model.identifiers.memo import remembered
from canonical_model.identifiers.width import fold_width

_SEPARATORS = re.compile(r"[\s\-().·]")
_NATIONAL = re.compile(r"^1[3-9]\d{9}$")
_COUNTRY_PREFIXES = ("+86", "0086", "86")


@dataclass(frozen=True)
class Mobile:
    e164: str
    placeholder: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def national(self) -> str:
        return self.e164[3:]

    @property
    def masked(self) -> str:
        return mask_mobile(self.e164)


def compact(value: str) -> str:
    """Remove separators and the country prefix; full-width digits (from Chinese IMEs) become ASCII."""
    number = _SEPARATORS.sub("", fold_width(value))
    for prefix in _COUNTRY_PREFIXES:
        # "86" alone is only a prefix when what follows is a whole 11-digit mobile number.
        if number.startswith(prefix) and (prefix != "86" or len(number) == 13):
            return number[len(prefix) :]
    return number


def is_placeholder(national: str) -> bool:
    """Numbers a person types to get past a required field, not a way to reach anyone."""
    tail = national[3:]
    return (
        len(set(tail)) == 1
        or tail in {"12345678", "87654321"}
        or national in {"13800138000", "13912345678", "13800000000"}
    )


def _normal_form(parsed: Mobile) -> str:
    return parsed.e164


@remembered(_normal_form)
def parse(value: str) -> Mobile:
    national = compact(value)
    shown = mask_mobile(national)
    if not national.isdigit():
        raise InvalidMobile(
            "format", "contains characters other than digits and separators", shown_value=shown
        )
    if len(national) != 11:
        raise InvalidMobile(
            "length",
            f"has {len(national)} digits after removing the country code; a mainland mobile has 11",
            shown_value=shown,
        )
    if not _NATIONAL.match(national):
        raise InvalidMobile(
            "prefix",
            "a mainland mobile number starts with 13-19; this looks like a landline or a typo",
            shown_value=shown,
        )
    warnings = () if _in_numbering_plan(national[:7]) else (_OUTSIDE_PLAN,)
    # E.164 is ours to build: parsed as a national number, phonenumbers strips a leading 179xx as a
    # carrier-selection (IP dialling) prefix and turns 17947004688 into +4688.
    return Mobile("+86" + national, is_placeholder(national), warnings)


_OUTSIDE_PLAN = "prefix not in the numbering plan reference data (may be a newly opened range)"


@lru_cache(maxsize=20_000)
def _in_numbering_plan(prefix7: str) -> bool:
    """Whether a mobile's 7-digit block (the unit the MIIT allocates) is in phonenumbers' metadata.

    Asked once per block and cached: the full parse was a third of the cost of mapping a record.
    """
    return bool(phonenumbers.is_valid_number(phonenumbers.parse(f"+86{prefix7}0000")))


def validate(value: str) -> str:
    """Return the E.164 form or raise :class:`InvalidMobile`."""
    return parse(value).e164


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidMobile:
        return False
    return True


def format(value: str) -> str:
    """Human format ``138 1234 5678``."""
    national = compact(value)
    return f"{national[:3]} {national[3:7]} {national[7:]}"
