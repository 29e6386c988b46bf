"""Raw extract rows with their ground truth, and the defect bookkeeping every source writer shares."""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Variations that are legitimate data, not mistakes: a clean record may carry them.
FORMS = {
    "mobile_spaced", "mobile_plus86", "mobile_0086", "mobile_86", "mobile_dashed", "landline", "rid_15",
    "legacy_org_code", "romanised_western", "romanised_caps", "romanised_cantonese", "english_given_name",
    "traditional", "org_form_short", "org_form_long", "org_place_shi", "org_place_in_parentheses",
    "org_no_place", "org_branch_in_parentheses", "org_spaces", "org_place_no_shi", "name1_name2_split",
    "vin_lower", "vin_spaced", "no_party_type", "driver_on_fleet_car", "older_extract_loaded_later",
    "sap_blank_date", "company_as_app_user", "title_only_name", "duplicate_account", "relative_as_holder",
    "family_member_brings_car", "old_owner_still_bound",
}  # fmt: skip


@dataclass
class Row:
    """One raw record as its source delivers it, and what it truly says."""

    source: str
    stream: str
    file: str
    payload: dict[str, str]
    parties: list[tuple[str, str]] = field(default_factory=list)  # (party entity key, true entity id)
    tags: list[str] = field(default_factory=list)  # defects and forms applied

    @property
    def errors(self) -> list[str]:
        return [t for t in self.tags if t not in FORMS]

    @property
    def clean(self) -> bool:
        return not self.errors


class Dice:
    """A seeded random source that records which defects it applied to the row being written."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.tags: list[str] = []

    def hit(self, rate: float, tag: str | None = None) -> bool:
        if self.rng.random() < rate:
            if tag:
                self.tags.append(tag)
            return True
        return False

    def take(self) -> list[str]:
        tags, self.tags = self.tags, []
        return tags


@dataclass
class Extracts:
    rows: list[Row]
    files: list[tuple[str, str, str]]  # (source, stream, file) in load order

    def in_load_order(self) -> list[Row]:
        order = {(s, st, f): n for n, (s, st, f) in enumerate(self.files)}
        return sorted(self.rows, key=lambda r: order[(r.source, r.stream, r.file)])

    def party_truth(self) -> dict[tuple[str, str], str]:
        truth: dict[tuple[str, str], str] = {}
        for row in self.rows:
            for key, entity in row.parties:
                seen = truth.setdefault((row.source, key), entity)
                if seen != entity:
                    raise AssertionError(f"{row.source}/{key} belongs to {seen} and {entity}")
        return truth

    def tag_counts(self) -> Counter[str]:
        return Counter(t for r in self.rows for t in r.tags)

    def write(self, folder: Path) -> list[Path]:
        """Every file in load order, each as ``write_file`` writes it."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for source, stream, file in self.files:
            rows = [r.payload for r in self.rows if (r.source, r.stream, r.file) == (source, stream, file)]
            path = folder / source / file
            path.parent.mkdir(parents=True, exist_ok=True)
            self.write_file(path, rows)
            paths.append(path)
        return paths

    def write_file(self, path: Path, rows: list[dict[str, str]]) -> None:
        """One file as CSV (UTF-8 with BOM, as Excel-minded exports are); a world with other formats overrides it."""
        columns = list(dict.fromkeys(k for r in rows for k in r))
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
