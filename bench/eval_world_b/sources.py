"""The five source extracts of eval_world_b, written from the true world with their own layouts and defects."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bench.eval_world.extract import Dice, Row
from bench.eval_world_b import defects as d
from bench.eval_world_b.people import CITIES, Car, Org, Person, World

# Variations that are legitimate data (forms), not mistakes: a clean row may carry them.
FORMS_B = {
    "mobile_spaced", "mobile_plus86", "mobile_dashed", "landline_parentheses", "landline_spaced",
    "landline_extension", "name_space", "title_only_name", "pinyin_name", "traditional", "org_form_short",
    "org_form_long", "org_place_shi", "org_no_place", "org_fullwidth_paren", "org_english_name",
    "org_trade_only", "vin_lower", "vin_spaced", "rid_15", "id_lower_x", "id_fullwidth", "legacy_org_code",
    "hmt_permit", "passport", "residence_permit", "older_extract_loaded_later", "two_phones_in_field",
    "driver_on_fleet_car", "family_brings_car", "relative_as_holder", "old_mobile", "old_address",
    "new_customer_number", "duplicate_account", "plate_instead_of_vin", "partial_vin_on_call", "switchboard_only",
    "contact_on_company_car", "company_caller", "western_party_name",
}  # fmt: skip


@dataclass
class RowB(Row):
    """A row whose clean/dirty split uses eval_world_b's own forms."""

    @property
    def errors(self) -> list[str]:
        return [t for t in self.tags if t not in FORMS_B]


def _ts(when: date, rng: random.Random) -> datetime:
    return datetime(
        when.year, when.month, when.day, rng.randrange(8, 19), rng.randrange(60), rng.randrange(60)
    )


class Writer:
    def __init__(self, world: World, seed: int):
        self.w = world
        self.rng = random.Random(f"eval_world_b:sources:{seed}")
        self.dice = Dice(self.rng)
        self.rows: list[RowB] = []
        self.counter = 0

    def next_no(self) -> int:
        self.counter += 1
        return self.counter

    def emit(self, source: str, stream: str, file: str, payload: dict[str, Any], parties: list[tuple[str, str]],
             extra: list[str] | None = None) -> RowB:  # fmt: skip
        row = RowB(source, stream, file, payload, parties, (extra or []) + self.dice.take())
        self.rows.append(row)
        return row

    def periods(self, car: Car) -> list[tuple[str, date, date]]:
        out = []
        for n, owner in enumerate(car.owners):
            end = car.owners[n + 1].since if n + 1 < len(car.owners) else date(2024, 12, 31)
            out.append((owner.entity, owner.since, end))
        return out

    def when(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange(max(1, (end - start).days)))


# ---------------------------------------------------------------- crm_b: JSON Lines, nested arrays, two snapshots
def write_crm(wr: Writer) -> list[tuple[str, str, str]]:
    w, rng, dice = wr.w, wr.rng, wr.dice
    accounts: dict[str, list[str]] = {}  # entity → account ids
    first_cars: dict[str, list[tuple[Car, str, date]]] = {}
    for car in w.cars:
        for n, (entity, since, _end) in enumerate(wr.periods(car)):
            if n == 0 and rng.random() < 0.93:
                first_cars.setdefault(entity, []).append((car, "FIRST_OWNER", since))
            elif n > 0 and not (car.dealer_only and n == len(car.owners) - 1) and rng.random() < 0.5:
                first_cars.setdefault(entity, []).append((car, "CURRENT_OWNER", since))
    for entity in first_cars:
        accounts[entity] = [f"CA{wr.next_no():07d}"]
        if entity in w.persons and rng.random() < 0.03:
            accounts[entity].append(f"CA{wr.next_no():07d}")

    def account(entity: str, account_id: str, snap: date, dup: bool) -> dict[str, Any] | None:
        cars = [(c, rel, s) for c, rel, s in first_cars[entity] if s <= snap]
        if not cars:
            return None
        e = w.entity(entity)
        payload: dict[str, Any] = {
            "account_id": account_id,
            "updated_at": f"{snap.isoformat()}T09:30:00+08:00",
        }
        parties = [(account_id, entity)]
        if dup:
            dice.tags.append("duplicate_account")
        if isinstance(e, Person):
            payload["account_type"] = "B2C"
            name = e.name
            if e.hmt and rng.random() < 0.5:
                name = d.traditional(name)
                dice.tags.append("traditional")
            payload["name"] = {"full": d.person_name(name, dice, 0.015 if not dup else 0.2, 0.01)}
            doc = {"resident_id": "ID_CARD", "passport": "PASSPORT", "hmt_permit": "HMT_PERMIT"}[e.doc_type]
            if e.doc_type != "resident_id":
                dice.tags.append(e.doc_type)
            number = e.doc_no
            if dice.hit(0.01, "id_typo"):
                number = d.id_typo(number, dice) if e.doc_type == "resident_id" else number[:-1] + "7"
            payload["id_doc"] = {"type": doc, "number": number}
            phones = [{"kind": "MOBILE", "number": d.mobile(e.mobile_at(snap), dice, 0.01)}]
            if e.mobile_at(snap) != e.mobiles[-1][0]:
                dice.tags.append("old_mobile")
            if len(e.mobiles) > 1 and e.mobile_at(snap) == e.mobiles[-1][0] and rng.random() < 0.5:
                phones.append({"kind": "MOBILE", "number": e.mobiles[0][0], "status": "INACTIVE"})
            if e.home_phone and rng.random() < 0.6:
                phones.append({"kind": "HOME", "number": d.landline(e.home_phone, dice)})
            if rng.random() < 0.15:
                rng.shuffle(phones)
            payload["phones"] = phones
            payload["emails"] = [e.email] if e.email and rng.random() < 0.8 else []
            if e.address_at(snap) != e.addresses[-1][0]:
                dice.tags.append("old_address")
            payload["addresses"] = [{"usage": "HOME", "line": e.address_at(snap)}]
            payload["contacts"] = []
        else:
            shop_as_b2c = e.kind == "shop" and rng.random() < 0.5
            payload["account_type"] = "B2C" if shop_as_b2c else "B2B"
            if shop_as_b2c:
                dice.tags.append("kind_wrong_person")
            full = d.org_name(e.name, e.place, dice, {"org_form_short": 0.04, "org_place_shi": 0.05})
            names = {"full": full}
            if e.english:
                if rng.random() < 0.4:
                    names = {"full": e.english}
                    dice.tags.append("org_english_name")
                else:
                    names["en"] = e.english
            payload["name"] = names
            if rng.random() < 0.25 and snap.year <= 2022:
                payload["id_doc"] = {"type": "ORG_CODE", "number": f"{e.org_code[:8]}-{e.org_code[8]}"}
                dice.tags.append("legacy_org_code")
            else:
                payload["id_doc"] = {"type": "USCC", "number": e.uscc}
            phones = [{"kind": "OFFICE", "number": d.landline(e.switchboard, dice)}]
            contacts = []
            if e.contact:
                c = w.persons[e.contact]
                contact_id = f"CT{wr.next_no():06d}"
                contacts.append({"contact_id": contact_id, "name": d.person_name(c.name, dice, 0.01),
                                 "mobile": d.mobile(c.mobile_at(snap), dice, 0.01), "role": "车队主管"})  # fmt: skip
                parties.append((f"{account_id}:contact:{contact_id}", c.id))
            payload["phones"] = phones
            payload["emails"] = []
            payload["addresses"] = [{"usage": "OFFICE", "line": e.address}]
            payload["contacts"] = contacts
        payload["vehicles"] = [{"vin": d.vin_defects(c.vin, dice, {"check_typo": 0.004, "lower": 0.01}),
                                "relation": rel, "since": s.isoformat()} for c, rel, s in cars]  # fmt: skip
        return {"payload": payload, "parties": parties}

    files = [
        ("crm_b", "accounts", "crm_accounts_2024.jsonl"),
        ("crm_b", "accounts", "crm_accounts_2022.jsonl"),
    ]
    contact_ids: dict[tuple[str, str], str] = {}
    for entity, ids in accounts.items():
        for n, account_id in enumerate(ids):
            made = account(entity, account_id, date(2024, 10, 31), n > 0)
            if made:
                _remember_contacts(made, contact_ids)
                wr.emit(*files[0], made["payload"], made["parties"])
            if rng.random() < 0.45:
                old = account(entity, account_id, date(2022, 6, 30), n > 0)
                if old:
                    _reuse_contact_ids(old, contact_ids)
                    wr.emit(*files[1], old["payload"], old["parties"], ["older_extract_loaded_later"])
    return files


def _remember_contacts(made: dict[str, Any], ids: dict[tuple[str, str], str]) -> None:
    for c in made["payload"]["contacts"]:
        ids[(made["payload"]["account_id"], "contact")] = c["contact_id"]


def _reuse_contact_ids(made: dict[str, Any], ids: dict[tuple[str, str], str]) -> None:
    """The CRM keeps a contact's id across snapshots: the older snapshot names the same contact the same."""
    account_id = made["payload"]["account_id"]
    for c in made["payload"]["contacts"]:
        known = ids.get((account_id, "contact"))
        if known:
            c["contact_id"] = known
    made["parties"] = [made["parties"][0]] + [
        (f"{account_id}:contact:{c['contact_id']}", entity)
        for c, (_, entity) in zip(made["payload"]["contacts"], made["parties"][1:], strict=True)
    ]


# ---------------------------------------------------------------- dms_b: dealer DMS with a customer type column
def write_dms(wr: Writer) -> list[tuple[str, str, str]]:
    w, rng, dice = wr.w, wr.rng, wr.dice
    dealers = {x.code: x for x in w.dealers}
    numbers: dict[tuple[str, str], str] = {}
    events: list[tuple[date, dict[str, Any]]] = []

    def customer_no(dealer: str, entity: str) -> tuple[str, list[str]]:
        key = (dealer, entity)
        if key in numbers and rng.random() < 0.08:  # the front desk opens a second customer number
            numbers[key] = f"K{wr.next_no():06d}"
            return numbers[key], ["new_customer_number"]
        if key not in numbers:
            numbers[key] = f"K{wr.next_no():06d}"
        return numbers[key], []

    def add(kind: str, when: date, dealer: str, entity: str, car: Car | None, *, company_phone: str | None = None,
            extra: list[str] | None = None) -> None:  # fmt: skip
        events.append((when, {"kind": kind, "dealer": dealer, "entity": entity, "car": car,
                              "company_phone": company_phone, "extra": extra or []}))  # fmt: skip

    for car in w.cars:
        for n, (entity, since, end) in enumerate(wr.periods(car)):
            newest = n == len(car.owners) - 1
            dealer = (
                car.dealer if n == 0 else rng.choice([x.code for x in w.dealers if x.brand == car.vin[:3]])
            )
            if n == 0 and entity in w.persons and rng.random() < 0.6:
                add("XSJ", since - timedelta(days=rng.randrange(5, 90)), car.dealer, entity, None)
            if n == 0 and rng.random() < (0.85 if entity in w.persons else 0.6):
                add("XS", since, car.dealer, entity, car)
            years = max(0.2, (end - since).days / 365)
            visits = min(6, int(years * 0.7 + rng.random()))
            if car.dealer_only and newest and n > 0:
                visits = max(1, visits)
            for _ in range(visits):
                when = wr.when(since, end)
                o = w.orgs.get(entity)
                if o is not None:
                    r = rng.random()
                    if r < 0.45:
                        add("WX", when, dealer, entity, car)
                    elif car.driver and r < 0.85:
                        add("WX", when, dealer, car.driver, car, company_phone=o.switchboard if rng.random() < 0.6
                            else None, extra=["driver_on_fleet_car"])  # fmt: skip
                    elif o.contact:
                        add("WX", when, dealer, o.contact, car, company_phone=o.switchboard if rng.random() < 0.5
                            else None, extra=["contact_on_company_car"])  # fmt: skip
                    else:
                        add("WX", when, dealer, entity, car)
                else:
                    spouse = w.persons[entity].spouse
                    if spouse and rng.random() < 0.15:
                        add("WX", when, dealer, spouse, car, extra=["family_brings_car"])
                    else:
                        add("WX", when, dealer, entity, car)
    buyers = {c.owners[0].entity for c in w.cars}
    for p in w.persons.values():
        if p.id not in buyers and rng.random() < 0.35:
            for _ in range(rng.randint(1, 2)):
                dealer = rng.choice([x for x in w.dealers if x.city == p.city] or w.dealers)
                add("XSJ", wr.when(date(2019, 1, 1), date(2024, 10, 1)), dealer.code, p.id, None)
    events.sort(key=lambda e: e[0])
    files: list[tuple[str, str, str]] = []
    for when, ev in events:
        year = max(2019, when.year)
        file = ("dms_b", "documents", f"xt_dms_{year}.csv")
        if file not in files:
            files.append(file)
        dealer = dealers[ev["dealer"]]
        entity = ev["entity"]
        e = w.entity(entity)
        khbh, extra = customer_no(dealer.code, entity)
        car: Car | None = ev["car"]
        kind = ev["kind"]
        p: dict[str, str] = {"MDDM": dealer.code, "DJH": f"{kind}{wr.next_no():08d}", "DJLX": kind,
                             "DJRQ": _ts(when, rng).strftime("%Y/%m/%d %H:%M"), "KHBH": khbh}  # fmt: skip
        if isinstance(e, Person):
            if kind == "XSJ" and d.han(e.name) and dice.hit(0.18, "title_only_name"):
                name = d.title_name(e.name, e.gender, rng)
            else:
                name = d.person_name(e.name, dice, 0.04, 0.03)
            p["KHMC"] = name
            p["KHLX"] = "单位" if dice.hit(0.015, "kind_wrong_org") else "个人"
            phone = e.mobile_at(when)
            if phone != e.mobiles[-1][0]:
                dice.tags.append("old_mobile")
            if ev["extra"] == ["family_brings_car"] and rng.random() < 0.4:
                phone = w.persons[e.spouse].mobile_at(when) if e.spouse else phone
            if dealer.group == "G2" and dice.hit(0.06, "showroom_phone"):
                tel = dealer.showroom
            elif dice.hit(0.02, "phone_blank"):
                tel = ""
            elif ev["company_phone"]:
                tel = d.landline(ev["company_phone"], dice)
                dice.tags.append("switchboard_only")
            else:
                tel = d.mobile(phone, dice, 0.02)
                if rng.random() < 0.07:
                    other = e.home_phone or (e.mobiles[0][0] if len(e.mobiles) > 1 else None)
                    if other:
                        dice.tags.append("two_phones_in_field")
                        tel = f"{tel}{rng.choice(['/', ' ', '，', ';'])}{other}"
            p["LXDH"] = tel
            id_rate = {"XS": 0.92, "WX": 0.3, "XSJ": 0.0}[kind]
            p["ZJHM"] = ""
            if rng.random() < id_rate:
                number = e.residence_permit or e.doc_no
                if e.doc_type != "resident_id":
                    dice.tags.append("residence_permit" if e.residence_permit else e.doc_type)
                if e.doc_type == "resident_id" and dice.hit(0.02, "id_typo"):
                    number = d.id_typo(number, dice)
                p["ZJHM"] = number
            p["DZ"] = e.address_at(when) if kind != "XSJ" and rng.random() < 0.7 else ""
        else:
            r = rng.random()
            if r < 0.12:
                name = e.trade + e.industry if e.kind not in ("gov",) else e.name
                dice.tags.append("org_trade_only")
            else:
                name = d.org_name(e.name, e.place, dice, {"org_form_short": 0.1, "org_form_long": 0.08,
                                                          "org_place_shi": 0.1, "org_no_place": 0.1,
                                                          "org_fullwidth_paren": 0.3})  # fmt: skip
            if e.branch_of and dice.hit(0.15, "org_branch_dropped"):
                name = w.orgs[e.branch_of].name
            if e.english and rng.random() < 0.2:
                name = e.english
                dice.tags.append("org_english_name")
            p["KHMC"] = name
            p["KHLX"] = "个人" if dice.hit(0.06, "kind_wrong_person") else "单位"
            if e.contact and rng.random() < 0.5:
                p["LXDH"] = d.mobile(w.persons[e.contact].mobile_at(when), dice, 0.02)
            else:
                p["LXDH"] = d.landline(e.switchboard, dice)
            p["ZJHM"] = ""
            if rng.random() < {"XS": 0.85, "WX": 0.25, "XSJ": 0.0}[kind]:
                if rng.random() < 0.15:
                    p["ZJHM"] = e.org_code
                    dice.tags.append("legacy_org_code")
                else:
                    p["ZJHM"] = e.uscc
            p["DZ"] = e.address if rng.random() < 0.5 else ""
        p["CJH"], p["CPHM"], p["LC"], p["GZMS"] = "", "", "", ""
        if car is not None:
            if kind == "XS":
                p["CJH"] = d.vin_defects(car.vin, dice, {"check_typo": 0.005, "lower": 0.01})
            else:
                p["CJH"] = d.vin_defects(car.vin, dice, {"o_for_0": 0.02, "i_for_1": 0.01, "check_typo": 0.02,
                                                         "partial6": 0.04, "partial8": 0.03, "blank": 0.02,
                                                         "lower": 0.03, "spaced": 0.02})  # fmt: skip
                p["CPHM"] = car.plate_at(when) if rng.random() < 0.85 or not p["CJH"] else ""
                p["LC"] = str(int((when - car.built).days * rng.uniform(20, 80)))
                p["GZMS"] = rng.choice(
                    ["常规保养", "更换机油机滤", "刹车片更换", "钣金喷漆", "空调检修", "轮胎更换"]
                )
        parties = [(f"{dealer.code}:{khbh}", entity)]
        wr.emit(*file, p, parties, ev["extra"] + extra)
    return files


# ---------------------------------------------------------------- hotline_b: service hotline call log, no IDs
def write_hotline(wr: Writer) -> list[tuple[str, str, str]]:
    w, rng, dice = wr.w, wr.rng, wr.dice
    calls: list[tuple[date, str, Car | None, list[str]]] = []
    for car in w.cars:
        for entity, since, end in wr.periods(car):
            for _ in range(int((end - since).days / 365 * 0.3 + rng.random())):
                when = wr.when(max(since, date(2021, 1, 1)), max(end, date(2021, 1, 2)))
                o = w.orgs.get(entity)
                if o is None:
                    spouse = w.persons[entity].spouse
                    if spouse and rng.random() < 0.15:
                        calls.append((when, spouse, car, ["family_brings_car"]))
                    else:
                        calls.append((when, entity, car, []))
                elif rng.random() < 0.12:
                    calls.append((when, entity, car, ["company_caller"]))
                elif car.driver and rng.random() < 0.6:
                    calls.append((when, car.driver, car, ["driver_on_fleet_car"]))
                elif o.contact:
                    calls.append((when, o.contact, car, ["contact_on_company_car"]))
    for p in w.persons.values():
        if rng.random() < 0.05:
            calls.append((wr.when(date(2021, 1, 1), date(2024, 12, 1)), p.id, None, []))
    calls.sort(key=lambda c: c[0])
    files: list[tuple[str, str, str]] = []
    for when, entity, car, extra in calls:
        file = ("hotline_b", "calls", f"400_calls_{when.year}.csv")
        if file not in files:
            files.append(file)
        e = w.entity(entity)
        ticket = f"GD{when:%Y%m%d}{wr.next_no():05d}"
        p: dict[str, str] = {"工单号": ticket, "来电时间": _ts(when, rng).strftime("%Y-%m-%d %H:%M:%S")}
        if isinstance(e, Person):
            r = rng.random()
            if d.han(e.name) and r < 0.35:
                name = d.title_name(e.name, e.gender, rng)
                dice.tags.append("title_only_name")
            elif d.han(e.name) and r < 0.43:
                name = d.pinyin_name(e.name, rng)
                dice.tags.append("pinyin_name")
            else:
                name = d.person_name(e.name, dice, 0.08)
            p["客户称呼"] = name
            p["来电号码"] = (
                e.mobile_at(when) if rng.random() < 0.9 or not e.home_phone else e.home_phone.replace("-", "")
            )
            callback = d.mobile(e.mobile_at(when), dice, 0.05, 0.0) if rng.random() < 0.6 else ""
        else:
            p["客户称呼"] = e.trade + (e.industry[:2] if e.industry else "")
            dice.tags.append("org_trade_only")
            p["来电号码"] = e.switchboard.replace("-", "")
            callback = ""
        p["回访号码"] = callback
        info = ""
        if car is not None:
            r = rng.random()
            if r < 0.55:
                info = car.plate_at(when)
                dice.tags.append("plate_instead_of_vin")
            elif r < 0.7:
                info = car.vin[-6:]
                dice.tags.append("partial_vin_on_call")
            elif r < 0.85:
                info = d.vin_defects(car.vin, dice, {"check_typo": 0.05, "o_for_0": 0.03, "lower": 0.1})
        p["车辆信息"] = info
        p["问题类型"] = rng.choice(["咨询", "投诉", "道路救援", "预约保养", "召回查询"])
        wr.emit(*file, p, [(ticket, entity)], extra)
    return files


# ---------------------------------------------------------------- insurer_b: pipe-delimited policy list, own codes
CERT_CODES = {"resident_id": "01", "passport": "03", "hmt_permit": "06", "residence_permit": "08", "uscc": "31",
              "org_code": "32"}  # fmt: skip


def write_insurer(wr: Writer) -> list[tuple[str, str, str]]:
    w, rng, dice = wr.w, wr.rng, wr.dice
    customer: dict[tuple[str, str], str] = {}
    rows: list[tuple[date, dict[str, Any]]] = []
    for car in w.cars:
        company = rng.choice(["PICC", "CPIC", "PAIC"])
        for n, (entity, since, end) in enumerate(wr.periods(car)):
            if car.dealer_only and n == len(car.owners) - 1 and n > 0:
                continue
            if n > 0:
                company = rng.choice(["PICC", "CPIC", "PAIC"])
            start = since
            while start < end and start <= date(2024, 11, 30):
                if start >= date(2021, 1, 1) and rng.random() < 0.8:
                    rows.append((start, {"car": car, "entity": entity, "company": company}))
                start = date(start.year + 1, start.month, min(start.day, 28))
    files = [("insurer_b", "policies", "policy_list_2023_2024.txt"),
             ("insurer_b", "policies", "policy_list_2021_2022.txt")]  # fmt: skip

    def party(prefix: str, entity: str, company: str, when: date, p: dict[str, str]) -> str:
        key = (company, entity)
        if key not in customer:
            customer[key] = f"{company[0]}{wr.next_no():09d}"
        e = w.entity(entity)
        p[f"{prefix}KHH"] = customer[key]
        if isinstance(e, Person):
            name = e.name
            if e.hmt:
                name = d.traditional(name)
                dice.tags.append("traditional")
            p[f"{prefix}MC"] = d.person_name(name, dice, 0.015)
            doc, number = e.doc_type, e.doc_no
            if e.residence_permit and rng.random() < 0.5:
                doc, number = "residence_permit", e.residence_permit
            if doc != "resident_id":
                dice.tags.append(doc)
            elif when.year <= 2022 and e.birth.year < 1985 and dice.hit(0.2, "rid_15"):
                number = d.rid_15(number)
            elif number.endswith("X") and dice.hit(0.5, "id_lower_x"):
                number = number[:-1] + "x"
            code = CERT_CODES[doc]
            if doc == "resident_id" and dice.hit(0.02, "cert_type_other"):
                code = "99"
            if dice.hit(0.015, "id_typo") and len(number) == 18:
                number = d.id_typo(number, dice)
            if dice.hit(0.02, "id_fullwidth"):
                number = number.translate(d.FULL_WIDTH)
            if dice.hit(0.01, "id_blank"):
                number, code = "", ""
            p[f"{prefix}ZJLX"], p[f"{prefix}ZJHM"] = code, number
            p[f"{prefix}DH"] = d.mobile(e.mobile_at(when), dice, 0.02, 0.0)
            if e.mobile_at(when) != e.mobiles[-1][0]:
                dice.tags.append("old_mobile")
            p[f"{prefix}DZ"] = e.address_at(when)
        else:
            p[f"{prefix}MC"] = d.org_name(e.name, e.place, dice, {"org_form_short": 0.05, "org_form_long": 0.03,
                                                                  "org_fullwidth_paren": 0.5})  # fmt: skip
            if when.year <= 2022 and rng.random() < 0.3:
                p[f"{prefix}ZJLX"], p[f"{prefix}ZJHM"] = "32", e.org_code
                dice.tags.append("legacy_org_code")
            else:
                p[f"{prefix}ZJLX"], p[f"{prefix}ZJHM"] = "31", e.uscc
            p[f"{prefix}DH"] = d.landline(e.switchboard, dice)
            p[f"{prefix}DZ"] = e.address
        return customer[key]

    for when, r in sorted(rows, key=lambda x: x[0]):
        car, entity = r["car"], r["entity"]
        file = files[0] if when.year >= 2023 else files[1]
        p: dict[str, str] = {"BDH": f"{r['company']}{when.year}{wr.next_no():010d}", "BXGS": r["company"],
                             "XZ": rng.choice(["JQX", "SYX", "JQX+SYX"]), "QBRQ": f"{when:%Y%m%d}",
                             "ZBRQ": f"{date(when.year + 1, when.month, min(when.day, 28)) - timedelta(days=1):%Y%m%d}"}  # fmt: skip
        holder = entity
        tags = ["older_extract_loaded_later"] if file == files[1] else []
        spouse = w.persons[entity].spouse if entity in w.persons else None
        if spouse and rng.random() < 0.08:
            holder = spouse
            tags.append("relative_as_holder")
        hk = party("TBR", holder, r["company"], when, p)
        ik = party("BBR", entity, r["company"], when, p)
        p["CJH"] = d.vin_defects(car.vin, dice, {"check_typo": 0.01, "blank": 0.01, "lower": 0.02})
        p["HPHM"] = car.plate_at(when)
        p["CPXH"] = f"{car.make}{car.model}"
        rows_out = [(hk, holder), (ik, entity)]
        wr.emit(*file, p, rows_out, tags)
    return files


# ---------------------------------------------------------------- ebs_fin: Oracle EBS-like party / contact point / contract
def write_finance(wr: Writer) -> list[tuple[str, str, str]]:
    w, rng, dice = wr.w, wr.rng, wr.dice
    files = [("ebs_fin", "hz_parties", "HZ_PARTIES.csv"), ("ebs_fin", "hz_contact_points", "HZ_CONTACT_POINTS.csv"),
             ("ebs_fin", "okl_contracts", "OKL_CONTRACTS.csv")]  # fmt: skip
    party_ids: dict[str, list[str]] = {}
    contracts: list[tuple[Car, str, date, str | None]] = []
    for car in w.cars:
        for n, (entity, since, _end) in enumerate(wr.periods(car)):
            if car.dealer_only and n == len(car.owners) - 1 and n > 0:
                continue
            o = w.orgs.get(entity)
            rate = 0.35 if o is None else (0.5 if o.kind in ("rental", "ridehail", "logistics") else 0.15)
            if n > 0:
                rate *= 0.5
            if rng.random() < rate:
                guarantor = None
                if o is None and w.persons[entity].spouse and rng.random() < 0.4:
                    guarantor = w.persons[entity].spouse
                contracts.append((car, entity, since, guarantor))
    needed = {e for _, e, _, _ in contracts} | {g for *_, g in contracts if g}
    for entity in sorted(needed):
        party_ids[entity] = [str(100000 + wr.next_no())]
        if rng.random() < 0.04:
            party_ids[entity].append(str(100000 + wr.next_no()))
    for entity, ids in party_ids.items():
        e = w.entity(entity)
        for n, pid in enumerate(ids):
            p: dict[str, str] = {"PARTY_ID": pid, "PARTY_NUMBER": f"C{pid}",
                                 "LAST_UPDATE_DATE": rng.choice(["01-MAR-23", "15-JUN-22", "09-NOV-24", "21-JAN-21"])}  # fmt: skip
            tags = ["duplicate_account"] if n else []
            if isinstance(e, Person):
                p["PARTY_TYPE"] = "PERSON"
                name = d.person_name(e.name, dice, 0.01)
                if d.han(name) and " " not in name:
                    surname = d.surname_of(name)
                    last, first = surname, name[len(surname) :]
                else:
                    first, _, last = name.rpartition(" ") if " " in name else ("", "", name)
                p["PERSON_LAST_NAME"], p["PERSON_FIRST_NAME"] = last, first
                p["PARTY_NAME"] = f"{first} {last}".strip()
                dice.tags.append("western_party_name")
                number = e.residence_permit or e.doc_no
                if e.doc_type != "resident_id":
                    dice.tags.append("residence_permit" if e.residence_permit else e.doc_type)
                elif dice.hit(0.01, "id_typo"):
                    number = d.id_typo(number, dice)
                p["JGZZ_FISCAL_CODE"] = number
            else:
                p["PARTY_TYPE"] = "ORGANIZATION"
                p["PERSON_LAST_NAME"] = p["PERSON_FIRST_NAME"] = ""
                p["PARTY_NAME"] = d.org_name(
                    e.name, e.place, dice, {"org_form_short": 0.05, "org_place_shi": 0.05}
                )
                if rng.random() < 0.2:
                    p["JGZZ_FISCAL_CODE"] = e.org_code
                    dice.tags.append("legacy_org_code")
                else:
                    p["JGZZ_FISCAL_CODE"] = e.uscc
            wr.emit(*files[0], p, [(pid, entity)], tags)
            # contact points: a file of their own, keyed by the party id
            if isinstance(e, Person):
                points = [("PHONE", "MOBILE", "", e.mobiles[-1][0])]
                if e.email:
                    points.append(("EMAIL", "", "", e.email))
            else:
                area, local = e.switchboard.split("-")
                points = [("PHONE", "GEN", area, local)]
            for kind, line, area, value in points:
                cp = {"CONTACT_POINT_ID": str(wr.next_no()), "OWNER_TABLE_NAME": "HZ_PARTIES", "OWNER_TABLE_ID": pid,
                      "CONTACT_POINT_TYPE": kind, "PHONE_LINE_TYPE": line, "PHONE_AREA_CODE": area,
                      "PHONE_NUMBER": value if kind == "PHONE" else "", "EMAIL_ADDRESS": value if kind == "EMAIL" else "",
                      "PRIMARY_FLAG": "Y"}  # fmt: skip
                wr.emit(*files[1], cp, [])
    for car, entity, since, guarantor in contracts:
        p = {"CONTRACT_NUMBER": f"OKL{since:%Y}{wr.next_no():07d}", "CUST_PARTY_ID": party_ids[entity][0],
             "GUARANTOR_PARTY_ID": party_ids[guarantor][0] if guarantor else "",
             "VIN": d.vin_defects(car.vin, dice, {"check_typo": 0.005}), "START_DATE": since.strftime("%d-%b-%y").upper(),
             "STS_CODE": rng.choice(["ACTIVE", "ACTIVE", "TERMINATED", "EXPIRED"])}  # fmt: skip
        wr.emit(*files[2], p, [])
    return files


def write_all(world: World, seed: int) -> tuple[list[RowB], list[tuple[str, str, str]]]:
    wr = Writer(world, seed)
    files: list[tuple[str, str, str]] = []
    files += write_crm(wr)
    files += write_finance(wr)
    files += write_dms(wr)
    files += write_insurer(wr)
    files += write_hotline(wr)
    return wr.rows, files


__all__ = ["CITIES", "FORMS_B", "Org", "RowB", "write_all"]
