"""One settings object for the whole hub, read from ``AUTOHUB_*`` environment variables (or ``.env``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.dms_amqp import DmsAmqpConfig
from connectors.erp_config import ErpSoapConfig
from connectors.finance_sql import FinanceSqlConfig
from connectors.insurance_rest import InsuranceRestConfig
from connectors.portal_webhook import PortalWebhookConfig
from jobs.config import OrchestrationConfig
from matching.config import MatchingConfig
from outbox.config import OutboxConfig
from pipeline.screen import InputLimits

# Known only so that it can be refused outside the demo; never a real key.
DEMO_PII_HASH_KEY = "autohub-demo-key-not-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTOHUB_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    env: Literal["demo", "test", "dev", "prod"] = "demo"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: an SQLite file in data_dir
    pii_hash_key: SecretStr = SecretStr(DEMO_PII_HASH_KEY)
    mappings_dir: Path | None = None  # extra mapping files (a sixth source) beside the shipped ones
    # The declared sources (autohub/sources.py); empty: the shipped autohub/sources.yaml, the five sources.
    sources_file: Path | None = None
    batch_size: int = Field(default=1000, ge=1, le=100_000)  # records per store transaction
    # A sync run that wrote no heartbeat for this long is closed as abandoned when its source next starts one
    # (the DMS consumer beats every AUTOHUB_DMS__PROGRESS_EVERY_S, a pull sync after every page).
    sync_run_abandoned_after_s: float = Field(default=600.0, ge=10)
    demo_people: int = Field(default=1000, ge=10)
    demo_seed: int = 42
    # One block per connector: AUTOHUB_FINANCE__URL, AUTOHUB_FINANCE__PAGE_SIZE, …
    erp: ErpSoapConfig = Field(default_factory=ErpSoapConfig)
    finance: FinanceSqlConfig = Field(default_factory=FinanceSqlConfig)
    insurance: InsuranceRestConfig = Field(default_factory=InsuranceRestConfig)
    dms: DmsAmqpConfig = Field(default_factory=DmsAmqpConfig)
    portal: PortalWebhookConfig = Field(default_factory=PortalWebhookConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    input: InputLimits = Field(default_factory=InputLimits)  # bounds on one record's shape (hostile input)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    orchestration: OrchestrationConfig = Field(default_factory=OrchestrationConfig)
    # How long the API trusts a verified key before reading it again: a revocation takes effect within this.
    api_key_cache_s: float = Field(default=2.0, ge=0, le=60)
    # An ID-number search tells whether a number is a customer's (and shows the name): each answer is audited
    # like a PII read (one row per customer found, one for a miss) and a key may have this many answers an hour,
    # so a read key cannot test a list of leaked numbers (0: no ID-number search at all).
    id_number_searches_per_hour: int = Field(default=60, ge=0, le=100_000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    @model_validator(mode="after")
    def _no_demo_secret_in_production(self) -> Settings:
        if self.env in {"dev", "prod"} and self.pii_hash_key.get_secret_value() == DEMO_PII_HASH_KEY:
            raise ValueError(
                "AUTOHUB_PII_HASH_KEY is the demo key; set a random key of at least 32 bytes outside the demo "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def pii_key(self) -> bytes:
        return self.pii_hash_key.get_secret_value().encode("utf-8")

    @property
    def mapping_dirs(self) -> tuple[Path, ...]:
        return (self.mappings_dir,) if self.mappings_dir else ()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'autohub.db').as_posix()}"


@cache
def get_settings() -> Settings:
    return Settings()
