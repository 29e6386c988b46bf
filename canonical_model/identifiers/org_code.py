"""Organisation code — GB 11714-1997, the 9-character company number used before the USCC (2015).

8 body characters (digits or upper-case letters, A=10 … Z=35) and a check character (weights 3 7 9 10 5 8 4 2;
11 − sum mod 11, 10 → X, 11 → 0), written ``12345678-9`` or without the dash. Old customer masters and
finance contracts still carry it. It is characters 9–17 of the company's USCC, so an old record's code joins a
newer record's USCC deterministically (``of_uscc``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from canonical_model.identifiers.errors import InvalidOrgCode
from canonical_model.identifiers.masking import mask_org_code
from canonical_model.identifiers.uscc import calc_org_check
from canonical_model.identifiers.width import fold_width

_SEPARATORS = re.compile(r"[\s\-－—]")
_SHAPE = re.compile(r"^[0-9A-Z]{8}[0-9X]$")


@dataclass(frozen=True)
class OrgCode:
    value: str

    @property
    def masked(self) -> str:
        return mask_org_code(self.value)


def compact(value: str) -> str:
    return _SEPARATORS.sub("", fold_width(value)).upper()


def parse(value: str) -> OrgCode:
    code = compact(value)
    shown = mask_org_code(code) if len(code) >= 6 else code
    if len(code) != 9:
        raise InvalidOrgCode(
            "length", f"has {len(code)} characters, an organisation code has 9", shown_value=shown
        )
    if not _SHAPE.match(code):
        raise InvalidOrgCode(
            "format", "must be 8 digits or capital letters and a check digit or X", shown_value=shown
        )
    if code[8] != calc_org_check(code[:8]):
        raise InvalidOrgCode(
            "check_digit", "check character does not match (GB 11714 MOD 11); a character was mistyped",
            shown_value=shown,
        )  # fmt: skip
    return OrgCode(code)


def validate(value: str) -> str:
    return parse(value).value


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidOrgCode:
        return False
    return True


def of_uscc(uscc_value: str) -> str:
    """The organisation code inside a (valid, compact) USCC: its characters 9–17."""
    return uscc_value[8:17]


def format(value: str) -> str:
    code = compact(value)
    return f"{code[:8]}-{code[8:]}"
