"""GB 11643-1999 resident ID rules against the published vectors."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canonical_model.identifiers import InvalidResidentId, resident_id


def test_published_valid_number() -> None:
    parsed = resident_id.parse("11010519491231002X")
    assert parsed.value == "11010519491231002X"
    assert parsed.region_code == "110105"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "female"  # sequence 002: even
    assert not parsed.upgraded_from_15


def test_published_invalid_number() -> None:
    with pytest.raises(InvalidResidentId) as err:
        resident_id.parse("110105194912310021")
    assert err.value.reason == "check_digit"


def test_lower_case_x_is_accepted() -> None:
    assert resident_id.validate("11010519491231002x") == "11010519491231002X"


def test_fifteen_digit_form_is_upgraded() -> None:
    parsed = resident_id.parse("110105491231002")
    assert parsed.value == "11010519491231002X"
    assert parsed.upgraded_from_15


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1101051949123100", "length"),
        ("11010519491231002Y", "format"),
        ("990105194912310020", "region"),
        ("110105194913310029", "birth_date"),
        ("11010549123100A", "format"),
    ],
)
def test_rejections_name_the_rule(value: str, reason: str) -> None:
    with pytest.raises(InvalidResidentId) as err:
        resident_id.parse(value)
    assert err.value.reason == reason


def test_birth_date_in_the_future_is_rejected() -> None:
    first17 = "11010520300101001"
    with pytest.raises(InvalidResidentId) as err:
        resident_id.parse(first17 + resident_id.calc_check_char(first17), today=date(2026, 11, 23))
    assert err.value.reason == "birth_date"


def test_error_message_never_shows_the_whole_number() -> None:
    with pytest.raises(InvalidResidentId) as err:
        resident_id.parse("110105194912310021")
    assert "110105194912310021" not in str(err.value)
    assert "110105********0021" in str(err.value)


def test_residence_permit_prefix() -> None:
    first17 = "81000019900101001"
    parsed = resident_id.parse(first17 + resident_id.calc_check_char(first17))
    assert parsed.is_residence_permit
    assert parsed.gender == "male"


@given(st.dates(date(1900, 1, 1), date(2020, 12, 31)), st.integers(0, 999))
def test_generated_numbers_round_trip(born: date, seq: int) -> None:
    first17 = f"440305{born:%Y%m%d}{seq:03d}"
    number = first17 + resident_id.calc_check_char(first17)
    parsed = resident_id.parse(number)
    assert parsed.birth_date == born
    assert parsed.gender == ("male" if seq % 2 else "female")
    # Any single changed digit in the body is caught by MOD 11-2.
    i = seq % 17
    wrong = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    assert not resident_id.is_valid(wrong)


def test_full_width_identifiers_are_read_as_typed_by_chinese_input_methods() -> None:
    from canonical_model.identifiers import mobile, plate, uscc, vin

    assert resident_id.validate("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
    assert mobile.validate("１３８－１２３４－５６７８") == "+8613812345678"
    assert plate.validate("粤Ｂ·Ｄ１２３４５") == "粤BD12345"
    assert vin.validate("ＬＳＧＰＣ５２Ｕ４ＨＦ０１２３４５") == "LSGPC52U4HF012345"
    assert uscc.validate("９１３５０１００Ｍ０００１００Ｙ４３") == "91350100M000100Y43"
