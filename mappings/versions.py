"""A record's ``as_of``: when, by its source, this version of the record was true.

Sources resend a record (a nightly full extract, a replayed webhook, a backfill of last year) and the one loaded
last is not always the newest. A stream that declares ``as_of`` — a field spec over ``updated_at``,
``snapshot_date`` or the like — gives every mapped record an aware instant; the store compares them and keeps
the newest version. A date is midnight UTC. A value that cannot be read as an aware instant never costs the
record: it maps with ``as_of = None`` and a warning, and the store treats it as of unknown time (the last
loaded wins, as without ``as_of``). A naive timestamp is refused, not guessed: declare the source's timezone
with the ``datetime`` transform.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from core.errors import DataError
from mappings.context import Context, Evaluator, is_blank

_UNKNOWN_TIME = "as_of unknown: the last loaded version wins"


def instant(value: Any) -> datetime:
    """``value`` (an ISO date or timestamp, or a date/datetime) as an aware datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"{type(value).__name__} is not a date or timestamp")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("a timestamp without a UTC offset (declare the timezone in the datetime transform)")
    return parsed


def compile_as_of(evaluate: Evaluator) -> Callable[[Context], datetime | None]:
    """The stream's ``as_of`` reader: never raises, an unreadable value is None and a warning on the record."""

    def as_of(ctx: Context) -> datetime | None:
        try:
            value = evaluate(ctx)
        except DataError as exc:
            ctx.warnings.append(f"as_of {exc.field}: {exc.reason} ({_UNKNOWN_TIME})")
            return None
        if is_blank(value):
            return None
        try:
            return instant(value)
        except ValueError as exc:
            ctx.warnings.append(f"as_of: {exc} ({_UNKNOWN_TIME})")
            return None

    return as_of
