"""Insurance partner over REST (httpx): policies by VIN and holder, paged, OAuth2 client credentials.

Failure handling follows what the status means: 401 → fetch a new token once and repeat; 429 → wait the
server's ``Retry-After``; 5xx and timeouts → retry with backoff (bounded); any other 4xx is the partner
refusing us — not retried, reported with the status and the partner's message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import BaseModel, Field, SecretStr

from autohub.errors import ConfigError, FatalError, RetriableError, SourceUnavailable
from canonical_model.entities.source import SourceRecord
from connectors.base import Connector, Page
from connectors.retry import call_with_retry, retrying


class InsuranceRestConfig(BaseModel):
    """``AUTOHUB_INSURANCE__BASE_URL`` etc.; the client secret is a secret and never logged."""

    base_url: str = ""
    client_id: str = "autohub"
    client_secret: SecretStr = SecretStr("")
    token_path: str = "/oauth/token"  # noqa: S105 - a URL path, not a secret
    policies_path: str = "/v1/policies"
    page_size: int = Field(default=500, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0)
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0
    lookback_s: int = Field(default=300, ge=0, description="re-ask this much before the watermark")


class RateLimited(RetriableError):
    def __init__(self, retry_after_s: float):
        self.retry_after_s = retry_after_s
        super().__init__(f"insurance API rate limit; asked to wait {retry_after_s:g} s")


class SourceRejected(FatalError):
    """The partner answered 4xx: our request or our rights are wrong, retrying will not help."""


def _retry_after(response: httpx.Response) -> float:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110 §10.2.3); anything else: one second."""
    value = response.headers.get("Retry-After", "1")
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class InsuranceRestConnector(Connector):
    source = "insurance"
    streams = ("policies",)

    def __init__(self, config: InsuranceRestConfig, *, client: httpx.Client | None = None):
        if not config.base_url:
            raise ConfigError("no insurance API configured", field="AUTOHUB_INSURANCE__BASE_URL",
                              fix="set the partner's base URL and AUTOHUB_INSURANCE__CLIENT_SECRET")  # fmt: skip
        self.config = config
        self._client = client or httpx.Client(base_url=config.base_url, timeout=config.timeout_s)
        self._token: str | None = None
        self._token_expires = 0.0
        self._policy = retrying(config.attempts, config.max_wait_s, initial_wait_s=0.2)

    def close(self) -> None:
        self._client.close()

    # --- auth -------------------------------------------------------------------------------------------

    def _access_token(self, *, renew: bool = False) -> str:
        if renew or self._token is None or time.monotonic() >= self._token_expires:
            response = self._send("POST", self.config.token_path, data={"grant_type": "client_credentials"},
                                  auth=(self.config.client_id, self.config.client_secret.get_secret_value()))  # fmt: skip
            if response.status_code in (400, 401):
                raise ConfigError(f"insurance API refused our client credentials ({response.status_code})",
                                  field="AUTOHUB_INSURANCE__CLIENT_ID / CLIENT_SECRET", fix="check them with the partner")  # fmt: skip
            self._raise_for_status(response)
            body = response.json()
            self._token = str(body["access_token"])
            # Renew a little early so a token never expires between our check and the partner's.
            self._token_expires = time.monotonic() + max(float(body.get("expires_in", 300)) - 30, 1)
        return self._token

    # --- requests ---------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise SourceUnavailable(
                f"insurance API timed out after {self.config.timeout_s:g} s on {path}"
            ) from exc
        except httpx.TransportError as exc:
            raise SourceUnavailable(f"insurance API unreachable: {type(exc).__name__}") from exc

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429:
            raise RateLimited(_retry_after(response))
        if status >= 500:
            raise SourceUnavailable(f"insurance API answered {status} on {response.request.url.path}")
        if status >= 400:
            raise SourceRejected(
                f"insurance API refused {response.request.url.path} with {status}: {response.text[:200]}",
                fix="check the client's rights and the request with the partner; not retried",
            )

    def _get_page(self, params: dict[str, Any]) -> dict[str, Any]:
        response = self._send("GET", self.config.policies_path, params=params,
                              headers={"Authorization": f"Bearer {self._access_token()}"})  # fmt: skip
        if response.status_code == 401:  # expired or revoked early: one fresh token, then as usual
            response = self._send("GET", self.config.policies_path, params=params,
                                  headers={"Authorization": f"Bearer {self._access_token(renew=True)}"})  # fmt: skip
        self._raise_for_status(response)
        body: dict[str, Any] = response.json()
        return body

    def read(self, stream: str, state: dict[str, Any] | None) -> Iterator[Page]:
        since: str | None = None
        high: str | None = state.get("updated_since") if state else None
        if high:
            start = datetime.fromisoformat(high) - timedelta(seconds=self.config.lookback_s)
            since = start.isoformat()
        cursor: str | None = None
        while True:
            params = {"limit": self.config.page_size, **({"updated_since": since} if since else {}),
                      **({"cursor": cursor} if cursor else {})}  # fmt: skip
            body = call_with_retry(self._policy, self._get_page, params)
            records: list[SourceRecord] = []
            unreadable: list[tuple[str, str]] = []
            for item in body.get("items", []):
                if not isinstance(item, dict) or not item.get("policyNo"):
                    unreadable.append(("not_a_policy", str(item)[:2000]))
                    continue
                records.append(SourceRecord(source=self.source, stream=stream, source_id=str(item["policyNo"]),
                                            payload=item))  # fmt: skip
                updated = str(item.get("updatedAt") or "")
                if updated and (high is None or updated > high):
                    high = updated
            yield Page(records, {"updated_since": high} if high else {}, unreadable)
            cursor = body.get("next_cursor")
            if not cursor:
                return
