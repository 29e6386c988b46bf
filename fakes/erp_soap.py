"""A fake ERP SOAP server over real HTTP: a WSDL at ``/erp?wsdl`` and paged operations at ``/erp``.

It answers the way an ERP does, and misbehaves the way ERPs and the proxies in front of them do when a test
asks: latency on every call, HTTP 500 with an HTML page, a SOAP Server or Client fault, a truncated
envelope, and hostile XML (a billion-laughs entity bomb, an XXE entity reading a local file) — the last two
to prove the hub's SOAP client refuses them. The hostile-server faults (tests/faults/test_hostile_soap.py):
an answer that trickles a byte at a time, one far over any sane size, a page with far more records than
asked, a DOCTYPE hidden behind 8 kB of comments, a text node over lxml's 10 MB limit — and a WSDL that
trickles, or imports schemas from the local disk or another host. Runs in a thread
(``ErpSoapServer.start()``) or from the command line (``python -m fakes.erp_soap``).
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
from fakes.serving import serve_in_thread, stop_serving

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FAULT_KINDS = frozenset(
    {"http_500", "server_fault", "client_fault", "malformed", "billion_laughs", "xxe", "slow",
     "trickle", "huge", "overfull", "bomb_late", "huge_text", "cdata_doctype", "html_doctype"}
)  # fmt: skip
WSDL_FAULT_KINDS = frozenset({"trickle", "bomb_late", "huge"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


@dataclass
class ErpFaults:
    latency_s: float = 0.0  # added to every operation call
    plan: dict[int, str] = field(default_factory=dict)  # operation call number (1-based) → one of FAULT_KINDS
    slow_s: float = 3.0  # how long a "slow" call hangs
    xxe_target: str = "/etc/hostname"  # the file an XXE response tries to read
    trickle_s: float = 0.5  # "trickle": headers at once, then one byte of the body every trickle_s
    huge_bytes: int = 30_000_000  # "huge": an answer of this many bytes of tiny records
    huge_chunked: bool = True  # "huge" without a Content-Length (chunked), as a streaming ERP sends it
    overfull_records: int = 1000  # "overfull": a page of this many records, whatever page size was asked
    wsdl: str | None = None  # one of WSDL_FAULT_KINDS, applied to every WSDL request
    schema_imports: tuple[str, ...] = ()  # schemaLocations the WSDL's schema imports (file://…, another host)
    wsdl_imports: tuple[str, ...] = ()  # locations of wsdl:import elements

    def __post_init__(self) -> None:
        unknown = set(self.plan.values()) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown ERP fault(s) {sorted(unknown)}; choose from {sorted(FAULT_KINDS)}")
        if self.wsdl is not None and self.wsdl not in WSDL_FAULT_KINDS:
            raise ValueError(f"unknown WSDL fault {self.wsdl!r}; choose from {sorted(WSDL_FAULT_KINDS)}")


@dataclass
class Reply:
    """One HTTP answer as the handler writes it: at once, chunked, or a byte every ``pace_s``."""

    status: int
    body: bytes
    content_type: str = "text/xml; charset=utf-8"
    chunked: bool = False  # no Content-Length: Transfer-Encoding chunked
    pace_s: float = 0.0  # > 0: one byte at a time, this far apart
    call: int = 0  # the operation call number it answers (0: not an operation)


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
    documents: dict[str, bytes] = field(default_factory=dict)  # served at GET /erp/<name> (imported schemas)
    redirects: dict[str, str] = field(default_factory=dict)  # GET /erp/<name> → 302 to this Location
    calls: int = 0
    wsdl_requests: int = 0
    document_requests: int = 0
    sent: dict[int, int] = field(default_factory=dict)  # operation call number → body bytes the client took
    wsdl_sent: list[int] = field(default_factory=list)  # body bytes of each WSDL answer the client took
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
        reply = self.reply(body)
        return reply.status, reply.body

    def reply(self, body: bytes) -> Reply:
        """The answer to one SOAP request as the handler sends it (paced, chunked), faults applied in call order."""
        with self._lock:
            self.calls += 1
            call = self.calls
        reply = self._reply(self.faults.plan.get(call), body)
        reply.call = call
        return reply

    def _reply(self, fault: str | None, body: bytes) -> Reply:
        if self.faults.latency_s:
            time.sleep(self.faults.latency_s)
        if fault == "slow":
            time.sleep(self.faults.slow_s)
        if fault == "http_500":
            return Reply(500, b"<html><body><h1>500 Internal Server Error</h1>upstream ERP node down</body></html>",
                         "text/html")  # fmt: skip
        if fault == "html_doctype":  # a proxy's error page, as most are: with a DOCTYPE
            return Reply(
                502, b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
            )
        if fault == "server_fault":
            return Reply(500, _fault("soap:Server", "ERP work process busy, try again later"))
        if fault == "client_fault":
            return Reply(
                500, _fault("soap:Client", "user AUTOHUB has no authorisation for object S_TABU_DIS")
            )
        try:
            operation, params = _parse_request(body)
        except ValueError as exc:
            return Reply(500, _fault("soap:Client", str(exc)))
        rt = next((t for t in self.record_types if t.operation == operation), None)
        if rt is None:
            return Reply(500, _fault("soap:Client", f"unknown operation {operation}"))
        d = self.dialect
        try:
            items, next_token = self.page(rt, params.get(d.changed_since), params.get(d.page_token),
                                          int(params.get(d.page_size) or 100))  # fmt: skip
        except ValueError as exc:
            return Reply(500, _fault("soap:Client", str(exc)))
        envelope = _response(rt, items, next_token, d)
        if fault == "malformed":
            return Reply(200, envelope[: len(envelope) // 2])
        if fault == "billion_laughs":
            return Reply(200, _billion_laughs(rt))
        if fault == "xxe":
            return Reply(200, _xxe(rt, self.faults.xxe_target))
        if fault == "trickle":
            return Reply(200, envelope, pace_s=self.faults.trickle_s)
        if fault == "huge":
            return Reply(200, _huge(rt, d, self.faults.huge_bytes), chunked=self.faults.huge_chunked)
        if fault == "overfull":
            many = [{rt.key: f"X{n:08d}", "CHANGED_AT": "2024-01-01T00:00:00+08:00"}
                    for n in range(self.faults.overfull_records)]  # fmt: skip
            return Reply(200, _response(rt, many, None, d))
        if fault == "bomb_late":
            return Reply(200, _late_doctype(_billion_laughs(rt)))
        if fault == "huge_text":
            return Reply(200, _huge_text(rt, d))
        if fault == "cdata_doctype":  # legitimate: record text that mentions a DOCTYPE, in CDATA and escaped
            return Reply(200, _cdata_doctype(rt, items, next_token, d))
        return Reply(200, envelope)

    def wsdl_reply(self, host_header: str | None) -> Reply:
        with self._lock:
            self.wsdl_requests += 1
        text = wsdl(self.location_for(host_header), self.record_types, self.dialect)
        text = _with_imports(text, self.faults.schema_imports, self.faults.wsdl_imports)
        body = text.encode()
        kind = self.faults.wsdl
        if kind == "trickle":
            return Reply(200, body, pace_s=self.faults.trickle_s)
        if kind == "bomb_late":
            return Reply(200, _late_doctype(body.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "a">]>', 1)))
        if kind == "huge":
            padding = b"<!-- " + b"x" * self.faults.huge_bytes + b" -->"
            return Reply(200, body.replace(b"?>", b"?>" + padding, 1), chunked=self.faults.huge_chunked)
        return Reply(200, body)

    # --- serving ----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the WSDL URL (port 0 picks a free one)."""
        self._server = serve_in_thread(_handler_for(self), host, port)
        return self.wsdl_url

    def stop(self) -> None:
        stop_serving(self._server)


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


def _late_doctype(document: bytes) -> bytes:
    """The DOCTYPE moved behind 8 kB of comments and whitespace: still in the prolog, where it takes effect."""
    declaration, rest = document.split(b"?>", 1)
    padding = b"\n".join(b"<!-- " + b"padding " * 12 + b"-->" for _ in range(80)) + b" " * 1024
    return declaration + b"?>" + padding + rest


def _huge(rt: RecordType, d: Dialect, size: int) -> bytes:
    """A valid answer of ``size`` bytes or more in tiny records: what made the hub take in 5.7 GB."""
    one = f"<{rt.element}><{rt.key}>X</{rt.key}></{rt.element}>".encode()
    before, after = _response(rt, [{rt.key: "X"}], None, d).split(one)
    return before + one * (size // len(one) + 1) + after


def _huge_text(rt: RecordType, d: Dialect) -> bytes:
    """One record whose name is 11 MB: over libxml2's 10 MB text node limit (``huge_tree`` off)."""
    return _response(rt, [{rt.key: "C1", "NAME1": "x" * 11_000_000, "CHANGED_AT": "2024-01-01T00:00:00+08:00"}],
                     None, d)  # fmt: skip


def _cdata_doctype(rt: RecordType, items: list[dict[str, Any]], next_token: str | None, d: Dialect) -> bytes:
    envelope = _response(rt, items, next_token, d).decode()
    first = f"<{rt.element}>"
    note = (
        f"<{rt.key}>DOCTYPE-NOTE</{rt.key}><NAME1><![CDATA[<!DOCTYPE html><p>]]> &lt;!DOCTYPE x&gt;</NAME1>"
    )
    return envelope.replace(first, f"{first}{note}</{rt.element}>{first}", 1).encode()


def _with_imports(text: str, schema_imports: tuple[str, ...], wsdl_imports: tuple[str, ...]) -> str:
    """The WSDL with hostile imports: a schema import from the local disk or another host, a wsdl:import."""
    schema = "".join(f'<xs:import namespace="urn:imported:{n}" schemaLocation="{escape(loc)}"/>'
                     for n, loc in enumerate(schema_imports))  # fmt: skip
    text = text.replace('elementFormDefault="qualified">', f'elementFormDefault="qualified">{schema}', 1)
    imports = "".join(f'<wsdl:import namespace="urn:imported:wsdl:{n}" location="{escape(loc)}"/>'
                      for n, loc in enumerate(wsdl_imports))  # fmt: skip
    return text.replace("<wsdl:types>", f"{imports}<wsdl:types>", 1)


def _handler_for(erp: ErpSoapServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as zeep's requests session expects

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read the server's counters instead

        def _send(self, status: int, body: bytes, content_type: str = "text/xml; charset=utf-8") -> None:
            self._write(Reply(status, body, content_type))

        def _write(self, reply: Reply) -> int:
            """Send ``reply``; returns the body bytes the client took before it hung up (or all of them)."""
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            step = 1 if reply.pace_s else 64 * 1024
            sent = 0
            try:
                for start in range(0, len(reply.body), step):
                    piece = reply.body[start : start + step]
                    if reply.chunked:
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    else:
                        self.wfile.write(piece)
                    sent += len(piece)
                    if reply.pace_s:
                        self.wfile.flush()
                        time.sleep(reply.pace_s)
                if reply.chunked:
                    self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the client closed the connection: what it refused, it did not read
                self.close_connection = True
            return sent

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path.startswith("/erp/") and url.path[5:] in erp.redirects:
                self.send_response(302)
                self.send_header("Location", erp.redirects[url.path[5:]])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if url.path.startswith("/erp/") and url.path[5:] in erp.documents:
                with erp._lock:
                    erp.document_requests += 1
                self._send(200, erp.documents[url.path[5:]])
                return
            if url.path != "/erp" or url.query.lower() != "wsdl":
                self._send(404, b"not found", "text/plain")
                return
            sent = self._write(erp.wsdl_reply(self.headers.get("Host")))
            with erp._lock:
                erp.wsdl_sent.append(sent)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if urlparse(self.path).path != "/erp":
                self._send(404, b"not found", "text/plain")
                return
            reply = erp.reply(body)
            sent = self._write(reply)
            with erp._lock:
                erp.sent[reply.call] = sent

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
