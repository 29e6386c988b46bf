"""What golden matching reads from the store: canonical parties, and which cars each party is linked to.

Streamed in id order with a bounded fetch size, so a store of tens of millions of records is read without
holding its rows twice; the matching room turns them into feature rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.tables import CanonicalRecordRow


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


def party_vehicle_links(session: Session) -> dict[tuple[str, str], set[str]]:
    """(source, party key) → VINs the source links that party to (bought, delivered, insured, registered)."""
    links: dict[tuple[str, str], set[str]] = defaultdict(set)
    stmt = select(CanonicalRecordRow.source, CanonicalRecordRow.body).where(
        CanonicalRecordRow.entity_type == "vehicle_relationship"
    )
    for source, body in session.execute(stmt.execution_options(yield_per=5_000)):
        party, vin = body.get("party_source_id"), body.get("vin")
        if party and vin:
            links[(source, str(party))].add(str(vin))
    return links


@dataclass(frozen=True)
class VehicleRecord:
    record_id: int
    source: str
    vin: str
    body: dict[str, Any]


def iter_vehicles(session: Session) -> Iterator[VehicleRecord]:
    stmt = (
        select(
            CanonicalRecordRow.id,
            CanonicalRecordRow.source,
            CanonicalRecordRow.entity_key,
            CanonicalRecordRow.body,
        )
        .where(CanonicalRecordRow.entity_type == "vehicle")
        .order_by(CanonicalRecordRow.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=5_000)):
        yield VehicleRecord(row.id, row.source, row.entity_key, row.body)


@dataclass(frozen=True)
class Relationship:
    source: str
    party_key: str
    vin: str
    role: str
    valid_from: str | None
    valid_to: str | None


def relationships_by_vin(session: Session) -> dict[str, list[Relationship]]:
    """VIN → every source's party-vehicle relationship (sold to, delivered to, insured by, registered by)."""
    found: dict[str, list[Relationship]] = defaultdict(list)
    stmt = select(CanonicalRecordRow.source, CanonicalRecordRow.body).where(
        CanonicalRecordRow.entity_type == "vehicle_relationship"
    )
    for source, body in session.execute(stmt.execution_options(yield_per=5_000)):
        if body.get("vin") and body.get("party_source_id"):
            found[str(body["vin"])].append(Relationship(source, str(body["party_source_id"]), str(body["vin"]),
                                                        str(body.get("role") or ""), body.get("valid_from"),
                                                        body.get("valid_to")))  # fmt: skip
    return found
