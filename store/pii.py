"""What the store keeps of identity numbers: a keyed hash to match on and a masked form to show.

PIPL Art. 28/51: resident IDs and USCCs are sensitive. The clear value stays in the source record (the
source's own copy, needed for re-mapping and the 10-year recall duty); canonical and golden records carry
only ``value_hash`` (HMAC-SHA256 with the hub's secret key) and ``masked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from canonical_model.identifiers.masking import (
    keyed_hash,
    mask_middle,
    mask_org_code,
    mask_resident_id,
    mask_uscc,
)

_MASKS = {"resident_id": mask_resident_id, "hmt_residence_permit": mask_resident_id, "uscc": mask_uscc,
          "org_code": mask_org_code}  # fmt: skip


@dataclass(frozen=True)
class HashedIdentifier:
    id_type: str
    value_hash: str
    masked: str


def mask_identifier(id_type: str, value: str) -> str:
    mask = _MASKS.get(id_type)
    return mask(value) if mask else mask_middle(value, 2, 2)


def protect_identifiers(body: dict[str, Any], key: bytes) -> list[HashedIdentifier]:
    """Replace each clear identifier value in ``body`` (in place) by its hash and mask; return the index rows."""
    hashed: list[HashedIdentifier] = []
    for identifier in body.get("identifiers") or []:
        value = identifier.pop("value", None)
        if value is None:
            continue
        id_type = str(identifier["type"])
        entry = HashedIdentifier(id_type, keyed_hash(str(value), key), mask_identifier(id_type, str(value)))
        identifier["value_hash"] = entry.value_hash
        identifier["masked"] = entry.masked
        hashed.append(entry)
        if id_type in ("uscc", "org_code"):
            # A USCC holds the company's old organisation code (characters 9–17): both forms carry the code's
            # hash, so a record that has only the old code meets the one that has the USCC, and a search by
            # either finds both.
            code = str(value)[8:17] if id_type == "uscc" else str(value)
            identifier["org_code_hash"] = keyed_hash(code, key)
            if id_type == "uscc":
                hashed.append(
                    HashedIdentifier(
                        "org_code", identifier["org_code_hash"], mask_identifier("org_code", code)
                    )
                )
    return hashed
