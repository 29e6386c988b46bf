"""Transform steps beyond transforms.py: text extraction (``split``, ``regex``) and the derived values of
derive.py, with the load-time preparation of their arguments.

Kept out of transforms.py's table (which other work extends) and merged with it by name: ``transform_named``
finds a step in either. A step whose argument needs work — a regex to compile, a separator to check — has a
*preparer*, run once when the mapper is built; a bad argument raises ``ValueError`` there, which the engine
reports as a ConfigError naming the file and the place, instead of failing (or recompiling) per record.

Steps here may find nothing — no such part, no match, no place in the address — and then return ``None``:
the field is blank and takes its ``default`` (or is left out). That is why the engine checks for ``None``
only after these steps (``may_be_blank``); the steps of transforms.py never yield a blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mappings.derive import DERIVED
from mappings.transforms import TRANSFORMS, TransformFailed, shown

Step = Callable[[Any, Any], Any]


def t_split(value: Any, arg: tuple[str, int]) -> str | None:
    """One part of a delimited value (``a,b,c`` → ``b``); a part that is not there is blank."""
    sep, index = arg
    parts = str(value).split(sep)
    try:
        part = parts[index].strip()
    except IndexError:
        return None
    return part or None


def _prepare_split(arg: Any) -> tuple[str, int]:
    if isinstance(arg, str):
        arg = {"sep": arg}
    if not isinstance(arg, dict) or set(arg) - {"sep", "index"}:
        raise ValueError("split takes {sep: TEXT, index: N}")
    sep, index = arg.get("sep", ","), arg.get("index", 0)
    if not isinstance(sep, str) or not sep:
        raise ValueError("split: sep must be non-empty text")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError("split: index must be a whole number (0 is the first part, -1 the last)")
    return sep, index


def t_regex(value: Any, arg: tuple[re.Pattern[str], int | str, bool]) -> str | None:
    """The part of the value a group of a regex captures (``re.search``: anywhere in the value)."""
    pattern, group, fail = arg
    found = pattern.search(str(value))
    part = found.group(group) if found else None
    if part is None or not part.strip():
        if fail:
            raise TransformFailed("no_match", f"{shown(value)!r} does not match {pattern.pattern!r}")
        return None
    return part.strip()


def _prepare_regex(arg: Any) -> tuple[re.Pattern[str], int | str, bool]:
    if isinstance(arg, str):
        arg = {"pattern": arg}
    if not isinstance(arg, dict) or "pattern" not in arg or set(arg) - {"pattern", "group", "no_match"}:
        raise ValueError("regex takes {pattern: REGEX, group: N or NAME, no_match: blank or fail}")
    try:
        pattern = re.compile(str(arg["pattern"]))
    except re.error as exc:
        raise ValueError(f"regex: {arg['pattern']!r} is not a regular expression: {exc}") from exc
    group = arg.get("group", 1 if pattern.groups else 0)
    if isinstance(group, bool) or not (
        (isinstance(group, int) and 0 <= group <= pattern.groups)
        or (isinstance(group, str) and group in pattern.groupindex)
    ):
        raise ValueError(f"regex: the pattern has no group {group!r}")
    no_match = arg.get("no_match", "blank")
    if no_match not in ("blank", "fail"):
        raise ValueError("regex: no_match is blank or fail")
    return pattern, group, no_match == "fail"


EXTRA_STEPS: dict[str, Step] = {"split": t_split, "regex": t_regex, **DERIVED}
PREPARERS: dict[str, Callable[[Any], Any]] = {"split": _prepare_split, "regex": _prepare_regex}
# A derived value may be absent from its source (an address naming no known place).
_MAY_BE_BLANK = frozenset(EXTRA_STEPS)


def transform_named(name: str) -> Step | None:
    """The step called ``name``: transforms.py's table first (read now, so its later entries count)."""
    return TRANSFORMS.get(name) or EXTRA_STEPS.get(name)


def transform_names() -> list[str]:
    return sorted({*TRANSFORMS, *EXTRA_STEPS, "codes"})


def prepare(name: str, arg: Any) -> Any:
    """The step's argument as it is used per record; ``ValueError`` when the mapping gave a bad one."""
    preparer = PREPARERS.get(name)
    if preparer is not None:
        return preparer(arg)
    if name in DERIVED and arg is not None:
        raise ValueError(f"{name} takes no argument")
    return arg


def may_be_blank(name: str) -> bool:
    return name in _MAY_BE_BLANK and name not in TRANSFORMS
