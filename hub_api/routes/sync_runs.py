"""``GET /v1/sync-runs``: what each sync and consumer run took in, and whether a running one is still alive.

A long-running DMS consumer writes its counts and a heartbeat every few seconds, a pull sync after every page:
a scheduler or an operator reads here whether a consumer is alive (``alive``, ``silent_s``) and what it has
done so far, instead of a row that says "running" with zero counts until the process exits — or forever, when it
was killed. A run silent for longer than ``AUTOHUB_SYNC_RUN_ABANDONED_AFTER_S`` is closed as ``abandoned`` when its
source next starts a run, with the counts of the records it stored (``store.repository.close_abandoned_runs``): its
last heartbeat missed what it committed in its last seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, Page, decode_cursor, next_cursor
from hub_api.security import require
from store import reports
from store.api_keys import ApiKey
from store.tables import SyncRun

router = APIRouter(tags=["operations"])


class SyncRunItem(BaseModel):
    id: int
    source: str = Field(examples=["dms"])
    status: str = Field(examples=["running"], description="running | succeeded | failed | abandoned")
    alive: bool = Field(description="running and heard from within AUTOHUB_SYNC_RUN_ABANDONED_AFTER_S")
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime | None = Field(description="when a running run last wrote its counts")
    silent_s: float | None = Field(description="seconds since the last heartbeat (running runs only)")
    records_in: int
    records_unchanged: int
    records_mapped: int
    records_partial: int
    records_quarantined: int
    error_message: str | None


def _item(run: SyncRun, now: datetime, alive_within_s: float) -> SyncRunItem:
    silent = round((now - run.last_beat).total_seconds(), 1) if run.status == "running" else None
    return SyncRunItem(
        id=run.id, source=run.source, status=run.status, alive=silent is not None and silent <= alive_within_s,
        started_at=run.started_at, finished_at=run.finished_at, heartbeat_at=run.heartbeat_at, silent_s=silent,
        records_in=run.records_in, records_unchanged=run.records_unchanged, records_mapped=run.records_mapped,
        records_partial=run.records_partial, records_quarantined=run.records_quarantined,
        error_message=run.error_message,
    )  # fmt: skip


@router.get("/sync-runs", summary="Sync and consumer runs, newest first", response_model=Page[SyncRunItem])
async def sync_runs(
    hub: HubDep,
    _: Annotated[ApiKey, Depends(require("read"))],
    source: Annotated[str | None, Query(max_length=40, examples=["dms"])] = None,
    status: Annotated[Literal["running", "succeeded", "failed", "abandoned"] | None, Query()] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[SyncRunItem]:
    before = decode_cursor(cursor)

    def page(session: Session) -> Page[SyncRunItem]:
        rows = reports.list_sync_runs(session, source=source, status=status, before_id=before, limit=limit)
        now = datetime.now(UTC)
        items = [_item(r, now, hub.settings.sync_run_abandoned_after_s) for r in rows]
        return Page[SyncRunItem](items=items, next_cursor=next_cursor([r.id for r in rows], limit))

    result: Page[SyncRunItem] = await hub.read(page)
    return result
