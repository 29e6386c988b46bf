"""Mainland China landline numbers, stored in E.164 (``+862088880900``) with the extension apart.

Companies are reached on landlines far more than on mobiles, and old customer masters hold a home phone. The
forms written are many — ``020-88880900``, ``(020)88880900``, ``020 8888 0900``, ``+86 20 8888 0900``,
``0571-8888 0900 转123`` — and one normal form lets two of them meet. The area code keeps its trunk 0 in
writing and drops it in E.164: 010 (Beijing) and 020–029 are 3 digits, every other area code is 0 + 3 digits;
the local number is 7 or 8 digits. 400/800 numbers are nationwide service lines shared by everyone who calls a
company: they parse, but are flagged ``service`` so that matching never uses them as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from canonical_model.identifiers.errors import InvalidLandline
from canonical_model.identifiers.masking import mask_middle
from canonical_model.identifiers.width import fold_width

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋（）－　", "0123456789+()- ")
_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_TRAILING_GROUP = re.compile(r"^(.*\d)[\s\-]+(\d{1,5})$")
_SEPARATORS = re.compile(r"[\s\-().·/]")
_MOBILE = re.compile(r"^(?:\+?86|0086)?1[3-9]\d{9}$")
_SERVICE = re.compile(r"^[48]00\d{7}$")


@dataclass(frozen=True)
class Landline:
    e164: str  # +86 + area code without its trunk 0 + local number; a service line: +86 + 400xxxxxxx
    area_code: str  # with its trunk 0 ("020"); "" for a 400/800 service line
    extension: str | None = None
    service: bool = False  # 400/800: the company's hotline, shared by every caller

    @property
    def national(self) -> str:
        return (
            f"{self.area_code}-{self.e164[3 + len(self.area_code) - 1 :]}"
            if self.area_code
            else self.e164[3:]
        )

    @property
    def masked(self) -> str:
        return mask_middle(self.e164, 6, 2)


def compact(value: str) -> str:
    """Digits only, with the country prefix turned back into the trunk 0 (``+86 20 …`` → ``020…``)."""
    number = _SEPARATORS.sub("", fold_width(value).translate(_FULL_WIDTH))
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            rest = number[len(prefix) :]
            return rest if _SERVICE.match(rest) or rest.startswith("0") else "0" + rest
    if number.startswith("86") and len(number) in (11, 12) and not _SERVICE.match(number):
        return "0" + number[2:]  # 86 20 88880900 written without the plus
    return number


def _area_length(number: str) -> int:
    return 3 if number.startswith(("010", "02")) else 4


def _parse_number(number: str, shown: str, default_area: str | None) -> tuple[str, str, bool]:
    if _SERVICE.match(number):
        return "", number, True
    if _MOBILE.match(number):
        raise InvalidLandline("is_mobile", "is a mobile number, not a landline", shown_value=shown)
    if not number.isdigit():
        raise InvalidLandline(
            "format", "may hold digits, spaces, dashes and brackets only", shown_value=shown
        )
    if not number.startswith("0"):
        if default_area and 7 <= len(number) <= 8:
            number = default_area + number
        else:
            raise InvalidLandline(
                "missing_area_code", "has no area code (such as 020 or 0571); declare the source's default_area",
                shown_value=shown,
            )  # fmt: skip
    area = number[: _area_length(number)]
    local = number[len(area) :]
    if not 7 <= len(local) <= 8 or local[0] in "01":
        raise InvalidLandline(
            "length", f"area code {area} must be followed by a local number of 7 or 8 digits not starting 0 or 1",
            shown_value=shown,
        )  # fmt: skip
    return area, local, False


def parse(value: str, *, default_area: str | None = None) -> Landline:
    """``default_area`` (``"0571"``) completes local numbers a source writes without their area code."""
    text = value.translate(_FULL_WIDTH).strip()
    shown = mask_middle(text, 4, 2) if len(text) >= 8 else text
    extension: str | None = None
    if match := _EXTENSION.search(text):
        text, extension = text[: match.start()], match.group(1)
    try:
        area, local, service = _parse_number(compact(text), shown, default_area)
    except InvalidLandline:
        # 020-88880900-123: a trailing group of a few digits is an extension, but only when the rest is a
        # whole number on its own (020-8888-0900 is one number written in three groups).
        grouped = _TRAILING_GROUP.match(text)
        if extension is not None or grouped is None:
            raise
        area, local, service = _parse_number(compact(grouped.group(1)), shown, default_area)
        extension = grouped.group(2)
    e164 = "+86" + (local if service else area[1:] + local)
    return Landline(e164, area, extension, service)


def validate(value: str, *, default_area: str | None = None) -> str:
    return parse(value, default_area=default_area).e164


def is_valid(value: str) -> bool:
    try:
        parse(value)
    except InvalidLandline:
        return False
    return True


def format(value: str) -> str:
    return parse(value).national
