"""``POST /v1/recalls``: the affected cars of a campaign with their current owners, as JSON pages or a CSV file.

VIN lists are answered in one response (invalid VINs listed with the reason, unknown ones as not found, so a
typo in the campaign list is visible instead of dropped); criteria are answered page by page with a cursor,
or — with ``Accept: text/csv`` — as one streamed file for the filing. Owner contacts are masked unless the key
has ``read:pii``; a clear answer is audited once per request, with the campaign named.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from canonical_model.disclosure import Masker
from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, decode_key, encode_cursor
from hub_api.security import allowed, require
from recall.campaign import (
    CSV_COLUMNS,
    PII_FIELDS,
    RecallPage,
    RecallRequest,
    campaign_page,
    campaign_vehicles,
    csv_lines,
    file_name,
)
from store.api_keys import ApiKey, audit_pii_read

router = APIRouter(tags=["recalls"])
_CSV_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS) + "\n"}}}
}


@router.post(
    "/recalls",
    summary="Affected vehicles and their current owners",
    response_model=RecallPage,
    responses=_CSV_DOC,
)
async def recalls(
    hub: HubDep,
    body: RecallRequest,
    key: Annotated[ApiKey, Depends(require("read"))],
    cursor: CursorParam = None,
    limit: LimitParam = 500,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    clear = allowed(key, "read:pii")
    after = decode_key(cursor)
    action = f"POST /v1/recalls campaign={body.campaign}"
    if accept and "text/csv" in accept:
        if clear:
            await hub.write(lambda session: audit_pii_read(session, key, action, None, list(PII_FIELDS)))

        def stream() -> Iterator[str]:
            with hub.sessions() as session:
                yield from csv_lines(campaign_vehicles(session, body, Masker(clear)))

        return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="{file_name(body.campaign)}"'})  # fmt: skip

    def answer(session: Session) -> RecallPage:
        mask = Masker(clear)
        page, last_key = campaign_page(session, body, after, limit, mask)
        page.next_cursor = encode_cursor(last_key) if last_key else None
        if mask.shown:
            audit_pii_read(session, key, action, None, sorted(mask.shown))
        return page

    result: RecallPage = await hub.write(answer)
    return Response(result.model_dump_json(), media_type="application/json")
