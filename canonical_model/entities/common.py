"""Shared vocabulary of the canonical entities: enums, the base model and validated identifier types."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from canonical_model.identifiers import mobile as _mobile
from canonical_model.identifiers import plate as _plate
from canonical_model.identifiers import vin as _vin


class CanonicalModel(BaseModel):
    """Base of every canonical entity: strict about unknown fields so mapping mistakes surface at once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False, use_enum_values=False)


class SourceSystem(StrEnum):
    ERP = "erp"
    FINANCE = "finance"
    INSURANCE = "insurance"
    DMS = "dms"
    PORTAL = "portal"


# Sources beyond the first five are added by a mapping file alone, so a source is named, not enumerated.
SourceName = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="Source system name, e.g. erp, dms, fleet")
]


class Sensitivity(StrEnum):
    """PIPL tags carried in the JSON Schema (``x-sensitivity``) so downstream teams see what needs care."""

    PUBLIC = "public"
    PERSONAL = "personal"  # PIPL Art. 4: identifies or relates to a natural person
    SENSITIVE = (
        "sensitive"  # PIPL Art. 28: ID numbers, financial accounts — separate consent, masked by default
    )


def pii(sensitivity: Sensitivity = Sensitivity.PERSONAL, **kwargs: object) -> object:
    """A ``Field`` tagged with its PIPL sensitivity in the published JSON Schema."""
    return Field(json_schema_extra={"x-sensitivity": sensitivity.value}, **kwargs)  # type: ignore[call-overload]


Vin = Annotated[
    str,
    AfterValidator(_vin.validate),
    Field(description="ISO 3779 VIN, upper case, check digit verified (GB 16735 for China-built)"),
]
MobileE164 = Annotated[
    str, AfterValidator(_mobile.validate), Field(description="Mainland mobile in E.164, e.g. +8613812345678")
]
PlateNumber = Annotated[
    str, AfterValidator(_plate.validate), Field(description="GA 36-2018 plate, no separators")
]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 administrative division code")]


class Validity(CanonicalModel):
    """A period during which a fact held; ``valid_to`` None means it still holds."""

    valid_from: date | datetime | None = None
    valid_to: date | datetime | None = None
