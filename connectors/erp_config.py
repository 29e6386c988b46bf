"""What an ERP is, as configuration: its WSDL, its streams and the limits the connector reads it under; and the
kinds of failure the connector names (the categories every type shares, ``connectors/errors.py``, under the
names the ERP's runs record). Kept apart from the connector and its transport so that the settings object
can import the configuration without zeep's machinery."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.errors import AnswerTooLarge, AuthRefused, SourceBusy, SourceRejected
from connectors.incremental import LookbackSeconds
from connectors.origin import SourceOrigin
from core.errors import ConfigError, FatalError

MIB = 1024 * 1024


class ErpOperation(BaseModel):
    """How one stream is read: which request parameters carry the change time, the page size and the place
    to go on from, and where the records, the continuation, the id and the change time sit in the answer.

    Every parameter and field name may be dotted for nesting (``ProcessingConditions.QueryLastReturnedObjectID``);
    a parameter set to null means the operation has no such parameter. Three ways to page, by what is set:
    a page token (``page_token_param`` + ``next_token_field``), SAP's last returned object id
    (``last_id_param`` + ``last_id_field``, while ``more_field`` is true), or none (one call per pass).
    """

    model_config = ConfigDict(extra="forbid")  # a misspelt ``page_size_parm`` would page by the default

    operation: str
    records_field: str = Field(description="response field holding the repeated records, dotted for nesting")
    next_token_field: str | None = "NextPageToken"  # noqa: S105 - a field name, not a secret
    changed_since_param: str | None = Field(
        default="ChangedSince",
        description="null: no change-time filter, every pass is a declared full extract",
    )
    page_token_param: str | None = "PageToken"  # noqa: S105 - a parameter name
    page_size_param: str | None = "PageSize"
    page_size: int = Field(default=500, ge=1, le=50_000)
    max_page_records: int | None = Field(
        default=None,
        ge=1,
        description="refuse a page with more records; default max(2 × page_size, page_size + 100)",
    )
    last_id_param: str | None = Field(
        default=None,
        description="request parameter taking the last id returned, e.g. SAP's QueryLastReturnedObjectID",
    )
    last_id_field: str | None = Field(
        default=None, description="answer field with the last id returned; default the last record's id"
    )
    more_field: str | None = Field(
        default=None,
        description="answer field that is true while more hits wait, e.g. MoreHitsAvailableIndicator",
    )
    id_field: str = Field(description="the record's id, dotted; a value with attributes gives its text")
    changed_field: str | None = Field(default="CHANGED_AT", description="the record's change time, dotted")
    source_timezone: str | None = Field(
        default=None,
        description="zone of change times written without one; default the ERP's source_timezone",
    )
    extra_params: dict[str, Any] = Field(
        default_factory=dict, description="fixed arguments, e.g. a company code; keys may be dotted"
    )

    @property
    def record_limit(self) -> int:
        """Slack above the page size: an ERP may round a page up to a whole document, never ten times over."""
        return self.max_page_records or max(self.page_size * 2, self.page_size + 100)

    @property
    def full_extract(self) -> bool:
        """No change-time filter: each pass reads the whole stream and keeps no watermark, on purpose."""
        return self.changed_since_param is None

    @field_validator("source_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return known_zone(value)

    @model_validator(mode="after")
    def _one_way_to_page(self) -> ErpOperation:
        """Half a paging scheme would read page one forever or stop after it: refused at start."""
        if (self.page_token_param is None) != (self.next_token_field is None):
            raise ValueError("page_token_param and next_token_field go together: set both, or both to null")
        if self.last_id_param and self.page_token_param:
            raise ValueError("page by a token or by last_id_param, not both: set page_token_param to null")
        if self.more_field and not self.last_id_param:
            raise ValueError("more_field needs last_id_param: the parameter that asks for the next hits")
        if self.changed_since_param and not self.changed_field:
            raise ValueError(
                "changed_since_param needs changed_field: the watermark is the newest change time"
            )
        return self


def _fake_erp_streams() -> dict[str, ErpOperation]:
    return {
        "customers": ErpOperation(operation="GetCustomers", records_field="Customer", id_field="KUNNR"),
        "vehicles": ErpOperation(operation="GetVehicles", records_field="Vehicle", id_field="VIN"),
        "sales_orders": ErpOperation(
            operation="GetSalesOrders", records_field="SalesOrder", id_field="VBELN"
        ),
    }


class ErpSoapConfig(BaseModel):
    """``AUTOHUB_ERP__WSDL_URL`` etc.; ``AUTOHUB_ERP__STREAMS`` takes JSON. Defaults fit fakes/erp_soap.py."""

    model_config = ConfigDict(extra="forbid")  # a misspelt ``user_name`` would log on without a user

    source: str = Field(
        default="erp", description="source name; its mapping is mappings/sources/<source>.yaml"
    )
    wsdl_url: str = ""
    service: str | None = Field(default=None, description="WSDL service name when there are several")
    port: str | None = Field(default=None, description="WSDL port name when there are several")
    streams: dict[str, ErpOperation] = Field(default_factory=_fake_erp_streams)
    wsdl_timeout_s: float = Field(default=30.0, gt=0, description="per socket read while loading the WSDL")
    operation_timeout_s: float = Field(default=60.0, gt=0, description="per socket read during a call")
    wsdl_deadline_s: float = Field(
        default=60.0, gt=0, description="total for loading the WSDL with all its imports, per attempt"
    )
    operation_deadline_s: float = Field(
        default=120.0, gt=0, description="total for one call, connect to last byte, per attempt"
    )
    max_answer_bytes: int = Field(
        default=64 * MIB, ge=1024, description="an answer (or WSDL document) larger than this is refused"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="origins besides the WSDL's own that its imports may be loaded from, e.g. https://host:8443",
    )
    wsdl_cache_path: Path | None = Field(
        default=None, description="SQLite file; default <data_dir>/zeep-cache.db"
    )
    wsdl_cache_ttl_s: int = Field(default=86_400, ge=0)
    attempts: int = Field(default=5, ge=1)
    max_wait_s: float = 30.0
    lookback_s: LookbackSeconds = 300
    source_timezone: str | None = Field(
        default=None, description="zone of change times the ERP writes without one (SAP: 20261130140509)"
    )
    username: str = Field(
        default="", description="technical user, sent by HTTP Basic to the WSDL and the calls"
    )
    password: SecretStr = SecretStr("")
    password_file: Path | None = Field(
        default=None, description="file holding the password (a mounted secret); instead of PASSWORD"
    )
    ws_security: Literal["none", "username_token", "username_token_digest"] = Field(
        default="none", description="also send a WS-Security UsernameToken with the same user and password"
    )

    @field_validator("source_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return known_zone(value)

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_the_url(cls, data: Any) -> Any:
        """``http://user:pw@host/…`` → a URL without them plus USERNAME/PASSWORD, and a password wrapped as a
        secret before anything else is checked: the URL is printed in logs and errors, and pydantic prints
        the input of a model that fails validation — the password must be in neither."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        parts = urlsplit(str(data.get("wsdl_url") or ""))
        if parts.scheme.lower() in ("http", "https") and "@" in parts.netloc:
            userinfo, _, host = parts.netloc.rpartition("@")
            user, _, password = userinfo.partition(":")
            data["wsdl_url"] = urlunsplit(parts._replace(netloc=host))
            data["username"] = data.get("username") or unquote(user)
            data["password"] = data.get("password") or unquote(password)
        if isinstance(data.get("password"), str):
            data["password"] = SecretStr(data["password"])
        return data

    def check_logon(self, origin: SourceOrigin) -> None:
        """Checked by the connector, not as a validator: pydantic prints a failing model's whole input, and
        that input holds the password. ``origin`` says where the settings named in the error were written."""
        if self.password.get_secret_value() and self.password_file:
            raise ConfigError(f"both a password and a password file are set for {origin.source}",
                              field=origin.setting("password_file"),
                              fix=f"set one of {origin.setting('password')} and {origin.setting('password_file')}")  # fmt: skip
        if self.ws_security != "none" and not self.username:
            raise ConfigError(f"ws_security {self.ws_security} needs a user", field=origin.setting("username"),
                              fix="set the technical user (and its password)")  # fmt: skip

    def secret_password(self, origin: SourceOrigin) -> str:
        """The password, read from PASSWORD_FILE at use, so a rotated secret needs no restart of the settings."""
        if self.password_file is None:
            return self.password.get_secret_value()
        try:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the ERP password file {self.password_file}: {exc.strerror or type(exc).__name__}",
                field=origin.setting("password_file"),
                fix="point it at a readable file holding the technical user's password",
            ) from exc

    def credential_settings(self, origin: SourceOrigin) -> tuple[str, str]:
        """The user and secret settings a refused logon asks to check, as the user wrote them."""
        return origin.setting("username"), origin.setting(
            "password_file" if self.password_file else "password"
        )

    @field_validator("allowed_origins")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        """An origin, not a URL: a path would suggest a narrower grant than the host really gets."""
        origins = []
        for item in value:
            origin = origin_of(item)
            if origin is None or urlsplit(item).path not in ("", "/"):
                raise ValueError(
                    f"{item!r} is no http(s) origin: write scheme://host[:port] (no path); local files are never allowed"
                )
            origins.append(origin)
        return origins


class UnsafeXml(FatalError):
    """The ERP endpoint sent XML with a DOCTYPE, entity, external reference or beyond the parser's limits:
    refused, never retried."""


class ErpAnswerTooLarge(AnswerTooLarge):
    """``AnswerTooLarge`` under the name the ERP's runs record."""


class ErpBusy(SourceBusy):
    """``SourceBusy`` under the name the ERP's runs record: a SOAP Server fault, an HTTP 5xx or a truncated
    envelope."""


class ErpRejected(SourceRejected):
    """``SourceRejected`` under the name the ERP's runs record: a SOAP Client fault or an HTTP 4xx."""


class ErpAuthRefused(AuthRefused):
    """``AuthRefused`` under the name the ERP's runs record: HTTP 401/403 or a WS-Security fault."""


def refused_logon(where: str, status: str, config: ErpSoapConfig, origin: SourceOrigin) -> ErpAuthRefused:
    user, secret = config.credential_settings(origin)
    return ErpAuthRefused(
        f"authentication refused by {where} ({status}): check {user} and {secret}",
        field=secret,
        fix="not retried, so the user is not locked by repeated failed logons; if the user is locked already, "
        "ask the ERP's basis team to unlock it (SAP: SU01)",
    )


def known_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is no IANA time zone: write e.g. Asia/Shanghai or UTC") from exc
    return value


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``: for every message that prints a URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` with the default port spelled out, so ``http://h`` and ``http://h:80`` match."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}:{port}"
