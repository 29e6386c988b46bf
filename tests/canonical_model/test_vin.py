"""VIN rules against the published vectors (GB 16735 / ISO 3779) and generated VINs."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canonical_model.identifiers import InvalidVin, vin


@pytest.mark.parametrize("value", ["LFV2A21K7G3000001", "LSGPC52U4HF012345", "LSVAB4182N2000777"])
def test_published_valid_vins(value: str) -> None:
    parsed = vin.parse(value)
    assert parsed.value == value
    assert parsed.check_digit_ok
    assert parsed.warnings == ()


def test_published_invalid_vin_is_rejected_for_china_wmi() -> None:
    with pytest.raises(InvalidVin) as err:
        vin.parse("LFV2A21K0G3000001")
    assert err.value.reason == "check_digit"
    assert "'7'" in str(err.value)  # tells the user which check digit the rest of the VIN gives


def test_wrong_check_digit_outside_china_is_only_a_warning() -> None:
    # 1M8GDM9AXKP042788 is the textbook North American example (check digit X); break it.
    assert vin.parse("1M8GDM9AXKP042788").check_digit_ok
    parsed = vin.parse("1M8GDM9A1KP042788")
    assert not parsed.check_digit_ok
    assert parsed.warnings
    assert "expected 'X'" in parsed.warnings[0]


def test_lower_case_and_separators_are_normalised() -> None:
    assert vin.validate(" lfv2a21k7-g3000001 ") == "LFV2A21K7G3000001"


def test_letter_o_is_an_error_with_a_suggestion_never_a_silent_fix() -> None:
    with pytest.raises(InvalidVin) as err:
        vin.validate("LFV2A21K7G3OOO001")
    assert err.value.reason == "forbidden_letter"
    assert err.value.suggestion == "LFV2A21K7G3000001"


def test_no_suggestion_when_the_fix_would_not_pass_the_check_digit() -> None:
    with pytest.raises(InvalidVin) as err:
        vin.validate("LFV2A21K0G3OOO001")
    assert err.value.suggestion is None


@pytest.mark.parametrize(
    ("value", "reason"), [("LFV2A21K7G300001", "length"), ("LFV2A21K7G3000#01", "alphabet")]
)
def test_shape_errors(value: str, reason: str) -> None:
    with pytest.raises(InvalidVin) as err:
        vin.parse(value)
    assert err.value.reason == reason


def test_china_vin_with_unused_model_year_code_is_invalid() -> None:
    body = "LFV2A21K?03000001"
    value = body.replace("?", vin.calc_check_digit(body.replace("?", "0")))
    with pytest.raises(InvalidVin) as err:
        vin.parse(value)
    assert err.value.reason == "model_year"


def test_sections() -> None:
    parsed = vin.parse("LSGPC52U4HF012345")
    assert (parsed.wmi, parsed.vds, parsed.check_digit) == ("LSG", "PC52U", "4")
    assert (parsed.model_year_code, parsed.plant_code, parsed.serial) == ("H", "F", "012345")
    assert parsed.is_china_built


@pytest.mark.parametrize(
    ("code", "reference", "year"),
    [
        ("G", date(2016, 3, 1), 2016),
        ("G", date(1986, 5, 1), 1986),
        ("A", date(2009, 9, 1), 2010),
        ("Y", date(2001, 1, 1), 2000),
        ("1", date(2031, 1, 1), 2031),
        ("N", date(2022, 1, 1), 2022),
    ],
)
def test_model_year_cycle_resolved_by_production_date(code: str, reference: date, year: int) -> None:
    assert vin.model_year(code, reference) == year


def test_unused_model_year_code_has_no_year() -> None:
    assert vin.model_year("U") is None


_vin_chars = st.sampled_from(vin.ALPHABET)


@given(st.lists(_vin_chars, min_size=17, max_size=17))
def test_any_vin_with_computed_check_digit_is_valid(chars: list[str]) -> None:
    chars[0] = "L"
    chars[9] = "G"
    body = "".join(chars)
    value = body[:8] + vin.calc_check_digit(body) + body[9:]
    assert vin.validate(value.lower()) == value


@given(st.lists(_vin_chars, min_size=17, max_size=17), st.integers(0, 16), _vin_chars)
def test_single_substitution_in_china_vin_is_caught_or_harmless(chars: list[str], pos: int, ch: str) -> None:
    """Weights are non-zero except at position 9 itself, so most single typos change the check digit."""
    chars[0], chars[9] = "L", "G"
    body = "".join(chars)
    good = body[:8] + vin.calc_check_digit(body) + body[9:]
    typo = good[:pos] + ch + good[pos + 1 :]
    if pos in (0, 9) or typo == good:
        return
    if vin.calc_check_digit(typo) == typo[8]:
        # Only letters that transliterate to the same value as the original (e.g. A and J) escape the check.
        assert pos != 8
        return
    assert not vin.is_valid(typo)
