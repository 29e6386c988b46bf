"""What every route shares — the settings, the store and the loader the push connectors write through — and how a
route asks for it (``hub: HubDep``), instead of reaching into ``request.app.state`` on its own.

Why a dependency: eighteen routes read ``request.app.state.hub`` each in its own way, so a route's signature did
not say what it needed, and a test could not give a route another hub without building the whole app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.portal_webhook import PortalWebhookConfig
from core.settings import Settings
from pipeline import Loader
from pipeline.shared_run import SharedRun

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


def hub_of(request: Request) -> Hub:
    """The hub of the app serving ``request`` (built at start by ``create_app``'s lifespan)."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(hub_of)]
