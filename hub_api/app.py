"""The FastAPI application: one store engine and loader per process, built from the settings at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import FastAPI
from pydantic import BaseModel

from connectors.portal_webhook import PortalWebhookConfig
from connectors.sources import dealer_networks, declared_sources
from core.logging import configure as configure_logging
from core.settings import Settings, get_settings
from hub_api import problems
from hub_api.hub import Hub, WebhookReceiver
from hub_api.input_guard import InputGuard
from hub_api.metrics import Metrics, MetricsMiddleware
from hub_api.routes import api_router, health
from hub_api.security import KeyCache
from mappings import MappingRegistry
from outbox.config import outbox_config
from outbox.relay import OutboxRelay, RelayThread
from pipeline import Loader
from pipeline.screen import input_limits
from pipeline.shared_run import SharedRun
from store.engine import create_store_engine, session_factory

T = TypeVar("T")


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
    app.include_router(api_router)
    return app
