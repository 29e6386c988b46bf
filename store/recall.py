"""Which cars a recall campaign covers and who owns each of them today.

The owner is the golden vehicle's current owner — the newest party in its ownership timeline, so a resale
moves the notice to the buyer — followed through any merge since the vehicle was built (a steward may have
merged the owner into another golden customer). A restricted customer (PIPL erasure under legal hold) is
still returned: keeping the data for exactly this duty is why it was held.

Criteria are applied to golden vehicle bodies while reading them in golden-id order, so a campaign over
millions of cars streams page by page in constant memory.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.batching import chunks
from store.customer_view import consent_statement, facts_about, golden_vehicles, newer, survivor
from store.tables import GoldenRecordRow, XrefRow

SCAN_BATCH = 2_000


@dataclass(frozen=True)
class Criteria:
    """Empty lists mean "any"; a campaign names at least one criterion (checked by the API)."""

    wmi: Sequence[str] = ()
    models: Sequence[str] = ()
    model_years: Sequence[int] = ()
    plants: Sequence[str] = ()
    produced_from: date | None = None
    produced_to: date | None = None

    def matches(self, body: dict[str, Any]) -> bool:
        definition = body.get("definition") or {}
        produced = body.get("production_date")
        return (
            (not self.wmi or body["vin"][:3] in self.wmi)
            and (not self.models or definition.get("model") in self.models)
            and (not self.model_years or definition.get("model_year") in self.model_years)
            and (not self.plants or body.get("plant_code") in self.plants)
            and (
                self.produced_from is None
                or (produced is not None and produced >= self.produced_from.isoformat())
            )
            and (
                self.produced_to is None
                or (produced is not None and produced <= self.produced_to.isoformat())
            )
        )


@dataclass
class Affected:
    vehicle: GoldenRecordRow
    owner: GoldenRecordRow | None  # None: no owner known (no sale recorded, or the owner was erased)
    owner_since: str | None = None
    previous_owners: int = 0


@dataclass
class Campaign:
    affected: list[Affected]
    not_found: list[str] = field(default_factory=list)  # valid VINs the hub holds no vehicle for
    last_key: str | None = None  # criteria scans: the golden id to continue after


def _scan(
    session: Session, criteria: Criteria, after: str, limit: int
) -> tuple[list[GoldenRecordRow], str | None]:
    g = GoldenRecordRow
    found: list[GoldenRecordRow] = []
    cursor = after
    while len(found) < limit:
        batch = session.scalars(select(g).where(g.entity_type == "vehicle", g.status == "active", g.golden_id > cursor)
                                .order_by(g.golden_id).limit(SCAN_BATCH)).all()  # fmt: skip
        if not batch:
            return found, None
        for row in batch:
            cursor = row.golden_id
            if criteria.matches(row.body):
                found.append(row)
                if len(found) == limit:
                    return found, cursor
    return found, cursor


def _with_owners(session: Session, vehicles: Sequence[GoldenRecordRow]) -> list[Affected]:
    owner_ids = {v.body.get("current_owner") for v in vehicles} - {None}
    owners: dict[str, GoldenRecordRow] = {}
    for chunk in chunks(sorted(i for i in owner_ids if i and not i.startswith("unmatched:"))):
        owners.update({r.golden_id: r for r in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.golden_id.in_(chunk)))})  # fmt: skip
    out: list[Affected] = []
    for vehicle in vehicles:
        owner = owners.get(vehicle.body.get("current_owner") or "")
        if owner is not None and owner.status == "merged":
            owner = session.get(GoldenRecordRow, survivor(session, owner.golden_id))
        if owner is not None and owner.status == "erased":
            owner = None
        timeline = vehicle.body.get("ownership") or []
        out.append(
            Affected(
                vehicle, owner, timeline[-1].get("from") if timeline else None, max(len(timeline) - 1, 0)
            )
        )
    return out


def by_vins(session: Session, vins: Sequence[str]) -> Campaign:
    found = golden_vehicles(session, vins)
    ordered = [found[v] for v in dict.fromkeys(vins) if v in found]
    return Campaign(_with_owners(session, ordered), [v for v in dict.fromkeys(vins) if v not in found])


def by_criteria(session: Session, criteria: Criteria, *, after: str = "", limit: int = 500) -> Campaign:
    vehicles, last = _scan(session, criteria, after, limit)
    return Campaign(_with_owners(session, vehicles), last_key=last)


def all_by_criteria(session: Session, criteria: Criteria) -> Iterator[Affected]:
    """Every affected car, page after page (the CSV export)."""
    after = ""
    while True:
        campaign = by_criteria(session, criteria, after=after, limit=SCAN_BATCH)
        yield from campaign.affected
        if campaign.last_key is None:
            return
        after = campaign.last_key


def marketing_consent(session: Session, owner_ids: Collection[str]) -> dict[str, str]:
    """Golden customer → ``granted`` or ``withdrawn``: the newest marketing statement of any of its records."""
    members: dict[tuple[str, str], str] = {}
    for chunk in chunks(sorted(owner_ids)):
        stmt = select(XrefRow.source, XrefRow.entity_key, XrefRow.golden_id).where(
            XrefRow.entity_type == "party", XrefRow.golden_id.in_(chunk)
        )
        members.update({(s, k): g for s, k, g in session.execute(stmt)})
    newest: dict[str, tuple[str, datetime | None]] = {}  # golden id → (status, since)
    for fact in facts_about(session, members):
        if fact.entity_type != "consent" or fact.body.get("purpose") != "marketing":
            continue
        status, since = consent_statement(fact.body)
        owner = members[(fact.source, fact.body.get("party_source_id", ""))]
        if owner not in newest or newer(since, newest[owner][1]):
            newest[owner] = (status, since)
    return {owner: status for owner, (status, _) in newest.items()}
