"""``GET /v1/quarantine``: every record a sync could not take, with the reason and the fix, and the counts.

Nothing a source sends is silently dropped: what fails mapping or validation waits here, named by its source
id, until the source corrects it (the corrected record maps and the entry is resolved). The raw text of an
unreadable message is not served (it may hold personal data the hub could not even locate to mask).
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

router = APIRouter(tags=["data quality"])


class QuarantineItem(BaseModel):
    id: int
    source: str = Field(examples=["erp"])
    stream: str = Field(examples=["customers"])
    source_id: str | None = Field(examples=["C00000042"])
    stage: str = Field(examples=["validation"], description="receive | mapping | validation")
    reason: str = Field(examples=["invalid_vin.check_digit"])
    field: str | None = Field(examples=["VIN"])
    message: str = Field(examples=["VIN 'LFV3A28E8KF016768': check digit is '8' but …"])
    created_at: datetime
    resolved_at: datetime | None


class QuarantineCount(BaseModel):
    source: str
    reason: str
    count: int


Source = Annotated[str | None, Query(description="only this source", examples=["dms"])]


@router.get("/quarantine", summary="Quarantined records", response_model=Page[QuarantineItem])
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
        items = [QuarantineItem.model_validate(r, from_attributes=True) for r in rows]
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


class SourceQuality(BaseModel):
    source: str = Field(examples=["dms"])
    received: int = Field(description="raw records received (every version)")
    quarantined: int
    quarantine_by_family: dict[str, int] = Field(examples=[{"invalid_vin": 18, "missing_required": 4}])
    completeness: dict[str, float] = Field(examples=[{"name": 1.0, "mobile": 0.93, "id_number": 0.41}],
                                           description="share of parties with each field usable for matching")  # fmt: skip
    validity: dict[str, float] = Field(examples=[{"vin": 0.995, "resident_id": 0.998, "mobile": 0.997}],
                                       description="share of received records not quarantined as invalid")  # fmt: skip
    duplicate_records: int = Field(
        description="records beyond the first of this source within one golden customer"
    )
    shared_identifiers: int = Field(description="mobiles/e-mails carried by several different people")


class DealerQuality(BaseModel):
    dealer: str = Field(examples=["D31002"])
    parties: int
    duplicate_records: int
    shared_identifiers: int
    shared_masked: list[str] = Field(examples=[["131****2693"]], description="the suspicious numbers, masked")


class QualityScorecard(BaseModel):
    sources: list[SourceQuality]
    dealers: list[DealerQuality]


@router.get(
    "/quality", summary="Data-quality scorecard per source and per dealer", response_model=QualityScorecard
)
async def quality_scorecard(
    request: Request, _: Annotated[ApiKey, Depends(require("read"))]
) -> QualityScorecard:
    def score(session: Session) -> QualityScorecard:
        card = quality.scorecard(session)
        sources = [SourceQuality(source=s.source, received=s.received, quarantined=s.quarantined,
                                 quarantine_by_family=s.quarantine_by_family, completeness=s.completeness.shares(),
                                 validity=s.validity(), duplicate_records=s.duplicate_records,
                                 shared_identifiers=s.shared_identifiers) for s in card.sources]  # fmt: skip
        dealers = [DealerQuality.model_validate(d, from_attributes=True) for d in card.dealers]
        return QualityScorecard(sources=sources, dealers=dealers)

    result: QualityScorecard = await request.app.state.hub.read(score)
    return result
