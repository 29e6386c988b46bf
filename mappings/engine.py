"""Applies one source's mapping to its records: source payload in, validated canonical entities out.

A failure is a ``DataError`` naming the field and the reason. What it costs is the mapping's choice: a field
marked ``on_error: drop`` is left out and the record carries a warning (for optional data a source often gets
wrong, like an email); an entity whose ``emit`` is ``quarantine_entity`` (the default for all but ``party``,
see policies.py) is set aside on ``MappedRecord.rejected`` and the record's other entities are kept; anything
else — or a record none of whose entities could be built — raises, and the caller quarantines the record.

The spec is compiled once, when the mapper is built, into a tree of closures: every path is split, every
condition parsed and every transform resolved up front. Walking the YAML template for each record cost
about as much as the transforms themselves. The pieces of the language live beside this module, each
compiled the same way: conditions (conditions.py), what a field reads — one path, the first of several, a
concat (expressions.py) — how a path reads a record, into nested lists too (paths.py), the list items that
give several values (lists.py), the steps beyond transforms.py (steps.py, derive.py) and the stream's ``as_of``
(versions.py). A mapping that uses none of them runs the same closures as before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

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
from core.errors import ConfigError, DataError, MappingError, ValidationFailed
from mappings.conditions import compile_condition
from mappings.context import Condition, Context, Evaluator, Getter, is_blank
from mappings.expressions import (
    UNKNOWN_CODE,
    check_source,
    code_of,
    compile_codes_step,
    compile_source,
    prepare_codes_step,
    source_field,
)
from mappings.lists import (
    check_foreach,
    check_split_all,
    compile_foreach,
    compile_split_all,
    refuse_outside_list,
    spread_form,
    spread_list,
)
from mappings.paths import check_path, compile_path, top_field
from mappings.policies import EntityPolicy, RejectedEntity, check_policy, policy_of, reject_or_raise
from mappings.spec import FIELD_SPEC_KEYS, OBJECT_SPEC_KEYS, EmitSpec, MappingSpec, StreamSpec
from mappings.steps import may_be_blank, prepare, transform_named, transform_names
from mappings.transforms import TransformFailed, shown
from mappings.versions import compile_as_of

ENTITIES: dict[str, type[BaseModel]] = {
    "party": Party, "vehicle": Vehicle, "vehicle_relationship": VehicleRelationship, "dealer": Dealer,
    "credit_profile": CreditProfile, "insurance_policy": InsurancePolicy, "service_event": ServiceEvent,
    "consent": Consent,
}  # fmt: skip

_FIX_VALUE = "correct the value in the source system; the record is mapped again when it changes"
_EMPTY = object()  # a transform step found nothing (no match, no such part): the field takes its default


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
    # When the source says this version of the record was true (the stream's ``as_of``); the store keeps the
    # newest by it. None: the stream declares none, or the value was unreadable (then a warning says so).
    as_of: datetime | None = None


@dataclass(frozen=True)
class _KeyPart:
    path: str
    read: Getter | None  # None: a path into the canonical entity just built


@dataclass(frozen=True)
class _CompiledEmit:
    entity: str
    model: type[BaseModel]
    when: Condition | None
    foreach: str | None
    read_foreach: Getter | None
    build_body: Evaluator
    key: tuple[_KeyPart, ...]
    policy: EntityPolicy


@dataclass(frozen=True)
class _CompiledStream:
    source_id: Getter
    required: tuple[tuple[str, Getter], ...]
    emit: tuple[_CompiledEmit, ...]
    as_of: Callable[[Context], datetime | None] | None


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
        for stream_name, stream in spec.streams.items():
            in_stream = f"{origin + ': ' if origin else ''}{spec.source}.streams.{stream_name}"
            if stream.as_of is not None:
                self._check_as_of(stream.as_of, f"{in_stream}.as_of")
            check_path(stream.source_id, in_stream, "source_id")
            for n, required in enumerate(stream.required):
                check_path(required, in_stream, f"required[{n}]")
            for n, emit in enumerate(stream.emit):
                where = f"{in_stream}.emit[{n}]"
                if emit.entity not in ENTITIES:
                    raise ConfigError(
                        f"unknown entity {emit.entity!r}", record=where, field="entity",
                        fix=f"use one of {', '.join(sorted(ENTITIES))}",
                    )  # fmt: skip
                check_policy(emit.on_error, where)
                compile_condition(emit.when, where)
                _check_key(emit.key, where)
                if emit.foreach is not None:
                    check_path(emit.foreach, where, "foreach")
                self._check(emit.fields, f"{where}.fields")
        self._streams = {name: self._compile_stream(stream) for name, stream in spec.streams.items()}

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
        self, emit: _CompiledEmit, ctx: Context, out: list[MappedEntity], rejected: list[RejectedEntity]
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
        self, emit: _CompiledEmit, ctx: Context, out: list[MappedEntity], rejected: list[RejectedEntity]
    ) -> None:
        """Build one entity under its emit's policy: a failure either raises (the record) or is set aside."""
        warned = len(ctx.warnings)
        try:
            out.append(self._build(emit, ctx))
        except DataError as exc:
            del ctx.warnings[warned:]  # a value dropped from an entity that is not kept warns about nothing
            reject_or_raise(emit.policy, emit.entity, exc, rejected)

    def _build(self, emit: _CompiledEmit, ctx: Context) -> MappedEntity:
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
            source_id=compile_path(stream.source_id.strip()),
            required=tuple((path, compile_path(path.strip())) for path in stream.required),
            emit=tuple(self._compile_emit(emit) for emit in stream.emit),
            as_of=None if stream.as_of is None else compile_as_of(self._compile(stream.as_of, "as_of")),
        )

    def _compile_emit(self, emit: EmitSpec) -> _CompiledEmit:
        key = []
        for path in emit.key:
            if path.startswith("@"):  # a field of the source record
                key.append(_KeyPart(path, compile_path(path[1:])))
            elif path.startswith("$"):
                key.append(_KeyPart(path, compile_path(path)))
            elif path.startswith("="):  # a literal: a second entity of the same kind from one record
                key.append(_KeyPart(path, _constant(path[1:])))
            else:  # a field of the canonical entity just built
                key.append(_KeyPart(path, None))
        return _CompiledEmit(
            entity=emit.entity,
            model=ENTITIES[emit.entity],
            when=compile_condition(emit.when, emit.entity),
            foreach=emit.foreach,
            read_foreach=None if emit.foreach is None else compile_path(emit.foreach.strip()),
            build_body=self._compile(emit.fields, emit.entity),
            key=tuple(key),
            policy=policy_of(emit.entity, emit.on_error),
        )

    def _compile(self, template: Any, path: str) -> Evaluator:
        """The evaluator of one template; ``path`` names it in messages (e.g. ``party.contact_points[1]``)."""
        if isinstance(template, list):
            return self._compile_list(template, path)
        if not isinstance(template, dict):
            return _constant(template)
        if "const" in template:
            return _constant(template["const"])
        if "from" in template or "concat" in template:
            return self._compile_field(template, path)
        if "fields" in template:
            return self._compile_object(template, path)
        return self._compile_dict(template, path)

    def _compile_list(self, template: list[Any], path: str) -> Evaluator:
        compiled = [self._compile_item(t, f"{path}[{n}]") for n, t in enumerate(template)]
        if not any(spreads for _, spreads in compiled):
            items = tuple(item for item, _ in compiled)

            def evaluate_list(ctx: Context) -> list[Any]:
                values = []
                for item in items:
                    value = item(ctx)
                    if value is not None:
                        values.append(value)
                return values

            return evaluate_list
        return spread_list(compiled)

    def _compile_item(self, template: Any, path: str) -> tuple[Evaluator, bool]:
        """A list item's evaluator and whether it gives a list of values to spread (foreach, split_all)."""
        form = spread_form(template)
        if form == "foreach":
            inner, spreads = self._compile_item(template["template"], f"{path}.template")
            return compile_foreach(template, path, inner, spreads), True
        if form == "split_all":
            finish = self._compile_value(template, path)
            when = compile_condition(template.get("when"), path)
            read = compile_source(template, path, self._compile)
            return compile_split_all(template, path, when, read, finish), True
        return self._compile(template, path), False

    def _compile_dict(self, template: dict[str, Any], path: str) -> Evaluator:
        members = tuple((key, self._compile(t, f"{path}.{key}")) for key, t in template.items())

        def evaluate_dict(ctx: Context) -> dict[str, Any]:
            built = {}
            for key, member in members:
                value = member(ctx)
                if value is not None:
                    built[key] = value
            return built

        return evaluate_dict

    def _compile_field(self, spec: dict[str, Any], path: str) -> Evaluator:
        when = compile_condition(spec.get("when"), path)
        read = compile_source(spec, path, self._compile)
        finish = self._compile_value(spec, path)

        def evaluate_field(ctx: Context) -> Any:
            if when is not None and not when(ctx):
                return None
            return finish(read(ctx), ctx)

        return evaluate_field

    def _compile_value(self, spec: dict[str, Any], path: str) -> Callable[[Any, Context], Any]:
        """What a field spec does with a value once read (blank → default, codes, transforms): every field's
        reading ends here, and a split_all's once per part."""
        default = spec.get("default")
        code = self._compile_code(spec, path) if "codes" in spec else None
        transform = self._compile_transform(spec, path)

        def finish(value: Any, ctx: Context) -> Any:
            if is_blank(value):
                return default
            if code is not None:
                value = code(value, ctx)
                if value is None:
                    return None
            if transform is None:
                return value
            value = transform(value, ctx)
            return default if value is _EMPTY else value

        return finish

    def _compile_object(self, spec: dict[str, Any], path: str) -> Evaluator:
        when = compile_condition(spec.get("when"), path)
        build = self._compile(spec["fields"], path)
        drop = spec.get("on_error") == "drop"
        transform = self._compile_transform(spec, path)

        def evaluate_object(ctx: Context) -> Any:
            if when is not None and not when(ctx):
                return None
            try:
                value = build(ctx)
            except DataError as exc:
                if not drop:
                    raise
                ctx.warnings.append(f"{exc.field or path}: {getattr(exc, 'reason', 'invalid')} (dropped)")
                return None
            if transform is None:
                return value
            value = transform(value, ctx)
            return None if value is _EMPTY else value

        return evaluate_object

    def _compile_code(self, spec: dict[str, Any], path: str) -> Callable[[Any, Context], Any]:
        """The ``codes:`` key: looked up before any transform; an unknown code takes ``default`` if given."""
        table = self.codes[spec["codes"]]
        has_default = "default" in spec
        fail = self._compile_fail(spec, path)

        def code(value: Any, ctx: Context) -> Any:
            found = code_of(table, value)
            if found is not UNKNOWN_CODE:
                return found
            if has_default:
                return spec["default"]
            return fail(
                ctx, "unknown_code",
                f"{shown(value)!r} is not in code table {spec['codes']!r} (field {source_field(spec, ctx)})",
            )  # fmt: skip

        return code

    def _compile_transform(self, spec: dict[str, Any], path: str) -> Callable[[Any, Context], Any] | None:
        """The transform list as one closure. A chain with a step that may find nothing (``split``, ``regex``,
        a code, a derived value) stops there and gives ``_EMPTY``; a chain without one runs as it always did."""
        steps = tuple(
            self._compile_step(name, arg, spec) for name, arg in _transform_steps(spec.get("transform"))
        )
        if not steps:
            return None
        fail = self._compile_fail(spec, path)
        if not any(blankable for _, _, blankable in steps):
            plain = tuple((function, arg) for function, arg, _ in steps)

            def transform(value: Any, ctx: Context) -> Any:
                for function, arg in plain:
                    try:
                        value = function(value, arg)
                    except TransformFailed as exc:
                        return fail(ctx, exc.reason, str(exc))
                return value

            return transform

        def transform_or_empty(value: Any, ctx: Context) -> Any:
            for function, arg, blankable in steps:
                try:
                    value = function(value, arg)
                except TransformFailed as exc:
                    return fail(ctx, exc.reason, str(exc))
                if blankable and is_blank(value):
                    return _EMPTY
            return value

        return transform_or_empty

    def _compile_step(
        self, name: str, arg: Any, spec: dict[str, Any]
    ) -> tuple[Callable[[Any, Any], Any], Any, bool]:
        """(function, prepared argument, may it find nothing) for one step; checked at load by _check_steps."""
        if name == "codes":
            default = ("default" in spec, spec.get("default"))
            return compile_codes_step(self.codes, prepare_codes_step(arg, self.codes), default), None, True
        function = transform_named(name)
        if function is None:  # refused with the file and place by _check_steps; kept for a Mapper built bare
            raise ConfigError(f"unknown transform {name!r}", field="transform")
        return function, prepare(name, arg), may_be_blank(name)

    def _compile_fail(self, spec: dict[str, Any], path: str) -> Callable[[Context, str, str], None]:
        drop = spec.get("on_error") == "drop"

        def fail(ctx: Context, reason: str, message: str) -> None:
            # Worked out on failure only (rare), exactly as the field is named in the mapping file.
            named = str(source_field(spec, ctx) or _fields_read(spec) or path).replace("$item", ctx.item_path)
            if drop:
                ctx.warnings.append(f"{named}: {reason} (dropped)")
                return None
            error_type = ValidationFailed if reason.startswith("invalid_") else MappingError
            raise error_type(message, reason=reason, record=ctx.name, field=named, fix=_FIX_VALUE,
                             entity_field=path)  # fmt: skip

        return fail

    # --- checking the spec at load time -----------------------------------------------------------------

    def _check(self, template: Any, where: str) -> None:
        if isinstance(template, list):
            for n, t in enumerate(template):
                self._check_item(t, f"{where}[{n}]")
            return
        if not isinstance(template, dict) or "const" in template:
            return
        form = spread_form(template)
        if form is not None:
            raise refuse_outside_list(form, where)
        self._check_spec(template, where)

    def _check_item(self, template: Any, where: str) -> None:
        """A list item: any template, or a form that gives several values (checked by lists.py)."""
        form = spread_form(template)
        if form == "foreach":
            check_foreach(template, where, self._check_item)
        elif form == "split_all":
            check_split_all(template, where)
            self._check_spec(template, where, extra=frozenset({"split_all"}))
        else:
            self._check(template, where)

    def _check_spec(self, template: dict[str, Any], where: str, extra: frozenset[str] = frozenset()) -> None:
        is_field = "from" in template or "concat" in template
        if is_field or "fields" in template:
            allowed = (FIELD_SPEC_KEYS | extra) if is_field else OBJECT_SPEC_KEYS
            unknown = set(template) - allowed
            if unknown:
                raise ConfigError(
                    f"unknown keys {sorted(unknown)}", record=where, fix=f"allowed: {sorted(allowed)}"
                )
            if is_field:  # paths are compiled when the mapper is built, so they must be text
                check_source(template, where, self._check)
            if template.get("codes") is not None and template["codes"] not in self.codes:
                raise ConfigError(
                    f"unknown code table {template['codes']!r}", record=where, field="codes",
                    fix="define it under codes: in this file or in mappings/codes.yaml",
                )  # fmt: skip
            self._check_steps(template.get("transform"), where)
            if template.get("on_error") not in (None, "quarantine", "drop"):
                raise ConfigError("on_error must be quarantine or drop", record=where, field="on_error")
            compile_condition(template.get("when"), where)
            if "fields" in template:
                self._check(template["fields"], f"{where}.fields")
            return
        for key, value in template.items():
            self._check(value, f"{where}.{key}")

    def _check_steps(self, transform: Any, where: str) -> None:
        for n, (name, arg) in enumerate(_transform_steps(transform)):
            place = "transform" if not isinstance(transform, list) else f"transform[{n}]"
            if name != "codes" and transform_named(name) is None:
                raise ConfigError(
                    f"unknown transform {name!r}", record=where, field=place,
                    fix=f"use one of {', '.join(transform_names())}",
                )  # fmt: skip
            try:
                prepare_codes_step(arg, self.codes) if name == "codes" else prepare(name, arg)
            except ValueError as exc:
                raise ConfigError(str(exc), record=where, field=place, fix="see mappings/README.md") from exc

    def _check_as_of(self, spec: Any, where: str) -> None:
        if not (isinstance(spec, dict) and ("from" in spec or "concat" in spec)):
            raise ConfigError(
                "as_of must be a field spec", record=where, field="as_of",
                fix='e.g. as_of: {from: updated_at, transform: {datetime: {format: "%Y-%m-%d %H:%M:%S", '
                "timezone: Asia/Shanghai}}}",
            )  # fmt: skip
        self._check(spec, where)


def _check_key(key: list[str], where: str) -> None:
    for n, part in enumerate(key):
        if not part.strip() or part in ("=", "@"):
            raise ConfigError(
                f"key part {part!r} names nothing", record=where, field=f"key[{n}]",
                fix="a path into the entity, @PATH, $source_id / $stream / $item, or =TEXT for a literal",
            )  # fmt: skip
        if part.startswith(("@", "$")):  # a path into the record, read like any other
            check_path(part[1:] if part.startswith("@") else part, where, f"key[{n}]")


def _constant(value: Any) -> Evaluator:
    def constant(_ctx: Context) -> Any:
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
    if isinstance(value, dict) and isinstance(value.get("from"), str):
        return str(value["from"])
    paths = [
        str(v["from"]) for v in fields.values() if isinstance(v, dict) and isinstance(v.get("from"), str)
    ]
    return ",".join(paths) or None


def _dig(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
