"""``GET /v1/quarantine``: every record a sync could not take, with the reason and the fix, and the counts.

Nothing a source sends is silently dropped: what fails mapping or validation waits here, named by its source
id, until the source corrects it or a corrected mapping recovers it: ``POST /v1/quarantine/replay`` (scope
``steward``) maps the waiting raw records again and resolves the entries with what became of them. The raw text
of an unreadable message is not served (it may hold personal data the hub could not even locate to mask).

An entry is about a whole record, or — when the record was partly mapped (its customer kept, its car's bad VIN
not) — about one entity of it: ``entity_type`` names that entity, ``field`` the place in it (``vehicle.vin``),
and ``record_partly_mapped`` says that the record's other entities are canonical records already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, Page, decode_cursor, next_cursor
from hub_api.problems import Problem
from hub_api.security import require
from jobs.quarantine_replay import API_LIMIT, ReplayReport, ReplaySelection, fresh_loader, replay_quarantine
from pipeline.replay import ReplayConflict
from store import quality, reports
from store.api_keys import ApiKey
from store.quality import QualityScorecard

router = APIRouter(tags=["data quality"])


class QuarantineItem(BaseModel):
    id: int
    source: str = Field(examples=["erp"])
    stream: str = Field(examples=["customers"])
    source_id: str | None = Field(examples=["C00000042"])
    stage: str = Field(examples=["validation"], description="receive | mapping | validation")
    reason: str = Field(examples=["invalid_vin.check_digit"])
    field: str | None = Field(
        examples=["VIN", "vehicle.vin"],
        description="the source field of a whole record's failure; for an entity, the place in it",
    )
    message: str = Field(examples=["VIN 'LFV3A28E8KF016768': check digit is '8' but …"])
    entity_type: str | None = Field(
        default=None,
        examples=["vehicle"],
        description="the one entity of the record this entry is about; null: the whole record is quarantined",
    )
    record_partly_mapped: bool = Field(
        default=False,
        description="the record's other entities were kept as canonical records (its outcome is partial)",
    )
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None = Field(
        default=None, examples=["replayed: mapped (run 42, steward:li)"],
        description="what resolved it: a replay after a mapping fix names the outcome, its run and who asked",
    )  # fmt: skip


class QuarantineCount(BaseModel):
    source: str
    reason: str
    count: int


Source = Annotated[str | None, Query(description="only this source", examples=["dms"])]


@router.get(
    "/quarantine",
    summary="Quarantined records and entities",
    description="Whole records that could not go on, and single entities rejected from partly mapped records.",
    response_model=Page[QuarantineItem],
)
async def quarantine(
    hub: HubDep,
    _: Annotated[ApiKey, Depends(require("read"))],
    source: Source = None,
    reason: Annotated[
        str | None, Query(description="exact reason code", examples=["invalid_vin.check_digit"])
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[QuarantineItem]:
    after = decode_cursor(cursor)

    def page(session: Session) -> Page[QuarantineItem]:
        rows = reports.list_quarantine(session, source=source, reason=reason, after_id=after, limit=limit)
        outcomes = reports.record_outcomes(session, [r.source_record_id for r in rows if r.source_record_id])
        items = [
            QuarantineItem.model_validate(r, from_attributes=True).model_copy(
                update={"record_partly_mapped": outcomes.get(r.source_record_id or 0) == "partial"}
            )
            for r in rows
        ]
        return Page[QuarantineItem](items=items, next_cursor=next_cursor([r.id for r in rows], limit))

    result: Page[QuarantineItem] = await hub.read(page)
    return result


@router.get(
    "/quarantine/counts",
    summary="Unresolved quarantine by source and reason",
    response_model=list[QuarantineCount],
)
async def quarantine_counts(
    hub: HubDep, _: Annotated[ApiKey, Depends(require("read"))], source: Source = None
) -> list[QuarantineCount]:
    def count(session: Session) -> list[QuarantineCount]:
        return [
            QuarantineCount(source=s, reason=r, count=n)
            for s, r, n in reports.quarantine_by_reason(session, source)
        ]

    result: list[QuarantineCount] = await hub.read(count)
    return result


class ReplayRequest(ReplaySelection):
    """Which quarantine entries to replay; one call maps at most ``limit`` records (``more`` says when to call again)."""

    limit: int = Field(
        default=API_LIMIT, ge=1, le=API_LIMIT, description="at most this many records in this call"
    )


@router.post(
    "/quarantine/replay",
    summary="Map quarantined records again after a mapping fix",
    description="The selected entries' raw records (already stored: nothing is fetched from the source) are mapped "
    "through the mapping files as they are on disk now; what maps becomes canonical, the entries are resolved, what "
    "still fails waits with its new reason. Each source replayed is a sync run of its own. A selection of nothing "
    "answers zero counts. Give `source` and/or `reason`, or `all`. The server's own ingest (webhooks) keeps the "
    "mappings it started with until it restarts.",
    response_model=ReplayReport,
    responses={
        409: {"description": "another replay resolved some of the same entries meanwhile: call again"}
    },
)
async def replay(
    hub: HubDep, body: ReplayRequest, key: Annotated[ApiKey, Depends(require("steward"))]
) -> ReplayReport:

    def run() -> ReplayReport:
        return replay_quarantine(fresh_loader(hub.settings, hub.sessions), body, actor=key.name)

    try:
        result: ReplayReport = await run_in_threadpool(run)
    except ReplayConflict as exc:
        raise Problem(409, "Replay conflict", str(exc), reason="replay_conflict") from exc
    return result


@router.get(
    "/quality", summary="Data-quality scorecard per source and per dealer", response_model=QualityScorecard
)
async def quality_scorecard(hub: HubDep, _: Annotated[ApiKey, Depends(require("read"))]) -> QualityScorecard:

    def score(session: Session) -> QualityScorecard:
        return QualityScorecard.of(quality.scorecard(session, hub.dealer_sources))

    result: QualityScorecard = await hub.read(score)
    return result
