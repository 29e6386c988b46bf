"""Pushed input — DMS events, portal webhooks — loaded exactly once per message id, with the answer a sender needs.

Why apart from pulling: a pushed message is claimed in the inbox table in the transaction that stores it, so a
redelivery (the broker's, after a crash between the commit and the ack) stores nothing and is answered as it was
the first time: ``duplicate``, or the refusal it was quarantined with, so that a poison message still reaches the
dead-letter queue even when its first copy was lost. Dead-letter copies the broker confirmed are remembered, and
input that never became a record (not JSON) is kept as text with its reason, claimed the same way.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from canonical_model.entities.source import SourceRecord
from core.errors import DataError
from pipeline.batch import BatchWriter, Counted
from pipeline.report import LoadReport
from pipeline.screen import safe_id, safe_text
from store import repository
from store.repository import QuarantineEntry


class InboxLoading(BatchWriter):
    def load_messages(
        self, report: LoadReport, messages: list[tuple[str, SourceRecord]]
    ) -> dict[str, DataError | str]:
        """Load records that arrived as messages ``(message id, record)``, exactly once per message id.

        The ids are claimed in the transaction that stores the records. Returns per message id either
        ``"duplicate"`` (taken in before: acknowledge, store nothing), ``"stored"``, or the ``DataError``
        that quarantined it — what a webhook answers and what a consumer dead-letters.
        """
        outcome: dict[str, DataError | str] = {}

        def write(session: Session, part: list[tuple[str, SourceRecord]]) -> Counted:
            answers, counted = self._store_messages(session, report, part)
            outcome.update(answers)
            return [(report, counted)]

        def refuse(message: tuple[str, SourceRecord], exc: Exception) -> None:
            outcome[message[0]] = self._refuse(report, message[1], exc, message_id=message[0])

        self._write_isolating(messages, write, refuse)
        return outcome

    def _store_messages(
        self, session: Session, report: LoadReport, messages: list[tuple[str, SourceRecord]]
    ) -> tuple[dict[str, DataError | str], LoadReport]:
        # An id longer than the inbox column is claimed by its stable short form (prefix + hash).
        claim_ids = [safe_id(m) for m, _ in messages]
        new_ids = repository.claim_messages(session, report.source, claim_ids, report.run_id)
        fresh = [(m, record) for (m, record), c in zip(messages, claim_ids, strict=True) if c in new_ids]
        errors, part = self._store_batch(
            session, report, [record for _, record in fresh], answer_repeats=True
        )
        duplicates = len(messages) - len(fresh)
        part.records_in += duplicates
        part.unchanged += duplicates
        outcome: dict[str, DataError | str] = {m: "duplicate" for m, _ in messages}
        # A repeat of a message that was quarantined keeps its refusal, so that it reaches the dead-letter
        # queue even when the first delivery's copy was lost in a crash between the commit and the ack.
        repeats = [
            (m, record) for (m, record), c in zip(messages, claim_ids, strict=True) if c not in new_ids
        ]
        refused = self._earlier_refusals(session, report.source, [record for _, record in repeats])
        for (message_id, _), error in zip(repeats, refused, strict=True):
            if error is not None:
                outcome[message_id] = error
        for (message_id, _), error in zip(fresh, errors, strict=True):
            outcome[message_id] = error or "stored"
        return outcome, part

    def mark_dead_lettered(self, source: str, message_ids: list[str]) -> None:
        """The broker confirmed these poison messages' dead-letter copies; a redelivery will not copy again."""
        if message_ids:
            with self.sessions.begin() as session:
                repository.mark_dead_lettered(session, source, [safe_id(m) for m in message_ids])

    def dead_lettered(self, source: str, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` already have a confirmed dead-letter copy (``mark_dead_lettered``)."""
        if not message_ids:
            return set()
        claims = {safe_id(m): m for m in message_ids}
        with self.sessions() as session:
            return {claims[c] for c in repository.dead_lettered(session, source, list(claims))}

    def quarantine_unreadable(
        self,
        report: LoadReport,
        stream: str,
        entries: list[tuple[str, str]],
        *,
        message_ids: list[str] | None = None,
    ) -> None:
        """Input that never became a source record (not JSON, not an object) is kept as text with its reason.

        With ``message_ids`` (pushed input), each id is claimed in the same transaction, so that a redelivery
        of the same unreadable message is not quarantined a second time.
        """
        if not entries:
            return
        rows = [
            QuarantineEntry(source=report.source, stream=stream, source_id=None, stage="receive", reason=reason,
                            message=f"[{report.source}/{stream}] unreadable input: {reason}",
                            raw_text=safe_text(text[: self.limits.max_raw_chars]))
            for reason, text in entries
        ]  # fmt: skip
        part = report.part()
        with self.sessions.begin() as session:
            if message_ids is not None:
                claims = [safe_id(m) for m in message_ids]
                new_ids = repository.claim_messages(session, report.source, claims, report.run_id)
                fresh = [row for row, claim in zip(rows, claims, strict=True) if claim in new_ids]
                part.records_in += len(rows) - len(fresh)
                part.unchanged += len(rows) - len(fresh)
                rows = fresh
            repository.add_quarantine(session, rows, report.run_id)
        part.records_in += len(rows)
        part.quarantined += len(rows)
        part.reasons.update(row.reason for row in rows)
        report.add(part)
