"""The matcher's key index: one row per canonical party with its comparison columns, found by blocking key.

A full matching run rewrites it in bulk; the incremental matcher keeps it current one record at a time and
reads a new record's candidates through its indexes, so matching one DMS event costs a few index look-ups,
not a scan of tens of millions of parties. Term frequencies (how common a name or mobile is) are counted here
too, so an incremental match weighs 王伟 as weakly as the full run does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from store.batching import chunks, one_of, tuple_in
from store.matching_input import (  # a party's cars: the same records as in the full run
    EVIDENCE_ENTITIES,
    add_car,
)
from store.tables import (
    CanonicalRecordRow,
    PartyMatchKeyRow,
    PartyMatchVinRow,
    SharedIdentifierRow,
)

KEY_COLUMNS = (
    "source", "entity_key", "kind", "name_cn", "name_py", "surname_py", "given_py", "chinese_name", "title_form", "org_name", "org_place",
    "org_branch", "birth_date", "gender", "region", "city", "mobile", "email", "id_hash", "address_key", "mobile_head",
    "mobile_tail",
)  # fmt: skip
_BULK = 5_000


def _key_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c: row[c] for c in KEY_COLUMNS}
    out["record_id"] = int(row["unique_id"])
    out["vins"] = list(row["vins"] or [])
    out["vins_repaired"] = list(row.get("vins_repaired") or []) or None
    return out


def feature_row(key: PartyMatchKeyRow) -> dict[str, Any]:
    """A stored key row back in the matcher's feature-row shape (``matching.features.FEATURE_COLUMNS``)."""
    row: dict[str, Any] = {c: getattr(key, c) for c in KEY_COLUMNS}
    row["unique_id"] = key.record_id
    row["birth_year_month"] = key.birth_date[:7] if key.birth_date else None
    row["vins"] = list(key.vins) or None
    row["vins_repaired"] = list(key.vins_repaired or []) or None
    row["vins_sure"] = sure_vins(row["vins"], row["vins_repaired"])
    return row


def sure_vins(vins: Iterable[str] | None, repaired: Iterable[str] | None) -> list[str] | None:
    """The VINs some record of the party wrote right: a shared one is stronger evidence than one only repaired."""
    taken = set(repaired or ())
    return [v for v in vins or () if v not in taken] or None


def replace_all(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rewrite the whole index from a full run's feature rows (shared identifiers already withdrawn)."""
    session.execute(delete(PartyMatchVinRow))
    session.execute(delete(PartyMatchKeyRow))
    batch: list[dict[str, Any]] = []
    written = 0
    for row in rows:
        batch.append(_key_row(row))
        if len(batch) >= _BULK:
            written += _insert(session, batch)
            batch = []
    return written + _insert(session, batch)


def _insert(session: Session, batch: Sequence[dict[str, Any]]) -> int:
    if batch:
        session.execute(insert(PartyMatchKeyRow), list(batch))
        vins = [{"vin": v, "record_id": r["record_id"]} for r in batch for v in r["vins"]]
        if vins:
            session.execute(insert(PartyMatchVinRow), vins)
    return len(batch)


def upsert_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write these feature rows to the index, replacing what it held for their records: three statements for a
    micro-batch's rows, not three a row."""
    ids = sorted({int(r["unique_id"]) for r in rows})
    for table in (PartyMatchVinRow, PartyMatchKeyRow):
        for where in one_of(session, table.record_id, ids):
            session.execute(delete(table).where(where))
    latest = {int(r["unique_id"]): r for r in rows}  # a record twice in the batch: its last row
    for start in range(0, len(ids), _BULK):
        _insert(session, [_key_row(latest[i]) for i in ids[start : start + _BULK]])


def index_built(session: Session) -> bool:
    """True once a full run indexed the parties (or there are none to index)."""
    if session.scalar(select(PartyMatchKeyRow.record_id).limit(1)) is not None:
        return True
    return (
        session.scalar(
            select(CanonicalRecordRow.id).where(CanonicalRecordRow.entity_type == "party").limit(1)
        )
        is None
    )


def by_ids(session: Session, ids: Iterable[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for where in one_of(session, PartyMatchKeyRow.record_id, set(ids)):
        stmt = select(PartyMatchKeyRow).where(where)
        found.extend(feature_row(k) for k in session.scalars(stmt))
    return found


def candidates(
    session: Session, row: Mapping[str, Any], blocking_keys: Sequence[Sequence[str]], limit: int
) -> list[dict[str, Any]]:
    """Parties sharing any blocking key with ``row`` (``candidates_of`` for one record)."""
    return candidates_of(session, [row], blocking_keys, limit)[int(row["unique_id"])]


def candidates_of(
    session: Session, rows: Sequence[Mapping[str, Any]], blocking_keys: Sequence[Sequence[str]], limit: int
) -> dict[int, list[dict[str, Any]]]:
    """Each row's parties sharing any blocking key with it (the lowest ``limit`` record ids), for a whole batch.

    Each key is a group of columns that must all agree (``("vins",)`` means a shared car, through
    ``match_party_vin``). One narrow query per key for the batch, each an index probe per value, then one read
    of the rows found: the keys OR-ed into one ``ORDER BY … LIMIT`` statement per record made PostgreSQL walk
    the primary key and filter the whole index (~7 ms a record on 20 000 parties, growing with the store)."""
    found: dict[int, set[int]] = {int(r["unique_id"]): set() for r in rows}
    for key in blocking_keys:
        wanted: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for row in rows:
            if tuple(key) == ("vins",):
                for vin in row.get("vins") or ():
                    wanted[(vin,)].append(int(row["unique_id"]))
            elif all(row.get(column) for column in key):
                wanted[tuple(row[column] for column in key)].append(int(row["unique_id"]))
        for values, record_id in _sharing(session, tuple(key), sorted(wanted)):
            for uid in wanted[values]:
                found[uid].add(record_id)
    chosen = {uid: sorted(ids - {uid})[:limit] for uid, ids in found.items()}
    by_id = {r["unique_id"]: r for r in by_ids(session, {i for ids in chosen.values() for i in ids})}
    return {uid: [by_id[i] for i in ids if i in by_id] for uid, ids in chosen.items()}


def _sharing(
    session: Session, key: tuple[str, ...], values: Sequence[tuple[Any, ...]]
) -> Iterable[tuple[tuple[Any, ...], int]]:
    """(key values, record id) of every indexed party carrying one of ``values`` in the ``key`` columns."""
    if key == ("vins",):
        v = PartyMatchVinRow
        for where in one_of(session, v.vin, [value for (value,) in values]):
            for vin, record_id in session.execute(select(v.vin, v.record_id).where(where)):
                yield (vin,), int(record_id)
        return
    columns = [getattr(PartyMatchKeyRow, c) for c in key]
    conditions = (
        one_of(session, columns[0], [value for (value,) in values])
        if len(columns) == 1
        else tuple_in(session, columns, values)
    )
    for where in conditions:
        for found in session.execute(select(PartyMatchKeyRow.record_id, *columns).where(where)):
            yield tuple(found[1:]), int(found[0])


def indexed_with(session: Session, column: str) -> int:
    """How many indexed parties carry any value in ``column`` (the denominator of its term frequencies)."""
    attribute = getattr(PartyMatchKeyRow, column)
    return (
        session.scalar(select(func.count()).select_from(PartyMatchKeyRow).where(attribute.is_not(None))) or 0
    )


def term_frequencies(
    session: Session, column: str, values: Iterable[str | None], total: int
) -> dict[str, float]:
    """value → share of the ``total`` parties carrying a value that carry this one (Splink's term frequency)."""
    wanted = sorted({v for v in values if v})
    if not wanted:
        return {}
    attribute = getattr(PartyMatchKeyRow, column)
    counts: dict[str, int] = {
        value: count
        for where in one_of(session, attribute, wanted)
        for value, count in session.execute(select(attribute, func.count()).where(where).group_by(attribute))
    }
    denominator = max(total, 1)
    return {v: max(int(counts.get(v, 0)), 1) / denominator for v in wanted}


def carrying_bound(session: Session, column: str, value: str, limit: int = 1_000) -> list[dict[str, Any]]:
    """The indexed parties that carry a shared ``value`` bound to their name (``value~…``, matching.features)."""
    stmt = (
        select(PartyMatchKeyRow)
        .where(getattr(PartyMatchKeyRow, column).startswith(f"{value}~", autoescape=True))
        .limit(limit)
    )
    return [feature_row(k) for k in session.scalars(stmt)]


def carrying_any(
    session: Session, column: str, values: Iterable[str], limit: int = 1_000
) -> dict[str, list[dict[str, Any]]]:
    """value → the indexed parties whose ``column`` (mobile or e-mail) is that value (at most ``limit`` a value,
    the lowest record ids), for many values at once."""
    attribute = getattr(PartyMatchKeyRow, column)
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for where in one_of(session, attribute, values):
        ranked = (
            select(PartyMatchKeyRow, func.row_number().over(partition_by=attribute,
                   order_by=PartyMatchKeyRow.record_id).label("rank"))
            .where(where)
            .subquery()
        )  # fmt: skip
        key = aliased(PartyMatchKeyRow, ranked)
        for row in session.scalars(select(key).where(ranked.c.rank <= limit).order_by(ranked.c.record_id)):
            found[getattr(row, column)].append(feature_row(row))
    return found


def shared_among(session: Session, identifiers: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (kind, value) pairs of ``identifiers`` that are recorded as shared."""
    s = SharedIdentifierRow
    found: set[tuple[str, str]] = set()
    for where in tuple_in(session, (s.kind, s.value), identifiers):
        found.update((k, v) for k, v in session.execute(select(s.kind, s.value).where(where)))
    return found


def replace_shared(session: Session, items: Iterable[Mapping[str, Any]]) -> None:
    """A full run's list of shared identifiers replaces the last one (the data may have been cleaned since)."""
    session.execute(delete(SharedIdentifierRow))
    now = datetime.now(UTC)
    rows = [dict(item, found_at=now) for item in items]
    for chunk in chunks(rows, _BULK):
        session.execute(insert(SharedIdentifierRow), list(chunk))


def add_shared(
    session: Session, item: Mapping[str, Any], bound: Mapping[int, str | None] | None = None
) -> None:
    """A mobile/e-mail that just crossed the line: record it and withdraw it from every indexed party — each
    carrier in ``bound`` keeps what the matcher leaves of it (the value bound to its name), the rest lose it."""
    session.merge(SharedIdentifierRow(**item, found_at=datetime.now(UTC)))
    kind = str(item["kind"])
    # A withdrawn mobile takes its head and tail (near-typo blocking keys) with it.
    parts: dict[str, None] = {"mobile_head": None, "mobile_tail": None} if kind == "mobile" else {}
    if bound:  # one statement for all carriers (ORM bulk UPDATE by primary key), not one per carrier
        session.execute(
            update(PartyMatchKeyRow), [{"record_id": r, kind: value, **parts} for r, value in bound.items()]
        )
    column = getattr(PartyMatchKeyRow, kind)
    session.execute(update(PartyMatchKeyRow).where(column == item["value"]).values({column: None, **parts}))


def shared_identifiers(session: Session) -> list[SharedIdentifierRow]:
    stmt = select(SharedIdentifierRow).order_by(
        SharedIdentifierRow.names.desc(), SharedIdentifierRow.kind, SharedIdentifierRow.masked
    )
    return list(session.scalars(stmt))


def party_vins_of(
    session: Session, parties: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, bool]]:
    """The VINs each source links each party to — relationships and service visits — found by the party-key
    index, each with whether any of those records wrote it right (``store.matching_input.add_car``); many
    (source, party key) pairs in one query a chunk (a micro-batch's parties)."""
    c = CanonicalRecordRow
    cars: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    for where in tuple_in(session, (c.source, c.party_key), parties):
        stmt = select(c.source, c.party_key, c.body).where(c.entity_type.in_(EVIDENCE_ENTITIES), where)
        for source, party_key, body in session.execute(stmt.order_by(c.id)):
            if body.get("party_source_id") == party_key and body.get("vin"):
                add_car(cars[(source, party_key)], body)
    return cars


def changed_parties(session: Session, since: datetime | None) -> list[int]:
    """Parties written since ``since`` — directly, or through a new car relationship — in id order."""
    c = CanonicalRecordRow
    party_ids = select(c.id).where(c.entity_type == "party")
    relationships = select(c.source, c.body).where(c.entity_type.in_(EVIDENCE_ENTITIES))
    if since is not None:
        party_ids = party_ids.where(c.updated_at > since)
        relationships = relationships.where(c.updated_at > since)
    found = set(session.scalars(party_ids))
    keys = {
        (s, str(b["party_source_id"])) for s, b in session.execute(relationships) if b.get("party_source_id")
    }
    for chunk in chunks(sorted(keys)):
        stmt = select(c.id).where(c.entity_type == "party", tuple_(c.source, c.entity_key).in_(chunk))
        found.update(session.scalars(stmt))
    return sorted(found)
