"""Items of a list template that give several values: one per item of a nested list, one per part of a value.

- ``{foreach: PATH, template: T, when: C}`` — T once per item of the list at PATH (a CRM's ``phones``), the
  item reachable as ``$item`` (``$item.number``, ``$item[type=…]``); ``when`` is tested per item, so
  ``{path: $item.status, equals: ACTIVE}`` keeps the active ones. The emit's ``foreach`` makes one *entity*
  per item; this makes one *value* of a field per item (a party's ``contact_points``). Inside it ``$item``
  is this list's item (an emit's ``$item`` is not reachable there).
- ``{from: PATH, split_all: REGEX, transform, codes, default, when, on_error}`` — a field spec whose value is
  cut wherever REGEX matches, each part stripped and taken through the field's codes and transforms as a
  value of its own (a DMS phone column with ``138…/0571-…``); blank parts are skipped. The pattern is a
  *separator*: ``[/,;、]+`` keeps ``0571 8888 0900`` whole (see mappings/README.md for splitting on spaces
  only between two complete numbers). The ``split`` step, by contrast, keeps *one* part.

Both are items of a list (their values are spread into it; ``None`` results are left out as for any item); used
where one value is expected they fail at load, as does a pattern that does not compile or matches an empty
text (it would cut between every character). A template may itself be a ``split_all`` (``{foreach: phones,
template: {from: $item.number, split_all: "/"}}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.errors import ConfigError, MappingError
from mappings.conditions import compile_condition
from mappings.context import Condition, Context, Evaluator, Getter, is_blank
from mappings.paths import read_path

FOREACH_KEYS = frozenset({"foreach", "template", "when"})
Spread = Callable[[Context], list[Any]]
Finish = Callable[[Any, Context], Any]  # a field's default, codes and transforms on one value
_FIX = "see 'One value per item or part' in mappings/README.md"


def spread_form(template: Any) -> str | None:
    """``foreach`` or ``split_all`` when ``template`` is a form that gives several values, else None."""
    if isinstance(template, dict):
        if "foreach" in template:
            return "foreach"
        if "split_all" in template:
            return "split_all"
    return None


def refuse_outside_list(form: str, where: str) -> ConfigError:
    return ConfigError(
        f"{form}: gives one value per item or part, so it is an item of a list", record=where, field=form,
        fix="write it as an item of a list field, e.g. contact_points: [{foreach: phones, template: …}]",
    )  # fmt: skip


def split_pattern(spec: dict[str, Any], where: str) -> re.Pattern[str]:
    """The ``split_all`` separator, compiled; a ConfigError naming ``where`` when it cannot serve."""
    written = spec["split_all"]
    if not isinstance(written, str) or not written:
        raise ConfigError("split_all: takes a separator pattern (a regular expression, quoted in YAML)",
                          record=where, field="split_all", fix=_FIX)  # fmt: skip
    try:
        pattern = re.compile(written)
    except re.error as exc:
        raise ConfigError(f"split_all: {written!r} is not a regular expression: {exc}", record=where,
                          field="split_all", fix=_FIX) from exc  # fmt: skip
    if pattern.fullmatch("") is not None:
        raise ConfigError(
            f"split_all: {written!r} matches an empty text, so it would cut between every character",
            record=where, field="split_all", fix="require at least one separator: + rather than *",
        )  # fmt: skip
    return pattern


def _gather(values: list[Any], value: Any, spreads: bool) -> None:
    """Add what one template gave: each of its values when it spreads, else the one value unless it is None."""
    if spreads:
        values.extend(value)
    elif value is not None:
        values.append(value)


def spread_list(items: list[tuple[Evaluator, bool]]) -> Evaluator:
    """A list template some of whose items give several values: those are spread, each in its place."""
    compiled = tuple(items)

    def evaluate_spread_list(ctx: Context) -> list[Any]:
        values: list[Any] = []
        for item, spreads in compiled:
            _gather(values, item(ctx), spreads)
        return values

    return evaluate_spread_list


def compile_foreach(
    spec: dict[str, Any],
    where: str,
    path: str,
    compile_item: Callable[[Any, str, str], tuple[Evaluator, bool]],
) -> Spread:
    """One value of the template per item of the list (spread when the template is itself a split_all); a
    ConfigError naming ``where`` for its keys, the list's path, the per-item ``when`` or the template."""
    unknown = set(spec) - FOREACH_KEYS
    if unknown:
        raise ConfigError(
            f"unknown keys {sorted(unknown)}", record=where, fix=f"allowed: {sorted(FOREACH_KEYS)}"
        )
    read = read_path(spec["foreach"], where, "foreach")
    if "template" not in spec or spec["template"] is None:
        raise ConfigError("foreach: needs a template, the value made of each item", record=where,
                          field="template", fix=_FIX)  # fmt: skip
    when: Condition | None = compile_condition(spec.get("when"), where)
    template, spreads = compile_item(spec["template"], f"{where}.template", f"{path}.template")
    list_path = str(spec["foreach"]).strip()

    def each_item(ctx: Context) -> list[Any]:
        items = read(ctx)
        if is_blank(items):
            return []
        named = list_path.replace("$item", ctx.item_path)
        if not isinstance(items, list):
            raise MappingError("expected a list", reason="not_a_list", record=ctx.name, field=named,
                               entity_field=path)  # fmt: skip
        values: list[Any] = []
        for n, item in enumerate(items):
            item_ctx = ctx.for_item(item, f"{named}[{n}]")
            if when is not None and not when(item_ctx):
                continue
            _gather(values, template(item_ctx), spreads)
        return values

    return each_item


def compile_split_all(
    spec: dict[str, Any], where: str, path: str, field: Callable[[], tuple[Condition | None, Getter, Finish]]
) -> Spread:
    """One value per non-blank part of what the field reads; a blank value gives the field's default, if any.
    A ConfigError naming ``where`` without a value to cut or a usable separator; ``field`` compiles the rest of
    the field spec (when it holds, what it reads, what each part becomes) once those are known good."""
    if "from" not in spec and "concat" not in spec:
        raise ConfigError("split_all: needs a value to cut: from: or concat:", record=where, field="split_all",
                          fix="e.g. {from: 电话, split_all: '[/,;、]+'}")  # fmt: skip
    pattern = split_pattern(spec, where)
    when, read, finish = field()
    every = pattern.groups + 1  # re.split puts the separator's groups between the parts: skip them

    def each_part(ctx: Context) -> list[Any]:
        if when is not None and not when(ctx):
            return []
        value = read(ctx)
        if is_blank(value):
            blank = finish(value, ctx)
            return [] if blank is None else [blank]
        values = []
        for part in pattern.split(str(value))[::every]:
            if part.strip():
                made = finish(part.strip(), ctx)
                if made is not None:
                    values.append(made)
        return values

    return each_part
