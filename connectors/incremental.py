"""Where a pull type's incremental pass starts and what it saves after: one saved shape for every type, and the
look-back every type declares the same way.

Why one shape: the SQL type saved ``{"cursor", "key", "timezone"}``, the SOAP and HTTP types
``{"changed_since", …}`` and the insurance connector once ``{"updated_since"}`` — three spellings of one idea, so
every change to watermarks was written three times and an operator reading ``sync_state`` had to know which type
wrote a row. Migration 0020 rewrote the saved states into this one shape.

The saved shape (``sync_state.watermark``), every key but ``changed_since`` left out while it has its default:

- ``changed_since`` — the watermark: the newest change time read whole, ISO 8601 with its offset; null before
  the first complete pass, and always null for a full extract;
- ``key`` — the tie-breaker among rows at ``changed_since``, for sources read in (change time, key) order;
- ``timezone`` — the zone the source writes times without one in, as it was when the watermark was saved;
- ``full_extract`` and ``newest_change`` — a stream without a change-time filter: empty on purpose, and said so;
- ``pass`` — a pass a crash interrupted: where it started (``since``), the next page (``token``) and the newest
  change time read so far (``high``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from connectors.sync_clock import SyncClock
from core.errors import ConfigError

LookbackSeconds = Annotated[
    int,
    Field(
        ge=0,
        description="re-read this much before the watermark: rows the source committed late, with an older "
        "change time, are caught",
    ),
]

_KEYS = frozenset({"changed_since", "key", "timezone", "full_extract", "newest_change", "pass"})


@dataclass(frozen=True)
class PassUnderWay:
    """A pass that stopped between pages (a crash, a deadline): the next run goes on at ``token``."""

    since: str | None
    token: Any
    high: str | None


@dataclass(frozen=True)
class Watermark:
    """One source stream's incremental state, as saved after the records it covers were committed."""

    changed_since: str | None = None
    key: Any = None
    timezone: str | None = None
    full_extract: bool = False
    newest_change: str | None = None
    under_way: PassUnderWay | None = None

    @classmethod
    def load(cls, saved: Mapping[str, Any] | None, *, source: str, stream: str) -> Watermark:
        """The saved state of ``source``/``stream`` (None: nothing saved yet, read from the beginning)."""
        if not saved:
            return cls()
        unknown = sorted(set(saved) - _KEYS)
        if unknown:
            raise ConfigError(
                f"{source}/{stream}: the saved watermark has keys this hub does not write ({', '.join(unknown)})",
                record=f"{source}/{stream}", field="sync_state.watermark",
                fix="run `autohub db upgrade`: migration 0020 rewrites the watermarks older hubs saved",
            )  # fmt: skip
        running = saved.get("pass")
        return cls(
            changed_since=saved.get("changed_since"), key=saved.get("key"), timezone=saved.get("timezone"),
            full_extract=bool(saved.get("full_extract", False)), newest_change=saved.get("newest_change"),
            under_way=PassUnderWay(running.get("since"), running.get("token"), running.get("high"))
            if running else None,
        )  # fmt: skip

    def dump(self) -> dict[str, Any]:
        """The saved shape: ``changed_since`` always, the other keys only when they say something."""
        saved: dict[str, Any] = {"changed_since": self.changed_since}
        if self.key is not None:
            saved["key"] = self.key
        if self.timezone is not None:
            saved["timezone"] = self.timezone
        if self.full_extract:
            saved |= {"full_extract": True, "newest_change": self.newest_change}
        if self.under_way is not None:
            saved["pass"] = {"since": self.under_way.since, "token": self.under_way.token,
                             "high": self.under_way.high}  # fmt: skip
        return saved

    @property
    def since(self) -> datetime | None:
        """The watermark as a time (None: no complete pass yet)."""
        return datetime.fromisoformat(self.changed_since) if self.changed_since else None

    def resume_from(self, lookback_s: float) -> datetime | None:
        """Where the next incremental pass starts: the watermark less the look-back (rows committed late with
        an older change time are caught); None when nothing is saved yet (read from the beginning)."""
        since = self.since
        return since - timedelta(seconds=lookback_s) if since else None

    def paused(self, since: str | None, token: Any, high: str | None) -> Watermark:
        """This watermark, with a pass under way that goes on at ``token``."""
        return Watermark(
            self.changed_since, self.key, self.timezone, under_way=PassUnderWay(since, token, high)
        )


def after_pass(
    clock: SyncClock, high: datetime | None, *, key: Any = None, timezone: str | None = None
) -> Watermark:
    """The watermark after a complete pass whose newest change time was ``high`` (and its ``key``), never past
    the run's start (sync_clock.py: a fast source clock). A time the run's start capped loses its key, so the
    next pass reads from it inclusively."""
    if high is None:
        return Watermark(timezone=timezone)
    settled = clock.settle(high)
    return Watermark(settled.isoformat(), key if settled == high else None, timezone)


def full_extract(newest_change: str | None) -> Watermark:
    """The state after a full extract: no watermark on purpose, and the newest change time seen, for people."""
    return Watermark(full_extract=True, newest_change=newest_change)


def after_whole_pass(clock: SyncClock, high: datetime | None, *, by_change_time: bool) -> dict[str, Any]:
    """The saved state after a complete pass whose newest change time was ``high``: the watermark for a stream
    read by change time (``after_pass``), the stated empty one for a full extract (``full_extract``)."""
    if not by_change_time:
        return full_extract(high.isoformat() if high else None).dump()
    return after_pass(clock, high).dump()
