"""Per-entity error policies: what a failing entity costs the record it came from.

A source record often carries several entities — a repair order names a customer and a car, a policy names a
holder and a car. Real extracts get the car wrong far more often than the customer (an O typed for a 0, a
check-digit typo, only the last 8 characters of the VIN, a blank VIN), and quarantining the whole record for
it threw away a customer with a perfectly good name and phone. So each ``emit`` of a mapping says what a
failure of *its* entity does:

- ``quarantine_record``: the whole record is quarantined, as before (the default for ``party``: a record whose
  customer cannot be read has nothing left worth keeping);
- ``quarantine_entity``: only this entity (or this ``foreach`` item) is quarantined, with its reason, and the
  record's other entities are kept (the default for every other entity).

When every entity a record emitted fails, the record is quarantined whole with the first failure, exactly as
before: a record is never "partly mapped" into nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

from core.errors import ConfigError, DataError

EntityPolicy = Literal["quarantine_record", "quarantine_entity"]
ENTITY_POLICIES: tuple[str, ...] = get_args(EntityPolicy)

# Only the customer costs the record: every other entity is optional next to it.
_RECORD_LEVEL = frozenset({"party"})


def default_policy(entity: str) -> EntityPolicy:
    """The policy of an ``emit`` that does not declare ``on_error``."""
    return "quarantine_record" if entity in _RECORD_LEVEL else "quarantine_entity"


def check_policy(declared: str | None, where: str) -> None:
    """At load time: an emit's ``on_error`` is one of the policies (``drop`` is for a field, not an entity)."""
    if declared is not None and declared not in ENTITY_POLICIES:
        raise ConfigError(
            f"unknown on_error {declared!r} for an emit", record=where, field="on_error",
            fix=f"use one of {', '.join(ENTITY_POLICIES)} (drop is for a field, not an entity)",
        )  # fmt: skip


def policy_of(entity: str, declared: str | None) -> EntityPolicy:
    """The policy an emit runs under: the declared one (checked by ``check_policy``) or the entity's default."""
    return cast(EntityPolicy, declared) if declared else default_policy(entity)


def reject_or_raise(
    policy: EntityPolicy, entity: str, error: DataError, rejected: list[RejectedEntity]
) -> None:
    """Apply ``policy`` to a failure of one ``entity``: raise it (the record is quarantined) or set it aside."""
    if policy == "quarantine_record":
        raise error
    rejected.append(RejectedEntity.of(entity, error))


@dataclass(frozen=True)
class RejectedEntity:
    """One entity of a record that failed under ``quarantine_entity``; the record's other entities were kept.

    ``field`` names the place in the canonical entity (``vehicle.vin``, ``service_event.occurred_at``) so that
    a quarantine entry says which entity was lost; ``source_field`` is the field of the source record to fix.
    """

    entity_type: str
    reason: str
    field: str
    source_field: str | None
    message: str
    error: DataError

    @classmethod
    def of(cls, entity_type: str, error: DataError) -> RejectedEntity:
        return cls(
            entity_type=entity_type,
            reason=error.reason,
            field=entity_field(entity_type, error),
            source_field=error.field,
            message=str(error),
            error=error,
        )


def entity_field(entity_type: str, error: DataError) -> str:
    """Where in ``entity_type`` the failure is: the canonical place when the engine knew it, else the entity."""
    place = error.entity_field or entity_type
    return place if place == entity_type or place.startswith(f"{entity_type}.") else f"{entity_type}.{place}"
