"""Partial VINs resolved to the car they name: a dealer typed the last 6–8 characters into a repair order.

A partial is resolved only when exactly one known vehicle's VIN ends so — then the service event gets the
full VIN, keeps the partial beside it and says how it was found (``repaired.vin``). An ambiguous partial, or
one no known vehicle ends with, stays as it is (searchable as ``vin_partial``) and is tried again on the next
run, when the ERP may have delivered the car. Run before matching, so the resolved visits count as evidence.

A plate given instead of the VIN (a hotline caller names his car by its plate) is resolved the same way, to the
one known vehicle that has carried it; a plate two cars have carried (plates are issued again) is left as it is.
A resolved VIN is weaker evidence than one written right (matching.features: ``vins_repaired``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import search_keys
from store.batching import chunks
from store.tables import CanonicalRecordRow, SearchKeyRow

_RESOLVED_HOW = "partial: the only known vehicle whose VIN ends so"
_PLATE_HOW = "plate: the only known vehicle that carried it"


@dataclass
class PartialVinReport:
    resolved: int = 0
    ambiguous: int = 0  # two or more known vehicles end so: left for a steward, never guessed
    unknown: int = 0  # no known vehicle ends so (yet)
    examples_ambiguous: list[str] = field(default_factory=list)
    # Plates given instead of a VIN (a hotline caller's, a quick-service desk's), resolved the same way
    plates_resolved: int = 0
    plates_ambiguous: int = 0
    plates_unknown: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"resolved": self.resolved, "ambiguous": self.ambiguous, "unknown": self.unknown,
                "plates_resolved": self.plates_resolved, "plates_ambiguous": self.plates_ambiguous,
                "plates_unknown": self.plates_unknown}  # fmt: skip


def _vehicles_ending(session: Session, partials: set[str]) -> dict[str, set[str]]:
    """partial → the known VINs ending with it, one query per length and chunk of partials."""
    c = CanonicalRecordRow
    found: dict[str, set[str]] = defaultdict(set)
    by_length: dict[int, list[str]] = defaultdict(list)
    for partial in partials:
        by_length[len(partial)].append(partial)
    for length, values in by_length.items():
        tail = func.substr(c.entity_key, 18 - length, length)  # VINs are 17 characters; substr is 1-based
        for chunk in chunks(sorted(values)):
            stmt = select(c.entity_key, tail).where(c.entity_type == "vehicle", tail.in_(chunk)).distinct()
            for vin_value, ending in session.execute(stmt):
                found[str(ending)].add(str(vin_value))
    return found


def _vehicles_with_plates(session: Session, plates: set[str]) -> dict[str, set[str]]:
    """plate → the known VINs whose vehicle records carry it (its plate history)."""
    k, c = SearchKeyRow, CanonicalRecordRow
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in chunks(sorted(plates)):
        stmt = (
            select(k.value, c.entity_key)
            .join(c, c.id == k.canonical_record_id)
            .where(k.kind == "plate", k.value.in_(chunk), c.entity_type == "vehicle")
            .distinct()
        )
        for plate, vin_value in session.execute(stmt):
            found[str(plate)].add(str(vin_value))
    return found


def resolve_partial_vins(session: Session) -> PartialVinReport:
    """Give every unresolved partial VIN — and every plate given instead of a VIN — its full VIN where exactly one
    known vehicle ends so (carried that plate); commit."""
    changed: dict[int, tuple[str, dict[str, object]]] = {}
    partials = _resolve(session, "vin_partial", _vehicles_ending, _RESOLVED_HOW, changed)
    plates = _resolve(session, "plate_unresolved", _vehicles_with_plates, _PLATE_HOW, changed)
    if changed:
        search_keys.reindex(session, changed)
    session.commit()
    return PartialVinReport(resolved=partials.resolved, ambiguous=partials.ambiguous, unknown=partials.unknown,
                            examples_ambiguous=partials.examples + plates.examples, plates_resolved=plates.resolved,
                            plates_ambiguous=plates.ambiguous, plates_unknown=plates.unknown)  # fmt: skip


@dataclass
class _Tally:
    resolved: int = 0
    ambiguous: int = 0
    unknown: int = 0
    examples: list[str] = field(default_factory=list)


def _resolve(
    session: Session, kind: str, known: Callable[[Session, set[str]], dict[str, set[str]]], how: str,
    changed: dict[int, tuple[str, dict[str, object]]],
) -> _Tally:  # fmt: skip
    """Resolve the pending search keys of ``kind`` through ``known`` (value → the VINs it may name); the rows it
    changes go into ``changed`` for one reindex."""
    tally = _Tally()
    k, c = SearchKeyRow, CanonicalRecordRow
    pending = dict(session.execute(select(k.canonical_record_id, k.value).where(k.kind == kind)).all())
    if not pending:
        return tally
    matches = known(session, set(pending.values()))
    now = datetime.now(UTC)
    for ids in chunks(sorted(pending)):
        for row in session.scalars(select(c).where(c.id.in_(ids))):
            written = pending[row.id]
            candidates = matches.get(written, set())
            if len(candidates) != 1:
                if candidates:
                    tally.ambiguous += 1
                    if len(tally.examples) < 5:
                        tally.examples.append(
                            f"{row.source}/{row.entity_key}: {written} → {len(candidates)} cars"
                        )
                else:
                    tally.unknown += 1
                continue
            body = dict(row.body)
            body["vin"] = next(iter(candidates))
            body["repaired"] = {**(body.get("repaired") or {}), "vin": f"{written} ({how})"}
            row.body, row.updated_at = body, now  # a new evidence link: the next incremental run sees it
            changed[row.id] = (row.entity_type, body)
            tally.resolved += 1
    return tally
