"""The data-quality scorecard as a job: filed as JSON for the data stewards, summarised in one line per source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.settings import Settings
from jobs.artefacts import artefacts_dir, write_atomically
from jobs.store_access import store_sessions


@dataclass(frozen=True)
class QualityReport:
    path: Path
    summary: list[str]


def file_scorecard(settings: Settings, path: Path | None = None) -> QualityReport:
    """Compute the scorecard per source and per dealer and write it (the same JSON as ``GET /v1/quality``)."""
    from connectors.sources import dealer_networks
    from store import quality

    networks = dealer_networks(settings)
    with store_sessions(settings) as sessions, sessions() as session:
        card = quality.QualityScorecard.of(quality.scorecard(session, networks))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path or artefacts_dir(settings) / f"quality-{stamp}.json"
    write_atomically(target, [card.model_dump_json(indent=2)])
    summary = [
        f"{s.source}: {s.received:,} received, {s.partially_mapped:,} partly mapped, "
        f"{s.quarantined:,} quarantined, {s.duplicate_records:,} duplicates, {s.shared_identifiers:,} shared identifiers"
        for s in card.sources
    ]
    flagged = [d for d in card.dealers if d.shared_identifiers]
    summary.append(f"{len(card.dealers):,} dealers, {len(flagged):,} with suspicious shared numbers")
    return QualityReport(target, summary)
