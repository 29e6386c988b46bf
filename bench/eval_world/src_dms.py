"""``dealer_dms``: the dealer DMS's flat business export — ONE ROW per lead (线索), delivery (交车) or repair
order (维修), Chinese column headers, no customer number and NO customer-type column: a company is just a name
in 客户名称. Fleet cars come in with drivers: the row then carries the driver's name and the fleet desk's phone."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from bench.eval_world import spell
from bench.eval_world.extract import Dice, Row
from bench.eval_world.world import MODELS, TODAY, Car, Dealer, Ownership, World

SOURCE = "dealer_dms"
FILE = "DMS业务明细_2021-2024.csv"
WINDOW_START = date(2021, 1, 1)
LEAD_NAMES = spell.NameRates(typo=0.03, traditional=0.01, title=0.35, familiar=0.03)
RO_NAMES = spell.NameRates(typo=0.03, traditional=0.01, title=0.08, familiar=0.01)
DELIVERY_NAMES = spell.NameRates(typo=0.02)
RO_VIN_DEFECTS = {
    "vin_o_for_0": 0.02, "vin_i_for_1": 0.01, "vin_check_typo": 0.015, "vin_last6": 0.02, "vin_last8": 0.03,
    "vin_blank": 0.015, "vin_lower": 0.04, "vin_spaced": 0.01,
}  # fmt: skip
WORK = (
    "首保",
    "常规保养",
    "更换刹车片",
    "钣喷",
    "更换轮胎",
    "空调检修",
    "召回检查",
    "电池检测",
    "事故维修",
    "四轮定位",
)


class _Writer:
    def __init__(self, world: World, rng: random.Random):
        self.world, self.d, self.rows, self.seq = world, Dice(rng), [], 0  # type: ignore[var-annotated]

    def add(self, kind: str, dealer: Dealer, when: datetime, entity: str, extra: dict[str, str], *,
            company_name: bool = True, names: spell.NameRates = RO_NAMES, desk_phone: bool = False) -> None:  # fmt: skip
        d, w = self.d, self.world
        self.seq += 1
        doc = f"{'XS' if kind == '线索' else 'JC' if kind == '交车' else 'WX'}{dealer.code[1:]}{self.seq:07d}"
        p = {"单据号": doc, "单据类型": kind, "经销商代码": dealer.code, "经销商名称": dealer.name,
             "业务日期": when.strftime("%Y-%m-%d %H:%M:%S"), "客户名称": "", "联系人": "", "手机": "", "电话": "",
             "地址": "", "证件号码": "", "车架号": "", "车牌号": "", "车型": "", "里程": "", "维修内容": "",
             "服务顾问": d.rng.choice(("张三", "李娜", "王强", "陈静", "刘洋"))}  # fmt: skip
        d.tags.append("no_party_type")
        if entity in w.persons:
            person = w.persons[entity]
            p["客户名称"] = spell.person_name(d, person, names)
            number = w.orgs[extra.pop("_fleet")].desk_mobile if desk_phone else person.mobile
            p["手机"] = spell.mobile(d, number, fake=0.02, typo=0.01, dealer=dealer.mobile, dealer_rate=0.03)
            if d.rng.random() < 0.3:
                p["地址"] = person.address
            if kind == "交车" and d.rng.random() < 0.5:
                p["证件号码"] = spell.resident_id(d, person, typo=0.02)
        else:
            o = w.orgs[entity]
            p["客户名称"] = spell.org_name(d, o, "dms")
            contact = (
                w.persons[d.rng.choice(o.drivers or [o.contact or ""])] if (o.drivers or o.contact) else None
            )
            if contact:
                p["联系人"] = contact.name
            p["手机"] = spell.mobile(d, o.desk_mobile, dealer=dealer.mobile, dealer_rate=0.02)
            if d.rng.random() < 0.6:
                p["电话"] = spell.landline(d, o)
            if d.rng.random() < 0.5:
                p["地址"] = o.address
            if kind == "交车" and d.rng.random() < 0.5:
                p["证件号码"] = o.uscc
        extra.pop("_fleet", None)
        p.update(extra)
        self.rows.append(Row(SOURCE, "business", FILE, p, [(doc, entity)], d.take()))


def _moment(rng: random.Random, start: date, end: date) -> datetime:
    day = start + timedelta(days=rng.randrange(max((end - start).days, 1)))
    return datetime(day.year, day.month, day.day, rng.randrange(8, 19), rng.randrange(60), rng.randrange(60))


def _repair_orders(wr: _Writer, car: Car, i: int, owner: Ownership, end: date) -> None:
    w, d = wr.world, wr.d
    start = max(owner.since, WINDOW_START)
    if start >= end:
        return
    org = w.orgs.get(owner.entity)
    rate = 1.6 if org and org.kind == "fleet" else 0.8
    years = (end - start).days / 365
    n = sum(d.rng.random() < rate * years / 6 for _ in range(6))
    if i > 0:  # every later owner is seen at a dealer at least once (for some, only there)
        n = max(n, 1)
    local = [x for x in w.dealers if x.city == owner.dealer.city]
    for _ in range(n):
        dealer = owner.dealer if d.rng.random() < 0.8 else d.rng.choice(local)
        when = _moment(d.rng, start, end)
        extra = {"车架号": spell.vin_text(d, car.vin, RO_VIN_DEFECTS), "车牌号": owner.plate,
                 "车型": MODELS[car.matnr][3], "里程": str(d.rng.randrange(500, 150000)), "维修内容": d.rng.choice(WORK)}  # fmt: skip
        entity, desk = owner.entity, False
        if org and (org.drivers or org.contact) and d.rng.random() < (0.5 if org.kind == "fleet" else 0.2):
            entity = d.rng.choice(org.drivers or [org.contact or ""])
            desk = d.rng.random() < 0.7
            d.tags.append("driver_on_fleet_car")
            extra["_fleet"] = org.id
        elif not org and d.rng.random() < 0.05:
            entity = d.rng.choice(list(w.persons))
            d.tags.append("family_member_brings_car")
        wr.add("维修", dealer, when, entity, extra, desk_phone=desk)


def build(world: World, rng: random.Random) -> list[Row]:
    wr = _Writer(world, rng)
    d = wr.d
    owners_of_cars = {o.entity for c in world.cars for o in c.owners}
    for car in world.cars:
        ends = [o.since for o in car.owners[1:]] + ([TODAY] if car.owners else [])
        for i, (owner, end) in enumerate(zip(car.owners, ends, strict=True)):
            if i == 0 and owner.since >= WINDOW_START:
                if owner.entity in world.persons and d.rng.random() < 0.5:
                    for _ in range(d.rng.randint(1, 2)):
                        when = _moment(d.rng, owner.since - timedelta(days=90), owner.since)
                        wr.add(
                            "线索",
                            owner.dealer,
                            when,
                            owner.entity,
                            {"车型": MODELS[car.matnr][3]},
                            names=LEAD_NAMES,
                        )
                if d.rng.random() < 0.92:
                    when = _moment(d.rng, owner.since, owner.since + timedelta(days=1))
                    extra = {"车架号": spell.vin_text(d, car.vin, {"vin_lower": 0.01}), "车牌号": owner.plate,
                             "车型": MODELS[car.matnr][3]}  # fmt: skip
                    wr.add("交车", owner.dealer, when, owner.entity, extra, names=DELIVERY_NAMES)
            _repair_orders(wr, car, i, owner, end)
    for person in world.persons.values():
        if person.id not in owners_of_cars and d.rng.random() < 0.5:
            dealer = d.rng.choice([x for x in world.dealers if x.city == person.city] or world.dealers)
            for _ in range(d.rng.randint(1, 2)):
                model = d.rng.choice(list(MODELS.values()))[3]
                wr.add(
                    "线索",
                    dealer,
                    _moment(d.rng, WINDOW_START, TODAY),
                    person.id,
                    {"车型": model},
                    names=LEAD_NAMES,
                )
    wr.rows.sort(key=lambda r: r.payload["业务日期"])
    return list(wr.rows)
