"""Identifier rules in the python-stdnum shape: each module has compact / parse / validate / is_valid / format."""

from canonical_model.identifiers import mobile, plate, resident_id, uscc, vin
from canonical_model.identifiers.errors import (
    InvalidIdentifier,
    InvalidMobile,
    InvalidPlate,
    InvalidResidentId,
    InvalidUscc,
    InvalidVin,
)

__all__ = [
    "InvalidIdentifier",
    "InvalidMobile",
    "InvalidPlate",
    "InvalidResidentId",
    "InvalidUscc",
    "InvalidVin",
    "mobile",
    "plate",
    "resident_id",
    "uscc",
    "vin",
]
