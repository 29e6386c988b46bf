"""The event sources: dealer DMS messages (RabbitMQ) and customer-portal webhooks.

Dealers key customers by their own ids and type what the customer tells them, so the same person appears
under several ids, sometimes in pinyin and sometimes with the dealer's own phone. The portal is
self-service: names in traditional characters, phones with +86/0086, the cars a customer binds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sample_data import tables
from sample_data.noise import phone_as, pinyin_name, traditional
from sample_data.population import TODAY, Dealer, Ownership, Person, World
from sample_data.record import Context, GeneratedRecord

LEAD_BEFORE_PURCHASE = 0.7
LEAD_WITHOUT_PURCHASE = 0.6  # prospects who never buy are still real people
EXTRA_LEAD = 0.08
REPAIR_ELSEWHERE = 0.15
MAX_VISITS = 6
PLATE_KNOWN_AT_DELIVERY = 0.7
PINYIN_NAME, NAME_SPACING, DMS_PHONE_FORMAT, NO_GENDER = 0.17, 0.02, 0.10, 0.08
PORTAL_OWNER, PORTAL_PROSPECT = 0.55, 0.25
PORTAL_TRADITIONAL, PORTAL_ID_CARD, LOWERCASE_VIN_PORTAL = 0.25, 0.6, 0.05
PORTAL_FROM = date(2021, 1, 1)
_PORTAL_PHONES = (("plain", 70), ("0086 ", 10), ("+86-", 10), ("e164", 7), ("full_width", 3))
_GENDER_ZH = {"male": "男", "female": "女"}


# --- DMS ----------------------------------------------------------------------------------------------------


def dms(ctx: Context, world: World, person: Person) -> Iterator[GeneratedRecord]:
    """Leads, deliveries and repair orders; companies buy fleet cars direct and are not in the DMS."""
    if person.is_organisation:
        return
    for ownership in person.ownerships:
        if ownership.new:
            if ctx.roll(LEAD_BEFORE_PURCHASE):
                day = ownership.since - timedelta(days=ctx.between(7, 60))
                yield _lead(ctx, person, ownership.dealer, day, ownership.car.model.name)
            yield _delivery(ctx, person, ownership)
        yield from _repair_orders(ctx, world, person, ownership)
    if (not person.ownerships and ctx.roll(LEAD_WITHOUT_PURCHASE)) or ctx.roll(EXTRA_LEAD):
        day = ctx.day_between(TODAY - timedelta(days=720), TODAY - timedelta(days=1))
        yield _lead(ctx, person, world.dealer_near(person.region), day, ctx.rng.choice(tables.LEAD_MODELS))


def _customer(ctx: Context, person: Person, dealer: Dealer) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The dealer's customer record, typed once when the person first comes in and reused in every event."""
    link = ctx.dealer_link(person, dealer)
    if link is None:
        link = _new_dealer_link(ctx, person, dealer)
        ctx.remember_dealer_link(person, dealer, link)
    return dict(link["customer"]), link["noise"]


def _new_dealer_link(ctx: Context, person: Person, dealer: Dealer) -> dict[str, Any]:
    noise: list[str] = []
    name = person.name
    if person.id_type == "RIC" and ctx.roll(PINYIN_NAME):
        name = pinyin_name(name, ctx.rng)
        noise.append("pinyin_name")
    elif person.id_type == "RIC" and ctx.roll(NAME_SPACING):
        name = f"{name[:1]} {name[1:]}"
        noise.append("name_spacing")
    phone = person.mobile
    if ctx.roll(dealer.own_phone_share):
        phone = dealer.phone
        noise.append("dealer_phone")
    else:
        if person.shares_family_phone:
            noise.append("shared_family_phone")
        if ctx.roll(DMS_PHONE_FORMAT):
            phone = phone_as(phone, ctx.rng.choice(("spaced", "+86 spaced")))
            noise.append("phone_format")
    gender = "" if ctx.roll(NO_GENDER) else _GENDER_ZH.get(person.gender, "")
    customer = {"dms_customer_id": dealer.new_customer_id(), "name": name, "mobile": phone, "gender": gender}
    return {"customer": customer, "noise": tuple(noise)}


def _envelope(
    ctx: Context, event_type: str, dealer: Dealer, day: date, customer: dict[str, Any]
) -> dict[str, Any]:
    return {
        "message_id": ctx.uid(), "event_type": event_type, "dealer_code": dealer.code,
        "occurred_at": ctx.timestamp(day), "customer": customer,
    }  # fmt: skip


def _lead(ctx: Context, person: Person, dealer: Dealer, day: date, model: str) -> GeneratedRecord:
    customer, noise = _customer(ctx, person, dealer)
    payload = _envelope(ctx, "lead", dealer, day, customer)
    payload["lead"] = {
        "purchase_timeframe": ctx.rng.choice(tables.PURCHASE_TIMEFRAMES),
        "model_interest": model,
    }
    defects = (*noise, *ctx.spoiler.spoil(payload, "dms", "lead"))
    return GeneratedRecord("dms", "lead", payload["message_id"], payload, person.person_id, None, defects)


def _delivery(ctx: Context, person: Person, ownership: Ownership) -> GeneratedRecord:
    car, dealer = ownership.car, ownership.dealer
    customer, noise = _customer(ctx, person, dealer)
    payload = _envelope(ctx, "delivery", dealer, ownership.since, customer)
    plate = car.plate if ctx.roll(PLATE_KNOWN_AT_DELIVERY) else None
    payload["delivery"] = {"vin": car.vin, "plate": plate, "delivered_at": ownership.since.isoformat()}
    defects = (*noise, *ctx.spoiler.spoil(payload, "dms", "delivery"))
    return GeneratedRecord(
        "dms", "delivery", payload["message_id"], payload, person.person_id, car.vin, defects
    )


def _repair_orders(
    ctx: Context, world: World, person: Person, ownership: Ownership
) -> Iterator[GeneratedRecord]:
    """Service visits every five to thirteen months while the person owns the car."""
    car = ownership.car
    end = min(TODAY, ownership.until or TODAY)
    day = ownership.since + timedelta(days=ctx.between(120, 240))
    for _ in range(MAX_VISITS):
        if day >= end:
            return
        dealer = world.dealer_near(person.region) if ctx.roll(REPAIR_ELSEWHERE) else ownership.dealer
        yield _repair_order(ctx, person, dealer, car.vin, day, (day - car.sold_on).days * car.km_per_day)
        day += timedelta(days=ctx.between(150, 400))


def _repair_order(
    ctx: Context, person: Person, dealer: Dealer, vin: str, day: date, mileage: int
) -> GeneratedRecord:
    customer, noise = _customer(ctx, person, dealer)
    payload = _envelope(ctx, "repair_order", dealer, day, customer)
    safety = ctx.roll(tables.SAFETY_SHARE)
    work = ctx.rng.choice(tables.SAFETY_REPAIRS) if safety else ctx.rng.choice(tables.REPAIRS)[0]
    payload["repair_order"] = {
        "ro_number": dealer.new_repair_order_number(), "vin": vin, "mileage_km": mileage + ctx.between(0, 999),
        "work": work, "safety_fault": safety,
    }  # fmt: skip
    defects = (*noise, *ctx.spoiler.spoil(payload, "dms", "repair_order"))
    return GeneratedRecord(
        "dms", "repair_order", payload["message_id"], payload, person.person_id, vin, defects
    )


# --- portal -------------------------------------------------------------------------------------------------


def portal(ctx: Context, person: Person) -> Iterator[GeneratedRecord]:
    """About half the people register; owners bind their cars and send service requests."""
    if person.is_organisation or not ctx.roll(PORTAL_OWNER if person.ownerships else PORTAL_PROSPECT):
        return
    earliest = max([PORTAL_FROM, *(o.since for o in person.ownerships[:1])])
    registered = ctx.day_between(earliest, TODAY - timedelta(days=1))
    user_id = ctx.customer_id("portal", person)
    owned = person.owns_on(registered)
    yield _registration(ctx, person, user_id, registered, [o.car.vin for o in owned])
    for ownership in owned:
        for _ in range(ctx.rng.choice((0, 0, 1, 1, 2))):
            last = min(TODAY, ownership.until or TODAY)
            yield _service_request(ctx, person, user_id, ownership.car.vin, ctx.day_between(registered, last))


def _registration(ctx: Context, person: Person, user_id: str, day: date, vins: list[str]) -> GeneratedRecord:
    noise: list[str] = ["shared_family_phone"] if person.shares_family_phone else []
    name = person.name
    if person.id_type == "RIC" and ctx.roll(PORTAL_TRADITIONAL) and traditional(name) != name:
        name = traditional(name)
        noise.append("traditional_name")
    style = ctx.rng.choices([s for s, _ in _PORTAL_PHONES], [w for _, w in _PORTAL_PHONES])[0]
    if style != "plain":
        noise.append("phone_format")
    registered_at = ctx.timestamp(day)
    payload: dict[str, Any] = {
        "event_id": ctx.uid(), "user_id": user_id, "real_name": name, "mobile": phone_as(person.mobile, style),
        "email": person.email or "",
        "id_card": person.id_number if person.id_type == "RIC" and ctx.roll(PORTAL_ID_CARD) else "",
        "registered_at": registered_at, "consents": _consents(ctx, registered_at), "bound_vins": vins,
    }  # fmt: skip
    defects = (*noise, *ctx.spoiler.spoil(payload, "portal", "registrations"))
    return GeneratedRecord(
        "portal", "registrations", payload["event_id"], payload, person.person_id, None, defects
    )


def _consents(ctx: Context, at: str) -> list[dict[str, Any]]:
    return [
        {
            "purpose": purpose,
            "channel": ctx.rng.choice(tables.CONSENT_CHANNELS),
            "granted": ctx.roll(0.75),
            "at": at,
        }
        for purpose in tables.CONSENT_PURPOSES
        if ctx.roll(0.7)
    ]


def _service_request(ctx: Context, person: Person, user_id: str, vin: str, day: date) -> GeneratedRecord:
    shown_vin, noise = (vin.lower(), ("lowercase_vin",)) if ctx.roll(LOWERCASE_VIN_PORTAL) else (vin, ())
    request_type, description = ctx.rng.choice(tables.SERVICE_REQUESTS)
    payload: dict[str, Any] = {
        "event_id": ctx.uid(), "user_id": user_id, "vin": shown_vin, "request_type": request_type,
        "description": description, "created_at": ctx.timestamp(day),
    }  # fmt: skip
    defects = (*noise, *ctx.spoiler.spoil(payload, "portal", "service_requests"))
    return GeneratedRecord(
        "portal", "service_requests", payload["event_id"], payload, person.person_id, vin, defects
    )
