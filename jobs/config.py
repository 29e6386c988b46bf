"""``AUTOHUB_ORCHESTRATION__*``: when the scheduled jobs run, how they retry and where they file their artefacts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings

from core.declarations import entries
from core.settings import ENV, SHIPPED_SOURCES_FILE, Settings, read_block

# The sources the hub ships with; AUTOHUB_SOURCES_FILE names a deployment's own (connectors/sources.py reads it
# whole, with its connector types and secrets; the DAG files read only names, types and schedules).
# The pushed types: the hub's own receivers serve them (the DMS consumer, the webhook route), no sync DAG.
PUSH_TYPES = frozenset({"amqp", "webhook"})


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
    match_max_lag_s: float | None = Field(
        default=None, gt=0,
        description="with a matching follower: a record queued for matching longer than this fails the feed "
        "check (none: not checked — without a follower the queue waits for the scheduled run)",
    )  # fmt: skip
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


class _SourcesFileEnv(BaseSettings):
    """``AUTOHUB_SOURCES_FILE`` read as the settings object reads it (environment, then ``.env``)."""

    model_config = ENV
    sources_file: Path | None = None


def sources_file() -> Path:
    return _SourcesFileEnv().sources_file or SHIPPED_SOURCES_FILE


def declared_pull_sources(config: OrchestrationConfig | None = None) -> dict[str, str | None]:
    """Pull source name → its sync schedule, read from the sources file without importing a connector.

    Why here: Airflow parses the DAG files every few seconds; the full check of the file (connector types,
    settings, secrets) is ``autohub sources check``, and a sync refuses a file that does not pass it. A file
    that cannot be read fails the sync DAG file's parse with the reason (Airflow shows it as an import error)
    rather than quietly giving no DAGs. The shipped sources' ``AUTOHUB_ORCHESTRATION__ERP_SCHEDULE`` (…) win
    over the file when set.
    """
    found_entries = entries(sources_file())
    overrides = _schedules_set_in_environment(config)
    found: dict[str, str | None] = {}
    for name, entry in found_entries.items():
        if entry.get("type") in PUSH_TYPES:
            continue
        schedule = overrides[name] if name in overrides else entry.get("schedule")
        found[str(name)] = str(schedule) if schedule else None
    return found


def _schedules_set_in_environment(config: OrchestrationConfig | None) -> dict[str, str | None]:
    env = orchestration_settings()
    chosen = config or env
    return {field.removesuffix("_schedule"): getattr(chosen, field) for field in env.model_fields_set
            if field in ("erp_schedule", "finance_schedule", "insurance_schedule")}  # fmt: skip


def orchestration_settings() -> OrchestrationConfig:
    """Only the orchestration block of the settings (the same ``AUTOHUB_ORCHESTRATION__*`` variables).

    Why not the whole ``Settings``: a DAG file is parsed by Airflow's dag-processor, where the hub's secrets need
    not be set (the settings refuse the demo PII key outside the demo); this reads the block alone.
    """
    return read_block("orchestration", OrchestrationConfig)


def orchestration_config(settings: Settings) -> OrchestrationConfig:
    """``AUTOHUB_ORCHESTRATION__…`` as a settings object holds it (``orchestration_settings`` for a DAG file)."""
    return settings.section("orchestration", OrchestrationConfig)
