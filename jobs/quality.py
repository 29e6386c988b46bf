"""The data-quality scorecard as a job: filed as JSON for the data stewards, summarised in one line per source."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autohub.settings import Settings
from jobs.store_access import store_sessions


def artefacts_dir(settings: Settings) -> Path:
    """Where jobs file what they produce (scorecards, recall files); created on first use."""
    path = settings.orchestration.artefacts_dir or settings.data_dir / "artefacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write to a temporary file beside ``path`` and rename: a reader never sees half a file, and a re-run
    of a failed job replaces the file instead of appending to a partial one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.writelines(chunks)
    os.replace(tmp, path)


@dataclass(frozen=True)
class QualityReport:
    path: Path
    summary: list[str]


def file_scorecard(settings: Settings, path: Path | None = None) -> QualityReport:
    """Compute the scorecard per source and per dealer and write it (the same JSON as ``GET /v1/quality``)."""
    from store import quality

    with store_sessions(settings) as sessions, sessions() as session:
        card = quality.QualityScorecard.of(quality.scorecard(session))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path or artefacts_dir(settings) / f"quality-{stamp}.json"
    write_atomically(target, [card.model_dump_json(indent=2)])
    summary = [
        f"{s.source}: {s.received:,} received, {s.quarantined:,} quarantined, "
        f"{s.duplicate_records:,} duplicates, {s.shared_identifiers:,} shared identifiers"
        for s in card.sources
    ]
    flagged = [d for d in card.dealers if d.shared_identifiers]
    summary.append(f"{len(card.dealers):,} dealers, {len(flagged):,} with suspicious shared numbers")
    return QualityReport(target, summary)
