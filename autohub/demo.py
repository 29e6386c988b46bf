"""The demo job: generate sample data for the five sources, serve it from fakes, sync it through the connectors.

It is the path a production sync takes — each source's connector over its real protocol (SOAP, SQL, REST,
AMQP or a file, signed webhooks) into ``pipeline.Loader`` and the store — fed by the seeded generator, so a
newcomer sees real transports, real quarantine reasons and real counts, checked against ground truth.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from autohub import demo_sources as sources
from autohub.demo_sources import DmsMode
from connectors.portal_webhook import EVENT_STREAMS
from core.settings import Settings
from mappings import MappingRegistry
from matching.config import matching_config
from matching.evaluation import (
    OwnerScore,
    PairwiseScore,
    current_owner_score,
    current_owner_truth,
    false_merges,
    pairwise_score,
    party_truth,
)
from matching.run import MatchReport, run_party_matching
from matching.vehicles import build_golden_vehicles
from pipeline import Loader, LoadReport, to_source_record
from pipeline.screen import input_limits
from sample_data import DEFECTS_THAT_QUARANTINE, generate
from store import reports
from store.engine import create_store_engine, session_factory
from store.golden import vehicle_owners
from store.migrate import upgrade
from store.reports import SourceReconciliation


@dataclass
class DemoResult:
    database_url: str
    loads: dict[str, LoadReport]
    transports: dict[str, str]
    reconciliation: list[SourceReconciliation]
    quarantine_reasons: list[tuple[str, str, int]]
    canonical: dict[tuple[str, str], int]
    # Ground truth against outcome: a clean record quarantined, or a defective one let through, is a bug.
    expected_quarantine: set[tuple[str, str, str]] = field(default_factory=set)
    actual_quarantine: set[tuple[str, str, str]] = field(default_factory=set)
    defects_seen: Counter[str] = field(default_factory=Counter)
    matching: MatchReport | None = None
    vehicles: dict[str, int] = field(default_factory=dict)
    matching_score: PairwiseScore | None = None
    false_merges: int = 0  # golden records holding more than one real person
    owners: OwnerScore | None = None  # current owner of each car against the generator's truth

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
    dms: DmsMode = "auto",
    match: bool = True,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> DemoResult:
    """Generate, serve, sync; ``on_total`` learns how many records there are once they are generated."""
    url = settings.effective_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        wipe_sqlite_file(url)
    upgrade(url)
    engine = create_store_engine(url, **settings.database_pool)
    try:
        sessions = session_factory(engine)
        registry = MappingRegistry.load(*settings.mapping_dirs)
        loader = Loader(
            sessions,
            registry,
            pii_key=settings.pii_key,
            batch_size=settings.batch_size,
            limits=input_limits(settings),
        )
        result = DemoResult(url, {}, {}, [], [], {})
        payloads: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        people_of: list[tuple[str, str, dict[str, Any], str | None]] = []
        true_owner: dict[str, str] = {}
        total = 0
        for generated in generate(
            people, seed, on_person=lambda p: true_owner.update(current_owner_truth([p]))
        ):
            people_of.append((generated.source, generated.stream, generated.payload, generated.person_id))
            record = to_source_record(registry[generated.source], generated.stream, generated.payload)
            result.defects_seen.update(generated.defects)
            if DEFECTS_THAT_QUARANTINE.intersection(generated.defects):
                result.expected_quarantine.add((record.source, record.stream, record.source_id))
            payloads[generated.source][generated.stream].append(generated.payload)
            total += 1
        if on_total:
            on_total(total)
        runs = {
            "erp": sources.erp(loader, settings, payloads["erp"], on_progress),
            "finance": sources.finance(loader, settings, payloads["finance"], on_progress),
            "insurance": sources.insurance(loader, settings, payloads["insurance"], on_progress),
            "dms": sources.dms(loader, settings, _in_time_order(payloads["dms"]), on_progress, dms),
            "portal": sources.portal(loader, settings, _portal_events(payloads["portal"]), on_progress),
        }
        result.loads = {source: run.report for source, run in runs.items()}
        result.transports = {source: run.transport for source, run in runs.items()}
        if match:
            result.matching = run_party_matching(sessions, matching_config(settings))
            result.vehicles = build_golden_vehicles(sessions)
            truth = party_truth(people_of, registry)
            result.matching_score = pairwise_score(result.matching.cluster_of, truth)
            result.false_merges = len(false_merges(result.matching.cluster_of, truth))
            with sessions() as session:
                owners = vehicle_owners(session)
            result.owners = current_owner_score(owners, result.matching.cluster_of, truth, true_owner)
        with sessions() as session:
            result.reconciliation = reports.reconcile(session)
            result.quarantine_reasons = reports.quarantine_by_reason(session)
            result.canonical = reports.canonical_counts(session)
            result.actual_quarantine = set(reports.quarantined_keys(session))
        return result
    finally:
        engine.dispose()


def _in_time_order(streams: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Dealers publish as things happen: the DMS events of all types, in the order they occurred."""
    return sorted(
        (e for events in streams.values() for e in events), key=lambda e: str(e.get("occurred_at", ""))
    )


# The portal's event type for each of its streams (connectors.portal_webhook.EVENT_STREAMS, reversed).
_PORTAL_EVENT_TYPES = {stream: event_type for event_type, stream in EVENT_STREAMS.items()}


def _portal_events(streams: dict[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(_PORTAL_EVENT_TYPES[stream], data) for stream, items in streams.items() for data in items]
