"""Applies one source's mapping to its records: source payload in, validated canonical entities out.

A failure is a ``DataError`` naming the field and the reason. What it costs is the mapping's choice: a field
marked ``on_error: drop`` is left out and the record carries a warning (for optional data a source often gets
wrong, like an email); an entity whose ``emit`` is ``quarantine_entity`` (the default for all but ``party``,
see policies.py) is set aside on ``MappedRecord.rejected`` and the record's other entities are kept; anything
else — or a record none of whose entities could be built — raises, and the caller quarantines the record.

The spec is compiled once, when the mapper is built, into a tree of closures (compile.py, which refuses a wrong
file as it compiles it): every path is split, every condition parsed and every transform resolved up front. Walking the YAML template for each record cost
about as much as the transforms themselves. The pieces of the language live beside this module, each
compiled the same way: conditions (conditions.py), what a field reads — one path, the first of several, a
concat (expressions.py) — how a path reads a record, into nested lists too (paths.py), the list items that
give several values (lists.py), the steps beyond transforms.py (steps.py, derive.py) and the stream's ``as_of``
(versions.py). A mapping that uses none of them runs the same closures as before.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from canonical_model.entities.source import SourceRecord
from core.errors import DataError, MappingError, ValidationFailed
from mappings.compile import CompiledEmit, Compiler
from mappings.context import Context, is_blank
from mappings.paths import top_field
from mappings.policies import RejectedEntity, reject_or_raise
from mappings.spec import MappingSpec


@dataclass(frozen=True)
class MappedEntity:
    entity_type: str
    entity_key: str
    body: dict[str, Any]
    # The values dropped while building this entity (``on_error: drop``): its own, not the record's — a resident
    # ID dropped from the customer once warned on the car and the credit profile of the same record too.
    warnings: list[str] = field(default_factory=list)


@dataclass
class MappedRecord:
    entities: list[MappedEntity]
    warnings: list[str] = field(default_factory=list)
    # Entities that failed under quarantine_entity: the record is partly mapped (``entities`` is never empty then).
    rejected: list[RejectedEntity] = field(default_factory=list)
    # When the source says this version of the record was true (the stream's ``as_of``); the store keeps the
    # newest by it. None: the stream declares none, or the value was unreadable (then a warning says so).
    as_of: datetime | None = None


class Mapper:
    """A compiled mapping for one source. Build with ``Mapper(spec, shared_codes)``; it checks the spec."""

    def __init__(
        self,
        spec: MappingSpec,
        shared_codes: dict[str, dict[str, Any]] | None = None,
        *,
        origin: str | None = None,  # the file it came from, named in every load-time error
    ):
        self.spec = spec
        self._source = spec.source
        self.codes = {**(shared_codes or {}), **spec.codes}
        self.version = f"{spec.source}@{spec.version}"
        compiler = Compiler(
            self.codes
        )  # checks each form of the file as it compiles it (mappings/compile.py)
        place = f"{origin + ': ' if origin else ''}{spec.source}.streams"
        self._streams = {
            name: compiler.stream(stream, f"{place}.{name}") for name, stream in spec.streams.items()
        }

    @property
    def source(self) -> str:
        """The source whose records this mapper reads: the mapping's own, or the instance it serves."""
        return self._source

    def serving(self, source: str) -> Mapper:
        """This mapping for another declared source instance (a second insurer read with ``insurance``): the same
        compiled streams, its records named by ``source``; the version still names the mapping."""
        twin = copy.copy(self)
        twin._source = source
        return twin

    def source_id_of(self, stream: str, payload: dict[str, Any]) -> str | None:
        """The record's id in its source, read from the field the stream declares (None when absent)."""
        compiled = self._streams.get(stream)
        if compiled is None:
            return None
        if not (type(payload) is dict and all(type(k) is str and k == k.strip() for k in payload)):
            # Read it as the record will hold it: SourceRecord strips the keys and refuses what is not an
            # object with text keys. A clean payload (nearly all) skips building and hashing a record.
            payload = SourceRecord(source=self.source, stream=stream, source_id="?", payload=payload).payload
        try:
            value = compiled.source_id(Context(self.source, stream, "?", payload))
        except DataError:  # a path that cannot read this payload: the record is quarantined when mapped
            return None
        return None if is_blank(value) else str(value)

    def columns_required(self, stream: str) -> tuple[str, ...]:
        """The top-level fields every record of ``stream`` needs (its id and its ``required``): a file whose
        header lacks one is refused whole, instead of every row quarantined as ``missing_required``."""
        spec = self.spec.streams[stream]
        names = (top_field(path.strip()) for path in (spec.source_id, *spec.required))
        return tuple(dict.fromkeys(name for name in names if name))

    def map(self, record: SourceRecord) -> MappedRecord:
        ctx = Context(record.source, record.stream, record.source_id, record.payload)
        stream = self._streams.get(record.stream)
        if stream is None:
            raise MappingError(
                f"no mapping for stream {record.stream!r}", reason="unknown_stream", record=ctx.name,
                fix=f"add streams.{record.stream} to mappings/sources/{self.spec.source}.yaml",
            )  # fmt: skip
        for path, read in stream.required:
            if is_blank(read(ctx)):
                raise MappingError(
                    "required field is empty", reason="missing_required", record=ctx.name, field=path,
                    fix="correct the record in the source system; it is read again on the next sync",
                )  # fmt: skip
        entities: list[MappedEntity] = []
        rejected: list[RejectedEntity] = []
        for emit in stream.emit:
            self._emit(emit, ctx, entities, rejected)
        if rejected and not entities:  # nothing of the record could be kept: quarantined whole, as before
            raise rejected[0].error
        as_of = None if stream.as_of is None else stream.as_of(ctx)
        return MappedRecord(entities, ctx.warnings, rejected, as_of)

    # --- emitting entities ------------------------------------------------------------------------------

    def _emit(
        self, emit: CompiledEmit, ctx: Context, out: list[MappedEntity], rejected: list[RejectedEntity]
    ) -> None:
        if emit.when is not None and not emit.when(ctx):
            return
        if emit.read_foreach is None:
            self._attempt(emit, ctx, out, rejected)
            return
        items = emit.read_foreach(ctx)
        if is_blank(items):
            return
        if not isinstance(items, list):
            error = MappingError("expected a list", reason="not_a_list", record=ctx.name, field=emit.foreach,
                                 entity_field=emit.entity)  # fmt: skip
            reject_or_raise(emit.policy, emit.entity, error, rejected)
            return
        for n, item in enumerate(items):
            self._attempt(emit, ctx.for_item(item, f"{emit.foreach}[{n}]"), out, rejected)

    def _attempt(
        self, emit: CompiledEmit, ctx: Context, out: list[MappedEntity], rejected: list[RejectedEntity]
    ) -> None:
        """Build one entity under its emit's policy: a failure either raises (the record) or is set aside."""
        warned = len(ctx.warnings)
        try:
            out.append(replace(self._build(emit, ctx), warnings=ctx.warnings[warned:]))
        except DataError as exc:
            del ctx.warnings[warned:]  # a value dropped from an entity that is not kept warns about nothing
            reject_or_raise(emit.policy, emit.entity, exc, rejected)

    def _build(self, emit: CompiledEmit, ctx: Context) -> MappedEntity:
        body = emit.build_body(ctx)
        try:
            entity = emit.model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join([emit.entity, *(str(p) for p in first["loc"])])  # a model rule has no loc
            raise ValidationFailed(
                f"{emit.entity} breaks a canonical rule: {first['msg']}", reason=f"schema.{first['type']}",
                record=ctx.name, field=_source_of_rule(emit, first["loc"], str(first["msg"])) or where,
                fix="fix the value in the source, or its transform in the mapping", entity_field=where,
            ) from exc  # fmt: skip
        canonical = entity.model_dump(mode="json", exclude_none=True)
        key_parts = []
        for part in emit.key:
            value = _dig(canonical, part.path) if part.read is None else part.read(ctx)
            if is_blank(value):
                raise MappingError(
                    "the entity key is empty", reason="missing_key", record=ctx.name, field=part.path,
                    entity_field=emit.entity if part.read else f"{emit.entity}.{part.path}",
                )  # fmt: skip
            key_parts.append(str(value))
        return MappedEntity(emit.entity, ":".join(key_parts), canonical)


def _source_of_rule(emit: CompiledEmit, loc: tuple[Any, ...], message: str) -> str | None:
    """The source field(s) to correct when a built entity breaks a rule over several of its fields, which has no
    place (a repair order needs a VIN or a plate): those read by the entity fields the rule's message names. It
    was told as the entity's name alone ("field 'service_event'"), which names nothing to correct."""
    if loc:  # a field's own rule: the entity's place names it (vehicle.vin), as the mapping file does
        return None
    said = message.lower()
    named = [source for name, source in emit.sources.items() if re.search(rf"\b{re.escape(name)}\b", said)]
    return ",".join(named) or None


def _dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
