"""``AUTOHUB_OUTBOX__URL`` etc.: where the change feed is published. The URL carries a password: never logged."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from core.settings import Settings


class OutboxConfig(BaseModel):
    """The relay's broker and pace. The guest/guest default only works from 127.0.0.1 (RabbitMQ's own rule)."""

    url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")
    exchange: str = Field(default="autohub.golden", description="durable topic exchange; key entity.change")
    batch_size: int = Field(default=500, ge=1, description="changes per confirm round and per commit")
    poll_interval_s: float = Field(default=1.0, gt=0, description="idle wait between looks at the outbox")
    max_backoff_s: float = Field(default=30.0, gt=0, description="longest wait after the broker failed")
    connect_timeout_s: float = Field(
        default=5.0, gt=0, description="socket connect/read, and how long a blocked connection is borne"
    )
    heartbeat_s: int = Field(
        default=30, ge=0, description="AMQP heartbeat; the relay answers it between polls"
    )
    in_api: bool = Field(
        default=False, description="run the relay inside `autohub serve` (else: `autohub outbox relay`)"
    )


def outbox_config(settings: Settings) -> OutboxConfig:
    """``AUTOHUB_OUTBOX__…``: this room's block of the settings."""
    return settings.section("outbox", OutboxConfig)
