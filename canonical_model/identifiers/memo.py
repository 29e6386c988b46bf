"""Remembering parsed identifiers, so that a value checked by a mapping transform is not checked again.

The mapping engine normalises an identifier (its transform) and then builds the canonical entity, whose
field type validates the normalised value once more; the same VIN also recurs across a customer's
sales orders, policies and repair orders. Parsing is a pure function of the text, so the result is kept
under the text as received and under its normal form (parsing the normal form gives the same result).
Invalid values are not kept: they raise every time, with the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")

# Enough for the identifiers of several batches; cleared whole when full (cheap, and a miss only re-parses).
MAX_ENTRIES = 20_000


def remembered(normal_form: Callable[[T], str]) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Memoise a ``parse(value) -> T`` whose result, parsed again from ``normal_form(result)``, is the same."""

    def decorate(parse: Callable[[str], T]) -> Callable[[str], T]:
        known: dict[str, T] = {}

        @wraps(parse)
        def parse_remembered(value: str) -> T:
            if type(value) is not str:  # leave odd input (None, subclasses) to the rule's own handling
                return parse(value)
            result = known.get(value)
            if result is None:
                result = parse(value)
                if len(known) >= MAX_ENTRIES:
                    known.clear()
                known[value] = result
                known[normal_form(result)] = result
            return result

        return parse_remembered

    return decorate
