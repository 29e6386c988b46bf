"""Applies one source's mapping to its records: source payload in, validated canonical entities out.

A failure is a ``DataError`` naming the field and the reason. What it costs is the mapping's choice: a field
marked ``on_error: drop`` is left out and the record carries a warning (for optional data a source often gets
wrong, like an email); an entity whose ``emit`` is ``quarantine_entity`` (the default for all but ``party``,
see policies.py) is set aside on ``MappedRecord.rejected`` and the record's other entities are kept; anything
else — or a record none of whose entities could be built — raises, and the caller quarantines the record.

The spec is compiled once, when the mapper is built, into a tree of closures: every path is split, every
condition parsed and every transform resolved up front. Walking the YAML template for each record cost
about as much as the transforms themselves.
"""

from __future__ import annotations

from collections.abc import Callable
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
from mappings.policies import EntityPolicy, RejectedEntity, check_policy, policy_of, reject_or_raise
from mappings.spec import FIELD_SPEC_KEYS, OBJECT_SPEC_KEYS, EmitSpec, MappingSpec, StreamSpec
from mappings.transforms import TRANSFORMS, TransformFailed, shown

ENTITIES: dict[str, type[BaseModel]] = {
    "party": Party, "vehicle": Vehicle, "vehicle_relationship": VehicleRelationship, "dealer": Dealer,
    "credit_profile": CreditProfile, "insurance_policy": InsurancePolicy, "service_event": ServiceEvent,
    "consent": Consent,
}  # fmt: skip

_MISSING = object()
# Paths that name the record's envelope rather than a payload field ($item is the current foreach item).
_SPECIAL_PATHS = {"$source": "source", "$stream": "stream", "$source_id": "source_id", "$item": "item"}
_FIX_VALUE = "correct the value in the source system; the record is mapped again when it changes"


@dataclass(frozen=True)
class MappedEntity:
    entity_type: str
    entity_key: str
    body: dict[str, Any]


@dataclass
class MappedRecord:
    entities: list[MappedEntity]
    warnings: list[str] = field(default_factory=list)
    # Entities that failed under quarantine_entity: the record is partly mapped (``entities`` is never empty then).
    rejected: list[RejectedEntity] = field(default_factory=list)


def is_blank(value: Any) -> bool:
    """Sources say "nothing" in many ways: None, "", spaces, an empty list."""
    return value is None or value is _MISSING or (isinstance(value, str | list | dict) and not value)


class _Context:
    """The record being mapped (or one item of a ``foreach`` list in it) and the warnings collected so far.

    Holds the envelope fields rather than the ``SourceRecord`` so that ``source_id_of`` can probe a bare
    payload without building (and hashing) a record.
    """

    __slots__ = ("item", "item_path", "payload", "source", "source_id", "stream", "warnings")

    def __init__(
        self,
        source: str,
        stream: str,
        source_id: str,
        payload: dict[str, Any],
        item: Any = None,
        warnings: list[str] | None = None,
        item_path: str = "$item",  # how a foreach item is named in messages, e.g. bound_vins[2]
    ):
        self.source = source
        self.stream = stream
        self.source_id = source_id
        self.payload = payload
        self.item = item
        self.warnings: list[str] = [] if warnings is None else warnings
        self.item_path = item_path

    def for_item(self, item: Any, item_path: str) -> _Context:
        return _Context(
            self.source, self.stream, self.source_id, self.payload, item, self.warnings, item_path
        )

    @property
    def name(self) -> str:
        return f"{self.source}/{self.stream}/{self.source_id}"


_Getter = Callable[[_Context], Any]
_Condition = Callable[[_Context], bool]
_Evaluator = Callable[[_Context], Any]


def _compile_path(path: str) -> _Getter:
    """A reader for ``PATH``: a dotted payload path, or ``$source``/``$stream``/``$source_id``/``$item[.…]``.

    Strings come back stripped; a missing step gives the ``_MISSING`` marker.
    """
    head, _, rest = path.partition(".")
    parts = tuple(rest.split(".")) if rest else ()
    special = _SPECIAL_PATHS.get(head)
    if special is None and not parts:  # by far the most common form: a top-level payload field

        def top_level(ctx: _Context) -> Any:
            value = ctx.payload.get(head, _MISSING)
            return value.strip() if isinstance(value, str) else value

        return top_level

    def nested(ctx: _Context) -> Any:
        value: Any = ctx.payload.get(head, _MISSING) if special is None else getattr(ctx, special)
        for part in parts:
            value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
        return value.strip() if isinstance(value, str) else value

    return nested


def _compile_condition(condition: str | None) -> _Condition | None:
    """``when:`` conditions: ``PATH`` (not blank), ``PATH == VALUE`` or ``PATH != VALUE`` (compared as text).

    None when there is no condition, so callers skip the call altogether.
    """
    if not condition:
        return None
    operator = next((op for op in (" == ", " != ") if op in condition), None)
    if operator is None:
        read = _compile_path(condition.strip())

        def present(ctx: _Context) -> bool:
            return not is_blank(read(ctx))

        return present
    path, _, expected = condition.partition(operator)
    read_compared = _compile_path(path.strip())
    wanted = expected.strip().lower()
    equal = operator == " == "

    def compare(ctx: _Context) -> bool:
        actual = read_compared(ctx)
        same = not is_blank(actual) and str(actual).strip().lower() == wanted
        return same if equal else not same

    return compare


@dataclass(frozen=True)
class _KeyPart:
    path: str
    read: _Getter | None  # None: a path into the canonical entity just built


@dataclass(frozen=True)
class _CompiledEmit:
    entity: str
    model: type[BaseModel]
    when: _Condition | None
    foreach: str | None
    read_foreach: _Getter | None
    build_body: _Evaluator
    key: tuple[_KeyPart, ...]
    policy: EntityPolicy


@dataclass(frozen=True)
class _CompiledStream:
    source_id: _Getter
    required: tuple[tuple[str, _Getter], ...]
    emit: tuple[_CompiledEmit, ...]


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
        self.codes = {**(shared_codes or {}), **spec.codes}
        self.version = f"{spec.source}@{spec.version}"
        for stream_name, stream in spec.streams.items():
            for n, emit in enumerate(stream.emit):
                where = f"{origin + ': ' if origin else ''}{spec.source}.streams.{stream_name}.emit[{n}]"
                if emit.entity not in ENTITIES:
                    raise ConfigError(
                        f"unknown entity {emit.entity!r}", record=where, field="entity",
                        fix=f"use one of {', '.join(sorted(ENTITIES))}",
                    )  # fmt: skip
                check_policy(emit.on_error, where)
                self._check(emit.fields, f"{where}.fields")
        self._streams = {name: self._compile_stream(stream) for name, stream in spec.streams.items()}

    @property
    def source(self) -> str:
        return self.spec.source

    def source_id_of(self, stream: str, payload: dict[str, Any]) -> str | None:
        """The record's id in its source, read from the field the stream declares (None when absent)."""
        compiled = self._streams.get(stream)
        if compiled is None:
            return None
        if not (type(payload) is dict and all(type(k) is str and k == k.strip() for k in payload)):
            # Read it as the record will hold it: SourceRecord strips the keys and refuses what is not an
            # object with text keys. A clean payload (nearly all) skips building and hashing a record.
            payload = SourceRecord(source=self.source, stream=stream, source_id="?", payload=payload).payload
        value = compiled.source_id(_Context(self.source, stream, "?", payload))
        return None if is_blank(value) else str(value)

    def map(self, record: SourceRecord) -> MappedRecord:
        ctx = _Context(record.source, record.stream, record.source_id, record.payload)
        stream = self._streams.get(record.stream)
        if stream is None:
            raise MappingError(
                f"no mapping for stream {record.stream!r}", reason="unknown_stream", record=ctx.name,
                fix=f"add streams.{record.stream} to mappings/sources/{self.source}.yaml",
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
        return MappedRecord(entities, ctx.warnings, rejected)

    # --- emitting entities ------------------------------------------------------------------------------

    def _emit(
        self, emit: _CompiledEmit, ctx: _Context, out: list[MappedEntity], rejected: list[RejectedEntity]
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
        self, emit: _CompiledEmit, ctx: _Context, out: list[MappedEntity], rejected: list[RejectedEntity]
    ) -> None:
        """Build one entity under its emit's policy: a failure either raises (the record) or is set aside."""
        warned = len(ctx.warnings)
        try:
            out.append(self._build(emit, ctx))
        except DataError as exc:
            del ctx.warnings[warned:]  # a value dropped from an entity that is not kept warns about nothing
            reject_or_raise(emit.policy, emit.entity, exc, rejected)

    def _build(self, emit: _CompiledEmit, ctx: _Context) -> MappedEntity:
        body = emit.build_body(ctx)
        try:
            entity = emit.model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join([emit.entity, *(str(p) for p in first["loc"])])  # a model rule has no loc
            raise ValidationFailed(
                f"{emit.entity} breaks a canonical rule: {first['msg']}", reason=f"schema.{first['type']}",
                record=ctx.name, field=where, fix="fix the value in the source, or its transform in the mapping",
                entity_field=where,
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

    # --- compiling the spec -----------------------------------------------------------------------------

    def _compile_stream(self, stream: StreamSpec) -> _CompiledStream:
        return _CompiledStream(
            source_id=_compile_path(stream.source_id),
            required=tuple((path, _compile_path(path)) for path in stream.required),
            emit=tuple(self._compile_emit(emit) for emit in stream.emit),
        )

    def _compile_emit(self, emit: EmitSpec) -> _CompiledEmit:
        key = []
        for path in emit.key:
            if path.startswith("@"):  # a field of the source record
                key.append(_KeyPart(path, _compile_path(path[1:])))
            elif path.startswith("$"):
                key.append(_KeyPart(path, _compile_path(path)))
            else:  # a field of the canonical entity just built
                key.append(_KeyPart(path, None))
        return _CompiledEmit(
            entity=emit.entity,
            model=ENTITIES[emit.entity],
            when=_compile_condition(emit.when),
            foreach=emit.foreach,
            read_foreach=None if emit.foreach is None else _compile_path(emit.foreach),
            build_body=self._compile(emit.fields, emit.entity),
            key=tuple(key),
            policy=policy_of(emit.entity, emit.on_error),
        )

    def _compile(self, template: Any, path: str) -> _Evaluator:
        """The evaluator of one template; ``path`` names it in messages (e.g. ``party.contact_points[1]``)."""
        if isinstance(template, list):
            return self._compile_list(template, path)
        if not isinstance(template, dict):
            return _constant(template)
        if "const" in template:
            return _constant(template["const"])
        if "from" in template:
            return self._compile_field(template, path)
        if "fields" in template:
            return self._compile_object(template, path)
        return self._compile_dict(template, path)

    def _compile_list(self, template: list[Any], path: str) -> _Evaluator:
        items = tuple(self._compile(t, f"{path}[{n}]") for n, t in enumerate(template))

        def evaluate_list(ctx: _Context) -> list[Any]:
            values = []
            for item in items:
                value = item(ctx)
                if value is not None:
                    values.append(value)
            return values

        return evaluate_list

    def _compile_dict(self, template: dict[str, Any], path: str) -> _Evaluator:
        members = tuple((key, self._compile(t, f"{path}.{key}")) for key, t in template.items())

        def evaluate_dict(ctx: _Context) -> dict[str, Any]:
            built = {}
            for key, member in members:
                value = member(ctx)
                if value is not None:
                    built[key] = value
            return built

        return evaluate_dict

    def _compile_field(self, spec: dict[str, Any], path: str) -> _Evaluator:
        when = _compile_condition(spec.get("when"))
        read = _compile_path(spec["from"])
        default = spec.get("default")
        code = self._compile_code(spec, path) if "codes" in spec else None
        transform = self._compile_transform(spec, path)

        def evaluate_field(ctx: _Context) -> Any:
            if when is not None and not when(ctx):
                return None
            value = read(ctx)
            if is_blank(value):
                return default
            if code is not None:
                value = code(value, ctx)
                if value is None:
                    return None
            return value if transform is None else transform(value, ctx)

        return evaluate_field

    def _compile_object(self, spec: dict[str, Any], path: str) -> _Evaluator:
        when = _compile_condition(spec.get("when"))
        build = self._compile(spec["fields"], path)
        drop = spec.get("on_error") == "drop"
        transform = self._compile_transform(spec, path)

        def evaluate_object(ctx: _Context) -> Any:
            if when is not None and not when(ctx):
                return None
            try:
                value = build(ctx)
            except DataError as exc:
                if not drop:
                    raise
                ctx.warnings.append(f"{exc.field or path}: {getattr(exc, 'reason', 'invalid')} (dropped)")
                return None
            return value if transform is None else transform(value, ctx)

        return evaluate_object

    def _compile_code(self, spec: dict[str, Any], path: str) -> Callable[[Any, _Context], Any]:
        name = spec["codes"]
        has_default = "default" in spec
        fail = self._compile_fail(spec, path)

        def code(value: Any, ctx: _Context) -> Any:
            table = self.codes[name]
            key = str(value).strip()
            for candidate in (key, key.upper(), key.lower()):
                if candidate in table:
                    return table[candidate]
            if has_default:
                return spec["default"]
            return fail(
                ctx, "unknown_code",
                f"{shown(value)!r} is not in code table {spec['codes']!r} (field {spec['from']})",
            )  # fmt: skip

        return code

    def _compile_transform(self, spec: dict[str, Any], path: str) -> Callable[[Any, _Context], Any] | None:
        steps = tuple((TRANSFORMS[name], arg) for name, arg in _transform_steps(spec.get("transform")))
        if not steps:
            return None
        fail = self._compile_fail(spec, path)

        def transform(value: Any, ctx: _Context) -> Any:
            for function, arg in steps:
                try:
                    value = function(value, arg)
                except TransformFailed as exc:
                    return fail(ctx, exc.reason, str(exc))
            return value

        return transform

    def _compile_fail(self, spec: dict[str, Any], path: str) -> Callable[[_Context, str, str], None]:
        drop = spec.get("on_error") == "drop"

        def fail(ctx: _Context, reason: str, message: str) -> None:
            # Worked out on failure only (rare), exactly as the field is named in the mapping file.
            source_field = str(spec.get("from") or _fields_read(spec) or path).replace("$item", ctx.item_path)
            if drop:
                ctx.warnings.append(f"{source_field}: {reason} (dropped)")
                return None
            error_type = ValidationFailed if reason.startswith("invalid_") else MappingError
            raise error_type(message, reason=reason, record=ctx.name, field=source_field, fix=_FIX_VALUE,
                             entity_field=path)  # fmt: skip

        return fail

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
            # Paths and conditions are compiled when the mapper is built, so they must be text.
            if "from" in template and not isinstance(template["from"], str):
                raise ConfigError("from must be a path (text)", record=where, field="from")
            if template.get("when") and not isinstance(template["when"], str):
                raise ConfigError("when must be a condition (text)", record=where, field="when")
            if "fields" in template:
                self._check(template["fields"], f"{where}.fields")
            return
        for key, value in template.items():
            self._check(value, f"{where}.{key}")


def _constant(value: Any) -> _Evaluator:
    def constant(_ctx: _Context) -> Any:
        return value

    return constant


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
