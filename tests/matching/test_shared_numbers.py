"""A number many names share (a fleet's pool phone, a dealer's own) is no evidence on its own, but two records
that carry it under the same full name are the same driver; a title form is no extra name on a family phone.
Full and incremental runs decide alike."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.run import run_party_matching
from tests.matching.conftest import lead, load
from tests.matching.test_incremental import _golden, _matched

POOL = "13957190001"  # a fleet's pool phone: every driver gives it
DRIVERS = ("王超婷", "李子涛", "黄德刚", "刘春怡")


def _pool(first: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [lead(f"D33001-9{first + n:05d}", name, POOL, first + n) for n, name in enumerate(DRIVERS)]


def test_a_full_name_on_a_pool_phone_joins_its_namesake_and_nobody_else(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *_pool(100), lead("D33002-900200", "王超婷", POOL, 200), lead("D33002-900201", "王伟", POOL, 201),
         lead("D33003-900202", "王伟", POOL, 202))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    golden = report.cluster_of
    assert golden[("dms", "D33001-900100")] == golden[("dms", "D33002-900200")]  # 王超婷 twice
    drivers = {golden[("dms", f"D33001-9{100 + n:05d}")] for n in range(len(DRIVERS))}
    assert len(drivers) == len(DRIVERS)  # the pool phone joins no two names
    assert golden[("dms", "D33002-900201")] != golden[("dms", "D33003-900202")]  # 王伟: too common to bind


def test_a_title_form_on_a_family_phone_is_no_third_name(hub: Any) -> None:
    sessions, loader = hub
    family = "13957190011"
    load(loader, lead("D33001-900301", "王建勋", family, 301), lead("D33001-900302", "李梅", family, 302),
         lead("D33002-900303", "王先生", family, 303))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    assert not [s for s in report.shared if s.value == "+86" + family]  # two names: still evidence


def test_an_incremental_run_binds_a_pool_phone_to_the_name_as_a_full_run_does(hub: Any) -> None:
    sessions, loader, matcher = _matched(hub)
    load(loader, *_pool(400))
    assert matcher.match(matcher.pending()).newly_shared == 1
    load(loader, lead("D33002-900500", "王超婷", POOL, 500), lead("D33002-900501", "李子涛", POOL, 501))
    matcher.match(matcher.pending())
    assert _golden(sessions, "dms", "D33002-900500") == _golden(sessions, "dms", "D33001-900400")
    assert _golden(sessions, "dms", "D33002-900501") == _golden(sessions, "dms", "D33001-900401")
    assert _golden(sessions, "dms", "D33002-900500") != _golden(sessions, "dms", "D33002-900501")
