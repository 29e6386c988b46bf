"""``when:`` conditions, compiled once into closures: the text forms of old and a mapping form that combines.

Text forms (kept as they were): ``PATH`` (not blank), ``PATH == VALUE``, ``PATH != VALUE``.
Mapping forms: ``{all: [c…]}``, ``{any: [c…]}``, ``{not: c}`` and one test of one path —
``{path: P, equals: V}``, ``{path: P, in: [V…]}``, ``{path: P, contains: T | [T…]}``,
``{path: P, matches: REGEX}``, ``{path: P, blank: true|false}``.

Values are compared as text, stripped, case-folded and width-folded (NFKC: a full-width ``１３８…`` typed with
a Chinese IME is ``138…``), because sources disagree on ``Y``/``y`` and on numbers as text; a blank value
equals, contains and matches nothing. ``matches`` is a *full* match: a condition that tests a value's form (18
digits, a USCC; width-folded, not case-folded) must not pass on a value that merely contains that form — write
``.*X.*`` or use ``contains`` for a search. A mistake (an unknown key, two tests in one leaf, a regex that
does not compile) is a ConfigError naming the file and the place, raised while the mapper is built.
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import ConfigError
from mappings.context import Condition, Context, Getter, compared_text, is_blank, width_folded
from mappings.paths import PathError, compile_path

COMBINATORS = ("all", "any", "not")
TESTS = ("equals", "in", "contains", "matches", "blank")


def compile_condition(spec: Any, where: str, place: str = "when") -> Condition | None:
    """The condition ``spec`` as a closure, or None when there is none (so callers skip the call)."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, str):
        return _compile_text(spec, where, place)
    if isinstance(spec, dict):
        return _compile_mapping(spec, where, place)
    raise _error(where, place, f"a condition is text or a mapping, not {type(spec).__name__}")


def _error(where: str, place: str, message: str, fix: str | None = None) -> ConfigError:
    return ConfigError(
        message, record=where, field=place, fix=fix or "see 'Conditions' in mappings/README.md"
    )


def _read(path: str, where: str, place: str) -> Getter:
    try:
        return compile_path(path.strip())
    except PathError as exc:
        raise _error(
            where, place, f"path {path.strip()!r}: {exc}", "see 'Paths' in mappings/README.md"
        ) from exc


def _compile_text(condition: str, where: str, place: str) -> Condition:
    split_at, operator = _operator(condition)
    if operator is None:
        read = _read(condition, where, place)

        def present(ctx: Context) -> bool:
            return not is_blank(read(ctx))

        return present
    path, expected = condition[:split_at], condition[split_at + len(operator) :]
    read_compared = _read(path, where, place)
    wanted = compared_text(expected)
    equal = operator == " == "

    def compare(ctx: Context) -> bool:
        actual = read_compared(ctx)
        same = not is_blank(actual) and compared_text(actual) == wanted
        return same if equal else not same

    return compare


def _operator(condition: str) -> tuple[int, str | None]:
    """Where the first `` == `` or `` != `` outside a path's selector is (``phones[type != HOME] == x``)."""
    inside = False
    for at, char in enumerate(condition):
        if char in "[]":
            inside = char == "["
        elif not inside and char == " ":
            for operator in (" == ", " != "):
                if condition.startswith(operator, at):
                    return at, operator
    return -1, None


def _compile_mapping(spec: dict[str, Any], where: str, place: str) -> Condition:
    combinators = [key for key in COMBINATORS if key in spec]
    if combinators:
        if len(spec) != 1:
            raise _error(where, place, f"{combinators[0]}: stands alone in its mapping, found {sorted(spec)}")
        return _compile_combinator(combinators[0], spec[combinators[0]], where, place)
    unknown = set(spec) - {"path", *TESTS}
    if unknown:
        raise _error(where, place, f"unknown keys {sorted(unknown)} in a condition",
                     f"use all/any/not, or path with one of {', '.join(TESTS)}")  # fmt: skip
    path = spec.get("path")
    if not isinstance(path, str) or not path.strip():
        raise _error(where, place, "a condition's path must be a field path (text)")
    tests = [key for key in TESTS if key in spec]
    if len(tests) != 1:
        raise _error(where, place, f"a condition tests one thing, found {tests or 'none'}",
                     f"use one of {', '.join(TESTS)}; combine several with all: [...]")  # fmt: skip
    test = tests[0]
    return _compile_test(test, spec[test], _read(path, where, f"{place}.path"), where, f"{place}.{test}")


def _compile_combinator(name: str, arg: Any, where: str, place: str) -> Condition:
    if name == "not":
        inner = compile_condition(arg, where, f"{place}.not")
        if inner is None:
            raise _error(where, place, "not: needs a condition")

        def negated(ctx: Context) -> bool:
            return not inner(ctx)

        return negated
    if not isinstance(arg, list) or not arg:
        raise _error(where, place, f"{name}: needs a list of conditions")
    parts: list[Condition] = []
    for n, item in enumerate(arg):
        part = compile_condition(item, where, f"{place}.{name}[{n}]")
        if part is None:
            raise _error(where, f"{place}.{name}[{n}]", "an empty condition")
        parts.append(part)
    members = tuple(parts)
    if name == "all":

        def every(ctx: Context) -> bool:
            return all(part(ctx) for part in members)

        return every

    def some(ctx: Context) -> bool:
        return any(part(ctx) for part in members)

    return some


def _compile_test(test: str, arg: Any, read: Any, where: str, place: str) -> Condition:
    if test == "blank":
        if not isinstance(arg, bool):
            raise _error(where, place, "blank: takes true or false")
        wanted_blank = arg

        def blank(ctx: Context) -> bool:
            return is_blank(read(ctx)) is wanted_blank

        return blank
    if test == "matches":
        return _compile_matches(arg, read, where, place)
    if test == "equals":
        if isinstance(arg, dict | list) or arg is None:
            raise _error(where, place, "equals: takes one value (text or a number)")
        values = frozenset({compared_text(arg)})
    else:
        items = arg if isinstance(arg, list) else [arg] if test == "contains" else None
        if not items or any(isinstance(v, dict | list) or v is None or v == "" for v in items):
            raise _error(where, place, f"{test}: takes a non-empty list of values"
                         + (" (or one text)" if test == "contains" else ""))  # fmt: skip
        values = frozenset(compared_text(v) for v in items)
    if test == "contains":
        needles = tuple(values)

        def contains(ctx: Context) -> bool:
            actual = read(ctx)
            if is_blank(actual):
                return False
            text = compared_text(actual)
            return any(needle in text for needle in needles)

        return contains

    def member(ctx: Context) -> bool:
        actual = read(ctx)
        return not is_blank(actual) and compared_text(actual) in values

    return member


def _compile_matches(arg: Any, read: Any, where: str, place: str) -> Condition:
    if not isinstance(arg, str) or not arg:
        raise _error(where, place, "matches: takes a regular expression (text)")
    try:
        pattern = re.compile(arg)
    except re.error as exc:
        raise _error(where, place, f"matches: {arg!r} is not a regular expression: {exc}",
                     "check the pattern (Python re syntax); quote it in YAML") from exc  # fmt: skip
    fullmatch = pattern.fullmatch

    def matches(ctx: Context) -> bool:
        actual = read(ctx)
        return not is_blank(actual) and fullmatch(width_folded(actual)) is not None

    return matches
