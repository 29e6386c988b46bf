"""A recall campaign's file for the filing, written by a job: the same rows as ``POST /v1/recalls`` as CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from jobs.artefacts import artefacts_dir, write_atomically
from jobs.store_access import store_sessions
from recall.campaign import (
    PII_FIELDS,
    RecallPage,
    RecallRequest,
    RecallVehicle,
    campaign_pages,
    csv_lines,
    file_name,
)


@dataclass(frozen=True)
class RecallExport:
    path: Path
    vehicles: int
    without_owner: int
    invalid_vins: int
    not_found: int


def recall_request(
    campaign: str,
    *,
    vins: list[str] | None = None,
    wmi: list[str] | None = None,
    models: list[str] | None = None,
    model_years: list[int] | None = None,
    plants: list[str] | None = None,
    produced_from: str | None = None,
    produced_to: str | None = None,
) -> RecallRequest:
    """The campaign as the API would receive it: a VIN list, or criteria (pydantic validates either)."""
    if vins:
        return RecallRequest(campaign=campaign, vins=vins)
    criteria = {"wmi": wmi or [], "models": models or [], "model_years": model_years or [], "plants": plants or [],
                "produced_from": produced_from or None, "produced_to": produced_to or None}  # fmt: skip
    return RecallRequest.model_validate({"campaign": campaign, "criteria": criteria})


def export_recall(
    settings: Settings, request: RecallRequest, *, path: Path | None = None, clear: bool = False
) -> RecallExport:
    """Write the campaign's affected cars and their current owners to CSV (masked unless ``clear``).

    A clear file is audited under the job's name with the campaign, as a clear API answer is. A VIN list's
    invalid and unknown VINs are counted, never silently left out.
    """
    from canonical_model.disclosure import Masker
    from store.api_keys import audit_pii_read, job_actor

    target = path or artefacts_dir(settings) / file_name(request.campaign)
    target.parent.mkdir(parents=True, exist_ok=True)
    counts = {"vehicles": 0, "without_owner": 0, "invalid": 0, "not_found": 0}

    def counted(pages: Iterator[RecallPage]) -> Iterator[RecallVehicle]:
        for page in pages:
            counts["invalid"] += len(page.invalid)
            counts["not_found"] += len(page.not_found)
            for vehicle in page.items:
                counts["vehicles"] += 1
                counts["without_owner"] += vehicle.owner is None
                yield vehicle

    with store_sessions(settings) as sessions:
        if clear:  # audited before any clear value is written, as a clear API answer is before it leaves
            with sessions.begin() as session:
                audit_pii_read(session, job_actor("recall export"), f"recall export campaign={request.campaign}",
                               None, list(PII_FIELDS))  # fmt: skip
        with sessions() as session:
            write_atomically(target, csv_lines(counted(campaign_pages(session, request, Masker(clear)))))
    return RecallExport(
        target, counts["vehicles"], counts["without_owner"], counts["invalid"], counts["not_found"]
    )
