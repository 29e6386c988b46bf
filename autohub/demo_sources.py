"""The demo's five sources, each served by its fake and read by its real connector over its real protocol.

ERP: the fake SOAP server over HTTP, read by zeep. Finance: an SQLite accounting database, read by the SQL
connector. Insurance: the fake REST partner with OAuth2, read by httpx. DMS: RabbitMQ when it answers
(published with confirms, consumed by the consumer on throw-away demo queues), else the same events from a
JSON-lines file through the same batch loader. Portal: each event signed and handed to the webhook receiver
the hub API serves at ``POST /v1/webhooks/portal``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import structlog
from pydantic import SecretStr

from connectors.dms_amqp import (
    DmsAmqpConfig,
    DmsConsumer,
    connect,
    delete_topology,
    load_event_file,
    publish_events,
)
from connectors.erp_soap import ErpSoapConfig, ErpSoapConnector
from connectors.finance_sql import FinanceSqlConfig, FinanceSqlConnector
from connectors.insurance_rest import InsuranceRestConfig, InsuranceRestConnector
from connectors.portal_webhook import PortalWebhookConfig, signed_headers
from connectors.runner import run_sync
from connectors.sources import declared_source
from core.settings import Settings
from fakes.erp_soap import ErpSoapServer
from fakes.finance_db import create_accounting_db
from fakes.insurance_api import InsuranceApi
from hub_api.server import api_in_thread
from pipeline import Loader, LoadReport
from store import reports

log = structlog.get_logger(__name__)
Progress = Callable[[int], None] | None
Payloads = dict[str, list[dict[str, Any]]]  # stream → payloads
DmsMode = Literal["auto", "rabbitmq", "file"]


@dataclass(frozen=True)
class SourceRun:
    report: LoadReport
    transport: str  # how the records came in, said to the user


def erp(loader: Loader, settings: Settings, payloads: Payloads, progress: Progress) -> SourceRun:
    server = ErpSoapServer(records=payloads)
    wsdl_url = server.start()
    try:
        connector = ErpSoapConnector(
            ErpSoapConfig(wsdl_url=wsdl_url), cache_path=settings.data_dir / "zeep-cache.db"
        )
        report = run_sync(connector, loader, on_progress=progress)
    finally:
        server.stop()
    return SourceRun(report, f"SOAP (zeep) ← fake ERP at {wsdl_url}, {server.calls} paged calls")


def finance(loader: Loader, settings: Settings, payloads: Payloads, progress: Progress) -> SourceRun:
    path = settings.data_dir / "demo-accounting.db"
    url = f"sqlite:///{path.as_posix()}"
    rows = create_accounting_db(url, payloads.get("customers", []))
    connector = FinanceSqlConnector(FinanceSqlConfig(url=url))
    report = run_sync(connector, loader, on_progress=progress)
    return SourceRun(report, f"SQL (SQLAlchemy) ← accounting database {path} ({rows:,} rows)")


def insurance(loader: Loader, settings: Settings, payloads: Payloads, progress: Progress) -> SourceRun:
    api = InsuranceApi(policies=payloads.get("policies", []))
    base_url = api.start()
    try:
        config = InsuranceRestConfig(base_url=base_url, client_secret=api.client_secret)
        report = run_sync(InsuranceRestConnector(config), loader, on_progress=progress)
    finally:
        api.stop()
    return SourceRun(
        report, f"REST (httpx, OAuth2) ← fake insurer at {base_url}, {api.policy_requests} pages"
    )


def dms(
    loader: Loader, settings: Settings, events: list[dict[str, Any]], progress: Progress, mode: DmsMode
) -> SourceRun:
    """RabbitMQ when reachable (or demanded), else the demo file; the transport line says which and why."""
    path = settings.data_dir / "demo-dms-events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    config = _demo_queues(declared_source(settings, "dms").config_as(DmsAmqpConfig))
    why_not = None
    if mode != "file":
        try:
            connect(config).close()
        except Exception as exc:
            if mode == "rabbitmq":
                raise
            why_not = f"RabbitMQ not reachable ({type(exc).__name__})"
    if mode == "file" or why_not:
        report, stats = load_event_file(loader, path, on_progress=progress)
        return SourceRun(report, f"file {path} ← {why_not or 'asked for --dms file'}; "
                                 f"{stats.dead_lettered:,} poison events quarantined")  # fmt: skip
    try:
        published = publish_events(config, events)
        consumer = DmsConsumer(config, loader, on_progress=progress)
        stats = consumer.run(idle_exit_s=1.0)
    finally:  # this run's own queues: nothing is left behind on the broker
        connection = connect(config)
        delete_topology(connection.channel(), config)
        connection.close()
    host = config.url.get_secret_value().split("@")[-1]
    if consumer.report is None:  # run() always sets it
        raise RuntimeError("the DMS consumer ran without a load report")
    return SourceRun(consumer.report,
                     f"RabbitMQ at {host} ← {published:,} events published with confirms to {config.exchange}, "
                     f"consumed from {config.queue}; {stats.dead_lettered:,} dead-lettered to {config.dead_letter_queue}")  # fmt: skip


def _demo_queues(config: DmsAmqpConfig) -> DmsAmqpConfig:
    """The broker from settings, with names of this run's own: the demo never drains a real consumer's queue,
    and two demos at once (a developer's beside the test suite's) never delete each other's queues."""
    run = f"autohub.demo.{secrets.token_hex(4)}.dms"
    return config.model_copy(update={
        "exchange": run, "queue": f"{run}.events", "dead_letter_exchange": f"{run}.dlx",
        "dead_letter_queue": f"{run}.dead", "batch_wait_s": 0.1,
    })  # fmt: skip


def portal(
    loader: Loader, settings: Settings, events: list[tuple[str, dict[str, Any]]], progress: Progress
) -> SourceRun:
    """Each event as the portal posts it — JSON body, a delivery id, HMAC signature over timestamp, id and body —
    over HTTP to ``POST /v1/webhooks/portal`` of the hub API, served for the demo on a free loopback port."""
    secret = secrets.token_urlsafe(32)  # both ends live in this process; nothing to configure
    api_settings = settings.model_copy(
        update={"sections": {**settings.sections, "portal": PortalWebhookConfig(secret=SecretStr(secret))}}
    )
    statuses: dict[int, int] = {}
    with loader.sessions() as session:
        before = reports.last_run_id(session)
    with api_in_thread(api_settings) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        for event_type, data in events:
            body = json.dumps({"event_type": event_type, "data": data}, ensure_ascii=False).encode("utf-8")
            delivery = str(data.get("event_id") or secrets.token_hex(8))
            headers = {**signed_headers(secret.encode(), body, delivery), "Content-Type": "application/json"}
            status = client.post("/v1/webhooks/portal", content=body, headers=headers).status_code
            statuses[status] = statuses.get(status, 0) + 1
            if progress:
                progress(1)
    answered = ", ".join(f"{n:,} × {status}" for status, n in sorted(statuses.items()))
    with loader.sessions() as session:  # the API stored each delivery in a run of its own: add them up
        totals = reports.run_totals(session, "portal", after_run_id=before)
    report = LoadReport("portal", totals.last_run_id, totals.records_in, totals.unchanged, totals.mapped,
                        totals.quarantined, partial=totals.partial)  # fmt: skip
    return SourceRun(report, f"signed webhooks (HMAC-SHA256) over HTTP → POST {base_url}"
                                               f"/v1/webhooks/portal of the hub API; answered {answered}")  # fmt: skip
