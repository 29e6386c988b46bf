"""Matching settings, kept apart from the Splink code so reading the settings does not import Splink."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, model_validator

MODEL_VERSION = "party-v4"  # v4: a phone one digit off (hand-set m/u), blocking on surname + phone head/tail; v3: street address compared (hand-set m/u); v2: symmetric name swap, fuzzy names only when not Chinese
DEFAULT_MODEL_PATH = Path(__file__).parent / "models" / "party.json"


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
    model_path: Path | None = Field(default=None, description="trained model JSON; default: the shipped one")

    @model_validator(mode="after")
    def _band(self) -> MatchingConfig:
        if self.review_threshold >= self.match_threshold:
            raise ValueError("review_threshold must be below match_threshold")
        return self

    @property
    def model(self) -> Path:
        return self.model_path or DEFAULT_MODEL_PATH
