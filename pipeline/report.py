"""What a load run did, counted: one ``LoadReport`` per run, and the same shape for what one write adds to it.

Why writers hand back a count instead of adding to the run's: a batch that the store refuses is rolled back and
written again in halves (``pipeline.isolation``), and counts added inside the transaction had to be copied before
and put back after every rollback. A writer now counts into a fresh report of its own (``LoadReport.part``), and
only what committed is added to the run's (``LoadReport.add``) — by the isolating writer after its commit, by the
shared run of a long-lived process after each delivery.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Literal

Outcome = Literal["mapped", "partial", "quarantined"]
_IDENTITY = frozenset({"source", "run_id"})  # which run a report counts for; every other field is a count


@dataclass
class LoadReport:
    """What one source's load did; ``records_in == unchanged + mapped + partial + quarantined`` always holds.

    ``partial`` records are stored (their good entities are canonical) but also have quarantine entries, one
    per rejected entity; ``reasons`` counts quarantine entries, of whole records and of entities alike.
    """

    source: str
    run_id: int
    records_in: int = 0
    unchanged: int = 0
    mapped: int = 0
    quarantined: int = 0
    partial: int = 0
    warnings: int = 0
    # Entities whose stored version the source dated later (its stream's ``as_of``): mapped, but left in place.
    older_than_stored: int = 0
    entities: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        return self.records_in == self.unchanged + self.mapped + self.partial + self.quarantined

    def part(self) -> LoadReport:
        """An empty report for the same run, for one write to count into."""
        return LoadReport(source=self.source, run_id=self.run_id)

    def add(self, part: LoadReport) -> None:
        """``part``'s counts added to these (every count field, including any added to LoadReport later)."""
        for name in (f.name for f in fields(LoadReport) if f.name not in _IDENTITY):
            mine, theirs = getattr(self, name), getattr(part, name)
            if isinstance(mine, Counter):
                mine.update(theirs)
            else:
                setattr(self, name, mine + theirs)

    def count(self, outcome: Outcome, reasons: list[str], warnings: int, entity_types: list[str]) -> None:
        """One mapped record (``records_in`` is counted by the caller, with the unchanged ones)."""
        if outcome == "quarantined":
            self.quarantined += 1
        elif outcome == "partial":
            self.partial += 1
        else:
            self.mapped += 1
        self.reasons.update(reasons)
        self.warnings += warnings
        self.entities.update(entity_types)

    @property
    def run_counts(self) -> dict[str, int]:
        """The sync_run columns these counts go into."""
        return {"records_in": self.records_in, "records_unchanged": self.unchanged, "records_mapped": self.mapped,
                "records_quarantined": self.quarantined, "records_partial": self.partial}  # fmt: skip
