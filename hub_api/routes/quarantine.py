"""``GET /v1/quarantine``: every record a sync could not take, with the reason and the fix, and the counts.

Nothing a source sends is silently dropped: what fails mapping or validation waits here, named by its source
id, until the source corrects it (the corrected record maps and the entry is resolved). The raw text of an
unreadable message is not served (it may hold personal data the hub could not even locate to mask).

An entry is about a whole record, or — when the record was partly mapped (its customer kept, its car's bad VIN
not) — about one entity of it: ``entity_type`` names that entity, ``field`` the place in it (``vehicle.vin``),
and ``record_partly_mapped`` says that the record's other entities are canonical records already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hub_api.pagination import CursorParam, LimitParam, Page, decode_cursor, next_cursor
from hub_api.security import require
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
    request: Request,
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

    result: Page[QuarantineItem] = await request.app.state.hub.read(page)
    return result


@router.get(
    "/quarantine/counts",
    summary="Unresolved quarantine by source and reason",
    response_model=list[QuarantineCount],
)
async def quarantine_counts(
    request: Request, _: Annotated[ApiKey, Depends(require("read"))], source: Source = None
) -> list[QuarantineCount]:
    def count(session: Session) -> list[QuarantineCount]:
        return [
            QuarantineCount(source=s, reason=r, count=n)
            for s, r, n in reports.quarantine_by_reason(session, source)
        ]

    result: list[QuarantineCount] = await request.app.state.hub.read(count)
    return result


@router.get(
    "/quality", summary="Data-quality scorecard per source and per dealer", response_model=QualityScorecard
)
async def quality_scorecard(
    request: Request, _: Annotated[ApiKey, Depends(require("read"))]
) -> QualityScorecard:
    def score(session: Session) -> QualityScorecard:
        return QualityScorecard.of(quality.scorecard(session))

    result: QualityScorecard = await request.app.state.hub.read(score)
    return result
