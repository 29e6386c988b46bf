"""``insurer_pol``: the motor insurer's policy file — one row per policy (交强险 each year, 商业险 often) with
the policy holder (投保人, ``holder_*``) and the insured (被保险人, ``insured_*``) as separate customer numbers.
Certificate types in the insurer's own codes. Two extracts: ``policy_2024H1.csv`` (newest) and the older
``policy_2023H2.csv``, delivered and loaded after it, with the plates, phones and addresses of its time."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bench.eval_world import spell
from bench.eval_world.extract import Dice, Row
from bench.eval_world.world import TODAY, Car, World

SOURCE = "insurer_pol"
NEW, OLD = "policy_2024H1.csv", "policy_2023H2.csv"
WINDOW_START = date(2021, 7, 1)
NAMES = spell.NameRates(typo=0.02, traditional=0.02)
VIN_DEFECTS = {"vin_blank": 0.02, "vin_o_for_0": 0.01, "vin_lower": 0.08, "vin_spaced": 0.02}
INSURED_HERE, RELATIVE_HOLDER, OLDER_COPY = 0.70, 0.08, 0.25


def _party(d: Dice, world: World, entity: str, older: bool) -> dict[str, str]:
    if entity in world.persons:
        p = world.persons[entity]
        phone = p.old_mobile if older and p.old_mobile else p.mobile
        return {"name": spell.person_name(d, p, NAMES), "cert_type": "01", "cert_no": spell.resident_id(d, p, typo=0.015),
                "phone": spell.mobile(d, phone, typo=0.01), "addr": p.old_address if older and p.old_address else p.address}  # fmt: skip
    o = world.orgs[entity]
    legacy = d.rng.random() < 0.3
    phone = spell.landline(d, o) if d.rng.random() < 0.5 else spell.mobile(d, o.desk_mobile)
    return {"name": spell.org_name(d, o, SOURCE), "cert_type": "10" if legacy else "31",
            "cert_no": spell.org_code_text(d, o) if legacy else o.uscc, "phone": phone, "addr": o.address}  # fmt: skip


class _Numbers:
    def __init__(self, prefix: str, d: Dice):
        self.prefix, self.d, self.known, self.count = prefix, d, {}, 0  # type: ignore[var-annotated]

    def of(self, entity: str) -> str:
        if entity not in self.known or self.d.rng.random() < 0.02:  # the insurer's own duplicates
            self.count += 1
            self.known[entity] = f"{self.prefix}{self.count:09d}"
        return str(self.known[entity])


def _periods(car: Car) -> list[tuple[int, date, date]]:
    ends = [o.since for o in car.owners[1:]] + ([TODAY] if car.owners else [])
    return [(i, o.since, end) for i, (o, end) in enumerate(zip(car.owners, ends, strict=True))]


def build(world: World, rng: random.Random) -> list[Row]:
    d = Dice(rng)
    rows: list[Row] = []
    holders, insureds = _Numbers("TB", d), _Numbers("BB", d)
    people = list(world.persons)
    seq = 0
    for car in world.cars:
        for i, since, end in _periods(car):
            last = i == len(car.owners) - 1
            if (last and car.dealer_only_resale) or d.rng.random() >= INSURED_HERE:
                continue
            owner = car.owners[i]
            holder = owner.entity
            if owner.entity in world.persons and d.rng.random() < RELATIVE_HOLDER:
                holder = d.rng.choice(people)
            start = since
            while start < end:
                stop = min(start + timedelta(days=364), TODAY + timedelta(days=300))
                if stop >= WINDOW_START:
                    for product in ("交强险",) + (("商业险",) if d.rng.random() < 0.55 else ()):
                        seq += 1
                        policy = f"P{'DZA' if product == '交强险' else 'DAA'}{start.year}{owner.dealer.city.districts[0][0]}{seq:07d}"
                        older_copy = start < date(2023, 12, 1) and d.rng.random() < OLDER_COPY
                        for file, older in [(NEW, False)] + ([(OLD, True)] if older_copy else []):
                            rows.append(_row(d, world, car, last, holder, owner.entity, policy, product, start, stop,
                                             older, file, holders, insureds))  # fmt: skip
                start = stop + timedelta(days=1)
    return rows


def _row(d: Dice, world: World, car: Car, last: bool, holder: str, insured: str, policy: str, product: str,
         start: date, stop: date, older: bool, file: str, holders: _Numbers, insureds: _Numbers) -> Row:  # fmt: skip
    h_no, i_no = holders.of(holder), insureds.of(insured)
    h, ins = _party(d, world, holder, older), _party(d, world, insured, older)
    plate = car.old_plate if (older and last and car.old_plate) else car.owners[-1 if last else 0].plate
    if not last:
        plate = next(o.plate for o in car.owners if o.entity == insured)
    payload = {"policy_no": policy, "product": product, "branch": "HZ" + policy[8:12]}
    payload |= {f"holder_{k}": v for k, v in h.items()} | {"holder_no": h_no}
    payload |= {f"insured_{k}": v for k, v in ins.items()} | {"insured_no": i_no}
    payload |= {
        "vin": spell.vin_text(d, car.vin, VIN_DEFECTS), "plate": plate, "start_date": start.strftime("%Y/%m/%d"),
        "end_date": stop.strftime("%Y/%m/%d"), "premium": f"{d.rng.randrange(9, 80) * 100}.00",
        "updated_at": "2023-12-20" if older else "2024-06-25",
    }  # fmt: skip
    tags = d.take() + (["older_extract_loaded_later"] if older else [])
    if holder != insured:
        tags.append("relative_as_holder")
    return Row(SOURCE, "policies", file, payload, [(h_no, holder), (i_no, insured)], tags)
