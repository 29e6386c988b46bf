"""The connector types the hub ships, registered under ``autohub.connectors`` in pyproject.toml.

Each function is an entry point: it returns the type's description and imports the connector only when one
is built, so listing the types (a DAG file does) stays cheap. Every connector is built one way,
``Connector(config, context.origin)``: the origin carries the source's name and where its settings were
written, so the records are stored under the declared name and an error names the setting as it was written.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Connector
from connectors.dms_amqp import DmsAmqpConfig
from connectors.erp_config import ErpSoapConfig
from connectors.file_drop import FileDropConfig
from connectors.finance_sql import FinanceSqlConfig
from connectors.insurance_rest import InsuranceRestConfig
from connectors.portal_webhook import PortalWebhookConfig
from connectors.rest_config import HttpSourceConfig
from connectors.types import BuildContext, ConnectorType
from core.errors import ConfigError


def _soap(config: Any, context: BuildContext) -> Connector:
    from connectors.erp_soap import ErpSoapConnector

    cache = "zeep-cache.db" if context.source == "erp" else f"zeep-cache-{context.source}.db"  # one per WSDL
    return ErpSoapConnector(config, context.origin, cache_path=context.data_dir / cache)


def _sql(config: Any, context: BuildContext) -> Connector:
    from connectors.finance_sql import FinanceSqlConnector

    return FinanceSqlConnector(config, context.origin)


def _rest(config: Any, context: BuildContext) -> Connector:
    from connectors.insurance_rest import InsuranceRestConnector

    return InsuranceRestConnector(config, context.origin)


def _http(config: Any, context: BuildContext) -> Connector:
    from connectors.rest_source import HttpConnector

    return HttpConnector(config, context.origin)


def _file(config: Any, context: BuildContext) -> Connector:
    from connectors.file_drop import FileDropConnector

    return FileDropConnector(config, context.origin)


def soap() -> ConnectorType:
    return ConnectorType("soap", "an ERP's SOAP service (zeep): SAP-style customers, vehicles, sales orders",
                         "pull", ErpSoapConfig, _soap)  # fmt: skip


def sql() -> ConnectorType:
    return ConnectorType("sql", "a table or view in a database (SQLAlchemy URL), read by a change-time column",
                         "pull", FinanceSqlConfig, _sql)  # fmt: skip


def rest() -> ConnectorType:
    return ConnectorType("rest", "the shipped insurer's REST API (OAuth2, cursor paging): an http declaration",
                         "pull", InsuranceRestConfig, _rest)  # fmt: skip


def http() -> ConnectorType:
    return ConnectorType("http", "any REST API by declaration: streams, records path, paging, auth, incremental",
                         "pull", HttpSourceConfig, _http)  # fmt: skip


def amqp() -> ConnectorType:
    return ConnectorType("amqp", "dealer events pushed to a RabbitMQ queue (autohub dms consume)", "push",
                         DmsAmqpConfig, probe=_amqp_probe)  # fmt: skip


def _amqp_probe(config: DmsAmqpConfig, context: BuildContext) -> list[str]:
    """The broker reached and the queues' depths read by passive declares (no message is taken: a quorum queue
    counts a returned message as a delivery, and enough of those dead-letter it)."""
    from connectors.dms_amqp import queue_depths

    (ready, consumers), (dead, _) = queue_depths(config, (config.queue, config.dead_letter_queue))
    return [f"broker reached; {config.queue}: {ready:,} waiting, {consumers} consumer(s)",
            f"{config.dead_letter_queue}: {dead:,} dead-lettered",
            f"served by: autohub dms consume --source {context.source}"]  # fmt: skip


def webhook() -> ConnectorType:
    return ConnectorType("webhook", "signed webhook deliveries to the API (POST /v1/webhooks/...)", "push",
                         PortalWebhookConfig, probe=_webhook_probe)  # fmt: skip


def _webhook_probe(config: PortalWebhookConfig, context: BuildContext) -> list[str]:
    if not config.secret.get_secret_value():
        raise ConfigError(f"source {context.source!r} has no signing secret: every delivery would be refused (503)",
                          field="settings.secret", fix="set it as {env: VARIABLE} or {file: PATH} in the sources file")  # fmt: skip
    return [
        f"signing secret set; deliveries older than {config.tolerance_s} s refused",
        f"served by: POST /v1/webhooks/{context.source} of the hub API (autohub serve)",
    ]


def file() -> ConnectorType:
    return ConnectorType("file", "a drop folder of CSV, JSON Lines or Excel files, each read once and set aside",
                         "pull", FileDropConfig, _file)  # fmt: skip
