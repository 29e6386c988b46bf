"""The customer 360 as the API shows it: the golden record, masked by scope, and what each source says.

Golden attributes come from survivorship (one value, with lineage); consents, credit profiles, policies and
service events are not chosen between — each source's own records are listed, newest first, because a
downstream system needs to know who said what (a withdrawn consent in the portal beats nothing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from canonical_model.disclosure import Masker
from store.customer_view import CustomerData, SourceFact, consent_statement, newer

RECENT_EVENTS = 20


class Name(BaseModel):
    raw: str = Field(examples=["張偉"])
    simplified: str = Field(examples=["张伟"])
    pinyin: str = Field(examples=["zhang wei"])


class IdentifierView(BaseModel):
    type: str = Field(examples=["resident_id"])
    masked: str = Field(
        examples=["110105********002X"], description="always masked: the hub keeps no clear ID"
    )
    verified: bool = False


class ContactPointView(BaseModel):
    kind: str = Field(examples=["mobile"])
    value: str = Field(examples=["+86138****8000"], description="masked unless the key has read:pii")
    region_code: str | None = Field(default=None, description="addresses: the district code")
    verified: bool = False


class ConsentView(BaseModel):
    purpose: str = Field(examples=["marketing"])
    channel: str = Field(examples=["sms"])
    recipient: str = Field(examples=["maker"])
    status: str = Field(examples=["granted"], description="granted | withdrawn")
    legal_basis: str = Field(examples=["consent"])
    since: datetime | None = None
    source: str = Field(examples=["portal"])


class VehicleRoleView(BaseModel):
    role: str = Field(examples=["first_purchaser"])
    source: str = Field(examples=["erp"])
    valid_from: str | None = Field(default=None, examples=["2021-05-02"])
    valid_to: str | None = None


class CustomerVehicle(BaseModel):
    vin: str = Field(examples=["LFV3A28E8KF016767"])
    golden_id: str | None = Field(default=None, examples=["V-7419B6952B424A9F85C5"])
    make: str | None = None
    model: str | None = None
    model_year: int | None = None
    current_owner: bool = Field(description="the golden vehicle names this customer as its current owner")
    roles: list[VehicleRoleView]


class CreditView(BaseModel):
    source: str = Field(examples=["finance"])
    source_id: str
    grade: str | None = Field(default=None, examples=["AA"])
    term_days: int | None = None
    limit: str | None = Field(default=None, examples=["***"])
    currency: str | None = None
    receivable_balance: str | None = None


class PolicyView(BaseModel):
    policy_number: str = Field(examples=["PDAA2022120053613303"])
    vin: str
    insurer: str | None = None
    product: str | None = None
    start_date: str
    end_date: str
    source: str = "insurance"


class EventView(BaseModel):
    event_type: str = Field(examples=["repair_order"])
    occurred_at: str
    vin: str | None = None
    dealer_code: str | None = None
    category: str | None = None
    mileage_km: int | None = None
    safety_fault: bool = False
    source: str
    source_id: str


class MemberView(BaseModel):
    source: str = Field(examples=["dms"])
    source_id: str = Field(examples=["D31002-000163"])
    method: str = Field(
        examples=["probabilistic"], description="deterministic | probabilistic | manual | singleton"
    )
    match_weight: float | None = None
    linked_at: datetime


class LineageView(BaseModel):
    attribute: str = Field(examples=["mobile"])
    source: str = Field(examples=["portal"])
    source_id: str
    rule: str = Field(
        examples=["validated"], description="the survivorship rule that chose this source's value"
    )
    decided_at: datetime


class Customer(BaseModel):
    golden_id: str = Field(examples=["P-3F2A9C0B1D4E5F6A7B8C"])
    status: str = Field(examples=["active"], description="active | restricted")
    version: int
    updated_at: datetime
    kind: str = Field(examples=["person"])
    name: Name | None = None
    organisation_name: str | None = None
    gender: str | None = None
    birth_date: str | None = Field(default=None, examples=["1980-**-**"])
    region_code: str | None = None
    identifiers: list[IdentifierView] = []
    contact_points: list[ContactPointView] = []
    consents: list[ConsentView] = []
    vehicles: list[CustomerVehicle] = []
    credit_profiles: list[CreditView] = []
    insurance_policies: list[PolicyView] = []
    recent_events: list[EventView] = Field(default=[], description=f"the newest {RECENT_EVENTS}")
    members: list[MemberView] = []
    pii: str = Field(examples=["masked"], description="masked | clear: whether PII is shown in clear")
    lineage: list[LineageView] | None = Field(default=None, description="with ?explain=true")


def _contacts(body: dict[str, Any], mask: Masker) -> list[ContactPointView]:
    out: list[ContactPointView] = []
    for kind in ("mobile", "email", "address"):
        point = body.get(kind)
        if not point:
            continue
        value = mask.contact(kind, point)
        if kind == "address":
            address = point.get("address") or {}
            parts = [address.get("province"), address.get("city"), address.get("district")]
            value = " ".join(p for p in [*parts, value] if p)
        if value:
            region = (point.get("address") or {}).get("region_code") if kind == "address" else None
            out.append(
                ContactPointView(
                    kind=kind, value=value, region_code=region, verified=point.get("verified", False)
                )
            )
    return out


def _consents(facts: list[SourceFact]) -> list[ConsentView]:
    """Newest statement per (purpose, channel, recipient): a later withdrawal beats an earlier grant."""
    latest: dict[tuple[str, str, str], ConsentView] = {}
    for fact in facts:
        b = fact.body
        status, since = consent_statement(b)
        view = ConsentView(purpose=b["purpose"], channel=b["channel"], recipient=b.get("recipient", ""),
                           status=status, legal_basis=b.get("legal_basis", "consent"), since=since,
                           source=fact.source)  # fmt: skip
        key = (view.purpose, view.channel, view.recipient)
        held = latest.get(key)
        if held is None or newer(view.since, held.since):
            latest[key] = view
    return sorted(latest.values(), key=lambda v: (v.purpose, v.channel, v.recipient))


def _vehicles(data: CustomerData) -> list[CustomerVehicle]:
    roles: dict[str, list[VehicleRoleView]] = {}
    for fact in data.of_type("vehicle_relationship"):
        b = fact.body
        roles.setdefault(b["vin"], []).append(VehicleRoleView(role=b["role"], source=fact.source,
                                                              valid_from=b.get("valid_from"), valid_to=b.get("valid_to")))  # fmt: skip
    out: list[CustomerVehicle] = []
    for vin, held in sorted(roles.items()):
        golden = data.vehicles.get(vin)
        body = golden.body if golden else {}
        definition = body.get("definition") or {}
        out.append(CustomerVehicle(vin=vin, golden_id=golden.golden_id if golden else None,
                                   make=definition.get("make"), model=definition.get("model"),
                                   model_year=definition.get("model_year"),
                                   current_owner=body.get("current_owner") == data.golden.golden_id,
                                   roles=sorted(held, key=lambda r: (r.valid_from or "", r.role))))  # fmt: skip
    return out


def _credit(facts: list[SourceFact], mask: Masker) -> list[CreditView]:
    return [CreditView(source=f.source, source_id=f.entity_key, grade=mask.figure(f.body.get("grade")),
                       term_days=f.body.get("term_days"), limit=mask.figure(f.body.get("limit")),
                       currency=f.body.get("currency"),
                       receivable_balance=mask.figure(f.body.get("receivable_balance")))
            for f in facts]  # fmt: skip


def _policies(facts: list[SourceFact]) -> list[PolicyView]:
    views = [PolicyView(policy_number=f.body["policy_number"], vin=f.body["vin"], insurer=f.body.get("insurer"),
                        product=f.body.get("product"), start_date=f.body["start_date"], end_date=f.body["end_date"],
                        source=f.source) for f in facts]  # fmt: skip
    return sorted(views, key=lambda p: p.start_date, reverse=True)


def event_view(fact: SourceFact) -> EventView:
    b = fact.body
    return EventView(event_type=b["event_type"], occurred_at=b["occurred_at"], vin=b.get("vin"),
                     dealer_code=b.get("dealer_code"), category=b.get("category"), mileage_km=b.get("mileage_km"),
                     safety_fault=b.get("safety_fault", False), source=fact.source, source_id=fact.entity_key)  # fmt: skip


def customer_view(data: CustomerData, mask: Masker) -> Customer:
    row, body = data.golden, data.golden.body
    restricted = row.status == "restricted"
    if restricted:
        mask.clear = False  # restricted processing (PIPL Art. 47): kept for the recall duty, shown to no one
    name = body.get("name")
    events = sorted(data.of_type("service_event"), key=lambda f: f.body.get("occurred_at", ""), reverse=True)
    return Customer(
        golden_id=row.golden_id, status=row.status, version=row.version, updated_at=row.updated_at,
        kind=body.get("kind", "person"),
        name=Name(raw=name.get("raw", ""), simplified=name.get("simplified", ""), pinyin=name.get("pinyin", ""))
        if name else None,
        organisation_name=body.get("organisation_name"), gender=body.get("gender"),
        birth_date=mask.birth_date(body.get("birth_date")), region_code=body.get("region_code"),
        identifiers=[IdentifierView(type=i["type"], masked=i.get("masked", ""), verified=i.get("verified", False))
                     for i in body.get("identifier") or []],
        contact_points=_contacts(body, mask),
        consents=_consents(data.of_type("consent")),
        vehicles=_vehicles(data),
        credit_profiles=_credit(data.of_type("credit_profile"), mask),
        insurance_policies=_policies(data.of_type("insurance_policy")),
        recent_events=[event_view(f) for f in events[:RECENT_EVENTS]],
        members=[MemberView(source=m.source, source_id=m.entity_key, method=m.method, match_weight=m.match_weight,
                            linked_at=m.linked_at) for m in data.members],
        pii="clear" if mask.clear else "masked",
        lineage=[LineageView(attribute=r.attribute, source=r.source, source_id=r.entity_key, rule=r.rule,
                             decided_at=r.decided_at) for r in data.lineage] if data.lineage else None,
    )  # fmt: skip
