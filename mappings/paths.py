"""Paths into a record, compiled once into readers: the one way every form reads a field.

``from``, a concat's parts, a condition's ``path``, a key's ``@PATH``, ``foreach``, ``source_id`` and
``required`` all read through ``compile_path``. A path is dotted steps, each a field name, a position in a
list or a choice among a list's items by their fields::

    customer.name                       a field of a field
    phones.0.number  phones.-1.number   the first / last item of a list (out of range: blank)
    phones[type=MOBILE].number          the first item whose type is MOBILE (none: blank)
    phones[type=MOBILE, status!=STOPPED].number    every test holds (, is "and")
    $item.number  $item[type=HOME].number          the current foreach item, read the same way

A selector's values are compared as a condition compares them (stripped, case- and width-folded); ``!=`` also
holds when the field is blank. A name step that meets a list (``phones.number``) is a mistake in the mapping:
the record fails with ``path_into_list`` naming the path, instead of the value silently coming back blank, as it
did before lists could be read. Whether a field holds a list is known only from the data; what the path's text
can tell — an empty step, an unclosed ``[``, ``phones[0]`` for ``phones.0`` — fails at load (``PathError``,
reported by the caller with the file and the place).

A top-level field (nearly every path) and a path of names only compile to the same loops as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.errors import ConfigError, MappingError
from mappings.context import MISSING, SPECIAL_PATHS, Context, Getter, compared_text, is_blank

_SEGMENT = re.compile(r"([^\[\]]*)(?:\[([^\[\]]*)\])?")
_INDEX = re.compile(r"-?[0-9]+")
_FIX = "see 'Paths' in mappings/README.md"


class PathError(ValueError):
    """A path written wrongly; the caller turns it into a ConfigError naming the file and the place."""


class _StepFailed(Exception):
    """A step met data it cannot read (a list where a field was named): the getter names the record."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


Step = Callable[[Any], Any]
ItemTest = Callable[[dict[str, Any]], bool]


def compile_path(path: str) -> Getter:
    """A reader for ``path``; strings come back stripped, a missing step gives ``MISSING``.

    Raises ``PathError`` when the path is written wrongly (see ``read_path`` for a ConfigError).
    """
    head, steps, names_only = _parse(path)
    special = SPECIAL_PATHS.get(head)
    if special is None and not steps:  # by far the most common form: a top-level payload field

        def top_level(ctx: Context) -> Any:
            value = ctx.payload.get(head, MISSING)
            return value.strip() if isinstance(value, str) else value

        return top_level

    if names_only:
        names = tuple(str(step) for step in steps)

        def nested(ctx: Context) -> Any:
            value: Any = ctx.payload.get(head, MISSING) if special is None else getattr(ctx, special)
            for name in names:
                if isinstance(value, dict):
                    value = value.get(name, MISSING)
                elif isinstance(value, list):
                    raise _failure(ctx, path, _into_list(path, name))
                else:
                    value = MISSING
            return value.strip() if isinstance(value, str) else value

        return nested

    compiled = tuple(_compile_step(step, path) for step in steps)

    def through_lists(ctx: Context) -> Any:
        value: Any = ctx.payload.get(head, MISSING) if special is None else getattr(ctx, special)
        try:
            for step in compiled:
                value = step(value)
        except _StepFailed as exc:
            raise _failure(ctx, path, exc) from None
        return value.strip() if isinstance(value, str) else value

    return through_lists


def read_path(path: Any, where: str, place: str) -> Getter:
    """The reader of ``path`` as a mapping file writes it (stripped); a ConfigError naming ``where`` and ``place``
    when it is no text or is written wrongly."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError("a path must be text naming a field", record=where, field=place, fix=_FIX)
    try:
        return compile_path(path.strip())
    except PathError as exc:
        raise ConfigError(f"path {path.strip()!r}: {exc}", record=where, field=place, fix=_FIX) from exc


# --- parsing -------------------------------------------------------------------------------------------------


def top_field(path: str) -> str | None:
    """The record's top-level field a path starts from (``customer`` of ``customer.name``); None for a path that
    starts from ``$source_id``, ``$item`` …, which no column of a file holds."""
    head = _parse(path)[0]
    return None if head in SPECIAL_PATHS else head


def _parse(path: str) -> tuple[str, list[str | _Index | tuple[ItemTest, ...]], bool]:
    """(head, steps, whether every step is a plain name). A name carrying a selector is two steps."""
    segments = _split_dots(path)
    steps: list[str | _Index | tuple[ItemTest, ...]] = []
    head = ""
    for n, segment in enumerate(segments):
        found = _SEGMENT.fullmatch(segment)
        if found is None:
            raise PathError(
                f"step {segment!r} is not NAME or NAME[TESTS]; put several tests in one selector, "
                "separated by commas: phones[type=MOBILE, status=ACTIVE]"
            )
        name, selector = found.group(1), found.group(2)
        if not name:
            raise PathError(
                "a selector follows the list's name (phones[type=MOBILE]), not a dot"
                if selector is not None
                else "an empty step (two dots, or a dot at an end)"
            )
        if n == 0:
            head = name
        elif _INDEX.fullmatch(name):
            steps.append(_Index(int(name), name))
        else:
            steps.append(name)
        if selector is not None:
            steps.append(_parse_selector(selector, name))
    return head, steps, all(isinstance(step, str) for step in steps)


def _split_dots(path: str) -> list[str]:
    """The path cut at dots outside ``[...]`` (a selector's value may hold a dot: ``[email=a.b@c.cn]``)."""
    segments: list[str] = []
    current: list[str] = []
    inside = False
    for char in path:
        if char == "[":
            if inside:
                raise PathError("'[' inside a selector")
            inside = True
        elif char == "]":
            if not inside:
                raise PathError("']' without its '['")
            inside = False
        elif char == "." and not inside:
            segments.append("".join(current))
            current = []
            continue
        current.append(char)
    if inside:
        raise PathError("'[' is not closed")
    segments.append("".join(current))
    return segments


def _parse_selector(text: str, list_name: str) -> tuple[ItemTest, ...]:
    if _INDEX.fullmatch(text.strip()):
        raise PathError(f"an index is a step of its own: write {list_name}.{text.strip()}, not [{text}]")
    tests = []
    for written in text.split(","):
        operator = next((op for op in ("!=", "==", "=") if op in written), None)
        if operator is None:
            raise PathError(f"selector test {written.strip()!r} is not FIELD=VALUE or FIELD!=VALUE")
        field, _, value = (part.strip() for part in written.partition(operator))
        if not field or not value or "." in field:
            raise PathError(
                f"selector test {written.strip()!r} needs a field of the item (no dots) and a value"
            )
        tests.append(_item_test(field, compared_text(value), operator != "!="))
    return tuple(tests)


def _item_test(field: str, wanted: str, equal: bool) -> ItemTest:
    def test(item: dict[str, Any]) -> bool:
        actual = item.get(field)
        same = not is_blank(actual) and compared_text(actual) == wanted
        return same if equal else not same

    return test


class _Index:
    """A position in a list (``-1`` the last); on a mapping it is the key as written (``"0"``)."""

    __slots__ = ("key", "position")

    def __init__(self, position: int, key: str):
        self.position = position
        self.key = key


# --- reading -------------------------------------------------------------------------------------------------


def _compile_step(step: str | _Index | tuple[ItemTest, ...], path: str) -> Step:
    if isinstance(step, str):

        def name_step(value: Any) -> Any:
            if isinstance(value, dict):
                return value.get(step, MISSING)
            if isinstance(value, list):
                raise _into_list(path, step)
            return MISSING

        return name_step
    if isinstance(step, _Index):
        position, key = step.position, step.key

        def index_step(value: Any) -> Any:
            if isinstance(value, list):
                return value[position] if -len(value) <= position < len(value) else MISSING
            if isinstance(value, dict):
                return value.get(key, MISSING)
            return MISSING

        return index_step
    tests = step

    def select_step(value: Any) -> Any:
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and all(test(item) for test in tests):
                    return item
            return MISSING
        if is_blank(value):
            return MISSING
        raise _StepFailed(
            "not_a_list", f"{path!r} selects an item of a list, and found {type(value).__name__} instead"
        )

    return select_step


def _into_list(path: str, name: str) -> _StepFailed:
    return _StepFailed(
        "path_into_list",
        f"{path!r} meets a list where it reads {name!r}: the record holds a list there — if the source always "
        "does, name one item in the mapping, by position (.0, .-1) or by its fields ([type=MOBILE])",
    )


def _failure(ctx: Context, path: str, exc: _StepFailed) -> MappingError:
    return MappingError(
        str(exc), reason=exc.reason, record=ctx.name, field=path.replace("$item", ctx.item_path),
        fix="correct the path in the mapping (see 'Paths' in mappings/README.md), then replay the quarantine",
    )  # fmt: skip
