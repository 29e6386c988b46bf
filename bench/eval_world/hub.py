"""Runs the hub on the extracts: a migrated scratch SQLite store, the eval mappings, the real Loader, then the
full matching job; reads the decisions back from the store tables."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.eval_world.extract import Extracts

MAPPINGS_DIR = Path(__file__).parent / "mappings"


@dataclass
class HubResult:
    party_golden: dict[tuple[str, str], str]  # (source, party entity key) → active golden id
    owners: dict[str, str | None]  # VIN → current owner golden id
    quarantined: list[tuple[str, str, str, str]]  # (source, stream, payload json, reason)
    load_reports: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    match_summary: str = ""


def payload_key(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def run_hub(
    extracts: Extracts, folder: Path, mappings_dir: Path = MAPPINGS_DIR, on_step: Any = None
) -> HubResult:
    from sqlalchemy import select

    from core.settings import Settings
    from jobs.matching import describe_full, match_full
    from mappings import MappingRegistry
    from pipeline import Loader, to_source_record
    from store.engine import create_store_engine, session_factory
    from store.golden import vehicle_owners
    from store.migrate import upgrade
    from store.tables import GoldenRecordRow, QuarantineRow, SourceRecordRow, XrefRow

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "hub.db"
    if db.exists():
        db.unlink()
    url = f"sqlite:///{db}"
    settings = Settings(env="test", database_url=url, data_dir=folder, mappings_dir=mappings_dir)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    upgrade(url)
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    registry = MappingRegistry.load(mappings_dir)
    loader = Loader(sessions, registry, pii_key=settings.pii_key, batch_size=settings.batch_size)
    reports: dict[str, Any] = {}
    for source, stream, file in extracts.files:
        mapper = registry[source]
        rows = [r for r in extracts.rows if (r.source, r.stream, r.file) == (source, stream, file)]
        for name, report in loader.load(to_source_record(mapper, stream, r.payload) for r in rows).items():
            entry = reports.setdefault(
                name, {"records_in": 0, "mapped": 0, "quarantined": 0, "unchanged": 0, "reasons": {}}
            )
            entry["records_in"] += report.records_in
            entry["mapped"] += report.mapped
            entry["quarantined"] += report.quarantined
            entry["unchanged"] += report.unchanged
            for reason, n in report.reasons.items():
                entry["reasons"][reason] = entry["reasons"].get(reason, 0) + n
        if on_step:
            on_step(f"loaded {source}/{file}")
    seconds["load"] = time.perf_counter() - started
    engine.dispose()

    started = time.perf_counter()
    result = match_full(settings, on_step=on_step)
    seconds["match"] = time.perf_counter() - started

    engine = create_store_engine(url)
    sessions = session_factory(engine)
    with sessions() as session:
        merged = dict(session.execute(select(GoldenRecordRow.golden_id, GoldenRecordRow.merged_into)).all())

        def active(golden: str) -> str:
            seen = 0
            while merged.get(golden) and seen < 50:
                golden, seen = merged[golden] or golden, seen + 1
            return golden

        party_golden = {
            (s, k): active(g)
            for s, k, g in session.execute(
                select(XrefRow.source, XrefRow.entity_key, XrefRow.golden_id).where(
                    XrefRow.entity_type == "party"
                )
            )
        }
        owners = {
            vin: (active(o) if o and not o.startswith("unmatched:") else o)
            for vin, o in vehicle_owners(session).items()
        }
        quarantined = [
            (q.source, q.stream, payload_key(payload) if payload is not None else "", q.reason)
            for q, payload in session.execute(
                select(QuarantineRow, SourceRecordRow.payload).outerjoin(
                    SourceRecordRow, SourceRecordRow.id == QuarantineRow.source_record_id
                )
            )
        ]
    engine.dispose()
    return HubResult(party_golden, owners, quarantined, reports, seconds, describe_full(result))
