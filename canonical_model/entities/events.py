"""What happened to a customer or a car: leads, deliveries, repair orders, service requests; and consent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, model_validator

from canonical_model.entities.common import CanonicalModel, PlateNumber, RecordsRepairs, SourceName, Vin


class ServiceEventType(StrEnum):
    LEAD = "lead"
    DELIVERY = "delivery"
    REPAIR_ORDER = "repair_order"
    SERVICE_REQUEST = "service_request"
    REGISTRATION = "registration"


class PurchaseTimeframe(StrEnum):
    IMMEDIATE = "immediate"
    WITHIN_3_MONTHS = "3_months"
    WITHIN_6_MONTHS = "6_months"
    WITHIN_12_MONTHS = "12_months"


class ServiceEvent(RecordsRepairs):
    event_type: ServiceEventType
    occurred_at: datetime
    party_source_id: str | None = None
    vin: Vin | None = None
    # The last 6–8 characters a dealer typed instead of the VIN; resolved to ``vin`` by the store when exactly
    # one known vehicle ends so (``repaired.vin`` then says so), else kept as it is.
    vin_partial: str | None = Field(default=None, pattern=r"^[A-HJ-NPR-Z0-9]{6,8}$")
    # The plate a caller or a front desk gave instead of the VIN (a hotline, a quick service): resolved to ``vin``
    # by the store when exactly one known vehicle has carried it, else kept as it is.
    plate: PlateNumber | None = None
    dealer_code: str | None = None
    purchase_timeframe: PurchaseTimeframe | None = None
    category: str | None = None  # the source's own type, e.g. a portal request "保养预约" or a lead's channel
    model_interest: str | None = None  # leads: the model the prospect asked about
    mileage_km: int | None = Field(default=None, ge=0, le=3_000_000)
    work_description: str | None = None
    # Recall regulation Art. 10: repairs caused by safety faults are reported; the flag keeps them findable.
    safety_fault: bool = False

    @model_validator(mode="after")
    def _fields_of_type(self) -> ServiceEvent:
        if (
            self.event_type is ServiceEventType.REPAIR_ORDER
            and self.vin is None
            and self.vin_partial is None
            and self.plate is None
        ):
            raise ValueError(
                "a repair order needs the VIN of the repaired vehicle (or at least its last 6 characters, or its plate)"
            )
        if self.event_type is ServiceEventType.DELIVERY and self.vin is None and self.vin_partial is None:
            raise ValueError(
                "a delivery needs the VIN of the delivered vehicle (or at least its last 6 characters)"
            )
        return self


class ConsentPurpose(StrEnum):
    MARKETING = "marketing"
    SERVICE_REMINDER = "service_reminder"
    RECALL_NOTICE = "recall_notice"
    DATA_SHARING = "data_sharing"  # PIPL Art. 23: giving data to another handler needs separate consent


class Channel(StrEnum):
    SMS = "sms"
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    MAIL = "mail"


class LegalBasis(StrEnum):
    """PIPL Art. 13 bases; recall notices rest on a legal obligation, not on consent."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    PUBLIC_INTEREST = "public_interest"


class Consent(CanonicalModel):
    party_source_id: str
    purpose: ConsentPurpose
    channel: Channel
    recipient: str = Field(description="Who may use the data: the maker, a dealer code, an insurer")
    legal_basis: LegalBasis = LegalBasis.CONSENT
    granted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    source: SourceName

    @property
    def active(self) -> bool:
        return self.granted_at is not None and (
            self.withdrawn_at is None or self.withdrawn_at < self.granted_at
        )
