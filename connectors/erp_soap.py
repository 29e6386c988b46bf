"""ERP over SOAP (zeep): paged "changed since" operations, driven by configuration, hardened against hostile XML.

Everything that differs between ERPs lives in ``ErpSoapConfig``: the WSDL, and per stream the operation, its
request parameter names, where the records and the next page token sit in the response, and which fields are
the record's id and change time. Another ERP with another WSDL needs a config and a mapping file, not code
(see connectors/README.md, "Adapting another ERP").

Safety: zeep's ``forbid_dtd``/``forbid_entities``/``forbid_external`` are set explicitly (``forbid_external``
is enforced from zeep 4.3.3 on, pinned in pyproject), and before zeep parses anything the transport refuses a
response that carries a DOCTYPE at all — a SOAP message may not have one (SOAP 1.1 §3), so it is either an
attack (billion laughs, XXE) or a broken gateway, and never retried. Calls have a timeout
(``operation_timeout``; zeep has none by default) and the WSDL is cached in SQLite.

Incremental: each stream keeps ``changed_since`` (the newest change time fully read) and, while a pass is
under way, the pass's page token, so a crash resumes at the next page. A new pass re-asks from
``changed_since`` minus ``lookback_s`` — rows the ERP committed late with an older change time are caught,
and everything read twice is recognised by the raw store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import structlog
from pydantic import BaseModel, Field
from zeep import Client, Settings, Transport
from zeep.cache import SqliteCache
from zeep.exceptions import (
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
    Fault,
    TransportError,
    XMLSyntaxError,
)
from zeep.helpers import serialize_object

from autohub.errors import ConfigError, FatalError, RetriableError, SourceUnavailable
from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.retry import call_with_retry, retrying

log = structlog.get_logger(__name__)


class ErpOperation(BaseModel):
    """How one stream is read: ``operation(changed_since=…, page_token=…, page_size=…) → records + next token``."""

    operation: str
    records_field: str = Field(description="response field holding the repeated records, dotted for nesting")
    next_token_field: str = "NextPageToken"  # noqa: S105 - a field name, not a secret
    changed_since_param: str = "ChangedSince"
    page_token_param: str = "PageToken"  # noqa: S105 - a parameter name
    page_size_param: str = "PageSize"
    page_size: int = Field(default=500, ge=1, le=50_000)
    id_field: str
    changed_field: str = "CHANGED_AT"
    extra_params: dict[str, Any] = Field(
        default_factory=dict, description="fixed arguments, e.g. a company code"
    )


def _fake_erp_streams() -> dict[str, ErpOperation]:
    return {
        "customers": ErpOperation(operation="GetCustomers", records_field="Customer", id_field="KUNNR"),
        "vehicles": ErpOperation(operation="GetVehicles", records_field="Vehicle", id_field="VIN"),
        "sales_orders": ErpOperation(
            operation="GetSalesOrders", records_field="SalesOrder", id_field="VBELN"
        ),
    }


class ErpSoapConfig(BaseModel):
    """``AUTOHUB_ERP__WSDL_URL`` etc.; ``AUTOHUB_ERP__STREAMS`` takes JSON. Defaults fit fakes/erp_soap.py."""

    source: str = Field(
        default="erp", description="source name; its mapping is mappings/sources/<source>.yaml"
    )
    wsdl_url: str = ""
    service: str | None = Field(default=None, description="WSDL service name when there are several")
    port: str | None = Field(default=None, description="WSDL port name when there are several")
    streams: dict[str, ErpOperation] = Field(default_factory=_fake_erp_streams)
    wsdl_timeout_s: float = Field(default=30.0, gt=0)
    operation_timeout_s: float = Field(default=60.0, gt=0)
    wsdl_cache_path: Path | None = Field(
        default=None, description="SQLite file; default <data_dir>/zeep-cache.db"
    )
    wsdl_cache_ttl_s: int = Field(default=86_400, ge=0)
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0
    lookback_s: int = Field(default=300, ge=0, description="re-ask this much before the watermark")


class UnsafeXml(FatalError):
    """The ERP endpoint sent XML with a DOCTYPE, entity or external reference: refused, never retried."""


class ErpBusy(RetriableError):
    """A SOAP Server fault, an HTTP 5xx or a truncated envelope: passing, retried with backoff."""


class ErpRejected(FatalError):
    """A SOAP Client fault or an HTTP 4xx: our request or our rights are wrong; retrying will not help."""


class _GuardedTransport(Transport):
    """zeep's transport with a look at each answer before zeep parses it (see the module docstring)."""

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response: requests.Response = super().post(address, message, headers)
        _refuse_unsafe(response.content, address)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code >= 400 and "html" in content_type:
            _raise_http(response.status_code, address, "an HTML error page instead of a SOAP fault")
        return response

    def load(self, url: str) -> bytes:
        content: bytes = super().load(url)
        _refuse_unsafe(content, url)
        return content


def _refuse_unsafe(content: bytes, where: str) -> None:
    head = content[:4096].lstrip()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeXml(
            f"the answer from {where} carries a DOCTYPE/ENTITY declaration (billion laughs or XXE shape); refused",
            fix="check that the URL points at the real ERP and not at a proxy or an attacker; not retried",
        )


def _raise_http(status: int, where: str, what: str) -> None:
    if status >= 500 or status == 429:
        raise ErpBusy(f"ERP answered HTTP {status} on {where} with {what}")
    raise ErpRejected(f"ERP answered HTTP {status} on {where} with {what}",
                      fix="check the URL and the technical user's rights; not retried")  # fmt: skip


def zeep_settings() -> Settings:
    """The parse settings every SOAP client of the hub uses; all three guards set explicitly."""
    return Settings(
        strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )


def _json_safe(value: Any) -> Any:
    """zeep's Python values → the JSON the raw store keeps; empty elements dropped, as the ERP did not send them."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if body is None:
            return None
        body = body.get(part) if isinstance(body, dict) else getattr(body, part, None)
    return body


class ErpSoapConnector(Connector):
    """Reads the configured streams of one ERP; one zeep client, built on first use (the WSDL load is retried)."""

    def __init__(self, config: ErpSoapConfig, *, cache_path: Path | None = None):
        if not config.wsdl_url:
            raise ConfigError("no ERP configured", field="AUTOHUB_ERP__WSDL_URL",
                              fix="set the ERP's WSDL URL (and AUTOHUB_ERP__STREAMS if its operations differ)")  # fmt: skip
        self.config = config
        self.source = config.source
        self.streams = tuple(config.streams)
        self._cache_path = config.wsdl_cache_path or cache_path
        self._policy = retrying(config.attempts, config.max_wait_s, initial_wait_s=0.2)
        self._client: Client | None = None
        self._service: Any = None

    # --- client -----------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._service is None:
            self._service = call_with_retry(self._policy, self._build_service)
        return self._service

    def _build_service(self) -> Any:
        cache = None
        if self._cache_path:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache = SqliteCache(path=str(self._cache_path), timeout=self.config.wsdl_cache_ttl_s)
        transport = _GuardedTransport(cache=cache, timeout=self.config.wsdl_timeout_s,
                                      operation_timeout=self.config.operation_timeout_s)  # fmt: skip
        try:
            client = Client(self.config.wsdl_url, transport=transport, settings=zeep_settings(),
                            service_name=self.config.service, port_name=self.config.port)  # fmt: skip
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise UnsafeXml(f"the WSDL at {self.config.wsdl_url} is refused: {exc}",
                            fix="a WSDL with DTDs or external references is not loaded; ask the ERP team") from exc  # fmt: skip
        except requests.RequestException as exc:
            raise SourceUnavailable(
                f"ERP WSDL not reachable at {self.config.wsdl_url}: {type(exc).__name__}"
            ) from exc
        except (XMLSyntaxError, TransportError) as exc:
            raise ConfigError(f"no usable WSDL at {self.config.wsdl_url}: {str(exc)[:200]}",
                              field="AUTOHUB_ERP__WSDL_URL", fix="point it at the ERP's ?wsdl URL") from exc  # fmt: skip
        service = client.service
        for stream, op in self.config.streams.items():
            try:
                getattr(service, op.operation)
            except AttributeError as exc:
                raise ConfigError(f"the ERP's WSDL has no operation {op.operation!r} (stream {stream})",
                                  field=f"AUTOHUB_ERP__STREAMS.{stream}.operation",
                                  fix="use an operation name the WSDL offers") from exc  # fmt: skip
        self._client = client
        log.info("ERP WSDL loaded", wsdl=self.config.wsdl_url, streams=list(self.config.streams))
        return service

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.session.close()
        self._client = self._service = None

    # --- calls ------------------------------------------------------------------------------------------

    def _call(self, op: ErpOperation, params: dict[str, Any]) -> Any:
        """One SOAP call with zeep's and the network's failures turned into the hub's error classes."""
        try:
            return getattr(self._connect(), op.operation)(**params)
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise UnsafeXml(f"ERP answer to {op.operation} refused: {exc}",
                            fix="check that the URL points at the real ERP; not retried") from exc  # fmt: skip
        except Fault as exc:
            code = str(exc.code or "")
            if "Client" in code or "Sender" in code:
                raise ErpRejected(f"ERP refused {op.operation}: {exc.message} ({code})",
                                  fix="the request or the technical user's rights are wrong; not retried") from exc  # fmt: skip
            raise ErpBusy(f"ERP fault on {op.operation}: {exc.message} ({code or 'no fault code'})") from exc
        except TransportError as exc:
            status = int(exc.status_code or 0)
            if 400 <= status < 500 and status != 429:
                _raise_http(status, op.operation, "no SOAP fault")
            raise ErpBusy(f"ERP answer to {op.operation} unreadable or failed (HTTP {status}): "
                          f"{str(exc.message)[:120]}") from exc  # fmt: skip
        except XMLSyntaxError as exc:
            raise ErpBusy(f"ERP answer to {op.operation} is not a SOAP envelope: {str(exc)[:120]}") from exc
        except requests.Timeout as exc:
            raise SourceUnavailable(
                f"ERP call {op.operation} timed out after {self.config.operation_timeout_s:g} s"
            ) from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"ERP unreachable on {op.operation}: {type(exc).__name__}") from exc

    # --- reading ----------------------------------------------------------------------------------------

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        op = self.config.streams[stream]
        state = state or {}
        done: str | None = state.get("changed_since")
        current: dict[str, Any] | None = state.get("pass")
        if current:  # resume a pass a crash interrupted, at its next page
            since, token, high = current.get("since"), current.get("token"), current.get("high")
        else:
            since = (
                (datetime.fromisoformat(done) - timedelta(seconds=self.config.lookback_s)).isoformat()
                if done
                else None
            )
            token, high = None, done
        while True:
            params: dict[str, Any] = {**op.extra_params, op.page_size_param: op.page_size}
            if since:
                params[op.changed_since_param] = datetime.fromisoformat(since)
            if token:
                params[op.page_token_param] = token
            body = serialize_object(call_with_retry(self._policy, self._call, op, params), dict)
            records, unreadable, high = self._records(stream, op, body, high)
            token = _dig(body, op.next_token_field)
            if token:
                yield Page(records, {"changed_since": done, "pass": {"since": since, "token": token, "high": high}},
                           unreadable)  # fmt: skip
                continue
            yield Page(records, {"changed_since": high}, unreadable)
            return

    def _records(
        self, stream: str, op: ErpOperation, body: Any, high: str | None
    ) -> tuple[list[SourceRecord], list[tuple[str, str]], str | None]:
        items = _dig(body, op.records_field) if op.records_field else body
        if isinstance(items, dict):  # a single record where the WSDL allows one or many
            items = [items]
        records: list[SourceRecord] = []
        unreadable: list[tuple[str, str]] = []
        high_at = datetime.fromisoformat(high) if high else None
        for item in items or []:
            payload = _json_safe(item)
            source_id = payload.get(op.id_field) if isinstance(payload, dict) else None
            if not source_id:
                unreadable.append((f"missing_{op.id_field.lower()}", repr(payload)[:2000]))
                continue
            records.append(
                SourceRecord(source=self.source, stream=stream, source_id=str(source_id), payload=payload)
            )
            changed = payload.get(op.changed_field)
            try:
                changed_at = datetime.fromisoformat(changed) if isinstance(changed, str) else None
            except ValueError:
                changed_at = None  # the record is kept; only the watermark ignores an unreadable time
            if changed_at and changed_at.tzinfo and (high_at is None or changed_at > high_at):
                high_at = changed_at
        return records, unreadable, high_at.isoformat() if high_at else None
