"""Shared vocabulary of the canonical entities: enums, the base model and validated identifier types."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from canonical_model.identifiers import landline as _landline
from canonical_model.identifiers import mobile as _mobile
from canonical_model.identifiers import plate as _plate
from canonical_model.identifiers import vin as _vin


class CanonicalModel(BaseModel):
    """Base of every canonical entity: strict about unknown fields so mapping mistakes surface at once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False, use_enum_values=False)


class Repaired(str):
    """A value a transform repaired (a VIN's O for a 0 whose check digit then passes), carrying what was written.

    It is a ``str`` so that every validator sees the repaired value; ``RecordsRepairs`` keeps the original
    beside it on the entity, so the repair is never silent and the value as written is never lost.
    """

    original: str
    rule: str

    def __new__(cls, value: str, *, original: str, rule: str) -> Repaired:
        made = super().__new__(cls, value)
        made.original, made.rule = original, rule
        return made


class PartialVin(str):
    """The last 6–8 characters of a VIN, as dealers type them into a repair order.

    An entity that can keep one (a service event) moves it to ``vin_partial``, where the store resolves it to
    the full VIN when exactly one known vehicle ends so (store/vin_partials.py); any other entity refuses it.
    """


class RecordsRepairs(CanonicalModel):
    """An entity whose identifiers a mapping may repair: ``repaired`` maps each repaired field to its value as
    written and the rule that repaired it (``{"vin": "LSGPC52U4HFO12345 (O→0, check digit passes)"}``).

    Matching reads it to give a repaired value less weight than a clean one.
    """

    repaired: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _note_repairs(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("vin"), PartialVin):
            if "vin_partial" not in cls.model_fields:
                raise PydanticCustomError(
                    "partial_vin",
                    "the VIN {vin!r} is only its last {n} characters; a {entity} needs all 17 (only a service event "
                    "keeps a partial VIN, to be resolved against known vehicles)",
                    {"vin": str(data["vin"]), "n": len(data["vin"]), "entity": cls.__name__},
                )
            data = {**data, "vin_partial": str(data["vin"]), "vin": None}
        notes = {k: f"{v.original} ({v.rule})" for k, v in data.items() if isinstance(v, Repaired)}
        return {**data, "repaired": {**(data.get("repaired") or {}), **notes}} if notes else data


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
LandlineE164 = Annotated[
    str,
    AfterValidator(_landline.validate),
    Field(description="Mainland landline in E.164 without the trunk 0, e.g. +862088880900"),
]
PlateNumber = Annotated[
    str, AfterValidator(_plate.validate), Field(description="GA 36-2018 plate, no separators")
]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 administrative division code")]


class Validity(CanonicalModel):
    """A period during which a fact held; ``valid_to`` None means it still holds."""

    valid_from: date | datetime | None = None
    valid_to: date | datetime | None = None
