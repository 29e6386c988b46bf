"""What the ``http`` type reads out of a JSON answer and writes into a request: dotted paths, ids as text,
change times in a declared format. Plain functions over plain values, tested without a server."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

_MISSING = object()


class UnreadableTime(ValueError):
    """A change time not in the declared format; the message shows the value, shortened."""


class NaiveTime(ValueError):
    """A change time without a zone where no source_timezone is declared: configuration, not one record."""


def dig(body: Any, dotted: str) -> Any:
    """The value at ``a.b.0.c`` in nested objects and lists; ``""`` is the body itself; None where a step is
    missing (use ``has_path`` to tell a missing step from a null)."""
    found = _walk(body, dotted)
    return None if found is _MISSING else found


def has_path(body: Any, dotted: str) -> bool:
    return _walk(body, dotted) is not _MISSING


def _walk(body: Any, dotted: str) -> Any:
    if not dotted:
        return body
    for part in dotted.split("."):
        if isinstance(body, dict) and part in body:
            body = body[part]
        elif isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        else:
            return _MISSING
    return body


def record_id(value: Any) -> str | None:
    """The id as the raw store keys it: text (a number id ``1042`` is ``"1042"``, ``1042.0`` too), never the
    printed form of a structure or a boolean; None if there is none."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def parse_time(value: Any, fmt: str, zone: tzinfo | None) -> datetime | None:
    """An aware datetime from ``value`` in ``fmt`` (iso8601, epoch_s, epoch_ms or a strptime pattern); None for
    no value. A time without a zone is read in ``zone``; with none declared it is ``NaiveTime``, never guessed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if fmt in ("epoch_s", "epoch_ms"):
            if isinstance(value, bool):
                raise TypeError
            seconds = float(value) / (1000 if fmt == "epoch_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC)
        text = str(value).strip()
        moment = datetime.fromisoformat(text) if fmt == "iso8601" else datetime.strptime(text, fmt)
    except (TypeError, ValueError, OverflowError, OSError):
        raise UnreadableTime(f"change time {str(value)[:40]!r} is not {fmt}") from None
    if moment.tzinfo is not None:
        return moment
    if zone is None:
        raise NaiveTime(f"change time {str(value)[:40]!r} has no zone")
    return moment.replace(tzinfo=zone)


def format_time(moment: datetime, fmt: str, zone: str | None) -> str:
    """The watermark as the partner wants it: ISO 8601 (in the zone it was seen in, or ``zone``), epoch
    seconds or milliseconds, or a strftime pattern."""
    if zone:
        moment = moment.astimezone(ZoneInfo(zone))
    if fmt == "iso8601":
        return moment.isoformat()
    if fmt == "epoch_s":
        return str(int(moment.timestamp()))
    if fmt == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    return moment.strftime(fmt)
