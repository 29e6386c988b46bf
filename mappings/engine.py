"""Applies one source's mapping to its records: source payload in, validated canonical entities out.

A record maps whole or not at all: any failure raises a ``DataError`` naming the field and the reason, and
the caller quarantines the record. A field marked ``on_error: drop`` is left out instead and the record
carries a warning (for optional data a source often gets wrong, like an email).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from autohub.errors import ConfigError, DataError, MappingError, ValidationFailed
from canonical_model.entities import (
    Consent,
    CreditProfile,
    Dealer,
    InsurancePolicy,
    Party,
    ServiceEvent,
    Vehicle,
    VehicleRelationship,
)
from canonical_model.entities.source import SourceRecord
from mappings.spec import FIELD_SPEC_KEYS, OBJECT_SPEC_KEYS, EmitSpec, MappingSpec
from mappings.transforms import TRANSFORMS, TransformFailed, shown

ENTITIES: dict[str, type[BaseModel]] = {
    "party": Party, "vehicle": Vehicle, "vehicle_relationship": VehicleRelationship, "dealer": Dealer,
    "credit_profile": CreditProfile, "insurance_policy": InsurancePolicy, "service_event": ServiceEvent,
    "consent": Consent,
}  # fmt: skip

_MISSING = object()
# Paths that name the record's envelope rather than a payload field ($item is the current foreach item).
_SPECIAL_PATHS = {"$source": "source", "$stream": "stream", "$source_id": "source_id", "$item": "item"}


@dataclass(frozen=True)
class MappedEntity:
    entity_type: str
    entity_key: str
    body: dict[str, Any]


@dataclass
class MappedRecord:
    entities: list[MappedEntity]
    warnings: list[str] = field(default_factory=list)


def is_blank(value: Any) -> bool:
    """Sources say "nothing" in many ways: None, "", spaces, an empty list."""
    return value is None or value is _MISSING or (isinstance(value, str | list | dict) and not value)


@dataclass
class _Context:
    record: SourceRecord
    item: Any = None
    warnings: list[str] = field(default_factory=list)
    item_path: str = "$item"  # how a foreach item is named in messages, e.g. bound_vins[2]

    def holds(self, condition: str | None) -> bool:
        """``when:`` conditions: ``PATH`` (not blank), ``PATH == VALUE`` or ``PATH != VALUE`` (compared as text)."""
        if not condition:
            return True
        for operator in (" == ", " != "):
            if operator in condition:
                path, _, expected = condition.partition(operator)
                actual = self.lookup(path.strip())
                same = not is_blank(actual) and str(actual).strip().lower() == expected.strip().lower()
                return same if operator == " == " else not same
        return not is_blank(self.lookup(condition.strip()))

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        value: Any
        if head in _SPECIAL_PATHS:
            value = self.item if head == "$item" else getattr(self.record, _SPECIAL_PATHS[head])
        else:
            value = self.record.payload.get(head, _MISSING)
        for part in rest.split(".") if rest else ():
            value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(value, str):
            value = value.strip()
        return value


class Mapper:
    """A compiled mapping for one source. Build with ``Mapper(spec, shared_codes)``; it checks the spec."""

    def __init__(self, spec: MappingSpec, shared_codes: dict[str, dict[str, Any]] | None = None):
        self.spec = spec
        self.codes = {**(shared_codes or {}), **spec.codes}
        self.version = f"{spec.source}@{spec.version}"
        for stream_name, stream in spec.streams.items():
            for n, emit in enumerate(stream.emit):
                where = f"{spec.source}.streams.{stream_name}.emit[{n}]"
                if emit.entity not in ENTITIES:
                    raise ConfigError(
                        f"unknown entity {emit.entity!r}", record=where, field="entity",
                        fix=f"use one of {', '.join(sorted(ENTITIES))}",
                    )  # fmt: skip
                self._check(emit.fields, f"{where}.fields")

    @property
    def source(self) -> str:
        return self.spec.source

    def source_id_of(self, stream: str, payload: dict[str, Any]) -> str | None:
        """The record's id in its source, read from the field the stream declares (None when absent)."""
        spec = self.spec.streams.get(stream)
        if spec is None:
            return None
        probe = _Context(SourceRecord(source=self.source, stream=stream, source_id="?", payload=payload))
        value = probe.lookup(spec.source_id)
        return None if is_blank(value) else str(value)

    def map(self, record: SourceRecord) -> MappedRecord:
        stream = self.spec.streams.get(record.stream)
        if stream is None:
            raise MappingError(
                f"no mapping for stream {record.stream!r}", reason="unknown_stream", record=self._name(record),
                fix=f"add streams.{record.stream} to mappings/sources/{self.source}.yaml",
            )  # fmt: skip
        ctx = _Context(record)
        for path in stream.required:
            if is_blank(ctx.lookup(path)):
                raise MappingError(
                    "required field is empty", reason="missing_required", record=self._name(record), field=path,
                    fix="correct the record in the source system; it is read again on the next sync",
                )  # fmt: skip
        entities: list[MappedEntity] = []
        for emit in stream.emit:
            entities.extend(self._emit(emit, ctx))
        return MappedRecord(entities, ctx.warnings)

    # --- emitting entities ------------------------------------------------------------------------------

    def _emit(self, emit: EmitSpec, ctx: _Context) -> list[MappedEntity]:
        if not ctx.holds(emit.when):
            return []
        if emit.foreach is None:
            return [self._build(emit, ctx)]
        items = ctx.lookup(emit.foreach)
        if is_blank(items):
            return []
        if not isinstance(items, list):
            raise MappingError(
                "expected a list", reason="not_a_list", record=self._name(ctx.record), field=emit.foreach
            )
        built = []
        for n, item in enumerate(items):
            item_ctx = _Context(ctx.record, item, ctx.warnings, f"{emit.foreach}[{n}]")
            built.append(self._build(emit, item_ctx))
        return built

    def _build(self, emit: EmitSpec, ctx: _Context) -> MappedEntity:
        body = self._eval(emit.fields, ctx, emit.entity)
        try:
            entity = ENTITIES[emit.entity].model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValidationFailed(
                f"{emit.entity} breaks a canonical rule: {first['msg']}", reason=f"schema.{first['type']}",
                record=self._name(ctx.record), field=f"{emit.entity}.{where}",
                fix="fix the value in the source, or its transform in the mapping",
            ) from exc  # fmt: skip
        canonical = entity.model_dump(mode="json", exclude_none=True)
        key_parts = []
        for path in emit.key:
            if path.startswith("@"):  # a field of the source record
                value = ctx.lookup(path[1:])
            elif path.startswith("$"):
                value = ctx.lookup(path)
            else:  # a field of the canonical entity just built
                value = _dig(canonical, path)
            if is_blank(value):
                raise MappingError(
                    "the entity key is empty", reason="missing_key", record=self._name(ctx.record), field=path
                )
            key_parts.append(str(value))
        return MappedEntity(emit.entity, ":".join(key_parts), canonical)

    def _name(self, record: SourceRecord) -> str:
        return f"{record.source}/{record.stream}/{record.source_id}"

    # --- evaluating templates ---------------------------------------------------------------------------

    def _eval(self, template: Any, ctx: _Context, path: str) -> Any:
        if isinstance(template, list):
            values = (self._eval(t, ctx, f"{path}[{n}]") for n, t in enumerate(template))
            return [v for v in values if v is not None]
        if not isinstance(template, dict):
            return template
        if "const" in template:
            return template["const"]
        if "from" in template:
            return self._field(template, ctx, path)
        if "fields" in template:
            return self._object(template, ctx, path)
        built = {k: self._eval(t, ctx, f"{path}.{k}") for k, t in template.items()}
        return {k: v for k, v in built.items() if v is not None}

    def _object(self, spec: dict[str, Any], ctx: _Context, path: str) -> Any:
        if not ctx.holds(spec.get("when")):
            return None
        try:
            value = self._eval(spec["fields"], ctx, path)
        except DataError as exc:
            if spec.get("on_error") != "drop":
                raise
            ctx.warnings.append(f"{exc.field or path}: {getattr(exc, 'reason', 'invalid')} (dropped)")
            return None
        return self._transform(value, spec, ctx, path)

    def _field(self, spec: dict[str, Any], ctx: _Context, path: str) -> Any:
        if not ctx.holds(spec.get("when")):
            return None
        value = ctx.lookup(spec["from"])
        if is_blank(value):
            return spec.get("default")
        if "codes" in spec:
            value = self._code(spec, value, ctx, path)
            if value is None:
                return None
        return self._transform(value, spec, ctx, path)

    def _code(self, spec: dict[str, Any], value: Any, ctx: _Context, path: str) -> Any:
        table = self.codes[spec["codes"]]
        key = str(value).strip()
        for candidate in (key, key.upper(), key.lower()):
            if candidate in table:
                return table[candidate]
        if "default" in spec:
            return spec["default"]
        return self._fail(
            spec, ctx, path, "unknown_code",
            f"{shown(value)!r} is not in code table {spec['codes']!r} (field {spec['from']})",
        )  # fmt: skip

    def _transform(self, value: Any, spec: dict[str, Any], ctx: _Context, path: str) -> Any:
        for name, arg in _transform_steps(spec.get("transform")):
            try:
                value = TRANSFORMS[name](value, arg)
            except TransformFailed as exc:
                return self._fail(spec, ctx, path, exc.reason, str(exc))
        return value

    def _fail(self, spec: dict[str, Any], ctx: _Context, path: str, reason: str, message: str) -> None:
        source_field = str(spec.get("from") or _fields_read(spec) or path).replace("$item", ctx.item_path)
        if spec.get("on_error") == "drop":
            ctx.warnings.append(f"{source_field}: {reason} (dropped)")
            return None
        error_type = ValidationFailed if reason.startswith("invalid_") else MappingError
        raise error_type(
            message, reason=reason, record=self._name(ctx.record), field=source_field,
            fix="correct the value in the source system; the record is mapped again when it changes",
        )  # fmt: skip

    # --- checking the spec at load time -----------------------------------------------------------------

    def _check(self, template: Any, where: str) -> None:
        if isinstance(template, list):
            for n, t in enumerate(template):
                self._check(t, f"{where}[{n}]")
            return
        if not isinstance(template, dict) or "const" in template:
            return
        if "from" in template or "fields" in template:
            allowed = FIELD_SPEC_KEYS if "from" in template else OBJECT_SPEC_KEYS
            unknown = set(template) - allowed
            if unknown:
                raise ConfigError(
                    f"unknown keys {sorted(unknown)}", record=where, fix=f"allowed: {sorted(allowed)}"
                )
            if template.get("codes") is not None and template["codes"] not in self.codes:
                raise ConfigError(
                    f"unknown code table {template['codes']!r}", record=where, field="codes",
                    fix="define it under codes: in this file or in mappings/codes.yaml",
                )  # fmt: skip
            for name, _ in _transform_steps(template.get("transform")):
                if name not in TRANSFORMS:
                    raise ConfigError(
                        f"unknown transform {name!r}", record=where, field="transform",
                        fix=f"use one of {', '.join(sorted(TRANSFORMS))}",
                    )  # fmt: skip
            if template.get("on_error") not in (None, "quarantine", "drop"):
                raise ConfigError("on_error must be quarantine or drop", record=where, field="on_error")
            if "fields" in template:
                self._check(template["fields"], f"{where}.fields")
            return
        for key, value in template.items():
            self._check(value, f"{where}.{key}")


def _transform_steps(spec: Any) -> list[tuple[str, Any]]:
    """``transform`` may be a name, ``{name: arg}``, or a list of either; always returns (name, arg) pairs."""
    if spec is None:
        return []
    steps = spec if isinstance(spec, list) else [spec]
    pairs: list[tuple[str, Any]] = []
    for step in steps:
        if isinstance(step, dict):
            pairs.extend(step.items())
        else:
            pairs.append((str(step), None))
    return pairs


def _fields_read(spec: dict[str, Any]) -> str | None:
    """The source field an object spec is about: its ``value`` field, else every field it reads."""
    fields = spec.get("fields") or {}
    value = fields.get("value")
    if isinstance(value, dict) and "from" in value:
        return str(value["from"])
    paths = [str(v["from"]) for v in fields.values() if isinstance(v, dict) and "from" in v]
    return ",".join(paths) or None


def _dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
