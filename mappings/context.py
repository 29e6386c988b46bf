"""The record being mapped and how a compiled path reads it: shared by the engine, conditions and expressions.

Kept apart from engine.py so that condition and value-expression compilers (conditions.py, expressions.py)
read a record exactly the way a field spec does — stripped strings, a missing step as ``MISSING`` — without
importing the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MISSING = object()
# Paths that name the record's envelope rather than a payload field ($item is the current foreach item).
SPECIAL_PATHS = {"$source": "source", "$stream": "stream", "$source_id": "source_id", "$item": "item"}


def is_blank(value: Any) -> bool:
    """Sources say "nothing" in many ways: None, "", spaces, an empty list."""
    return value is None or value is MISSING or (isinstance(value, str | list | dict) and not value)


class Context:
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

    def for_item(self, item: Any, item_path: str) -> Context:
        return Context(self.source, self.stream, self.source_id, self.payload, item, self.warnings, item_path)

    @property
    def name(self) -> str:
        return f"{self.source}/{self.stream}/{self.source_id}"


Getter = Callable[[Context], Any]
Condition = Callable[[Context], bool]
Evaluator = Callable[[Context], Any]


def compile_path(path: str) -> Getter:
    """A reader for ``PATH``: a dotted payload path, or ``$source``/``$stream``/``$source_id``/``$item[.…]``.

    Strings come back stripped; a missing step gives the ``MISSING`` marker.
    """
    head, _, rest = path.partition(".")
    parts = tuple(rest.split(".")) if rest else ()
    special = SPECIAL_PATHS.get(head)
    if special is None and not parts:  # by far the most common form: a top-level payload field

        def top_level(ctx: Context) -> Any:
            value = ctx.payload.get(head, MISSING)
            return value.strip() if isinstance(value, str) else value

        return top_level

    def nested(ctx: Context) -> Any:
        value: Any = ctx.payload.get(head, MISSING) if special is None else getattr(ctx, special)
        for part in parts:
            value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
        return value.strip() if isinstance(value, str) else value

    return nested
