"""ERP over SOAP (zeep): paged "changed since" operations, driven by configuration, hardened against hostile XML.

Everything that differs between ERPs lives in ``ErpSoapConfig``: the WSDL, and per stream the operation, its
request parameter names, where the records and the next page token sit in the response, and which fields are
the record's id and change time. Another ERP with another WSDL needs a config and a mapping file, not code
(see connectors/README.md, "Adapting another ERP").

Safety: zeep's ``forbid_dtd``/``forbid_entities`` are set explicitly, and the transport stands between
zeep and the network. It refuses an answer whose prolog carries a DOCTYPE or another declaration — a SOAP
message may not have one (SOAP 1.1 §3), so it is either an attack (billion laughs, XXE) or a broken gateway,
and never retried. It loads WSDL and schema documents only from the WSDL's own origin (and
``allowed_origins``), never from the local file system: zeep's ``forbid_external`` only knows http(s), lets
``file://`` imports through, and refuses same-origin imports too, so the transport's allow-list replaces it.
It reads every answer as a stream under a total deadline (``wsdl_deadline_s``, ``operation_deadline_s``;
requests' timeouts are per socket read, so an ERP that trickles a byte a second would never time out) and
a byte cap (``max_answer_bytes``), and a page holding far more records than were asked is refused before
zeep turns it into objects. A text node or a nesting beyond lxml's limits (``xml_huge_tree`` is off) is
refused as unsafe, not retried as a broken envelope. The WSDL is cached in SQLite.

Incremental: each stream keeps ``changed_since`` (the newest change time fully read) and, while a pass is
under way, the pass's page token, so a crash resumes at the next page. A new pass re-asks from
``changed_since`` minus ``lookback_s`` — rows the ERP committed late with an older change time are caught,
and everything read twice is recognised by the raw store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import structlog
from zeep import Client, Settings
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

from autohub.errors import ConfigError, SourceUnavailable
from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.erp_config import (
    ErpAnswerTooLarge,
    ErpBusy,
    ErpOperation,
    ErpRejected,
    ErpSoapConfig,
    UnsafeXml,
)
from connectors.erp_transport import (
    ErpCall,
    GuardedTransport,
    PageGuard,
    check_page,
    parser_limit,
    raise_http,
)
from connectors.retry import call_with_retry, retrying

__all__ = ["ErpAnswerTooLarge", "ErpBusy", "ErpOperation", "ErpRejected", "ErpSoapConfig", "ErpSoapConnector",
           "UnsafeXml", "zeep_settings"]  # fmt: skip

log = structlog.get_logger(__name__)


def zeep_settings(*, forbid_external: bool = True) -> Settings:
    """The parse settings every SOAP client of the hub uses; all three guards set explicitly.

    The ERP connector passes ``forbid_external=False``: its transport allows the WSDL's own origin and
    refuses everything else, ``file://`` included, which zeep's flag does not (see the module docstring).
    """
    return Settings(
        strict=True,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=forbid_external,
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
        self._transport: GuardedTransport | None = None
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
        transport = GuardedTransport(self.config, cache)
        transport.wsdl_deadline_at = time.monotonic() + self.config.wsdl_deadline_s  # all documents together
        try:
            client = Client(self.config.wsdl_url, transport=transport, settings=zeep_settings(forbid_external=False),
                            service_name=self.config.service, port_name=self.config.port,
                            plugins=[PageGuard(transport)])  # fmt: skip
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            transport.session.close()
            raise UnsafeXml(f"the WSDL at {self.config.wsdl_url} is refused: {exc}",
                            fix="a WSDL with DTDs or external references is not loaded; ask the ERP team") from exc  # fmt: skip
        except requests.RequestException as exc:
            transport.session.close()
            raise SourceUnavailable(
                f"ERP WSDL not reachable at {self.config.wsdl_url}: {type(exc).__name__}"
            ) from exc
        except (XMLSyntaxError, TransportError) as exc:
            transport.session.close()
            raise parser_limit(exc, self.config.wsdl_url) or ConfigError(
                f"no usable WSDL at {self.config.wsdl_url}: {str(exc)[:200]}",
                field="AUTOHUB_ERP__WSDL_URL", fix="point it at the ERP's ?wsdl URL") from exc  # fmt: skip
        except OSError as exc:  # a local WSDL file that cannot be read
            transport.session.close()
            raise ConfigError(f"cannot read the WSDL at {self.config.wsdl_url}: {exc.strerror or exc}",
                              field="AUTOHUB_ERP__WSDL_URL", fix="point it at the ERP's ?wsdl URL or a readable file") from exc  # fmt: skip
        except BaseException:  # a refusal of ours (deadline, size, origin): no session left behind
            transport.session.close()
            raise
        finally:
            transport.wsdl_deadline_at = None
        service = client.service
        for stream, op in self.config.streams.items():
            try:
                getattr(service, op.operation)
            except AttributeError as exc:
                raise ConfigError(f"the ERP's WSDL has no operation {op.operation!r} (stream {stream})",
                                  field=f"AUTOHUB_ERP__STREAMS.{stream}.operation",
                                  fix="use an operation name the WSDL offers") from exc  # fmt: skip
        self._client, self._transport = client, transport
        log.info("ERP WSDL loaded", wsdl=self.config.wsdl_url, streams=list(self.config.streams))
        return service

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.session.close()
        self._client = self._transport = self._service = None

    # --- calls ------------------------------------------------------------------------------------------

    def _call(self, stream: str, op: ErpOperation, params: dict[str, Any]) -> Any:
        """One SOAP call with zeep's and the network's failures turned into the hub's error classes."""
        try:
            service = self._connect()
            transport = self._transport
            if transport is not None:
                transport.calling = ErpCall(stream, op)
            try:
                return getattr(service, op.operation)(**params)
            finally:
                if transport is not None:
                    transport.calling = None
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
            limit = parser_limit(exc, f"the ERP call {op.operation}")
            if limit is not None:
                raise limit from exc
            status = int(exc.status_code or 0)
            if 400 <= status < 500 and status != 429:
                raise_http(status, op.operation, "no SOAP fault")
            raise ErpBusy(f"ERP answer to {op.operation} unreadable or failed (HTTP {status}): "
                          f"{str(exc.message)[:120]}") from exc  # fmt: skip
        except XMLSyntaxError as exc:
            raise parser_limit(exc, f"the ERP call {op.operation}") or ErpBusy(
                f"ERP answer to {op.operation} is not a SOAP envelope: {str(exc)[:120]}"
            ) from exc
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
            self._connect()  # its own bounded retries; inside _call's they would multiply (attempts²)
            body = serialize_object(call_with_retry(self._policy, self._call, stream, op, params), dict)
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
        check_page(ErpCall(stream, op), len(items or []))  # for answers whose records PageGuard did not find
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
