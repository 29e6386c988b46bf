"""Valid identifiers for the sample world, built with the hub's own check-character code.

Every identifier the generator issues passes the validator the hub uses (``canonical_model.identifiers``),
so a clean record is never quarantined by accident; the invalid ones are made on purpose in ``noise``. Each
book hands out numbers through a :class:`~sample_data.shuffle.Shuffle`, so they are also unique.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from canonical_model.identifiers import mobile, resident_id, uscc, vin
from canonical_model.names import split_han, surname_pinyin
from sample_data.shuffle import Shuffle
from sample_data.tables import MOBILE_PREFIXES, Model, Region

FIRST_BIRTH_DAY = date(1950, 1, 1)
BIRTH_DAYS = (date(2003, 12, 31) - FIRST_BIRTH_DAY).days + 1
# Sequence digits 15-17 of a resident ID: odd for men, even for women. 499 pairs per birth day and slot.
_SEQUENCE_PAIRS = 499
_SUBSCRIBER_NUMBERS = 10**8


def vin_for(model: Model, engine_code: str, year_code: str, plant_letter: str, serial: int) -> str:
    """A China VIN (GB 16735): WMI, VDS from model and engine, check digit, year, plant and serial."""
    body = f"{model.wmi}{model.vds}{engine_code}0{year_code}{plant_letter}{serial:06d}"
    return body[:8] + vin.calc_check_digit(body) + body[9:]


def resident_id_for(region_code: str, born: date, sequence: int) -> str:
    first17 = f"{region_code}{born:%Y%m%d}{sequence:03d}"
    return first17 + resident_id.calc_check_char(first17)


def to_15_digits(number: str) -> str:
    """The pre-1999 form of an 18-character ID: no century digits, no check character (GB 11643 §8)."""
    return number[:6] + number[8:17]


def uscc_for(region_code: str, organisation_number: int) -> str:
    """A USCC of a company registered with the market regulator (91…) embedding a GB 11714 org code."""
    org8 = f"{organisation_number:08d}"
    first17 = f"91{region_code}{org8}{uscc.calc_org_check(org8)}"
    return first17 + uscc.calc_check_char(first17)


class BirthRegister:
    """Birth date and ID sequence per person, unique together, so no two people share a resident ID.

    The n-th person's slot is a (birth day, sequence pair) that no other person gets; the region digits
    could differ too, but uniqueness must not depend on them.
    """

    def __init__(self, rng: random.Random) -> None:
        self._shuffle = Shuffle(BIRTH_DAYS * _SEQUENCE_PAIRS, rng)

    @property
    def capacity(self) -> int:
        return self._shuffle.size

    def draw(self, number: int, male: bool) -> tuple[date, int]:
        slot = self._shuffle(number)
        day, pair = divmod(slot, _SEQUENCE_PAIRS)
        return FIRST_BIRTH_DAY + timedelta(days=day), 2 * pair + (1 if male else 2)


class MobileBook:
    """Distinct mainland mobiles: a real carrier prefix and a shuffled subscriber number.

    Numbers a dealer would type as a placeholder (13800000000, 13812345678) are skipped: the hub rightly
    ignores them as evidence, and a real customer does not have one.
    """

    def __init__(self, rng: random.Random) -> None:
        self._shuffle = Shuffle(len(MOBILE_PREFIXES) * _SUBSCRIBER_NUMBERS, rng)

    def number(self, index: int) -> str:
        value = self._shuffle(index)
        while True:
            prefix, subscriber = divmod(value, _SUBSCRIBER_NUMBERS)
            national = f"{MOBILE_PREFIXES[prefix]}{subscriber:08d}"
            if not mobile.is_placeholder(national):
                return national
            value = self._shuffle(value)


class PlateBook:
    """Distinct plates per region (GA 36-2018): ordinary ``沪A·B1234``, small new-energy ``沪A·D12345``."""

    _LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    _SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    _ORDINARY = 10**5 + len(_LETTERS) * 10**4  # five digits, or a letter and four digits
    _NEW_ENERGY = 2 * len(_SERIAL) * 10**4  # D (electric) or F (hybrid), a serial character, four digits

    def __init__(self, region: Region, rng: random.Random) -> None:
        offices = len(region.plate_offices)
        self._region = region
        self._shuffles = {
            False: Shuffle(offices * self._ORDINARY, rng),
            True: Shuffle(offices * self._NEW_ENERGY, rng),
        }
        self._issued = {False: 0, True: 0}

    def issue(self, electric: bool) -> str:
        slot = self._shuffles[electric](self._issued[electric])
        self._issued[electric] += 1
        space = self._NEW_ENERGY if electric else self._ORDINARY
        office, serial = divmod(slot, space)
        tail = self._new_energy_tail(serial) if electric else self._ordinary_tail(serial)
        return f"{self._region.plate_province}{self._region.plate_offices[office]}{tail}"

    def _ordinary_tail(self, serial: int) -> str:
        if serial < 10**5:
            return f"{serial:05d}"
        letter, digits = divmod(serial - 10**5, 10**4)
        return f"{self._LETTERS[letter]}{digits:04d}"

    def _new_energy_tail(self, serial: int) -> str:
        head, digits = divmod(serial, 10**4)
        energy, second = divmod(head, len(self._SERIAL))
        return f"{'DF'[energy]}{self._SERIAL[second]}{digits:04d}"


def pinyin_of(name: str) -> tuple[str, str]:
    """Surname and given name of a Chinese name in toneless pinyin (surname readings like 曾 zeng kept)."""
    surname, given = split_han(name)
    return _surname_pinyin(surname), _given_pinyin(given)


# Cached per part, not per full name: a hundred surnames and a few hundred given names make every name.
@lru_cache(maxsize=1024)
def _surname_pinyin(surname: str) -> str:
    return surname_pinyin(surname)


@lru_cache(maxsize=4096)
def _given_pinyin(given: str) -> str:
    return "".join(lazy_pinyin(given, style=Style.NORMAL)).replace("ü", "v")
