"""Identifier rules in the python-stdnum shape: each module has compact / parse / validate / is_valid / format."""

from canonical_model.identifiers import landline, mobile, org_code, plate, resident_id, uscc, vin
from canonical_model.identifiers.errors import (
    InvalidIdentifier,
    InvalidLandline,
    InvalidMobile,
    InvalidOrgCode,
    InvalidPlate,
    InvalidResidentId,
    InvalidUscc,
    InvalidVin,
)

__all__ = [
    "InvalidIdentifier",
    "InvalidLandline",
    "InvalidMobile",
    "InvalidOrgCode",
    "InvalidPlate",
    "InvalidResidentId",
    "InvalidUscc",
    "InvalidVin",
    "landline",
    "mobile",
    "org_code",
    "plate",
    "resident_id",
    "uscc",
    "vin",
]
