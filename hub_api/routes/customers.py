"""``GET /v1/customers/{golden_id}``: the customer 360; ``GET /v1/customers``: search.

The 360 answers conditionally (``ETag``/``If-None-Match`` → 304, so a system that polls a customer costs one
hashing of the view, not a transfer), follows merges with a permanent redirect (a downstream system that
stored an absorbed id is told the survivor's), and writes an audit row for every response that carried PII
in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from canonical_model.disclosure import Masker
from hub_api.caching import JSON, cached_json, etag_of, not_modified
from hub_api.hub import HubDep
from hub_api.pagination import CursorParam, LimitParam, Page, decode_key, encode_cursor
from hub_api.problems import Problem
from hub_api.security import allowed, require
from hub_api.views.customer import Customer, customer_view
from store import customer_view as reads
from store import search_keys
from store.api_keys import ApiKey, audit_pii_read, audited_since
from store.customer_view import display_name

router = APIRouter(tags=["customers"])
GOLDEN_ID = Path(
    examples=["P-3F2A9C0B1D4E5F6A7B8C"], description="the hub's golden customer id", max_length=40
)


@dataclass(frozen=True)
class _Moved:
    to: str


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
    hub: HubDep,
    golden_id: Annotated[str, GOLDEN_ID],
    key: Annotated[ApiKey, Depends(require("read"))],
    explain: Annotated[bool, Query(description="add the lineage of each golden attribute")] = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    clear = allowed(key, "read:pii")

    def load(session: Session) -> bytes | _Moved:
        data = reads.customer_360(session, golden_id, with_lineage=explain)
        if data is None or data.golden.entity_type != "party":
            raise Problem(404, "Unknown customer", f"no golden customer {golden_id}; ids come from search, the "
                          "cross-reference or the change feed", reason="unknown_golden_id")  # fmt: skip
        if data.golden.status == "merged":
            return _Moved(reads.survivor(session, golden_id))
        if data.golden.status == "erased":
            raise _gone(golden_id)
        mask = Masker(clear)
        content = customer_view(data, mask).model_dump_json().encode()
        if mask.shown and not not_modified(if_none_match, etag_of(content)):
            audit_pii_read(session, key, f"GET /v1/customers/{golden_id}", golden_id, sorted(mask.shown))
            session.commit()  # the audit row is written before the data leaves
        return content

    # One statement on PostgreSQL: no transaction around it (the audit row, when there is one, commits alone).
    result = await hub.read(load, autocommit=True)
    if isinstance(result, _Moved):
        query = f"?{request.url.query}" if request.url.query else ""
        return Response(status_code=308, headers={"Location": f"/v1/customers/{result.to}{query}"})
    return cached_json(result, if_none_match)


class CustomerSummary(BaseModel):
    golden_id: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    kind: str = Field(examples=["person"])
    name: str | None = Field(default=None, examples=["张伟"])
    mobile: str | None = Field(
        default=None, examples=["+86139****5843"], description="masked unless read:pii"
    )
    region_code: str | None = None
    sources: list[str] = []
    member_count: int = 0


async def _within_id_search_limit(hub: Any, key: ApiKey, action: str) -> None:
    """429 with Retry-After once the key made ``id_number_searches_per_hour`` ID-number searches in the hour."""
    limit = hub.settings.id_number_searches_per_hour
    now = datetime.now(UTC)
    done = await hub.read(
        lambda session: audited_since(session, key.key_id, action, now - timedelta(hours=1))
    )
    if len(done) < limit:
        return
    wait = 1 if not done else max(1, int((done[0] + timedelta(hours=1) - now).total_seconds()) + 1)
    raise Problem(429, "Too many ID-number searches",
                  f"key {key.name!r} made {len(done)} ID-number searches in the last hour, the limit is {limit} "
                  "(AUTOHUB_ID_NUMBER_SEARCHES_PER_HOUR); each is audited. Retry later or search by another "
                  "criterion", reason="id_search_limit", field="id_number", headers={"Retry-After": str(wait)})  # fmt: skip


@router.get(
    "/customers",
    summary="Search golden customers",
    response_model=Page[CustomerSummary],
    description="Exactly one of the criteria. A mobile, plate or VIN may be typed in any usual form; an ID number "
    "is matched by its keyed hash and is never stored or logged in clear. A plate or VIN finds the car's owners, "
    "drivers and policy holders. Restricted customers (PIPL) are not searchable.",
)
async def search_customers(
    hub: HubDep,
    key: Annotated[ApiKey, Depends(require("read"))],
    mobile: Annotated[str | None, Query(max_length=40, examples=["139 1726 5843"])] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    name: Annotated[str | None, Query(max_length=100, examples=["張偉"])] = None,
    pinyin: Annotated[str | None, Query(max_length=100, examples=["zhang wei"])] = None,
    organisation: Annotated[str | None, Query(max_length=200)] = None,
    plate: Annotated[str | None, Query(max_length=20, examples=["沪A12345"])] = None,
    vin: Annotated[str | None, Query(max_length=40, examples=["LFV3A28E8KF016767"])] = None,
    id_number: Annotated[
        str | None, Query(max_length=40, description="resident ID or USCC; matched by hash")
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    given = {k: v for k, v in {"mobile": mobile, "email": email, "name": name, "pinyin": pinyin,
             "organisation": organisation, "plate": plate, "vin": vin, "id_number": id_number}.items() if v}  # fmt: skip
    if len(given) != 1:
        raise Problem(400, "One criterion", f"search by exactly one of {', '.join(search_keys.SEARCH_KINDS)}; got "
                      f"{', '.join(given) or 'none'}", reason="one_criterion")  # fmt: skip
    ((kind, value),) = given.items()
    after = decode_key(cursor)
    clear = allowed(key, "read:pii")
    action = f"GET /v1/customers?{kind}=…"
    if kind == "id_number":
        await _within_id_search_limit(hub, key, action)

    def search(session: Session) -> Page[CustomerSummary]:
        goldens = [g for g in reads.active_goldens(session, search_keys.golden_ids_for(session, kind, value, hub.settings.pii_key))
                   if g.golden_id > after]  # fmt: skip
        if kind == "id_number":  # who asked whether this number is a customer's, and whose it was
            found: list[str | None] = [g.golden_id for g in goldens]
            for golden_id in found or [None]:
                audit_pii_read(session, key, action, golden_id, ["id_number"])
            session.commit()
        mask = Masker(clear)
        page = goldens[:limit]
        items = [CustomerSummary(golden_id=g.golden_id, kind=g.body.get("kind", "person"),
                                 name=display_name(g.body),
                                 mobile=mask.mobile((g.body.get("mobile") or {}).get("mobile")),
                                 region_code=g.body.get("region_code"), sources=g.body.get("sources") or [],
                                 member_count=g.body.get("member_count", 0)) for g in page]  # fmt: skip
        if mask.shown:
            audit_pii_read(session, key, action, None, sorted(mask.shown))
            session.commit()
        more = len(goldens) > limit
        return Page[CustomerSummary](
            items=items, next_cursor=encode_cursor(page[-1].golden_id) if more else None
        )

    result: Page[CustomerSummary] = await hub.read(search)
    return Response(result.model_dump_json(), media_type=JSON)
