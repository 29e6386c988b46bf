"""The ``http`` type's way to the network (httpx): auth, a total deadline and a byte cap per request, and the
house's failure rules.

What a status means decides what happens: 401 with OAuth2 → one fresh token and the request again, a second
401 (or any 401/403 with a static credential, or a 403 at all) is ``AuthRefused`` and never retried — a partner
may lock a client after a few failed logons; 429 → wait its ``Retry-After``; 5xx, timeouts and a cut
connection → retried with bounded backoff (``retry.py``); a redirect or any other 4xx → ``SourceRejected`` with
the status and the partner's message. A read timeout bounds the gap between two bytes only, so each answer
is read as a stream with a clock and a byte count, and cut off past ``deadline_s`` or ``max_answer_bytes``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.errors import AnswerTooLarge, AuthRefused, RateLimited, SourceRejected
from connectors.rest_config import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    HttpSourceConfig,
    OAuth2ClientCredentials,
)
from connectors.retry import call_with_retry, retrying
from connectors.sync_clock import SyncClock, current_clock, run_deadline_passed
from core.errors import ConfigError, SourceUnavailable


@dataclass(frozen=True)
class Answer:
    body: Any  # the parsed JSON
    headers: httpx.Headers
    url: httpx.URL  # where it came from: a relative Link resolves against it


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return 1.0


class RestTransport:
    def __init__(self, config: HttpSourceConfig, source: str, *, client: httpx.Client | None = None):
        self.config = config
        self.source = source
        self._client = client or httpx.Client(
            base_url=config.base_url, headers=config.headers, follow_redirects=False
        )
        self._policy = retrying(
            config.attempts, config.max_wait_s, initial_wait_s=config.initial_wait_s, source=source
        )
        self._token: str | None = None
        self._token_expires = 0.0

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, params: dict[str, Any]) -> Answer:
        """One page's answer, retried as its failures deserve."""
        return call_with_retry(self._policy, self._get_once, url, params)

    # --- auth ------------------------------------------------------------------------------------------

    def _credentials(self, renew: bool) -> tuple[dict[str, str], dict[str, str]]:
        """Headers and query parameters that carry the credential."""
        auth = self.config.auth
        if isinstance(auth, OAuth2ClientCredentials):
            return {"Authorization": f"Bearer {self._access_token(auth, renew)}"}, {}
        if isinstance(auth, BearerAuth):
            return {"Authorization": f"Bearer {auth.token.get_secret_value()}"}, {}
        if isinstance(auth, BasicAuth):
            pair = f"{auth.username}:{auth.password.get_secret_value()}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}, {}
        if isinstance(auth, ApiKeyAuth):
            key = auth.api_key.get_secret_value()
            return ({auth.name: key}, {}) if auth.location == "header" else ({}, {auth.name: key})
        return {}, {}

    def _access_token(self, auth: OAuth2ClientCredentials, renew: bool) -> str:
        if not renew and self._token is not None and time.monotonic() < self._token_expires:
            return self._token
        form = {"grant_type": "client_credentials", **({"scope": auth.scope} if auth.scope else {})}
        secret = auth.client_secret.get_secret_value()
        basic: tuple[str, str] | None = (auth.client_id, secret)
        if auth.credentials_in == "body":
            form |= {"client_id": auth.client_id, "client_secret": secret}
            basic = None
        response, content = self._send("POST", auth.token_url, data=form, auth=basic)
        if response.status_code in (400, 401, 403):
            raise ConfigError(f"{self.source} API refused our client credentials at its token endpoint "
                              f"({response.status_code}): {_message(content)}", field="auth.client_id / auth.client_secret",
                              fix="check the client id and secret (and scope) with the partner; not retried")  # fmt: skip
        self._raise_for_status(response, content)
        body = _json(content)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise SourceRejected(f"{self.source}: the token endpoint answered no access_token",
                                 fix="check auth.token_url: it must be the OAuth2 token endpoint")  # fmt: skip
        self._token = str(body["access_token"])
        # Renew a little early so a token never expires between our check and the partner's.
        lifetime = body.get("expires_in", 300)
        lifetime = float(lifetime) if isinstance(lifetime, int | float | str) and _number(lifetime) else 300.0
        self._token_expires = time.monotonic() + max(lifetime - 30, 1)
        return self._token

    # --- requests --------------------------------------------------------------------------------------

    def _get_once(self, url: str, params: dict[str, Any]) -> Answer:
        renewable = isinstance(self.config.auth, OAuth2ClientCredentials)
        for renew in (False, True):
            headers, query = self._credentials(renew)
            # None, not {}: httpx replaces a followed link's own query string with an empty params dict.
            response, content = self._send("GET", url, params={**params, **query} or None, headers=headers)
            if response.status_code == 401 and renewable and not renew:
                continue  # expired or revoked early: one fresh token, then as usual
            if response.status_code in (401, 403):
                fresh = " with a fresh token" if renewable else ""
                raise AuthRefused(f"{self.source}: {response.status_code} on {response.request.url.path}{fresh}: "
                                  f"{_message(content)}", field="auth",
                                  fix="check the credential and its rights with the partner; never retried")  # fmt: skip
            self._raise_for_status(response, content)
            return Answer(_json(content, self.source, response), response.headers, response.request.url)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, bytes]:
        """The response with its body, read within the deadline and the byte cap.

        The deadline is the request's own or what is left of the sync run, the nearer; the clock is read here,
        in the thread that waits. The run's end is met within one socket read (``timeout_s`` at most, and
        never more than the run has left when the request starts).
        """
        config = self.config
        path = httpx.URL(url).path or url
        clock = current_clock()
        budget = clock.bound(config.deadline_s)
        deadline_at = time.monotonic() + budget  # after bound(): past it, the clock says the run is spent too
        if budget <= 0:
            raise self._too_slow(path, clock)
        timeout = httpx.Timeout(min(config.timeout_s, budget))
        try:
            with self._client.stream(method, url, timeout=timeout, **kwargs) as response:
                announced = response.headers.get("Content-Length", "")
                if announced.isdigit() and int(announced) > config.max_answer_bytes:
                    raise self._too_large(path, f"its Content-Length announced {int(announced):,} bytes")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():  # decoded: a gzip bomb is counted as what it becomes
                    size += len(chunk)
                    if size > config.max_answer_bytes:
                        raise self._too_large(path, f"it passed {config.max_answer_bytes:,} bytes")
                    if time.monotonic() > deadline_at:
                        raise self._too_slow(path, clock)
                    chunks.append(chunk)
                return response, b"".join(chunks)
        except httpx.TimeoutException as exc:
            if time.monotonic() > deadline_at:
                raise self._too_slow(path, clock) from exc
            raise SourceUnavailable(
                f"{self.source} timed out after {config.timeout_s:g} s on {path}"
            ) from exc
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"{self.source} unreachable on {path}: {type(exc).__name__}") from exc

    def _too_large(self, path: str, how: str) -> AnswerTooLarge:
        return AnswerTooLarge(f"{self.source}: the answer to {path} was cut off: {how}", field="max_answer_bytes",
                              fix="ask the partner for smaller pages (page_size), or raise max_answer_bytes")  # fmt: skip

    def _too_slow(self, path: str, clock: SyncClock) -> SourceUnavailable:
        if clock.remaining_s() == 0.0:  # the run's deadline was the nearer: the run ends, no retry
            return run_deadline_passed(self.source, f"{path} was cut off at the sync run's total deadline of "
                                       f"{clock.deadline_s:g} s")  # fmt: skip
        return SourceUnavailable(f"{self.source}: {path} took longer than its {self.config.deadline_s:g} s deadline",
                                 field="deadline_s", fix="retried, bounded; raise deadline_s if the partner is slow")  # fmt: skip

    def _raise_for_status(self, response: httpx.Response, content: bytes) -> None:
        status, path = response.status_code, response.request.url.path
        if status == 429:
            raise RateLimited(f"{self.source} on {path}", retry_after(response) or 1.0)
        if status >= 500:
            busy = SourceUnavailable(f"{self.source} answered {status} on {path}")
            if (asked := retry_after(response)) is not None:
                busy.retry_after_s = asked  # type: ignore[attr-defined]  # retry.py waits what was asked
            raise busy
        if 300 <= status < 400:
            raise SourceRejected(f"{self.source} redirected {path} ({status}) to {response.headers.get('Location', '?')}",
                                 fix="declare the final URL in base_url; redirects are not followed")  # fmt: skip
        if status >= 400:
            raise SourceRejected(f"{self.source} refused {path} with {status}: {_message(content)}",
                                 fix="check the request and the client's rights with the partner; not retried")  # fmt: skip


def _json(content: bytes, source: str = "", response: httpx.Response | None = None) -> Any:
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        where = response.request.url.path if response is not None else "its token endpoint"
        # A proxy's HTML error page passes; retried, bounded.
        raise SourceUnavailable(f"{source} answered {where} with no JSON: {content[:80]!r}") from None


def _message(content: bytes) -> str:
    return content[:200].decode("utf-8", "replace")


def _number(value: int | float | str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
