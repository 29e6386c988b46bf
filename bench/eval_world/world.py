"""The true world: persons, organisations (companies, fleets, branches, shops, public bodies), dealers and cars
with their history of owners. Sources are written about this world in the ``src_*`` modules."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from bench.eval_world import ids
from bench.eval_world.geo import CITIES, CITY_WEIGHTS, ESTATES, INDUSTRIAL, OTHER_BIRTH_REGIONS, ROADS, City
from bench.eval_world.names import pick_given, pick_surname
from bench.eval_world.orgnames import (
    FLEET_INDUSTRIES,
    FORM_WEIGHTS,
    FORMS,
    INDUSTRIES,
    PUBLIC_BODIES,
    SHOP_SUFFIX,
    TRADE_NAMES,
    OrgName,
)

TODAY = date(2024, 6, 30)
EPOCH = date(2016, 1, 1)
# Material codes of the maker's models: (WMI, VDS, make, model). The ERP sells by material code only.
MODELS = {
    "HZ-A5-SED-STD": ("LRH", "A5S21", "华舟", "A5 轿车"),
    "HZ-A5-SED-LUX": ("LRH", "A5S22", "华舟", "A5 轿车"),
    "HZ-X7-SUV-4WD": ("LRH", "X7U41", "华舟", "X7 SUV"),
    "HZ-X7-SUV-2WD": ("LRH", "X7U21", "华舟", "X7 SUV"),
    "HZ-E3-BEV-LR": ("LRJ", "E3B61", "华舟新能源", "E3 纯电"),
    "HZ-E3-BEV-SR": ("LRJ", "E3B51", "华舟新能源", "E3 纯电"),
    "HZ-M9-MPV-PHEV": ("LRJ", "M9P71", "华舟新能源", "M9 MPV"),
    "HZ-T1-VAN-CARGO": ("LRH", "T1V11", "华舟", "T1 轻客"),
}  # fmt: skip
FLEET_MODELS = ("HZ-A5-SED-STD", "HZ-E3-BEV-SR", "HZ-T1-VAN-CARGO")
PLANTS = {"LRH": "H", "LRJ": "N"}
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789".replace("Q", "")


@dataclass
class Person:
    id: str
    surname: str
    given: str
    male: bool
    born: date
    rid: str
    city: City
    district: tuple[str, str]
    address: str
    mobile: str
    old_address: str | None = None  # where they lived before a move (older extracts still say so)
    old_mobile: str | None = None
    mobile2: str | None = None
    email: str | None = None

    @property
    def name(self) -> str:
        return self.surname + self.given


@dataclass
class Org:
    id: str
    name: OrgName
    kind: str  # company | fleet | branch | shop | public
    city: City
    district: tuple[str, str]
    address: str
    uscc: str
    org_code: str
    landline: str
    ext: str | None
    desk_mobile: str  # the fleet desk's / office manager's mobile: the company's phone on dealer forms
    founded: int
    contact: str | None = None  # a person id: who signs for the company at the dealer
    parent: str | None = None
    drivers: list[str] = field(default_factory=list)
    old_address: str | None = None


@dataclass
class Dealer:
    code: str
    city: City
    name: str
    landline: str
    mobile: str  # the sales desk's mobile, typed in for customers who give none


@dataclass
class Ownership:
    entity: str
    since: date
    dealer: Dealer
    plate: str


@dataclass
class Car:
    vin: str
    matnr: str
    produced: date
    owners: list[Ownership] = field(default_factory=list)
    dealer_only_resale: bool = False  # the newest owner shows up only as a repair-order customer
    old_plate: str | None = None  # a plate the current owner had before (older extracts still say so)

    @property
    def resold(self) -> bool:
        return len(self.owners) > 1


@dataclass
class World:
    seed: int
    persons: dict[str, Person]
    orgs: dict[str, Org]
    dealers: list[Dealer]
    cars: list[Car]

    def kind(self, entity: str) -> str:
        return "person" if entity in self.persons else "organisation"


def _day(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max((end - start).days, 1)))


def _street(rng: random.Random, city: City, district: tuple[str, str], business: bool = False) -> str:
    road = rng.choice(ROADS)
    if business:
        return f"{district[1]}{road}{rng.randrange(1, 999)}号{rng.choice(INDUSTRIAL)}{rng.randrange(1, 20)}幢"
    return (
        f"{district[1]}{road}{rng.randrange(1, 400)}号{rng.choice(ESTATES)}"
        f"{rng.randrange(1, 30)}栋{rng.randrange(1, 5)}单元{rng.randrange(1, 30)}{rng.randrange(1, 4):02d}室"
    )


def _city(rng: random.Random) -> City:
    return rng.choices(CITIES, weights=CITY_WEIGHTS)[0]


def plate_for(rng: random.Random, city: City, electric: bool) -> str:
    if electric:
        return city.plate_prefix + rng.choice("DF") + "".join(rng.choice(PLATE_CHARS[-10:]) for _ in range(5))
    return city.plate_prefix + "".join(rng.choice(PLATE_CHARS) for _ in range(5))


def make_persons(rng: random.Random, n: int) -> dict[str, Person]:
    persons: dict[str, Person] = {}
    for i in range(n):
        city = _city(rng)
        district = rng.choice(city.districts)
        male = rng.random() < 0.58
        born = _day(rng, date(1955, 1, 1), date(2003, 12, 31))
        region = district[0] if rng.random() < 0.72 else rng.choice(OTHER_BIRTH_REGIONS)
        p = Person(
            id=f"P{i:05d}", surname=pick_surname(rng), given=pick_given(rng), male=male, born=born,
            rid=ids.make_resident_id(rng, region, born, male), city=city, district=district,
            address=_street(rng, city, district), mobile=ids.make_mobile(rng),
        )  # fmt: skip
        if rng.random() < 0.15:
            p.old_address = _street(rng, city, rng.choice(city.districts))
        if rng.random() < 0.08:
            p.old_mobile = ids.make_mobile(rng)
        if rng.random() < 0.10:
            p.mobile2 = ids.make_mobile(rng)
        if rng.random() < 0.35:
            from bench.eval_world.names import _pinyin

            handle = "".join(_pinyin(p.name)) + rng.choice(
                ("", str(born.year)[2:], str(rng.randrange(1, 999)))
            )
            p.email = f"{handle}@{rng.choice(('163.com', 'qq.com', '126.com', 'sina.com', 'outlook.com'))}"
        persons[p.id] = p
    return persons


def _org_name(rng: random.Random, kind: str, city: City, district: tuple[str, str]) -> OrgName:
    if kind == "shop":
        return OrgName(
            "", "", "", "", free=f"{city.name}{district[1]}{rng.choice(TRADE_NAMES)}{rng.choice(SHOP_SUFFIX)}"
        )
    if kind == "public":
        free = rng.choice(PUBLIC_BODIES).format(city=city.name, district=f"{city.name}市{district[1]}")
        return OrgName("", "", "", "", free=free)
    industry = rng.choice(FLEET_INDUSTRIES if kind == "fleet" else INDUSTRIES)
    form = rng.choices(FORMS, weights=FORM_WEIGHTS)[0]
    return OrgName(city.name, rng.choice(TRADE_NAMES), industry, form)


def make_orgs(rng: random.Random, n: int, persons: dict[str, Person]) -> dict[str, Org]:
    orgs: dict[str, Org] = {}
    people = list(persons)
    used_names: set[str] = set()
    for i in range(n):
        kind = rng.choices(("company", "fleet", "branch", "shop", "public"), weights=(57, 10, 12, 15, 6))[0]
        city = _city(rng)
        district = rng.choice(city.districts)
        parent = None
        companies = [o for o in orgs.values() if o.kind in {"company", "fleet"} and o.city != city]
        if kind == "branch" and companies:
            parent = rng.choice(companies)
            name = OrgName(
                parent.name.place, parent.name.trade, parent.name.industry, parent.name.form, city.name
            )
        elif kind == "company" and companies and rng.random() < 0.10:
            twin = rng.choice(companies)  # the same trade name registered in another city: another company
            name = OrgName(city.name, twin.name.trade, twin.name.industry, twin.name.form)
        else:
            kind = "company" if kind == "branch" else kind
            name = _org_name(rng, kind, city, district)
        if name.render() in used_names:
            name = OrgName(
                name.place,
                name.trade + rng.choice("鑫华达通"),
                name.industry,
                name.form,
                name.branch_city,
                name.free,
            )
        if name.render() in used_names:
            continue
        used_names.add(name.render())
        org_code = ids.make_org_code(rng)
        authority, entity = {"shop": ("9", "2"), "public": ("1", "1")}.get(kind, ("9", "1"))
        o = Org(
            id=f"O{i:04d}", name=name, kind=kind, city=city, district=district,
            address=_street(rng, city, district, business=True),
            uscc=ids.make_uscc(rng, district[0], org_code, authority, entity), org_code=org_code,
            landline=ids.make_landline(rng, city.area_code), ext=str(rng.randrange(100, 999)) if rng.random() < 0.3 else None,
            desk_mobile=ids.make_mobile(rng), founded=rng.randrange(1996, 2023),
            contact=rng.choice(people), parent=parent.id if parent else None,
        )  # fmt: skip
        if kind == "fleet":
            o.drivers = rng.sample(people, rng.randrange(4, 14))
        if rng.random() < 0.12:
            o.old_address = _street(rng, city, rng.choice(city.districts), business=True)
        orgs[o.id] = o
    return orgs


def make_dealers(rng: random.Random) -> list[Dealer]:
    dealers = []
    for city in CITIES:
        for k in range(3 if city.name in {"杭州", "上海"} else 2):
            code = f"D{city.districts[0][0][:4]}{k + 1:02d}"
            dealers.append(
                Dealer(code, city, f"{city.name}华舟{'一二三'[k]}店", ids.make_landline(rng, city.area_code), ids.make_mobile(rng))
            )  # fmt: skip
    return dealers
