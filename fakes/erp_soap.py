"""A fake ERP SOAP server over real HTTP: a WSDL at ``/erp?wsdl`` and paged operations at ``/erp``.

It answers the way an ERP does, and misbehaves the way ERPs and the proxies in front of them do when a test
asks: latency on every call, HTTP 500 with an HTML page, a SOAP Server or Client fault, a truncated
envelope, and hostile XML (a billion-laughs entity bomb, an XXE entity reading a local file) — the last two
to prove the hub's SOAP client refuses them. Runs in a thread (``ErpSoapServer.start()``) or from the
command line (``python -m fakes.erp_soap``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from lxml import etree

from fakes.erp_wsdl import BY_STREAM, NAMESPACE, RECORD_TYPES, Dialect, RecordType, wsdl
from fakes.paging import KeysetPager

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FAULT_KINDS = frozenset(
    {"http_500", "server_fault", "client_fault", "malformed", "billion_laughs", "xxe", "slow"}
)
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


@dataclass
class ErpFaults:
    latency_s: float = 0.0  # added to every operation call
    plan: dict[int, str] = field(default_factory=dict)  # operation call number (1-based) → one of FAULT_KINDS
    slow_s: float = 3.0  # how long a "slow" call hangs
    xxe_target: str = "/etc/hostname"  # the file an XXE response tries to read

    def __post_init__(self) -> None:
        unknown = set(self.plan.values()) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown ERP fault(s) {sorted(unknown)}; choose from {sorted(FAULT_KINDS)}")


def _utc(value: str) -> str:
    """Sortable UTC form of an ``xs:dateTime``; ERPs store local time with an offset."""
    return datetime.fromisoformat(value).astimezone(UTC).isoformat() if value else ""


@dataclass
class ErpSoapServer:
    """The ERP's state: records per stream, faults, and what it saw (for assertions)."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # stream → payloads
    faults: ErpFaults = field(default_factory=ErpFaults)
    record_types: tuple[RecordType, ...] = RECORD_TYPES
    dialect: Dialect = field(default_factory=Dialect)
    calls: int = 0
    wsdl_requests: int = 0
    _pagers: dict[str, KeysetPager] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def wsdl_url(self) -> str:
        return f"{self.location}?wsdl"

    @property
    def location(self) -> str:
        if not self._server:
            raise RuntimeError("the fake ERP is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/erp"

    def location_for(self, host_header: str | None) -> str:
        """The endpoint a WSDL fetched through ``host_header`` names.

        Bound to every interface (0.0.0.0 in a container), the bind address is no address a client can call:
        the WSDL then names the host the client asked for (the Host header), as many SOAP stacks do.
        """
        if self._server and str(self._server.server_address[0]) in WILDCARD_HOSTS and host_header:
            return f"http://{host_header}/erp"
        return self.location

    # --- behaviour --------------------------------------------------------------------------------------

    def page(self, rt: RecordType, since: str | None, token: str | None, size: int) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
        pager = self._pagers.setdefault(
            rt.stream, KeysetPager(lambda r: (_utc(str(r.get("CHANGED_AT") or "")), str(r.get(rt.key) or "")))
        )
        return pager.page(self.records.get(rt.stream, []), _utc(since) if since else None, token, size)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        """HTTP status and body for one SOAP request, faults applied in call order."""
        with self._lock:
            self.calls += 1
            fault = self.faults.plan.get(self.calls)
        if self.faults.latency_s:
            time.sleep(self.faults.latency_s)
        if fault == "slow":
            time.sleep(self.faults.slow_s)
        if fault == "http_500":
            return 500, b"<html><body><h1>500 Internal Server Error</h1>upstream ERP node down</body></html>"
        if fault == "server_fault":
            return 500, _fault("soap:Server", "ERP work process busy, try again later")
        if fault == "client_fault":
            return 500, _fault("soap:Client", "user AUTOHUB has no authorisation for object S_TABU_DIS")
        try:
            operation, params = _parse_request(body)
        except ValueError as exc:
            return 500, _fault("soap:Client", str(exc))
        rt = next((t for t in self.record_types if t.operation == operation), None)
        if rt is None:
            return 500, _fault("soap:Client", f"unknown operation {operation}")
        d = self.dialect
        try:
            items, next_token = self.page(rt, params.get(d.changed_since), params.get(d.page_token),
                                          int(params.get(d.page_size) or 100))  # fmt: skip
        except ValueError as exc:
            return 500, _fault("soap:Client", str(exc))
        envelope = _response(rt, items, next_token, d)
        if fault == "malformed":
            return 200, envelope[: len(envelope) // 2]
        if fault == "billion_laughs":
            return 200, _billion_laughs(rt)
        if fault == "xxe":
            return 200, _xxe(rt, self.faults.xxe_target)
        return 200, envelope

    # --- serving ----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the WSDL URL (port 0 picks a free one)."""
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.wsdl_url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# --- XML ----------------------------------------------------------------------------------------------------

_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_request(body: bytes) -> tuple[str, dict[str, str]]:
    try:
        root = etree.fromstring(body, parser=_SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"request is not XML: {exc}") from exc
    request = root.find(f"{{{SOAP_ENV}}}Body/*")
    if request is None:
        raise ValueError("no SOAP Body in the request")
    operation = etree.QName(request).localname
    return operation, {etree.QName(child).localname: (child.text or "") for child in request}


def _envelope(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    ).encode()


def _fault(code: str, message: str) -> bytes:
    return _envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring></soap:Fault>"
    )


def _record_xml(rt: RecordType, record: dict[str, Any]) -> str:
    cells = []
    for name in (*rt.fields, "CHANGED_AT"):
        value = record.get(name)
        if value is not None and value != "":
            cells.append(f"<{name}>{escape(str(value))}</{name}>")
    return f"<{rt.element}>{''.join(cells)}</{rt.element}>"


def _response(rt: RecordType, items: list[dict[str, Any]], next_token: str | None, d: Dialect) -> bytes:
    token = f"<{d.next_token}>{escape(next_token)}</{d.next_token}>" if next_token else ""
    records = "".join(_record_xml(rt, item) for item in items)
    if d.records_wrapper:
        records = f"<{d.records_wrapper}>{records}</{d.records_wrapper}>"
    return _envelope(f'<{rt.operation}Response xmlns="{NAMESPACE}">{records}{token}</{rt.operation}Response>')


def _with_doctype(doctype: str, rt: RecordType, name_value: str) -> bytes:
    record = f"<{rt.element}><{rt.key}>EVIL</{rt.key}><CHANGED_AT>2024-01-01T00:00:00+08:00</CHANGED_AT></{rt.element}>"
    record = record.replace("EVIL", name_value)
    body = _envelope(
        f'<{rt.operation}Response xmlns="{NAMESPACE}">{record}</{rt.operation}Response>'
    ).decode()
    declaration, rest = body.split("?>", 1)
    return f"{declaration}?>{doctype}{rest}".encode()


def _billion_laughs(rt: RecordType) -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    return _with_doctype(f"<!DOCTYPE soap:Envelope [{entities}]>", rt, "&lol9;")


def _xxe(rt: RecordType, target: str) -> bytes:
    return _with_doctype(f'<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file://{target}">]>', rt, "&xxe;")


def _handler_for(erp: ErpSoapServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as zeep's requests session expects

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read the server's counters instead

        def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/erp" or url.query.lower() != "wsdl":
                self._send(404, b"not found", "text/plain")
                return
            erp.wsdl_requests += 1
            location = erp.location_for(self.headers.get("Host"))
            self._send(200, wsdl(location, erp.record_types, erp.dialect).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if urlparse(self.path).path != "/erp":
                self._send(404, b"not found", "text/plain")
                return
            status, answer = erp.answer(body)
            self._send(
                status, answer, "text/html" if answer.startswith(b"<html") else "text/xml; charset=utf-8"
            )

    return Handler


def main() -> None:  # pragma: no cover - a manual tool
    """Serve generated sample data: ``python -m fakes.erp_soap --people 1000 --port 8081``."""
    from fakes.serving import world_parser
    from sample_data import generate

    parser = world_parser(__doc__, 8081)
    args = parser.parse_args()
    records: dict[str, list[dict[str, Any]]] = {stream: [] for stream in BY_STREAM}
    for record in generate(args.people, seed=args.seed):
        if record.source == "erp":
            records[record.stream].append(record.payload)
    server = ErpSoapServer(records=records)
    print(f"fake ERP WSDL at {server.start(host=args.host, port=args.port)}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
