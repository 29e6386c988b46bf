"""Chinese personal names and the forms front desks, apps and insurers write them in."""

from __future__ import annotations

import random
from functools import cache

# Surname → relative frequency (per mille, roughly the national distribution of the top surnames).
SURNAMES: dict[str, int] = {
    "王": 73, "李": 72, "张": 68, "刘": 54, "陈": 45, "杨": 31, "黄": 23, "赵": 22, "吴": 21, "周": 21,
    "徐": 17, "孙": 15, "马": 14, "朱": 13, "胡": 13, "郭": 12, "何": 12, "林": 11, "高": 11, "罗": 10,
    "郑": 10, "梁": 9, "谢": 8, "宋": 8, "唐": 8, "许": 7, "韩": 7, "冯": 7, "邓": 7, "曹": 6,
    "彭": 6, "曾": 6, "肖": 6, "田": 5, "董": 5, "潘": 5, "袁": 5, "蔡": 5, "蒋": 5, "余": 5,
    "叶": 4, "程": 4, "苏": 4, "吕": 4, "魏": 4, "丁": 4, "沈": 4, "单": 1, "欧阳": 1, "诸葛": 1,
}  # fmt: skip
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲峰建国志文辉斌宇浩凯健俊帆帅旭宁欣雪婷颖琳"
    "晨阳鹏飞鑫博翔昊然嘉怡佳梓涵子轩雨萱思彤一诺浩宇梦瑶海燕立新永胜春梅德华金凤淑珍晓东亮丹"
)
# Homophones and look-alikes a typist picks by mistake (same pinyin, different character).
HOMOPHONES: dict[str, str] = {
    "伟": "玮", "静": "婧", "丽": "莉", "军": "君", "华": "桦", "敏": "闵", "杰": "洁", "明": "铭", "红": "宏",
    "芳": "方", "磊": "蕾", "燕": "艳", "辉": "晖", "平": "萍", "涛": "韬", "斌": "彬", "峰": "锋", "霞": "侠",
    "刚": "钢", "玲": "琳", "勇": "涌", "婷": "亭", "颖": "莹", "浩": "皓", "宇": "雨", "欣": "馨", "鹏": "朋",
    "建": "健", "国": "果", "文": "雯", "志": "智", "晨": "辰", "阳": "洋", "佳": "嘉", "凯": "楷", "帆": "凡",
}  # fmt: skip
TITLES_MALE = ("先生", "总", "经理", "师傅")
TITLES_FEMALE = ("女士", "小姐", "女士")
ENGLISH_MALE = ("Tony", "Jack", "Kevin", "David", "Eric", "Leo", "Sam", "Jason")
ENGLISH_FEMALE = ("Amy", "Lily", "Coco", "Grace", "Vivian", "Cindy", "Joyce", "Emma")
CANTONESE = {"陈": "Chan", "王": "Wong", "黄": "Wong", "张": "Cheung", "李": "Lee", "刘": "Lau", "周": "Chow", "吴": "Ng"}  # fmt: skip
SURNAME_PINYIN = {"单": "shan", "曾": "zeng", "欧阳": "ouyang", "诸葛": "zhuge"}


def pick_surname(rng: random.Random) -> str:
    return rng.choices(list(SURNAMES), weights=list(SURNAMES.values()))[0]


def pick_given(rng: random.Random) -> str:
    n = 2 if rng.random() < 0.72 else 1
    return "".join(rng.choice(GIVEN_CHARS) for _ in range(n))


@cache
def _pinyin(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))


def romanise(rng: random.Random, surname: str, given: str, male: bool) -> tuple[str, str]:
    """A portal's romanised name: western order, all-caps, Cantonese spelling or an English given name."""
    sur = SURNAME_PINYIN.get(surname) or "".join(_pinyin(surname))
    giv = "".join(_pinyin(given))
    r = rng.random()
    if r < 0.45:
        return f"{giv.capitalize()} {sur.capitalize()}", "romanised_western"
    if r < 0.60:
        return f"{sur.upper()} {giv.upper()}", "romanised_caps"
    if r < 0.75 and surname in CANTONESE:
        return f"{giv.capitalize()} {CANTONESE[surname]}", "romanised_cantonese"
    english = rng.choice(ENGLISH_MALE if male else ENGLISH_FEMALE)
    return f"{english} {sur.capitalize()}", "english_given_name"


@cache
def _s2t() -> object:
    import opencc

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return str(_s2t().convert(text))  # type: ignore[attr-defined]


def name_typo(rng: random.Random, surname: str, given: str) -> str | None:
    """A homophone for one given-name character (None when no character has a known homophone)."""
    spots = [i for i, ch in enumerate(given) if ch in HOMOPHONES]
    if not spots:
        return None
    i = rng.choice(spots)
    return surname + given[:i] + HOMOPHONES[given[i]] + given[i + 1 :]


def with_title(rng: random.Random, surname: str, male: bool) -> str:
    return surname + rng.choice(TITLES_MALE if male else TITLES_FEMALE)


def familiar(rng: random.Random, surname: str) -> str:
    return rng.choice(("小", "老", "阿")) + surname
