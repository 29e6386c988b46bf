"""Matching settings, kept apart from the Splink code so reading the settings does not import Splink."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from core.settings import Settings

MODEL_VERSION = "party-v6"  # v6: an organisation's short name (hand-set); v5: a car shared only through a repaired VIN weighs less (hand-set); v4: a phone one digit off (hand-set m/u), blocking on surname + phone head/tail; v3: street address compared (hand-set m/u); v2: symmetric name swap, fuzzy names only when not Chinese
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "party.json"


class FollowerConfig(BaseModel):
    """``AUTOHUB_MATCHING__FOLLOW__BATCH_MAX`` etc.: the matching follower (``autohub match follow``)."""

    batch_max: int = Field(default=200, ge=1, le=10_000, description="most queued records taken in one batch")
    poll_interval_s: float = Field(
        default=0.2, gt=0, le=60, description="SQLite: how often an idle follower looks at the queue"
    )
    listen_timeout_s: float = Field(
        default=5.0, gt=0, le=300,
        description="PostgreSQL: longest idle wait for a NOTIFY before looking anyway (one lost in a reconnect)",
    )  # fmt: skip
    log_every_s: float = Field(
        default=5.0, gt=0, description="at most one progress line per this many seconds"
    )
    max_attempts: int = Field(
        default=3, ge=1, description="a record whose match failed this often is parked until written again"
    )
    index_wait_s: float = Field(
        default=30.0, gt=0, description="before the first full run: how often to look for the key index"
    )
    retry_max_s: float = Field(
        default=30.0, gt=0, description="longest back-off while the store is unreachable"
    )
    name: str = Field(
        default="",
        description="the follower's name on its queue claims (default: the host name); give each follower on one "
        "host its own, and a restarted follower the same one, so that it takes back the batch it was killed in",
    )
    claim_lease_s: float = Field(
        default=60.0, gt=0, le=3600,
        description="how long a batch a follower took stays its own; after that another follower may take it",
    )  # fmt: skip
    vehicles_every_s: float = Field(
        default=1.0, ge=0, le=60,
        description="under load (full batches), rebuild golden vehicles at most this often, for every batch since: "
        "parties are linked first, and a car named in several batches is built once; 0: after every batch",
    )  # fmt: skip
    micro_batches: bool = Field(
        default=True,
        description="match the parties of a batch together in one transaction (matching/neighbourhood.py); "
        "false: one record per transaction, as before",
    )


class MatchingConfig(BaseModel):
    """``AUTOHUB_MATCHING__MATCH_THRESHOLD`` etc."""

    match_threshold: float = Field(
        default=0.9, gt=0, lt=1, description="merge pairs at or above this probability"
    )
    review_threshold: float = Field(default=0.5, gt=0, lt=1, description="grey band: review, do not merge")
    shared_identifier_min_names: int = Field(default=3, ge=2, description="a mobile/e-mail this many names share is no evidence")  # fmt: skip
    incremental_candidate_limit: int = Field(
        default=500, ge=10, description="most candidates an incremental match scores for one record"
    )
    term_totals_max_age_s: float = Field(
        default=300.0, ge=0, le=86_400,
        description="a long-lived incremental matcher (the follower) counts the key index for term frequencies at "
        "most this often (a scan per column); 0: before every batch",
    )  # fmt: skip
    pair_score_memo: int = Field(
        default=100_000, ge=0, le=10_000_000,
        description="pairs a long-lived incremental matcher remembers the score of, by the rows compared "
        "(matching/score_memo.py; ~250 bytes a pair); 0: none",
    )  # fmt: skip
    model_path: Path | None = Field(default=None, description="trained model JSON; default: the shipped one")
    follow: FollowerConfig = Field(default_factory=FollowerConfig)

    @model_validator(mode="after")
    def _band(self) -> MatchingConfig:
        if self.review_threshold >= self.match_threshold:
            raise ValueError("review_threshold must be below match_threshold")
        return self

    @property
    def model(self) -> Path:
        return self.model_path or DEFAULT_MODEL_PATH


def matching_config(settings: Settings) -> MatchingConfig:
    """``AUTOHUB_MATCHING__…``: this room's block of the settings."""
    return settings.section("matching", MatchingConfig)
