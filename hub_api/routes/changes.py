"""``GET /v1/changes``: the ordered, resumable change feed of golden records.

A consumer stores ``next_cursor`` after handling a page and sends it back next time; the feed's order is
commit order (see ``store.change_feed``), so a stored cursor never skips a change that commits later. The
cursor comes back even on an empty page: a consumer polls with it until something new arrives. The same
events go to RabbitMQ (exchange ``autohub.golden``) through the outbox, with the same ``event_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, decode_cursor, encode_cursor
from hub_api.security import require
from store import change_feed
from store.api_keys import ApiKey

router = APIRouter(tags=["change feed"])


class Change(BaseModel):
    event_id: str = Field(description="unique per change: consumers dedupe on it", examples=["6f1c…"])
    seq: int = Field(description="position in the feed")
    golden_id: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    entity_type: str = Field(examples=["party"], description="party | vehicle")
    change_type: str = Field(examples=["merged"], description=" | ".join(change_feed.CHANGE_TYPES))
    payload: dict[str, Any] = Field(
        examples=[{"merged_into": "P-9D0E…"}], description="version, merged_into, …"
    )
    occurred_at: datetime


class ChangePage(BaseModel):
    items: list[Change]
    next_cursor: str = Field(description="send it back as ?cursor= (also when items is empty)")


@router.get("/changes", summary="Change feed of golden records", response_model=ChangePage)
async def changes(
    hub: HubDep,
    _: Annotated[ApiKey, Depends(require("read"))],
    cursor: CursorParam = None,
    limit: LimitParam = 100,
    entity_type: Annotated[str | None, Query(description="party | vehicle (default: both)")] = None,
) -> ChangePage:
    after = decode_cursor(cursor)

    def page(session: Session) -> ChangePage:
        rows = change_feed.read(session, after, limit, entity_type=entity_type)
        items = [Change.model_validate(change_feed.as_event(row)) for row in rows]
        return ChangePage(items=items, next_cursor=encode_cursor(rows[-1].seq if rows else after))

    result: ChangePage = await hub.read(page)
    return result
