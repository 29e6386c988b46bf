"""The vehicle view: the golden vehicle with its plate history and ownership timeline, and what happened to it.

The ownership timeline names golden customers; the current owner is shown by name (and masked contact)
because "who has this car now" is the question a recall or a service campaign asks first. Service history
and policies are every source's records about the VIN, newest first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from canonical_model.disclosure import Masker
from hub_api.views.customer import EventView, PolicyView, event_view
from store.customer_view import SourceFact, display_name
from store.tables import GoldenRecordRow


class Definition(BaseModel):
    make: str | None = Field(default=None, examples=["大众"])
    model: str | None = Field(default=None, examples=["迈腾"])
    model_year: int | None = Field(default=None, examples=[2019])
    trim: str | None = None
    powertrain: str | None = None


class Plate(BaseModel):
    plate: str = Field(examples=["川AX1946"])
    valid_from: str | None = Field(default=None, examples=["2018-09-09"])
    source: str | None = None


class OwnershipPeriod(BaseModel):
    owner: str = Field(examples=["P-46A9E2106C5C407EB853"], description="golden customer id (or unmatched:…)")
    valid_from: str | None = None
    valid_to: str | None = Field(default=None, description="null for the current owner")
    evidence: list[str] = Field(examples=[["erp:first_purchaser@2018-09-09", "dms:owner@2018-09-09"]])


class CurrentOwner(BaseModel):
    golden_id: str
    status: str = Field(examples=["active"])
    name: str | None = Field(default=None, examples=["王涛"])
    mobile: str | None = Field(
        default=None, examples=["+86131****9136"], description="masked unless read:pii"
    )


class Vehicle(BaseModel):
    vin: str = Field(examples=["LFV3A28E8KF016767"])
    golden_id: str = Field(examples=["V-7419B6952B424A9F85C5"])
    version: int
    definition: Definition | None = None
    production_date: str | None = Field(default=None, examples=["2018-07-08"])
    plant_code: str | None = Field(default=None, examples=["FS01"])
    colour: str | None = None
    plates: list[Plate] = []
    ownership: list[OwnershipPeriod] = []
    current_owner: CurrentOwner | None = None
    service_history: list[EventView] = []
    insurance_policies: list[PolicyView] = []
    sources: list[str] = []
    known_to_maker: bool | None = Field(
        default=None,
        description="false: no production, plant or first-sale record of the maker's names this VIN (a typo "
        "whose check digit still passes, a grey import) — for a steward to look at; null: the store holds none "
        "of the maker's records to judge by",
    )
    flags: list[str] = Field(default=[], examples=[["vin_unknown_to_maker"]])


def vehicle_view(
    row: GoldenRecordRow, owner: GoldenRecordRow | None, facts: list[SourceFact], mask: Masker
) -> Vehicle:
    body: dict[str, Any] = row.body
    current = None
    if owner is not None:
        if owner.status == "restricted":
            mask.clear = False
        mobile = (owner.body.get("mobile") or {}).get("mobile")
        current = CurrentOwner(golden_id=owner.golden_id, status=owner.status,
                               name=display_name(owner.body),
                               mobile=mask.mobile(mobile))  # fmt: skip
    events = sorted((f for f in facts if f.entity_type == "service_event"), key=lambda f: f.body.get("occurred_at", ""), reverse=True)  # fmt: skip
    policies = [PolicyView(policy_number=f.body["policy_number"], vin=f.body["vin"], insurer=f.body.get("insurer"),
                           product=f.body.get("product"), start_date=f.body["start_date"], end_date=f.body["end_date"],
                           source=f.source) for f in facts if f.entity_type == "insurance_policy"]  # fmt: skip
    return Vehicle(
        vin=body["vin"], golden_id=row.golden_id, version=row.version,
        definition=Definition.model_validate(body["definition"]) if body.get("definition") else None,
        production_date=body.get("production_date"), plant_code=body.get("plant_code"), colour=body.get("colour"),
        plates=[Plate.model_validate(p) for p in body.get("plates") or []],
        ownership=[OwnershipPeriod(owner=p["owner"], valid_from=p.get("from"), valid_to=p.get("to"), evidence=p.get("evidence", []))
                   for p in body.get("ownership") or []],
        current_owner=current,
        service_history=[event_view(f) for f in events],
        insurance_policies=sorted(policies, key=lambda p: p.start_date, reverse=True),
        sources=body.get("sources") or [], known_to_maker=body.get("known_to_maker"), flags=body.get("flags") or [],
    )  # fmt: skip
