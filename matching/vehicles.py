"""Golden vehicles: one per VIN, with its definition, plate history and ownership timeline, current owner resolved.

A VIN is the car's identity (validated, normalised), so vehicles link deterministically; the work is in what
is said about the car. The ownership timeline is built from every source's party-vehicle relationship — ERP
sales (first purchaser), DMS deliveries (owner), insurance policies (policy holder), portal registrations
and repair-order customers (weak: they reveal a resale, see ownership.yaml) — with each party replaced by its
golden customer. Evidence is ordered by date; consecutive evidence for the same customer is one period; a
different customer later on is a change of hands (a resale), and the customer of the newest strong evidence
is the current owner — the person a recall notice goes to — unless weak evidence shows the car changed hands
since.

A VIN whose check digit passes may still name no car the maker built (two characters mistyped, a grey import):
when the store holds the maker's own records (production facts, first sales), a golden vehicle none of whose
records comes from them is flagged ``known_to_maker: false`` — kept, with its owner, for a steward to look at,
never passed off as one of the maker's cars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from matching.golden_ids import assign_golden_ids, minting
from matching.ownership import Evidence, load_rules, ownership_timeline
from store import golden as store_golden
from store.golden import GoldenWrite, Lineage, Member, RunDecisions
from store.matching_input import (
    FIRST_SALE,
    PRODUCTION_FACTS,
    Relationship,
    VehicleRecord,
    contact_numbers,
    feed_position,
    iter_vehicles,
    maker_records_present,
    relationships_by_vin,
    vins_with_new_evidence,
)

log = structlog.get_logger(__name__)

ATTRIBUTE_SOURCES = (
    "erp",
    "insurance",
    "dms",
    "portal",
)  # the ERP built the car: it knows its definition best
ATTRIBUTES = ("definition", "production_date", "plant_code", "colour")


def _plates(members: Sequence[VehicleRecord]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for record in members:
        for plate in record.body.get("plates") or []:
            value = plate.get("plate")
            if value and (
                value not in seen or (plate.get("valid_from") or "") < (seen[value].get("valid_from") or "")
            ):
                seen[value] = {"plate": value, "valid_from": plate.get("valid_from"), "source": record.source}
    return sorted(seen.values(), key=lambda p: p.get("valid_from") or "")


def golden_vehicle(
    vin: str,
    members: Sequence[VehicleRecord],
    relations: Sequence[Relationship],
    party_golden: dict[tuple[str, str], str],
    kind_of: dict[str, str] | None = None,
    numbers: Mapping[str, frozenset[str]] | None = None,
    known: bool | None = None,
) -> tuple[dict[str, Any], list[Lineage]]:
    """``known``: whether the maker's own records name the car (``known_to_maker``); None where the store holds
    none of the maker's records to judge by."""
    rank = {s: n for n, s in enumerate(ATTRIBUTE_SOURCES)}
    ordered = sorted(members, key=lambda m: (rank.get(m.source, len(rank)), m.record_id))
    body: dict[str, Any] = {"vin": vin}
    lineage: list[Lineage] = []
    for attribute in ATTRIBUTES:
        for record in ordered:
            value = record.body.get(attribute)
            if value not in (None, "", {}, []):
                body[attribute] = value
                lineage.append(
                    Lineage(attribute, value, record.record_id, record.source, record.vin, "source_rank")
                )
                break
    body["plates"] = _plates(members)
    rules = load_rules()
    evidence = [Evidence(party_golden.get((r.source, r.party_key)), r.source, r.party_key, r.role, r.valid_from or "")
                for r in relations if rules.strength(r.source, r.role)]  # fmt: skip
    # A party with no golden record (its record was quarantined) cannot be told apart from the matched ones,
    # so it only speaks when nothing else does; stewards see it listed.
    matched = [e for e in evidence if e.golden_id]
    plates = [(str(p["plate"]), p.get("valid_from")) for p in body["plates"]]
    timeline = ownership_timeline(matched or evidence, rules, kind_of, plates, numbers)
    body["ownership"] = timeline
    if matched and len(matched) < len(evidence):
        body["unresolved_owner_records"] = sorted(
            {f"{e.source}/{e.party_key}" for e in evidence if not e.golden_id}
        )
    body["current_owner"] = timeline[-1]["owner"] if timeline else None
    body["sources"] = sorted({m.source for m in members})
    if known is not None:
        body["known_to_maker"] = known
        if not known:
            body["flags"] = [UNKNOWN_TO_MAKER]
    return body, lineage


UNKNOWN_TO_MAKER = "vin_unknown_to_maker"


def known_to_maker(members: Sequence[VehicleRecord], relations: Sequence[Relationship]) -> bool:
    """Did the maker build or sell this car, by its own records: a production date or plant, or a first sale?"""
    return any(m.body.get(fact) for m in members for fact in PRODUCTION_FACTS) or any(
        r.role == FIRST_SALE for r in relations
    )


def _on_fleet_cars(
    relations: Mapping[str, Sequence[Relationship]], party_golden: dict[tuple[str, str], str],
    kind_of: dict[str, str],
) -> set[str]:  # fmt: skip
    """The customers seen with a car a company has had: only there does the number a person calls from
    tell a buyer from one of the company's drivers (matching/ownership.yaml, own_number_days)."""
    wanted: set[str] = set()
    for items in relations.values():
        goldens = {g for r in items if (g := party_golden.get((r.source, r.party_key)))}
        if any(kind_of.get(g) == "organisation" for g in goldens):
            wanted |= goldens
    return wanted


def build_golden_vehicles(
    sessions: sessionmaker[Session],
    *,
    actor: str = "matching run",
    on_step: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """One golden vehicle per VIN; run after party matching (owners are golden customers)."""
    return _build(sessions, None, actor=actor, step=on_step or (lambda _: None))


def refresh_golden_vehicles(
    sessions: sessionmaker[Session],
    *,
    actor: str = "incremental matching",
    on_step: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Rebuild only the golden vehicles whose evidence changed since the last vehicle run.

    Why: a resale lands as one DMS delivery or one insurance policy, and a recall must name the new owner the
    same day — not after the weekly full run. Changed vehicle records and relationships are found by their
    ``updated_at``, customers that changed golden record through the change feed (its position is kept with
    each run). Each car is rebuilt exactly as a full run builds it. Without a watermark (no vehicle run yet, or
    one from before watermarks were kept) it is the full build.
    """
    step = on_step or (lambda _: None)
    with sessions() as session:
        last = store_golden.last_succeeded_run(session, "vehicle")
        mark = (last or {}).get("watermark")
        if not mark:
            return _build(sessions, None, actor=actor, step=step)
        step("finding cars with new evidence")
        vins = vins_with_new_evidence(session, datetime.fromisoformat(mark["since"]), int(mark["feed_seq"]))
    return _build(sessions, vins, actor=actor, step=step)


def rebuild_golden_vehicles(
    sessions: sessionmaker[Session], vins: set[str] | None, *, actor: str,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, int]:  # fmt: skip
    """The golden vehicles of ``vins`` (all of them for None), built as a full run builds each car.

    For a caller that knows which cars changed (the follower: the cars its batch named), where the refresh's
    ``updated_at`` watermark could miss a loader's transaction that straddled it."""
    return _build(sessions, vins, actor=actor, step=on_step or (lambda _: None))


def _build(
    sessions: sessionmaker[Session], vins: set[str] | None, *, actor: str, step: Callable[[str], None]
) -> dict[str, int]:
    """All golden vehicles (``vins`` None), or those of ``vins``; the run keeps the watermark the next
    refresh starts from, taken before anything is read so that nothing written meanwhile is missed."""
    step("reading vehicles")
    with sessions() as session:
        watermark = {"since": datetime.now(UTC).isoformat(), "feed_seq": feed_position(session)}
        by_vin: dict[str, list[VehicleRecord]] = defaultdict(list)
        for record in iter_vehicles(session, vins):
            by_vin[record.vin].append(record)
        relations = relationships_by_vin(session, vins)
        owners = None if vins is None else {(r.source, r.party_key) for rs in relations.values() for r in rs}
        party_golden = store_golden.golden_by_key(session, "party", owners)
        kind_of = store_golden.party_kinds(session, set(party_golden.values()))
        numbers = contact_numbers(session, _on_fleet_cars(relations, party_golden, kind_of))
        known = {vin: known_to_maker(records, relations.get(vin, [])) for vin, records in by_vin.items()}
        # A car the maker's records name shows the store holds them; the store is asked (a scan where it holds
        # none) only when some car is unknown
        judged = all(known.values()) or maker_records_present(session)
        if vins is None:
            previous, ages = store_golden.membership(session, "vehicle")
        else:
            keys = {(r.source, r.vin) for records in by_vin.values() for r in records}
            held = set(store_golden.golden_by_key(session, "vehicle", keys).values())
            previous, ages = store_golden.membership(session, "vehicle", held)
    clusters = {
        min(r.record_id for r in records): {r.record_id for r in records} for records in by_vin.values()
    }
    key_of = {r.record_id: (r.source, r.vin) for records in by_vin.values() for r in records}
    assignment = assign_golden_ids(clusters, previous, age=ages, new_ids=minting(
        "vehicle", key_of.__getitem__, store_golden.ids_in_use_by(sessions)))  # fmt: skip
    step("building golden vehicles")
    goldens = []
    for vin, records in by_vin.items():
        body, lineage = golden_vehicle(vin, records, relations.get(vin, []), party_golden, kind_of, numbers,
                                       known[vin] if judged else None)  # fmt: skip
        golden_id = assignment.golden_of[min(r.record_id for r in records)]
        members = [Member(r.record_id, r.source, r.vin, "deterministic" if len(records) > 1 else "singleton")
                   for r in records]  # fmt: skip
        goldens.append(GoldenWrite(golden_id, body, members, lineage))
    decisions = RunDecisions(
        "vehicle", goldens, assignment.retired, assignment.merges, assignment.splits, None, actor
    )  # vehicles link by VIN: there is no grey band to review
    step("writing golden vehicles")
    with sessions.begin() as session:
        run_id = store_golden.start_match_run(
            session, "vehicle", "full" if vins is None else "incremental", "vin-v1"
        )
        written = store_golden.apply_decisions(session, decisions, run_id)
        counts = {"vehicles": len(goldens), "created": written.created, "updated": written.updated,
                  "unchanged": written.unchanged,
                  "resold": sum(1 for g in goldens if len(g.body["ownership"]) > 1),
                  "unknown_to_maker": sum(1 for g in goldens if g.body.get("known_to_maker") is False)}  # fmt: skip
        store_golden.finish_match_run(session, run_id, {**counts, "watermark": watermark})
    log.info("golden vehicles built" if vins is None else "golden vehicles refreshed", **counts)
    return counts
