"""Where a free-text Chinese address is: its province, city and district by the GB/T 2260 division table.

The table is the one canonical_model/organisations.py reads — ``resources/adcodes.csv`` of the installed
``cpca`` package, found without importing cpca (its import loads pandas and jieba, seconds per process). That
module keeps only provinces and cities (a district name is as often a company's trade name), while an address
needs its district too, so this is a reader of its own over the same file.

An address is read from its start, one level at a time, each level searched only among the divisions of the
one above it: 西湖区 is a district of 杭州 and of 南昌, and the city already found says which. Full names
(浙江省, 杭州市) and short forms (浙江, 杭州) are both accepted for provinces and cities; districts only in full
(西湖区), since a short district name (西湖) is a common word. A municipality's districts are its city
(上海市浦东新区 → city 上海市). An address naming no known division reads as nothing: the field is blank.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from canonical_model.names import to_simplified
from canonical_model.organisations import NOT_PLACES, PLACE_SUFFIXES, division_table, short_form

# Short forms for provinces and cities only: a district's short name (西湖) is a common word.
_SUFFIXES = tuple(s for s in PLACE_SUFFIXES if s not in ("区", "县"))
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


@dataclass(frozen=True)
class Division:
    code: str  # six digits, e.g. 330106
    name: str  # the full name, e.g. 西湖区


@dataclass(frozen=True)
class Place:
    """The divisions an address names; ``region`` is the code of the most precise one."""

    region: str
    province: str | None
    city: str | None
    district: str | None


_Index = dict[
    str, tuple[tuple[str, Division], ...]
]  # first character → (written form, division), longest first


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Division]
    top: _Index  # provinces and cities, full and short
    cities: dict[str, _Index]  # province prefix (2 digits) → its cities
    districts: dict[str, _Index]  # city prefix (4 digits) or province prefix (2) → districts in full
    lone_districts: _Index  # districts whose full name is unique in the country


def _index(entries: list[tuple[str, Division]]) -> _Index:
    grouped: dict[str, list[tuple[str, Division]]] = {}
    for form, division in sorted(entries, key=lambda e: -len(e[0])):
        grouped.setdefault(form[0], []).append((form, division))
    return {first: tuple(forms) for first, forms in grouped.items()}


def _forms(division: Division) -> list[tuple[str, Division]]:
    short = short_form(division.name, _SUFFIXES)
    return [(division.name, division)] + ([(short, division)] if short else [])


# A short city name followed by one of these is the start of a district's or county's own name.
_LOWER_SUFFIXES = {"区", "县", "旗"}


@cache
def _table() -> _Table:
    by_code: dict[str, Division] = {}
    with division_table().open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            code, name = row["adcode"][:6], row["name"]
            if name and name not in NOT_PLACES and row["adcode"][6:].strip("0") == "":
                by_code[code] = Division(code, name)
    provinces = [d for d in by_code.values() if d.code[2:] == "0000"]
    cities = [d for d in by_code.values() if d.code[4:] == "00" and d.code[2:] != "0000"]
    districts = [d for d in by_code.values() if d.code[4:] != "00"]
    top = [form for d in (*provinces, *cities) for form in _forms(d)]
    # A province's short form is preferred over a city's of the same spelling (吉林 the province, not the city).
    top.sort(key=lambda e: (-len(e[0]), e[1].code[2:] != "0000"))
    cities_of: dict[str, list[tuple[str, Division]]] = {}
    for city in cities:
        cities_of.setdefault(city.code[:2], []).extend(_forms(city))
    districts_of: dict[str, list[tuple[str, Division]]] = {}
    counts: dict[str, int] = {}
    for district in districts:
        districts_of.setdefault(district.code[:4], []).append((district.name, district))
        districts_of.setdefault(district.code[:2], []).append((district.name, district))
        counts[district.name] = counts.get(district.name, 0) + 1
    lone = [(d.name, d) for d in districts if counts[d.name] == 1]
    return _Table(
        by_code=by_code,
        top={first: tuple(forms) for first, forms in _group(top).items()},
        cities={prefix: _index(forms) for prefix, forms in cities_of.items()},
        districts={prefix: _index(forms) for prefix, forms in districts_of.items()},
        lone_districts=_index(lone),
    )


def _group(ordered: list[tuple[str, Division]]) -> dict[str, list[tuple[str, Division]]]:
    grouped: dict[str, list[tuple[str, Division]]] = {}
    for form, division in ordered:
        grouped.setdefault(form[0], []).append((form, division))
    return grouped


def _match(text: str, pos: int, index: _Index | None) -> tuple[Division, int] | None:
    if index is None or pos >= len(text):
        return None
    for form, division in index.get(text[pos], ()):
        if text.startswith(form, pos):
            return division, pos + len(form)
    return None


def _descend(table: _Table, text: str, division: Division, pos: int) -> Division:
    """The most precise division below ``division`` that the text names next (or ``division`` itself)."""
    code = division.code
    if code[2:] == "0000":  # a province: its city, else a district directly under it (municipalities, 仙桃市)
        found = _match(text, pos, table.cities.get(code[:2])) or _match(
            text, pos, table.districts.get(code[:2])
        )
    elif code[4:] == "00":  # a city: its district
        found = _match(text, pos, table.districts.get(code[:4]))
    else:
        return division
    return division if found is None else _descend(table, text, *found)


@lru_cache(maxsize=20_000)
def locate(address: str) -> Place | None:
    """The place ``address`` is in, or None when it starts with no known division."""
    table = _table()
    text = "".join(to_simplified(unicodedata.normalize("NFKC", address)).split())
    found = _match(text, 0, table.top)
    if found is not None and text[found[1] : found[1] + 1] in _LOWER_SUFFIXES:
        found = None  # 朝阳区 is a district (of Beijing or Changchun), not 朝阳 the city in Liaoning
    found = found or _match(text, 0, table.lone_districts)
    if found is None:
        return None
    division = _descend(table, text, *found)
    code = division.code
    province = table.by_code.get(f"{code[:2]}0000")
    city = table.by_code.get(f"{code[:4]}00") if code[2:4] != "00" else None
    if city is None and code[:2] in _MUNICIPALITIES and province is not None:
        city = province  # a municipality's districts: the municipality is the city
    return Place(
        region=code,
        province=province.name if province else None,
        city=city.name if city else None,
        district=division.name if code[4:] != "00" else None,
    )
