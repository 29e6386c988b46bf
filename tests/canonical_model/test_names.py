"""Chinese name normalisation: traditional → simplified, surname readings, romanised names given-name first."""

import pytest

from canonical_model.names import (
    han_names_disagree,
    normalise_name,
    romanised_pinyin_keys,
    split_han,
    to_simplified,
)


@pytest.mark.parametrize(("raw", "pinyin"), [
    ("张伟", "zhang wei"), ("張偉", "zhang wei"), ("Wei Zhang", "zhang wei"), ("ZHANG Wei", "zhang wei"),
    ("Zhang, Wei", "zhang wei"), ("Na Li", "li na"), ("Li Na", "li na"), ("Xiaoming Wang", "wang xiaoming"),
])  # fmt: skip
def test_same_person_written_differently_gets_one_key(raw: str, pinyin: str) -> None:
    assert normalise_name(raw).pinyin == pinyin


@pytest.mark.parametrize(("raw", "surname_pinyin"), [
    ("单田芳", "shan"), ("曾志伟", "zeng"), ("仇英", "qiu"), ("解缙", "xie"), ("区建", "ou"), ("朴树", "piao"),
    ("查良镛", "zha"),
])  # fmt: skip
def test_surnames_with_special_readings(raw: str, surname_pinyin: str) -> None:
    assert normalise_name(raw).pinyin.split()[0] == surname_pinyin


@pytest.mark.parametrize(
    ("raw", "surname", "given"),
    [("欧阳娜娜", "欧阳", "娜娜"), ("司马光", "司马", "光"), ("诸葛亮", "诸葛", "亮"), ("马光", "马", "光")],
)
def test_compound_surnames(raw: str, surname: str, given: str) -> None:
    assert split_han(raw) == (surname, given)


def test_traditional_hong_kong_and_taiwan_forms_become_simplified() -> None:
    assert to_simplified("歐陽鋒") == "欧阳锋"
    assert normalise_name("陳 大 文").simplified == "陈大文"


def test_cantonese_and_wade_giles_surnames_map_to_pinyin() -> None:
    chan = normalise_name("Chan Tai Man")
    assert chan.pinyin == "chen taiman"
    assert normalise_name("Tai Man Chan").pinyin == "chen taiman"
    assert set(normalise_name("Wong Ka Fai").surname_pinyin_variants) == {"wang", "huang"}


def test_source_declared_order_overrides_the_guess() -> None:
    assert normalise_name("Zhang Wei", order="given_first").pinyin == "wei zhang"


def test_empty_and_mixed() -> None:
    assert normalise_name("  ").script == "empty"
    mixed = normalise_name("张 Wei")
    assert (mixed.script, mixed.surname) == ("mixed", "张")


def test_a_romanised_search_looks_under_every_reading_of_the_name() -> None:
    # 方伟 typed given name first: Wei (魏) is the more frequent surname, so the order guess alone reads 魏方.
    assert normalise_name("Wei Fang").pinyin_key == "weifang"
    assert "fangwei" in romanised_pinyin_keys("Wei Fang")
    assert romanised_pinyin_keys("Wei Zhang") == {"zhangwei", "weizhang"}
    assert {"wangwei", "huangwei"} <= romanised_pinyin_keys("Wei Wong")  # Wong is 王 or 黄
    # An explicit order is trusted; a single word or Chinese characters give no romanised readings.
    assert romanised_pinyin_keys("ZHANG Wei") == {"zhangwei"}
    assert romanised_pinyin_keys("Zhang, Wei") == {"zhangwei"}
    assert romanised_pinyin_keys("Zhang") == {"zhang"}
    assert romanised_pinyin_keys("张伟") == set()


@pytest.mark.parametrize(("raw", "surname", "title"), [
    ("王先生", "王", "先生"), ("李女士", "李", "女士"), ("张总", "张", "总"), ("刘经理", "刘", "经理"), ("小王", "王", "小"),
    ("老王", "王", "老"), ("欧阳先生", "欧阳", "先生"), ("陳老師", "陈", "老师"),
])  # fmt: skip
def test_a_surname_with_a_title_is_a_title_form(raw: str, surname: str, title: str) -> None:
    name = normalise_name(raw)
    assert (name.surname, name.given, name.title) == (surname, "", title)


@pytest.mark.parametrize("raw", ["王伟", "张三", "阿里", "小明", "欧阳建国"])
def test_a_full_name_is_not_a_title_form(raw: str) -> None:
    assert normalise_name(raw).title == ""


@pytest.mark.parametrize(
    ("left", "right"),
    [("彭军", "袁琦秀"), ("李伟", "李明"), ("买买提热合曼", "李伟")],
)
def test_names_of_two_people_disagree(left: str, right: str) -> None:
    assert han_names_disagree(left, right)
    assert han_names_disagree(right, left)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("张伟", "张玮"),  # a homophone
        ("邵慧", "邵慧桂"),  # a dropped character
        ("唐秀", "小秀"),  # the given name after 小
        ("李亮志", "亮志"),  # the given name alone
        ("李建国", "李建军"),  # brothers, perhaps, but a typo keeps a syllable too: left to the model
        ("王", "王伟"),  # a surname alone says too little
    ],
)
def test_names_that_may_be_one_person_do_not_disagree(left: str, right: str) -> None:
    assert not han_names_disagree(left, right)
    assert not han_names_disagree(right, left)


def test_a_syllable_in_common_by_chance_does_not_make_two_surnames_one_person() -> None:
    assert han_names_disagree("钱鑫超", "田宏鑫")  # husband and wife, one phone, one car
    assert not han_names_disagree("小秀", "唐秀")
