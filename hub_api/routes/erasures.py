"""``POST /v1/erasures``: a PIPL erasure (or restriction) request, applied at once and announced on the feed.

Scope ``admin``: erasing a customer is the privacy office's decision, not a downstream system's. The answer
says what happened — erased, or restricted under the recall record duty until a date — and lists the source
records, which the change feed also carries so every source system can erase its own copy.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.client_text import ClientModel
from hub_api.hub import HubDep
from hub_api.security import require
from store import erasure
from store.api_keys import ApiKey

router = APIRouter(tags=["privacy"])


class ErasureRequest(ClientModel):
    golden_id: str = Field(max_length=40, examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    request_ref: str = Field(min_length=1, max_length=120, examples=["PRIV-2026-00731"],
                             description="the privacy office's ticket; no personal data here")  # fmt: skip
    mode: Literal["erase", "restrict"] = Field(default="erase", description="erase (restricted instead when a "
                                               "legal hold applies) or restrict (PIPL Art. 44)")  # fmt: skip


class ErasureResult(BaseModel):
    golden_id: str
    outcome: str = Field(examples=["restricted"], description="erased | restricted")
    legal_hold_until: date | None = Field(default=None, examples=["2031-05-02"],
                                          description="restricted: when the recall record duty ends")  # fmt: skip
    source_records: list[str] = Field(examples=[["erp/C00000042", "dms/D31002-000163"]])
    canonical_records_removed: int


_REFUSED: dict[int | str, dict[str, Any]] = {409: {"description": "unknown customer, or already erased"}}


@router.post("/erasures", summary="Erase or restrict a customer (PIPL)", response_model=ErasureResult,
             responses=_REFUSED)  # fmt: skip
async def erase(
    hub: HubDep, body: ErasureRequest, key: Annotated[ApiKey, Depends(require("admin"))]
) -> ErasureResult:
    def apply(session: Session) -> ErasureResult:
        done = erasure.erase(session, body.golden_id, actor=key.name, request_ref=body.request_ref,
                             restrict_only=body.mode == "restrict")  # fmt: skip
        return ErasureResult.model_validate(done, from_attributes=True)

    result: ErasureResult = await hub.write(apply)
    return result
