"""Unified social credit code — GB 32100-2015 (companies, government bodies, social organisations).

18 characters: registration authority (1) + entity type (1) + region (6 digits) + organisation code (9,
GB 11714) + check character. Alphabet of 31 characters (no I, O, S, V, Z); weights 3^i mod 31.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from canonical_model.identifiers.errors import InvalidUscc
from canonical_model.identifiers.masking import mask_uscc
from canonical_model.identifiers.width import fold_width

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_SEPARATORS = re.compile(r"[\s\-]")

# GB 11714-1997: organisation code check, weights over digits and letters A=10 … Z=35.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Uscc:
    value: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def registration_authority(self) -> str:
        return self.value[0]

    @property
    def entity_type(self) -> str:
        return self.value[1]

    @property
    def region_code(self) -> str:
        return self.value[2:8]

    @property
    def organisation_code(self) -> str:
        return self.value[8:17]

    @property
    def masked(self) -> str:
        return mask_uscc(self.value)


def compact(value: str) -> str:
    return _SEPARATORS.sub("", fold_width(value)).upper()


def calc_check_char(first17: str) -> str:
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def calc_org_check(first8: str) -> str:
    total = sum(int(ch, 36) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def parse(value: str) -> Uscc:
    code = compact(value)
    shown = mask_uscc(code)
    if len(code) != 18:
        raise InvalidUscc("length", f"has {len(code)} characters, a USCC has 18", shown_value=shown)
    if not _SHAPE.match(code):
        raise InvalidUscc(
            "format",
            "must be 2 code characters, 6 region digits and 10 characters of 0-9A-HJ-NPQRTUWXY "
            "(no I, O, S, V, Z)",
            shown_value=shown,
        )
    expected = calc_check_char(code[:17])
    if code[17] != expected:
        raise InvalidUscc(
            "check_digit",
            "check character does not match (GB 32100 MOD 31); a character was mistyped",
            shown_value=shown,
        )
    warnings: list[str] = []
    org = code[8:17]
    # Codes issued before 2015 embed an organisation code whose own check (GB 11714) must hold; a mismatch is
    # unusual enough to flag, but not all issuing authorities followed it, so it is a warning.
    if org[:8].isalnum() and org[8] != calc_org_check(org[:8]):
        warnings.append("embedded organisation code fails its GB 11714 check")
    return Uscc(code, tuple(warnings))


def validate(value: str) -> str:
    return parse(value).value


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidUscc:
        return False
    return True


def format(value: str) -> str:
    return compact(value)
