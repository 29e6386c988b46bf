"""Survivorship rules on hand-built members: each assertion fails if its rule is missing or misordered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError
from matching.survivorship import choose, golden_party, load_rules
from store.matching_input import PartyRecord


def _party(n: int, source: str, day: int = 1, **body: Any) -> PartyRecord:
    return PartyRecord(n, source, f"{source}-{n}", body, datetime(2024, 1, day, tzinfo=UTC))


def _mobile(number: str, *, verified: bool = False, placeholder: bool = False) -> dict[str, Any]:
    return {"kind": "mobile", "mobile": number, "verified": verified, "is_placeholder": placeholder}


RULES = {rule.name: rule for rule in load_rules()}


def test_the_legal_name_comes_from_the_erp_even_when_the_portal_is_newer() -> None:
    members = [_party(1, "portal", day=20, name={"raw": "張偉", "pinyin": "zhang wei"}),
               _party(2, "erp", day=1, name={"raw": "张伟", "pinyin": "zhang wei", "simplified": "张伟"})]  # fmt: skip
    chosen = choose(RULES["name"], members)
    assert chosen is not None
    assert (chosen.value["raw"], chosen.record.source, chosen.rule) == ("张伟", "erp", "source_rank")


def test_a_verified_mobile_beats_a_newer_unverified_one_and_a_placeholder_never_wins() -> None:
    members = [_party(1, "dms", day=30, contact_points=[_mobile("+8613800000000", placeholder=True)]),
               _party(2, "erp", day=2, contact_points=[_mobile("+8613912345670", verified=True)]),
               _party(3, "portal", day=20, contact_points=[_mobile("+8613955556666")])]  # fmt: skip
    chosen = choose(RULES["mobile"], members)
    assert chosen is not None
    assert (chosen.value["mobile"], chosen.rule) == ("+8613912345670", "validated")


def test_among_equally_valid_mobiles_the_most_recent_wins() -> None:
    members = [_party(1, "erp", day=2, contact_points=[_mobile("+8613912345670")]),
               _party(2, "dms", day=20, contact_points=[_mobile("+8613955556666")])]  # fmt: skip
    chosen = choose(RULES["mobile"], members)
    assert chosen is not None
    assert (chosen.value["mobile"], chosen.rule) == ("+8613955556666", "most_recent")


def test_the_golden_body_names_its_sources_and_skips_empty_attributes() -> None:
    body, lineage = golden_party([_party(1, "dms", gender="unknown", name={"raw": "王芳", "pinyin": "wang fang"}),
                                  _party(2, "portal", gender="female")])  # fmt: skip
    assert body["gender"] == "female"  # "unknown" is no value
    assert body["sources"] == ["dms", "portal"]
    assert {c.attribute for c in lineage} == {"name", "gender"}


def test_a_rules_file_with_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("attributes:\n  name: {path: name, rules: [loudest]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="loudest"):
        load_rules(bad)


def test_a_declared_instance_takes_the_rank_of_the_source_it_stands_in_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import get_settings

    members = [_party(1, "portal", day=20, name={"raw": "張偉", "pinyin": "zhang wei"}),
               _party(2, "insurer_b", day=1, name={"raw": "张伟", "pinyin": "zhang wei"})]  # fmt: skip
    unranked = choose(RULES["name"], members)  # an unlisted source ranks after every listed one
    assert unranked is not None
    assert unranked.record.source == "portal"
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  insurer_b: {type: http, mapping: insurer_b, rank_as: insurance}\n",
                       encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(sources))
    get_settings.cache_clear()
    try:
        body, lineage = golden_party(
            members
        )  # the declared rules: insurer_b ranks as the insurer, before the portal
    finally:
        get_settings.cache_clear()
    assert body["name"]["raw"] == "张伟"
    assert {c.attribute: c.record.source for c in lineage}["name"] == "insurer_b"
    ranked = {rule.name: rule for rule in load_rules(rank_as=(("insurer_b", "insurance"),))}
    assert ranked["name"].source_rank == ("erp", "finance", "insurance", "insurer_b", "portal", "dms")
