"""Compiling a mapping file into the closures ``Mapper.map`` runs — and refusing a wrong one — in one pass.

Why one pass: the mapping was walked twice, once to check it (naming the file and the place of a mistake) and
once to compile it, by two sets of functions that had to agree on every form of the language; a form added to
one and not the other was either never checked or crashed at compile time. Now each form is checked where it is
compiled (as conditions.py always did): a ``Place`` carries both names of a spot in the template — ``where``, the
file and place a load-time error names (``fleet.yaml: fleet.streams.contracts.emit[0].fields.vin``), and
``path``, the entity field a record's failure names at run time (``vehicle_relationship.vin``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

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
from core.errors import ConfigError, DataError, MappingError, ValidationFailed
from mappings.conditions import compile_condition
from mappings.context import Condition, Context, Evaluator, Getter, is_blank
from mappings.expressions import UNKNOWN_CODE, code_of, compile_codes_step, compile_source, prepare_codes_step
from mappings.expressions import source_field as named_field
from mappings.lists import compile_foreach, compile_split_all, refuse_outside_list, spread_form, spread_list
from mappings.paths import read_path
from mappings.policies import EntityPolicy, check_policy, policy_of
from mappings.spec import FIELD_SPEC_KEYS, OBJECT_SPEC_KEYS, EmitSpec, StreamSpec
from mappings.steps import may_be_blank, prepare, transform_named, transform_names
from mappings.transforms import TransformFailed, shown
from mappings.versions import compile_as_of

ENTITIES: dict[str, type[BaseModel]] = {
    "party": Party, "vehicle": Vehicle, "vehicle_relationship": VehicleRelationship, "dealer": Dealer,
    "credit_profile": CreditProfile, "insurance_policy": InsurancePolicy, "service_event": ServiceEvent,
    "consent": Consent,
}  # fmt: skip
_FIX_VALUE = "correct the value in the source system; the record is mapped again when it changes"
EMPTY = object()  # a transform step found nothing (no match, no such part): the field takes its default


@dataclass(frozen=True)
class Place:
    """One spot of a template by both its names: ``where`` for load-time errors, ``path`` for run-time ones."""

    where: str
    path: str

    def at(self, suffix: str) -> Place:
        return Place(self.where + suffix, self.path + suffix)


@dataclass(frozen=True)
class KeyPart:
    path: str
    read: Getter | None  # None: a field of the built entity, read from its canonical body


@dataclass(frozen=True)
class CompiledEmit:
    entity: str
    model: type[BaseModel]
    when: Condition | None
    foreach: str | None
    read_foreach: Getter | None
    build_body: Evaluator
    key: tuple[KeyPart, ...]
    policy: EntityPolicy
    # Each top-level field of the entity → the source field(s) it reads, so that a canonical rule the built
    # entity breaks is told as the source field to correct (``repair_order.vin``), not as the entity's name.
    sources: dict[str, str]


@dataclass(frozen=True)
class CompiledStream:
    source_id: Getter
    required: tuple[tuple[str, Getter], ...]
    emit: tuple[CompiledEmit, ...]
    as_of: Callable[[Context], Any] | None


class Compiler:
    """Compiles the streams of one mapping against its code tables (its own over the shared ones)."""

    def __init__(self, codes: dict[str, dict[str, Any]]) -> None:
        self.codes = codes

    # --- streams and emits ---------------------------------------------------------------------------------

    def stream(self, stream: StreamSpec, where: str) -> CompiledStream:
        as_of = None
        if stream.as_of is not None:
            as_of = compile_as_of(self._as_of(stream.as_of, Place(f"{where}.as_of", "as_of")))
        source_id = read_path(stream.source_id, where, "source_id")
        required = tuple(
            (path, read_path(path, where, f"required[{n}]")) for n, path in enumerate(stream.required)
        )
        emits = tuple(self._emit(emit, f"{where}.emit[{n}]") for n, emit in enumerate(stream.emit))
        return CompiledStream(source_id, required, emits, as_of)

    def _as_of(self, spec: Any, place: Place) -> Evaluator:
        if not (isinstance(spec, dict) and ("from" in spec or "concat" in spec)):
            raise ConfigError(
                "as_of must be a field spec", record=place.where, field="as_of",
                fix='e.g. as_of: {from: updated_at, transform: {datetime: {format: "%Y-%m-%d %H:%M:%S", '
                "timezone: Asia/Shanghai}}}",
            )  # fmt: skip
        return self.template(spec, place)

    def _emit(self, emit: EmitSpec, where: str) -> CompiledEmit:
        if emit.entity not in ENTITIES:
            raise ConfigError(
                f"unknown entity {emit.entity!r}", record=where, field="entity",
                fix=f"use one of {', '.join(sorted(ENTITIES))}",
            )  # fmt: skip
        check_policy(emit.on_error, where)
        when = compile_condition(emit.when, where)
        key = _key(emit.key, where)
        read_foreach = None if emit.foreach is None else read_path(emit.foreach, where, "foreach")
        return CompiledEmit(
            entity=emit.entity, model=ENTITIES[emit.entity], when=when, foreach=emit.foreach,
            read_foreach=read_foreach, build_body=self.template(emit.fields, Place(f"{where}.fields", emit.entity)),
            key=key, policy=policy_of(emit.entity, emit.on_error), sources=_sources_read(emit.fields),
        )  # fmt: skip

    # --- templates -----------------------------------------------------------------------------------------

    def template(self, template: Any, place: Place) -> Evaluator:
        """The evaluator of one template: a list, a constant, a field, an object, or a dict of templates."""
        if isinstance(template, list):
            return self._list(template, place)
        if not isinstance(template, dict):
            return _constant(template)
        if "const" in template:
            return _constant(template["const"])
        form = spread_form(template)
        if form is not None:
            raise refuse_outside_list(form, place.where)
        if "from" in template or "concat" in template:
            return self._field(template, place)
        if "fields" in template:
            return self._object(template, place)
        return self._dict(template, place)

    def _list(self, template: list[Any], place: Place) -> Evaluator:
        compiled = [self._item(t, place.at(f"[{n}]")) for n, t in enumerate(template)]
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

    def _item(self, template: Any, place: Place) -> tuple[Evaluator, bool]:
        """A list item's evaluator and whether it gives a list of values to spread (foreach, split_all)."""
        form = spread_form(template)
        if form == "foreach":
            return compile_foreach(
                template, place.where, place.path, lambda t, w, p: self._item(t, Place(w, p))
            ), True
        if form == "split_all":
            return compile_split_all(
                template,
                place.where,
                place.path,
                lambda: self._field_parts(template, place, FIELD_SPEC_KEYS | {"split_all"}),
            ), True
        return self.template(template, place), False

    def _field_parts(
        self, spec: dict[str, Any], place: Place, allowed: set[str] | frozenset[str] = FIELD_SPEC_KEYS
    ) -> tuple[Condition | None, Getter, Callable[[Any, Context], Any]]:
        """A field spec checked and compiled: when it holds, what it reads, and what makes a value of what it read
        — one field's, or each part of a split_all's (``allowed`` then has ``split_all``)."""
        self._check_keys(spec, place, allowed)
        read = compile_source(spec, place.where, place.path, self._part)
        finish = self._value(spec, place)
        self._on_error(spec, place)
        return compile_condition(spec.get("when"), place.where), read, finish

    def _dict(self, template: dict[str, Any], place: Place) -> Evaluator:
        members = tuple((key, self.template(t, place.at(f".{key}"))) for key, t in template.items())

        def evaluate_dict(ctx: Context) -> dict[str, Any]:
            built = {}
            for key, member in members:
                value = member(ctx)
                if value is not None:
                    built[key] = value
            return built

        return evaluate_dict

    def _part(self, template: Any, where: str, path: str) -> Evaluator:
        """A concat's part given as a template (``{from: …}``, ``{const: …}``)."""
        return self.template(template, Place(where, path))

    # --- fields and objects ----------------------------------------------------------------------------------

    def _check_keys(self, spec: dict[str, Any], place: Place, allowed: set[str] | frozenset[str]) -> None:
        unknown = set(spec) - allowed
        if unknown:
            raise ConfigError(
                f"unknown keys {sorted(unknown)}", record=place.where, fix=f"allowed: {sorted(allowed)}"
            )

    def _on_error(self, spec: dict[str, Any], place: Place) -> bool:
        """Whether a failure of this field drops it (``on_error: drop``) rather than failing its entity."""
        if spec.get("on_error") not in (None, "quarantine", "drop"):
            raise ConfigError("on_error must be quarantine or drop", record=place.where, field="on_error")
        return spec.get("on_error") == "drop"

    def _field(self, spec: dict[str, Any], place: Place) -> Evaluator:
        when, read, finish = self._field_parts(spec, place)

        def evaluate_field(ctx: Context) -> Any:
            if when is not None and not when(ctx):
                return None
            return finish(read(ctx), ctx)

        return evaluate_field

    def _value(self, spec: dict[str, Any], place: Place) -> Callable[[Any, Context], Any]:
        """What a field spec does with a value once read (blank → default, codes, transforms): every field's
        reading ends here, and a split_all's once per part."""
        default = spec.get("default")
        code = self._code(spec, place) if spec.get("codes") is not None else None
        transform = self.transform(spec, place)

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
            return default if value is EMPTY else value

        return finish

    def _object(self, spec: dict[str, Any], place: Place) -> Evaluator:
        self._check_keys(spec, place, OBJECT_SPEC_KEYS)
        transform = self.transform(spec, place)
        drop = self._on_error(spec, place)
        when = compile_condition(spec.get("when"), place.where)
        build = self.template(spec["fields"], Place(f"{place.where}.fields", place.path))

        def evaluate_object(ctx: Context) -> Any:
            if when is not None and not when(ctx):
                return None
            try:
                value = build(ctx)
            except DataError as exc:
                if not drop:
                    raise
                ctx.warnings.append(
                    f"{exc.field or place.path}: {getattr(exc, 'reason', 'invalid')} (dropped)"
                )
                return None
            if transform is None:
                return value
            value = transform(value, ctx)
            return None if value is EMPTY else value

        return evaluate_object

    def _table(self, spec: dict[str, Any], place: Place) -> dict[str, Any]:
        if spec["codes"] not in self.codes:
            raise ConfigError(
                f"unknown code table {spec['codes']!r}", record=place.where, field="codes",
                fix="define it under codes: in this file or in mappings/codes.yaml",
            )  # fmt: skip
        return self.codes[spec["codes"]]

    def _code(self, spec: dict[str, Any], place: Place) -> Callable[[Any, Context], Any]:
        """The ``codes:`` key: looked up before any transform; an unknown code takes ``default`` if given."""
        table = self._table(spec, place)
        has_default = "default" in spec
        fail = self._fail(spec, place.path)

        def code(value: Any, ctx: Context) -> Any:
            found = code_of(table, value)
            if found is not UNKNOWN_CODE:
                return found
            if has_default:
                return spec["default"]
            return fail(
                ctx, "unknown_code",
                f"{shown(value)!r} is not in code table {spec['codes']!r} (field {named_field(spec, ctx)})",
            )  # fmt: skip

        return code

    # --- transforms ------------------------------------------------------------------------------------------

    def transform(self, spec: dict[str, Any], place: Place) -> Callable[[Any, Context], Any] | None:
        """The transform list as one closure. A chain with a step that may find nothing (``split``, ``regex``,
        a code, a derived value) stops there and gives ``EMPTY``; a chain without one runs as it always did."""
        written = spec.get("transform")
        steps = tuple(
            self._step(
                name,
                arg,
                spec,
                place.where,
                "transform" if not isinstance(written, list) else f"transform[{n}]",
            )
            for n, (name, arg) in enumerate(_transform_steps(written))
        )
        if not steps:
            return None
        fail = self._fail(spec, place.path)
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
                    return EMPTY
            return value

        return transform_or_empty

    def _step(
        self, name: str, arg: Any, spec: dict[str, Any], where: str, place: str
    ) -> tuple[Callable[[Any, Any], Any], Any, bool]:
        """(function, prepared argument, may it find nothing) for one step, or a ConfigError naming it."""
        function = None if name == "codes" else transform_named(name)
        if name != "codes" and function is None:
            raise ConfigError(f"unknown transform {name!r}", record=where, field=place,
                              fix=f"use one of {', '.join(transform_names())}")  # fmt: skip
        try:
            prepared = prepare_codes_step(arg, self.codes) if name == "codes" else prepare(name, arg)
        except ValueError as exc:
            raise ConfigError(str(exc), record=where, field=place, fix="see mappings/README.md") from exc
        if function is None:  # codes
            default = ("default" in spec, spec.get("default"))
            return compile_codes_step(self.codes, prepared, default), None, True
        return function, prepared, may_be_blank(name)

    def _fail(self, spec: dict[str, Any], path: str) -> Callable[[Context, str, str], None]:
        drop = spec.get("on_error") == "drop"

        def fail(ctx: Context, reason: str, message: str) -> None:
            # Worked out on failure only (rare), exactly as the field is named in the mapping file.
            named = str(named_field(spec, ctx) or _fields_read(spec) or path).replace("$item", ctx.item_path)
            if drop:
                ctx.warnings.append(f"{named}: {reason} (dropped)")
                return None
            error_type = ValidationFailed if reason.startswith("invalid_") else MappingError
            raise error_type(message, reason=reason, record=ctx.name, field=named, fix=_FIX_VALUE,
                             entity_field=path)  # fmt: skip

        return fail


def _key(key: list[str], where: str) -> tuple[KeyPart, ...]:
    parts = []
    for n, part in enumerate(key):
        if not part.strip() or part in ("=", "@"):
            raise ConfigError(
                f"key part {part!r} names nothing", record=where, field=f"key[{n}]",
                fix="a path into the entity, @PATH, $source_id / $stream / $item, or =TEXT for a literal",
            )  # fmt: skip
        if part.startswith("@"):  # a field of the source record
            parts.append(KeyPart(part, read_path(part[1:], where, f"key[{n}]")))
        elif part.startswith("$"):
            parts.append(KeyPart(part, read_path(part, where, f"key[{n}]")))
        elif part.startswith("="):  # a literal: a second entity of the same kind from one record
            parts.append(KeyPart(part, _constant(part[1:])))
        else:  # a field of the canonical entity just built
            parts.append(KeyPart(part, None))
    return tuple(parts)


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


def _sources_read(fields: Any) -> dict[str, str]:
    """Top-level entity field → the source paths its template reads (``from``, a concat's paths, an object's)."""
    if not isinstance(fields, dict):
        return {}
    found: dict[str, str] = {}
    for name, spec in fields.items():
        if not isinstance(spec, dict):
            continue
        source = spec.get("from")
        parts = spec.get("concat")
        if isinstance(source, str | list):
            found[name] = ",".join(str(p) for p in (source if isinstance(source, list) else [source]))
        elif isinstance(parts, list):
            found[name] = ",".join(str(p) for p in parts if isinstance(p, str)) or name
        elif (read := _fields_read(spec)) is not None:
            found[name] = read
    return found


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
