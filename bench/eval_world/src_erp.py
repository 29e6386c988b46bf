"""``sap_sd``: an SAP-like ERP — customer master KNA1, equipment master EQUI (every VIN built) and the sales
export VBAK/VBAP (the invoiced first purchaser of each car). German/SAP column names, dates YYYYMMDD,
"00000000" for no date, long company names split over NAME1/NAME2, legacy organisation codes in STCD1."""

from __future__ import annotations

import random
from datetime import timedelta

from bench.eval_world import spell
from bench.eval_world.extract import Dice, Row
from bench.eval_world.world import World

SOURCE = "sap_sd"
REGIO = {"浙江省": "ZJ", "江苏省": "JS", "安徽省": "AH", "广东省": "GD", "四川省": "SC", "湖北省": "HB"}
MUNICIPALITY = {"上海": "SH", "北京": "BJ"}
PERSON_NAMES = spell.NameRates(typo=0.02)


def _regio(city_name: str, province: str) -> str:
    return MUNICIPALITY.get(city_name) or REGIO[province]


def _kna1(d: Dice, world: World, entity: str, kunnr: str, created: str) -> dict[str, str]:
    row = {"KUNNR": kunnr, "KTOKD": "", "ANRED": "", "NAME1": "", "NAME2": "", "ORT01": "", "PSTLZ": "",
           "REGIO": "", "STRAS": "", "TELF1": "", "TELF2": "", "SMTP_ADDR": "", "STCD1": "", "STCD2": "",
           "GBDAT": "00000000", "ERDAT": created, "AEDAT": created}  # fmt: skip
    if entity in world.persons:
        p = world.persons[entity]
        row.update(
            KTOKD="Z001", ANRED="Herr" if p.male else "Frau", NAME1=spell.person_name(d, p, PERSON_NAMES)
        )
        row.update(
            ORT01=p.city.name + ("市" if d.rng.random() < 0.5 else ""),
            REGIO=_regio(p.city.name, p.city.province),
        )
        row.update(STRAS=p.address, TELF1=spell.mobile(d, p.mobile, typo=0.01))
        if p.mobile2 and d.rng.random() < 0.5:
            row["TELF2"] = spell.mobile(d, p.mobile2)
        if p.email and d.rng.random() < 0.6:
            row["SMTP_ADDR"] = p.email if not d.hit(0.03, "email_typo") else p.email.replace("@", "@@")
        if d.rng.random() < 0.85:
            row["STCD2"] = spell.resident_id(d, p, typo=0.02)
        if d.rng.random() < 0.6:
            row["GBDAT"] = p.born.strftime("%Y%m%d")
        else:
            d.tags.append("sap_blank_date")
        return row
    o = world.orgs[entity]
    name = spell.org_name(d, o, SOURCE)
    row.update(KTOKD="Z003" if o.kind == "public" else "Z002", ANRED="Firma", NAME1=name)
    if len(name) > 12 and d.hit(0.3, "name1_name2_split"):
        cut = d.rng.randrange(8, len(name) - 2)
        row.update(NAME1=name[:cut], NAME2=name[cut:])
    row.update(
        ORT01=o.city.name + ("市" if d.rng.random() < 0.5 else ""), REGIO=_regio(o.city.name, o.city.province)
    )
    row.update(STRAS=o.address, TELF1=spell.landline(d, o))
    if d.rng.random() < 0.5:
        row["TELF2"] = spell.mobile(d, o.desk_mobile)
    legacy = int(created[:4]) < 2016 or (o.founded < 2015 and d.rng.random() < 0.5)
    row["STCD1"] = spell.org_code_text(d, o) if legacy else o.uscc
    return row


def build(world: World, rng: random.Random) -> list[Row]:
    d = Dice(rng)
    rows: list[Row] = []
    for n, car in enumerate(world.cars):
        rows.append(Row(SOURCE, "equi", "EQUI.csv", {
            "EQUNR": f"{10000000 + n:018d}", "SERNR": car.vin, "MATNR": car.matnr,
            "HERDAT": car.produced.strftime("%Y%m%d"), "WERKS": "HZ01" if car.vin[10] == "H" else "NB01",
        }))  # fmt: skip
    sales = sorted((c for c in world.cars if c.owners), key=lambda c: c.owners[0].since)
    kunnr: dict[str, str] = {}
    for n, car in enumerate(sales):
        first = car.owners[0]
        if first.entity not in kunnr:
            kunnr[first.entity] = f"{1000000 + len(kunnr):010d}"
            created = (first.since - timedelta(days=d.rng.randrange(1, 20))).strftime("%Y%m%d")
            payload = _kna1(d, world, first.entity, kunnr[first.entity], created)
            rows.append(
                Row(SOURCE, "kna1", "KNA1.csv", payload, [(kunnr[first.entity], first.entity)], d.take())
            )
            if d.rng.random() < 0.03:  # the same customer created again by another sales organisation
                dup = f"{3000000 + len(kunnr):010d}"
                payload = _kna1(d, world, first.entity, dup, first.since.strftime("%Y%m%d"))
                rows.append(
                    Row(
                        SOURCE,
                        "kna1",
                        "KNA1.csv",
                        payload,
                        [(dup, first.entity)],
                        [*d.take(), "duplicate_account"],
                    )
                )
        rows.append(Row(SOURCE, "vbak", "VBAK_VBAP.csv", {
            "VBELN": f"{90000000 + n:010d}", "POSNR": "000010", "KUNNR": kunnr[first.entity], "MATNR": car.matnr,
            "SERNR": car.vin, "FKDAT": first.since.strftime("%Y%m%d"), "VKORG": "CN01", "KUNWE": first.dealer.code,
            "NETWR": f"{d.rng.randrange(90, 320) * 1000}.00", "WAERK": "CNY",
        }))  # fmt: skip
    return rows
