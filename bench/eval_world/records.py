"""One flat view of every party record as its raw extract shows it (the last-loaded row wins, as in the hub):
the columns a Splink user would point a model at, and what the example misses print."""

from __future__ import annotations

from dataclasses import dataclass

from bench.eval_world.extract import Extracts, Row

COLUMNS = ("name", "phone", "phone2", "id_no", "email", "address", "vin")


@dataclass
class RawParty:
    source: str
    key: str
    entity: str
    values: dict[str, str]
    tags: list[str]

    def shown(self) -> str:
        parts = [f"{c}={self.values[c]}" for c in COLUMNS if self.values.get(c)]
        return f"{self.source}/{self.key} [{self.entity}] " + " ".join(parts)


def _columns(row: Row, key: str) -> dict[str, str]:
    p = row.payload
    if row.source == "sap_sd":
        return {"name": p["NAME1"] + p["NAME2"], "phone": p["TELF1"], "phone2": p["TELF2"],
                "id_no": p["STCD2"] or p["STCD1"], "email": p["SMTP_ADDR"], "address": p["STRAS"]}  # fmt: skip
    if row.source == "cfc_loans":
        if key == p["co_borrower_no"]:
            return {"name": p["co_borrower_name"], "phone": p["co_borrower_mobile"], "id_no": p["co_borrower_cert_no"], "vin": p["vin"]}  # fmt: skip
        return {"name": p["borrower_name"], "phone": p["mobile_no"], "phone2": p["contact_tel"], "id_no": p["cert_no"],
                "address": p["reg_address"], "vin": p["vin"]}  # fmt: skip
    if row.source == "insurer_pol":
        role = "holder" if key == p["holder_no"] else "insured"
        return {"name": p[f"{role}_name"], "phone": p[f"{role}_phone"], "id_no": p[f"{role}_cert_no"],
                "address": p[f"{role}_addr"], "vin": p["vin"]}  # fmt: skip
    if row.source == "dealer_dms":
        return {"name": p["客户名称"], "phone": p["手机"], "phone2": p["电话"], "id_no": p["证件号码"],
                "address": p["地址"], "vin": p["车架号"]}  # fmt: skip
    return {"name": p["real_name"], "phone": p["mobile"], "email": p["email"], "id_no": p["id_card"]}


def raw_parties(extracts: Extracts) -> dict[tuple[str, str], RawParty]:
    parties: dict[tuple[str, str], RawParty] = {}
    first_vin: dict[tuple[str, str], str] = {}
    for row in extracts.in_load_order():
        if row.source == "sap_sd" and row.stream == "vbak":
            first_vin.setdefault(("sap_sd", row.payload["KUNNR"]), row.payload["SERNR"])
        if row.source == "owner_app" and row.stream == "bindings":
            first_vin.setdefault(("owner_app", row.payload["user_id"]), row.payload["vin"])
        for key, entity in row.parties:
            values = {c: "" for c in COLUMNS} | _columns(row, key)
            parties[(row.source, key)] = RawParty(row.source, key, entity, values, row.tags)
    for ref, vin in first_vin.items():
        if ref in parties and not parties[ref].values["vin"]:
            parties[ref].values["vin"] = vin
    return parties
