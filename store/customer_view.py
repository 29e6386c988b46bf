"""Reads behind the customer and vehicle views: a golden record, its members and what each source says about them.

Each view is a handful of indexed queries, whatever the size of the store: the golden row by primary key,
its members by ``xref.golden_id``, everything the sources say about those members by
``canonical_record (source, party_key)``, and the golden vehicles of the VINs found by ``xref (entity_type,
entity_key)``. The views are shaped (and masked) in the API; here they are plain rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from store.batching import chunks
from store.tables import AttributeLineageRow, CanonicalRecordRow, GoldenRecordRow, XrefRow

MAX_REDIRECTS = 20  # merged_into chains are short; a longer one is a corrupt store, not a reason to loop


@dataclass(frozen=True)
class SourceFact:
    """One canonical record: what one source says, with where it came from."""

    id: int
    source: str
    entity_type: str
    entity_key: str
    body: dict[str, Any]
    updated_at: Any


@dataclass
class CustomerData:
    golden: GoldenRecordRow
    members: list[MemberLink]
    facts: list[SourceFact] = field(default_factory=list)  # relationships, consents, credit, policies, events
    vehicles: dict[str, GoldenRecordRow] = field(default_factory=dict)  # VIN → golden vehicle
    lineage: list[AttributeLineageRow] = field(default_factory=list)

    def of_type(self, entity_type: str) -> list[SourceFact]:
        return [f for f in self.facts if f.entity_type == entity_type]


def consent_statement(body: dict[str, Any]) -> tuple[str, datetime | None]:
    """What one consent record says and since when: ``withdrawn`` when its withdrawal is not older than its
    grant, else ``granted`` (the consent view and the recall look-up read consents the same way)."""
    granted, withdrawn = (
        datetime.fromisoformat(v) if v else None for v in (body.get("granted_at"), body.get("withdrawn_at"))
    )
    if withdrawn is not None and (granted is None or withdrawn >= granted):
        return "withdrawn", withdrawn
    return "granted", granted


def newer(since: datetime | None, held: datetime | None) -> bool:
    """Whether a statement dated ``since`` replaces one dated ``held`` (an undated one never does)."""
    return since is not None and (held is None or since > held)


def golden(session: Session, golden_id: str) -> GoldenRecordRow | None:
    return session.get(GoldenRecordRow, golden_id)


def survivor(session: Session, golden_id: str) -> str:
    """Follow ``merged_into`` from a retired id to the golden record that holds its members now."""
    current = golden_id
    for _ in range(MAX_REDIRECTS):
        into = session.scalar(select(GoldenRecordRow.merged_into).where(GoldenRecordRow.golden_id == current))
        if not into:
            return current
        current = into
    return current


def members(session: Session, golden_id: str) -> list[XrefRow]:
    stmt = select(XrefRow).where(XrefRow.golden_id == golden_id).order_by(XrefRow.source, XrefRow.entity_key)
    return list(session.scalars(stmt))


def facts_about(session: Session, parties: Collection[tuple[str, str]]) -> list[SourceFact]:
    """Every non-party canonical record whose party is one of ``parties`` ((source, key) pairs)."""
    c = CanonicalRecordRow
    out: list[SourceFact] = []
    for chunk in chunks(sorted(parties)):
        stmt = select(c.id, c.source, c.entity_type, c.entity_key, c.body, c.updated_at).where(
            tuple_(c.source, c.party_key).in_(chunk), c.entity_type != "party"
        )
        out.extend(SourceFact(*row) for row in session.execute(stmt))
    return out


def facts_by_id(session: Session, ids: Collection[int]) -> list[SourceFact]:
    c = CanonicalRecordRow
    out: list[SourceFact] = []
    for chunk in chunks(sorted(ids)):
        stmt = select(c.id, c.source, c.entity_type, c.entity_key, c.body, c.updated_at).where(
            c.id.in_(chunk)
        )
        out.extend(SourceFact(*row) for row in session.execute(stmt))
    return out


def golden_vehicles(session: Session, vins: Collection[str]) -> dict[str, GoldenRecordRow]:
    """VIN → its active golden vehicle (through any source's cross-reference; a VIN is one car)."""
    found: dict[str, GoldenRecordRow] = {}
    for chunk in chunks(sorted(set(vins))):
        stmt = (
            select(XrefRow.entity_key, GoldenRecordRow)
            .join(GoldenRecordRow, GoldenRecordRow.golden_id == XrefRow.golden_id)
            .where(XrefRow.entity_type == "vehicle", XrefRow.entity_key.in_(chunk))
        )
        for vin, row in session.execute(stmt):
            if row.status == "active":
                found.setdefault(vin, row)
    return found


def lineage(session: Session, golden_id: str) -> list[AttributeLineageRow]:
    stmt = select(AttributeLineageRow).where(AttributeLineageRow.golden_id == golden_id)
    return list(session.scalars(stmt.order_by(AttributeLineageRow.attribute)))


@dataclass(frozen=True)
class MemberLink:
    """A member record of a golden customer, as its cross-reference says."""

    source: str
    entity_key: str
    method: str
    match_weight: float | None
    linked_at: Any


def members_and_facts(session: Session, golden_id: str) -> tuple[list[MemberLink], list[SourceFact]]:
    """The members of ``golden_id`` and everything said about them, in one statement (the 360's hot path: a
    member with nothing said about it comes back once, with empty fact columns)."""
    c, x = CanonicalRecordRow, XrefRow
    stmt = (select(x.source, x.entity_key, x.method, x.match_weight, x.linked_at,
                   c.id, c.entity_type, c.entity_key, c.body, c.updated_at)
            .outerjoin(c, (c.source == x.source) & (c.party_key == x.entity_key) & (c.entity_type != "party"))
            .where(x.golden_id == golden_id, x.entity_type == "party")
            .order_by(x.source, x.entity_key))  # fmt: skip
    links: dict[tuple[str, str], MemberLink] = {}
    facts: list[SourceFact] = []
    for source, key, method, weight, linked_at, fact_id, kind, fact_key, body, updated_at in session.execute(
        stmt
    ):
        links.setdefault((source, key), MemberLink(source, key, method, weight, linked_at))
        if fact_id is not None:
            facts.append(SourceFact(fact_id, source, kind, fact_key, body, updated_at))
    return list(links.values()), facts


def customer(session: Session, row: GoldenRecordRow, *, with_lineage: bool = False) -> CustomerData:
    """Everything the customer view shows about the active golden customer ``row``."""
    links, facts = members_and_facts(session, row.golden_id)
    data = CustomerData(row, links, facts)
    vins = {f.body["vin"] for f in data.facts if f.body.get("vin")}
    data.vehicles = golden_vehicles(session, vins)
    if with_lineage:
        data.lineage = lineage(session, row.golden_id)
    return data


def parties_of(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(source, party key) → the golden customer that holds it now."""
    x = XrefRow
    out: dict[tuple[str, str], str] = {}
    for chunk in chunks(sorted(set(keys))):
        stmt = select(x.source, x.entity_key, x.golden_id).where(
            x.entity_type == "party", tuple_(x.source, x.entity_key).in_(chunk)
        )
        out.update({(s, k): g for s, k, g in session.execute(stmt)})
    return out


def goldens_of_records(session: Session, record_ids: Collection[int]) -> set[str]:
    """The golden customers holding these canonical party records (through their cross-references)."""
    c, x = CanonicalRecordRow, XrefRow
    found: set[str] = set()
    for chunk in chunks(sorted(set(record_ids))):
        stmt = (
            select(x.golden_id)
            .join(c, (c.source == x.source) & (c.entity_key == x.entity_key))
            .where(c.id.in_(chunk), c.entity_type == "party", x.entity_type == "party")
        )
        found.update(session.scalars(stmt))
    return found


def parties_of_vins(session: Session, record_ids: Collection[int]) -> set[tuple[str, str]]:
    """(source, party key) of the parties the VIN-bearing records ``record_ids`` are about."""
    c = CanonicalRecordRow
    out: set[tuple[str, str]] = set()
    for chunk in chunks(sorted(set(record_ids))):
        stmt = select(c.source, c.party_key).where(
            c.id.in_(chunk), c.party_key.is_not(None), c.entity_type != "vehicle"
        )
        out.update((s, k) for s, k in session.execute(stmt) if k is not None)
    return out


def active_goldens(session: Session, golden_ids: Collection[str]) -> list[GoldenRecordRow]:
    """The active golden records among ``golden_ids``, merged ones replaced by their survivors, by id."""
    rows: dict[str, GoldenRecordRow] = {}
    for chunk in chunks(sorted(set(golden_ids))):
        for row in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.golden_id.in_(chunk))):
            if row.status == "merged":
                row = golden(session, survivor(session, row.golden_id)) or row
            if row.status == "active":
                rows[row.golden_id] = row
    return [rows[k] for k in sorted(rows)]


def display_name(body: dict[str, Any]) -> str | None:
    """How a golden party is named in lists: the simplified name (a romanised one as received), or the company."""
    name = body.get("name") or {}
    return str(name.get("simplified") or name.get("raw") or body.get("organisation_name") or "") or None
