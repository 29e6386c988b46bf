"""Survivorship: build a golden party from its members' canonical records, attribute by attribute, with lineage.

The rules live in ``survivorship.yaml`` (a data steward's file, not code); this module applies them and
records, for every golden attribute, the member record it came from and the rule that chose it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from core.declarations import rank_aliases
from core.errors import ConfigError
from core.settings import get_settings
from store.matching_input import PartyRecord

DEFAULT_RULES = Path(__file__).parent / "survivorship.yaml"
RULES = ("validated", "source_rank", "most_recent", "most_complete")


@dataclass(frozen=True)
class AttributeRule:
    name: str
    path: str | None  # a top-level field of the canonical party body
    contact: str | None  # or a contact-point kind (mobile, email, address)
    rules: tuple[str, ...]
    source_rank: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    value: Any
    record: PartyRecord


@dataclass(frozen=True)
class Chosen:
    attribute: str
    value: Any
    record: PartyRecord
    rule: str


def declared_rules() -> tuple[AttributeRule, ...]:
    """The shipped rules, with every declared instance's ``rank_as`` applied (the sources file in the settings)."""
    return load_rules(rank_as=rank_aliases(get_settings().declared_sources_file))


@cache
def load_rules(
    path: Path = DEFAULT_RULES, rank_as: tuple[tuple[str, str], ...] = ()
) -> tuple[AttributeRule, ...]:
    """The rules of ``path``; ``rank_as`` (instance, source) puts each instance right after the source whose
    rank it takes, in every list that names that source — a second insurer declared ``rank_as: insurance``
    ranks with the insurer instead of after every listed source."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"survivorship rules unreadable: {exc}", field=str(path)) from exc
    defaults = spec.get("defaults") or {}
    attributes: list[AttributeRule] = []
    for name, entry in (spec.get("attributes") or {}).items():
        rules = tuple(entry.get("rules") or defaults.get("rules") or ())
        unknown = set(rules) - set(RULES)
        if unknown or bool(entry.get("path")) == bool(entry.get("contact")):
            raise ConfigError(f"attribute {name!r}: unknown rule {sorted(unknown)} or not exactly one of path/contact",
                              field=f"{path.name}: attributes.{name}", fix=f"rules are {', '.join(RULES)}")  # fmt: skip
        ranked = _with_instances(
            tuple(entry.get("source_rank") or defaults.get("source_rank") or ()), rank_as
        )
        attributes.append(AttributeRule(name, entry.get("path"), entry.get("contact"), rules, ranked))
    return tuple(attributes)


def _with_instances(ranked: tuple[str, ...], rank_as: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    expanded: list[str] = []
    for source in ranked:
        expanded.append(source)
        expanded += [instance for instance, like in rank_as if like == source and instance not in ranked]
    return tuple(expanded)


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, "unknown")


def _completeness(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_completeness(v) for v in value.values())
    if isinstance(value, list):
        return sum(_completeness(v) for v in value)
    return 1 if _filled(value) else 0


def _validity(value: Any) -> int:
    if isinstance(value, list):
        return max((_validity(v) for v in value), default=0)
    if isinstance(value, dict):
        if value.get("is_placeholder"):
            return 0
        return 2 if value.get("verified") else 1
    return 1


def _when(record: PartyRecord) -> datetime:
    return record.updated_at


def _score(rule: str, spec: AttributeRule) -> Callable[[Candidate], Any]:
    if rule == "validated":
        return lambda c: _validity(c.value)
    if rule == "source_rank":
        rank = {source: n for n, source in enumerate(spec.source_rank)}
        return lambda c: -rank.get(c.record.source, len(rank))
    if rule == "most_recent":
        return lambda c: _when(c.record)
    return lambda c: _completeness(c.value)  # most_complete


def _candidates(spec: AttributeRule, members: Sequence[PartyRecord]) -> list[Candidate]:
    found: list[Candidate] = []
    for record in members:
        if spec.path:
            value = record.body.get(spec.path)
            if _filled(value):
                found.append(Candidate(value, record))
        else:
            for point in record.body.get("contact_points") or []:
                if point.get("kind") == spec.contact and not point.get("is_placeholder"):
                    found.append(Candidate(point, record))
    return found


def choose(spec: AttributeRule, members: Sequence[PartyRecord]) -> Chosen | None:
    remaining = _candidates(spec, members)
    if not remaining:
        return None
    for rule in spec.rules:
        score = _score(rule, spec)
        best = max(score(c) for c in remaining)
        remaining = [c for c in remaining if score(c) == best]
        if len(remaining) == 1:
            return Chosen(spec.name, remaining[0].value, remaining[0].record, rule)
    oldest = min(remaining, key=lambda c: c.record.record_id)
    return Chosen(spec.name, oldest.value, oldest.record, "tie: oldest record")


def golden_party(members: Sequence[PartyRecord], rules: Sequence[AttributeRule] | None = None) -> tuple[dict[str, Any], list[Chosen]]:  # fmt: skip
    """The golden body and the lineage of each attribute in it."""
    chosen = [c for spec in (rules or declared_rules()) if (c := choose(spec, members)) is not None]
    body: dict[str, Any] = {c.attribute: c.value for c in chosen}
    body["sources"] = sorted({m.source for m in members})
    body["member_count"] = len(members)
    return body, chosen
