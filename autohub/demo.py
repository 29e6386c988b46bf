"""The demo job: generate sample data for the five sources, load it through the mappings, summarise.

It is the same path a production sync takes (``pipeline.Loader`` into the store), fed by the seeded
generator instead of connectors, so a newcomer sees real quarantine reasons and real counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from autohub.settings import Settings
from canonical_model.entities.source import SourceRecord
from mappings import MappingRegistry
from pipeline import Loader, LoadReport, to_source_record
from sample_data import DEFECTS_THAT_QUARANTINE, generate
from store import reports
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.reports import SourceReconciliation


@dataclass
class DemoResult:
    database_url: str
    loads: dict[str, LoadReport]
    reconciliation: list[SourceReconciliation]
    quarantine_reasons: list[tuple[str, str, int]]
    canonical: dict[tuple[str, str], int]
    # Ground truth against outcome: a clean record quarantined, or a defective one let through, is a bug.
    expected_quarantine: set[tuple[str, str, str]] = field(default_factory=set)
    actual_quarantine: set[tuple[str, str, str]] = field(default_factory=set)
    defects_seen: Counter[str] = field(default_factory=Counter)

    @property
    def clean_but_quarantined(self) -> set[tuple[str, str, str]]:
        return self.actual_quarantine - self.expected_quarantine

    @property
    def defective_but_mapped(self) -> set[tuple[str, str, str]]:
        return self.expected_quarantine - self.actual_quarantine


def wipe_sqlite_file(url: str) -> bool:
    """Remove the demo's SQLite file (and its WAL files) so each demo starts empty; never a server database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    for suffix in ("", "-wal", "-shm"):
        Path(parsed.database + suffix).unlink(missing_ok=True)
    return True


def run_demo(
    settings: Settings,
    *,
    people: int,
    seed: int,
    fresh: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> DemoResult:
    url = settings.effective_database_url
    if fresh:
        wipe_sqlite_file(url)
    upgrade(url)
    engine = create_store_engine(url)
    try:
        sessions = session_factory(engine)
        registry = MappingRegistry.load(*settings.mapping_dirs)
        loader = Loader(sessions, registry, pii_key=settings.pii_key, batch_size=settings.batch_size)
        result = DemoResult(url, {}, [], [], {})

        def records() -> Iterator[SourceRecord]:
            for generated in generate(people, seed):
                record = to_source_record(registry[generated.source], generated.stream, generated.payload)
                result.defects_seen.update(generated.defects)
                if DEFECTS_THAT_QUARANTINE.intersection(generated.defects):
                    result.expected_quarantine.add((record.source, record.stream, record.source_id))
                yield record

        result.loads = loader.load(records(), on_progress)
        with sessions() as session:
            result.reconciliation = reports.reconcile(session)
            result.quarantine_reasons = reports.quarantine_by_reason(session)
            result.canonical = reports.canonical_counts(session)
            result.actual_quarantine = set(reports.quarantined_keys(session))
        return result
    finally:
        engine.dispose()
