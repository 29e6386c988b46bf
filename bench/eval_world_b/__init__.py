"""eval_world_b — a second, independent evaluation world for golden-record matching (issue 15).

Written without reading the matcher, the hub's own mappings or sample data, or the first evaluation world's
generator: only the identifier rules (canonical_model/identifiers), the issue, the canonical model and
mappings/README.md. ``generate(seed, scale)``
gives the true ``World`` and the raw ``Extracts``; ``MAPPINGS_DIR`` holds the YAML a new user wrote from the
README; ``raw_parties`` gives the raw columns a plain Splink user would point a model at.

The world (scale 1): ~3 300 persons, ~410 organisations (≈ 11 %), ~3 900 cars.
- Persons: skewed surname table with 单/曾/仇/解/区/查; 3.5 % carry one of twelve very common full names (王伟,
  张敏 …: same name, different people, often the same city); 1.3 % compound surnames (欧阳, 司马 …); 1.2 %
  Uyghur-style names with a middle dot (阿依古丽·买买提); 1 % foreigners with passports and Latin names; ~2 % of
  the rest are Hong Kong/Macau residents (H/M travel permit, 60 % also an 81/82 residence permit, traditional
  characters at the insurer). 15 % changed mobile number (2020–2024), 15 % moved; 12 % are couples sharing address
  and home landline; 20 % have a home landline.
- Organisations: rental fleets (6–18 cars), logistics (3–12), ride-hailing (5–15), dealers' demo cars (2–5),
  government units (…局, …医院, …学校), companies, 个体工商户 shops (USCC type 2, names ending 店/行/馆), joint
  ventures with an English name ("Hangzhou Xinda Auto Parts Co., Ltd."). 12 % of trade names recur in another city
  as a different company; 10 % of companies have a branch (…有限公司宁波分公司, its own USCC). Every organisation
  but a shop has a contact person; fleets have 2–6 drivers (persons of the world).
- Cars: VINs with valid check digits over six Chinese WMIs; serials drawn from a small space so that the last 6
  characters collide across brands (a partial VIN is often ambiguous). Resales: 10 % of private cars, 75 % of
  demo cars, 15 % of rental/ride-hailing cars (60 % of those to their own driver), 15 % of resales resold again;
  40 % of resales are "dealer only" (the newest owner appears only as a repair-order customer).

Sources (load order: crm_b, ebs_fin, dms_b, insurer_b, hotline_b):
- crm_b — the maker's CRM as JSON Lines with nested arrays: name {full, en}, id_doc {type, number}, phones[]
  ({kind, number, status}: the current mobile, sometimes an INACTIVE old one, a home landline, 15 % shuffled),
  emails[], addresses[], contacts[] (a company's contact person: a party of its own), vehicles[] (vin, relation,
  since). Two snapshots: 2024-10-31, then 45 % of accounts again as of 2022-06-30 (old mobile/address, fewer cars)
  loaded AFTER the newer one. 3 % of persons have a second account (typo rate 20 % on its name). 个体户 shops typed
  B2C in 50 % of their accounts; 40 % of joint ventures only under their English name; 25 % of org accounts in the
  old snapshot carry the legacy organisation code "12345678-9".
- ebs_fin — an Oracle EBS-like split: HZ_PARTIES (PARTY_NAME written first-name-first, "伟 王"; PERSON_LAST_NAME /
  PERSON_FIRST_NAME; JGZZ_FISCAL_CODE holds resident IDs, permits, passports, USCCs or organisation codes with no
  type column; LAST_UPDATE_DATE "01-MAR-23"), HZ_CONTACT_POINTS (phones and e-mails keyed by OWNER_TABLE_ID) and
  OKL_CONTRACTS (CUST_PARTY_ID, GUARANTOR_PARTY_ID = spouse in 40 % of couples' loans, VIN). 4 % duplicate parties.
- dms_b — a second dealer DMS vendor (pinyin-abbreviated headers MDDM/DJH/DJLX/KHBH/KHMC/KHLX/LXDH/ZJHM/CJH/CPHM),
  one row per lead (XSJ), delivery (XS) or repair order (WX), a per-dealer customer number (8 % of later visits open
  a new one). Customer type 个人/单位: a company typed 个人 on 6 % of its rows, a person typed 单位 on 1.5 %.
  Dealer group G2 types the showroom landline for 6 % of persons; 7 % of phone fields hold two numbers
  ("138…/0571-…", "138… 139…", "，", ";"); 2 % blank; 2 % typos. Leads: 18 % surname + title (王先生). Repair
  orders: VIN O-for-0 2 %, I-for-1 1 %, check-digit typo 2 %, last 6 only 4 %, last 8 only 3 %, blank (plate only)
  2 %, lower case 3 %, spaced 2 %. Names: 4 % typos (a dropped character, swapped given-name characters, a
  homophone), 3 % a space after the surname. Companies: short/long legal form, 市 added, place dropped, trade name
  only ("鑫达物流", 12 %), English name (20 % of JV rows), a branch written as its parent (15 %, a defect). Fleet
  cars come in with the company (45 %), the driver (with the company switchboard as phone in 60 %) or the contact
  person; 15 % of a couple's visits are by the spouse (40 % of those with the owner's mobile).
- insurer_b — a pipe-delimited policy list (TBR* holder, BBR* insured, per-insurer customer numbers TBRKHH/BBRKHH,
  its own cert-type codes 01/03/06/08/31/32/99), 2023–2024 delivered first, 2021–2022 after it. 20 % of
  pre-1985 persons' IDs in the old file are the 15-digit form, 50 % of X check characters lower case, 2 %
  full-width digits, 2 % cert type 99 for a resident ID, 1.5 % ID typos, 1 % blank ID, 8 % of couples' policies
  held by the spouse, 30 % of organisations under the organisation code in 2021–2022, VIN typo 1 %, blank 1 %.
- hotline_b — a 400-hotline call log, no IDs: 客户称呼 as spoken (35 % surname + title, 8 % pinyin in either
  order or capitals, else the full name with 8 % typos), 来电号码 (caller's number; a home landline without
  separator), 回访号码 (typed by the agent, 5 % typos), 车辆信息 (a plate 55 %, the last 6 of the VIN 15 %, the
  VIN 15 % with typos, blank). Company cars: the driver, the contact person or the company's trade name calls.

Hard cases by design: same-name different persons; couples sharing address, landline, car and (at the dealer)
mobile; old mobile numbers in old snapshots; drivers on fleet cars with the company switchboard; companies without
a type or with the wrong one, under trade names, English names, legacy codes; branches vs parents; same trade name
in two cities; partial VINs that collide; resales seen only at a dealer; older extracts loaded last.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.eval_world.extract import Extracts
from bench.eval_world.records import COLUMNS, RawParty
from bench.eval_world_b.people import World, build_world
from bench.eval_world_b.sources import FORMS_B, RowB, write_all

MAPPINGS_DIR = Path(__file__).parent / "mappings"


class ExtractsB(Extracts):
    def write_file(self, path: Path, rows: list[dict[str, str]]) -> None:
        """CSV as the base class writes it, but JSON Lines for the CRM and pipe-delimited text for the insurer."""
        if path.name.endswith(".jsonl"):
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        elif path.name.endswith(".txt"):
            columns = list(dict.fromkeys(k for r in rows for k in r))
            lines = ["|".join(columns)] + ["|".join(str(r.get(c, "")) for c in columns) for r in rows]
            path.write_text("\n".join(lines) + "\n", encoding="gb18030")
        else:
            super().write_file(path, rows)


def generate(seed: int = 1, scale: float = 1.0) -> tuple[World, ExtractsB]:
    world = build_world(seed, scale)
    rows, files = write_all(world, seed)
    return world, ExtractsB(list(rows), files)


def _columns(row: RowB, key: str, joined: dict[str, dict[str, str]]) -> dict[str, str]:
    p = row.payload
    if row.source == "crm_b":
        if ":contact:" in key:
            c = next(c for c in p["contacts"] if key.endswith(c["contact_id"]))
            return {"name": c["name"], "phone": c["mobile"]}
        phones = [x["number"] for x in p["phones"]]
        return {"name": p["name"].get("full") or p["name"].get("en", ""), "phone": phones[0] if phones else "",
                "phone2": phones[1] if len(phones) > 1 else "", "id_no": p["id_doc"]["number"],
                "email": (p["emails"] or [""])[0], "address": p["addresses"][0]["line"] if p["addresses"] else "",
                "vin": p["vehicles"][0]["vin"] if p["vehicles"] else ""}  # fmt: skip
    if row.source == "dms_b":
        return {
            "name": p["KHMC"],
            "phone": p["LXDH"],
            "id_no": p["ZJHM"],
            "address": p["DZ"],
            "vin": p["CJH"],
        }
    if row.source == "hotline_b":
        return {"name": p["客户称呼"], "phone": p["来电号码"], "phone2": p["回访号码"], "vin": p["车辆信息"]}
    if row.source == "insurer_b":
        role = "BBR" if key == p["BBRKHH"] else "TBR"
        return {"name": p[f"{role}MC"], "phone": p[f"{role}DH"], "id_no": p[f"{role}ZJHM"],
                "address": p[f"{role}DZ"], "vin": p["CJH"]}  # fmt: skip
    # ebs_fin: a plain user joins the contact points and the first contract by PARTY_ID in pandas
    name = p["PERSON_LAST_NAME"] + p["PERSON_FIRST_NAME"] if p["PARTY_TYPE"] == "PERSON" else p["PARTY_NAME"]
    return {"name": name, "id_no": p["JGZZ_FISCAL_CODE"], **joined.get(key, {})}


def raw_parties(extracts: Extracts) -> dict[tuple[str, str], RawParty]:
    joined: dict[str, dict[str, str]] = {}
    for row in extracts.rows:
        if row.source == "ebs_fin" and row.stream == "hz_contact_points":
            j = joined.setdefault(row.payload["OWNER_TABLE_ID"], {})
            if row.payload["CONTACT_POINT_TYPE"] == "PHONE":
                number = row.payload["PHONE_AREA_CODE"] + row.payload["PHONE_NUMBER"]
                j.setdefault("phone", number)
            else:
                j.setdefault("email", row.payload["EMAIL_ADDRESS"])
        if row.source == "ebs_fin" and row.stream == "okl_contracts":
            joined.setdefault(row.payload["CUST_PARTY_ID"], {}).setdefault("vin", row.payload["VIN"])
    parties: dict[tuple[str, str], RawParty] = {}
    for row in extracts.in_load_order():
        for key, entity in row.parties:
            values = {c: "" for c in COLUMNS} | _columns(row, key, joined)  # type: ignore[arg-type]
            parties[(row.source, key)] = RawParty(row.source, key, entity, values, row.tags)
    return parties


__all__ = ["FORMS_B", "MAPPINGS_DIR", "ExtractsB", "RowB", "World", "generate", "raw_parties"]
