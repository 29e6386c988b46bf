"""Replay after a fix: quarantined records mapped again from the raw store, through the mappings as they are now.

When a mapping, a code table or a rule is corrected, the records it quarantined are already in the raw store,
exactly as they came: there is no need to ask the source for them again (a dealer's DMS cannot resend last
month's events, a partner's API may not). A replay selects unresolved quarantine entries (by source, reason,
stream, age), maps their raw records again as a fresh load would, writes what maps now as ordinary canonical
records, resolves the old entries with what became of them, keeps what still fails with its new reason, and
reports the counts — per source, one sync run of its own, so ``GET /v1/sync-runs`` and the quality scorecard
show it. The recovered canonical records carry a new ``updated_at``, which is what incremental matching selects
by: the next ``autohub match run --incremental`` links them into golden records.

Batches of ``batch_size`` records commit one by one, so a big replay can be interrupted and run again (it
selects only what is still unresolved). ``limit`` bounds one call (the API's default); ``more`` says that the
selection has more records beyond it. ``autohub quarantine replay`` and ``POST /v1/quarantine/replay`` call
``replay_quarantine``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker

from core.client_text import ClientModel
from core.errors import HubError
from core.settings import Settings
from jobs.store_access import store_sessions
from mappings import MappingRegistry
from pipeline import Loader, LoadReport
from pipeline.replay import Replayed
from pipeline.screen import input_limits
from store import replay as replay_store
from store.replay import EntryFilter, ReasonCodes

log = structlog.get_logger(__name__)

# Records refused before any mapping ran — by the screen (the raw store holds an escaped stand-in, not what came:
# pipeline/screen.py), by the store itself (pipeline/load.py, store_refused), or by a connector (a finance row
# without a usable change time: connectors/finance_sql.py; a file row that was no record: jobs/file_load.py). A
# mapping fix cannot recover these, and mapping them anyway would bypass the check that refused them: they are
# counted as not replayable and left for the source to resend. An over-long entity key is found after mapping,
# on the record as it came, so a mapping fix can recover that one.
BEFORE_MAPPING = ReasonCodes(
    exact=frozenset({"bad_cursor", "missing_cursor", "future_cursor", "unreadable_row"}),
    prefixes=("unsafe_input.",),
    exceptions=frozenset({"unsafe_input.key_too_long"}),
)
API_LIMIT = 10_000  # records per API call: an HTTP request should answer within a minute, not an hour
MATCH_NEXT = "run `autohub match run --incremental` next: it links the recovered records into golden records"


class ReplayRefused(HubError):
    """The replay cannot run as asked (nothing selected, a source without a mapping)."""


def _utc(value: datetime | None) -> datetime | None:
    """A moment in UTC; one without a zone is taken as UTC (the zone every time in the store and API is in)."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("a moment this close to year 1 or 9999 is beyond UTC") from None


Code = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]


class ReplaySelection(ClientModel):
    """Which quarantine entries to replay, and how. At least ``source`` or ``reason`` — or ``all``."""

    model_config = ConfigDict(extra="forbid")

    source: Code | None = Field(default=None, max_length=40, examples=["dms"])
    reason: Code | None = Field(
        default=None, max_length=80, examples=["invalid_vin.", "unknown_code"],
        description="an exact reason code, or a family: a prefix ending in '.' (invalid_vin. is every VIN rule)",
    )  # fmt: skip
    stream: Code | None = Field(default=None, max_length=60, examples=["repair_order"])
    since: datetime | None = Field(
        default=None, examples=["2026-03-01T00:00:00+08:00"],
        description="only entries created at or after this moment (ISO 8601; without a zone: UTC)",
    )  # fmt: skip
    all: bool = Field(
        default=False, description="replay every unresolved entry: needed without source and reason"
    )
    dry_run: bool = Field(
        default=False, description="map again and report what would be recovered; write nothing"
    )
    limit: int | None = Field(default=None, ge=1, le=1_000_000,
                              description="at most this many records in this call; `more` says some are left")  # fmt: skip

    @field_validator("since")
    @classmethod
    def _since_in_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    def entry_filter(self) -> EntryFilter:
        return EntryFilter(source=self.source, reason=self.reason, stream=self.stream, since=self.since,
                           before_mapping=BEFORE_MAPPING)  # fmt: skip


class Counts(BaseModel):
    """Records mapped again, by what became of them; entries that could not be."""

    selected: int = Field(default=0, description="raw records mapped again")
    recovered: int = Field(default=0, description="now mapped whole: nothing of them waits any more")
    partly_recovered: int = Field(
        default=0,
        description="now partly mapped: more of them is canonical than before, the rest still waits",
    )
    still_quarantined: int = Field(
        default=0, description="nothing more recovered: quarantined whole again, or partly mapped as before"
    )
    refused: int = Field(
        default=0, description="the store refused what the mapping gives now: left as they were"
    )
    not_replayable: int = Field(
        default=0,
        description="quarantine entries no mapping can recover: unreadable input (no raw record), records refused "
        "before mapping (unsafe input, a connector's check), or erased payloads — they wait for the source",
    )

    def add(self, other: Counts) -> None:
        for name in Counts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class ReasonCounts(Counts):
    """One source's records selected by one reason (a record's first unresolved entry in the selection)."""

    source: str = Field(examples=["dms"])
    reason: str = Field(examples=["unknown_code"])
    waiting_as: dict[str, int] = Field(
        default_factory=dict, examples=[{"invalid_vin.check_digit": 2}],
        description="the reasons their entries wait with now (whole records and single entities)",
    )  # fmt: skip


class ReplayReport(BaseModel):
    """What a replay did (or, on a dry run, would do)."""

    dry_run: bool
    actor: str = Field(
        examples=["steward:li"], description="who asked for it (kept in each entry's resolution)"
    )
    selection: ReplaySelection
    by_reason: list[ReasonCounts]
    totals: Counts
    runs: dict[str, int] = Field(
        default_factory=dict, examples=[{"dms": 412}],
        description="source → the replay's sync run (GET /v1/sync-runs); none on a dry run",
    )  # fmt: skip
    entities: dict[str, int] = Field(
        default_factory=dict, examples=[{"party": 3, "vehicle": 2}],
        description="canonical entities mapped now, per entity type (older_than_stored of them left in place); none on a dry run",
    )  # fmt: skip
    older_than_stored: int = Field(
        default=0, description="entities mapped now but left in place: the store holds a newer version"
    )
    more: bool = Field(default=False, description="the selection has more records than `limit`: call again")
    next_step: str | None = Field(default=None, examples=[MATCH_NEXT])


def replay_quarantine(
    loader: Loader,
    selection: ReplaySelection,
    *,
    actor: str,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Replay the selected quarantine entries' raw records through ``loader``'s registry (see the module).

    Raises ``ReplayRefused`` for a selection of nothing (neither source, reason nor ``all``), a source without a
    mapping, or a selection that holds records of such a source.
    """
    where = _checked(loader.registry, selection)
    with loader.sessions() as session:
        upto = replay_store.last_entry_id(session)
        if unmapped := [
            s for s in replay_store.sources_of(session, where, upto=upto) if s not in loader.registry
        ]:
            raise ReplayRefused(
                f"quarantined records of {', '.join(unmapped)} have no mapping to replay them with",
                field="source", fix="add their mapping (AUTOHUB_MAPPINGS_DIR), or replay another --source",
            )  # fmt: skip
        total = replay_store.count_records(session, where, upto=upto)
        skipped = replay_store.not_replayable(session, where, upto=upto)
    if on_start:
        on_start(min(total, selection.limit) if selection.limit else total)
    rows: dict[tuple[str, str], ReasonCounts] = {}
    for source, reason, n in skipped:
        _row(rows, source, reason).not_replayable += n
    reports: dict[str, LoadReport] = {}
    with _runs(loader, reports):
        more = _walk(loader, selection, where, upto, reports, rows, actor, on_progress)
    report = _report(selection, actor, rows, reports, more)
    log.info("quarantine replayed", actor=actor, dry_run=selection.dry_run, runs=report.runs,
             selection=selection.model_dump(mode="json", exclude_none=True), **report.totals.model_dump())  # fmt: skip
    return report


def _checked(registry: MappingRegistry, selection: ReplaySelection) -> EntryFilter:
    if not (selection.all or selection.source or selection.reason):
        raise ReplayRefused(
            "say which quarantine entries to replay", field="all",
            fix="give a source and/or a reason (a family ends in '.', e.g. invalid_vin.), or all to replay every "
            "unresolved entry",
        )  # fmt: skip
    if selection.source is not None and selection.source not in registry:
        raise ReplayRefused(
            f"no mapping for source {selection.source!r}", field="source",
            fix=f"one of {', '.join(registry.sources)}, or add its mapping (AUTOHUB_MAPPINGS_DIR)",
        )  # fmt: skip
    return selection.entry_filter()


@contextmanager
def _runs(loader: Loader, reports: dict[str, LoadReport]) -> Iterator[None]:
    """The replay's sync runs (begun as their sources come up) closed with their counts — failed, with the error,
    when the replay stops on one (an interrupt too: what was committed is counted)."""
    try:
        yield
    except BaseException as exc:
        loader.finish(reports.values(), error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    loader.finish(reports.values(), error=None)


def _walk(
    loader: Loader,
    selection: ReplaySelection,
    where: EntryFilter,
    upto: int,
    reports: dict[str, LoadReport],
    rows: dict[tuple[str, str], ReasonCounts],
    actor: str,
    on_progress: Callable[[int], None] | None,
) -> bool:
    """Replay the selection batch by batch, in record id order; returns whether records beyond ``limit`` remain."""
    after, replayed = 0, 0
    while True:
        room = (
            loader.batch_size
            if selection.limit is None
            else min(loader.batch_size, selection.limit - replayed)
        )
        with loader.sessions() as session:
            batch = replay_store.select_records(session, where, upto=upto, after=after, limit=max(room, 1))
        if not batch:
            return False
        if room <= 0:
            return True
        if not selection.dry_run:
            for source in dict.fromkeys(item.source for item in batch):
                if source not in reports:
                    reports[source] = loader.begin(source)
        results = loader.replay([item.record_id for item in batch], None if selection.dry_run else reports,
                                actor=actor)  # fmt: skip
        by_id = {item.record_id: item for item in batch}
        for result in results:
            replayed += _count(
                _row(rows, by_id[result.record_id].source, by_id[result.record_id].reason), result
            )
        after = batch[-1].record_id
        for source in {item.source for item in batch} & set(reports):
            loader.checkpoint(reports[source])  # live counts and a heartbeat in GET /v1/sync-runs
        if on_progress:
            on_progress(len(batch))


def _row(rows: dict[tuple[str, str], ReasonCounts], source: str, reason: str) -> ReasonCounts:
    if (source, reason) not in rows:
        rows[(source, reason)] = ReasonCounts(source=source, reason=reason)
    return rows[(source, reason)]


def _count(row: ReasonCounts, result: Replayed) -> int:
    """Count one record's replay in its row; returns 1 when it was mapped again (counts towards ``limit``)."""
    if result.after == "not_replayable":
        row.not_replayable += result.waiting_before
        return 0
    row.selected += 1
    if result.after == "refused":
        row.refused += 1
        return 1
    if result.after == "mapped":
        row.recovered += 1
        return 1
    gained = result.after == "partial" and (
        result.before == "quarantined" or len(result.waiting) < result.waiting_before
    )
    if gained:
        row.partly_recovered += 1
    else:
        row.still_quarantined += 1
    for reason in result.waiting:
        row.waiting_as[reason] = row.waiting_as.get(reason, 0) + 1
    return 1


def _report(
    selection: ReplaySelection,
    actor: str,
    rows: dict[tuple[str, str], ReasonCounts],
    reports: dict[str, LoadReport],
    more: bool,
) -> ReplayReport:
    totals = Counts()
    for row in rows.values():
        totals.add(row)
    entities: dict[str, int] = {}
    for load in reports.values():
        for entity_type, n in load.entities.items():
            entities[entity_type] = entities.get(entity_type, 0) + n
    older = sum(load.older_than_stored for load in reports.values())
    step: str | None
    if more:
        step = (
            "more records are selected than the limit: call again (what was replayed is not selected again)"
        )
    elif selection.dry_run:
        step = "nothing was written: replay without dry run to apply it" if totals.selected else None
    else:
        step = MATCH_NEXT if entities else None
    if not totals.selected and not totals.not_replayable and selection.reason and "." not in selection.reason:
        step = f"nothing selected: reason {selection.reason!r} is matched exactly; a family is given with a final '.'"
    return ReplayReport(
        dry_run=selection.dry_run, actor=actor, selection=selection,
        by_reason=sorted(rows.values(), key=lambda r: (r.source, -r.selected, r.reason)), totals=totals,
        runs={source: load.run_id for source, load in sorted(reports.items())}, entities=dict(sorted(entities.items())),
        older_than_stored=older, more=more, next_step=step,
    )  # fmt: skip


def fresh_loader(settings: Settings, sessions: sessionmaker[Session]) -> Loader:
    """A Loader on ``sessions`` with the mapping files as they are on disk now — not as a long-running process
    (the API server) loaded them when it started: the fix being replayed is usually minutes old."""
    registry = MappingRegistry.load(*settings.mapping_dirs)
    return Loader(sessions, registry, pii_key=settings.pii_key, batch_size=settings.batch_size, limits=input_limits(settings),
                  abandoned_after_s=settings.sync_run_abandoned_after_s)  # fmt: skip


def replay(
    settings: Settings,
    selection: ReplaySelection,
    *,
    actor: str,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """``replay_quarantine`` on the configured store (refused when it is behind the schema), mappings read now."""
    with store_sessions(settings) as sessions:
        loader = fresh_loader(settings, sessions)
        return replay_quarantine(loader, selection, actor=actor, on_start=on_start, on_progress=on_progress)
