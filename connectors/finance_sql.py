"""Finance/accounting over SQL: customers with credit from any database SQLAlchemy can reach.

Incremental on (updated_at, primary key): the key breaks ties, so rows sharing a timestamp across a page
boundary are neither skipped nor read twice — the cursor bug Airbyte and Singer tap users report most. Rows
committed late with an older timestamp are caught by re-reading a look-back window at the start of each
sync; the raw store recognises the rows it already has, so the window costs reads, not duplicates.
Accounting databases store naive local time: the source's zone is configuration, never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    create_engine,
    literal,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, ProgrammingError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.incremental import LookbackSeconds, Watermark, after_pass
from connectors.origin import SourceOrigin
from connectors.retry import call_with_retry, retrying
from connectors.sync_clock import SyncClock, current_clock, run_deadline_passed
from core.errors import ConfigError, DataError, SourceUnavailable

log = structlog.get_logger(__name__)


class FinanceSqlConfig(BaseModel):
    """``AUTOHUB_FINANCE__URL`` etc. The URL may carry a password: it is a secret and never logged."""

    model_config = ConfigDict(extra="forbid")  # a misspelt ``cursor_colum`` would read by updated_at unasked

    url: SecretStr = SecretStr("")
    table: str = "customers"
    stream: str = "customers"
    cursor_column: str = "updated_at"
    key_column: str = "cust_id"
    page_size: int = Field(default=1000, ge=1, le=100_000)
    lookback_s: LookbackSeconds = 600
    future_tolerance_s: int = Field(
        default=3600, ge=0, description="change times later than now + this are refused"
    )
    source_timezone: str = "Asia/Shanghai"
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0


def _untyped(column: Any) -> Any:
    """A column without SQLAlchemy's type processing: values pass as the driver gives and takes them."""
    return type_coerce(column, NullType())


def _raw(table: Table) -> list[Any]:
    """The table's columns, selected without result processing (values as the driver returns them)."""
    return [_untyped(column).label(column.name) for column in table.c]


def _as_driver_value(value: Any) -> Any:
    """A raw value bound back as it came (no bind processing: SQLite's DATETIME processor refuses text)."""
    return literal(value, type_=NullType())


def _json_value(value: Any) -> Any:
    """Row values as JSON: money and timestamps as text, exactly as the database held them."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


class FinanceSqlConnector(Connector):
    """``origin``: the declared source; without one, the shipped ``finance`` configured by
    ``AUTOHUB_FINANCE__…``."""

    def __init__(self, config: FinanceSqlConfig, origin: SourceOrigin | str = "finance", *,
                 engine: Engine | None = None):  # fmt: skip
        self.origin = SourceOrigin.of(origin, env_block="finance")
        self.source = self.origin.source
        if not config.url.get_secret_value() and engine is None:
            raise ConfigError(f"no finance database configured for {self.source}", field=self.origin.setting("url"),
                              fix="set it to an SQLAlchemy URL, e.g. mysql+pymysql://user:pw@host/accounting")  # fmt: skip
        self.config = config
        self.streams = (config.stream,)
        self.zone = ZoneInfo(config.source_timezone)
        self._engine = engine or create_engine(
            config.url.get_secret_value(), pool_pre_ping=True, pool_recycle=3600
        )
        self._table: Table | None = None
        self._policy = retrying(config.attempts, config.max_wait_s, source=self.source)

    def close(self) -> None:
        self._engine.dispose()

    # --- state ------------------------------------------------------------------------------------------

    def _to_local_naive(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _to_aware(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self.zone) if value.tzinfo is None else value

    def _state(self, clock: SyncClock, moment: datetime, key: Any) -> dict[str, Any]:
        """The watermark after ``(moment, key)`` (incremental.py: a moment past the run's start is saved as
        that start, without a key, so the next sync reads from it inclusively)."""
        return after_pass(clock, moment, key=key, timezone=self.config.source_timezone).dump()

    # --- reading ----------------------------------------------------------------------------------------

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        """Rows without a change time first (read whole on every sync: no cursor can find them, the raw store
        recognises them), then the rows changed since the watermark, in (change time, key) order.

        Values are fetched as the driver gives them, without SQLAlchemy's type processing: one row whose
        DATETIME text is not a date, or whose INTEGER column holds ``Infinity``, once raised in the middle of
        a page and failed every later sync. Such a row now becomes a record refused with its reason. Only
        rows with a valid change time no later than now + ``future_tolerance_s`` move the watermark, so a row
        stamped 9999-12-31 cannot freeze the source: it is quarantined, and the rows after it keep coming.
        """
        clock = current_clock()
        table = call_with_retry(self._policy, self._reflect)
        yield from self._rows_without_cursor(stream, table)
        cursor_col, key_col = table.c[self.config.cursor_column], table.c[self.config.key_column]
        saved: tuple[datetime, Any] | None = None
        # Where paging goes on: (cursor, key, raw). Raw values come from the last row read, exactly as the
        # driver gave them, and are compared untyped, so a text that is no date still moves the page on.
        position: tuple[Any, Any, bool] | None = None
        lower: ColumnElement[bool] = cursor_col.is_not(None)
        watermark = Watermark.load(state, source=self.source, stream=stream)
        if watermark.since is not None:
            saved = (watermark.since, watermark.key)
            start = watermark.resume_from(self.config.lookback_s)
            if start is not None and (self.config.lookback_s or saved[1] is None):
                # Re-read a window before the watermark (or from a watermark the run's start capped, which has
                # no key), from its first row: no key tie-breaker yet.
                lower = and_(lower, cursor_col >= self._to_local_naive(start))
            else:  # resume strictly after the last row read
                position = (self._to_local_naive(saved[0]), saved[1], False)
        while True:
            stmt = (
                select(*_raw(table)).where(lower).order_by(cursor_col, key_col).limit(self.config.page_size)
            )
            if position is not None:
                at, key, raw = position
                c, k = (_untyped(cursor_col), _untyped(key_col)) if raw else (cursor_col, key_col)
                if raw:
                    at, key = _as_driver_value(at), _as_driver_value(key)
                stmt = stmt.where(or_(c > at, and_(c == at, k > key)))
            rows = call_with_retry(self._policy, self._fetch, stmt)
            if not rows:
                return
            records, refused = [], []
            for row in rows:
                record = self._record(stream, row)
                moment, fault = self._change_time(record, row[self.config.cursor_column])
                if moment is None:
                    refused.append(
                        (record, fault or self._refusal(stream, row, "bad_cursor", "no change time"))
                    )
                    continue
                records.append(record)
                candidate = (moment, row[self.config.key_column])
                if saved is None or (candidate[0], str(candidate[1])) > (saved[0], str(saved[1])):
                    saved = candidate
            last = rows[-1]
            position = (last[self.config.cursor_column], last[self.config.key_column], True)
            if refused:
                log.warning("finance rows refused; the watermark does not move past them", stream=stream,
                            refused=len(refused), reasons=sorted({e.reason for _, e in refused}))  # fmt: skip
            yield Page(records, self._state(clock, *saved) if saved else dict(state or {}), refused=refused)
            if len(rows) < self.config.page_size:
                return

    def _rows_without_cursor(self, stream: str, table: Table) -> Iterator[Page]:
        cursor_col, key_col = table.c[self.config.cursor_column], table.c[self.config.key_column]
        after: Any = None
        while True:
            stmt = (
                select(*_raw(table))
                .where(cursor_col.is_(None))
                .order_by(key_col)
                .limit(self.config.page_size)
            )
            if after is not None:
                stmt = stmt.where(_untyped(key_col) > _as_driver_value(after))
            rows = call_with_retry(self._policy, self._fetch, stmt)
            if not rows:
                return
            refused = [(self._record(stream, row), self._refusal(stream, row, "missing_cursor",
                        "no change time: the row cannot be synced incrementally")) for row in rows]  # fmt: skip
            yield Page([], {}, refused=refused, keeps_state=True)
            after = rows[-1][self.config.key_column]
            if len(rows) < self.config.page_size:
                return

    def _change_time(self, record: SourceRecord, value: Any) -> tuple[datetime | None, DataError | None]:
        """The row's change time as an aware datetime, or why it cannot be one."""
        row = record.payload
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                moment = None
        if moment is None:
            return None, self._refusal(record.stream, row, "bad_cursor",
                                       f"change time {str(value)[:40]!r} is not a date and time")  # fmt: skip
        moment = self._to_aware(moment)
        limit = datetime.now(UTC) + timedelta(seconds=self.config.future_tolerance_s)
        if moment > limit:
            return None, self._refusal(record.stream, row, "future_cursor",
                                       f"change time {moment.isoformat()} is in the future")  # fmt: skip
        return moment, None

    def _refusal(self, stream: str, row: dict[str, Any], reason: str, message: str) -> DataError:
        return DataError(
            message, reason=reason, record=f"{self.source}/{stream}/{str(row.get(self.config.key_column))[:60]}",
            field=self.config.cursor_column,
            fix=f"correct {self.config.cursor_column} in the finance database; the row is read again on the next sync",
        )  # fmt: skip

    def _record(self, stream: str, row: dict[str, Any]) -> SourceRecord:
        payload = {name: _json_value(value) for name, value in row.items()}
        return SourceRecord(source=self.source, stream=stream, source_id=str(row[self.config.key_column]),
                            payload=payload)  # fmt: skip

    def _reflect(self) -> Table:
        if self._table is None:
            try:
                with self._engine.connect() as conn:
                    self._limit_to_the_run(conn)
                    self._table = Table(self.config.table, MetaData(), autoload_with=conn)
            except NoSuchTableError as exc:
                raise ConfigError(f"table {self.config.table!r} not found in the finance database",
                                  field=self.origin.setting("table"), fix="check the table name") from exc  # fmt: skip
            except (OperationalError, DBAPIError) as exc:
                raise self._unavailable(exc, f"reading the columns of {self.config.table!r}") from exc
            for column in (self.config.cursor_column, self.config.key_column):
                if column not in self._table.c:
                    raise ConfigError(f"column {column!r} not in table {self.config.table!r}",
                                      field=self.origin.setting("cursor_column" if column == self.config.cursor_column
                                                                else "key_column"))  # fmt: skip
        return self._table

    def _fetch(self, stmt: Any) -> list[dict[str, Any]]:
        try:
            with self._engine.connect() as conn:
                self._limit_to_the_run(conn)
                return [dict(row._mapping) for row in conn.execute(stmt)]
        except ProgrammingError as exc:
            raise ConfigError(
                f"finance query failed: {exc.orig}", fix="check the table and column settings"
            ) from exc
        except (OperationalError, DBAPIError) as exc:
            raise self._unavailable(exc, f"a query on {self.config.table!r}") from exc

    def _limit_to_the_run(self, conn: Connection) -> None:
        """The database's own time limit on the statements that follow, cut to what is left of the sync run.

        A query that waits on a lock or scans for long sends no byte until it ends, so only the server can stop
        it in time. MariaDB, MySQL and PostgreSQL have such a limit (0 turns it off there, hence at least a
        millisecond); SQLite is a local file and other databases are left as they are.
        """
        left = current_clock().remaining_s()
        if left is None:
            return
        ms = max(math.ceil(left * 1000), 1)
        dialect = conn.dialect
        if dialect.name == "postgresql":  # for this transaction only; the connection's own rolls back with it
            conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(ms)})
        elif dialect.name == "mysql" and getattr(dialect, "is_mariadb", False):
            conn.execute(text("SET SESSION max_statement_time = :s"), {"s": ms / 1000})
        elif dialect.name == "mysql":  # MySQL limits SELECTs only, which is all the connector sends
            conn.execute(text("SET SESSION max_execution_time = :ms"), {"ms": ms})

    def _unavailable(self, exc: DBAPIError, what: str) -> SourceUnavailable:
        """Stopped by the run's limit (``_limit_to_the_run``), the run ends; any other failure is retried."""
        clock = current_clock()
        if clock.remaining_s() == 0.0:
            return run_deadline_passed(self.source, f"{what} was stopped at the sync run's total deadline of "
                                       f"{clock.deadline_s:g} s ({type(exc.orig).__name__})")  # fmt: skip
        return SourceUnavailable(f"finance database unreachable: {type(exc.orig).__name__}",
                                 fix="check the database is up; the sync retries with backoff")  # fmt: skip
