"""Look-up keys of canonical records: how the API finds a customer by mobile, e-mail, name or plate, and
everything a source says about a car by its VIN.

Keys are written with the canonical record (delete and re-insert, like the identifier hashes), in the form
the identifier rules produce, and a query is put through the same rules — so "138 0013 8000", "+86 138…" and
"0086138…" find the same customer, as do 張偉 and 张伟. ID numbers are not here: they are found by their
keyed hash in ``canonical_identifier`` and never stored in clear.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from canonical_model.entities.party import IdentifierType
from canonical_model.identifiers import mobile, plate, resident_id, uscc, vin
from canonical_model.identifiers.errors import InvalidIdentifier
from canonical_model.identifiers.masking import keyed_hash
from canonical_model.names import normalise_name, romanised_pinyin_keys, to_simplified
from store import customer_view as reads
from store.batching import one_of
from store.bulk import append_rows
from store.tables import CanonicalIdentifierRow, SearchKeyRow

KINDS = (
    "mobile",
    "email",
    "name",
    "pinyin",
    "organisation",
    "plate",
    "vin",
    "vin_partial",
    "plate_unresolved",
)
VIN_BEARING = ("vehicle", "vehicle_relationship", "insurance_policy", "service_event")


def keys_for(entity_type: str, body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, value) keys of one canonical body (pure: the migration backfill uses it too)."""
    keys: set[tuple[str, str]] = set()
    if entity_type == "party":
        for point in body.get("contact_points") or []:
            if point.get("kind") == "mobile" and point.get("mobile") and not point.get("is_placeholder"):
                keys.add(("mobile", str(point["mobile"])))
            if point.get("kind") == "email" and point.get("email"):
                keys.add(("email", str(point["email"]).lower()))
        name = body.get("name") or {}
        if name.get("simplified"):
            keys.add(("name", str(name["simplified"])))
        if name.get("pinyin"):
            keys.add(("pinyin", str(name["pinyin"]).replace(" ", "").lower()))
        if body.get("organisation_name"):
            keys.add(("organisation", to_simplified(str(body["organisation_name"]))))
    if entity_type in VIN_BEARING and body.get("vin"):
        keys.add(("vin", str(body["vin"])))
    elif entity_type == "service_event" and body.get("vin_partial"):
        keys.add(("vin_partial", str(body["vin_partial"])))  # found again by store/vin_partials.py
    elif entity_type == "service_event" and body.get("plate"):
        keys.add(("plate_unresolved", str(body["plate"])))  # a plate instead of a VIN: store/vin_partials.py
    for registration in body.get("plates") or []:
        if registration.get("plate"):
            keys.add(("plate", str(registration["plate"])))
    return {(kind, value[:320]) for kind, value in keys}


def reindex(
    session: Session, records: Mapping[int, tuple[str, Mapping[str, Any]]], *, new: Collection[int] = ()
) -> None:
    """Replace the keys of ``records`` (canonical id → (entity type, body)); those in ``new`` were just
    inserted and have none to remove (the delete is skipped: on a first load it is most of the writing)."""
    table = cast(Table, SearchKeyRow.__table__)
    for where in one_of(session, table.c.canonical_record_id, (r for r in records if r not in new)):
        session.execute(delete(table).where(where))
    rows = backfill_rows((record_id, entity_type, body) for record_id, (entity_type, body) in records.items())
    append_rows(session, table, rows)


def normalise_query(kind: str, text: str) -> str:
    """What a person typed, in the stored form; raises the identifier rule's error when it cannot be one."""
    if kind == "mobile":
        return mobile.validate(text)
    if kind == "plate":
        return plate.validate(text)
    if kind == "vin":
        return vin.validate(text)
    if kind == "email":
        return text.strip().lower()
    if kind == "name":
        return normalise_name(text).simplified
    if kind == "pinyin":
        return "".join(text.split()).lower()
    if kind == "organisation":
        return to_simplified(text.strip())
    raise ValueError(f"unknown search kind {kind!r}; one of {', '.join(KINDS)}")


def find(session: Session, kind: str, value: str, *, after_id: int = 0, limit: int = 1_000) -> list[int]:
    """Canonical record ids carrying the key, in id order from ``after_id`` on (a keyset cursor: the
    ``(kind, value)`` index finds the key, and a page never skips or repeats a record when others are added)."""
    k = SearchKeyRow
    stmt = (select(k.canonical_record_id).where(k.kind == kind, k.value == value, k.canonical_record_id > after_id)
            .order_by(k.canonical_record_id).limit(limit))  # fmt: skip
    return list(session.scalars(stmt))


def identifier_hashes(number: str, key: bytes) -> set[str]:
    """Keyed hashes an ID number may be stored under: as a resident ID (15 digits upgraded), a USCC, or as typed."""
    candidates = {"".join(number.split()).upper()}
    for rule in (resident_id.validate, uscc.validate):
        try:
            candidates.add(rule(number))
        except InvalidIdentifier:
            continue
    return {keyed_hash(candidate, key) for candidate in candidates}


def find_by_id_number(
    session: Session, number: str, key: bytes, *, after_id: int = 0, limit: int = 1_000
) -> list[int]:
    """Canonical record ids whose identifiers hash like ``number`` (typed in clear, never stored so)."""
    c = CanonicalIdentifierRow
    types = [t.value for t in IdentifierType]  # the index leads with the type
    stmt = (select(c.canonical_record_id).where(c.id_type.in_(types), c.value_hash.in_(identifier_hashes(number, key)),
                                                c.canonical_record_id > after_id)
            .order_by(c.canonical_record_id).limit(limit))  # fmt: skip
    return list(session.scalars(stmt))


def backfill_rows(records: Iterable[tuple[int, str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Key rows for (id, entity type, body) triples — the migration's backfill."""
    return [{"canonical_record_id": record_id, "kind": kind, "value": value}
            for record_id, entity_type, body in records for kind, value in keys_for(entity_type, body)]  # fmt: skip


SEARCH_KINDS = ("mobile", "email", "name", "pinyin", "organisation", "plate", "vin", "id_number")


def golden_ids_for(session: Session, kind: str, value: str, pii_key: bytes) -> set[str]:
    """Golden customer ids for one search criterion (merged ids still in it: ``active_goldens`` resolves them).

    A romanised name ("Wei Zhang") has no characters: its pinyin readings are searched. A plate or a VIN finds
    the car's parties (owners, drivers, policy holders); an ID number is matched by its keyed hash."""
    if kind == "id_number":
        return reads.goldens_of_records(session, find_by_id_number(session, value, pii_key))
    query = normalise_query(kind, value)
    if kind == "name" and not query:
        keys = romanised_pinyin_keys(value)
        return reads.goldens_of_records(
            session, sorted({r for k in keys for r in find(session, "pinyin", k)})
        )
    if kind not in ("plate", "vin"):
        return reads.goldens_of_records(session, find(session, kind, query))
    vins = {query} if kind == "vin" else {f.body["vin"] for f in reads.facts_by_id(session, find(session, "plate", query)) if f.body.get("vin")}  # fmt: skip
    records = [r for v in vins for r in find(session, "vin", v)]
    return set(reads.parties_of(session, sorted(reads.parties_of_vins(session, records))).values())
