"""An independent evaluation world for AutoHub's golden-record matching (issue 15, "How to measure it").

``generate(seed, scale)`` builds a true world — ≈ 4 000 persons and 400 organisations at scale 1 (companies,
fleets with drivers, branches 分公司 with their own USCC, 个体 shops, public bodies; some companies share a trade
name with a company in another city), ≈ 4 500 cars with owners over time (12 % resold, 20 % of fleet cars;
15 % of those resold again; 40 % of resales seen ONLY as the customer on dealer repair orders; 3 % never sold)
— and the raw extracts five invented source systems hold about it, each row with its ground truth.

Sources and layouts (mappings in ``bench/eval_world/mappings``):

- ``sap_sd`` — SAP-like ERP: KNA1 customer master (KUNNR, KTOKD Z001 private/Z002 company/Z003 public, ANRED,
  NAME1/NAME2, ORT01, REGIO province letters, STRAS, TELF1, TELF2, SMTP_ADDR, STCD1 USCC or legacy 9-char
  organisation code, STCD2 resident ID, GBDAT YYYYMMDD or 00000000, ERDAT, AEDAT); EQUI equipment (every VIN
  built, MATNR); VBAK/VBAP sales (VBELN, KUNNR, SERNR = VIN, FKDAT). Clean VINs.
- ``cfc_loans`` — captive finance contract table, borrower and co-borrower embedded, cert_type I/U/O;
  snapshots 2024-06-30 and the OLDER 2023-12-31 (loaded after it, old address/mobile).
- ``insurer_pol`` — motor policies with ``holder_*`` and ``insured_*`` (own customer numbers TB…/BB…), cert
  types 01 ID / 31 USCC / 10 organisation code, dates YYYY/MM/DD; extracts 2024H1 and the OLDER 2023H2 loaded
  after it (old plate, phone, address).
- ``dealer_dms`` — one flat row per lead/delivery/repair order, Chinese headers, NO customer-type column and no
  customer number; companies in 客户名称, drivers of fleet cars with the fleet desk's phone.
- ``owner_app`` — users (nickname, real name, consent flags Y/N) and bindings (VIN typed by the user).

Defect rates (per row written; tags in ``Row.tags``; legitimate forms listed in ``extract.FORMS``):

- names: typos (homophones) ERP 2 %, finance 2 %, insurer 2 %, DMS 2–3 %, app 2 %; traditional characters
  insurer 2 %, DMS 1 %, app 8 %; romanised (western order, caps, Cantonese, English given name) app 20 %;
  surname + title (王先生) DMS leads 35 %, repair orders 8 %; familiar forms (小王) DMS 1–3 %; app real name
  blank 4 %.
- phones: mobile written with spaces/+86/0086/86-/dashes 30 %; typo 1 %; 13800138000 DMS 2 %, app 0.5 %;
  the dealer's own mobile for the customer DMS 2–3 %; company landlines in 7 formats with extensions.
- IDs: resident-ID typo ERP 2 %, finance 2 %, insurer 1.5 %, DMS deliveries 2 %, app 2 %; 15-digit old form in
  finance for 25 % of people born before 1985; lower-case x 5 %; organisation code instead of USCC in ERP (old
  customers), finance 30 %, insurer 30 %.
- VINs: DMS repair orders O for 0 2 %, I for 1 1 %, check-digit typo 1.5 %, last 6 only 2 %, last 8 only 3 %,
  blank 1.5 %, lower case 4 %, spaced 1 %; insurer blank 2 %, O for 0 1 %, lower 8 %, spaced 2 %; app lower
  10 %, O 2 %, I 1 %, check typo 1 %.
- company names (DMS/app heavier than ERP/finance/insurer): 有限责任公司 ↔ 有限公司 15–60 %, 杭州市 vs 杭州
  12–25 %, place in (half/full-width) parentheses 8–15 %, no place 10 % (DMS/app), spaces 10 %, legal form
  dropped 6 %, branch in parentheses 30 % of branch rows; ERP splits 30 % of long names over NAME1/NAME2.
- other: duplicate accounts (ERP 3 %, finance 3 %, insurer 2 %, app 4 %), relative as policy holder 8 %, family
  member brings the car 5 % of private repair orders, old owner's app binding left in place 50 %.
"""

from __future__ import annotations

import random

from bench.eval_world import src_app, src_dms, src_erp, src_finance, src_insurer
from bench.eval_world.cars import generate_world
from bench.eval_world.extract import Extracts, Row
from bench.eval_world.hub import MAPPINGS_DIR
from bench.eval_world.records import raw_parties
from bench.eval_world.world import World

LOAD_ORDER: list[tuple[str, str, str]] = [
    ("sap_sd", "equi", "EQUI.csv"),
    ("sap_sd", "kna1", "KNA1.csv"),
    ("sap_sd", "vbak", "VBAK_VBAP.csv"),
    ("cfc_loans", "contracts", src_finance.NEW),
    ("cfc_loans", "contracts", src_finance.OLD),  # older snapshot delivered late
    ("insurer_pol", "policies", src_insurer.NEW),
    ("insurer_pol", "policies", src_insurer.OLD),  # older extract delivered late
    ("dealer_dms", "business", src_dms.FILE),
    ("owner_app", "users", "users.csv"),
    ("owner_app", "bindings", "bindings.csv"),
]


def generate(seed: int = 7, scale: float = 1.0) -> tuple[World, Extracts]:
    world = generate_world(seed, scale)
    rows: list[Row] = []
    for n, module in enumerate((src_erp, src_finance, src_insurer, src_dms, src_app)):
        rows += module.build(world, random.Random(seed * 1000 + n))
    return world, Extracts(rows, LOAD_ORDER)


__all__ = ["MAPPINGS_DIR", "Extracts", "Row", "World", "generate", "raw_parties"]
