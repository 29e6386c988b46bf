"""A recall campaign's answer: each affected car, its owner today and the channels a notice may use.

A recall notice rests on a legal obligation (Regulations on the Administration of Recall of Defective Auto
Products, Art. 15 / PIPL Art. 13(3)), not on consent: every channel the owner can be reached on is allowed,
and each carries ``legal_basis = legal_obligation``. Marketing consent is shown beside it so that nobody adds
an advertisement to a notice for an owner who refused marketing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from canonical_model.disclosure import Masker
from canonical_model.identifiers import vin as vin_rules
from canonical_model.identifiers.errors import InvalidVin
from core.client_text import ClientModel
from store import recall
from store.customer_view import display_name
from store.recall import Affected, Criteria

LEGAL_BASIS = "legal_obligation"
PII_FIELDS = ("mobile", "email", "address")  # what a clear answer may show: audited before it is given
CHANNELS = (("mobile", "sms"), ("mobile", "phone"), ("email", "email"), ("address", "mail"))
CSV_COLUMNS = ("vin", "vehicle_golden_id", "make", "model", "model_year", "production_date", "plant_code",
               "owner_golden_id", "owner_name", "owner_status", "owner_since", "previous_owners", "mobile", "email",
               "address", "legal_basis", "marketing_consent")  # fmt: skip


class RecallCriteria(ClientModel):
    wmi: list[str] = Field(default=[], examples=[["LFV"]], description="world manufacturer identifiers")
    models: list[str] = Field(default=[], examples=[["迈腾"]])
    model_years: list[int] = Field(default=[], examples=[[2019, 2020]])
    plants: list[str] = Field(default=[], examples=[["FS01"]])
    produced_from: date | None = Field(default=None, examples=["2018-06-01"])
    produced_to: date | None = Field(default=None, examples=["2019-05-31"])

    def to_criteria(self) -> Criteria:
        return Criteria([w.upper() for w in self.wmi], self.models, self.model_years, self.plants,
                        self.produced_from, self.produced_to)  # fmt: skip

    @model_validator(mode="after")
    def _something(self) -> RecallCriteria:
        if not (
            self.wmi
            or self.models
            or self.model_years
            or self.plants
            or self.produced_from
            or self.produced_to
        ):
            raise ValueError(
                "name at least one criterion (wmi, models, model_years, plants, produced_from/to)"
            )
        return self


class RecallRequest(ClientModel):
    campaign: str = Field(min_length=1, max_length=120, examples=["SAMR-2026-0412"],
                          description="the campaign's filing number; kept with each audited PII read")  # fmt: skip
    vins: list[str] | None = Field(default=None, max_length=10_000, examples=[["LFV3A28E8KF016767"]])
    criteria: RecallCriteria | None = None

    def scan_criteria(self) -> Criteria:
        if self.criteria is None:
            raise ValueError("a VIN-list request has no criteria to scan by")
        return self.criteria.to_criteria()

    @model_validator(mode="after")
    def _one_way(self) -> RecallRequest:
        if (self.vins is None) == (self.criteria is None):
            raise ValueError("give either vins or criteria")
        return self


class RecallContact(BaseModel):
    channel: str = Field(examples=["sms"], description="sms | phone | email | mail")
    value: str = Field(examples=["+86138****8000"], description="masked unless the key has read:pii")
    legal_basis: str = Field(default=LEGAL_BASIS, examples=[LEGAL_BASIS])


class RecallOwner(BaseModel):
    golden_id: str
    status: str = Field(description="active | restricted (kept under legal hold for this duty)")
    name: str | None
    contacts: list[RecallContact]
    marketing_consent: str = Field(examples=["withdrawn"], description="granted | withdrawn | none — not needed "
                                   "for the notice; do not add marketing unless granted")  # fmt: skip


class RecallVehicle(BaseModel):
    vin: str
    golden_id: str
    make: str | None = None
    model: str | None = None
    model_year: int | None = None
    production_date: str | None = None
    plant_code: str | None = None
    owner: RecallOwner | None = Field(description="null: no owner known (never sold, or erased)")
    owner_since: str | None = None
    previous_owners: int = Field(description="changes of hands before the current owner")


class InvalidVinItem(BaseModel):
    vin: str
    reason: str = Field(examples=["check_digit"])
    message: str


class RecallPage(BaseModel):
    items: list[RecallVehicle]
    next_cursor: str | None = None
    not_found: list[str] = Field(default=[], description="valid VINs the hub holds no vehicle for")
    invalid: list[InvalidVinItem] = Field(default=[], description="VINs that are not VINs, with the reason")


def _contacts(body: dict[str, object], mask: Masker) -> list[RecallContact]:
    out: list[RecallContact] = []
    for kind, channel in CHANNELS:
        point = body.get(kind)
        if not isinstance(point, dict) or point.get("is_placeholder"):
            continue
        value = mask.contact(kind, point)
        if value:
            out.append(RecallContact(channel=channel, value=value))
    return out


def recall_vehicle(item: Affected, mask: Masker, marketing: dict[str, str]) -> RecallVehicle:
    body = item.vehicle.body
    definition = body.get("definition") or {}
    owner = None
    if item.owner is not None:
        o = item.owner
        owner = RecallOwner(golden_id=o.golden_id, status=o.status, name=display_name(o.body), contacts=_contacts(o.body, mask),
                            marketing_consent=marketing.get(o.golden_id, "none"))  # fmt: skip
    return RecallVehicle(vin=body["vin"], golden_id=item.vehicle.golden_id, make=definition.get("make"),
                         model=definition.get("model"), model_year=definition.get("model_year"),
                         production_date=body.get("production_date"), plant_code=body.get("plant_code"), owner=owner,
                         owner_since=item.owner_since, previous_owners=item.previous_owners)  # fmt: skip


def split_vins(vins: list[str]) -> tuple[list[str], list[InvalidVinItem]]:
    """Valid VINs in their canonical form, and the invalid ones with the rule they break (never dropped)."""
    valid: list[str] = []
    invalid: list[InvalidVinItem] = []
    for raw in vins:
        try:
            valid.append(vin_rules.validate(raw))
        except InvalidVin as exc:
            invalid.append(InvalidVinItem(vin=raw, reason=exc.reason, message=exc.message))
    return valid, invalid


def campaign_page(
    session: Session, request: RecallRequest, after: str, limit: int, mask: Masker
) -> tuple[RecallPage, str | None]:
    """One page of the answer and the scan key to continue after (None: the last page; a VIN list is one page)."""
    last_key: str | None = None
    if request.vins is not None:
        valid, invalid = split_vins(request.vins)
        campaign = recall.by_vins(session, valid)
        page = RecallPage(items=[], not_found=campaign.not_found, invalid=invalid)
    else:
        campaign = recall.by_criteria(session, request.scan_criteria(), after=after, limit=limit)
        page = RecallPage(items=[])
        last_key = campaign.last_key or None
    marketing = recall.marketing_consent(session, {a.owner.golden_id for a in campaign.affected if a.owner})
    page.items = [recall_vehicle(a, mask, marketing) for a in campaign.affected]
    return page, last_key


def campaign_pages(session: Session, request: RecallRequest, mask: Masker) -> Iterator[RecallPage]:
    """The whole answer, page by page (a criteria scan may cover millions of cars; a VIN list is one page, with
    its invalid and unknown VINs)."""
    after = ""
    while True:
        page, last_key = campaign_page(session, request, after, recall.SCAN_BATCH, mask)
        yield page
        if last_key is None:
            return
        after = last_key


def campaign_vehicles(session: Session, request: RecallRequest, mask: Masker) -> Iterator[RecallVehicle]:
    """Every affected car of the campaign, read batch by batch."""
    for page in campaign_pages(session, request, mask):
        yield from page.items


def file_name(campaign: str) -> str:
    """The filing's file name: the campaign number with anything but letters, digits, - and _ replaced (it
    goes into a Content-Disposition header and a path)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in campaign)
    return f"recall-{safe}.csv"


def csv_lines(vehicles: Iterable[RecallVehicle]) -> Iterator[str]:
    """The filing's file: one line per car, the header first; written as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for v in vehicles:
        contact = {c.channel: c.value for c in v.owner.contacts} if v.owner else {}
        writer.writerow([v.vin, v.golden_id, v.make, v.model, v.model_year, v.production_date, v.plant_code,
                         v.owner.golden_id if v.owner else "", v.owner.name if v.owner else "",
                         v.owner.status if v.owner else "", v.owner_since, v.previous_owners, contact.get("sms", ""),
                         contact.get("email", ""), contact.get("mail", ""), LEGAL_BASIS,
                         v.owner.marketing_consent if v.owner else ""])  # fmt: skip
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
