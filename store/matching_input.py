"""What golden matching reads from the store: canonical parties, and which cars each party is linked to.

Streamed in id order with a bounded fetch size, so a store of tens of millions of records is read without
holding its rows twice; the matching room turns them into feature rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.batching import chunks, one_of, tuple_in
from store.dialect import json_text
from store.tables import CanonicalRecordRow, ChangeLogRow, SearchKeyRow, XrefRow


@dataclass(frozen=True)
class PartyRecord:
    record_id: int
    source: str
    entity_key: str
    body: dict[str, Any]
    updated_at: datetime


def iter_parties(
    session: Session, *, after_id: int = 0, ids: list[int] | None = None
) -> Iterator[PartyRecord]:
    stmt = (
        select(CanonicalRecordRow.id, CanonicalRecordRow.source, CanonicalRecordRow.entity_key,
               CanonicalRecordRow.body, CanonicalRecordRow.updated_at)
        .where(CanonicalRecordRow.entity_type == "party", CanonicalRecordRow.id > after_id)
        .order_by(CanonicalRecordRow.id)
    )  # fmt: skip
    if ids is not None:
        stmt = stmt.where(CanonicalRecordRow.id.in_(ids))
    for row in session.execute(stmt.execution_options(yield_per=5_000)):
        yield PartyRecord(row.id, row.source, row.entity_key, row.body, row.updated_at)


# What says who had a car: relationships (sold to, delivered to, insured by), and service visits (weak).
EVIDENCE_ENTITIES = ("vehicle_relationship", "service_event")
VISIT_EVENTS = ("repair_order", "service_request")
# The role each visit gives its customer in the ownership evidence (matching/ownership.yaml says how it counts):
# a car brought in for repair was in the customer's hands; a request or a call about it says who asked.
VISIT_ROLES = {"repair_order": "service_customer", "service_request": "service_requester"}


def party_vehicle_links(session: Session) -> dict[tuple[str, str], dict[str, bool]]:
    """(source, party key) → the VINs the source links that party to (bought, delivered, insured, registered,
    brought for service), each with whether any of those records wrote it right (``add_car``)."""
    links: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    stmt = select(CanonicalRecordRow.source, CanonicalRecordRow.body).where(
        CanonicalRecordRow.entity_type.in_(EVIDENCE_ENTITIES)
    )
    for source, body in session.execute(stmt.execution_options(yield_per=5_000)):
        party, vin = body.get("party_source_id"), body.get("vin")
        if party and vin:
            add_car(links[(source, str(party))], body)
    return links


def party_dealers(
    session: Session, parties: Iterable[tuple[str, str]] | None = None
) -> dict[tuple[str, str], set[str]]:
    """(source, party key) → the dealer codes of the service events naming that party (a lead, a delivery, a
    repair order at the dealer), from any source: where a number many customers share was typed. Of ``parties``
    only, or of every party."""
    c = CanonicalRecordRow
    dealer = func.upper(json_text(session.get_bind().dialect.name, c.body, "dealer_code"))
    stmt = select(c.source, c.party_key, dealer).where(
        c.entity_type == "service_event", c.party_key.is_not(None), dealer.is_not(None)
    ).distinct()  # fmt: skip
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    wheres = [None] if parties is None else list(tuple_in(session, (c.source, c.party_key), parties))
    for where in wheres:
        for source, party, code in session.execute(stmt if where is None else stmt.where(where)):
            found[(source, party)].add(code)
    return found


def add_car(cars: dict[str, bool], body: dict[str, Any]) -> None:
    """Count a record's VIN among a party's cars: written right if any of the party's records wrote it so."""
    vin = str(body["vin"])
    cars[vin] = cars.get(vin, False) or written_right(body)


def written_right(body: dict[str, Any]) -> bool:
    """Was the record's VIN written as it is, not repaired (an O read as 0, a partial or a plate resolved to the
    one car)? A repair is safe but not certain: the VIN it gives is weaker evidence that two customers had one car.
    """
    return "vin" not in (body.get("repaired") or {})


# What only the maker's own records say of a car: where and when it was built, and who bought it first.
PRODUCTION_FACTS = ("production_date", "plant_code")
FIRST_SALE = "first_purchaser"


def maker_records_present(session: Session) -> bool:
    """Does the store hold the maker's record of cars built or sold (a production date, a plant, a first sale)?

    Only then can a VIN be called unknown to the maker: a store fed by dealers and insurers alone knows of no
    car the maker built, and flagging all of them would say nothing.
    """
    c = CanonicalRecordRow
    dialect = session.get_bind().dialect.name
    built = select(c.id).where(c.entity_type == "vehicle")
    for fact in PRODUCTION_FACTS:
        found = built.where(json_text(dialect, c.body, fact).is_not(None)).limit(1)
        if session.scalar(found) is not None:
            return True
    sold = select(c.id).where(
        c.entity_type == "vehicle_relationship", json_text(dialect, c.body, "role") == FIRST_SALE
    )
    return session.scalar(sold.limit(1)) is not None


@dataclass(frozen=True)
class VehicleRecord:
    record_id: int
    source: str
    vin: str
    body: dict[str, Any]


def iter_vehicles(session: Session, vins: Collection[str] | None = None) -> Iterator[VehicleRecord]:
    """Every canonical vehicle record (a full build), or those of ``vins`` (a refresh)."""
    c = CanonicalRecordRow
    stmt = select(c.id, c.source, c.entity_key, c.body).where(c.entity_type == "vehicle").order_by(c.id)
    if vins is None:
        for row in session.execute(stmt.execution_options(yield_per=5_000)):
            yield VehicleRecord(row.id, row.source, row.entity_key, row.body)
        return
    for where in one_of(session, c.entity_key, vins):
        for row in session.execute(stmt.where(where)):
            yield VehicleRecord(row.id, row.source, row.entity_key, row.body)


@dataclass(frozen=True)
class Relationship:
    source: str
    party_key: str
    vin: str
    role: str
    valid_from: str | None
    valid_to: str | None


# The body fields ownership evidence is made of: read as text, not the whole body (a repair order's lines and
# parts are most of it, and a car with years of visits is read again each time one more arrives).
EVIDENCE_FIELDS = ("vin", "party_source_id", "role", "valid_from", "valid_to", "event_type", "occurred_at")


def _relationship(source: str, fields: dict[str, Any]) -> Relationship | None:
    if not (fields.get("vin") and fields.get("party_source_id")):
        return None
    return Relationship(source, str(fields["party_source_id"]), str(fields["vin"]), str(fields.get("role") or ""),
                        fields.get("valid_from"), fields.get("valid_to"))  # fmt: skip


def relationships_by_vin(
    session: Session, vins: Collection[str] | None = None
) -> dict[str, list[Relationship]]:
    """VIN → every source's party-vehicle relationship (sold to, delivered to, insured by, registered by);
    all of them, or those of ``vins`` (found through the VIN search keys, which index every VIN-bearing record)."""
    found: dict[str, list[Relationship]] = defaultdict(list)
    c, k = CanonicalRecordRow, SearchKeyRow
    dialect = session.get_bind().dialect.name
    read = [json_text(dialect, c.body, name).label(name) for name in EVIDENCE_FIELDS]
    stmt = select(c.source, c.entity_type, *read).where(c.entity_type.in_(EVIDENCE_ENTITIES))
    if vins is None:
        rows: Iterable[Any] = session.execute(stmt.execution_options(yield_per=5_000))
    else:
        keyed = stmt.join(k, k.canonical_record_id == c.id).where(k.kind == "vin")
        rows = (
            row for where in one_of(session, k.value, vins) for row in session.execute(keyed.where(where))
        )
    for source, entity_type, *values in rows:
        fields = dict(zip(EVIDENCE_FIELDS, values, strict=True))
        relationship = (
            _relationship(source, fields) if entity_type == "vehicle_relationship" else _visit(source, fields)
        )
        if relationship is not None:
            found[relationship.vin].append(relationship)
    return found


def _visit(source: str, fields: dict[str, Any]) -> Relationship | None:
    """A repair order or a service visit as weak ownership evidence: its customer had the car that day."""
    if fields.get("event_type") not in VISIT_EVENTS or not (
        fields.get("vin") and fields.get("party_source_id")
    ):
        return None
    day = str(fields.get("occurred_at") or "")[:10] or None
    role = VISIT_ROLES[str(fields["event_type"])]
    return Relationship(source, str(fields["party_source_id"]), str(fields["vin"]), role, day, None)


def feed_position(session: Session) -> int:
    """The change feed's last sequence number: party changes after it are news to the next vehicle refresh."""
    return int(session.scalar(select(func.max(ChangeLogRow.seq))) or 0)


def vins_with_new_evidence(session: Session, since: datetime, after_seq: int) -> set[str]:
    """The VINs whose golden vehicle may read differently than at ``since`` / feed position ``after_seq``.

    Three ways a car's golden record goes stale: a vehicle record changed (definition, plate), a relationship
    naming it changed (a sale, a delivery, a policy — a resale is one of these), or a customer it names changed
    golden record (merged, unmerged, re-matched), which the change feed announces.
    """
    return vins_written_since(session, since) | vins_of_moved_customers(session, after_seq)


def vins_written_since(session: Session, since: datetime) -> set[str]:
    """The VINs of the vehicle records and the evidence (relationships, visits) written since ``since``."""
    c = CanonicalRecordRow
    vin = json_text(session.get_bind().dialect.name, c.body, "vin")
    vins: set[str] = set(
        session.scalars(select(c.entity_key).where(c.entity_type == "vehicle", c.updated_at >= since))
    )
    changed = select(vin).where(c.entity_type.in_(EVIDENCE_ENTITIES), c.updated_at >= since, vin.is_not(None))
    vins.update(str(v) for v in session.scalars(changed) if v)
    return vins


def vins_of_moved_customers(session: Session, after_seq: int) -> set[str]:
    """The VINs that the members of the golden customers the change feed announced after ``after_seq`` name
    in their evidence: a car's owner is a golden customer, read afresh when that customer changed."""
    c, x, f = CanonicalRecordRow, XrefRow, ChangeLogRow
    vin = json_text(session.get_bind().dialect.name, c.body, "vin")
    goldens = set(session.scalars(select(f.golden_id).where(f.seq > after_seq, f.entity_type == "party")))
    members: set[tuple[str, str]] = set()
    for where in one_of(session, x.golden_id, goldens):
        stmt_members = select(x.source, x.entity_key).where(where, x.entity_type == "party")
        members.update((source, key) for source, key in session.execute(stmt_members))
    vins: set[str] = set()
    for pairs in tuple_in(session, (c.source, c.party_key), members):
        stmt = select(vin).where(c.entity_type.in_(EVIDENCE_ENTITIES), pairs, vin.is_not(None))
        vins.update(str(v) for v in session.scalars(stmt) if v)
    return vins


def contact_numbers(session: Session, golden_ids: Collection[str]) -> dict[str, frozenset[str]]:
    """golden customer → every mobile and landline its member records carry (placeholders left out).

    Why all members and not the golden record's chosen number: whether a person seen with a company's car
    calls from one of the company's numbers is a question about any number the company has ever given.
    """
    c, x = CanonicalRecordRow, XrefRow
    stmt = (
        select(x.golden_id, c.body)
        .join(c, (c.source == x.source) & (c.entity_type == x.entity_type) & (c.entity_key == x.entity_key))
        .where(x.entity_type == "party")
    )
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(sorted(set(golden_ids))):
        for golden_id, body in session.execute(stmt.where(x.golden_id.in_(chunk))):
            found[golden_id] |= _numbers(body)
    return {golden_id: frozenset(numbers) for golden_id, numbers in found.items()}


def _numbers(body: dict[str, Any]) -> set[str]:
    return {str(point[kind]) for point in body.get("contact_points") or []
            if (kind := point.get("kind")) in ("mobile", "landline") and point.get(kind)
            and not point.get("is_placeholder")}  # fmt: skip
