"""Renders the true world as the five sources would send it, with their noise and a few real defects.

Each record carries its ground truth (person, VIN) and the defects injected into it, so the demo and the
matching benchmarks can score the hub: records with a defect in ``DEFECTS_THAT_QUARANTINE`` must be
quarantined; every other defect is noise a good hub absorbs (traditional characters, pinyin names, 15-digit
IDs, +86 formats, lower-case VINs, shared and dealer phones).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pypinyin import lazy_pinyin

from sample_data.population import Car, Person, World

BEIJING = timezone(timedelta(hours=8))
DEFECTS_THAT_QUARANTINE = frozenset(
    {"invalid_vin_check_digit", "invalid_vin_o_for_0", "invalid_resident_id", "missing_required", "bad_date",
     "invalid_mobile"}
)  # fmt: skip
DEFECT_RATE = 0.025
TRADITIONAL = str.maketrans(
    "张伟刘陈黄杨赵吴丽华军杰涛红艳娟霞桂东马韩郑谢罗", "張偉劉陳黃楊趙吳麗華軍傑濤紅艷娟霞桂東馬韓鄭謝羅"
)
TIMEFRAMES = ("立即", "3个月内", "6个月内", "12个月内")
REPAIRS = (("更换机油机滤", False), ("更换刹车片", False), ("四轮定位", False), ("更换空调滤芯", False),
           ("安全气囊故障检修", True), ("制动系统召回检修", True))  # fmt: skip
INSURERS = ("中国人保", "平安产险", "太平洋产险")


@dataclass(frozen=True)
class GeneratedRecord:
    source: str
    stream: str
    source_id: str
    payload: dict[str, Any]
    person_id: str | None
    vin: str | None
    defects: tuple[str, ...] = ()


def _ts(day: date, rng: random.Random) -> str:
    moment = datetime(day.year, day.month, day.day, rng.randint(8, 20), rng.randint(0, 59), tzinfo=BEIJING)
    return moment.isoformat()


def _pinyin_western(name: str) -> str:
    """'张伟' → 'Wei Zhang': how portals and some dealers write a Chinese name in Latin letters."""
    syllables = lazy_pinyin(name)
    surname_length = 2 if len(name) >= 3 and name[:2] in ("欧阳", "司马", "诸葛", "上官") else 1
    surname, given = "".join(syllables[:surname_length]), "".join(syllables[surname_length:])
    return f"{given.capitalize()} {surname.capitalize()}"


class _Renderer:
    def __init__(self, world: World):
        self.rng = world.rng
        self.world = world
        self.counter = 0

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def roll(self, share: float) -> bool:
        return self.rng.random() < share

    def spoil(self, payload: dict[str, Any], options: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        """Maybe inject one quarantining defect; ``options`` maps defect → path of the field it spoils."""
        if not options or not self.roll(DEFECT_RATE):
            return ()
        defect = self.rng.choice(sorted(options))
        *parents, leaf = options[defect]
        target = payload
        for part in parents:
            target = target[part]
        value = str(target[leaf])
        if defect == "invalid_vin_check_digit":
            target[leaf] = value[:8] + ("0" if value[8] != "0" else "1") + value[9:]
        elif defect == "invalid_vin_o_for_0":
            target[leaf] = (
                value[:11] + value[11:].replace("0", "O", 1)
                if "0" in value[11:]
                else value[:11] + "O" + value[12:]
            )
        elif defect == "invalid_resident_id":
            target[leaf] = value[:17] + ("1" if value[17] != "1" else "2")
        elif defect == "missing_required":
            target[leaf] = ""
        elif defect == "bad_date":
            target[leaf] = "2023-13-45" if "-" in value else "20231345"
        elif defect == "invalid_mobile":
            target[leaf] = value.replace("+86", "").replace(" ", "")[:10]
        return (defect,)

    # --- one function per source stream -------------------------------------------------------------------

    def erp(self, person: Person, kunnr: str) -> Iterator[GeneratedRecord]:
        changed = _ts(date(2024, 1, 2), self.rng)
        customer = {
            "KUNNR": kunnr, "KTOKD": "O" if person.is_company else "P", "NAME1": person.name,
            "SEX": {"male": "1", "female": "2"}.get(person.gender, ""),
            "GBDAT": f"{person.birth_date:%Y%m%d}" if person.birth_date else "",
            "ID_TYPE": "USCC" if person.is_company else "RIC", "ID_NO": person.id_number, "MOBILE": person.mobile,
            "EMAIL": person.email or "", "REGIO": person.region, "STRAS": person.street, "CHANGED_AT": changed,
        }  # fmt: skip
        options: dict[str, tuple[str, ...]] = {"missing_required": ("NAME1",), "invalid_mobile": ("MOBILE",)}
        if not person.is_company:
            options |= {"invalid_resident_id": ("ID_NO",), "bad_date": ("GBDAT",)}
        defects = self.spoil(customer, options)
        yield GeneratedRecord("erp", "customers", kunnr, customer, person.person_id, None, defects)
        for car in person.cars:
            vehicle = {
                "VIN": car.vin, "MAKE": car.wmi_make, "MODEL": car.model, "TRIM": car.trim,
                "MODEL_YEAR": car.model_year, "PROD_DATE": car.production_date.isoformat(), "PLANT": car.plant,
                "COLOUR": car.colour, "CHANGED_AT": changed,
            }  # fmt: skip
            defects = self.spoil(vehicle, {"invalid_vin_check_digit": ("VIN",), "bad_date": ("PROD_DATE",)})
            yield GeneratedRecord("erp", "vehicles", car.vin, vehicle, None, car.vin, defects)
            order_id = f"SO{self.next_id():010d}"
            buyer = kunnr if car.previous_owner is None else f"C{car.previous_owner.person_id[1:]}"
            order = {
                "VBELN": order_id, "KUNNR": buyer, "VIN": car.vin, "DEALER": car.dealer.code,
                "INVOICE_DATE": car.sold_on.isoformat(), "NET_PRICE": f"{self.rng.randint(120, 480) * 1000}.00",
                "CHANGED_AT": changed,
            }  # fmt: skip
            truth = person.person_id if car.previous_owner is None else car.previous_owner.person_id
            defects = self.spoil(order, {"invalid_vin_o_for_0": ("VIN",), "bad_date": ("INVOICE_DATE",)})
            yield GeneratedRecord("erp", "sales_orders", order_id, order, truth, car.vin, defects)

    def finance(self, person: Person) -> Iterator[GeneratedRecord]:
        noise: list[str] = []
        id_number = person.id_number
        if not person.is_company and person.birth_date and person.birth_date.year < 1985 and self.roll(0.3):
            id_number = id_number[:6] + id_number[8:17]  # the pre-1999 15-digit form
            noise.append("resident_id_15")
        national = person.mobile
        phone = self.rng.choice((national, f"+86 {national[:3]} {national[3:7]} {national[7:]}",
                                 f"0086-{national}", f"{national[:3]}-{national[3:7]}-{national[7:]}"))  # fmt: skip
        cust_id = f"F{person.person_id[1:]}"
        row = {
            "cust_id": cust_id, "cust_name": person.name, "cust_type": "企业" if person.is_company else "个人",
            "id_type": "统一社会信用代码" if person.is_company else "身份证", "id_number": id_number, "phone": phone,
            "credit_grade": self.rng.choice(("AAA", "AA", "A", "BBB", "BB", "B", "C", "未评级")),
            "credit_term_days": self.rng.choice((30, 60, 90, 180)),
            "credit_limit": f"{self.rng.randint(5, 80) * 10000}.00", "currency": "CNY",
            "receivable_balance": f"{self.rng.randint(0, 5_000_000) / 100:.2f}",
            "updated_at": f"2024-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)} 10:00:00",
        }  # fmt: skip
        options: dict[str, tuple[str, ...]] = {
            "missing_required": ("cust_name",),
            "invalid_mobile": ("phone",),
        }
        if len(id_number) == 18 and not person.is_company:
            options["invalid_resident_id"] = ("id_number",)
        defects = (*noise, *self.spoil(row, options))
        yield GeneratedRecord("finance", "customers", cust_id, row, person.person_id, None, defects)

    def insurance(self, person: Person, car: Car) -> Iterator[GeneratedRecord]:
        holder_id = f"H{person.person_id[1:]}"
        for year in range(max(car.sold_on.year, 2022), 2025):
            noise: list[str] = []
            shown_vin = car.vin
            if self.roll(0.1):
                shown_vin, noise = car.vin.lower(), ["lowercase_vin"]
            name = person.name
            if not person.is_company and self.roll(0.1):
                name, noise = name.translate(TRADITIONAL), [*noise, "traditional_name"]
            plate = car.plate and (car.plate[:2] + self.rng.choice(("·", " ", "")) + car.plate[2:])
            start = date(year, car.sold_on.month, min(car.sold_on.day, 28))
            policy_no = f"PDAA{year}{person.region[:2]}{self.next_id():010d}"
            policy = {
                "policyNo": policy_no, "vin": shown_vin, "plate": plate, "holderId": holder_id,
                "holder": {"name": name, "idType": "02" if person.is_company else "01", "idNumber": person.id_number,
                           "mobile": f"+86{person.mobile}", "gender": {"male": "M", "female": "F"}.get(person.gender, "")},
                "insurer": self.rng.choice(INSURERS), "product": self.rng.choice(("交强险", "商业险")),
                "startDate": start.isoformat(), "endDate": (start.replace(year=year + 1) - timedelta(days=1)).isoformat(),
                "updatedAt": _ts(date(year, 1, 5), self.rng),
            }  # fmt: skip
            options: dict[str, tuple[str, ...]] = {
                "invalid_vin_check_digit": ("vin",),
                "bad_date": ("startDate",),
            }
            if not person.is_company:
                options["invalid_resident_id"] = ("holder", "idNumber")
            defects = (*noise, *self.spoil(policy, options))
            yield GeneratedRecord(
                "insurance", "policies", policy_no, policy, person.person_id, car.vin, defects
            )

    def dms_customer(
        self, person: Person, dealer_code: str, dealer_phone: str, lazy: bool
    ) -> tuple[dict[str, Any], list[str]]:
        noise: list[str] = []
        name, mobile = person.name, person.mobile
        if not person.is_company and self.roll(0.15):
            name, noise = _pinyin_western(name), ["pinyin_name"]
        if self.roll(0.3 if lazy else 0.005):
            mobile, noise = dealer_phone, [*noise, "dealer_phone"]
        customer = {"dms_customer_id": f"{dealer_code}-{person.person_id[1:]}", "name": name, "mobile": mobile,
                    "gender": {"male": "男", "female": "女"}.get(person.gender, "")}  # fmt: skip
        return customer, noise

    def dms(self, person: Person) -> Iterator[GeneratedRecord]:
        cars: list[Car | None] = [*person.cars] or [None]
        for car in cars:
            dealer = car.dealer if car else self.rng.choice(self.world.dealers)
            customer, noise = self.dms_customer(person, dealer.code, dealer.phone, dealer.lazy)
            base = {"dealer_code": dealer.code, "customer": customer}
            lead_day = (car.sold_on - timedelta(days=30)) if car else date(2024, self.rng.randint(1, 12), 15)
            message_id = self.uid()
            lead = {"message_id": message_id, "event_type": "lead", "occurred_at": _ts(lead_day, self.rng), **_own_copy(base),
                    "lead": {"purchase_timeframe": self.rng.choice(TIMEFRAMES), "model_interest": car.model if car else "ID.4"}}  # fmt: skip
            defects = (
                *noise,
                *self.spoil(
                    lead, {"invalid_mobile": ("customer", "mobile"), "missing_required": ("customer", "name")}
                ),
            )
            yield GeneratedRecord("dms", "lead", message_id, lead, person.person_id, None, defects)
            if car is None:
                continue
            message_id = self.uid()
            delivery = {"message_id": message_id, "event_type": "delivery", "occurred_at": _ts(car.sold_on, self.rng), **_own_copy(base),
                        "delivery": {"vin": car.vin, "plate": car.plate, "delivered_at": car.sold_on.isoformat()}}  # fmt: skip
            defects = (*noise, *self.spoil(delivery, {"invalid_vin_o_for_0": ("delivery", "vin")}))
            yield GeneratedRecord("dms", "delivery", message_id, delivery, person.person_id, car.vin, defects)
            for visit in range(self.rng.randint(0, 3)):
                day = car.sold_on + timedelta(days=180 * (visit + 1))
                work, safety = self.rng.choice(REPAIRS)
                message_id = self.uid()
                order = {"message_id": message_id, "event_type": "repair_order", "occurred_at": _ts(day, self.rng), **_own_copy(base),
                         "repair_order": {"ro_number": f"RO-{dealer.code}-{self.next_id():06d}", "vin": car.vin,
                                          "mileage_km": 5000 * (visit + 1) + self.rng.randint(0, 4000), "work": work,
                                          "safety_fault": safety}}  # fmt: skip
                defects = (*noise, *self.spoil(order, {"invalid_vin_check_digit": ("repair_order", "vin")}))
                yield GeneratedRecord(
                    "dms", "repair_order", message_id, order, person.person_id, car.vin, defects
                )

    def portal(self, person: Person) -> Iterator[GeneratedRecord]:
        noise: list[str] = []
        name = person.name
        if self.roll(0.4) and name.translate(TRADITIONAL) != name:
            name, noise = name.translate(TRADITIONAL), ["traditional_name"]
        national = person.mobile
        mobile = national
        if self.roll(0.3):
            mobile, noise = self.rng.choice((f"0086 {national}", f"+86-{national}")), [*noise, "phone_format"]
        user_id = f"U{person.person_id[1:]}"
        registered = date(2023, self.rng.randint(1, 12), self.rng.randint(1, 28))
        consents = [{"purpose": purpose, "channel": self.rng.choice(("sms", "phone", "email", "wechat")),
                     "granted": self.roll(0.7), "at": _ts(registered, self.rng)}
                    for purpose in ("marketing", "service_reminder", "data_sharing") if self.roll(0.6)]  # fmt: skip
        event_id = self.uid()
        registration = {"event_id": event_id, "user_id": user_id, "real_name": name, "mobile": mobile,
                        "email": person.email or "", "id_card": person.id_number if self.roll(0.5) else "",
                        "registered_at": _ts(registered, self.rng), "consents": consents,
                        "bound_vins": [c.vin for c in person.cars]}  # fmt: skip
        options: dict[str, tuple[str, ...]] = {
            "missing_required": ("real_name",),
            "invalid_mobile": ("mobile",),
        }
        if registration["id_card"]:
            options["invalid_resident_id"] = ("id_card",)
        defects = (*noise, *self.spoil(registration, options))
        yield GeneratedRecord(
            "portal", "registrations", event_id, registration, person.person_id, None, defects
        )
        for car in person.cars:
            if self.roll(0.4):
                event_id = self.uid()
                request = {"event_id": event_id, "user_id": user_id, "vin": car.vin,
                           "request_type": self.rng.choice(("保养预约", "维修", "投诉", "咨询")),
                           "description": "请尽快联系我", "created_at": _ts(registered + timedelta(days=40), self.rng)}  # fmt: skip
                yield GeneratedRecord("portal", "service_requests", event_id, request, person.person_id, car.vin,
                                      self.spoil(request, {"invalid_vin_check_digit": ("vin",)}))  # fmt: skip


def _own_copy(base: dict[str, Any]) -> dict[str, Any]:
    """Each DMS event gets its own customer dict, so a defect spoiled into one event stays in that event."""
    return {**base, "customer": dict(base["customer"])}


def _household(world: World, number: int) -> list[Person]:
    """One person, or (5 %) a couple sharing one family mobile — the false-merge trap for phone matching."""
    first = world.person(f"P{number:08d}")
    if first.is_company or not world.rng.random() < 0.05:
        return [first]
    return [first, world.person(f"P{number + 1:08d}", shared_mobile=first.mobile)]


def _buy_cars(world: World, person: Person, number: int) -> Person | None:
    """Give a person 0–2 cars; a few are second-hand, first bought by a previous owner (returned, if any)."""
    rng = world.rng
    count = rng.choices((0, 1, 2), (10, 70, 20))[0]
    previous: Person | None = None
    for _ in range(count):
        car = world.car(person.region)
        if previous is None and not person.is_company and rng.random() < 0.05:
            previous = world.person(f"P{number:08d}")
            car.previous_owner = previous
        person.cars.append(car)
    return previous


def generate(people: int, seed: int = 42) -> Iterator[GeneratedRecord]:
    """Yield the five sources' records for about ``people`` people (and companies), deterministically.

    Streaming: one household at a time, so a million people need no more memory than a thousand.
    """
    rng = random.Random(seed)  # demo data, not security: a seeded PRNG is the point
    world = World(rng, dealers=people // 200)
    render = _Renderer(world)
    number = 0
    while number < people:
        household = _household(world, number)
        number += len(household)
        for person in household:
            previous = _buy_cars(world, person, number)
            owners = [person] if previous is None else [previous, person]
            if previous is not None:
                number += 1
            yield from _render(render, owners, person)


def _render(render: _Renderer, owners: list[Person], person: Person) -> Iterator[GeneratedRecord]:
    rng = render.rng
    for owner in owners:
        if owner is not person:  # a previous owner: known to the ERP as the first purchaser only
            yield from render.erp(owner, f"C{owner.person_id[1:]}")
    if person.cars or rng.random() < 0.3:
        yield from render.erp(person, f"C{person.person_id[1:]}")
    if rng.random() < 0.4:
        yield from render.finance(person)
    for car in person.cars:
        yield from render.insurance(person, car)
    if not person.is_company:
        yield from render.dms(person)
        if rng.random() < 0.5:
            yield from render.portal(person)
