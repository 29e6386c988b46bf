"""A fake insurance partner API: OAuth2 client credentials and paged policies, over real HTTP.

Faults are switched on per test through ``Faults``: a token that expires after N seconds, HTTP 429 with
``Retry-After`` on chosen requests, HTTP 500 on chosen requests, a slow response, and a 403 for a client
that is not allowed. Runs in a thread (``InsuranceApi.start()``) or from the command line.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from fakes.paging import KeysetPager
from fakes.serving import serve_in_thread, stop_serving


@dataclass
class Faults:
    token_ttl_s: float = 3600.0
    rate_limit_on: set[int] = field(default_factory=set)  # request numbers (1-based, policies only) → 429
    retry_after_s: int = 1
    error_on: set[int] = field(default_factory=set)  # → 500
    slow_on: set[int] = field(default_factory=set)  # → sleep slow_s before answering
    slow_s: float = 2.0
    forbidden: bool = False  # → 403 on every policy request


@dataclass
class InsuranceApi:
    """The server's state: clients, tokens, policies, faults and what it saw (for assertions)."""

    policies: list[dict[str, Any]] = field(default_factory=list)
    client_id: str = "autohub"
    client_secret: str = "demo-secret"  # noqa: S105 - a fake server's fixed demo credential
    faults: Faults = field(default_factory=Faults)
    tokens_issued: int = 0
    policy_requests: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _pager: KeysetPager = field(
        default_factory=lambda: KeysetPager(
            lambda p: (str(p.get("updatedAt", "")), str(p.get("policyNo", "")))
        )
    )

    # --- behaviour --------------------------------------------------------------------------------------

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any] | None:
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return None
        token = secrets.token_urlsafe(16)
        self._tokens[token] = time.monotonic() + self.faults.token_ttl_s
        self.tokens_issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.faults.token_ttl_s)}

    def token_valid(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        expires = self._tokens.get(header.removeprefix("Bearer "))
        return expires is not None and time.monotonic() < expires

    def page(self, updated_since: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        """Policies ordered by (updatedAt, policyNo); the cursor is the last key of the previous page."""
        items, next_cursor = self._pager.page(self.policies, updated_since, cursor, limit)
        return {"items": items, "next_cursor": next_cursor}

    # --- serving ----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL (port 0 picks a free one)."""
        self._server = serve_in_thread(_handler_for(self), host, port)
        return f"http://{host}:{self._server.server_address[1]}"

    def stop(self) -> None:
        stop_serving(self._server)


def _handler_for(api: InsuranceApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read the API's counters instead

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if urlparse(self.path).path != "/oauth/token":
                self._send(404, {"error": "not_found"})
                return
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            client_id, secret = "", ""
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if form.get("grant_type") != ["client_credentials"]:
                self._send(400, {"error": "unsupported_grant_type"})
                return
            token = api.issue_token(client_id, secret)
            self._send(200, token) if token else self._send(401, {"error": "invalid_client"})

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/v1/policies":
                self._send(404, {"error": "not_found"})
                return
            api.policy_requests += 1
            n, faults = api.policy_requests, api.faults
            if n in faults.slow_on:
                time.sleep(faults.slow_s)
            if not api.token_valid(self.headers.get("Authorization")):
                self._send(
                    401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
            elif faults.forbidden:
                self._send(403, {"error": "forbidden", "detail": "client may not read policies"})
            elif n in faults.rate_limit_on:
                self._send(429, {"error": "rate_limited"}, {"Retry-After": str(faults.retry_after_s)})
            elif n in faults.error_on:
                self._send(500, {"error": "internal"})
            else:
                query = parse_qs(url.query)
                self._send(200, api.page(query.get("updated_since", [None])[0], query.get("cursor", [None])[0],
                                         int(query.get("limit", ["100"])[0])))  # fmt: skip

    return Handler


def main() -> None:  # pragma: no cover - a manual tool and the compose `demo` profile's partner
    """Serve generated sample data: ``python -m fakes.insurance_api --people 1000 --port 8082``.

    It accepts one OAuth2 client. By default that is the client the hub is configured with
    (``AUTOHUB_INSURANCE__CLIENT_ID`` / ``AUTOHUB_INSURANCE__CLIENT_SECRET``), so a container given the hub's
    env file agrees with the hub without the secret being written twice; without them, the fake's demo pair.
    """
    import os

    from fakes.serving import world_parser
    from sample_data import generate

    demo = InsuranceApi()
    parser = world_parser(__doc__, 8082)
    parser.add_argument(
        "--client-id", default=os.environ.get("AUTOHUB_INSURANCE__CLIENT_ID") or demo.client_id
    )
    parser.add_argument(
        "--client-secret", default=os.environ.get("AUTOHUB_INSURANCE__CLIENT_SECRET") or demo.client_secret
    )
    args = parser.parse_args()
    policies = [
        record.payload
        for record in generate(args.people, seed=args.seed)
        if (record.source, record.stream) == ("insurance", "policies")
    ]
    api = InsuranceApi(policies=policies, client_id=args.client_id, client_secret=args.client_secret)
    base_url = api.start(host=args.host, port=args.port)
    # A secret the operator chose stays out of the log; the built-in demo one is no secret.
    shown = args.client_secret if args.client_secret == demo.client_secret else "(the one configured)"
    print(
        f"fake insurer at {base_url}: {len(policies):,} policies, token at {base_url}/oauth/token, "
        f"client id {args.client_id!r}, client secret {shown}",
        flush=True,
    )
    threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    main()
