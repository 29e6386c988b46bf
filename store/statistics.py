"""Planner statistics refreshed after bulk writes, on PostgreSQL.

Why: PostgreSQL plans from statistics that autovacuum's analyze refreshes only after a share of a table has
changed and its next nap has passed. A store filled by a first bulk load still had an empty table's statistics
when the first users came: the planner chose plans for a handful of rows, and a search on a common name took
4.6 s until ``ANALYZE`` (then milliseconds). So the jobs that write many rows at once — a large load run, a full
match run — refresh the statistics of the tables they wrote before they report done. ``ANALYZE`` reads a sample
(30 000 rows per table by default), so it takes seconds even on large tables; SQLite has no such planner
problem here and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from store.tables import (
    AttributeLineageRow,
    CanonicalIdentifierRow,
    CanonicalRecordRow,
    GoldenRecordRow,
    MatchQueueRow,
    PartyMatchKeyRow,
    PartyMatchVinRow,
    QuarantineRow,
    SearchKeyRow,
    SourceRecordRow,
    XrefRow,
)

log = structlog.get_logger(__name__)

# What a load run writes, and what a full match run writes: the tables whose statistics go stale first.
LOADED_TABLES = tuple(t.__tablename__ for t in (SourceRecordRow, CanonicalRecordRow, CanonicalIdentifierRow,
                                                SearchKeyRow, QuarantineRow, MatchQueueRow))  # fmt: skip
MATCHED_TABLES = tuple(t.__tablename__ for t in (GoldenRecordRow, XrefRow, AttributeLineageRow, PartyMatchKeyRow,
                                                 PartyMatchVinRow))  # fmt: skip


def refresh_statistics(sessions: sessionmaker[Session], tables: Iterable[str], *, why: str) -> bool:
    """``ANALYZE`` the named tables on PostgreSQL (True); on another store nothing (False)."""
    with sessions() as session:
        bind = session.get_bind()
        if bind.dialect.name != "postgresql":
            return False
        quote = bind.dialect.identifier_preparer.quote
        names = ", ".join(quote(name) for name in tables)
        session.execute(text(f"ANALYZE {names}"))  # names from the table classes, quoted
        session.commit()
    log.info("planner statistics refreshed", tables=names, why=why)
    return True
