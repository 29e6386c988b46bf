"""Golden records in the store: membership before a run, steward constraints, and writing a run's decisions.

Everything a matching run decides is written in one transaction — golden records, cross-references,
lineage, merge history, review queue and the change feed (which is also the outbox) — so a reader never
sees a half-applied run and the change feed never announces what was rolled back.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util.typing import TupleAny

from store import change_feed
from store.batching import chunks, one_of, tuple_in
from store.customer_view import members as xrefs_of
from store.tables import (
    GOLDEN_ENTITY_TYPES,  # noqa: F401 - named here by callers that look up xrefs
    AttributeLineageRow,
    CanonicalRecordRow,
    ChangeLogRow,
    GoldenRecordRow,
    MatchConstraintRow,
    MatchReviewRow,
    MatchRunRow,
    MergeHistoryRow,
    XrefRow,
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Member:
    record_id: int
    source: str
    entity_key: str
    method: str  # deterministic | probabilistic | manual | singleton
    match_weight: float | None = None


@dataclass(frozen=True)
class Lineage:
    attribute: str
    value: Any
    record_id: int
    source: str
    entity_key: str
    rule: str


@dataclass
class GoldenWrite:
    golden_id: str
    body: dict[str, Any]
    members: list[Member]
    lineage: list[Lineage] = field(default_factory=list)


@dataclass
class RunDecisions:
    entity_type: str
    goldens: list[GoldenWrite]
    retired: dict[str, str]  # golden id → the golden id it was merged into
    merges: list[tuple[str, dict[str, list[int]]]]
    splits: list[tuple[str, dict[str, list[int]]]]
    # Grey-band pairs (record l, record r, probability, weight) of a full run, which replace the open queue;
    # None for writes that did not rescan the grey band (a steward's decision, vehicles): the queue stays.
    review: list[tuple[int, int, float, float]] | None
    actor: str
    # The pairs (low id, high id) an incremental match rescanned: only their open review entries may close.
    # None: the run rescanned every pair (a full run).
    review_scope: frozenset[tuple[int, int]] | None = None


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0
    review_open: int = 0


def membership(
    session: Session, entity_type: str, golden_ids: Collection[str] | None = None
) -> tuple[dict[int, str], dict[str, int]]:
    """Record → golden id as the last run left it, and golden id → age rank (older first), for ties.

    All golden records of the type (a full run), or only ``golden_ids`` and their members (an incremental match).
    """
    x, g = XrefRow, GoldenRecordRow
    if golden_ids is None:
        rows = session.execute(
            select(x.canonical_record_id, x.golden_id).where(x.entity_type == entity_type)
        ).all()
        ages = list(session.scalars(select(g.golden_id).where(g.entity_type == entity_type).order_by(g.created_at, g.golden_id)))  # fmt: skip
    else:
        rows = [r for where in one_of(session, x.golden_id, golden_ids) for r in session.execute(
            select(x.canonical_record_id, x.golden_id).where(where))]  # fmt: skip
        created = [r for where in one_of(session, g.golden_id, golden_ids) for r in session.execute(
            select(g.created_at, g.golden_id).where(where))]  # fmt: skip
        ages = [golden_id for _, golden_id in sorted(created)]
    return {int(r): gid for r, gid in rows if r is not None}, {gid: n for n, gid in enumerate(ages)}


def ids_in_use(session: Session, golden_ids: Collection[str]) -> set[str]:
    """Which of ``golden_ids`` the store holds in any status: merged, erased and restricted ids are never reused."""
    g = GoldenRecordRow
    return {gid for where in one_of(session, g.golden_id, golden_ids) for gid in session.scalars(
        select(g.golden_id).where(where))}  # fmt: skip


def ids_in_use_by(sessions: sessionmaker[Session]) -> Callable[[Collection[str]], set[str]]:
    """``ids_in_use`` in a short read of its own, for a run that decides its ids outside a transaction."""

    def exists(golden_ids: Collection[str]) -> set[str]:
        with sessions() as session:
            return ids_in_use(session, golden_ids)

    return exists


def constraints(
    session: Session, entity_type: str, among: Collection[int] | None = None
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Active steward decisions: (must-links, cannot-links) as record-id pairs — all, or those ``among`` records."""
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    c = MatchConstraintRow
    stmt = select(c.kind, c.record_id_l, c.record_id_r).where(c.entity_type == entity_type, c.active)
    if among is not None:
        stmt = stmt.where(c.record_id_l.in_(sorted(among)), c.record_id_r.in_(sorted(among)))
    for kind, left, right in session.execute(stmt):
        (must if kind == "must_link" else cannot).append((left, right))
    return must, cannot


def add_constraint(session: Session, entity_type: str, kind: str, left: int, right: int, *, actor: str,
                   reason: str | None) -> None:  # fmt: skip
    left, right = min(left, right), max(left, right)
    session.execute(
        update(MatchConstraintRow)
        .where(MatchConstraintRow.entity_type == entity_type, MatchConstraintRow.record_id_l == left,
               MatchConstraintRow.record_id_r == right, MatchConstraintRow.active)
        .values(active=False)
    )  # fmt: skip  # a newer decision on the same pair replaces the older one
    session.add(MatchConstraintRow(entity_type=entity_type, kind=kind, record_id_l=left, record_id_r=right,
                                   actor=actor, reason=reason, created_at=_now()))  # fmt: skip


def start_match_run(session: Session, entity_type: str, mode: str, model_version: str) -> int:
    run = MatchRunRow(
        entity_type=entity_type, mode=mode, model_version=model_version, started_at=_now(), counts={}
    )
    session.add(run)
    session.flush()
    return run.id


def last_succeeded_run(session: Session, entity_type: str) -> dict[str, Any] | None:
    """The counts of the newest succeeded run of a type (where a run keeps its watermark), or None."""
    stmt = (select(MatchRunRow.counts).where(MatchRunRow.entity_type == entity_type, MatchRunRow.status == "succeeded")
            .order_by(MatchRunRow.started_at.desc(), MatchRunRow.id.desc()).limit(1))  # fmt: skip
    counts = session.scalar(stmt)
    return dict(counts) if counts is not None else None


def golden_vehicles_behind(session: Session) -> bool:
    """Whether the newest succeeded party run is newer than the newest succeeded vehicle build.

    A full match commits its customers and then builds the vehicles; a run killed between the two left golden
    customers and no (or stale) golden vehicles, so recalls found no car. The next run sees it here and builds
    every golden vehicle, not only those with new evidence.
    """

    def newest(entity_type: str) -> datetime | None:
        stmt = select(func.max(MatchRunRow.started_at)).where(
            MatchRunRow.entity_type == entity_type, MatchRunRow.status == "succeeded"
        )
        return session.scalar(stmt)

    parties, vehicles = newest("party"), newest("vehicle")
    return parties is not None and (vehicles is None or vehicles < parties)


def finish_match_run(session: Session, run_id: int, counts: dict[str, Any], error: str | None = None) -> None:
    session.execute(update(MatchRunRow).where(MatchRunRow.id == run_id).values(
        finished_at=_now(), counts=counts, status="failed" if error else "succeeded", error_message=error))  # fmt: skip


def record_change(
    session: Session, golden_id: str, entity_type: str, change: str, payload: dict[str, Any]
) -> None:
    change_feed.lock_for_append(session)
    session.add(ChangeLogRow(**_change(golden_id, entity_type, change, payload, _now())))


def _change(golden_id: str, kind: str, change: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "golden_id": golden_id, "entity_type": kind, "change_type": change,
            "payload": payload, "occurred_at": now, "publish_attempts": 0}  # fmt: skip


def _kept_status(status: str) -> str:
    """A rebuilt golden record is active again (after a merge, say) — unless a PIPL restriction holds it."""
    return "restricted" if status == "restricted" else "active"


def _bulk_insert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Many rows in a few executemany statements: a full run writes hundreds of thousands, which the ORM's
    object-per-row unit of work would take minutes to flush."""
    for chunk in chunks(rows, 5_000):
        session.execute(insert(model), list(chunk))


def _bulk_update(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Rows carrying their primary key: SQLAlchemy's bulk UPDATE by primary key (executemany)."""
    for chunk in chunks(rows, 5_000):
        session.execute(update(model), list(chunk))


def apply_decisions(session: Session, decisions: RunDecisions, run_id: int) -> WriteCounts:
    """Write golden records, xrefs, lineage, merges/splits, review pairs and change events for one run."""
    counts = WriteCounts()
    now, kind = _now(), decisions.entity_type
    session.flush()  # whatever the caller added goes first; from here on the writes are bulk statements
    g = GoldenRecordRow
    existing = {row.golden_id: row for where in one_of(session, g.golden_id, [w.golden_id for w in decisions.goldens])
                for row in session.execute(select(g.golden_id, g.body, g.status, g.version).where(where))}  # fmt: skip
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for golden in decisions.goldens:
        row = existing.get(golden.golden_id)
        if row is None:
            inserts.append({"golden_id": golden.golden_id, "entity_type": kind, "status": "active", "body": golden.body,
                            "version": 1, "created_at": now, "updated_at": now, "merged_into": None})  # fmt: skip
            changes.append(_change(golden.golden_id, kind, "created", {"version": 1}, now))
            counts.created += 1
        elif row.body != golden.body or row.status != _kept_status(row.status):
            status = _kept_status(row.status)
            updates.append({"golden_id": golden.golden_id, "body": golden.body, "status": status, "merged_into": None,
                            "version": row.version + 1, "updated_at": now})  # fmt: skip
            changes.append(_change(golden.golden_id, kind, "updated", {"version": row.version + 1}, now))
            counts.updated += 1
        else:
            counts.unchanged += 1
    _bulk_insert(session, GoldenRecordRow, inserts)
    _bulk_update(session, GoldenRecordRow, updates)
    _write_xrefs(session, kind, decisions.goldens, now)
    _write_lineage(session, decisions.goldens, now)
    retired = [{"golden_id": old, "status": "merged", "merged_into": into, "updated_at": now}
               for old, into in decisions.retired.items()]  # fmt: skip
    _bulk_update(session, GoldenRecordRow, retired)
    changes.extend(
        _change(old, kind, "merged", {"merged_into": into}, now) for old, into in decisions.retired.items()
    )
    counts.retired = len(retired)
    if changes:
        change_feed.lock_for_append(session)
    _bulk_insert(session, ChangeLogRow, changes)
    for survivor, before in decisions.merges:
        session.add(MergeHistoryRow(action="merge", entity_type=kind, golden_ids_before=sorted(before),
                                    golden_ids_after=[survivor], members_before=before,
                                    members_after={survivor: sorted(r for rs in before.values() for r in rs)},
                                    actor=decisions.actor, occurred_at=now))  # fmt: skip
    for old, after in decisions.splits:
        session.add(MergeHistoryRow(action="split", entity_type=kind, golden_ids_before=[old],
                                    golden_ids_after=sorted(after), members_before={old: sorted(r for rs in after.values() for r in rs)},
                                    members_after=after, actor=decisions.actor, occurred_at=now))  # fmt: skip
    if decisions.review is not None:
        counts.review_open = _write_review(session, kind, decisions.review, run_id, decisions.review_scope)
    return counts


def _write_xrefs(session: Session, kind: str, goldens: Sequence[GoldenWrite], now: datetime) -> None:
    """Upsert the members' cross-references, reading only their rows (by primary key), not the whole table."""
    x = XrefRow
    keys = [(m.source, m.entity_key) for g in goldens for m in g.members]
    stmt = select(x.source, x.entity_key, x.golden_id, x.method, x.match_weight).where(x.entity_type == kind)
    current = {(r.source, r.entity_key): r for r in _rows_by_key(session, stmt, keys)}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for golden in goldens:
        for m in golden.members:
            row = current.get((m.source, m.entity_key))
            wanted = {"source": m.source, "entity_type": kind, "entity_key": m.entity_key, "golden_id": golden.golden_id,
                      "canonical_record_id": m.record_id, "method": m.method, "match_weight": m.match_weight}  # fmt: skip
            if row is None:
                inserts.append(wanted | {"linked_at": now})
            elif (row.golden_id, row.method, row.match_weight) != (
                golden.golden_id,
                m.method,
                m.match_weight,
            ):
                updates.append(wanted | ({"linked_at": now} if row.golden_id != golden.golden_id else {}))
    _bulk_insert(session, XrefRow, inserts)
    moved = [u for u in updates if "linked_at" in u]  # executemany needs one set of columns per statement
    _bulk_update(session, XrefRow, moved)
    _bulk_update(session, XrefRow, [u for u in updates if "linked_at" not in u])


def _write_lineage(session: Session, goldens: Sequence[GoldenWrite], now: datetime) -> None:
    """Write the attributes whose lineage changed, one row each (``(golden_id, attribute)`` is unique); the
    others keep their row, and with it when the attribute was decided. Why per attribute: a customer who gains
    a record keeps most attributes from the same records, and replacing a golden record's whole lineage for one
    changed phone was most of what the follower inserted; a car re-built for one more visit changes none."""
    a = AttributeLineageRow
    held: dict[str, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    stmt = select(a.golden_id, a.attribute, a.value, a.canonical_record_id, a.source, a.entity_key, a.rule)
    for where in one_of(session, a.golden_id, [g.golden_id for g in goldens]):
        for golden_id, *fields in session.execute(stmt.where(where)):
            held[golden_id][fields[0]] = _lineage_key(*fields)
    stale: list[tuple[str, str]] = []
    rows: list[dict[str, Any]] = []
    for golden in goldens:
        had = held.get(golden.golden_id, {})
        wanted = {item.attribute: item for item in golden.lineage}
        stale.extend((golden.golden_id, attribute) for attribute in had if attribute not in wanted)
        for attribute, item in wanted.items():
            key = _lineage_key(
                attribute, {"value": item.value}, item.record_id, item.source, item.entity_key, item.rule
            )
            if had.get(attribute) == key:
                continue
            if attribute in had:
                stale.append((golden.golden_id, attribute))
            rows.append({"golden_id": golden.golden_id, "attribute": attribute, "value": {"value": item.value},
                         "canonical_record_id": item.record_id, "source": item.source, "entity_key": item.entity_key,
                         "rule": item.rule, "decided_at": now})  # fmt: skip
    for where in tuple_in(session, (a.golden_id, a.attribute), stale):  # no lineage object is in the session
        session.execute(delete(a).where(where).execution_options(synchronize_session=False))
    _bulk_insert(session, AttributeLineageRow, rows)


def _lineage_key(attribute: str, value: Any, record_id: int | None, source: str, entity_key: str,
                 rule: str) -> tuple[Any, ...]:  # fmt: skip
    """A lineage row as a comparable tuple: its value as canonical JSON (a list and a tuple read back alike)."""
    return attribute, json.dumps(value, sort_keys=True, default=str), record_id, source, entity_key, rule


def _write_review(
    session: Session,
    kind: str,
    pairs: Sequence[tuple[int, int, float, float]],
    run_id: int,
    scope: frozenset[tuple[int, int]] | None = None,
) -> int:
    """Open grey-band pairs the run found; pairs a steward already decided stay decided; open pairs the run
    rescanned (all of them, or ``scope``) and no longer found are marked gone."""
    stmt = select(MatchReviewRow).where(MatchReviewRow.entity_type == kind)
    if scope is not None:
        ids = sorted({i for pair in scope for i in pair} | {i for p in pairs for i in p[:2]})
        stmt = stmt.where(MatchReviewRow.record_id_l.in_(ids), MatchReviewRow.record_id_r.in_(ids))
    decided = {(r.record_id_l, r.record_id_r): r for r in session.scalars(stmt)}
    seen: set[tuple[int, int]] = set()
    for left, right, probability, weight in pairs:
        key = (min(left, right), max(left, right))
        seen.add(key)
        row = decided.get(key)
        if row is None:
            session.add(MatchReviewRow(entity_type=kind, record_id_l=key[0], record_id_r=key[1],
                                       match_probability=probability, match_weight=weight, found_in_run=run_id))  # fmt: skip
        elif row.status in ("open", "gone"):
            row.status, row.match_probability, row.match_weight = "open", probability, weight
    for key, row in decided.items():
        if key not in seen and row.status == "open" and (scope is None or key in scope):
            row.status = "gone"  # the data changed and the pair is no longer in the grey band
    return len(seen)


@dataclass(frozen=True)
class ReviewSide:
    record_id: int
    source: str
    entity_key: str
    golden_id: str | None
    description: str  # "source/key: name · masked mobile"


@dataclass(frozen=True)
class ReviewPair:
    id: int
    match_probability: float
    match_weight: float
    left: ReviewSide
    right: ReviewSide


def _describe(row: CanonicalRecordRow) -> str:
    body = row.body
    name = (body.get("name") or {}).get("raw") or body.get("organisation_name") or "?"
    mobile = next(
        (p.get("mobile") for p in body.get("contact_points") or [] if p.get("kind") == "mobile"), None
    )
    shown = f"{mobile[:6]}****{mobile[-4:]}" if mobile else "no mobile"
    return f"{row.source}/{row.entity_key}: {name} · {shown}"


def open_review(
    session: Session, entity_type: str, limit: int, *, after_id: int | None = None
) -> list[ReviewPair]:
    """Open grey-band pairs: most likely first, or — with ``after_id`` — in id order after it (API pages)."""
    stmt = select(MatchReviewRow).where(
        MatchReviewRow.entity_type == entity_type, MatchReviewRow.status == "open"
    )
    if after_id is None:
        stmt = stmt.order_by(MatchReviewRow.match_probability.desc())
    else:
        stmt = stmt.where(MatchReviewRow.id > after_id).order_by(MatchReviewRow.id)
    rows = session.scalars(stmt.limit(limit)).all()
    ids = {i for r in rows for i in (r.record_id_l, r.record_id_r)}
    records = {
        r.id: r for r in session.scalars(select(CanonicalRecordRow).where(CanonicalRecordRow.id.in_(ids)))
    }
    x = XrefRow
    golden = {(s, k): g for s, k, g in session.execute(select(x.source, x.entity_key, x.golden_id).where(
        x.entity_type == entity_type, x.canonical_record_id.in_(ids)))}  # fmt: skip

    def side(record_id: int) -> ReviewSide:
        r = records[record_id]
        return ReviewSide(
            record_id, r.source, r.entity_key, golden.get((r.source, r.entity_key)), _describe(r)
        )

    return [ReviewPair(r.id, r.match_probability, r.match_weight, side(r.record_id_l), side(r.record_id_r))
            for r in rows]  # fmt: skip


def golden_by_key(
    session: Session, entity_type: str, keys: Collection[tuple[str, str]] | None = None
) -> dict[tuple[str, str], str]:
    """(source, entity key) → golden id, as the last run left the cross-reference (all, or these ``keys``)."""
    x = XrefRow
    stmt = select(x.source, x.entity_key, x.golden_id).where(x.entity_type == entity_type)
    if keys is None:
        return {(s, k): g for s, k, g in session.execute(stmt)}
    return {(s, k): g for s, k, g in _rows_by_key(session, stmt, keys)}


def _rows_by_key(
    session: Session, stmt: Select[*TupleAny], keys: Collection[tuple[str, str]]
) -> Iterator[Row[*TupleAny]]:
    """``stmt``'s xref rows for these (source, entity key) pairs: a primary-key look-up per source."""
    by_source: dict[str, set[str]] = defaultdict(set)
    for source, key in keys:
        by_source[source].add(key)
    for source, wanted in sorted(by_source.items()):
        for where in one_of(session, XrefRow.entity_key, wanted):
            yield from session.execute(stmt.where(XrefRow.source == source, where))


def party_kinds(session: Session, golden_ids: Collection[str]) -> dict[str, str]:
    """golden id → person | organisation, for these golden customers."""
    kind = GoldenRecordRow.body["kind"].as_string()
    stmt = select(GoldenRecordRow.golden_id, kind).where(GoldenRecordRow.entity_type == "party")
    return {g: str(k) for where in one_of(session, GoldenRecordRow.golden_id, golden_ids)
            for g, k in session.execute(stmt.where(where)) if k}  # fmt: skip


def vehicle_owners(session: Session) -> dict[str, str | None]:
    """VIN → the golden customer each active golden vehicle names as its current owner."""
    stmt = select(GoldenRecordRow.body).where(
        GoldenRecordRow.entity_type == "vehicle", GoldenRecordRow.status == "active"
    )
    return {body["vin"]: body.get("current_owner") for body in session.scalars(stmt)}


# --- what stewards and explanations read and write (matching/steward.py, matching/explain.py) --------------------


def active_members(session: Session, golden_id: str, entity_type: str = "party") -> dict[int, XrefRow] | None:
    """An active golden record's member xrefs by canonical record id; None when it is not an active one."""
    row = session.get(GoldenRecordRow, golden_id)
    if row is None or row.entity_type != entity_type or row.status != "active":
        return None
    xrefs = session.scalars(select(XrefRow).where(XrefRow.golden_id == golden_id))
    return {x.canonical_record_id: x for x in xrefs if x.canonical_record_id is not None}


def release_constraints(session: Session, kind: str, among: Collection[int]) -> None:
    """Deactivate the active ``kind`` constraints between any two of ``among``: a steward decision that
    contradicts them (a merge of records kept apart, an unmerge of records kept together) replaces them."""
    c = MatchConstraintRow
    ids = set(among)
    session.execute(update(c).where(c.kind == kind, c.active, c.record_id_l.in_(ids), c.record_id_r.in_(ids))
                    .values(active=False))  # fmt: skip


def must_link_partners_of(session: Session, record_ids: Sequence[int]) -> set[int]:
    """The party records a steward's active must-link ties to any of ``record_ids`` (one query a chunk); the
    records asked about are in it only when tied to each other."""
    c = MatchConstraintRow
    found: set[int] = set()
    for chunk in chunks(sorted(set(record_ids))):
        stmt = select(c.record_id_l, c.record_id_r).where(
            c.entity_type == "party", c.kind == "must_link", c.active,
            c.record_id_l.in_(chunk) | c.record_id_r.in_(chunk),
        )  # fmt: skip
        asked = set(chunk)
        for left, right in session.execute(stmt):
            found.update(x for x, other in ((left, right), (right, left)) if other in asked)
    return found


def record_steward_decision(
    session: Session,
    action: str,
    before: dict[str, list[int]],
    after: dict[str, list[int]],
    *,
    actor: str,
    reason: str,
) -> None:
    """A steward's merge or unmerge in the merge history: the golden records and their members before and after."""
    session.add(MergeHistoryRow(action=action, entity_type="party", golden_ids_before=list(before),
                                golden_ids_after=list(after), members_before=before, members_after=after,
                                actor=actor, reason=reason, occurred_at=_now()))  # fmt: skip


def members_and_lineage(
    session: Session, golden_id: str
) -> tuple[list[tuple[str, str, float | None]], list[tuple[str, str, str]]]:
    """A golden record's members ("source/key", how linked, match weight) and each attribute's origin
    (attribute, "source/key", survivorship rule), in a stable order."""
    a = AttributeLineageRow
    members = [(f"{r.source}/{r.entity_key}", r.method, r.match_weight) for r in xrefs_of(session, golden_id)]
    attributes = [(r.attribute, f"{r.source}/{r.entity_key}", r.rule) for r in session.scalars(
        select(a).where(a.golden_id == golden_id).order_by(a.attribute))]  # fmt: skip
    return members, attributes
