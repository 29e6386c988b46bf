"""``POST /v1/recalls``: the affected cars of a campaign with their current owners, as JSON pages or a CSV file.

VIN lists are answered in one response (invalid VINs listed with the reason, unknown ones as not found, so a
typo in the campaign list is visible instead of dropped); criteria are answered page by page with a cursor,
or — with ``Accept: text/csv`` — as one streamed file for the filing. Owner contacts are masked unless the key
has ``read:pii``; a clear answer is audited once per request, with the campaign named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from canonical_model.identifiers import vin as vin_rules
from canonical_model.identifiers.errors import InvalidVin
from hub_api.masking import Masker
from hub_api.pagination import CursorParam, LimitParam, decode_key, encode_cursor
from hub_api.security import allowed, require
from hub_api.views.recall import (
    CSV_COLUMNS,
    InvalidVinItem,
    RecallPage,
    RecallRequest,
    csv_lines,
    recall_vehicle,
)
from store import recall
from store.api_keys import ApiKey, audit_pii_read

router = APIRouter(tags=["recalls"])
PII_FIELDS = ["mobile", "email", "address"]
_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS) + "\n"}}}
}


def _split_vins(vins: list[str]) -> tuple[list[str], list[InvalidVinItem]]:
    valid: list[str] = []
    invalid: list[InvalidVinItem] = []
    for raw in vins:
        try:
            valid.append(vin_rules.validate(raw))
        except InvalidVin as exc:
            invalid.append(InvalidVinItem(vin=raw, reason=exc.reason, message=exc.message))
    return valid, invalid


def _page(session: Session, request: RecallRequest, after: str, limit: int, mask: Masker) -> RecallPage:
    if request.vins is not None:
        valid, invalid = _split_vins(request.vins)
        campaign = recall.by_vins(session, valid)
        page = RecallPage(items=[], not_found=campaign.not_found, invalid=invalid)
    else:
        campaign = recall.by_criteria(session, request.scan_criteria(), after=after, limit=limit)
        page = RecallPage(
            items=[], next_cursor=encode_cursor(campaign.last_key) if campaign.last_key else None
        )
    marketing = recall.marketing_consent(session, {a.owner.golden_id for a in campaign.affected if a.owner})
    page.items = [recall_vehicle(a, mask, marketing) for a in campaign.affected]
    return page


def _all(session: Session, request: RecallRequest, mask: Masker) -> Iterator[Any]:
    if request.vins is not None:
        yield from _page(session, request, "", 0, mask).items
        return
    after = ""
    while True:
        page = _page(session, request, after, recall.SCAN_BATCH, mask)
        yield from page.items
        if page.next_cursor is None:
            return
        after = decode_key(page.next_cursor)


@router.post(
    "/recalls",
    summary="Affected vehicles and their current owners",
    response_model=RecallPage,
    responses=_CSV_DOC,
)
async def recalls(
    request: Request,
    body: RecallRequest,
    key: Annotated[ApiKey, Depends(require("read"))],
    cursor: CursorParam = None,
    limit: LimitParam = 500,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    hub = request.app.state.hub
    clear = allowed(key, "read:pii")
    after = decode_key(cursor)
    action = f"POST /v1/recalls campaign={body.campaign}"
    if accept and "text/csv" in accept:
        if clear:
            await hub.write(lambda session: audit_pii_read(session, key, action, None, PII_FIELDS))

        def stream() -> Iterator[str]:
            with hub.sessions() as session:
                yield from csv_lines(_all(session, body, Masker(clear)))

        filename = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in body.campaign)
        return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="recall-{filename}.csv"'})  # fmt: skip

    def answer(session: Session) -> RecallPage:
        mask = Masker(clear)
        page = _page(session, body, after, limit, mask)
        if mask.shown:
            audit_pii_read(session, key, action, None, sorted(mask.shown))
        return page

    result: RecallPage = await hub.write(answer)
    return Response(result.model_dump_json(), media_type="application/json")
