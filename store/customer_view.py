"""Reads behind the customer and vehicle views: a golden record, its members and what each source says about them.

Each view is a handful of indexed queries, whatever the size of the store: the golden row by primary key,
its members by ``xref.golden_id``, everything the sources say about those members by
``canonical_record (source, party_key)``, and the golden vehicles of the VINs found by ``xref (entity_type,
entity_key)``. The views are shaped (and masked) in the API; here they are plain rows.

The customer 360 is the API's hottest read: on PostgreSQL its queries run as one statement that returns the
golden row with its members, facts and vehicles aggregated as JSON (one round trip, one snapshot, one JSON
decoding); on SQLite the same rows come from three statements.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Select, String, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from store.batching import chunks
from store.tables import (
    GOLDEN_ENTITY_TYPES,
    AttributeLineageRow,
    CanonicalRecordRow,
    GoldenRecordRow,
    XrefRow,
)

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


@dataclass(frozen=True)
class GoldenSnapshot:
    """A golden row as PostgreSQL's one-statement 360 read it: the columns of ``GoldenRecordRow``, not tracked
    by a session (read-only, and a tenth of the cost of building an ORM instance)."""

    golden_id: str
    entity_type: str
    status: str
    merged_into: str | None
    body: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


Golden = GoldenRecordRow | GoldenSnapshot


@dataclass
class CustomerData:
    golden: Golden
    members: list[MemberLink]
    facts: list[SourceFact] = field(default_factory=list)  # relationships, consents, credit, policies, events
    vehicles: dict[str, Golden] = field(default_factory=dict)  # VIN → golden vehicle
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


def xref_links(session: Session, source: str, source_id: str) -> list[XrefLinkRow]:
    """The golden records a source record belongs to (a party, a car), each with the golden id current now.

    One statement, each entity type a probe of the xref primary key, the golden row joined for its
    ``merged_into``: a retired id — rare — is followed to its survivor, a current one costs no second query. It
    runs on the session's connection: plain columns need none of the ORM's result handling, which cost as much
    CPU as the statement's round trip (py-spy, 300 requests/s)."""
    x, g = XrefRow, GoldenRecordRow
    rows = session.connection().execute(
        select(x.entity_type, x.golden_id, x.method, x.match_weight, x.linked_at, g.merged_into)
        .join(g, g.golden_id == x.golden_id)
        .where(x.source == source, x.entity_type.in_(GOLDEN_ENTITY_TYPES), x.entity_key == source_id)
        .order_by(x.entity_type)
    ).all()  # fmt: skip
    return [XrefLinkRow(r.entity_type, survivor(session, r.golden_id) if r.merged_into else r.golden_id,
                        r.method, r.match_weight, r.linked_at) for r in rows]  # fmt: skip


@dataclass(frozen=True)
class XrefLinkRow:
    entity_type: str
    golden_id: str  # current: a retired id is followed to its survivor
    method: str
    match_weight: float | None
    linked_at: datetime


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
    """The members of ``golden_id`` and everything said about them, in one statement (a member with nothing
    said about it comes back once, with empty fact columns); facts in id order, so that ties in the view's
    sorting fall the same way on every backend."""
    c, x = CanonicalRecordRow, XrefRow
    stmt = (select(x.source, x.entity_key, x.method, x.match_weight, x.linked_at,
                   c.id, c.entity_type, c.entity_key, c.body, c.updated_at)
            .outerjoin(c, (c.source == x.source) & (c.party_key == x.entity_key) & (c.entity_type != "party"))
            .where(x.golden_id == golden_id, x.entity_type == "party")
            .order_by(x.source, x.entity_key, c.id))  # fmt: skip
    return _members_and_facts_of(session.execute(stmt), lambda at: at)


def _members_and_facts_of(
    rows: Iterable[Sequence[Any]], when: Callable[[Any], datetime]
) -> tuple[list[MemberLink], list[SourceFact]]:
    """Members and facts from the joined rows (one per member and fact, a member without facts once with empty
    fact columns) — as the generic read returns them, or as the PostgreSQL 360 decodes them from JSON, whose
    timestamps ``when`` turns into datetimes."""
    links: dict[tuple[str, str], MemberLink] = {}
    facts: list[SourceFact] = []
    for source, key, method, weight, linked_at, fact_id, kind, fact_key, body, updated_at in rows:
        if (source, key) not in links:
            links[source, key] = MemberLink(
                source, key, method, None if weight is None else float(weight), when(linked_at)
            )
        if fact_id is not None:
            facts.append(SourceFact(fact_id, source, kind, fact_key, body, when(updated_at)))
    return list(links.values()), facts


def customer(session: Session, row: GoldenRecordRow, *, with_lineage: bool = False) -> CustomerData:
    """Everything the customer view shows about the active golden customer ``row``."""
    links, facts = members_and_facts(session, row.golden_id)
    data = CustomerData(row, links, facts)
    vins = {f.body["vin"] for f in data.facts if f.body.get("vin")}
    data.vehicles.update(golden_vehicles(session, vins))
    if with_lineage:
        data.lineage = lineage(session, row.golden_id)
    return data


def shows_360(row: Golden) -> bool:
    """Whether ``GET /v1/customers/{id}`` shows this golden record (a merged one redirects, an erased one is
    gone, a vehicle is not a customer)."""
    return row.entity_type == "party" and row.status not in ("merged", "erased")


def customer_360(session: Session, golden_id: str, *, with_lineage: bool = False) -> CustomerData | None:
    """The golden record ``golden_id`` (None if unknown) and, if the 360 shows it, everything the view shows.

    On PostgreSQL in one statement (see ``_PG_360``); elsewhere the golden row by primary key, then
    ``customer()``. Either way the members, facts and vehicles are the same, in the same order (tested on both);
    on PostgreSQL the golden rows are ``GoldenSnapshot``s, elsewhere the session's ``GoldenRecordRow``s.
    """
    if session.get_bind().dialect.name == "postgresql":
        data = _customer_360_postgres(session, golden_id)
    else:
        row = golden(session, golden_id)
        data = None if row is None else customer(session, row) if shows_360(row) else CustomerData(row, [])
    if data is not None and with_lineage and shows_360(data.golden):
        data.lineage = lineage(session, golden_id)
    return data


_SNAPSHOT = tuple(f.name for f in fields(GoldenSnapshot))  # the golden_record columns the statement reads


def _pg_360_statement() -> Select[Any]:
    """The golden row, its members with every fact (``members``) and the golden vehicles of those facts' VINs
    (``vehicles``), each aggregated as a JSON array of arrays.

    Built once: the members and facts are ``members_and_facts()``'s join, the vehicles ``golden_vehicles()``'s
    (an active golden vehicle per VIN, several rows when several sources cross-reference the VIN; the first,
    by source, is taken). JSON keeps the 10–40 fact bodies as one document, decoded once, instead of a row and
    a JSON decoding each.
    """
    x, c = XrefRow.__table__.alias("x"), CanonicalRecordRow.__table__.alias("c")
    vx, vg = XrefRow.__table__.alias("vx"), GoldenRecordRow.__table__.alias("vg")
    g = GoldenRecordRow.__table__
    golden_id = bindparam("golden_id", type_=String)
    m = (select(x.c.source, x.c.entity_key.label("member_key"), x.c.method, x.c.match_weight, x.c.linked_at,
                c.c.id, c.c.entity_type, c.c.entity_key, c.c.body, c.c.updated_at)
         .outerjoin(c, (c.c.source == x.c.source) & (c.c.party_key == x.c.entity_key) & (c.c.entity_type != "party"))
         .where(x.c.golden_id == golden_id, x.c.entity_type == "party")
         .cte("m"))  # fmt: skip
    vin = m.c.body["vin"].as_string()
    v = (select(vx.c.entity_key.label("vin"), vx.c.source, *vg.c)
         .join(vg, vg.c.golden_id == vx.c.golden_id)
         .where(vx.c.entity_type == "vehicle", vg.c.status == "active",
                vx.c.entity_key.in_(select(vin).where(vin != "")))
         .cte("v"))  # fmt: skip
    members = select(
        func.json_agg(
            aggregate_order_by(func.json_build_array(*m.c), m.c.source, m.c.member_key, m.c.id), type_=JSON
        )
    ).scalar_subquery()
    vehicle = func.json_build_array(v.c.vin, *(v.c[name] for name in _SNAPSHOT))
    vehicles = select(
        func.json_agg(aggregate_order_by(vehicle, v.c.vin, v.c.source), type_=JSON)
    ).scalar_subquery()
    return select(
        *(g.c[name] for name in _SNAPSHOT), members.label("members"), vehicles.label("vehicles")
    ).where(g.c.golden_id == golden_id)


_PG_360 = _pg_360_statement()


def _customer_360_postgres(session: Session, golden_id: str) -> CustomerData | None:
    found = session.connection().execute(_PG_360, {"golden_id": golden_id}).one_or_none()
    if found is None:
        return None
    values = found._mapping
    row = GoldenSnapshot(*(values[name] for name in _SNAPSHOT))
    if not shows_360(row):
        return CustomerData(row, [])
    links, facts = _members_and_facts_of(values["members"] or [], _utc)
    data = CustomerData(row, links, facts)
    for vin, *golden_values in values["vehicles"] or []:
        if vin not in data.vehicles:
            data.vehicles[vin] = _golden_from_json(golden_values)
    return data


def _utc(value: str) -> datetime:
    """A timestamp as PostgreSQL writes it into JSON (ISO 8601 with the session's offset), in UTC as the
    store's ``UtcDateTime`` columns give it."""
    return datetime.fromisoformat(value).astimezone(UTC)


def _golden_from_json(values: list[Any]) -> GoldenSnapshot:
    golden_id, entity_type, status, merged_into, body, version, created_at, updated_at = values
    return GoldenSnapshot(golden_id, entity_type, status, merged_into, body, version, _utc(created_at),
                          _utc(updated_at))  # fmt: skip


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
