"""The batch sources: the maker's ERP (SOAP), the finance database (SQL) and the insurer's REST API.

Each function renders one cluster member as that source holds them, in the source's own field names
(exact: the mappings in ``mappings/sources`` are written against them), with the source's typical noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sample_data import tables
from sample_data.identity import to_15_digits
from sample_data.noise import phone_as, traditional
from sample_data.population import TODAY, Ownership, Person
from sample_data.record import Context, GeneratedRecord

ERP_PHONE_NOISE = 0.02
FINANCED_PERSON, FINANCED_ORGANISATION, FINANCED_WITHOUT_CAR = 0.45, 0.8, 0.03
OLD_ID_SHARE = 0.3  # finance rows of people born before 1985 still holding the 15-digit ID
OLD_ID_BORN_BEFORE = 1985
INSURANCE_YEARS = 3
COMMERCIAL_SHARE = 0.8  # besides the compulsory 交强险, most owners buy 商业险
SAME_INSURER_ON_RENEWAL = 0.85
LOWERCASE_VIN_SHARE = 0.18
INSURANCE_TRADITIONAL_SHARE = 0.06

_SEX = {"male": "1", "female": "2"}
_ERP_ID_TYPE = {"RIC": "RIC", "USCC": "USCC", "PASSPORT": "PASSPORT"}
_FINANCE_ID_TYPE = {"RIC": "身份证", "USCC": "统一社会信用代码", "PASSPORT": "护照"}
_INSURANCE_ID_TYPE = {"RIC": "01", "USCC": "02", "PASSPORT": "03"}


def _phone_noise(style: str) -> tuple[str, ...]:
    return () if style == "plain" else ("phone_format",)


def _family(person: Person) -> tuple[str, ...]:
    return ("shared_family_phone",) if person.shares_family_phone else ()


# --- ERP ----------------------------------------------------------------------------------------------------


def erp(ctx: Context, person: Person) -> Iterator[GeneratedRecord]:
    """The ERP knows first purchasers only: whoever bought a new car, with the car and the invoice."""
    bought = [o for o in person.ownerships if o.new]
    if not bought:
        return
    kunnr = ctx.customer_id("erp", person)
    yield _erp_customer(ctx, person, kunnr, bought[0].since)
    for ownership in bought:
        yield _erp_vehicle(ctx, ownership)
        yield _erp_sales_order(ctx, ownership, kunnr)


def _erp_customer(ctx: Context, person: Person, kunnr: str, first_purchase: date) -> GeneratedRecord:
    style = "+86 spaced" if ctx.roll(ERP_PHONE_NOISE) else "plain"
    payload: dict[str, Any] = {
        "KUNNR": kunnr, "KTOKD": "O" if person.is_organisation else "P", "NAME1": person.name,
        "SEX": _SEX.get(person.gender, "") if not ctx.roll(0.03) else "",
        "GBDAT": f"{person.birth_date:%Y%m%d}" if person.birth_date else "",
        "ID_TYPE": _ERP_ID_TYPE[person.id_type], "ID_NO": person.id_number,
        "MOBILE": phone_as(person.mobile, style), "EMAIL": person.email or "", "REGIO": person.region.code,
        "STRAS": person.address, "CHANGED_AT": ctx.timestamp(first_purchase - timedelta(days=ctx.between(0, 3))),
    }  # fmt: skip
    defects = (*_phone_noise(style), *_family(person), *ctx.spoiler.spoil(payload, "erp", "customers"))
    return GeneratedRecord("erp", "customers", kunnr, payload, person.person_id, None, defects)


def _erp_vehicle(ctx: Context, ownership: Ownership) -> GeneratedRecord:
    car = ownership.car
    payload: dict[str, Any] = {
        "VIN": car.vin, "MAKE": car.model.make, "MODEL": car.model.name, "TRIM": car.trim,
        "MODEL_YEAR": car.model_year, "PROD_DATE": car.produced.isoformat(), "PLANT": car.plant,
        "COLOUR": car.colour, "CHANGED_AT": ctx.timestamp(car.produced + timedelta(days=ctx.between(1, 5))),
    }  # fmt: skip
    defects = ctx.spoiler.spoil(payload, "erp", "vehicles")
    # The VIN is the record's key in the ERP: a mistyped VIN is the key the source really has.
    return GeneratedRecord("erp", "vehicles", payload["VIN"], payload, None, car.vin, defects)


def _erp_sales_order(ctx: Context, ownership: Ownership, kunnr: str) -> GeneratedRecord:
    car = ownership.car
    order_id = f"SO{ctx.serial('sales_order'):010d}"
    payload: dict[str, Any] = {
        "VBELN": order_id, "KUNNR": kunnr, "VIN": car.vin, "DEALER": ownership.dealer.code,
        "INVOICE_DATE": car.sold_on.isoformat(), "NET_PRICE": f"{car.price}.00",
        "CHANGED_AT": ctx.timestamp(car.sold_on),
    }  # fmt: skip
    defects = ctx.spoiler.spoil(payload, "erp", "sales_orders")
    return GeneratedRecord(
        "erp", "sales_orders", order_id, payload, ownership.owner.person_id, car.vin, defects
    )


# --- finance ------------------------------------------------------------------------------------------------


def finance(ctx: Context, person: Person) -> Iterator[GeneratedRecord]:
    """Only customers who financed a car (or, for companies, buy on credit terms) are in finance."""
    bought = [o for o in person.ownerships if o.new]
    if bought:
        share = FINANCED_ORGANISATION if person.is_organisation else FINANCED_PERSON
    else:
        share = 0.0 if person.is_organisation else FINANCED_WITHOUT_CAR
    if not ctx.roll(share):
        return
    cust_id = ctx.customer_id("finance", person)
    id_number, noise = person.id_number, list(_family(person))
    born = person.birth_date
    if person.id_type == "RIC" and born and born.year < OLD_ID_BORN_BEFORE and ctx.roll(OLD_ID_SHARE):
        id_number = to_15_digits(id_number)
        noise.append("resident_id_15")
    style = ctx.rng.choices(("plain", "+86 spaced", "0086-", "dashed"), (40, 25, 15, 20))[0]
    noise.extend(_phone_noise(style))
    if bought:
        last_change = min(TODAY, bought[-1].since + timedelta(days=ctx.between(1, 400)))
    else:
        last_change = TODAY - timedelta(days=ctx.between(1, 700))
    limit = ctx.between(5, 60) * 10_000 * (5 if person.is_organisation else 1)
    payload: dict[str, Any] = {
        "cust_id": cust_id, "cust_name": person.name, "cust_type": "企业" if person.is_organisation else "个人",
        "id_type": _FINANCE_ID_TYPE[person.id_type], "id_number": id_number, "phone": phone_as(person.mobile, style),
        "credit_grade": ctx.rng.choice(tables.CREDIT_GRADES), "credit_term_days": ctx.rng.choice(tables.CREDIT_TERMS),
        "credit_limit": f"{limit}.00", "currency": "CNY",
        "receivable_balance": f"{ctx.between(0, limit * 60) / 100:.2f}",
        "updated_at": ctx.naive_timestamp(last_change),
    }  # fmt: skip
    defects = (*noise, *ctx.spoiler.spoil(payload, "finance", "customers"))
    yield GeneratedRecord("finance", "customers", cust_id, payload, person.person_id, None, defects)


# --- insurance ----------------------------------------------------------------------------------------------


def insurance(ctx: Context, person: Person) -> Iterator[GeneratedRecord]:
    """Policies of the last three years: each year the compulsory 交强险, usually a 商业险 as well."""
    for ownership in person.ownerships:
        insurer = ctx.rng.choice(tuple(tables.INSURERS))
        for start in _policy_starts(ownership):
            if not ctx.roll(SAME_INSURER_ON_RENEWAL):
                insurer = ctx.rng.choice(tuple(tables.INSURERS))
            yield _policy(ctx, person, ownership, insurer, "交强险", start)
            if ctx.roll(COMMERCIAL_SHARE):
                yield _policy(ctx, person, ownership, insurer, "商业险", start)


def _policy_starts(ownership: Ownership) -> Iterator[date]:
    window_start = TODAY.replace(year=TODAY.year - INSURANCE_YEARS)
    for years in range(0, 40):
        start = _anniversary(ownership.since, years)
        if start > TODAY or (ownership.until is not None and start >= ownership.until):
            return
        if start >= window_start:
            yield start


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1)


def _policy(
    ctx: Context, person: Person, ownership: Ownership, insurer: str, product: str, start: date
) -> GeneratedRecord:
    car, noise = ownership.car, list(_family(person))
    shown_vin = car.vin
    if ctx.roll(LOWERCASE_VIN_SHARE):
        shown_vin = car.vin.lower()
        noise.append("lowercase_vin")
    name = person.name
    if person.id_type == "RIC" and ctx.roll(INSURANCE_TRADITIONAL_SHARE) and traditional(name) != name:
        name = traditional(name)
        noise.append("traditional_name")
    policy_no = f"{tables.INSURERS[insurer]}{start.year}{person.region.code[:2]}{ctx.serial('policy'):010d}"
    payload: dict[str, Any] = {
        "policyNo": policy_no, "vin": shown_vin, "plate": _insured_plate(ctx, car.plate, car.sold_on, start),
        "holderId": ctx.customer_id("insurance", person),
        "holder": {"name": name, "idType": _INSURANCE_ID_TYPE[person.id_type], "idNumber": person.id_number,
                   "mobile": f"+86{person.mobile}", "gender": {"male": "M", "female": "F"}.get(person.gender, "")},
        "insurer": insurer, "product": product, "startDate": start.isoformat(),
        "endDate": (_anniversary(start, 1) - timedelta(days=1)).isoformat(),
        "updatedAt": ctx.timestamp(start - timedelta(days=ctx.between(1, 25))),
    }  # fmt: skip
    defects = (*noise, *ctx.spoiler.spoil(payload, "insurance", "policies"))
    return GeneratedRecord("insurance", "policies", policy_no, payload, person.person_id, car.vin, defects)


def _insured_plate(ctx: Context, plate: str | None, sold_on: date, start: date) -> str | None:
    """The first policy of a new car is bought before registration: no plate yet. Otherwise 沪A·12345."""
    if plate is None or start <= sold_on + timedelta(days=3):
        return None
    separator = ctx.rng.choices(("·", " ", ""), (6, 2, 2))[0]
    return f"{plate[:2]}{separator}{plate[2:]}"
