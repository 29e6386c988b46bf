"""``AUTOHUB_ORCHESTRATION__*``: when the scheduled jobs run, how they retry and where they file their artefacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OrchestrationConfig(BaseModel):
    """Read by the DAG files when Airflow parses them (cron expressions, or ``None`` for manual runs only)."""

    erp_schedule: str | None = "*/15 * * * *"
    finance_schedule: str | None = "0 * * * *"
    insurance_schedule: str | None = "*/30 * * * *"
    full_match_schedule: str | None = Field(
        default="0 3 * * 0", description="weekly full re-match (Sunday 03:00)"
    )
    quality_schedule: str | None = "0 6 * * *"
    dms_health_schedule: str | None = "*/5 * * * *"
    retries: int = Field(default=3, ge=0, le=20, description="task retries after the connector's own retries")
    retry_delay_s: int = Field(default=60, ge=1)
    max_retry_delay_s: int = Field(default=1800, ge=1)
    dms_max_ready: int = Field(
        default=50_000, ge=0, description="DMS events waiting beyond which the check fails"
    )
    dms_max_dead: int = Field(default=0, ge=0, description="dead-lettered DMS events beyond which it fails")
    dms_require_consumer: bool = Field(
        default=True, description="fail when no consumer is attached to the queue or none beats in the store"
    )
    dms_max_silence_s: float = Field(
        default=60.0,
        gt=0,
        description="a running consumer silent longer than this (no heartbeat) fails the check",
    )
    artefacts_dir: Path | None = Field(
        default=None, description="scorecards and recall files; default data_dir/artefacts"
    )

    @field_validator("erp_schedule", "finance_schedule", "insurance_schedule", "full_match_schedule",
                     "quality_schedule", "dms_health_schedule", mode="before")  # fmt: skip
    @classmethod
    def _blank_is_manual(cls, value: object) -> object:
        """``AUTOHUB_ORCHESTRATION__ERP_SCHEDULE=`` (or ``none``) switches the schedule off: manual runs only."""
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    def task_defaults(self) -> dict[str, Any]:
        """The retry policy every scheduled task shares (on top of each connector's own bounded retries)."""
        return {
            "retries": self.retries,
            "retry_delay": timedelta(seconds=self.retry_delay_s),
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": timedelta(seconds=self.max_retry_delay_s),
        }


class _OrchestrationEnv(BaseSettings, OrchestrationConfig):
    model_config = SettingsConfigDict(env_prefix="AUTOHUB_ORCHESTRATION__", env_file=".env", extra="ignore")


def orchestration_settings() -> OrchestrationConfig:
    """Only the orchestration block of the settings (the same ``AUTOHUB_ORCHESTRATION__*`` variables).

    Why not the whole ``Settings``: a DAG file is parsed every few seconds by Airflow's dag processor, and the
    full settings import every connector (zeep, pika, SQLAlchemy); this reads a few environment variables.
    """
    return OrchestrationConfig.model_validate(_OrchestrationEnv().model_dump())
