"""The ``http`` connector type's settings: a REST source described by configuration only.

The shape of dlt's REST API source and Airbyte's declarative manifests: a base URL, one auth, and streams,
each a path with its request parameters, where the records sit in the answer (a dotted path), the record's id
and change time (dotted paths), its paging and its incremental parameter. Secrets sit under the names the
sources file refuses to see written out (``client_secret``, ``api_key``, ``password``, ``token``), so a
declaration can only give them as ``{env: …}`` / ``{file: …}``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# The categories every type shares, importable from here as before the ``http`` type shared them.
from connectors.errors import AnswerTooLarge as AnswerTooLarge
from connectors.errors import AnswerUnreadable as AnswerUnreadable
from connectors.errors import AuthRefused as AuthRefused
from connectors.errors import RateLimited as RateLimited
from connectors.errors import SourceRejected as SourceRejected
from connectors.incremental import LookbackSeconds

MIB = 1024 * 1024
ParamValue = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error naming it, never ignored


# --- auth ----------------------------------------------------------------------------------------------


class OAuth2ClientCredentials(_Strict):
    kind: Literal["oauth2_client_credentials"]
    token_url: str = Field(description="absolute, or relative to base_url")
    client_id: str
    client_secret: SecretStr
    scope: str | None = None
    # RFC 6749 §2.3.1: HTTP Basic is the method servers must support; some want the pair in the form body.
    credentials_in: Literal["basic", "body"] = "basic"


class ApiKeyAuth(_Strict):
    kind: Literal["api_key"]
    name: str = Field(default="X-API-Key", description="the header or query parameter carrying the key")
    location: Literal["header", "query"] = "header"
    api_key: SecretStr


class BasicAuth(_Strict):
    kind: Literal["basic"]
    username: str
    password: SecretStr


class BearerAuth(_Strict):
    kind: Literal["bearer"]
    token: SecretStr


class NoAuth(_Strict):
    kind: Literal["none"] = "none"


Auth = Annotated[
    OAuth2ClientCredentials | ApiKeyAuth | BasicAuth | BearerAuth | NoAuth, Field(discriminator="kind")
]


# --- paging --------------------------------------------------------------------------------------------


class CursorPaging(_Strict):
    """The answer names the next page: a cursor at ``cursor_path``, sent back as ``cursor_param``."""

    kind: Literal["cursor"]
    cursor_path: str = Field(min_length=1)
    cursor_param: str = Field(default="cursor", min_length=1)
    limit_param: str | None = "limit"
    page_size: int = Field(default=100, ge=1, le=100_000)


class OffsetPaging(_Strict):
    """``offset``/``limit``; stops on a short page, or when the offset reaches the total at ``total_path``."""

    kind: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = Field(default=100, ge=1, le=100_000)
    total_path: str | None = None


class PageNumberPaging(_Strict):
    """``page=1, 2, …``; stops on a short page, or after the page count at ``total_pages_path``."""

    kind: Literal["page"]
    page_param: str = "page"
    first_page: int = Field(default=1, ge=0)
    size_param: str | None = "per_page"
    page_size: int = Field(default=100, ge=1, le=100_000)
    total_pages_path: str | None = None


class LinkPaging(_Strict):
    """RFC 8288 ``Link: <…>; rel="next"``, followed on the base URL's origin only."""

    kind: Literal["link"]
    limit_param: str | None = None
    page_size: int = Field(default=100, ge=1, le=100_000)


class NoPaging(_Strict):
    kind: Literal["none"] = "none"


Paging = Annotated[
    CursorPaging | OffsetPaging | PageNumberPaging | LinkPaging | NoPaging, Field(discriminator="kind")
]


# --- streams -------------------------------------------------------------------------------------------


def _is_time_format(value: str) -> str:
    if value not in ("iso8601", "epoch_s", "epoch_ms") and "%" not in value:
        raise ValueError("use iso8601, epoch_s, epoch_ms or a strftime pattern such as %Y%m%d%H%M%S")
    return value


class Incremental(_Strict):
    """The change-time filter: the watermark (greatest change time seen) minus ``lookback_s``, sent as
    ``param`` in ``format``."""

    param: str = Field(min_length=1)
    format: str = "iso8601"
    lookback_s: LookbackSeconds = 300
    timezone: str | None = Field(default=None, description="write the time in this zone; default: as seen")

    _format = field_validator("format")(_is_time_format)


class StreamSpec(_Strict):
    path: str = Field(min_length=1, description="relative to base_url, e.g. /v1/policies")
    params: dict[str, ParamValue] = Field(default_factory=dict, description="sent with every request")
    records_path: str = Field(description='dotted path to the list of records; "" when the answer is one')
    id_path: str = Field(min_length=1)
    change_time_path: str | None = None
    change_time_format: str = "iso8601"
    source_timezone: str | None = Field(default=None, description="the zone of change times written without")
    incremental: Incremental | None = None  # none: a declared full extract
    paging: Paging = Field(default_factory=NoPaging)
    missing_id_reason: str | None = Field(default=None, description="quarantine reason; missing_<id leaf>")
    max_page_records: int = Field(default=100_000, ge=1)

    _format = field_validator("change_time_format")(_is_time_format)

    @model_validator(mode="after")
    def _incremental_needs_a_change_time(self) -> StreamSpec:
        if self.incremental is not None and not self.change_time_path:
            raise ValueError(
                "an incremental stream needs change_time_path (where its records' change time is)"
            )
        return self

    @property
    def id_reason(self) -> str:
        return self.missing_id_reason or f"missing_{self.id_path.rsplit('.', 1)[-1].lower()}"


class HttpSourceConfig(_Strict):
    base_url: str
    auth: Auth = Field(default_factory=NoAuth)
    headers: dict[str, str] = Field(default_factory=dict, description="sent with every request")
    streams: dict[str, StreamSpec] = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0, description="one connect or socket read")
    deadline_s: float = Field(default=60.0, gt=0, description="one request, connect to last byte")
    max_answer_bytes: int = Field(default=32 * MIB, ge=1024)
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = Field(default=30.0, ge=0)
    initial_wait_s: float = Field(default=0.2, ge=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL, e.g. https://partner.example.cn/api")
        if parts.password is not None:
            raise ValueError("no credentials in the URL: declare them under auth")
        return value
