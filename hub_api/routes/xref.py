"""``GET /v1/xref/{source}/{source_id}``: which golden record a source system's record belongs to.

A source system keeps its own ids; this is how it finds the hub's. The answer names the golden id that is
current now: cross-references move with every merge and split, and a retired id is followed to its survivor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hub_api.hub import HubDep
from hub_api.problems import Problem
from hub_api.security import require
from store.api_keys import ApiKey
from store.customer_view import xref_links

router = APIRouter(tags=["cross-reference"])


class XrefLink(BaseModel):
    entity_type: str = Field(examples=["party"])
    golden_id: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    method: str = Field(
        description="deterministic | probabilistic | manual | singleton", examples=["deterministic"]
    )
    match_weight: float | None = Field(default=None, description="the model's match weight, for model links")
    linked_at: datetime


class Xref(BaseModel):
    source: str = Field(examples=["erp"])
    source_id: str = Field(examples=["C00000042"])
    links: list[XrefLink]


@router.get(
    "/xref/{source}/{source_id}",
    summary="The golden record a source record belongs to",
    response_model=Xref,
    responses={404: {"description": "the hub holds no record with this source id"}},
)
async def xref(
    hub: HubDep,
    source: Annotated[str, Path(examples=["erp"], description="erp | finance | insurance | dms | portal")],
    source_id: Annotated[str, Path(examples=["C00000042"], description="the source system's own key")],
    _: Annotated[ApiKey, Depends(require("read"))],
) -> Xref:

    def look_up(session: Session) -> list[XrefLink]:
        return [XrefLink(entity_type=r.entity_type, golden_id=r.golden_id, method=r.method,
                         match_weight=r.match_weight, linked_at=r.linked_at)
                for r in xref_links(session, source, source_id)]  # fmt: skip

    links = await hub.read(look_up, autocommit=True)
    if not links:
        raise Problem(404, "Unknown source record", f"no golden record holds {source}/{source_id}; the record may "
                      "not be synced or matched yet", reason="unknown_source_record")  # fmt: skip
    return Xref(source=source, source_id=source_id, links=links)
