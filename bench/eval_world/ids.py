"""Identifiers with correct check digits (GB 11643, GB 32100, GB 16735) and the ways people and systems get them wrong."""

from __future__ import annotations

import random
from datetime import date

from canonical_model.identifiers import resident_id, uscc, vin

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Model-year codes 2010..2024 (A..S without I O Q U Z).
YEAR_CODES = dict(zip(range(2010, 2025), "ABCDEFGHJKLMNPR", strict=False))
MOBILE_PREFIXES = ("133", "135", "136", "137", "139", "150", "151", "158", "159", "177", "180", "186", "187", "188", "189", "191", "198")  # fmt: skip


def make_vin(rng: random.Random, wmi: str, vds: str, year: int, plant: str, serial: int) -> str:
    body = f"{wmi}{vds}0{YEAR_CODES[year]}{plant}{serial:06d}"
    return body[:8] + vin.calc_check_digit(body) + body[9:]


def make_resident_id(rng: random.Random, region: str, born: date, male: bool) -> str:
    seq = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + resident_id.calc_check_char(first17)


def to_15(rid: str) -> str:
    """The old 15-digit form of an 18-digit ID of someone born in the 1900s."""
    return rid[:6] + rid[8:17]


def make_org_code(rng: random.Random) -> str:
    body = "".join(rng.choice(ORG_BODY[:10] if i < 2 else ORG_BODY) for i in range(8))
    return body + uscc.calc_org_check(body)


def make_uscc(rng: random.Random, region: str, org_code: str, authority: str = "9", entity: str = "1") -> str:
    first17 = f"{authority}{entity}{region}{org_code}"
    return first17 + uscc.calc_check_char(first17)


def make_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))


def make_landline(rng: random.Random, area: str) -> str:
    digits = 8 if len(area) == 3 or rng.random() < 0.6 else 7
    return area + "-" + rng.choice("2345678") + "".join(rng.choice("0123456789") for _ in range(digits - 1))


# --- how they are written -------------------------------------------------------------------------------


def write_mobile(rng: random.Random, number: str) -> tuple[str, str | None]:
    """A mobile as a person or a form writes it; the second value names the form when it is not plain."""
    r = rng.random()
    if r < 0.70:
        return number, None
    if r < 0.80:
        return f"{number[:3]} {number[3:7]} {number[7:]}", "mobile_spaced"
    if r < 0.88:
        return f"+86 {number}", "mobile_plus86"
    if r < 0.93:
        return f"0086{number}", "mobile_0086"
    if r < 0.97:
        return f"86-{number}", "mobile_86"
    return f"{number[:3]}-{number[3:7]}-{number[7:]}", "mobile_dashed"


def write_landline(rng: random.Random, line: str, ext: str | None) -> str:
    area, local = line.split("-")
    forms = (
        f"{area}-{local}",
        f"({area}){local}",
        f"{area} {local[:4]} {local[4:]}",
        f"+86 {area[1:]} {local[:4]} {local[4:]}",
        f"{area}{local}",
        local,
        f"（{area}）{local}",
    )
    text = rng.choices(forms, weights=(30, 15, 15, 8, 12, 10, 10))[0]
    if ext and rng.random() < 0.5:
        text += rng.choice((f"转{ext}", f"-{ext}", f" ext {ext}"))
    return text


def mobile_typo(rng: random.Random, number: str) -> str:
    i = rng.randrange(3, 11)
    return number[:i] + rng.choice([d for d in "0123456789" if d != number[i]]) + number[i + 1 :]


# --- VIN defects ----------------------------------------------------------------------------------------


def vin_defect(rng: random.Random, value: str, kind: str) -> str:
    if kind == "vin_o_for_0":
        zeros = [i for i, ch in enumerate(value) if ch == "0"]
        i = rng.choice(zeros)
        return value[:i] + "O" + value[i + 1 :]
    if kind == "vin_i_for_1":
        ones = [i for i, ch in enumerate(value) if ch == "1"]
        i = rng.choice(ones)
        return value[:i] + "I" + value[i + 1 :]
    if kind == "vin_check_typo":
        i = rng.choice([p for p in range(17) if p != 8 and p > 10])
        options = [c for c in "0123456789" if c != value[i]]
        while True:
            cand = value[:i] + rng.choice(options) + value[i + 1 :]
            if vin.calc_check_digit(cand) != cand[8]:
                return cand
    if kind == "vin_last6":
        return value[-6:]
    if kind == "vin_last8":
        return value[-8:]
    if kind == "vin_blank":
        return ""
    if kind == "vin_lower":
        return value.lower()
    if kind == "vin_spaced":
        return f"{value[:3]} {value[3:9]} {value[9:]}"
    raise ValueError(kind)


def vin_defect_possible(value: str, kind: str) -> bool:
    return not (kind == "vin_o_for_0" and "0" not in value) and not (
        kind == "vin_i_for_1" and "1" not in value
    )


# --- resident ID defects ---------------------------------------------------------------------------------


def rid_typo(rng: random.Random, rid: str) -> str:
    """One digit of the region or sequence mistyped, or two neighbours swapped: the check digit then fails."""
    while True:
        if rng.random() < 0.5:
            i = rng.choice((1, 2, 3, 4, 5, 14, 15, 16))
            cand = rid[:i] + rng.choice([d for d in "0123456789" if d != rid[i]]) + rid[i + 1 :]
        else:
            i = rng.choice((2, 3, 4, 14, 15))
            cand = rid[:i] + rid[i + 1] + rid[i] + rid[i + 2 :]
        if cand != rid and not resident_id.is_valid(cand):
            return cand
