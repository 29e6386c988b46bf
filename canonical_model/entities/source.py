"""The envelope every record arrives in, kept unchanged next to what it was mapped to."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from canonical_model.entities.common import CanonicalModel


def payload_hash(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON form: the same content hashes the same whatever the key order."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    # surrogatepass: a lone surrogate (hostile input, refused later with a reason) must not crash the hash.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class SourceRecord(CanonicalModel):
    """One record as a source system sent it. Immutable: a change in the source is a new SourceRecord."""

    source: str = Field(description="Source system name, e.g. erp, dms, or a sixth source from its mapping")
    stream: str = Field(description="The source's entity stream, e.g. customers, vehicles, sales_orders")
    source_id: str
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    payload: dict[str, Any]
    payload_hash: str = ""

    def model_post_init(self, _context: Any) -> None:
        if not self.payload_hash:
            self.payload_hash = payload_hash(self.payload)
