"""What an ERP is, as configuration: its WSDL, its streams and the limits the connector reads it under; and the
kinds of failure the connector names. Kept apart from the connector and its transport so that the settings
object can import the configuration without zeep's machinery."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from autohub.errors import FatalError, RetriableError

MIB = 1024 * 1024


class ErpOperation(BaseModel):
    """How one stream is read: ``operation(changed_since=…, page_token=…, page_size=…) → records + next token``."""

    operation: str
    records_field: str = Field(description="response field holding the repeated records, dotted for nesting")
    next_token_field: str = "NextPageToken"  # noqa: S105 - a field name, not a secret
    changed_since_param: str = "ChangedSince"
    page_token_param: str = "PageToken"  # noqa: S105 - a parameter name
    page_size_param: str = "PageSize"
    page_size: int = Field(default=500, ge=1, le=50_000)
    max_page_records: int | None = Field(
        default=None,
        ge=1,
        description="refuse a page with more records; default max(2 × page_size, page_size + 100)",
    )
    id_field: str
    changed_field: str = "CHANGED_AT"
    extra_params: dict[str, Any] = Field(
        default_factory=dict, description="fixed arguments, e.g. a company code"
    )

    @property
    def record_limit(self) -> int:
        """Slack above the page size: an ERP may round a page up to a whole document, never ten times over."""
        return self.max_page_records or max(self.page_size * 2, self.page_size + 100)


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
    lookback_s: int = Field(default=300, ge=0, description="re-ask this much before the watermark")

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


class ErpAnswerTooLarge(FatalError):
    """An answer over ``max_answer_bytes`` or a page far beyond its page size: reading on would risk the
    memory of the whole hub (a 200 MB page once took 5.7 GB), and asking again brings the same answer."""


class ErpBusy(RetriableError):
    """A SOAP Server fault, an HTTP 5xx or a truncated envelope: passing, retried with backoff."""


class ErpRejected(FatalError):
    """A SOAP Client fault or an HTTP 4xx: our request or our rights are wrong; retrying will not help."""


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
