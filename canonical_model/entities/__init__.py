"""Canonical entities (pydantic 2). The JSON Schema of these classes is the contract downstream teams code to."""

from canonical_model.entities.commerce import CreditGrade, CreditProfile, Dealer, InsurancePolicy
from canonical_model.entities.common import SourceSystem, Validity
from canonical_model.entities.events import (
    Channel,
    Consent,
    ConsentPurpose,
    LegalBasis,
    PurchaseTimeframe,
    ServiceEvent,
    ServiceEventType,
)
from canonical_model.entities.party import (
    ContactKind,
    ContactPoint,
    Gender,
    Identifier,
    IdentifierType,
    Party,
    PartyKind,
    PersonName,
    PostalAddress,
)
from canonical_model.entities.source import SourceRecord, payload_hash
from canonical_model.entities.vehicle import (
    PlateRegistration,
    Vehicle,
    VehicleDefinition,
    VehicleRelationship,
    VehicleRole,
)

# The entities published in `autohub schema`, in the order a reader meets them.
PUBLISHED = (
    Party, Vehicle, VehicleRelationship, Dealer, CreditProfile, InsurancePolicy, ServiceEvent, Consent,
    SourceRecord,
)  # fmt: skip

__all__ = [
    "PUBLISHED", "Channel", "Consent", "ConsentPurpose", "ContactKind", "ContactPoint", "CreditGrade",
    "CreditProfile", "Dealer", "Gender", "Identifier", "IdentifierType", "InsurancePolicy", "LegalBasis", "Party",
    "PartyKind", "PersonName", "PlateRegistration", "PostalAddress", "PurchaseTimeframe", "ServiceEvent",
    "ServiceEventType", "SourceRecord", "SourceSystem", "Validity", "Vehicle", "VehicleDefinition",
    "VehicleRelationship", "VehicleRole", "payload_hash",
]  # fmt: skip
