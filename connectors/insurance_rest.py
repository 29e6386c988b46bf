"""The shipped insurer (connector type ``rest``): one declaration of the declarative ``http`` type.

Its settings stay the flat ``AUTOHUB_INSURANCE__…`` block (base URL, client id and secret, paths, page size),
which ``declaration()`` turns into the ``http`` type's settings: OAuth2 client credentials, ``/v1/policies``
paged by ``next_cursor``, ``updated_since`` from the greatest ``updatedAt`` seen. The reading, paging, auth and
failure rules are the ``http`` type's (``rest_source.py``, ``rest_transport.py``): 401 → one new token;
429 → ``Retry-After``; 5xx and timeouts → bounded backoff; any other 4xx reported, not retried.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from connectors.errors import RateLimited, SourceRejected
from connectors.incremental import LookbackSeconds
from connectors.origin import SourceOrigin
from connectors.rest_config import (
    CursorPaging,
    HttpSourceConfig,
    Incremental,
    OAuth2ClientCredentials,
    StreamSpec,
)
from connectors.rest_source import HttpConnector
from core.errors import ConfigError

__all__ = ["InsuranceRestConfig", "InsuranceRestConnector", "RateLimited", "SourceRejected"]


class InsuranceRestConfig(BaseModel):
    """``AUTOHUB_INSURANCE__BASE_URL`` etc.; the client secret is a secret and never logged."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key would fall back to the shipped insurer's value

    base_url: str = ""
    client_id: str = "autohub"
    client_secret: SecretStr = SecretStr("")
    token_path: str = "/oauth/token"  # noqa: S105 - a URL path, not a secret
    policies_path: str = "/v1/policies"
    page_size: int = Field(default=500, ge=1, le=10_000)
    timeout_s: float = Field(default=10.0, gt=0)
    deadline_s: float = Field(default=60.0, gt=0, description="one request, connect to last byte")
    max_answer_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0
    lookback_s: LookbackSeconds = 300

    def declaration(self) -> HttpSourceConfig:
        """The same source as an ``http`` declaration (connectors/README.md shows it as YAML)."""
        auth = OAuth2ClientCredentials(kind="oauth2_client_credentials", token_url=self.token_path,
                                       client_id=self.client_id, client_secret=self.client_secret)  # fmt: skip
        policies = StreamSpec(
            path=self.policies_path, records_path="items", id_path="policyNo", change_time_path="updatedAt",
            incremental=Incremental(param="updated_since", lookback_s=self.lookback_s),
            paging=CursorPaging(kind="cursor", cursor_path="next_cursor", cursor_param="cursor",
                                limit_param="limit", page_size=self.page_size),
            missing_id_reason="not_a_policy",
        )  # fmt: skip
        return HttpSourceConfig(base_url=self.base_url, auth=auth, streams={"policies": policies},
                                timeout_s=self.timeout_s, deadline_s=self.deadline_s,
                                max_answer_bytes=self.max_answer_bytes, attempts=self.attempts,
                                max_wait_s=self.max_wait_s)  # fmt: skip


class InsuranceRestConnector(HttpConnector):
    """``origin``: the declared source; without one, the shipped insurer configured by ``AUTOHUB_INSURANCE__…``."""

    def __init__(self, config: InsuranceRestConfig, origin: SourceOrigin | str = "insurance", *,
                 client: httpx.Client | None = None):  # fmt: skip
        origin = SourceOrigin.of(origin, env_block="insurance")
        if not config.base_url:
            raise ConfigError(f"no insurance API configured for {origin.source}", field=origin.setting("base_url"),
                              fix=f"set the partner's base URL and {origin.setting('client_secret')}")  # fmt: skip
        try:
            declaration = config.declaration()
        except ValidationError as exc:
            raise ConfigError(f"{origin.source}: {exc.errors()[0]['msg']}", field=origin.setting("base_url"),
                              fix="an http:// or https:// URL without credentials in it") from None  # fmt: skip
        super().__init__(declaration, origin, client=client)
