"""``GET /v1/customers/{golden_id}``: the customer 360; ``GET /v1/customers``: search.

The 360 answers conditionally (``ETag``/``If-None-Match`` → 304, so a system that polls a customer costs one
hashing of the view, not a transfer), follows merges with a permanent redirect (a downstream system that
stored an absorbed id is told the survivor's), and writes an audit row for every response that carried PII
in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sqlalchemy.orm import Session

from hub_api.masking import Masker
from hub_api.problems import Problem
from hub_api.security import allowed, require
from hub_api.views.customer import Customer, customer_view
from store import customer_view as reads
from store.api_keys import ApiKey, audit_pii_read

router = APIRouter(tags=["customers"])
JSON = "application/json"
GOLDEN_ID = Path(
    examples=["P-3F2A9C0B1D4E5F6A7B8C"], description="the hub's golden customer id", max_length=40
)


@dataclass(frozen=True)
class _Moved:
    to: str


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in offered or "*" in offered


def cached_json(content: bytes, if_none_match: str | None) -> Response:
    """200 with the body, or 304 when the client holds this exact version; ``Vary`` because the body
    depends on the caller's scopes."""
    etag = etag_of(content)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}
    if not_modified(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=JSON, headers=headers)


def _gone(golden_id: str) -> Problem:
    return Problem(410, "Customer erased", f"{golden_id} was erased at the customer's request (PIPL Art. 47); "
                   "the change feed announced it", reason="erased")  # fmt: skip


@router.get(
    "/customers/{golden_id}",
    summary="Customer 360",
    response_model=Customer,
    responses={
        304: {"description": "not modified since the ETag sent in If-None-Match"},
        308: {"description": "the id was merged into another golden customer; Location names the survivor"},
        404: {"description": "no golden customer with this id"},
        410: {"description": "the customer was erased"},
    },
)
async def get_customer(
    request: Request,
    golden_id: Annotated[str, GOLDEN_ID],
    key: Annotated[ApiKey, Depends(require("read"))],
    explain: Annotated[bool, Query(description="add the lineage of each golden attribute")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    hub = request.app.state.hub
    clear = allowed(key, "read:pii")

    def load(session: Session) -> bytes | _Moved:
        row = reads.golden(session, golden_id)
        if row is None or row.entity_type != "party":
            raise Problem(404, "Unknown customer", f"no golden customer {golden_id}; ids come from search, the "
                          "cross-reference or the change feed", reason="unknown_golden_id")  # fmt: skip
        if row.status == "merged":
            return _Moved(reads.survivor(session, golden_id))
        if row.status == "erased":
            raise _gone(golden_id)
        mask = Masker(clear)
        content = (
            customer_view(reads.customer(session, row, with_lineage=explain), mask).model_dump_json().encode()
        )
        if mask.shown and not not_modified(if_none_match, etag_of(content)):
            audit_pii_read(session, key, f"GET /v1/customers/{golden_id}", golden_id, sorted(mask.shown))
            session.commit()  # the audit row is written before the data leaves
        return content

    result = await hub.read(load)
    if isinstance(result, _Moved):
        query = f"?{request.url.query}" if request.url.query else ""
        return Response(status_code=308, headers={"Location": f"/v1/customers/{result.to}{query}"})
    return cached_json(result, if_none_match)
