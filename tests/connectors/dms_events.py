"""DMS events from the sample data, with what the hub must do with each defective one.

A defective event is dead-lettered only when its mapping cannot keep any of it (a bad customer, a missing
required field); one whose car or event alone is bad — a repair order's VIN with an O for a 0 — is stored
partly mapped, its customer kept and the bad entities quarantined (mappings/policies.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import DataError
from mappings import MappingRegistry
from pipeline import to_source_record
from sample_data import DEFECTS_THAT_QUARANTINE, generate

REGISTRY = MappingRegistry.load()


@dataclass
class DmsEvents:
    events: list[dict[str, Any]] = field(default_factory=list)
    dead: int = 0  # defective events quarantined whole (dead-lettered by a consumer)
    partial: int = 0  # defective events stored partly mapped
    rejected_entities: int = 0  # quarantine entries of the partly mapped ones


def dms_events(people: int, seed: int) -> DmsEvents:
    found = DmsEvents()
    mapper = REGISTRY["dms"]
    for record in generate(people, seed):
        if record.source != "dms":
            continue
        found.events.append(record.payload)
        if not DEFECTS_THAT_QUARANTINE.intersection(record.defects):
            continue
        try:
            mapped = mapper.map(to_source_record(mapper, record.stream, record.payload))
        except DataError:
            found.dead += 1
            continue
        found.partial += 1
        found.rejected_entities += len(mapped.rejected)
    return found
