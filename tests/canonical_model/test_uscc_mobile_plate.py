"""USCC (GB 32100), mobile numbers and licence plates (GA 36-2018)."""

import pytest

from canonical_model.identifiers import InvalidMobile, InvalidPlate, InvalidUscc, mobile, plate, uscc
from canonical_model.identifiers.masking import keyed_hash, mask_mobile, mask_resident_id


@pytest.mark.parametrize("value", ["91350100M000100Y43", "91110000600037341L"])
def test_published_valid_uscc(value: str) -> None:
    parsed = uscc.parse(value)
    assert parsed.value == value
    assert parsed.warnings == ()
    assert parsed.region_code == value[2:8]


def test_uscc_weights_are_powers_of_three_mod_31() -> None:
    assert [pow(3, i, 31) for i in range(17)] == [
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91350100M000100Y44", "check_digit"),
        ("91350100M000100Y4", "length"),
        ("9135010OM000100Y43", "format"),
        ("91350100M00010OY43", "format"),
    ],
)
def test_uscc_rejections(value: str, reason: str) -> None:
    with pytest.raises(InvalidUscc) as err:
        uscc.parse(value)
    assert err.value.reason == reason


def test_uscc_embedded_organisation_code_check_is_a_warning() -> None:
    body = "91350100M000100Y5"  # organisation code check digit changed from 4 to 5
    parsed = uscc.parse(body + uscc.calc_check_char(body))
    assert parsed.warnings


@pytest.mark.parametrize(
    "value",
    [
        "+86 138-1234-5678",
        "0086 13812345678",
        "8613812345678",
        "138 1234 5678",
        "(+86)138.1234.5678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_forms_normalise_to_e164(value: str) -> None:
    assert mobile.validate(value) == "+8613812345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12812345678", "prefix"),
        ("1381234567", "length"),
        ("010-12345678", "prefix"),
        ("138123456a8", "format"),
    ],
)
def test_mobile_rejections(value: str, reason: str) -> None:
    with pytest.raises(InvalidMobile) as err:
        mobile.parse(value)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [("13800000000", True), ("13912345678", True), ("13971234765", False), ("18600001111", False)],
)
def test_placeholder_mobiles_are_flagged(value: str, placeholder: bool) -> None:
    assert mobile.parse(value).placeholder is placeholder


def test_unknown_prefix_is_a_warning_not_a_rejection() -> None:
    parsed = mobile.parse("14012345679")  # 140 is a data-only/unassigned block in phonenumbers' metadata
    assert parsed.e164 == "+8614012345679"
    assert parsed.warnings


@pytest.mark.parametrize(
    ("value", "normal", "kind"),
    [
        ("京A·12345", "京A12345", "ordinary"),
        ("沪 ad12345", "沪AD12345", "new_energy_small"),
        ("粤B-12345D", "粤B12345D", "new_energy_large"),
        ("京A1234学", "京A1234学", "special"),
        ("粵B12345", "粤B12345", "ordinary"),
    ],
)
def test_plates(value: str, normal: str, kind: str) -> None:
    parsed = plate.parse(value)
    assert (parsed.value, parsed.kind) == (normal, kind)


@pytest.mark.parametrize(
    ("value", "normal"),
    [("遼A12345", "辽A12345"), ("黒A12345", "黑A12345"), ("滬A12345", "沪A12345"), ("晉A12345", "晋A12345")],
)
def test_traditional_province_abbreviations_are_normalised(value: str, normal: str) -> None:
    assert plate.validate(value) == normal


@pytest.mark.parametrize(
    ("value", "reason"),
    [("AB12345", "province"), ("京AI2345", "format"), ("京A1234", "format"), ("京A12345678", "format")],
)
def test_plate_rejections(value: str, reason: str) -> None:
    with pytest.raises(InvalidPlate) as err:
        plate.parse(value)
    assert err.value.reason == reason


def test_masks() -> None:
    assert mask_resident_id("11010519491231002X") == "110105********002X"
    assert mask_mobile("+8613812345678") == "+86138****5678"


def test_keyed_hash_depends_on_key_and_refuses_empty_key() -> None:
    a = keyed_hash("11010519491231002X", b"k1")
    assert a == keyed_hash("11010519491231002X", b"k1")
    assert a != keyed_hash("11010519491231002X", b"k2")
    with pytest.raises(ValueError, match="AUTOHUB_PII_HASH_KEY"):
        keyed_hash("x", b"")


@pytest.mark.parametrize("national", ["17947004688", "17951123456", "17909876543"])
def test_mobiles_starting_like_an_ip_dialling_prefix_keep_all_digits(national: str) -> None:
    """Regression: phonenumbers read 179xx as a carrier prefix and returned +4688 for 17947004688."""
    assert mobile.validate(national) == "+86" + national
    assert mobile.validate("+86 " + national) == "+86" + national
