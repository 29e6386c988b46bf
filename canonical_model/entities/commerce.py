"""Dealers, credit profiles and insurance policies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from canonical_model.entities.common import (
    CanonicalModel,
    MobileE164,
    RecordsRepairs,
    RegionCode,
    Sensitivity,
    Vin,
    pii,
)


class Dealer(CanonicalModel):
    dealer_code: str = Field(pattern=r"^[A-Z0-9]{3,12}$")
    name: str
    uscc: str | None = None
    region_code: RegionCode | None = None
    phone: MobileE164 | None = None  # known dealer phones are never evidence that two customers are one


class CreditGrade(StrEnum):
    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    C = "C"
    UNRATED = "unrated"


class CreditProfile(CanonicalModel):
    """Finance's view of a customer (PIPL: financial information is sensitive)."""

    party_source_id: str
    grade: CreditGrade = pii(Sensitivity.SENSITIVE)  # type: ignore[assignment]
    term_days: int = Field(ge=0, le=3650)
    limit: Decimal = pii(Sensitivity.SENSITIVE, ge=0, max_digits=18, decimal_places=2)  # type: ignore[assignment]
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    receivable_balance: Decimal | None = pii(Sensitivity.SENSITIVE, default=None)  # type: ignore[assignment]


class InsurancePolicy(RecordsRepairs):
    policy_number: str
    vin: Vin
    holder_source_id: str
    insurer: str | None = None
    product: str | None = None  # compulsory traffic insurance (交强险) or commercial
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _dates_in_order(self) -> InsurancePolicy:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self
