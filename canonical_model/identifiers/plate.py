"""Motor vehicle licence plates — GA 36-2018.

A plate names a registration, not a car: it is kept as a dated attribute of the vehicle, never as a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from canonical_model.identifiers.errors import InvalidPlate
from canonical_model.identifiers.memo import remembered
from canonical_model.identifiers.width import fold_width

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Traditional (and Japanese-variant 黒) forms of province abbreviations, as typed on Hong Kong/Taiwan or
# Japanese keyboards. A table rather than OpenCC: t2s leaves 黒 as it is.
_TRADITIONAL_PROVINCES = str.maketrans("遼黒魯蘇贛貴粵陝閩寧瓊滬雲晉", "辽黑鲁苏赣贵粤陕闽宁琼沪云晋")
_SEPARATORS = re.compile(r"[\s·•.\-_]")
_SERIAL = "[A-HJ-NP-Z0-9]"
_ENERGY = "[DABCEFGHJK]"
_P = f"[{PROVINCES}]"
_OFFICE = "[A-HJ-NP-Z]"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ordinary", re.compile(f"^{_P}{_OFFICE}{_SERIAL}{{5}}$")),
    # Small new-energy vehicles: energy letter first (D/A/B/C/E pure electric, F/G/H/J/K other).
    ("new_energy_small", re.compile(f"^{_P}{_OFFICE}{_ENERGY}{_SERIAL}\\d{{4}}$")),
    # Large new-energy vehicles: five digits, energy letter last.
    ("new_energy_large", re.compile(f"^{_P}{_OFFICE}\\d{{5}}{_ENERGY}$")),
    # Trailers, driving schools, police, HK/Macau cross-border: four serial characters and a suffix.
    ("special", re.compile(f"^{_P}{_OFFICE}{_SERIAL}{{4}}[挂学警港澳领试超]$")),
)

PlateKind = Literal["ordinary", "new_energy_small", "new_energy_large", "special"]


@dataclass(frozen=True)
class Plate:
    value: str
    kind: PlateKind

    @property
    def province(self) -> str:
        return self.value[0]

    @property
    def office(self) -> str:
        return self.value[1]

    @property
    def is_new_energy(self) -> bool:
        return self.kind.startswith("new_energy")


def compact(value: str) -> str:
    return _SEPARATORS.sub("", fold_width(value)).translate(_TRADITIONAL_PROVINCES).upper()


def _normal_form(parsed: Plate) -> str:
    return parsed.value


@remembered(_normal_form)
def parse(value: str) -> Plate:
    plate = compact(value)
    if not plate or plate[0] not in PROVINCES:
        raise InvalidPlate(
            "province", "must start with a province abbreviation such as 京, 沪 or 粤", shown_value=plate
        )
    for kind, pattern in _PATTERNS:
        if pattern.match(plate):
            return Plate(plate, kind)  # type: ignore[arg-type]
    raise InvalidPlate(
        "format",
        "after the province and office letter expected 5 characters (ordinary) or 6 with an energy letter "
        "(new energy); I and O are never used",
        shown_value=plate,
    )


def validate(value: str) -> str:
    return parse(value).value


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidPlate:
        return False
    return True


def format(value: str) -> str:
    """Display form with the middle dot: ``京A·12345``."""
    plate = compact(value)
    return f"{plate[:2]}·{plate[2:]}"
