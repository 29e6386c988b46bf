"""The hub's error tree. The class of an error decides what a runner does with the record or the job.

Modelled on the Singer SDK's split: ``FatalError`` stops the job, ``RetriableError`` is retried with
backoff, ``DataError`` quarantines one record and the sync goes on. Every message names the record, the field
and what to do, and never carries a clear ID number or phone (those are masked where they are raised).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    FAIL = "fail"
    RETRY = "retry"
    QUARANTINE = "quarantine"


class HubError(Exception):
    action: Action = Action.FAIL

    def __init__(
        self, message: str, *, record: str | None = None, field: str | None = None, fix: str | None = None
    ):
        self.message = message  # without the record, field and fix (to combine several into one)
        self.record = record
        self.field = field
        self.fix = fix
        parts = [message]
        if record:
            parts.insert(0, f"[{record}]")
        if field:
            parts.append(f"(field {field!r})")
        if fix:
            parts.append(f"— {fix}")
        super().__init__(" ".join(parts))


class FatalError(HubError):
    """The job cannot go on: wrong configuration, missing credentials, a schema the mapping cannot read."""


class ConfigError(FatalError):
    pass


class RetriableError(HubError):
    """A passing failure (network, 5xx, broker restart): retry with backoff, bounded."""

    action = Action.RETRY


class SourceUnavailable(RetriableError):
    pass


class DataError(HubError):
    """One record is bad: quarantine it with ``reason`` and go on with the rest."""

    action = Action.QUARANTINE

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        record: str | None = None,
        field: str | None = None,
        fix: str | None = None,
        entity_field: str | None = None,
    ):
        self.reason = reason
        # The place in the canonical entity being built (``vehicle.vin``), when a mapping knows it: what names
        # the entity in a quarantine entry when only that entity of the record is rejected.
        self.entity_field = entity_field
        super().__init__(message, record=record, field=field, fix=fix)


class MappingError(DataError):
    """The record does not fit its source's mapping (missing required field, unknown code)."""


class ValidationFailed(DataError):
    """The mapped record breaks a canonical rule (invalid VIN, resident ID, mobile…)."""
