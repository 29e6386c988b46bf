"""One settings object for the whole hub, read from ``AUTOHUB_*`` environment variables (or ``.env``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, ValidationError, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

Block = TypeVar("Block", bound=BaseModel)
# The sources the hub ships with (the five), declared; AUTOHUB_SOURCES_FILE points at an integration team's own.
SHIPPED_SOURCES_FILE = Path(__file__).with_name("sources.yaml")
ENV = SettingsConfigDict(env_prefix="AUTOHUB_", env_file=".env", extra="ignore", env_nested_delimiter="__")

# Known only so that it can be refused outside the demo; never a real key.
DEMO_PII_HASH_KEY = "autohub-demo-key-not-secret"


class Settings(BaseSettings):
    """The hub's settings: what every room shares here, and each room's block (``AUTOHUB_MATCHING__…``,
    ``AUTOHUB_OUTBOX__…``, a shipped source's ``AUTOHUB_ERP__…``) read by ``section`` with the model the room
    owns — so this object imports no room, and a room's block is validated by the room that knows it."""

    model_config = ENV

    env: Literal["demo", "test", "dev", "prod"] = "demo"
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: an SQLite file in data_dir
    # Connections each process keeps open to PostgreSQL (opened as needed, then kept), and how many more it may
    # open for a moment under load — each of those is closed again after use, and a new server backend costs
    # PostgreSQL a fork and cold caches: the API's 8 concurrent probes on the default 5 opened ~1 900 backends in
    # five minutes. Count processes × (pool + overflow) against the server's max_connections.
    database_pool_size: int = Field(default=20, ge=1, le=1000)
    database_max_overflow: int = Field(default=20, ge=0, le=1000)
    # A pooled connection unused this long is pinged before it is handed out (store/engine.py says why not all).
    database_ping_after_idle_s: float = Field(default=10.0, ge=0, le=3600)
    pii_hash_key: SecretStr = SecretStr(DEMO_PII_HASH_KEY)
    mappings_dir: Path | None = None  # extra mapping files (a sixth source) beside the shipped ones
    # The declared sources (connectors/sources.py); empty: the shipped core/sources.yaml, the five sources.
    sources_file: Path | None = None
    batch_size: int = Field(default=1000, ge=1, le=100_000)  # records per store transaction
    # A load run that wrote at least this many records refreshes the planner statistics of the tables it wrote, on
    # PostgreSQL (store/statistics.py says why); 0: never, leave it to autovacuum.
    analyze_after_records: int = Field(default=50_000, ge=0)
    # A sync run that wrote no heartbeat for this long is closed as abandoned when its source next starts one
    # (the DMS consumer beats every AUTOHUB_DMS__PROGRESS_EVERY_S, a pull sync after every page).
    sync_run_abandoned_after_s: float = Field(default=600.0, ge=10)
    # A pull run saves its change-time watermark at most this far before the run's start, so a source whose clock
    # runs ahead cannot move it past rows its users commit afterwards (connectors/sync_clock.py says why).
    sync_clock_margin_s: float = Field(default=60.0, ge=0, le=86_400)
    # A pull run's total deadline, over all its calls and retries: past it the run stops with what it stored.
    sync_run_deadline_s: float = Field(default=900.0, ge=1)
    demo_people: int = Field(default=1000, ge=10)
    demo_seed: int = 42
    # A room's block given directly (tests, embedding code), by the block's name: {"matching": MatchingConfig(…)}
    # or {"portal": {"secret": …}}; a block not given is read from its AUTOHUB_<NAME>__… variables.
    sections: dict[str, Any] = Field(default_factory=dict)
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

    _blocks: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    def section(self, name: str, model: type[Block]) -> Block:
        """The block ``name`` (``AUTOHUB_<NAME>__…``) as the room's ``model``, validated once per settings object.

        A wrong value fails here with the variable to fix — at start, where the roof (the CLI, the API) asks
        for the blocks it runs with."""
        given = self.sections.get(name)
        held = self._blocks.get(name)
        if given is None and isinstance(held, model):  # the environment, read once (copies share it)
            return held
        if isinstance(given, model):
            return given
        if given is not None:
            with _naming_the_variable(name):
                return model.model_validate(given)
        block = read_block(name, model)
        self._blocks[name] = block
        return block

    @property
    def declared_sources_file(self) -> Path:
        return self.sources_file or SHIPPED_SOURCES_FILE

    @property
    def pii_key(self) -> bytes:
        return self.pii_hash_key.get_secret_value().encode("utf-8")

    @property
    def mapping_dirs(self) -> tuple[Path, ...]:
        return (self.mappings_dir,) if self.mappings_dir else ()

    @property
    def database_pool(self) -> dict[str, float]:
        """The engine's pool arguments (``create_store_engine(url, **settings.database_pool)``)."""
        return {"pool_size": self.database_pool_size, "max_overflow": self.database_max_overflow,
                "ping_after_idle_s": self.database_ping_after_idle_s}  # fmt: skip

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'autohub.db').as_posix()}"


def read_block(name: str, model: type[Block]) -> Block:
    """The block ``AUTOHUB_<NAME>__…`` read from the environment and ``.env`` alone, without the rest of the
    settings — for a DAG file, which Airflow's dag-processor parses where the hub's secrets need not be set."""
    with _naming_the_variable(name):
        block: Block = getattr(_block_reader(name, model)(), name)
    return block


@contextmanager
def _naming_the_variable(name: str) -> Iterator[None]:
    """A value the block's model refuses, as a ``ConfigError`` naming the variable to fix."""
    try:
        yield
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"][1:] if first["loc"][:1] == (name,) else first["loc"]
        place = "__".join(str(part) for part in (name, *loc)).upper()
        raise ConfigError(f"a setting is wrong: {first['msg']}", field=f"AUTOHUB_{place}",
                          fix="correct the variable (or the .env file) and start again") from None  # fmt: skip


@cache
def _block_reader(name: str, model: type[BaseModel]) -> type[BaseSettings]:
    """A settings class with the one field ``name`` of type ``model``: pydantic-settings then reads
    ``AUTOHUB_<NAME>__FIELD`` (and nested ``__SUB__FIELD``) from the environment and ``.env`` as for any field."""
    fields: dict[str, Any] = {name: (model, Field(default_factory=model))}
    reader: type[BaseSettings] = create_model(f"{model.__name__}Block", __base__=_BlockReader, **fields)
    return reader


class _BlockReader(BaseSettings):
    model_config = ENV


@cache
def get_settings() -> Settings:
    return Settings()
