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
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    ValidationError,
    XMLSyntaxError,
)
from zeep.helpers import serialize_object
from zeep.wsse.username import UsernameToken

from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page, PageRead
from connectors.erp_config import (
    ErpAnswerTooLarge,
    ErpAuthRefused,
    ErpBusy,
    ErpOperation,
    ErpRejected,
    ErpSoapConfig,
    UnsafeXml,
    origin_of,
    refused_logon,
    without_userinfo,
)
from connectors.erp_requests import (
    check_against,
    incomplete_request,
    next_position,
    request,
    wrong_argument,
)
from connectors.erp_transport import (
    ErpCall,
    GuardedTransport,
    PageGuard,
    check_page,
    parser_limit,
    raise_http,
)
from connectors.erp_values import change_time, id_text
from connectors.incremental import Watermark, after_whole_pass
from connectors.origin import SourceOrigin
from connectors.retry import call_with_retry, retrying
from connectors.sync_clock import current_clock
from connectors.values import NaiveTime, UnreadableTime, dig
from core.errors import ConfigError, DataError, SourceUnavailable

__all__ = ["ErpAnswerTooLarge", "ErpAuthRefused", "ErpBusy", "ErpOperation", "ErpRejected", "ErpSoapConfig",
           "ErpSoapConnector", "UnsafeXml", "zeep_settings"]  # fmt: skip

log = structlog.get_logger(__name__)
_WSSE_REFUSALS = frozenset({"FailedAuthentication", "InvalidSecurityToken", "InvalidSecurity", "FailedCheck"})


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


def _wsse(config: ErpSoapConfig, origin: SourceOrigin) -> UsernameToken | None:
    """A WS-Security UsernameToken when configured (SAP: a service whose logon procedure is WSSE)."""
    if config.ws_security == "none":
        return None
    digest = config.ws_security == "username_token_digest"
    return UsernameToken(config.username, config.secret_password(origin), use_digest=digest)


def _refused_logon_fault(code: str) -> bool:
    """WS-Security's fault codes for a token the service refused (OASIS WSS 1.1 §12)."""
    return code.rpartition(":")[2] in _WSSE_REFUSALS


class ErpSoapConnector(Connector):
    """Reads the configured streams of one ERP; one zeep client, built on first use (the WSDL load is retried).

    ``origin``: the source and where its settings were written, so that every error names the setting as its
    user wrote it; without one (a connector made in code, the demo) the source is ``config.source`` and its
    settings the ``AUTOHUB_ERP__…`` variables, as for the shipped ERP.
    """

    def __init__(self, config: ErpSoapConfig, origin: SourceOrigin | str | None = None, *,
                 cache_path: Path | None = None):  # fmt: skip
        origin = SourceOrigin.of(origin or config.source, env_block="erp")
        if not config.wsdl_url:
            raise ConfigError(f"no ERP configured for {origin.source}", field=origin.setting("wsdl_url"),
                              fix=f"set the ERP's WSDL URL (and {origin.setting('streams')} if its operations differ)")  # fmt: skip
        config.check_logon(origin)
        if config.source != origin.source:  # one name for the source, whoever asks the configuration
            config = config.model_copy(update={"source": origin.source})
        self.config = config
        self.origin = origin
        self.source = origin.source
        self.streams = tuple(config.streams)
        self._cache_path = config.wsdl_cache_path or cache_path
        self._policy = retrying(config.attempts, config.max_wait_s, initial_wait_s=0.2, source=self.source)
        self._client: Client | None = None
        self._transport: GuardedTransport | None = None
        self._service: Any = None

    # --- client -----------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._service is None:
            self._service = call_with_retry(self._policy, self._build_service)
        return self._service

    def _build_service(self) -> Any:
        """One WSDL load (with its imports); retried by ``_connect`` only, never inside a retried call —
        retries nested there multiplied (attempts²), and with a wrong password they locked the SAP user."""
        cache = None
        if self._cache_path:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache = SqliteCache(path=str(self._cache_path), timeout=self.config.wsdl_cache_ttl_s)
        wsdl = self.config.wsdl_url  # never with userinfo: ErpSoapConfig moves it to USERNAME/PASSWORD
        transport = GuardedTransport(self.config, cache, self.origin)
        transport.wsdl_deadline_at = time.monotonic() + self.config.wsdl_deadline_s  # all documents together
        try:
            client = Client(wsdl, transport=transport, settings=zeep_settings(forbid_external=False),
                            service_name=self.config.service, port_name=self.config.port,
                            plugins=[PageGuard(transport)], wsse=_wsse(self.config, self.origin))  # fmt: skip
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            transport.session.close()
            raise UnsafeXml(f"the WSDL at {wsdl} is refused: {exc}",
                            fix="a WSDL with DTDs or external references is not loaded; ask the ERP team") from exc  # fmt: skip
        except requests.RequestException as exc:
            transport.session.close()
            raise SourceUnavailable(f"ERP WSDL not reachable at {wsdl}: {type(exc).__name__}") from exc
        except (XMLSyntaxError, TransportError) as exc:
            transport.session.close()
            raise parser_limit(exc, wsdl) or ConfigError(
                f"no usable WSDL at {wsdl}: {str(exc)[:200]}",
                field=self.origin.setting("wsdl_url"), fix="point it at the ERP's ?wsdl URL") from exc  # fmt: skip
        except OSError as exc:  # a local WSDL file that cannot be read
            transport.session.close()
            raise ConfigError(f"cannot read the WSDL at {wsdl}: {exc.strerror or exc}",
                              field=self.origin.setting("wsdl_url"), fix="point it at the ERP's ?wsdl URL or a readable file") from exc  # fmt: skip
        except BaseException:  # a refusal of ours (deadline, size, origin, logon): no session left behind
            transport.session.close()
            raise
        finally:
            transport.wsdl_deadline_at = None
        service = client.service
        try:
            self._check_streams(service)
        except BaseException:
            transport.session.close()
            raise
        transport.trust_endpoint(str(getattr(service, "_binding_options", {}).get("address") or ""))
        self._client, self._transport = client, transport
        log.info("ERP WSDL loaded", wsdl=without_userinfo(wsdl), streams=list(self.config.streams))
        return service

    def _check_streams(self, service: Any) -> None:
        """Each stream's operation exists and takes the parameters its settings name (see erp_requests)."""
        operations = getattr(getattr(service, "_binding", None), "_operations", {})
        for stream, op in self.config.streams.items():
            try:
                getattr(service, op.operation)
            except AttributeError as exc:
                raise ConfigError(f"the ERP's WSDL has no operation {op.operation!r} (stream {stream})",
                                  field=self.origin.setting(f"streams.{stream}.operation"),
                                  fix="use an operation name the WSDL offers") from exc  # fmt: skip
            if op.operation in operations:
                check_against(stream, op, operations[op.operation], self.origin)

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.session.close()
        self._client = self._transport = self._service = None

    # --- calls ------------------------------------------------------------------------------------------

    def _call(self, service: Any, stream: str, op: ErpOperation, params: dict[str, Any]) -> Any:
        """One SOAP call with zeep's and the network's failures turned into the hub's error classes.

        ``service`` is loaded before: a WSDL load here would be retried inside the call's retries.
        """
        try:
            return self._send(service, stream, op, params)
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            raise UnsafeXml(f"ERP answer to {op.operation} refused: {exc}",
                            fix="check that the URL points at the real ERP; not retried") from exc  # fmt: skip
        except Fault as exc:
            code = str(exc.code or "")
            if _refused_logon_fault(code):
                raise refused_logon(self._endpoint(), f"SOAP fault {code}", self.config, self.origin) from exc
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

    def _send(self, service: Any, stream: str, op: ErpOperation, params: dict[str, Any]) -> Any:
        """The call itself; a parameter zeep cannot place is the stream's setting to fix, not a traceback."""
        transport = self._transport
        if transport is not None:
            transport.calling = ErpCall(stream, op)
        try:
            return getattr(service, op.operation)(**params)
        except TypeError as exc:  # zeep: "got an unexpected keyword argument 'PageSize'"
            raise wrong_argument(stream, op, exc, self.origin) from exc
        except ValidationError as exc:  # zeep: "Missing element CustomerSimpleSelectionByNameAndAddress"
            raise incomplete_request(stream, op, exc, self.origin) from exc
        finally:
            if transport is not None:
                transport.calling = None

    def _endpoint(self) -> str:
        address = str(getattr(self._service, "_binding_options", {}).get("address") or self.config.wsdl_url)
        return origin_of(address) or without_userinfo(address)

    # --- reading ----------------------------------------------------------------------------------------

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        op = self.config.streams[stream]
        clock = current_clock()
        saved = Watermark.load(state, source=self.source, stream=stream)
        done = Watermark() if op.full_extract else Watermark(saved.changed_since)
        if saved.under_way:  # resume a pass a crash interrupted, at its next page
            since, position, high = saved.under_way.since, saved.under_way.token, saved.under_way.high
        else:
            start = done.resume_from(self.config.lookback_s)
            since = start.isoformat() if start else None
            position, high = None, done.changed_since
        service = self._connect()  # its own bounded retries; inside _call's they would multiply (attempts²)
        if op.full_extract and not saved.under_way:
            log.info("ERP stream read as a full extract", stream=stream, operation=op.operation,
                     watermark=None, why="changed_since_param is null: the operation has no change-time filter, "
                     "every run reads the whole stream and the raw store recognises what is unchanged")  # fmt: skip
        while True:
            params = request(op, since=datetime.fromisoformat(since) if since else None, position=position)
            answer = call_with_retry(self._policy, self._call, service, stream, op, params)
            body = serialize_object(answer, dict)
            page = self._records(stream, op, body, high)
            high = page.high
            following = next_position(stream, op, body, page.count, page.last_id, position, self.origin)
            if following:
                yield Page(
                    page.records, done.paused(since, following, high).dump(), page.unreadable, page.refused
                )
                position = following
                continue
            # the watermark never passes the run's start (sync_clock.py: a fast ERP clock)
            state = after_whole_pass(
                clock, datetime.fromisoformat(high) if high else None, by_change_time=not op.full_extract
            )
            yield Page(page.records, state, page.unreadable, page.refused)
            return

    def _records(self, stream: str, op: ErpOperation, body: Any, high: str | None) -> PageRead[str | None]:
        items = dig(body, op.records_field) if op.records_field else body
        if isinstance(items, dict):  # a single record where the WSDL allows one or many
            items = [items]
        # for answers whose records PageGuard did not find
        check_page(ErpCall(stream, op), len(items or []), self.origin)
        page = PageRead[str | None](high=high)
        high_at = datetime.fromisoformat(high) if high else None
        zone = self._zone(op)
        for item in items or []:
            page.count += 1
            payload = _json_safe(item)
            source_id = id_text(dig(payload, op.id_field)) if isinstance(payload, dict) else None
            if source_id is None:
                leaf = op.id_field.rsplit(".", 1)[-1].lower()
                page.unreadable.append((f"missing_{leaf}", repr(payload)[:2000]))
                continue
            page.last_id = source_id
            record = SourceRecord(source=self.source, stream=stream, source_id=source_id, payload=payload)
            try:
                changed_at = self._change_time(stream, op, record, zone)
            except DataError as exc:
                page.refused.append((record, exc))
                continue
            page.records.append(record)
            if changed_at and (high_at is None or changed_at > high_at):
                high_at = changed_at
        page.high = high_at.isoformat() if high_at else None
        return page

    def _zone(self, op: ErpOperation) -> ZoneInfo | None:
        name = op.source_timezone or self.config.source_timezone
        return ZoneInfo(name) if name else None

    def _change_time(self, stream: str, op: ErpOperation, record: SourceRecord, zone: ZoneInfo | None) -> datetime | None:  # fmt: skip
        """The record's change time, aware; None if it has none. An unreadable one refuses the record (it is
        stored raw and quarantined, like the finance connector's rows); one without a zone, where none is
        declared, stops the sync: every record of the stream would be read hours off."""
        if not op.changed_field:
            return None
        name = f"{self.source}/{stream}/{record.source_id[:60]}"
        try:
            return change_time(dig(record.payload, op.changed_field), zone)
        except UnreadableTime as exc:
            raise DataError(str(exc), reason="bad_change_time", record=name, field=op.changed_field,
                            fix="correct it in the ERP, or name the right field in changed_field; the record "
                            "is read again on the next pass") from exc  # fmt: skip
        except NaiveTime as exc:
            raise ConfigError(f"{exc}; the ERP writes change times without a zone", record=name,
                              field=op.changed_field,
                              fix=f"declare the ERP's zone in {self.origin.setting('source_timezone')} (or the "
                              "stream's source_timezone), e.g. Asia/Shanghai") from exc  # fmt: skip
