"""The true world behind the sample data: people and companies, their cars, the dealers who sold them.

Every source record is rendered from these objects, so its ground truth (which person, which VIN) is known.
The world is drawn one *cluster* at a time — a person or company, sometimes a spouse sharing the family
mobile, and whoever later buys one of their cars second-hand — and a cluster is forgotten once rendered.
Only the dealers and a few counters live for the whole run, so memory does not grow with the population.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import Literal

from canonical_model.names import COMMON_SURNAMES
from sample_data import tables
from sample_data.identity import (
    BirthRegister,
    MobileBook,
    PlateBook,
    pinyin_of,
    resident_id_for,
    uscc_for,
    vin_for,
)
from sample_data.shuffle import Shuffle
from sample_data.tables import Model, Region

TODAY = date(2025, 6, 30)  # the sample's "now": fixed, so the same seed gives the same data on any day
ORGANISATION_SHARE = 0.05
# A spouse is drawn this often and kept when the ages fit (about 4 in 10): ≈5 % of people share a phone.
COUPLE_ATTEMPT = 0.075
SPOUSE_MAX_AGE_GAP = 12
RESALE_SHARE = 0.06
EMAIL_SHARE = 0.45
ID_ISSUED_ELSEWHERE = 0.2  # the resident ID's region is the birthplace, not always where one lives now
MAX_PEOPLE = 5_000_000
MAX_DEALERS = 5_000  # keeps a province's dealer numbers within three digits (D31001 … D31999)
# Dealers key their own phone for customers who will not give one: ≈2 % of DMS customer records, most of
# them from the few sloppy dealers (8 %, at least one) — their share is scaled so the total holds at any size.
SLOPPY_DEALER_SHARE = 0.08
DEALER_PHONE_FROM_SLOPPY, DEALER_PHONE_CAREFUL = 0.016, 0.004

Kind = Literal["person", "organisation"]


@dataclass
class Dealer:
    code: str
    region: Region
    phone: str
    own_phone_share: float  # of new customers keyed with the dealer's phone: a few dealers do it a lot
    customers: int = 0
    repair_orders: int = 0

    def new_customer_id(self) -> str:
        """DMS customer ids are dealer-local: the same person at two dealers has two ids."""
        self.customers += 1
        return f"{self.code}-{self.customers:06d}"

    def new_repair_order_number(self) -> str:
        self.repair_orders += 1
        return f"RO-{self.code}-{self.repair_orders:06d}"


@dataclass
class Person:
    """A person or an organisation, as the world knows them (the sources see versions of this)."""

    person_id: str
    kind: Kind
    name: str
    gender: str  # "male" | "female" | "" (organisations)
    birth_date: date | None
    region: Region
    address: str
    mobile: str
    email: str | None
    id_type: str  # "RIC" | "USCC" | "PASSPORT"
    id_number: str
    shares_family_phone: bool = False
    ownerships: list[Ownership] = field(default_factory=list)

    @property
    def is_organisation(self) -> bool:
        return self.kind == "organisation"

    @property
    def is_foreign(self) -> bool:
        return self.id_type == "PASSPORT"

    def owns_on(self, day: date) -> list[Ownership]:
        return [o for o in self.ownerships if o.since <= day and (o.until is None or day < o.until)]


@dataclass
class Car:
    vin: str
    model: Model
    trim: str
    price: int
    model_year: int
    produced: date
    plant: str
    colour: str
    plate: str | None  # None until registered (a car sold in the last days has none yet)
    sold_on: date
    km_per_day: int


@dataclass
class Ownership:
    """Who held a car when: a new-car purchase from a dealer, or a second-hand one from a previous owner."""

    car: Car
    owner: Person
    since: date
    until: date | None
    dealer: Dealer  # the selling dealer for a new car, the servicing dealer for a used one
    new: bool


class World:
    """Draws people, companies, cars and dealers from one seeded ``random.Random``."""

    def __init__(self, people: int, rng: random.Random) -> None:
        if not 1 <= people <= MAX_PEOPLE:
            raise ValueError(f"people must be between 1 and {MAX_PEOPLE:,}, got {people:,}")
        self.rng = rng
        self.remaining = people
        self._number = 0
        self._births = BirthRegister(rng)
        self._mobiles = MobileBook(rng)
        self._organisations = Shuffle(10**8, rng)
        self._passports = Shuffle(10**8, rng)
        self._emails = Shuffle(10**7, rng)
        self._plates = {region.code: PlateBook(region, rng) for region in tables.REGIONS}
        self._vin_serials: dict[tuple[str, str, str], int] = {}
        self._region_weights = list(accumulate(r.weight for r in tables.REGIONS))
        self._surnames, self._surname_weights = _surname_table()
        self._model_weights = list(accumulate(m.weight for m in tables.MODELS))
        self._years = list(tables.MODEL_YEARS)
        self._year_weights = list(accumulate(w for _, w in tables.MODEL_YEARS.values()))
        self.dealers = self._open_dealers(min(MAX_DEALERS, max(5, people // 200)), people)
        self._dealers_by_region = {
            r.code: [d for d in self.dealers if d.region is r] or self.dealers for r in tables.REGIONS
        }

    # --- clusters ---------------------------------------------------------------------------------------

    def cluster(self) -> list[Person]:
        """The next few people whose records belong together: a household and their cars' later owners."""
        first = self._new_party()
        members = [first]
        if not first.is_organisation and self.remaining and self.rng.random() < COUPLE_ATTEMPT:
            members.append(self._household_member(first))
        for member in list(members):
            self._buy_new_cars(member)
        for member in list(members):
            for ownership in list(member.ownerships):
                buyer = self._maybe_resell(ownership)
                if buyer is not None:
                    members.append(buyer)
        return members

    def _household_member(self, partner: Person) -> Person:
        """A spouse shares the address and the family mobile when the ages fit; otherwise a neighbour."""
        other = self._new_person(gender="female" if partner.gender == "male" else "male")
        if _could_marry(partner, other):
            other.region, other.address, other.mobile = partner.region, partner.address, partner.mobile
            other.shares_family_phone = partner.shares_family_phone = True
        return other

    # --- people -----------------------------------------------------------------------------------------

    def _next_number(self) -> int:
        self._number += 1
        self.remaining -= 1
        return self._number

    def _new_party(self) -> Person:
        if self.rng.random() < ORGANISATION_SHARE:
            return self._new_organisation()
        return self._new_person()

    def _region(self) -> Region:
        return self.rng.choices(tables.REGIONS, cum_weights=self._region_weights)[0]

    def _address(self, region: Region) -> str:
        rng = self.rng
        street = rng.choice(region.streets)
        building, floor, flat = rng.randint(1, 32), rng.randint(1, 28), rng.randint(1, 6)
        return f"{region.place}{street}{rng.randint(1, 388)}号{building}栋{floor}0{flat}室"

    def _new_person(self, gender: str | None = None) -> Person:
        rng = self.rng
        number = self._next_number()
        gender = gender or rng.choice(("male", "female"))
        region = self._region()
        born, sequence = self._births.draw(number - 1, gender == "male")
        person = Person(
            person_id=f"P{number:07d}", kind="person", name="", gender=gender, birth_date=born, region=region,
            address=self._address(region), mobile=self._mobiles.number(number), email=None, id_type="RIC",
            id_number="",
        )  # fmt: skip
        if rng.random() < tables.FOREIGN_SHARE:
            names = tables.FOREIGN_NAMES_MALE if gender == "male" else tables.FOREIGN_NAMES_FEMALE
            person.name = rng.choice(names)
            person.id_type, person.id_number = (
                "PASSPORT",
                f"{rng.choice('EGK')}{self._passports(number - 1):08d}",
            )
            return person
        person.name = self._chinese_name(gender, born.year)
        id_region = self._region() if rng.random() < ID_ISSUED_ELSEWHERE else region
        person.id_number = resident_id_for(id_region.code, born, sequence)
        if rng.random() < EMAIL_SHARE:
            person.email = self._email(person.name, number)
        return person

    def _new_organisation(self) -> Person:
        rng = self.rng
        number = self._next_number()
        region = self._region()
        brand = rng.choice(tables.COMPANY_BRANDS)
        if rng.random() < 0.4:
            brand += rng.choice(tables.COMPANY_BRANDS)
        name = f"{region.city}{brand}{rng.choice(tables.COMPANY_TRADES)}{rng.choice(tables.COMPANY_FORMS)}"
        return Person(
            person_id=f"P{number:07d}", kind="organisation", name=name, gender="", birth_date=None, region=region,
            address=self._address(region), mobile=self._mobiles.number(number), email=None, id_type="USCC",
            id_number=uscc_for(region.code, self._organisations(number - 1)),
        )  # fmt: skip

    def _chinese_name(self, gender: str, born_year: int) -> str:
        rng = self.rng
        if rng.random() < tables.COMPOUND_SHARE:
            surname = rng.choice(tables.COMPOUND_SURNAMES)
        else:
            surname = rng.choices(self._surnames, cum_weights=self._surname_weights)[0]
        modern = born_year >= tables.MODERN_FROM_YEAR
        if gender == "male":
            pool = tables.GIVEN_MALE_MODERN if modern else tables.GIVEN_MALE_CLASSIC
        else:
            pool = tables.GIVEN_FEMALE_MODERN if modern else tables.GIVEN_FEMALE_CLASSIC
        return surname + pool[_zipf_index(rng, len(pool))]

    def _email(self, name: str, number: int) -> str:
        """Pinyin-based, unique by a shuffled number (two 张伟 never share zhangwei…@163.com)."""
        rng = self.rng
        code = self._emails(number - 1)
        domain = rng.choice(tables.EMAIL_DOMAINS)
        if domain == "qq.com":  # QQ mail addresses are the QQ account number
            return f"{100_000_000 + code}@qq.com"
        surname, given = pinyin_of(name)
        separator = rng.choice(("", "", ".", "_"))
        return f"{surname}{separator}{given}{code}@{domain}"

    # --- dealers ----------------------------------------------------------------------------------------

    def _open_dealers(self, count: int, people: int) -> list[Dealer]:
        """Dealers per province in proportion to the population; dealer phones never collide with people's."""
        counters: dict[str, int] = {}
        dealers = []
        total = sum(r.weight for r in tables.REGIONS)
        slots = [r for r in tables.REGIONS for _ in range(round(count * r.weight / total))]
        slots = (slots + list(tables.REGIONS) * count)[:count]
        sloppy = set(self.rng.sample(range(count), max(1, round(count * SLOPPY_DEALER_SHARE))))
        sloppy_share = min(0.6, DEALER_PHONE_FROM_SLOPPY * count / len(sloppy))
        for index, region in enumerate(slots):
            province = region.code[:2]
            counters[province] = counters.get(province, 0) + 1
            phone = self._mobiles.number(people + 1 + index)
            share = sloppy_share if index in sloppy else DEALER_PHONE_CAREFUL
            dealers.append(Dealer(f"D{province}{counters[province]:03d}", region, phone, share))
        return dealers

    def dealer_near(self, region: Region) -> Dealer:
        """Most people buy and service locally; one in seven goes to a dealer elsewhere."""
        if self.rng.random() < 0.85:
            return self.rng.choice(self._dealers_by_region[region.code])
        return self.rng.choice(self.dealers)

    # --- cars -------------------------------------------------------------------------------------------

    def _buy_new_cars(self, owner: Person) -> None:
        weights = (0, 2, 2, 1) if owner.is_organisation else (12, 68, 20, 0)
        for _ in range(self.rng.choices((0, 1, 2, 3), weights)[0]):
            dealer = self.dealer_near(owner.region)
            car = self._new_car(owner.region)
            owner.ownerships.append(Ownership(car, owner, car.sold_on, None, dealer, new=True))

    def _new_car(self, region: Region) -> Car:
        rng = self.rng
        model = rng.choices(tables.MODELS, cum_weights=self._model_weights)[0]
        year = rng.choices(self._years, cum_weights=self._year_weights)[0]
        trim, engine, price = rng.choice(model.trims)
        plant, plant_letter = rng.choice(tables.PLANTS[model.wmi])
        year_code = tables.MODEL_YEARS[year][0]
        produced = min(date(year - 1, 7, 1) + timedelta(days=rng.randrange(330)), TODAY - timedelta(days=45))
        sold = produced + timedelta(days=rng.randrange(15, 150))
        sold = min(sold, TODAY - timedelta(days=rng.randrange(1, 30)))
        vin = vin_for(
            model, engine, year_code, plant_letter, self._vin_serial(model.wmi, year_code, plant_letter)
        )
        plate = self._plates[region.code].issue(model.electric) if (TODAY - sold).days > 10 else None
        discount = rng.choice((0, 0, 3000, 5000, 8000, 12000, 20000))
        return Car(
            vin=vin, model=model, trim=trim, price=price - discount, model_year=year, produced=produced,
            plant=plant, colour=rng.choice(tables.COLOURS), plate=plate, sold_on=sold, km_per_day=rng.randint(20, 70),
        )  # fmt: skip

    def _vin_serial(self, wmi: str, year_code: str, plant_letter: str) -> int:
        """Serials run up per WMI, model year and plant, like a production line; never reused."""
        key = (wmi, year_code, plant_letter)
        serial = self._vin_serials.get(key) or self.rng.randrange(10_000, 60_000)
        serial += self.rng.randint(1, 3)
        self._vin_serials[key] = serial
        return serial

    def _maybe_resell(self, ownership: Ownership) -> Person | None:
        """A car sold on after one to four years; the buyer is another person, serviced near their home."""
        rng = self.rng
        if not self.remaining or ownership.owner.is_organisation or rng.random() >= RESALE_SHARE:
            return None
        day = ownership.since + timedelta(days=rng.randrange(300, 1500))
        if day > TODAY - timedelta(days=30):
            return None
        buyer = self._new_person()
        ownership.until = day
        buyer.ownerships.append(
            Ownership(ownership.car, buyer, day, None, self.dealer_near(buyer.region), new=False)
        )
        return buyer


def _could_marry(one: Person, other: Person) -> bool:
    if one.is_foreign or other.is_foreign or one.birth_date is None or other.birth_date is None:
        return False
    return abs(one.birth_date.year - other.birth_date.year) <= SPOUSE_MAX_AGE_GAP


def _zipf_index(rng: random.Random, size: int) -> int:
    """An index into a list ordered by popularity: the first entries come up far more often."""
    return min(int(size * rng.random() ** 1.8), size - 1)


def _surname_table() -> tuple[list[str], list[float]]:
    """Surnames with cumulative weights: the head at its real share, the rest of the top 100 evenly."""
    head = tables.SURNAME_SHARES
    tail = [s for s in COMMON_SURNAMES if s not in head]
    tail_share = (85.0 - sum(head.values())) / len(tail)
    names = [*head, *tail]
    return names, list(accumulate([*head.values(), *[tail_share] * len(tail)]))
