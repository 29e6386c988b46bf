"""Finance/accounting over SQL: customers with credit from any database SQLAlchemy can reach.

Incremental on (updated_at, primary key): the key breaks ties, so rows sharing a timestamp across a page
boundary are neither skipped nor read twice — the cursor bug Airbyte and Singer tap users report most. Rows
committed late with an older timestamp are caught by re-reading a look-back window at the start of each
sync; the raw store recognises the rows it already has, so the window costs reads, not duplicates.
Accounting databases store naive local time: the source's zone is configuration, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import Engine, MetaData, Table, and_, create_engine, or_, select
from sqlalchemy.exc import DBAPIError, NoSuchTableError, OperationalError, ProgrammingError

from autohub.errors import ConfigError, SourceUnavailable
from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.retry import call_with_retry, retrying


class FinanceSqlConfig(BaseModel):
    """``AUTOHUB_FINANCE__URL`` etc. The URL may carry a password: it is a secret and never logged."""

    url: SecretStr = SecretStr("")
    table: str = "customers"
    stream: str = "customers"
    cursor_column: str = "updated_at"
    key_column: str = "cust_id"
    page_size: int = Field(default=1000, ge=1, le=100_000)
    lookback_s: int = Field(default=600, ge=0, description="re-read this much before the watermark")
    source_timezone: str = "Asia/Shanghai"
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0


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
    source = "finance"

    def __init__(self, config: FinanceSqlConfig, *, engine: Engine | None = None):
        if not config.url.get_secret_value() and engine is None:
            raise ConfigError("no finance database configured", field="AUTOHUB_FINANCE__URL",
                              fix="set it to an SQLAlchemy URL, e.g. mysql+pymysql://user:pw@host/accounting")  # fmt: skip
        self.config = config
        self.streams = (config.stream,)
        self.zone = ZoneInfo(config.source_timezone)
        self._engine = engine or create_engine(
            config.url.get_secret_value(), pool_pre_ping=True, pool_recycle=3600
        )
        self._table: Table | None = None
        self._policy = retrying(config.attempts, config.max_wait_s)

    def close(self) -> None:
        self._engine.dispose()

    # --- state ------------------------------------------------------------------------------------------

    def _to_local_naive(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _to_aware(self, value: datetime) -> datetime:
        return value.replace(tzinfo=self.zone) if value.tzinfo is None else value

    def _state(self, moment: datetime, key: Any) -> dict[str, Any]:
        return {"cursor": moment.isoformat(), "key": key, "timezone": self.config.source_timezone}

    # --- reading ----------------------------------------------------------------------------------------

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        table = call_with_retry(self._policy, self._reflect)
        cursor_col, key_col = table.c[self.config.cursor_column], table.c[self.config.key_column]
        saved: tuple[datetime, Any] | None = None
        position: tuple[datetime, Any] | None = None
        lower = None
        if state:
            saved = (datetime.fromisoformat(state["cursor"]), state["key"])
            if self.config.lookback_s:
                # Re-read a window before the watermark, from its first row (no key tie-breaker yet).
                start = saved[0] - timedelta(seconds=self.config.lookback_s)
                lower = cursor_col >= self._to_local_naive(start)
            else:
                position = saved  # resume strictly after the last row read
        while True:
            stmt = select(table).order_by(cursor_col, key_col).limit(self.config.page_size)
            if position is not None:
                local = self._to_local_naive(position[0])
                stmt = stmt.where(or_(cursor_col > local, and_(cursor_col == local, key_col > position[1])))
            elif lower is not None:
                stmt = stmt.where(lower)
            rows = call_with_retry(self._policy, self._fetch, stmt)
            if not rows:
                return
            records = [self._record(stream, row) for row in rows]
            last = rows[-1]
            position = (self._to_aware(last[self.config.cursor_column]), last[self.config.key_column])
            high = (
                position
                if saved is None or (position[0], str(position[1])) > (saved[0], str(saved[1]))
                else saved
            )
            saved = high
            yield Page(records, self._state(*high))
            if len(rows) < self.config.page_size:
                return

    def _record(self, stream: str, row: dict[str, Any]) -> SourceRecord:
        payload = {name: _json_value(value) for name, value in row.items()}
        return SourceRecord(source=self.source, stream=stream, source_id=str(row[self.config.key_column]),
                            payload=payload)  # fmt: skip

    def _reflect(self) -> Table:
        if self._table is None:
            try:
                self._table = Table(self.config.table, MetaData(), autoload_with=self._engine)
            except NoSuchTableError as exc:
                raise ConfigError(f"table {self.config.table!r} not found in the finance database",
                                  field="AUTOHUB_FINANCE__TABLE", fix="check the table name") from exc  # fmt: skip
            except (OperationalError, DBAPIError) as exc:
                raise SourceUnavailable(f"finance database unreachable: {type(exc.orig).__name__}",
                                        fix="check the database is up; the sync retries with backoff") from exc  # fmt: skip
            for column in (self.config.cursor_column, self.config.key_column):
                if column not in self._table.c:
                    raise ConfigError(f"column {column!r} not in table {self.config.table!r}",
                                      field="AUTOHUB_FINANCE__CURSOR_COLUMN / KEY_COLUMN")  # fmt: skip
        return self._table

    def _fetch(self, stmt: Any) -> list[dict[str, Any]]:
        try:
            with self._engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(stmt)]
        except ProgrammingError as exc:
            raise ConfigError(
                f"finance query failed: {exc.orig}", fix="check the table and column settings"
            ) from exc
        except (OperationalError, DBAPIError) as exc:
            raise SourceUnavailable(f"finance database unreachable: {type(exc.orig).__name__}",
                                    fix="check the database is up; the sync retries with backoff") from exc  # fmt: skip
