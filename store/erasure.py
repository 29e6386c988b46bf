"""PIPL erasure requests: erase a customer everywhere the hub holds them — or, under a legal hold, restrict them.

The recall regulation (Order 626, Art. 9) makes the maker keep first-sale owner records for at least ten
years; PIPL Art. 47 turns a deletion that such a duty forbids into "store only, no other processing". So:

- **restricted** when any member record is a car's first purchaser within the last ten years: the golden
  record stays (the recall look-up still finds the owner), is masked for every caller, leaves search, and
  matching keeps its status;
- **erased** otherwise: the member records, everything they said (relationships, consents, credit, policies,
  service events), their identifier hashes, search and match keys, and the raw payloads they came from are
  deleted or blanked; the golden id stays as a tombstone answering 410, so nobody re-uses it.

Either way the change feed announces it with the source ids, so each source system can erase its own copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from core.errors import HubError
from store.batching import chunks
from store.customer_view import facts_about, members, survivor
from store.golden import record_change
from store.tables import (
    AttributeLineageRow,
    CanonicalRecordRow,
    GoldenRecordRow,
    SourceRecordRow,
    XrefRow,
)

HOLD_YEARS = 10
HOLD_ROLES = ("first_purchaser",)  # Art. 9 names first-sale owner records
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}


class ErasureRefused(HubError):
    """The erasure cannot apply: no such customer, or it was already erased."""


@dataclass(frozen=True)
class ErasureOutcome:
    golden_id: str
    outcome: str  # erased | restricted
    legal_hold_until: date | None
    source_records: list[str]  # "source/source_id" of every member, for the source systems to follow
    canonical_records_removed: int


def legal_hold_until(session: Session, parties: list[tuple[str, str]], today: date) -> date | None:
    """The day the longest first-sale record duty of these party records ends, if it has not yet ended."""
    ends: list[date] = []
    for fact in facts_about(session, parties):
        if fact.entity_type == "vehicle_relationship" and fact.body.get("role") in HOLD_ROLES:
            sold = fact.body.get("valid_from")
            start = date.fromisoformat(sold) if sold else today  # an undated sale: assume recent, keep it
            ends.append(start.replace(year=start.year + HOLD_YEARS) if not (start.month == 2 and start.day == 29)
                        else date(start.year + HOLD_YEARS, 3, 1))  # fmt: skip
    end = max(ends, default=None)
    return end if end is not None and end > today else None


def _erase_records(session: Session, parties: list[tuple[str, str]]) -> int:
    """Delete the members and what they said; blank every stored version of the raw payloads behind them."""
    c = CanonicalRecordRow
    ids: list[int] = []
    raw_ids: list[int] = []
    for chunk in chunks(parties):
        # A party's own party_key is its key, so this finds the members and everything said about them.
        rows = session.execute(
            select(c.id, c.source_record_id).where(tuple_(c.source, c.party_key).in_(chunk))
        )
        for record_id, raw_id in rows:
            ids.append(record_id)
            raw_ids.append(raw_id)
    s = SourceRecordRow
    raw_keys = {(r.source, r.stream, r.source_id) for part in chunks(raw_ids)
                for r in session.execute(select(s.source, s.stream, s.source_id).where(s.id.in_(part)))}  # fmt: skip
    for keys in chunks(sorted(raw_keys)):
        session.execute(
            update(s).where(tuple_(s.source, s.stream, s.source_id).in_(keys)).values(payload=ERASED_PAYLOAD)
        )
    for some in chunks(ids):
        session.execute(delete(XrefRow).where(XrefRow.canonical_record_id.in_(some)))
        session.execute(delete(AttributeLineageRow).where(AttributeLineageRow.canonical_record_id.in_(some)))
        session.execute(delete(c).where(c.id.in_(some)))  # identifiers, match and search keys cascade
    return len(ids)


def erase(session: Session, golden_id: str, *, actor: str, request_ref: str, restrict_only: bool = False,
          today: date | None = None) -> ErasureOutcome:  # fmt: skip
    """Apply an erasure request to the customer ``golden_id`` (a merged id is followed to its survivor)."""
    row = session.get(GoldenRecordRow, golden_id)
    if row is None or row.entity_type != "party":
        raise ErasureRefused(f"no golden customer {golden_id!r}", field="golden_id",
                             fix="take the id from search or the cross-reference")  # fmt: skip
    if row.status == "merged":
        row = session.get(GoldenRecordRow, survivor(session, golden_id))
        assert row is not None  # noqa: S101 — merged_into is a foreign key
    if row.status == "erased":
        raise ErasureRefused(f"{row.golden_id} was already erased", field="golden_id")
    now = datetime.now(UTC)
    xrefs = members(session, row.golden_id)
    parties = [(x.source, x.entity_key) for x in xrefs]
    sources = [f"{s}/{k}" for s, k in parties]
    hold = legal_hold_until(session, parties, today or now.date())
    payload: dict[str, Any] = {"sources": sources, "request_ref": request_ref, "actor": actor}
    if hold is not None or restrict_only:
        row.status, row.version, row.updated_at = "restricted", row.version + 1, now
        payload |= {"legal_hold_until": hold.isoformat() if hold else None, "version": row.version}
        record_change(session, row.golden_id, "party", "restricted", payload)
        return ErasureOutcome(row.golden_id, "restricted", hold, sources, 0)
    removed = _erase_records(session, parties)
    session.execute(delete(AttributeLineageRow).where(AttributeLineageRow.golden_id == row.golden_id))
    row.status, row.body, row.version, row.updated_at = "erased", {"erased": True}, row.version + 1, now
    record_change(session, row.golden_id, "party", "erased", payload | {"version": row.version})
    return ErasureOutcome(row.golden_id, "erased", None, sources, removed)
