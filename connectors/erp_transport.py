"""The ERP connector's way to the network: zeep's transport with a total deadline, a byte cap, an allow-list of
origins and a look at every answer before zeep parses it (see connectors/erp_soap.py's docstring for why)."""

from __future__ import annotations

import codecs
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from zeep import Plugin, Transport
from zeep.cache import SqliteCache

from connectors.erp_config import (
    MIB,
    ErpAnswerTooLarge,
    ErpBusy,
    ErpOperation,
    ErpRejected,
    ErpSoapConfig,
    UnsafeXml,
    origin_of,
    refused_logon,
    without_userinfo,
)
from connectors.origin import SourceOrigin
from connectors.sync_clock import current_clock, run_deadline_passed
from core.errors import SourceUnavailable

_CHUNK = 64 * 1024  # one socket read at most; the deadline and the cap are checked between reads
_MAX_REDIRECTS = 5


# --- where documents may come from ---------------------------------------------------------------------


def _local_path(url: str) -> Path | None:
    """The file a ``file://`` URL or a bare path names; None for anything else (http, https, other schemes)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path)) if parts.netloc in ("", "localhost") else None
    if parts.scheme == "" or (len(parts.scheme) == 1 and os.name == "nt"):  # a path; C:\ on Windows
        return Path(os.path.expanduser(url))
    return None


@dataclass(frozen=True)
class _Origins:
    """What the WSDL may load: its own origin and the configured ones; a local WSDL, its own folder (and below).

    Checked before anything is read, so a refused location gives the same answer whether it exists or not.
    """

    wsdl_url: str
    origins: frozenset[str]
    local_root: Path | None
    setting: str  # where more origins are allowed, as the user writes it

    @classmethod
    def of(cls, config: ErpSoapConfig, origin: SourceOrigin) -> _Origins:
        own = origin_of(config.wsdl_url)
        local = _local_path(config.wsdl_url) if own is None else None
        origins = frozenset({own} if own else set()) | frozenset(config.allowed_origins)
        return cls(config.wsdl_url, origins, local.resolve().parent if local else None,
                   origin.setting("allowed_origins"))  # fmt: skip

    def allows(self, url: str) -> bool:
        origin = origin_of(url)
        if origin is not None and origin in self.origins:
            return True
        local = _local_path(url)
        return (
            local is not None
            and self.local_root is not None
            and local.resolve().is_relative_to(self.local_root)
        )

    def check(self, url: str, how: str = "refers to") -> None:
        if self.allows(url):
            return
        allowed = sorted(self.origins) + ([f"{self.local_root}{os.sep}…"] if self.local_root else [])
        raise UnsafeXml(
            f"the ERP's WSDL at {without_userinfo(self.wsdl_url)} {how} {without_userinfo(url)}, outside what it "
            f"may load from "
            f"({', '.join(allowed) or 'nothing'}); refused without reading it",
            field=self.setting,
            fix="a WSDL may import schemas from its own origin only; if that host is the ERP's own, add its "
            f"origin (scheme://host:port) to {self.setting} — local files are never loaded",
        )


# --- the transport -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErpCall:
    stream: str
    op: ErpOperation


class GuardedTransport(Transport):
    """zeep's transport with a look at each answer before zeep parses it (see the module docstring).

    Every request is sent with ``stream=True`` and read one socket read at a time, so the total deadline and
    the byte cap are checked between reads and the connection is closed the moment either is passed — no
    thread, no signal, nothing buffered beyond the cap.
    """

    def __init__(self, config: ErpSoapConfig, cache: SqliteCache | None, origin: SourceOrigin):
        super().__init__(
            cache=cache, timeout=config.wsdl_timeout_s, operation_timeout=config.operation_timeout_s
        )
        self.config = config
        self.origin = origin  # the source, and where its settings were written: named in every error
        self.origins = _Origins.of(config, origin)
        self.calling: ErpCall | None = None  # the call under way, set by the connector: named in messages
        self.wsdl_deadline_at: float | None = None  # monotonic end of the WSDL load under way
        self.session.auth = None  # credentials go per request, to the origins that may have them (_auth_for)
        self.credentials = (config.username, config.secret_password(origin)) if config.username else None
        own = origin_of(config.wsdl_url)
        self.credential_origins: set[str] = {own} if own else set()

    def trust_endpoint(self, address: str) -> None:
        """The service's address (from the loaded WSDL) may have the credentials too; an imported schema's
        host (``allowed_origins``) never: it is trusted with our reads, not with the ERP user's password."""
        origin = origin_of(address)
        if origin:
            self.credential_origins.add(origin)

    def _auth_for(self, url: str) -> tuple[str, str] | None:
        return self.credentials if origin_of(url) in self.credential_origins else None

    # zeep's entry points: post/get for operations, load (→ _load_remote_data) for every WSDL/XSD document

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response = self._operation("POST", address, data=message, headers=headers)
        content_type = response.headers.get("Content-Type", "")
        # before the DOCTYPE check: a proxy's error page starts with <!DOCTYPE html> and is passing, not unsafe
        if response.status_code >= 400 and "html" in content_type:
            raise_http(response.status_code, address, "an HTML error page instead of a SOAP fault")
        refuse_unsafe(response.content, address)
        return response

    def get(self, address: str, params: dict[str, Any], headers: dict[str, str]) -> requests.Response:
        response = self._operation("GET", address, params=params, headers=headers)
        refuse_unsafe(response.content, address)
        return response

    def load(self, url: str) -> bytes:
        # before the cache, too: a cached document is no more allowed than a fresh one
        self.origins.check(url)
        content: bytes = super().load(url)
        refuse_unsafe(content, url)
        return content

    def _load_remote_data(self, url: str) -> bytes:
        deadline_s = self.config.wsdl_deadline_s
        deadline_at = self.wsdl_deadline_at or time.monotonic() + deadline_s
        response = self._fetch("GET", url, what="loading the ERP's WSDL", deadline_at=deadline_at,
                               deadline_s=deadline_s, deadline_field=self.origin.setting("wsdl_deadline_s"),
                               read_timeout=self.config.wsdl_timeout_s)  # fmt: skip
        response.raise_for_status()
        return response.content

    # --- the guarded read -------------------------------------------------------------------------------

    def _operation(self, method: str, address: str, **kwargs: Any) -> requests.Response:
        what = f"ERP call {self.calling.op.operation}" if self.calling else "ERP call"
        deadline_s = self.config.operation_deadline_s
        return self._fetch(method, address, what=what, deadline_at=time.monotonic() + deadline_s,
                           deadline_s=deadline_s, deadline_field=self.origin.setting("operation_deadline_s"),
                           read_timeout=self.config.operation_timeout_s, **kwargs)  # fmt: skip

    def _fetch(self, method: str, url: str, *, what: str, deadline_at: float, deadline_s: float,
               deadline_field: str, read_timeout: float, **kwargs: Any) -> requests.Response:  # fmt: skip
        """The response with its body read within ``deadline_at`` and the byte cap, or a hub error.

        ``deadline_at`` is cut to the sync run's own end first: the WSDL load and every call wait at most what
        is left of the run. The clock is read here, in the thread that waits (zeep calls in its caller's).
        """
        clock = current_clock()
        # bound() before the time is read: a deadline the run set is never before the run's end, so the clock
        # says it is spent once the call passes it
        left = clock.bound(deadline_at - time.monotonic())
        deadline_at = time.monotonic() + left

        def past_deadline() -> SourceUnavailable:
            if clock.remaining_s() == 0.0:  # the run's deadline was the nearer: the run ends, no retry
                return run_deadline_passed(
                    self.origin.source, f"{what} at {without_userinfo(url)} was cut off at the sync run's total "
                    f"deadline of {clock.deadline_s:g} s",
                )  # fmt: skip
            return SourceUnavailable(
                f"{what} took longer than its {deadline_s:g} s deadline at {without_userinfo(url)}",
                field=deadline_field,
                fix="the ERP (or a proxy before it) answers too slowly; retried, bounded — raise the deadline "
                "only if a page this slow is normal, or lower the stream's page_size",
            )

        if urlsplit(url).scheme.lower() not in ("http", "https"):  # a file:// endpoint named in the WSDL
            self.origins.check(url, "sends a request to")
        for _ in range(_MAX_REDIRECTS + 1):
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise past_deadline()
            timeout = min(read_timeout, remaining)
            try:
                response: requests.Response = self.session.request(
                    method, url, stream=True, timeout=(timeout, timeout), allow_redirects=False,
                    auth=self._auth_for(url), **kwargs,
                )  # fmt: skip
            except requests.Timeout as exc:
                if timeout < read_timeout:  # the deadline was the nearer limit
                    raise past_deadline() from exc
                raise
            if response.status_code in (401, 403):  # before any retry can see it: SAP locks a user after 5
                response.close()
                raise refused_logon(origin_of(url) or without_userinfo(url), f"HTTP {response.status_code}",
                                    self.config, self.origin)  # fmt: skip
            if not response.is_redirect:
                break
            target = urljoin(url, response.headers["Location"])
            response.close()
            if method != "GET":
                raise ErpRejected(
                    f"{what} was redirected (HTTP {response.status_code}) from {url} to {target}; not followed",
                    fix=f"a SOAP request is not re-sent elsewhere: point {self.origin.setting('wsdl_url')} at a WSDL "
                    "whose endpoint is the final address (often https)",
                )
            # followed by hand: requests would follow anywhere, to file:// through zeep's adapter too
            if origin_of(target) is None or origin_of(target) != origin_of(url):
                self.origins.check(target, f"redirects (from {url}) to")
            url = target
        else:
            raise ErpRejected(f"{what} was redirected more than {_MAX_REDIRECTS} times, last to {url}")
        try:
            response._content = self._read_body(response, what, url, deadline_at, read_timeout)
            response._content_consumed = True  # requests' own flag: .content is now the body read
        except _DeadlinePassed as exc:
            response.close()
            raise past_deadline() from exc
        except urllib3.exceptions.ReadTimeoutError as exc:
            response.close()
            raise requests.ReadTimeout(f"{what}: read timed out at {url}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            raise requests.ConnectionError(f"{what}: the answer broke off at {url}: {exc}") from exc
        except BaseException:
            response.close()  # closes the socket: the rest of the answer is never read
            raise
        response.close()  # read to the end: hands the connection back to the pool
        return response

    def _read_body(self, response: requests.Response, what: str, url: str, deadline_at: float,
                   read_timeout: float) -> bytes:  # fmt: skip
        cap = self.config.max_answer_bytes

        def too_large(how: str) -> ErpAnswerTooLarge:
            return ErpAnswerTooLarge(
                f"{what} answered more than {_size(cap)} at {url} ({how}, the rest unread)",
                field=self.origin.setting("max_answer_bytes"),
                fix="lower the stream's page_size; raise the cap only if answers this large are expected; "
                "not retried",
            )

        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > cap:
            raise too_large(f"its Content-Length announced {_size(int(announced))}")
        raw = response.raw
        from_network = isinstance(raw, urllib3.response.BaseHTTPResponse)  # else a file:// document
        sock = getattr(getattr(raw, "connection", None), "sock", None) if from_network else None
        body = bytearray()
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise _DeadlinePassed
            wait = min(read_timeout, remaining)
            if sock is not None:  # one read waits at most what is left of the deadline
                sock.settimeout(wait)
            try:
                chunk: bytes = raw.read1(_CHUNK, decode_content=True) if from_network else raw.read1(_CHUNK)
            except urllib3.exceptions.ReadTimeoutError:
                if wait < read_timeout:  # the deadline was the nearer limit
                    raise _DeadlinePassed from None
                raise
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > cap:
                raise too_large(f"refused after {_size(len(body))}")


class _DeadlinePassed(Exception):
    """Raised inside the read loop; _fetch turns it into the SourceUnavailable that names the call."""


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


class PageGuard(Plugin):
    """Counts a page's records in the parsed envelope, before zeep builds an object for each of them."""

    def __init__(self, transport: GuardedTransport):
        self.transport = transport

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        call = self.transport.calling
        if call is not None and call.op.records_field:
            found = _count_records(envelope, call.op.records_field.rsplit(".", 1)[-1])
            check_page(call, found, self.transport.origin)
        return envelope, http_headers


def _count_records(envelope: Any, name: str) -> int:
    """The elements called ``name`` on the shallowest level of the Body that has any.

    By level, not by the dotted path: zeep unwraps a response element with one child, so the path in the
    answer and the path in zeep's object can differ by a level; a field of a record with the same name as
    the record sits deeper and is not counted.
    """
    level = [node for node in envelope if _localname(node) == "Body"]
    while level:
        hits = sum(1 for node in level if _localname(node) == name)
        if hits:
            return hits
        level = [child for node in level for child in node]
    return 0


def _localname(node: Any) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""  # comments and PIs have no name


def check_page(call: ErpCall, count: int, origin: SourceOrigin) -> None:
    op = call.op
    if count > op.record_limit:
        raise ErpAnswerTooLarge(
            f"ERP answer to {op.operation} holds {count} records where {op.page_size} were asked "
            f"(at most {op.record_limit} accepted); refused, nothing of it stored",
            field=origin.setting(f"streams.{call.stream}.max_page_records"),
            fix="the ERP ignores the page size (check page_size_param); raise max_page_records only if it always "
            "sends this much; not retried",
        )


# --- what is refused in an answer ------------------------------------------------------------------------

_SPACE = re.compile(rb"[ \t\r\n]*")
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
              (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
_WIDE_STARTS = ((b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"),
                (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"))  # fmt: skip


def _prolog_declaration(content: bytes) -> bytes | None:
    """The first ``<!DOCTYPE``/``<!ENTITY``/… before the root element, wherever in the prolog it hides.

    Only the prolog can declare anything: after the root element starts, a raw ``<!DOCTYPE`` is either inside
    a CDATA section or a comment (data, harmless) or a syntax error the parser refuses — so record text that
    mentions ``<!DOCTYPE html>`` is not refused, and 8 kB of comments before a DOCTYPE do not hide it.
    """
    for marks, encoding in (*_WIDE_BOMS, *_WIDE_STARTS):  # UTF-16/32: scan it as UTF-8
        if content.startswith(marks):
            content = content.decode(encoding, "replace").lstrip("\ufeff").encode()
            break
    i = len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0
    while True:
        i = _SPACE.match(content, i).end()  # type: ignore[union-attr]  # matches the empty string
        if content.startswith(b"<!--", i):
            end = content.find(b"-->", i + 4)
        elif content.startswith(b"<?", i):
            end = content.find(b"?>", i + 2)
        elif content.startswith(b"<!", i):
            return content[i : i + 60]
        else:
            return None  # the root element, or no XML at all (the parser says so)
        if end < 0:
            return None
        i = end + 3 if content.startswith(b"<!--", i) else end + 2


def refuse_unsafe(content: bytes, where: str) -> None:
    declaration = _prolog_declaration(content)
    if declaration is not None:
        shown = declaration.decode("ascii", "replace").split("[", 1)[0].strip()
        raise UnsafeXml(
            f"the answer from {where} carries a DOCTYPE/ENTITY declaration ({shown}…: billion laughs or XXE "
            "shape); refused",
            fix="check that the URL points at the real ERP and not at a proxy or an attacker; not retried",
        )


_LIMIT = re.compile(r"XML_PARSE_HUGE|Resource limit exceeded|huge text node|Excessive depth", re.IGNORECASE)


def parser_limit(exc: Exception, where: str) -> UnsafeXml | None:
    """lxml's safety limits (text node over 10 MB, nesting over 256) as a refusal, not a broken envelope.

    zeep reports them as an XML syntax error — for an operation wrapped in a TransportError whose message
    holds the whole answer — so only the parser's own reason is kept.
    """
    text = str(getattr(exc, "message", "") or exc)[:600].split("\nContent:", 1)[0]
    found = _LIMIT.search(text)
    if found is None:
        return None
    reason = text[text.rfind("(", 0, found.start()) + 1 :].split(")", 1)[0][:160]
    return UnsafeXml(
        f"the answer from {where} is beyond the XML parser's safety limits ({reason}); refused",
        fix="a text node over 10 MB or nesting deeper than 256 levels is not parsed (xml_huge_tree is off on "
        "purpose); ask the ERP team which record carries it; not retried",
    )


def raise_http(status: int, where: str, what: str) -> None:
    if status >= 500 or status == 429:
        raise ErpBusy(f"ERP answered HTTP {status} on {where} with {what}")
    raise ErpRejected(f"ERP answered HTTP {status} on {where} with {what}",
                      fix="check the URL and the technical user's rights; not retried")  # fmt: skip
