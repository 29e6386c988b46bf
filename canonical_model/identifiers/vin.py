"""Vehicle identification number — ISO 3779 and GB 16735-2019.

In China the check digit (position 9) is normative (GB 16735 annex), so a China-built VIN (WMI starting
with ``L``) with a wrong check digit is invalid. ISO 3779 leaves it optional elsewhere: for other WMIs a
wrong check digit is a warning, not an error.

Letters I, O and Q never occur in a VIN. They are a typing error, which this rule never "fixes": the error
carries a suggested correction (O→0, I→1, Q→0) when that correction passes the check digit, and the mapping's
``vin`` transform applies it and records the value as written beside it (``repaired``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from canonical_model.identifiers.errors import InvalidVin
from canonical_model.identifiers.memo import remembered
from canonical_model.identifiers.width import fold_width

ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_VALID = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_SEPARATORS = re.compile(r"[\s\-_.·]")

# ISO 3779 transliteration: letters map to 1-9 in blocks, skipping I, O, Q.
_TRANSLITERATION: dict[str, int] = {str(d): d for d in range(10)} | {
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
    "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
    "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9,
}  # fmt: skip
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)

# Position 10: a 30-year cycle of model-year codes (I O Q U Z and 0 are never used).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"
_YEAR_BASE = 1980

_TYPO_FIXES = str.maketrans({"O": "0", "I": "1", "Q": "0"})


@dataclass(frozen=True)
class Vin:
    """A validated VIN split into its ISO 3779 sections."""

    value: str
    check_digit_ok: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def wmi(self) -> str:
        return self.value[:3]

    @property
    def vds(self) -> str:
        return self.value[3:8]

    @property
    def check_digit(self) -> str:
        return self.value[8]

    @property
    def model_year_code(self) -> str:
        return self.value[9]

    @property
    def plant_code(self) -> str:
        return self.value[10]

    @property
    def serial(self) -> str:
        return self.value[11:]

    @property
    def is_china_built(self) -> bool:
        return is_china_wmi(self.value)

    def model_year(self, reference: date | None = None) -> int | None:
        return model_year(self.model_year_code, reference)


def compact(value: str) -> str:
    """Upper-case and drop separators that people and scanners insert."""
    return _SEPARATORS.sub("", fold_width(value)).upper()


def is_china_wmi(vin: str) -> bool:
    """WMIs assigned to China start with ``L`` (e.g. LFV FAW-VW, LSV SAIC-VW, LSG SAIC-GM)."""
    return vin.startswith("L")


def calc_check_digit(vin: str) -> str:
    """The check character of a 17-character VIN (its own position 9 is ignored)."""
    total = sum(_TRANSLITERATION[ch] * weight for ch, weight in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def model_year(code: str, reference: date | None = None) -> int | None:
    """Resolve a position-10 code to a year, choosing the 30-year cycle with a reference date.

    A model year may run at most one year ahead of production, so the answer is the latest year of the
    cycle that is not later than ``reference.year + 1`` (today when no production date is known).
    """
    index = _YEAR_CODES.find(code)
    if index < 0:
        return None
    ceiling = (reference or date.today()).year + 1
    year = _YEAR_BASE + index
    while year + 30 <= ceiling:
        year += 30
    return year


def _suggest(vin: str) -> str | None:
    fixed = vin.translate(_TYPO_FIXES)
    if _VALID.match(fixed) and calc_check_digit(fixed) == fixed[8]:
        return fixed
    return None


def _normal_form(parsed: Vin) -> str:
    return parsed.value


@remembered(_normal_form)
def parse(value: str) -> Vin:
    """Validate and split a VIN; raises :class:`InvalidVin` with a reason code."""
    vin = compact(value)
    if len(vin) != 17:
        raise InvalidVin(
            "length",
            f"has {len(vin)} characters, a VIN has 17; re-key it from the vehicle or its papers",
            shown_value=vin,
        )
    if not _VALID.match(vin):
        bad = sorted({ch for ch in vin if ch not in ALPHABET})
        reason = "forbidden_letter" if set(bad) <= {"I", "O", "Q"} else "alphabet"
        raise InvalidVin(
            reason,
            f"contains {', '.join(bad)}, which never {'occurs' if len(bad) == 1 else 'occur'} in a VIN "
            "(ISO 3779 excludes I, O and Q)",
            shown_value=vin,
            suggestion=_suggest(vin),
        )
    warnings: list[str] = []
    strict = is_china_wmi(vin)
    expected = calc_check_digit(vin)
    check_ok = expected == vin[8]
    if not check_ok:
        if strict:
            raise InvalidVin(
                "check_digit",
                f"check digit is {vin[8]!r} but the other characters give {expected!r} "
                "(GB 16735 makes the check digit normative for China-built vehicles); "
                "one character was probably mistyped",
                shown_value=vin,
            )
        warnings.append(f"check digit is {vin[8]!r}, expected {expected!r} (optional outside China)")
    if vin[9] not in _YEAR_CODES:
        if strict:
            raise InvalidVin(
                "model_year",
                f"position 10 is {vin[9]!r}, which is not a model-year code (never I, O, Q, U, Z or 0)",
                shown_value=vin,
            )
        warnings.append(f"position 10 {vin[9]!r} is not a model-year code")
    return Vin(value=vin, check_digit_ok=check_ok, warnings=tuple(warnings))


def validate(value: str) -> str:
    """Return the normalised VIN or raise :class:`InvalidVin`."""
    return parse(value).value


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidVin:
        return False
    return True


def format(value: str) -> str:
    return compact(value)
