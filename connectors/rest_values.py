"""What the ``http`` type reads out of a JSON answer and writes into a request: change times in a declared
format, read and written. Plain functions over plain values, tested without a server; what every type reads
alike (dotted paths, ids, zones) is ``connectors/values.py``'s."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from connectors.values import UnreadableTime, in_zone


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
    return in_zone(moment, value, zone)


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
