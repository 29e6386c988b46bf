"""Engines and sessions for the store: an SQLite file by default, PostgreSQL through AUTOHUB_DATABASE_URL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the API read while a sync writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# The store itself is unwell — restarting, failing over, unreachable, out of connections — as opposed to refusing a
# statement: wait and try again. The follower, the DMS consumer, the outbox relay, the loader and the API (503) all
# tell the two apart by this.
STORE_UNAVAILABLE = (OperationalError, InterfaceError)

# For engines built without the settings (migrations, benchmarks): the settings' default.
PING_AFTER_IDLE_S: float = Settings.model_fields["database_ping_after_idle_s"].default


def create_store_engine(url: str, *, ping_after_idle_s: float = PING_AFTER_IDLE_S, **kwargs: Any) -> Engine:
    """An engine for ``url``; for an SQLite file its folder is created and the pragmas set on every connection.

    Statement parameters are hidden in the engine's errors and logs: they are customers' names and numbers, and
    an error's text ends up in a log line or a quarantine reason. ``ping_after_idle_s``: see ``ping_when_idle``."""
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we install; a bare postgresql:// would look for psycopg2.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, **kwargs)
    ping_when_idle(engine, ping_after_idle_s)
    return engine


def ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Check a pooled connection before use only when it sat unused for ``idle_s`` seconds or more.

    Why not ``pool_pre_ping``: it costs a round trip on every checkout — a third of the API's store round trips
    (py-spy at 200 events/s: the ping was 28 % of its worker threads' time), and PostgreSQL's CPU beside it.
    A connection that fails its ping is replaced before anyone uses it (``DisconnectionError``: the pool opens
    a new one). One used a moment ago is almost always alive; when it is not (the server restarted in that
    moment) its statement fails as a disconnect, SQLAlchemy drops every connection of the pool opened before
    it, and the caller retries: the API's reads once at once (``hub_api.app.Hub.read``; a write answers 503),
    the follower, the DMS consumer and the outbox relay after a back-off, as for any outage; a scheduled job's
    task fails and Airflow retries it. Idle connections — those a firewall or ``idle_session_timeout`` drop —
    are the ones still pinged."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_s:  # new, or used a moment ago
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver says of a dead connection: replace it
            raise DisconnectionError(
                f"a pooled connection idle for {idle_s:g} s or more failed its ping"
            ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """One round trip to the store (the API's liveness check): raises when it cannot be reached."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
