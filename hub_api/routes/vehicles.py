"""``GET /v1/vehicles/{vin}``: a car's golden record — definition, production, plates, owners, history.

A VIN is accepted in any case and with stray spaces; one that cannot be a VIN is answered with a 422 that says
which rule it broke (length, a forbidden letter, the check digit), the same words the quarantine uses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response
from sqlalchemy.orm import Session

from canonical_model.disclosure import Masker
from canonical_model.identifiers import vin as vin_rules
from hub_api.caching import cached_json, etag_of, not_modified
from hub_api.hub import HubDep
from hub_api.problems import Problem
from hub_api.security import allowed, require
from hub_api.views.vehicle import Vehicle, vehicle_view
from store import customer_view as reads
from store import search_keys
from store.api_keys import ApiKey, audit_pii_read

router = APIRouter(tags=["vehicles"])
HISTORY_TYPES = ("service_event", "insurance_policy")


@router.get(
    "/vehicles/{vin}",
    summary="Vehicle with owners and history",
    response_model=Vehicle,
    responses={
        304: {"description": "not modified since the ETag sent"},
        404: {"description": "no such vehicle"},
    },
)
async def get_vehicle(
    hub: HubDep,
    vin: Annotated[str, Path(max_length=40, examples=["LFV3A28E8KF016767"], description="any case")],
    key: Annotated[ApiKey, Depends(require("read"))],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    normal = vin_rules.validate(vin)  # InvalidVin → 422 problem
    clear = allowed(key, "read:pii")

    def load(session: Session) -> bytes:
        row = reads.golden_vehicles(session, [normal]).get(normal)
        if row is None:
            raise Problem(404, "Unknown vehicle", f"the hub holds no vehicle {normal}; it may not be synced yet",
                          reason="unknown_vin")  # fmt: skip
        owner = None
        if str(row.body.get("current_owner") or "").startswith("P-"):
            owner = reads.golden(session, reads.survivor(session, row.body["current_owner"]))
            owner = owner if owner is not None and owner.status in ("active", "restricted") else None
        facts = [f for f in reads.facts_by_id(session, search_keys.find(session, "vin", normal, limit=10_000))
                 if f.entity_type in HISTORY_TYPES]  # fmt: skip
        mask = Masker(clear)
        content = vehicle_view(row, owner, facts, mask).model_dump_json().encode()
        if mask.shown and owner is not None and not not_modified(if_none_match, etag_of(content)):
            audit_pii_read(session, key, f"GET /v1/vehicles/{normal}", owner.golden_id, sorted(mask.shown))
            session.commit()
        return content

    result: bytes = await hub.read(load)
    return cached_json(result, if_none_match)
