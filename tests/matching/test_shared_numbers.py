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


def test_a_title_form_on_a_household_number_names_the_one_carrier_of_its_surname() -> None:
    from matching.features import title_bound

    def row(
        n: int, name: str, surname: str, *, title: bool = False, gender: str | None = None
    ) -> dict[str, Any]:
        return {"unique_id": n, "kind": "person", "name_cn": name, "name_py": None if title else name,
                "surname_py": surname, "title_form": title, "gender": gender, "org_name": None}  # fmt: skip

    family = [row(1, "曾波杰", "zeng", gender="male"), row(2, "曾杰", "zeng"), row(3, "袁琦秀", "yuan")]
    mister = row(9, "曾先生", "zeng", title=True, gender="male")
    assert title_bound("+8613513775683", mister, [*family, mister]) is not None  # 曾杰: a slip for 曾波杰
    assert (
        title_bound("+8613513775683", row(9, "曾女士", "zeng", title=True, gender="female"), family) is None
    )
    two = [*family, row(4, "曾明", "zeng")]  # 曾明 and 曾波杰 share no syllable: two men of the family
    assert title_bound("+8613513775683", mister, two) is None
    pool = [row(10 + n, f"王{c}华", "wang") for n, c in enumerate("一二三四五")] + family[:1]
    assert (
        title_bound("+8613513775683", mister, pool) is None
    )  # a fleet's or a dealer's number: too many names
