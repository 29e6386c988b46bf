"""Replay after a fix: raw records already in the store mapped again through the mappings as they are now.

Why it runs the load's own code: what a corrected mapping, code table or rule recovers must be exactly what a
re-sent record would have given — the same screen, the same ``map_one``, partial acceptance, newest-wins —
without asking the source for the record again. Its writes keep the reconciliation exact: every unresolved
quarantine entry of a replayed record is resolved with what became of it, what still fails gets one entry, and the
record's outcome is updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.errors import RetriableError
from pipeline.batch import BatchWriter, Counted
from pipeline.records import Mapped, map_one
from pipeline.report import LoadReport, Outcome
from pipeline.screen import screen_record
from store import replay as replay_store
from store import repository
from store.replay import OpenEntry
from store.repository import CanonicalEntity, QuarantineEntry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Replayed:
    """What a replay made of one stored record.

    ``after`` is the record's outcome now, or ``not_replayable`` (its payload was erased: nothing to map) or
    ``refused`` (the store refused what the mapping gave now: the record was left exactly as it was).
    ``waiting_before`` counts its unresolved quarantine entries before, ``waiting`` the reasons of those now.
    """

    record_id: int
    before: str | None
    after: Outcome | Literal["not_replayable", "refused"]
    waiting_before: int
    waiting: tuple[str, ...] = ()


class ReplayConflict(RetriableError):
    """Another replay (or a steward) resolved some of these quarantine entries while this one re-mapped them."""


class Replaying(BatchWriter):
    def replay(
        self, record_ids: Sequence[int], reports: dict[str, LoadReport] | None, *, actor: str
    ) -> list[Replayed]:
        """Map raw records already in the store again, through the registry as loaded now; one per id, in order.

        With ``reports`` (one running run per source of these records, from ``begin``) the result is written in
        one transaction: the entities that map are upserted (an older version never replaces a newer one: by the
        source's time where both have one, else by the order the records were received), every unresolved
        quarantine entry of each record is resolved with what became of it, what still fails gets one new entry
        (linked to the replay's run), and the record's outcome is updated. A record the store refuses is left as
        it was (``refused``), the rest of the batch is written. ``reports`` None: a dry run, nothing is written.

        Raises ``ReplayConflict`` when another replay resolved some of the entries meanwhile (nothing of this
        batch is written then; run it again).
        """
        if reports is None:
            with self.sessions() as session:
                return self._replay_batch(session, record_ids, None, actor)[0]
        done: dict[int, Replayed] = {}

        def write(session: Session, part: list[int]) -> Counted:
            results, counted = self._replay_batch(session, part, reports, actor)
            done.update((r.record_id, r) for r in results)
            return counted

        def refuse(record_id: int, exc: Exception) -> None:
            cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            log.warning("store refused a replayed record; left as it was", record_id=record_id,
                        error=type(cause).__name__)  # fmt: skip
            done[record_id] = Replayed(record_id, None, "refused", 0)

        self._write_isolating(list(record_ids), write, refuse)
        return [done[record_id] for record_id in record_ids if record_id in done]

    def _replay_batch(
        self, session: Session, record_ids: Sequence[int], reports: dict[str, LoadReport] | None, actor: str
    ) -> tuple[list[Replayed], Counted]:
        results: list[Replayed] = []
        parts = {source: report.part() for source, report in (reports or {}).items()}
        canonical: dict[str, list[tuple[int, CanonicalEntity]]] = {}
        quarantine: dict[str, list[QuarantineEntry]] = {}
        resolutions: dict[int, str] = {}
        outcomes: dict[Outcome, list[int]] = {"mapped": [], "partial": [], "quarantined": []}
        for item in replay_store.stored_records(session, record_ids):
            if item.erased:
                results.append(Replayed(item.record_id, item.outcome, "not_replayable", len(item.entries)))
                continue
            record = item.record
            done = map_one(self.registry[record.source], record, record, item.record_id,
                           screen_record(record, self.limits))  # fmt: skip
            waiting = tuple(entry.reason for entry in done.quarantine)
            results.append(Replayed(item.record_id, item.outcome, done.outcome, len(item.entries), waiting))
            if reports is None:
                continue
            part = parts[record.source]
            part.records_in += 1
            done.count_in(part)
            outcomes[done.outcome].append(item.record_id)
            canonical.setdefault(record.source, []).extend((item.record_id, e) for e in done.canonical)
            kept, added = _unchanged_failures(item.entries, done.quarantine)
            quarantine.setdefault(record.source, []).extend(added)
            for entry in item.entries:
                if entry.id not in kept:
                    what = _replay_resolution(entry, done)
                    resolutions[entry.id] = replay_store.resolution_text(
                        what, run_id=part.run_id, actor=actor
                    )
        if reports is None:
            return results, []
        resolved = replay_store.resolve_entries(session, resolutions)
        if resolved != len(resolutions):
            raise ReplayConflict(
                f"{len(resolutions) - resolved} of {len(resolutions)} quarantine entries were resolved by someone "
                "else while this replay re-mapped them; nothing of this batch was written",
                fix="run the replay again: it selects only what is still unresolved",
            )  # fmt: skip
        for source, items in canonical.items():
            parts[source].older_than_stored += repository.save_canonical(
                session, source, items, mapping_version=self.registry[source].version, pii_key=self.pii_key,
                in_load_order=True,
            )  # fmt: skip
        for source, entries in quarantine.items():
            repository.add_quarantine(session, entries, reports[source].run_id)
        repository.set_outcomes(session, outcomes)
        return results, [(reports[source], part) for source, part in parts.items()]


def _unchanged_failures(
    entries: Sequence[OpenEntry], failures: Sequence[QuarantineEntry]
) -> tuple[set[int], list[QuarantineEntry]]:
    """Pair a replayed record's new failures with its open entries: one that fails exactly as before (same entity,
    reason, field and message) keeps its entry — its age and its run stay true, and replaying an unfixed failure
    twice changes nothing. Returns the ids of the entries kept and the failures that need an entry of their own."""
    waiting: dict[tuple[str | None, str, str | None, str], list[int]] = {}
    for entry in entries:
        waiting.setdefault((entry.entity_type, entry.reason, entry.field, entry.message), []).append(entry.id)
    kept: set[int] = set()
    added: list[QuarantineEntry] = []
    for failure in failures:
        same = waiting.get((failure.entity_type, failure.reason, failure.field, failure.message))
        if same:
            kept.add(same.pop(0))
        else:
            added.append(failure)
    return kept, added


def _replay_resolution(entry: OpenEntry, done: Mapped) -> str:
    """What became of one old quarantine entry when its record was mapped again (its ``resolution``)."""
    if done.outcome == "quarantined":
        return f"quarantined again as {done.quarantine[0].reason}"
    if entry.entity_type is None:  # the whole record had waited
        return "mapped" if done.outcome == "mapped" else "partly mapped"
    again = [q.reason for q in done.quarantine if q.entity_type == entry.entity_type]
    if again:
        return f"quarantined again as {again[0]}"
    if any(entity.entity_type == entry.entity_type for entity in done.canonical):
        return "mapped"
    return "not emitted by the mapping any more"
