"""Resident identity number — GB 11643-1999 (also HK/Macau/Taiwan residence permits, prefixes 81/82/83).

18 characters: region (6, GB/T 2260) + birth date YYYYMMDD + sequence (3, odd = male) + check character
(ISO 7064 MOD 11-2). The old 15-digit form (region + YYMMDD + sequence) is upgraded by inserting ``19`` after
the region and appending the computed check character; the record keeps that it was upgraded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from canonical_model.identifiers.errors import InvalidResidentId
from canonical_model.identifiers.masking import mask_resident_id
from canonical_model.identifiers.width import fold_width

# GB 11643-1999 §7.2: ISO 7064 MOD 11-2 weights 2^(17-i) mod 11, remainder → check character.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"

# GB/T 2260 province-level prefixes, plus 81/82/83 for the HK/Macau/Taiwan residence permits (2018).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 "
    "65 71 81 82 83".split()
)
_EARLIEST_BIRTH = date(1880, 1, 1)
_SEPARATORS = re.compile(r"[\s\-]")

Gender = Literal["male", "female"]


@dataclass(frozen=True)
class ResidentId:
    """A validated 18-character resident ID and what it encodes."""

    value: str
    region_code: str
    birth_date: date
    gender: Gender
    upgraded_from_15: bool = False

    @property
    def is_residence_permit(self) -> bool:
        """HK/Macau/Taiwan residents' permit (prefix 81/82/83), same algorithm, no mainland region."""
        return self.value[:2] in {"81", "82", "83"}

    @property
    def masked(self) -> str:
        return mask_resident_id(self.value)


def compact(value: str) -> str:
    return _SEPARATORS.sub("", fold_width(value)).upper()


def calc_check_char(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(text: str, shown: str, today: date) -> date:
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidResidentId(
            "birth_date",
            "digits 7-14 are not a real date (YYYYMMDD); check the birth date part",
            shown_value=shown,
        ) from None
    if not _EARLIEST_BIRTH <= born <= today:
        raise InvalidResidentId(
            "birth_date", f"birth date is before {_EARLIEST_BIRTH.year} or in the future", shown_value=shown
        )
    return born


def upgrade_15(value: str) -> str:
    """GB 11643-1999 §8: 15-digit numbers were issued to people born 1900-1999; insert ``19`` and add the check."""
    first17 = value[:6] + "19" + value[6:]
    return first17 + calc_check_char(first17)


def parse(value: str, *, today: date | None = None) -> ResidentId:
    """Validate a 15- or 18-character resident ID; raises :class:`InvalidResidentId` with a reason code."""
    number = compact(value)
    shown = mask_resident_id(number)
    today = today or date.today()
    upgraded = False
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidResidentId("format", "a 15-digit resident ID has digits only", shown_value=shown)
        number = upgrade_15(number)
        upgraded = True
    elif len(number) != 18:
        raise InvalidResidentId(
            "length",
            f"has {len(number)} characters; a resident ID has 18 (or 15 in the pre-1999 form)",
            shown_value=shown,
        )
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise InvalidResidentId("format", "must be 17 digits followed by a digit or X", shown_value=shown)
    if number[:2] not in PROVINCE_PREFIXES:
        raise InvalidResidentId(
            "region", f"region prefix {number[:2]} is not a GB/T 2260 province code", shown_value=shown
        )
    born = _birth_date(number[6:14], shown, today)
    expected = calc_check_char(number[:17])
    if number[17] != expected:
        raise InvalidResidentId(
            "check_digit",
            "check character does not match (ISO 7064 MOD 11-2); one digit was probably mistyped",
            shown_value=shown,
        )
    gender: Gender = "male" if int(number[16]) % 2 else "female"
    return ResidentId(number, number[:6], born, gender, upgraded)


def validate(value: str, *, today: date | None = None) -> str:
    """Return the normalised 18-character number (15-digit input upgraded) or raise."""
    return parse(value, today=today).value


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidResidentId:
        return False
    return True


def format(value: str) -> str:
    return compact(value)
