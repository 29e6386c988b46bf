"""One sync run for a pushed source in a long-lived process, instead of one per delivery.

The portal webhook opened and closed a sync run for every request — a signed one or not: the demo wrote ~900
runs and as many "load finished" lines for 900 deliveries, and an unsigned flood would have written a run per
request. A run per API process and hour is the unit a scheduler can read: each delivery is taken in under the
shared run's id with a report of its own (so concurrent deliveries never share counters), its counts are added
to the run's under a lock, and written with a heartbeat at most every ``progress_every_s`` — the same live
counts and heartbeat the DMS consumer writes, so a killed API worker's run is closed as abandoned like a
killed consumer's. A run rolls over after ``roll_after_s``; ``close`` (the API's shutdown) finishes it.
"""

from __future__ import annotations

import threading
import time

from pipeline.load import Loader, LoadReport


class SharedRun:
    """The open run of ``source`` in this process; begun by the first delivery that needs it."""

    def __init__(
        self, loader: Loader, source: str, *, progress_every_s: float = 5.0, roll_after_s: float = 3600.0
    ):
        self.loader, self.source = loader, source
        self.progress_every_s, self.roll_after_s = progress_every_s, roll_after_s
        self._lock = threading.Lock()
        self._run: LoadReport | None = None
        self._opened = self._written = 0.0

    def part(self) -> LoadReport:
        """A fresh report for one delivery under the open run's id (the run is begun or rolled over here)."""
        with self._lock:
            now = time.monotonic()
            if self._run is not None and now - self._opened >= self.roll_after_s:
                self.loader.finish([self._run], error=None)
                self._run = None
            if self._run is None:
                self._run = self.loader.begin(self.source)
                self._opened = self._written = now
            return LoadReport(source=self.source, run_id=self._run.run_id)

    def add(self, part: LoadReport) -> None:
        """A delivery's counts into the run's; written with a heartbeat when the last write is old enough."""
        with self._lock:
            if self._run is None or part.run_id != self._run.run_id:
                self.loader.add_to_run(
                    part
                )  # its run was finished meanwhile (a roll-over): counted there still
                return
            self._run.add(part)
            if time.monotonic() - self._written >= self.progress_every_s:
                self.loader.checkpoint(self._run)
                self._written = time.monotonic()

    def close(self, error: str | None = None) -> None:
        with self._lock:
            if self._run is not None:
                self.loader.finish([self._run], error=error)
                self._run = None
