"""A configurable fake REST partner over real HTTP, for the declarative ``http`` connector type.

One list of records served at one path, with the paging (``cursor``, ``offset``, ``page``, ``link``, ``none``),
the auth (``oauth2``, ``api_key_header``, ``api_key_query``, ``basic``, ``bearer``, ``none``) and the JSON layout
(``layout(items, meta)``) a test chooses, a change-time filter, and faults per request number: a status
(429 with ``Retry-After``, 500, 403, …) or an answer far over any sane size. Runs in a thread (``start()``).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from fakes.serving import serve_in_thread, stop_serving

Layout = Callable[[list[dict[str, Any]], dict[str, Any]], Any]


def nested_layout(items: list[dict[str, Any]], meta: dict[str, Any]) -> Any:
    """``{"data": {"items": […]}, "paging": {"next": …}, "total": n, "pages": n}``."""
    return {"data": {"items": items}, "paging": {"next": meta["cursor"]}, "total": meta["total"],
            "pages": meta["total_pages"]}  # fmt: skip


@dataclass
class RestPartner:
    records: list[dict[str, Any]] = field(default_factory=list)
    path: str = "/api/records"
    paging: str = "cursor"
    auth: str = "none"
    layout: Layout = nested_layout
    id_field: str = "id"
    change_field: str = "changed"  # top-level, ISO 8601 or epoch seconds: orders and filters
    since_param: str = "since"
    client_id: str = "autohub"
    secret: str = "partner-secret"  # noqa: S105 - a fake server's fixed credential
    token_ttl_s: float = 3600.0
    faults: dict[int, int] = field(default_factory=dict)  # data request number (1-based) → status
    retry_after_s: int = 1
    oversize_on: set[int] = field(default_factory=set)  # → an answer of oversize_bytes
    oversize_bytes: int = 4 * 1024 * 1024
    link_origin: str = ""  # a Link to this origin instead of a relative one
    requests: list[dict[str, str]] = field(default_factory=list)  # each data request's query
    tokens_issued: int = 0
    tokens: dict[str, float] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = serve_in_thread(_handler_for(self), host, port)
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        stop_serving(self._server)

    # --- behaviour --------------------------------------------------------------------------------------

    def authorised(self, headers: Any, query: dict[str, str]) -> bool:
        given = str(headers.get("Authorization", ""))
        if self.auth == "oauth2":
            expires = self.tokens.get(given.removeprefix("Bearer "))
            return given.startswith("Bearer ") and expires is not None and time.monotonic() < expires
        if self.auth == "bearer":
            return bool(given == f"Bearer {self.secret}")
        if self.auth == "basic":
            return bool(
                given == "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            )
        if self.auth == "api_key_header":
            return bool(headers.get("X-API-Key") == self.secret)
        if self.auth == "api_key_query":
            return query.get("apikey") == self.secret
        return True

    def issue_token(self, form: dict[str, str], headers: Any) -> dict[str, Any] | None:
        pair = (form.get("client_id"), form.get("client_secret"))
        if headers.get("Authorization", "").startswith("Basic "):
            pair = tuple(base64.b64decode(headers["Authorization"][6:]).decode().partition(":")[::2])  # type: ignore[assignment]
        if pair != (self.client_id, self.secret):
            return None
        token = secrets.token_urlsafe(16)
        self.tokens[token] = time.monotonic() + self.token_ttl_s
        self.tokens_issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl_s)}

    def _ordered(self, since: str | None) -> list[dict[str, Any]]:
        def moment(value: Any) -> float:
            if isinstance(value, int | float):
                return float(value)
            try:
                return datetime.fromisoformat(str(value)).timestamp()
            except ValueError:  # none, or one a test made unreadable on purpose: first
                return 0.0

        records = sorted(
            self.records, key=lambda r: (moment(r.get(self.change_field)), str(r.get(self.id_field)))
        )
        if since:
            low = float(since) if since.replace(".", "").isdigit() else moment(since)
            records = [r for r in records if moment(r.get(self.change_field)) >= low]
        return records

    def answer(self, query: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """The body and headers of one data request."""
        records = self._ordered(query.get(self.since_param))
        meta: dict[str, Any] = {"cursor": None, "total": len(records), "total_pages": 1}
        headers: dict[str, str] = {}
        if self.paging == "none":
            return self.layout(records, meta), headers
        size = int(query.get("limit") or query.get("per_page") or 100)
        if self.paging == "cursor":
            start = int(query.get("cursor", "0"))
        elif self.paging == "offset":
            start = int(query.get("offset", "0"))
        else:  # page, link: numbered from 1
            start = (int(query.get("page", "1")) - 1) * size
        items = records[start : start + size]
        more = start + size < len(records)
        meta["total_pages"] = max(1, -(-len(records) // size))
        if self.paging == "cursor" and more:
            meta["cursor"] = str(start + size)
        if self.paging == "link" and more:
            following = {**query, "page": str(start // size + 2), "limit": str(size)}
            headers["Link"] = f'<{self.link_origin}{self.path}?{urlencode(following)}>; rel="next"'
        return self.layout(items, meta), headers


def _handler_for(api: RestPartner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if not isinstance(
                body, bytes
            ):  # raw bytes: no length announced, read until the connection closes
                self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            form = {
                k: v[0]
                for k, v in parse_qs(
                    self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                ).items()
            }
            if urlparse(self.path).path != "/oauth/token" or form.get("grant_type") != "client_credentials":
                self._send(400, {"error": "unsupported_grant_type"})
                return
            token = api.issue_token(form, self.headers)
            self._send(200, token) if token else self._send(401, {"error": "invalid_client"})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != api.path:
                self._send(404, {"error": "not_found"})
                return
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            api.requests.append(query)
            n = len(api.requests)
            if not api.authorised(self.headers, query):
                self._send(401, {"error": "invalid_token"})
            elif n in api.faults:
                status = api.faults[n]
                extra = {"Retry-After": str(api.retry_after_s)} if status == 429 else {}
                self._send(
                    status, {"error": f"fault {status}", "message": "client may not read records"}, extra
                )
            elif n in api.oversize_on:
                self._send(200, b'{"data": {"items": [' + b" " * api.oversize_bytes + b"]}}")
            else:
                body, headers = api.answer(query)
                self._send(200, body, headers)

    return Handler
