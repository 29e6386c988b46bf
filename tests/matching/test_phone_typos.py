"""A phone mistyped in one digit still links the same name; neighbouring numbers under two names — a family's or
a company's block of numbers, at one address or beside a title form (沈先生) — never do."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.features import with_mobile
from matching.incremental import IncrementalMatcher
from matching.run import run_party_matching
from store import golden as store_golden
from tests.matching.conftest import erp_customer, lead, load


def test_the_same_name_with_a_phone_one_digit_off_is_one_person(hub: Any) -> None:
    sessions, loader = hub
    load(loader, erp_customer("C00710001", "沈昊静", "13957170001"),
         lead("D31001-071001", "沈昊静", "139 5717 8001", 71001),  # the 8th digit mistyped at the dealer
         erp_customer("C00710003", "沈昊静", "13957176661"))  # three digits off: no evidence  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00710001")] == report.cluster_of[("dms", "D31001-071001")]
    assert report.cluster_of[("erp", "C00710003")] != report.cluster_of[("erp", "C00710001")]


def test_a_title_form_with_a_phone_one_digit_off_is_left_alone(hub: Any) -> None:
    """刘女士 names no one: beside 刘琳琪 with a phone one digit off she may as well be her sister."""
    sessions, loader = hub
    load(
        loader,
        erp_customer("C00710011", "刘琳琪", "18932208290"),
        lead("D31001-071011", "刘女士", "189 3220 9290", 71011),
    )
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00710011")] != report.cluster_of[("dms", "D31001-071011")]


def test_neighbouring_numbers_under_two_names_stay_two_people(hub: Any) -> None:
    sessions, loader = hub
    load(loader, erp_customer("C00710021", "沈建国", "13957170021"), erp_customer("C00710022", "沈建军", "13957170022"),
         lead("D31001-071023", "沈先生", "13957170023", 71023))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    clusters = {
        report.cluster_of[k] for k in [("erp", "C00710021"), ("erp", "C00710022"), ("dms", "D31001-071023")]
    }
    assert len(clusters) == 3


def test_an_incremental_match_finds_the_mistyped_phone_through_the_key_index(hub: Any) -> None:
    sessions, loader = hub
    load(loader, erp_customer("C00710031", "沈昊静", "13957170031"))
    run_party_matching(sessions, MatchingConfig())
    matcher = IncrementalMatcher(sessions, MatchingConfig())
    load(loader, lead("D31001-071031", "沈昊静", "13957170631", 71031))  # head and tail: the tail differs
    load(loader, lead("D31001-071032", "沈昊静", "13857170031", 71032))  # the third digit: the head differs
    matcher.match(matcher.pending())
    with sessions() as session:
        golden = store_golden.golden_by_key(session, "party")
    assert (
        golden[("dms", "D31001-071031")] == golden[("erp", "C00710031")] == golden[("dms", "D31001-071032")]
    )


def test_a_shared_number_bound_to_a_name_has_no_near_neighbours() -> None:
    plain, bound = with_mobile("+8613957170031"), with_mobile("+8613957170031~1a2b3c4d")
    assert (plain["mobile_head"], plain["mobile_tail"]) == ("+86139571", "70031")
    assert (bound["mobile_head"], bound["mobile_tail"]) == (None, None)
