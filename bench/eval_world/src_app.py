"""``owner_app``: the owner app's export — ``users.csv`` (one row per account: nickname, real name often
romanised or in traditional characters, consent flags Y/N with their time) and ``bindings.csv`` (one row per
car bound to an account, VIN typed by the user). No party type: fleet managers register their company."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from bench.eval_world import spell
from bench.eval_world.extract import Dice, Row
from bench.eval_world.world import TODAY, World

SOURCE = "owner_app"
NAMES = spell.NameRates(typo=0.02, traditional=0.08, romanised=0.20)
VIN_DEFECTS = {"vin_lower": 0.10, "vin_o_for_0": 0.02, "vin_i_for_1": 0.01, "vin_check_typo": 0.01}
APP_LAUNCH = date(2020, 6, 1)
OWNER_RATE, PROSPECT_RATE, ORG_RATE, DUPLICATE_RATE = 0.40, 0.08, 0.15, 0.04


def _stamp(rng: random.Random, day: date) -> str:
    return datetime(
        day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), rng.randrange(60)
    ).strftime("%Y-%m-%d %H:%M:%S")


def _user(d: Dice, world: World, entity: str, uid: str, registered: date) -> dict[str, str]:
    flag = {True: "Y", False: "N"}
    row = {"user_id": uid, "nick_name": "", "real_name": "", "gender": "0", "mobile": "", "email": "", "id_card": "",
           "city": "", "register_time": _stamp(d.rng, registered), "agree_privacy": "Y",
           "agree_marketing": flag[d.rng.random() < 0.45], "agree_dealer_share": flag[d.rng.random() < 0.30],
           "consent_time": _stamp(d.rng, registered), "last_login": _stamp(d.rng, TODAY - timedelta(days=d.rng.randrange(300)))}  # fmt: skip
    if entity in world.orgs:
        o = world.orgs[entity]
        d.tags.append("company_as_app_user")
        row.update(
            nick_name=o.name.trade or o.name.free[:4], real_name=spell.org_name(d, o, "app"), city=o.city.name
        )
        row["mobile"] = spell.mobile(d, o.desk_mobile)
        return row
    p = world.persons[entity]
    row.update(
        nick_name=d.rng.choice((p.given, "小" + p.given[-1], "车主" + p.mobile[-4:], "Hz_" + p.mobile[-6:]))
    )
    row["real_name"] = "" if d.hit(0.04, "name_missing") else spell.person_name(d, p, NAMES)
    row.update(
        gender="1" if p.male else "2",
        city=p.city.name,
        mobile=spell.mobile(d, p.mobile, fake=0.005, typo=0.01),
    )
    if p.email and d.rng.random() < 0.7:
        row["email"] = p.email
    if d.rng.random() < 0.25:
        row["id_card"] = spell.resident_id(d, p, typo=0.02)
    return row


def build(world: World, rng: random.Random) -> list[Row]:
    d = Dice(rng)
    users: list[Row] = []
    bindings: list[Row] = []
    accounts: dict[str, list[str]] = {}
    uid_pool = iter(d.rng.sample(range(10_000_000, 99_999_999), 200_000))

    def register(entity: str, day: date) -> str:
        uid = f"U{next(uid_pool)}"
        users.append(
            Row(SOURCE, "users", "users.csv", _user(d, world, entity, uid, day), [(uid, entity)], d.take())
        )
        accounts.setdefault(entity, []).append(uid)
        return uid

    def bind(uid: str, vin: str, day: date, unbound: date | None, stale: bool) -> None:
        row = {"bind_id": f"B{len(bindings) + 1:08d}", "user_id": uid, "vin": spell.vin_text(d, vin, VIN_DEFECTS),
               "bind_time": _stamp(d.rng, day), "status": "0" if unbound else "1",
               "unbind_time": _stamp(d.rng, unbound) if unbound else ""}  # fmt: skip
        tags = d.take() + (["old_owner_still_bound"] if stale else [])
        bindings.append(Row(SOURCE, "bindings", "bindings.csv", row, [], tags))

    for car in world.cars:
        ends: list[date | None] = [o.since for o in car.owners[1:]] + ([None] if car.owners else [])
        for i, (owner, end) in enumerate(zip(car.owners, ends, strict=True)):
            last = i == len(car.owners) - 1
            if last and car.dealer_only_resale:
                continue
            rate = ORG_RATE if owner.entity in world.orgs else OWNER_RATE
            if end is not None and end < APP_LAUNCH:
                continue
            if owner.entity not in accounts and d.rng.random() >= rate:
                continue
            day = max(owner.since, APP_LAUNCH) + timedelta(days=d.rng.randrange(90))
            if day >= TODAY or (end is not None and end <= day):
                continue
            uid = accounts[owner.entity][0] if owner.entity in accounts else register(owner.entity, day)
            if (
                owner.entity in world.persons
                and len(accounts[owner.entity]) == 1
                and d.rng.random() < DUPLICATE_RATE
            ):
                register(owner.entity, day + timedelta(days=d.rng.randrange(30, 300)))
            stale = end is not None and d.rng.random() < 0.5
            bind(uid, car.vin, day, end if end is not None and not stale else None, stale)
    owners = {o.entity for c in world.cars for o in c.owners}
    for pid in world.persons:
        if pid not in owners and d.rng.random() < PROSPECT_RATE:
            register(pid, APP_LAUNCH + timedelta(days=d.rng.randrange((TODAY - APP_LAUNCH).days)))
    return users + bindings
