"""Text a client sends that no store row or log line should hold, refused where it enters — one rule for all of it.

PostgreSQL refuses a NUL in any text, in an insert and in a query parameter alike, so a campaign name, a steward's
reason or a search term holding one was accepted by the API and then failed as a 500 in the PII audit insert, the
merge history or the look-up. The other C0 control characters (and DEL) are taken by the database but would be
written as they came into audit rows, merge history and log lines, where an escape sequence rewrites what an
operator's terminal shows; a lone surrogate cannot be encoded as UTF-8 at all. Tab, line feed and carriage return
are ordinary in free text (a steward's reason) and pass.

The API's input guard (``hub_api.input_guard``) applies ``unsafe_character`` to the path and the query before
routing; every request body model is a ``ClientModel``; ``store.api_keys.create`` applies it to a key's name (the
actor of every audit row the key writes). The ingest path has its own screen with its own reasons
(``pipeline.screen``): there a record is quarantined, not refused.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
FIX = "remove it and send the request again"


def unsafe_character(text: str) -> str | None:
    """What the first unsafe character of ``text`` is, as an error names it (never the text itself: it may be a
    name or a phone number), or None when ``text`` is safe to store and log."""
    found = UNSAFE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "a NUL character"
    if code >= 0xD800:
        return f"a lone surrogate (U+{code:04X}), which is not UTF-8"
    return f"a control character (U+{code:04X})"


def first_unsafe(value: Any, place: str) -> tuple[str, str] | None:
    """The place (``criteria.models[0]``) and the kind of the first unsafe text in ``value`` — strings, dict keys,
    list items, nested models — or None. Iterative: a value nested deep is walked, never recursed into."""
    stack: list[tuple[Any, str]] = [(value, place)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            what = unsafe_character(item)
            if what:
                return where, what
        elif isinstance(item, dict):
            for key, child in item.items():
                what = unsafe_character(key) if isinstance(key, str) else None
                if what:
                    return where, f"a field name with {what}"
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend((child, f"{where}[{n}]") for n, child in enumerate(item))
        elif isinstance(item, BaseModel):
            stack.extend((child, f"{where}.{name}") for name, child in vars(item).items())
    return None


class ClientModel(BaseModel):
    """The base of every model a client's request is read into: a field holding unsafe text anywhere within it —
    a nested model or list included — fails validation, so the API answers 422 naming the field before a route
    runs, and nothing reaches an insert or a log line.

    A base class rather than a type on each field: a field added later is covered without anyone remembering to.
    The check runs before the field's own validation, on the values as they came (JSON strings, lists, objects).
    """

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unsafe_text(cls, value: Any, info: ValidationInfo) -> Any:
        found = first_unsafe(value, info.field_name or "value")
        if found:
            place, what = found
            raise PydanticCustomError(
                "unsafe_input", "{place} holds {what}: {fix}", {"place": place, "what": what, "fix": FIX}
            )
        return value
