"""Data stewardship over HTTP: the grey-band queue, merges and unmerges (scope ``steward``).

A decision is applied at once — golden records, cross-references, lineage, merge history and the change feed
in one transaction — and is kept by every later matching run (must-link / cannot-link constraints). The
actor recorded is the API key's name, so the merge history says who decided.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AliasChoices, BaseModel, Field
from sqlalchemy.orm import Session

from core.client_text import ClientModel
from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, Page, decode_cursor, next_cursor
from hub_api.security import require
from matching import steward
from store.api_keys import ApiKey
from store.golden import open_review

router = APIRouter(tags=["stewardship"])


class ReviewSideView(BaseModel):
    record_id: int
    source: str = Field(examples=["dms"])
    source_id: str = Field(
        examples=["D31002-000163"], validation_alias=AliasChoices("source_id", "entity_key")
    )
    golden_id: str | None = Field(description="the golden customer the record belongs to now")
    description: str = Field(examples=["dms/D31002-000163: 王伟 · +86138****8000"], description="PII masked")


class ReviewItem(BaseModel):
    id: int
    match_probability: float = Field(examples=[0.83])
    match_weight: float
    left: ReviewSideView
    right: ReviewSideView


class MergeRequest(ClientModel):
    keep: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"], description="golden id that survives")
    absorb: str = Field(examples=["P-9D0E1F2A3B4C5D6E7F80"], description="golden id merged into it")
    reason: str = Field(min_length=3, max_length=2000, examples=["same person: confirmed by phone"])


class UnmergeRequest(ClientModel):
    golden_id: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    records: list[str] = Field(min_length=1, examples=[["dms/D31002-000163"]],
                               description="member records (source/source_id) that leave for a new golden record")  # fmt: skip
    reason: str = Field(min_length=3, max_length=2000, examples=["two brothers sharing a phone"])


class StewardOutcome(BaseModel):
    golden_ids: list[str] = Field(description="the golden records as they stand after the decision")
    members: dict[str, list[str]] = Field(description="golden id → its member records (source/source_id)")


_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "the decision cannot apply (unknown/inactive id, not a member …)"}
}


@router.get("/review", summary="Grey-band pairs waiting for a steward", response_model=Page[ReviewItem])
async def review(
    hub: HubDep,
    _: Annotated[ApiKey, Depends(require("steward"))],
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[ReviewItem]:
    after = decode_cursor(cursor)

    def page(session: Session) -> Page[ReviewItem]:
        pairs = open_review(session, "party", limit, after_id=after)
        items = [ReviewItem.model_validate(p, from_attributes=True) for p in pairs]
        return Page[ReviewItem](items=items, next_cursor=next_cursor([p.id for p in pairs], limit))

    result: Page[ReviewItem] = await hub.read(page)
    return result


def _outcome(result: steward.StewardResult) -> StewardOutcome:
    return StewardOutcome(golden_ids=list(result.golden_ids), members=result.members)


@router.post(
    "/merges", summary="Merge two golden customers", response_model=StewardOutcome, responses=_REFUSED
)
async def merge(
    hub: HubDep, body: MergeRequest, key: Annotated[ApiKey, Depends(require("steward"))]
) -> StewardOutcome:
    def apply(session: Session) -> StewardOutcome:
        return _outcome(steward.merge(session, body.keep, body.absorb, actor=key.name, reason=body.reason))

    result: StewardOutcome = await hub.write(apply)
    return result


@router.post(
    "/unmerges",
    summary="Split records off a golden customer",
    response_model=StewardOutcome,
    responses=_REFUSED,
)
async def unmerge(
    hub: HubDep, body: UnmergeRequest, key: Annotated[ApiKey, Depends(require("steward"))]
) -> StewardOutcome:
    def apply(session: Session) -> StewardOutcome:
        return _outcome(
            steward.unmerge(session, body.golden_id, body.records, actor=key.name, reason=body.reason)
        )

    result: StewardOutcome = await hub.write(apply)
    return result
