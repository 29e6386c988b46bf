"""Canonical party records → the flat feature rows the matcher compares.

One row per source party. The canonical model already did the hard normalisation (simplified characters,
surname-first pinyin, E.164 mobiles, 15→18 upgraded IDs kept as keyed hashes); here each fact becomes one
comparable column, and evidence the data itself shows to be unreliable — a mobile or e-mail carried by
several different names (a dealer typing his own phone, a company switchboard) — is withdrawn before any
pair is scored. Withdrawn identifiers are reported, never silently dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from canonical_model.identifiers.masking import mask_mobile
from canonical_model.names import han_names_disagree, is_chinese_surname, to_simplified
from canonical_model.organisations import city_of_region, organisation_key
from store.matching_input import PartyRecord, iter_parties, party_dealers, party_vehicle_links

FEATURE_COLUMNS = (
    "unique_id", "source", "entity_key", "kind", "name_cn", "name_py", "surname_py", "given_py", "chinese_name", "title_form",
    "org_name", "org_place", "org_branch", "birth_date", "birth_year_month", "gender", "region", "city", "mobile", "email", "id_hash", "vins",
    "address_key", "mobile_head", "mobile_tail", "vins_sure",
)  # fmt: skip


def _organisation_columns(name: str | None, region: str | None) -> dict[str, str | None]:
    """杭州市明达物流有限责任公司 and 明达物流（杭州）有限公司 share a key; 宁波明达物流 is kept apart by its place.

    An organisation's place is the one its name carries, else the city of its address: a DMS record of
    明达物流 without a place must not bridge the Hangzhou and the Ningbo company. A name that carries one city
    on an address in another is an establishment there (a branch written under its parent's name), kept apart
    from the parent as a branch is.
    """
    if not name:
        return {"org_name": None, "org_place": None, "org_branch": None}
    key = organisation_key(name)
    seated = city_of_region(region) if region else None
    place = key.place or seated
    branch = key.branch
    if key.place and seated and seated != key.place and not branch:
        # 西安博雅广告有限公司 at an address in 长沙: a branch written under its parent's name, not the parent
        branch = seated
    return {"org_name": key.core or None, "org_place": place, "org_branch": branch}


def _contact(body: dict[str, Any], kind: str, field_name: str) -> str | None:
    for point in body.get("contact_points") or []:
        if point.get("kind") == kind and point.get(field_name) and not point.get("is_placeholder"):
            return str(point[field_name])
    return None


def _phone(body: dict[str, Any]) -> str | None:
    """One phone per party: both kinds are E.164 and never equal, so one column carries the phone evidence.

    A person is compared on the mobile, else the landline. A company on its landline first: its switchboard
    is the company's, the mobile on a company record is whichever employee dealt with the dealer. A landline
    many names share (a company's people, a family) is withdrawn like a shared mobile (``withdraw_shared_identifiers``);
    a 400/800 hotline is never evidence.
    """
    mobile, fixed = _contact(body, "mobile", "mobile"), _contact(body, "landline", "landline")
    return (fixed or mobile) if body.get("kind") == "organisation" else (mobile or fixed)


# What an address's divisions look like at its start (浙江省, 杭州市, 西湖区, 浦东新区, 某某县, 内蒙古自治区): dropped, so
# that "杭州市西湖区文三路90号" and "西湖区文三路90号" — one source writes the city, the other starts at the
# district — give one key; the region columns compare the divisions themselves.
_LEADING_DIVISION = re.compile(r"^[\u4e00-\u9fff]{1,7}?(?:自治区|自治州|省|市|区|县|旗)")


# A phone's head and tail: "+86" and the first six digits, the last five. One digit mistyped leaves one of them
# whole, so with the surname they are blocking keys that bring the two records before the model.
_HEAD, _TAIL = 9, 5


def with_mobile(value: str | None) -> dict[str, str | None]:
    """The phone columns of a feature row: the phone, and its head and tail unless the value is a shared number
    bound to a name (``name_bound``, "value~hash"), whose near neighbours are no evidence of anything."""
    plain = value if value and "~" not in value and len(value) > _HEAD + _TAIL - 3 else None
    return {"mobile": value, "mobile_head": plain[:_HEAD] if plain else None,
            "mobile_tail": plain[-_TAIL:] if plain else None}  # fmt: skip


def set_identifier(row: dict[str, Any], column: str, value: str | None) -> None:
    """A feature row's mobile or e-mail replaced (a shared one by what is left of it): a mobile's parts follow."""
    row.update(with_mobile(value) if column == "mobile" else {column: value})


def _address_region(body: dict[str, Any]) -> str | None:
    """The region of the party's first address with one: a mapping that read the region only into the address
    (长沙市芙蓉区… → 430102) still says where the party is."""
    for point in body.get("contact_points") or []:
        region = ((point.get("address") or {}) if point.get("kind") == "address" else {}).get("region_code")
        if region:
            return str(region)
    return None


def address_key(body: dict[str, Any]) -> str | None:
    """A party's street address as a matching key: width, script and spacing folded, the leading divisions
    dropped, 幢/号楼 read as 栋. Only an address with a number in it (a house, a flat) is a key: "文三路" alone
    is a street, shared by thousands."""
    for point in body.get("contact_points") or []:
        address = point.get("address") if point.get("kind") == "address" else None
        street = (address or {}).get("street")
        if not street:
            continue
        text = to_simplified("".join(unicodedata.normalize("NFKC", str(street)).split()))
        for _ in range(3):
            stripped = _LEADING_DIVISION.sub("", text, count=1)
            if stripped == text or len(stripped) < 4:
                break
            text = stripped
        text = text.replace("号楼", "栋").replace("幢", "栋")
        return text[:200] if re.search(r"\d", text) else None
    return None


def _id_hash(body: dict[str, Any]) -> str | None:
    """The keyed hash of a resident ID, or of a company's organisation code: the only identifiers unique to
    one person or company.

    A company is compared on its organisation code (a USCC's characters 9–17, store/pii.py) rather than on
    the whole USCC, so that an old record that has only the 9-character code meets the newer one with the
    USCC. A USCC stored before the code was hashed falls back to its own hash.
    """
    for identifier in body.get("identifiers") or []:
        kind = identifier.get("type")
        if kind in ("uscc", "org_code") and identifier.get("org_code_hash"):
            return str(identifier["org_code_hash"])
        if kind in ("resident_id", "uscc") and identifier.get("value_hash"):
            return str(identifier["value_hash"])
    return None


def party_features(record: PartyRecord, vins: Mapping[str, bool] | Iterable[str] = ()) -> dict[str, Any]:
    """``vins``: the party's cars, each with whether some record of it wrote the VIN right (not repaired)."""
    cars = dict(vins) if isinstance(vins, Mapping) else dict.fromkeys(vins, True)
    body = record.body
    name = body.get("name") or {}
    birth = body.get("birth_date")
    region = body.get("region_code") or _address_region(body)
    org = body.get("organisation_name")
    email = _contact(body, "email", "email")
    pinyin = name.get("pinyin") or ""
    titled = bool(name.get("title"))
    return {
        "unique_id": record.record_id,
        "source": record.source,
        "entity_key": record.entity_key,
        "kind": body.get("kind") or "person",
        "name_cn": name.get("simplified") or None,
        # 王先生 names no one: no name key (never a name match), only the surname for the title level.
        "name_py": None if titled else name.get("pinyin") or None,
        "surname_py": (name.get("pinyin") or "").split(" ")[0] or None,
        "given_py": " ".join((name.get("pinyin") or "").split(" ")[1:]) or None,
        "title_form": titled,
        # 张伟 or "Wei Zhang": a Chinese name, whose pinyin syllables must agree exactly (see splink_model)
        "chinese_name": bool(name.get("simplified") or (pinyin and is_chinese_surname(pinyin.split(" ")[0]))),
        **_organisation_columns(org, region),
        "birth_date": birth,
        "birth_year_month": birth[:7] if birth else None,
        "gender": body.get("gender") if body.get("gender") in ("male", "female") else None,
        "region": region,
        "city": region[:4] if region else None,
        **with_mobile(_phone(body)),
        "email": email.lower() if email else None,
        "id_hash": _id_hash(body),
        "vins": sorted(cars) or None,  # no known car is no evidence, not disagreement
        # A car met only through a repaired VIN (an O read as 0, a partial resolved) counts, but less
        "vins_sure": sorted(v for v, right in cars.items() if right) or None,
        "vins_repaired": sorted(v for v, right in cars.items() if not right) or None,
        "address_key": address_key(body),
    }


@dataclass(frozen=True)
class SharedIdentifier:
    """An identifier carried by records of several different names: withdrawn as matching evidence."""

    kind: str  # mobile | email
    value: str = field(repr=False)  # clear, for look-ups only; shown masked
    masked: str
    names: int  # distinct names carrying it
    records: int
    sources: tuple[str, ...]
    dealers: tuple[str, ...]  # the dealers whose leads, deliveries, repair orders name its carriers

    def as_row(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "masked": self.masked, "names": self.names,
                "records": self.records, "sources": list(self.sources), "dealers": list(self.dealers)}  # fmt: skip

    def describe(self) -> str:
        where = f" at dealer {', '.join(self.dealers)}" if self.dealers else ""
        return f"{self.kind} {self.masked}, carried by {self.names} different names in {self.records} records{where}"


@dataclass
class FeatureSet:
    rows: list[dict[str, Any]]
    shared: list[SharedIdentifier] = field(default_factory=list)


def _name_key(row: dict[str, Any]) -> str:
    return str(row["org_name"] or row["name_py"] or row["name_cn"] or "")


# The shortest full name (Han characters or pinyin syllables) that binds a shared number. Two do not: a dealer
# who types his own phone for hundreds of customers has two different 张伟 among them (two false merges on our
# generated data with two; with three none, and 0.004 less person F1 on the independent set).
_BINDING_NAME = 3


def name_bound(value: str, row: dict[str, Any]) -> str | None:
    """What is left of a shared mobile/e-mail as evidence on ``row``: the value bound to the record's name.

    A number typed for many customers (a dealer's own, a fleet's pool phone) says nothing about any of them
    alone, but two records that carry it *under the same full name* — 王超婷 on two repair orders with the
    fleet's pool phone — are the same driver. So the shared value is kept as "value~name" (a short hash of the
    name key: it fits the index column), which only records of that name share. A name that says too little
    to bind — a title form (王先生), a two-character name (王伟 is shared by thousands) — loses the value
    altogether, as before.
    """
    if row.get("title_form"):
        return None
    if row.get("kind") == "organisation":
        key = str(row.get("org_name") or "")
        if len(key) < 2:
            return None
    else:
        han, pinyin = str(row.get("name_cn") or ""), str(row.get("name_py") or "")
        if len(han) < _BINDING_NAME and len(pinyin.split()) < _BINDING_NAME:
            return None
        key = (
            pinyin or han
        )  # by its reading: 陈昊国 and 陈昊果 (a typist's homophone) on one pool phone are one driver
    return f"{value}~{hashlib.sha1(key.encode()).hexdigest()[:8]}"  # noqa: S324 - a short join key, not security


# A number with at most this many full names is a household's or a small team's, not a dealer's or a fleet's pool:
# a title form on it names the one carrier of its surname.
_TITLE_BINDING_NAMES = 4


def title_bound(value: str, row: dict[str, Any], carriers: Iterable[dict[str, Any]]) -> str | None:
    """What is left of a shared number on a title form's record (曾先生): the number bound to the one full name
    of that surname among its carriers, when the number is a household's (a few names) — 曾先生 calling from the
    family phone that 曾波杰, his wife and his daughter share is 曾波杰. Two carriers of the surname, a title of
    the other sex, or a dealer's or a fleet's number with many names: nothing, as before."""
    if not row.get("title_form") or row.get("kind") != "person" or not row.get("surname_py"):
        return None
    full = {_name_key(c): c for c in carriers if c.get("kind") == "person" and not c.get("title_form")}
    full.pop("", None)
    if not 0 < len(full) <= _TITLE_BINDING_NAMES:
        return None
    same = [c for c in full.values() if c.get("surname_py") == row["surname_py"]]
    han = [str(c.get("name_cn") or "") for c in same]
    if not same or any(han_names_disagree(a, b) for a in han for b in han):
        return None  # none, or two people of that surname (曾波杰 and 曾杰, a typist's slip, are one)
    counts = Counter(_name_key(c) for c in carriers if c.get("kind") == "person" and not c.get("title_form"))
    carrier = max(same, key=lambda c: (counts[_name_key(c)], _name_key(c)))  # the spelling most records use
    if row.get("gender") and carrier.get("gender") and carrier["gender"] != row["gender"]:
        return None  # 李女士 on the number 李建国 uses: not him (the title gave her gender: canonical Party)
    return name_bound(value, carrier)


def shared_remainder(value: str, row: dict[str, Any], carriers: Iterable[dict[str, Any]]) -> str | None:
    """What is left of a shared ``value`` on ``row``: a title form's through the one carrier it names
    (``title_bound``), a full name's bound to that name (``name_bound``). ``carriers``: every row carrying it."""
    return title_bound(value, row, carriers) if row.get("title_form") else name_bound(value, row)


# The dealers whose service events name any of these (source, party key): where a shared number was typed.
DealersOf = Callable[[Collection[tuple[str, str]]], Collection[str]]


def dealers_in(known: Mapping[tuple[str, str], Collection[str]]) -> DealersOf:
    """``DealersOf`` over dealers already read (``store.matching_input.party_dealers`` of every party)."""
    return lambda parties: {code for party in parties for code in known.get(party, ())}


def no_dealers(parties: Collection[tuple[str, str]]) -> Collection[str]:
    return ()


def withdraw_shared_identifiers(
    rows: list[dict[str, Any]], *, min_names: int, dealers_of: DealersOf = no_dealers
) -> list[SharedIdentifier]:
    """Withdraw mobiles and e-mails that ``min_names`` or more different names share; return what was withdrawn.

    A family phone (two names) stays evidence — the names then disagree and keep the people apart — but a
    number typed for many customers says nothing about any of them alone, and two of those customers with a
    common name (王伟) would otherwise be merged on it: it stays only bound to each record's name
    (``name_bound``).
    """
    shared: list[SharedIdentifier] = []
    for column in ("mobile", "email"):
        carriers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            if row[column]:
                carriers[row[column]].append(row)
        for value, group in carriers.items():
            found = assess_shared(column, value, group, min_names=min_names, dealers_of=dealers_of)
            if found is None:
                continue
            shared.append(found)
            for row in group:  # what is left reads only the carriers' names, which this loop leaves alone
                set_identifier(row, column, shared_remainder(value, row, group))
    shared.sort(key=lambda s: (-s.names, s.kind, s.masked))
    return shared


def assess_shared(
    column: str, value: str, carriers: list[dict[str, Any]], *, min_names: int, dealers_of: DealersOf
) -> SharedIdentifier | None:
    """The shared identifier ``value`` is, if the feature rows ``carriers`` carrying it bear ``min_names`` names;
    its dealers are those whose service events name a carrier (a DMS customer's key says nothing reliable)."""
    # A title form (王先生) names no one: beside 王建国 on a family phone it is not a third name.
    names = {_name_key(r) for r in carriers if not r.get("title_form")} - {""}
    if len(names) < min_names:
        return None
    dealers = sorted(dealers_of({(str(r["source"]), str(r["entity_key"])) for r in carriers}))
    masked = mask_mobile(value.removeprefix("+86")) if column == "mobile" else _mask_email(value)
    return SharedIdentifier(column, value, masked, len(names), len(carriers),
                            tuple(sorted({r["source"] for r in carriers})), tuple(dealers))  # fmt: skip


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def features_from_store(session: Session, *, shared_min_names: int) -> FeatureSet:
    """Every canonical party in the store as a feature row (training and explaining read the same rows)."""
    return build_features(
        iter_parties(session), party_vehicle_links(session), shared_min_names=shared_min_names,
        dealers_of=dealers_in(party_dealers(session)),
    )  # fmt: skip


def build_features(
    parties: Iterable[PartyRecord],
    links: Mapping[tuple[str, str], Mapping[str, bool]],
    *,
    shared_min_names: int,
    dealers_of: DealersOf = no_dealers,
) -> FeatureSet:
    rows = [party_features(p, links.get((p.source, p.entity_key), ())) for p in parties]
    return FeatureSet(
        rows, withdraw_shared_identifiers(rows, min_names=shared_min_names, dealers_of=dealers_of)
    )
