"""The data-quality scorecard: per source and per dealer, how complete, valid and duplicated the data is.

Counted in SQL over the store's own indexes and tables: records received (``source_record``), quarantine by
reason family, party completeness from the matcher's key table (what the last full matching run could use:
a shared phone counts as missing there, deliberately), duplicates as records of one source that share a
golden customer, and the suspicious shared identifiers the matcher withdrew. Dealers are the DMS's customer
key prefix (``D31002-000163`` → ``D31002``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.tables import PartyMatchKeyRow, QuarantineRow, SharedIdentifierRow, SourceRecordRow, XrefRow

VALIDITY_FAMILIES = {"vin": "invalid_vin", "resident_id": "invalid_resident_id", "mobile": "invalid_mobile"}


@dataclass
class Completeness:
    parties: int = 0
    name: int = 0
    mobile: int = 0
    id_number: int = 0
    birth_date: int = 0
    email: int = 0

    def shares(self) -> dict[str, float]:
        if not self.parties:
            return {}
        return {k: round(v / self.parties, 4) for k, v in vars(self).items() if k != "parties"}


@dataclass
class SourceScore:
    source: str
    received: int = 0
    quarantined: int = 0
    quarantine_by_family: dict[str, int] = field(default_factory=dict)
    completeness: Completeness = field(default_factory=Completeness)
    duplicate_records: int = 0  # records beyond the first of this source in one golden customer
    shared_identifiers: int = 0

    def validity(self) -> dict[str, float]:
        """Share of received records not quarantined for an invalid VIN / resident ID / mobile."""
        if not self.received:
            return {}
        return {
            k: round(1 - self.quarantine_by_family.get(f, 0) / self.received, 4)
            for k, f in VALIDITY_FAMILIES.items()
        }


@dataclass
class DealerScore:
    dealer: str
    parties: int = 0
    duplicate_records: int = 0
    shared_identifiers: int = 0
    shared_masked: list[str] = field(default_factory=list)


@dataclass
class Scorecard:
    sources: list[SourceScore]
    dealers: list[DealerScore]


def _dealer(entity_key: str) -> str:
    return entity_key.split("-", 1)[0]


def scorecard(session: Session) -> Scorecard:
    scores: dict[str, SourceScore] = defaultdict(lambda: SourceScore(""))

    def score(source: str) -> SourceScore:
        entry = scores[source]
        entry.source = source
        return entry

    for source, n in session.execute(
        select(SourceRecordRow.source, func.count()).group_by(SourceRecordRow.source)
    ):
        score(source).received = n
    q = QuarantineRow
    for source, reason, n in session.execute(select(q.source, q.reason, func.count()).where(q.resolved_at.is_(None))
                                             .group_by(q.source, q.reason)):  # fmt: skip
        entry = score(source)
        entry.quarantined += n
        family = reason.split(".", 1)[0]
        entry.quarantine_by_family[family] = entry.quarantine_by_family.get(family, 0) + n
    k = PartyMatchKeyRow
    filled = select(k.source, func.count(), func.count(func.coalesce(k.name_cn, k.name_py, k.org_name)), func.count(k.mobile),
                    func.count(k.id_hash), func.count(k.birth_date), func.count(k.email)).group_by(k.source)  # fmt: skip
    for source, *counts in session.execute(filled):
        score(source).completeness = Completeness(*counts)
    x = XrefRow
    per_golden = (select(x.source, x.golden_id, func.count().label("n")).where(x.entity_type == "party")
                  .group_by(x.source, x.golden_id).having(func.count() > 1).subquery())  # fmt: skip
    for source, extra in session.execute(
        select(per_golden.c.source, func.sum(per_golden.c.n - 1)).group_by(per_golden.c.source)
    ):
        score(source).duplicate_records = int(extra or 0)
    dealers: dict[str, DealerScore] = {}
    for row in session.scalars(select(SharedIdentifierRow)):
        for source in row.sources:
            score(source).shared_identifiers += 1
        for dealer in row.dealers:
            at = dealers.setdefault(dealer, DealerScore(dealer))
            at.shared_identifiers += 1
            at.shared_masked.append(row.masked)
    per_dealer: Counter[str] = Counter()
    goldens: dict[str, Counter[str]] = defaultdict(Counter)
    for entity_key, golden_id in session.execute(select(x.entity_key, x.golden_id).where(x.source == "dms", x.entity_type == "party")
                                                 .execution_options(yield_per=10_000)):  # fmt: skip
        dealer = _dealer(entity_key)
        per_dealer[dealer] += 1
        goldens[dealer][golden_id] += 1
    for dealer, n in per_dealer.items():
        at = dealers.setdefault(dealer, DealerScore(dealer))
        at.parties = n
        at.duplicate_records = sum(c - 1 for c in goldens[dealer].values() if c > 1)
    return Scorecard(
        sorted(scores.values(), key=lambda s: s.source), sorted(dealers.values(), key=lambda d: d.dealer)
    )
