"""The shape of a mapping file, checked when it is loaded so that a typo fails the start, not the sync.

A template value is one of: a scalar (a constant); ``{const: …}``; a field spec ``{from: PATH | [PATH…],
transform, codes, default, on_error, when}`` or ``{concat: [PART…], sep, …}``; an object spec ``{fields:
{...}, transform, when, on_error}``; a plain mapping (a nested object); or a list of templates (``None``
results are left out), whose items may also be ``{foreach: PATH, template, when}`` or a field spec with
``split_all: REGEX`` — several values each (lists.py). Paths may step into lists (paths.py). An ``emit`` has its own ``on_error`` (quarantine_record | quarantine_entity). A
``when`` is text or a mapping (conditions.py). See mappings/README.md.

Pydantic checks only the outline here; the forms inside templates, conditions and ``as_of`` are checked by
the engine while it compiles them, so that a mistake names the emit and the field, not a pydantic location.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FIELD_SPEC_KEYS = {"from", "concat", "sep", "transform", "codes", "default", "on_error", "when"}
OBJECT_SPEC_KEYS = {"fields", "transform", "when", "on_error"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EmitSpec(_Strict):
    """One canonical entity produced from a record (or from each item of a list in it, with ``foreach``)."""

    entity: str
    key: list[str] = Field(
        description="parts of the entity key: a path into the built entity, @PATH for a field of the source "
        "record, $source_id / $stream / $item, or =TEXT for the literal TEXT (=contact)"
    )
    when: str | dict[str, Any] | None = None
    foreach: str | None = None
    # What a failure of this entity costs the record: quarantine_record | quarantine_entity (mappings/policies.py;
    # checked by the engine so that a wrong value names the file and the emit).
    on_error: str | None = None
    fields: dict[str, Any]


class StreamSpec(_Strict):
    source_id: str = Field(description="path of the field that identifies a record in its source")
    description: str | None = None
    required: list[str] = Field(default_factory=list)
    emit: list[EmitSpec]
    # A field spec giving when this version of the record was true (mappings/versions.py); checked by the engine.
    as_of: Any = None


class MappingSpec(_Strict):
    source: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    version: int = Field(ge=1)
    description: str | None = None
    # The source's own code tables; a name that is also in the shared codes.yaml replaces it for this source.
    codes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    streams: dict[str, StreamSpec]
    # Free space for YAML anchors (&party) that several streams reuse; the engine does not read it.
    templates: dict[str, Any] = Field(default_factory=dict)


OnError = Literal["quarantine", "drop"]
