"""Landlines and legacy organisation codes: every written form to one normal form, and the rule's
reason when a value is none."""

from __future__ import annotations

import pytest

from canonical_model.identifiers import InvalidLandline, InvalidOrgCode, landline, org_code, uscc


@pytest.mark.parametrize(
    "written",
    ["020-88880900", "(020)88880900", "020 8888 0900", "+86 20 8888 0900", "0086-20-88880900", "（０２０）８８８８０９００",
     "86 20 88880900", "020-8888-0900"],
)  # fmt: skip
def test_every_written_form_of_one_guangzhou_number_is_one_e164(written: str) -> None:
    assert landline.validate(written) == "+862088880900"


@pytest.mark.parametrize(
    ("written", "e164", "extension"),
    [("0571-8888 0900 转123", "+8657188880900", "123"), ("020-88880900-123", "+862088880900", "123"),
     ("010-6552 9988 ext 7", "+861065529988", "7"), ("0512 2097 5211-321", "+8651220975211", "321")],
)  # fmt: skip
def test_an_extension_is_kept_apart_from_the_number(written: str, e164: str, extension: str) -> None:
    parsed = landline.parse(written)
    assert (parsed.e164, parsed.extension) == (e164, extension)


def test_a_400_hotline_parses_but_is_marked_as_a_shared_service_line() -> None:
    parsed = landline.parse("400-820-8820")
    assert parsed.service
    assert parsed.e164 == "+864008208820"
    assert not landline.parse("0571-88880900").service


@pytest.mark.parametrize(
    ("written", "reason"),
    [("88880900", "missing_area_code"), ("13812345678", "is_mobile"), ("0571-888809", "length"),
     ("020-0888 0900", "length"), ("020-8888-09OO", "format")],
)  # fmt: skip
def test_what_is_no_landline_says_why(written: str, reason: str) -> None:
    with pytest.raises(InvalidLandline) as caught:
        landline.parse(written)
    assert caught.value.reason == reason


def test_a_source_may_declare_the_area_of_its_local_numbers() -> None:
    assert landline.validate("88880900", default_area="0571") == "+8657188880900"


@pytest.mark.parametrize("written", ["M000100Y4", "M0001-00Y4", "60003734-1", "600037341"])
def test_organisation_code_vectors(written: str) -> None:
    assert org_code.is_valid(written)


@pytest.mark.parametrize(("written", "reason"), [("600037342", "check_digit"), ("60003734", "length"),
                                                 ("6000-3734-1a", "length"), ("60003734a", "format")])  # fmt: skip
def test_a_wrong_organisation_code_says_why(written: str, reason: str) -> None:
    with pytest.raises(InvalidOrgCode) as caught:
        org_code.parse(written)
    assert caught.value.reason == reason


def test_the_organisation_code_is_inside_its_uscc() -> None:
    for code in ("91350100M000100Y43", "91110000600037341L"):
        assert org_code.is_valid(org_code.of_uscc(uscc.validate(code)))
    assert org_code.of_uscc("91350100M000100Y43") == "M000100Y4"
