"""The FastAPI application: one store engine and loader per process, built from the settings at start."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.portal_webhook import PortalWebhookConfig
from connectors.sources import dealer_networks, declared_sources
from core.logging import configure as configure_logging
from core.settings import Settings, get_settings
from hub_api import problems
from hub_api.input_guard import InputGuard
from hub_api.metrics import Metrics, MetricsMiddleware
from hub_api.routes import (
    changes,
    customers,
    erasures,
    health,
    quarantine,
    recalls,
    stewardship,
    sync_runs,
    vehicles,
    webhooks,
    xref,
)
from hub_api.security import KeyCache
from mappings import MappingRegistry
from outbox.config import outbox_config
from outbox.relay import OutboxRelay, RelayThread
from pipeline import Loader
from pipeline.screen import input_limits
from pipeline.shared_run import SharedRun
from store.engine import create_store_engine, session_factory

T = TypeVar("T")


@dataclass(frozen=True)
class WebhookReceiver:
    config: PortalWebhookConfig
    run: SharedRun


@dataclass
class Hub:
    """What routes share: the settings, the store and the loader the push connectors write through."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    loader: Loader
    # Each declared webhook source (the portal as shipped) by name: its settings and the one sync run this
    # process's deliveries to it are taken in under.
    webhooks: dict[str, WebhookReceiver]
    dealer_sources: tuple[str, ...]  # the declared dealer networks (amqp): the scorecard's per-dealer part
    after_commit: Callable[[], None] | None = None  # wakes the outbox relay when it runs in this process

    async def read(self, work: Callable[[Session], T], *, autocommit: bool = False) -> T:
        """Run ``work`` with a session in the thread pool (the store driver blocks); committed only if ``work``
        commits (a read that writes an audit row now and then need not pay a COMMIT every time).

        ``autocommit``: on PostgreSQL each statement is its own transaction — no BEGIN before the first, no
        ROLLBACK when the session closes (two round trips of the three a one-statement read costs besides the
        pool's ping). Nothing is lost for reads: READ COMMITTED gives every statement its own snapshot anyway;
        but each write commits when executed, so only for work whose writes stand alone (an audit row). SQLite
        keeps its transaction (a snapshot across statements, and no round trips to save).

        A read that finds its pooled connection dead (the server restarted since it was last used: the pool pings
        only idle ones, ``store.engine.ping_when_idle``) runs once more on a new one; nothing it wrote could be
        doubled by that but, at worst, a PII read's audit row."""

        def once() -> T:
            with self.sessions() as session:
                if autocommit and self.engine.dialect.name == "postgresql":
                    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                return work(session)

        def run() -> T:
            try:
                return once()
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            return once()

        return await run_in_threadpool(run)

    async def write(self, work: Callable[[Session], T]) -> T:
        """Like ``read``, in one transaction that commits when ``work`` returns and rolls back if it raises."""

        def run() -> T:
            with self.sessions.begin() as session:
                result = work(session)
            if self.after_commit:
                self.after_commit()
            return result

        return await run_in_threadpool(run)


def _receiver(loader: Loader, source: str, config: BaseModel) -> WebhookReceiver:
    if not isinstance(config, PortalWebhookConfig):  # the webhook type's config model: a plugin cannot be one
        raise TypeError(f"webhook source {source!r} has no PortalWebhookConfig")
    run = SharedRun(
        loader, source, progress_every_s=config.progress_every_s, roll_after_s=config.run_roll_after_s
    )
    return WebhookReceiver(config, run)


def create_app(settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    """``autohub serve`` and the tests build the app here; the store must be migrated (``autohub db upgrade``).

    ``configure_logs``: a worker process sets up its logging from the settings; a server in a thread of a
    process that did so already (the demo, the tests) keeps the process's (the demo's quiet level)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chosen = settings or get_settings()
        if configure_logs:
            configure_logging(chosen.log_level, chosen.log_format)
        engine = create_store_engine(chosen.effective_database_url, **chosen.database_pool)
        sessions = session_factory(engine)
        pushed = declared_sources(chosen, types={"webhook"})
        registry = MappingRegistry.load(*chosen.mapping_dirs).with_aliases(
            {name: source.mapping for name, source in pushed.items()}
        )
        loader = Loader(sessions, registry, pii_key=chosen.pii_key, limits=input_limits(chosen),
                        abandoned_after_s=chosen.sync_run_abandoned_after_s)  # fmt: skip
        webhooks = {name: _receiver(loader, name, source.config) for name, source in pushed.items()}
        app.state.hub = Hub(chosen, engine, sessions, loader, webhooks, dealer_networks(chosen))
        app.state.metrics.watch_store(sessions)
        app.state.key_cache = KeyCache(chosen.api_key_cache_s)
        outbox = outbox_config(chosen)
        relay = RelayThread(OutboxRelay(sessions, outbox)) if outbox.in_api else None
        app.state.hub.after_commit = relay.wake.set if relay else None
        if relay:
            relay.start()
        try:
            yield
        finally:
            if relay:
                relay.close()
            for receiver in webhooks.values():
                receiver.run.close()
            engine.dispose()

    app = FastAPI(
        title="AutoHub API",
        version="1",
        description="Golden customer and vehicle records, cross-references and the change feed of AutoHub.",
        lifespan=lifespan,
    )
    app.state.metrics = Metrics()
    app.add_middleware(InputGuard)  # odd bytes never reach a route (inside the metrics: its 400s are counted)
    app.add_middleware(MetricsMiddleware, metrics=lambda: app.state.metrics)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(webhooks.router, prefix="/v1")
    app.include_router(xref.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(customers.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(vehicles.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(changes.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(stewardship.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(quarantine.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(recalls.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(erasures.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    app.include_router(sync_runs.router, prefix="/v1", responses=problems.COMMON_RESPONSES)
    return app
