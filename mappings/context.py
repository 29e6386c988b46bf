"""The record being mapped and what every reader of it shares: the engine, paths, conditions and expressions.

Kept apart from engine.py so that the path reader (paths.py) and the condition and value-expression compilers
(conditions.py, expressions.py) read a record exactly the way a field spec does — stripped strings, a missing
step as ``MISSING`` — without importing the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from canonical_model.identifiers.width import fold_width

MISSING = object()
# Paths that name the record's envelope rather than a payload field ($item is the current foreach item).
SPECIAL_PATHS = {"$source": "source", "$stream": "stream", "$source_id": "source_id", "$item": "item"}


def is_blank(value: Any) -> bool:
    """Sources say "nothing" in many ways: None, "", spaces, an empty list."""
    return value is None or value is MISSING or (isinstance(value, str | list | dict) and not value)


def width_folded(value: Any) -> str:
    """A value as text, stripped and width-folded (NFKC): a full-width ``１３８…`` or ``ＭＯＢＩＬＥ`` typed with
    a Chinese IME is the ASCII one. ASCII text (nearly all) skips the normalisation."""
    return fold_width(str(value).strip()).strip()


def compared_text(value: Any) -> str:
    """A value as conditions and selectors compare it: width-folded and case-folded (``Y`` = ``y``)."""
    return width_folded(value).lower()


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
