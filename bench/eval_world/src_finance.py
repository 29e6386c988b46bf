"""``cfc_loans``: the captive-finance company's contract table — one row per loan contract with the borrower
and an optional co-borrower embedded. Delivered as two snapshots; the OLDER one (2023-12-31) is delivered
after the newer one (2024-06-30) and carries the address and mobile a borrower had then."""

from __future__ import annotations

import random
from datetime import date

from bench.eval_world import spell
from bench.eval_world.extract import Dice, Row
from bench.eval_world.world import World

SOURCE = "cfc_loans"
NEW, OLD = "contracts_20240630.csv", "contracts_20231231.csv"
NAMES = spell.NameRates(typo=0.02, traditional=0.005)
PERSON_LOAN_RATE, ORG_LOAN_RATE, CO_BORROWER_RATE = 0.30, 0.40, 0.15


def _borrower(d: Dice, world: World, entity: str, number: str, older: bool) -> dict[str, str]:
    if entity in world.persons:
        p = world.persons[entity]
        phone = p.old_mobile if older and p.old_mobile else p.mobile
        return {
            "borrower_no": number, "borrower_type": "1", "borrower_name": spell.person_name(d, p, NAMES),
            "cert_type": "I", "cert_no": spell.resident_id(d, p, typo=0.02, old15=0.25),
            "mobile_no": spell.mobile(d, phone, typo=0.01), "contact_tel": "",
            "reg_address": (p.old_address if older and p.old_address else p.address),
        }  # fmt: skip
    o = world.orgs[entity]
    legacy = d.rng.random() < 0.3
    return {
        "borrower_no": number, "borrower_type": "2", "borrower_name": spell.org_name(d, o, SOURCE),
        "cert_type": "O" if legacy else "U", "cert_no": spell.org_code_text(d, o) if legacy else o.uscc,
        "mobile_no": spell.mobile(d, o.desk_mobile) if d.rng.random() < 0.6 else "",
        "contact_tel": spell.landline(d, o),
        "reg_address": (o.old_address if older and o.old_address else o.address),
    }  # fmt: skip


def build(world: World, rng: random.Random) -> list[Row]:
    d = Dice(rng)
    rows: list[Row] = []
    numbers: dict[str, str] = {}
    co_numbers: dict[str, str] = {}
    people = list(world.persons)
    counter = iter(range(7000000, 9999999))
    for n, car in enumerate(c for c in world.cars if c.owners):
        first = car.owners[0]
        if d.rng.random() >= (PERSON_LOAN_RATE if first.entity in world.persons else ORG_LOAN_RATE):
            continue
        if first.entity not in numbers or d.rng.random() < 0.03:
            numbers[first.entity] = f"C{next(counter):08d}"
        co = (
            d.rng.choice(people)
            if first.entity in world.persons and d.rng.random() < CO_BORROWER_RATE
            else None
        )
        co = None if co == first.entity else co
        if co and co not in co_numbers:
            co_numbers[co] = f"G{8000000 + len(co_numbers):08d}"
        contract = f"HZF{first.since:%Y%m}{n:06d}"
        snapshots = [(NEW, False)] + (
            [(OLD, True)] if first.since < date(2023, 12, 1) and d.rng.random() < 0.3 else []
        )
        for file, older in snapshots:
            payload = {
                "contract_no": contract,
                "biz_type": "auto_loan" if first.entity in world.persons else "fleet_loan",
            }
            payload |= _borrower(d, world, first.entity, numbers[first.entity], older)
            payload |= {
                "co_borrower_no": "",
                "co_borrower_name": "",
                "co_borrower_cert_no": "",
                "co_borrower_mobile": "",
            }
            parties = [(numbers[first.entity], first.entity)]
            if co:
                cp = world.persons[co]
                payload |= {
                    "co_borrower_no": co_numbers[co], "co_borrower_name": spell.person_name(d, cp, NAMES),
                    "co_borrower_cert_no": spell.resident_id(d, cp, typo=0.02, old15=0.25),
                    "co_borrower_mobile": spell.mobile(d, cp.mobile),
                }  # fmt: skip
                parties.append((co_numbers[co], co))
            payload |= {
                "vin": car.vin, "dealer_code": first.dealer.code, "loan_amt": f"{d.rng.randrange(50, 250) * 1000}",
                "term": str(d.rng.choice((12, 24, 36, 60))), "first_due_date": first.since.replace(day=min(first.since.day, 28)).isoformat(),
                "contract_status": "SETTLED" if first.since.year < 2020 else "ACTIVE",
                "snapshot_date": "2023-12-31" if older else "2024-06-30",
            }  # fmt: skip
            tags = d.take() + (["older_extract_loaded_later"] if older else [])
            rows.append(Row(SOURCE, "contracts", file, payload, parties, tags))
    return rows
