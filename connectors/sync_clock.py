"""The clock of one sync run, shared by every pull type: how far its watermark may move and how long the whole
run may take (where a pass starts and what it saves: incremental.py).

Why a watermark never passes the run's own start: a source whose clock runs fast (a finance row stamped 50
minutes ahead, inside the future-time allowance) once moved the saved watermark 50 minutes ahead, and rows its
users committed afterwards with honest times (now, now + 1 min) lay behind ``watermark − look-back`` and were
never read. The rule here: the records are read and stored whatever their stamp, but the saved watermark is at
most the run's start minus ``clock_margin_s``. The rows stamped ahead are then read again on each run until the
source's clock passes them, which costs nothing (the raw store recognises an unchanged record).

Why a total deadline: each call has its own deadline, but a source that answers every call slowly (a trickling
ERP: 5 × 60 s for the WSDL, 5 × 120 s per call) held a sync for ten minutes before giving up. The runner opens
a ``SyncClock`` with the run's deadline; transports and retries ask ``remaining_s`` and stop at it.

The clock travels in a context variable, set by ``connectors.runner.run_sync`` around the connector's reading;
a connector read outside a run (``autohub sources check``) gets a clock started at its first question, with the
settings' defaults.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.errors import SourceUnavailable
from core.settings import Settings


def _default(name: str) -> float:
    """A setting's documented default, from the one place it is declared (core/settings.py)."""
    return float(Settings.model_fields[name].default)


DEADLINE_SETTING = "AUTOHUB_SYNC_RUN_DEADLINE_S"


class RunDeadlinePassed(SourceUnavailable):
    """The sync run used up its total deadline (``AUTOHUB_SYNC_RUN_DEADLINE_S``): what it stored is kept, its
    watermark is where the last stored page left it, and the next run goes on from there."""


@dataclass(frozen=True)
class SyncClock:
    """One run's start (wall clock, for watermarks) and deadline (monotonic, for waiting)."""

    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock_margin_s: float = field(default_factory=lambda: _default("sync_clock_margin_s"))
    deadline_s: float | None = field(default_factory=lambda: _default("sync_run_deadline_s"))
    _started_mono: float = field(default_factory=time.monotonic, repr=False)

    # --- watermarks ---------------------------------------------------------------------------------------

    @property
    def newest_settled(self) -> datetime:
        """The furthest a watermark may move in this run: its start less the margin for clocks and commits."""
        return self.started - timedelta(seconds=self.clock_margin_s)

    def settle(self, moment: datetime) -> datetime:
        """``moment`` as a watermark may hold it: never past ``newest_settled`` (aware datetimes only)."""
        return min(moment, self.newest_settled.astimezone(moment.tzinfo))

    # --- the total deadline -------------------------------------------------------------------------------

    def remaining_s(self) -> float | None:
        """Seconds left of the run's deadline (0 when passed); None when the run has none."""
        if self.deadline_s is None:
            return None
        return max(self.deadline_s - (time.monotonic() - self._started_mono), 0.0)

    def bound(self, seconds: float) -> float:
        """``seconds`` (a call's own deadline), cut to what is left of the run's."""
        left = self.remaining_s()
        return seconds if left is None else min(seconds, left)

    def check(self, source: str) -> None:
        """Raise ``RunDeadlinePassed`` once the run's deadline is spent (between pages, before a retry)."""
        if self.remaining_s() == 0.0:
            raise run_deadline_passed(
                source, f"the sync run took longer than its total deadline of {self.deadline_s:g} s"
            )


def run_deadline_passed(source: str, message: str) -> RunDeadlinePassed:
    """The error that ends a run at its total deadline (between pages, in a retry, in a transport's call), with
    the one fix that holds wherever it struck."""
    return RunDeadlinePassed(
        message, record=source, field=DEADLINE_SETTING,
        fix=f"what was read before is stored and the next run goes on from there; raise {DEADLINE_SETTING} "
        "only if the source is this slow on purpose",
    )  # fmt: skip


_current: ContextVar[SyncClock | None] = ContextVar("autohub_sync_clock", default=None)


def current_clock() -> SyncClock:
    """The clock of the run in progress; outside a run, a new one (started now, the settings' defaults) —
    a connector asks once, when its pass begins."""
    clock = _current.get()
    return SyncClock() if clock is None else clock


@contextmanager
def sync_clock(clock: SyncClock) -> Iterator[SyncClock]:
    """Run the body under ``clock`` (the runner's: one per sync run)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
