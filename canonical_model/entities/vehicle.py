"""Vehicles, their definitions and plates, and who stands in which role to a vehicle."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from canonical_model.entities.common import (
    CanonicalModel,
    PlateNumber,
    RecordsRepairs,
    SourceName,
    Validity,
    Vin,
)


class VehicleDefinition(CanonicalModel):
    """Make/model/trim, shared by many vehicles (Salesforce Automotive Cloud's VehicleDefinition split)."""

    make: str
    model: str
    model_year: int | None = Field(default=None, ge=1980, le=2100)
    trim: str | None = None
    powertrain: str | None = None


class PlateRegistration(Validity):
    """A plate names a registration, not a car: a vehicle has a history of them."""

    plate: PlateNumber
    province: str | None = None


class Vehicle(RecordsRepairs):
    vin: Vin
    model_year_code: str | None = Field(default=None, max_length=1)
    definition: VehicleDefinition | None = None
    production_date: date | None = None  # recall scope is often a production date range
    plant_code: str | None = None
    colour: str | None = None
    plates: list[PlateRegistration] = Field(default_factory=list)


class VehicleRole(StrEnum):
    FIRST_PURCHASER = "first_purchaser"  # recall regulation Art. 9/10: kept and filed for 10 years
    OWNER = "owner"
    DRIVER = "driver"
    LESSEE = "lessee"
    LIENHOLDER = "lienholder"
    POLICY_HOLDER = "policy_holder"


class VehicleRelationship(Validity, RecordsRepairs):
    """Party ↔ vehicle in a role over a period, as asserted by one source."""

    party_source_id: str
    vin: Vin
    role: VehicleRole
    source: SourceName
