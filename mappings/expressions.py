"""What a field spec reads before its codes and transforms: one path, the first non-blank of several, or
several joined — and the ``codes`` step, a code table applied at any point of a transform list.

- ``from: PATH`` — as before;
- ``from: [P1, P2, …]`` — the first that is not blank (real_name, else nick_name). One key, not a separate
  ``coalesce:``, because it changes only *where* the value is read: every other key works as with one path;
- ``concat: [PART, …]`` with ``sep`` (default ``""``) — each PART a path or a template (``{from: …}``,
  ``{const: …}``); blank parts are skipped, so all-blank is blank and the field takes its ``default``.

A failure names the source field to correct: the path a ``from`` list actually read, or a concat's paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import ConfigError
from mappings.context import MISSING, Context, Evaluator, Getter, is_blank
from mappings.paths import compile_path, read_path
from mappings.transforms import TransformFailed, shown

CompilePart = Callable[[Any, str, str], Evaluator]  # (a template, where it is in the file, the entity path)


def compile_source(spec: dict[str, Any], where: str, path: str, compile_part: CompilePart) -> Getter:
    """The reader of a field spec's raw value (blank → ``MISSING`` or a blank value, as a path gives); a
    ConfigError naming ``where`` unless it is one of ``from``/``concat``, each of the right shape."""
    if "from" in spec and "concat" in spec:
        raise ConfigError("a field reads from: or concat:, not both", record=where, field="concat")
    if "sep" in spec and "concat" not in spec:
        raise ConfigError("sep: goes with concat:", record=where, field="sep")
    if "concat" in spec:
        return _compile_concat(spec, where, path, compile_part)
    source = spec["from"]
    paths = source if isinstance(source, list) else [source]
    if not paths or not all(isinstance(p, str) and p.strip() for p in paths):
        raise ConfigError(
            "from must be a path (text) or a list of paths (the first not blank is read)",
            record=where, field="from",
        )  # fmt: skip
    readers = tuple(
        read_path(p, where, "from" if isinstance(source, str) else f"from[{n}]") for n, p in enumerate(paths)
    )
    if isinstance(source, str):
        return readers[0]

    def first_present(ctx: Context) -> Any:
        for read in readers:
            value = read(ctx)
            if not is_blank(value):
                return value
        return MISSING

    return first_present


def _compile_concat(spec: dict[str, Any], where: str, path: str, compile_part: CompilePart) -> Getter:
    parts, sep = spec["concat"], spec.get("sep", "")
    if not isinstance(parts, list) or not parts:
        raise ConfigError("concat: needs a list of parts (paths or {from: …})", record=where, field="concat")
    if not isinstance(sep, str):
        raise ConfigError("sep must be text (quote it in YAML)", record=where, field="sep")
    readers: list[Getter] = []
    for n, part in enumerate(parts):
        place = f"{where}.concat[{n}]"
        if isinstance(part, dict) and ({"from", "concat", "const"} & set(part)):
            readers.append(compile_part(part, place, f"{path}.concat[{n}]"))
        elif not (isinstance(part, str) and part.strip()):
            raise ConfigError(
                "a concat part is a path or a field spec ({from: …}, {const: …})",
                record=place,
                field="concat",
            )
        else:
            readers.append(read_path(part, place, "concat"))
    joined_by = str(sep)

    def joined(ctx: Context) -> Any:
        texts = []
        for read in readers:
            value = read(ctx)
            if not is_blank(value):
                texts.append(str(value).strip())
        return joined_by.join(texts) if texts else MISSING

    return joined


def source_field(spec: dict[str, Any], ctx: Context) -> str | None:
    """The source field a failing value came from, as the mapping names it (worked out on failure only)."""
    source = spec.get("from")
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return str(next((p for p in source if not is_blank(compile_path(p.strip())(ctx))), source[0]))
    if "concat" in spec:
        paths = [p if isinstance(p, str) else p.get("from") for p in spec["concat"]]
        return ",".join(str(p) for p in paths if isinstance(p, str)) or None
    return None


UNKNOWN_CODE = object()


def code_of(table: dict[str, Any], value: Any) -> Any:
    """The table's value for ``value`` (as text; as written, upper or lower case), else ``UNKNOWN_CODE``."""
    key = str(value).strip()
    for candidate in (key, key.upper(), key.lower()):
        if candidate in table:
            return table[candidate]
    return UNKNOWN_CODE


def prepare_codes_step(arg: Any, codes: dict[str, dict[str, Any]]) -> tuple[str, bool, Any]:
    """``{codes: NAME}`` or ``{codes: {table: NAME, unknown: VALUE}}`` → (table, has a fallback, fallback).

    ``ValueError`` for a bad argument or an unknown table: the engine reports it with the file and place.
    """
    if isinstance(arg, str):
        arg = {"table": arg}
    if not isinstance(arg, dict) or not isinstance(arg.get("table"), str) or set(arg) - {"table", "unknown"}:
        raise ValueError("a codes step is {codes: TABLE} or {codes: {table: TABLE, unknown: VALUE}}")
    if arg["table"] not in codes:
        raise ValueError(f"unknown code table {arg['table']!r}")
    return arg["table"], "unknown" in arg, arg.get("unknown")


def compile_codes_step(
    codes: dict[str, dict[str, Any]], arg: tuple[str, bool, Any], field_default: tuple[bool, Any]
) -> Callable[[Any, Any], Any]:
    """A transform step looking a value up in a code table. An unknown code gets the step's ``unknown``,
    else the field's ``default`` (as the ``codes:`` key does), else fails as ``unknown_code``."""
    name, has_fallback, fallback = arg
    has_default, default = field_default
    if not has_fallback and has_default:
        has_fallback, fallback = True, default
    table = codes[name]

    def code_step(value: Any, _arg: Any = None) -> Any:
        found = code_of(table, value)
        if found is not UNKNOWN_CODE:
            return found
        if has_fallback:
            return fallback
        raise TransformFailed("unknown_code", f"{shown(value)!r} is not in code table {name!r}")

    return code_step
