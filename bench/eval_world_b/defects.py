"""Variations and defects applied to values as sources write them; each records its tag on the Dice."""

from __future__ import annotations

import functools
import random

from bench.eval_world.extract import Dice
from canonical_model.identifiers import resident_id, vin

HOMOPHONES = dict(zip("伟敏静丽娜洋杰涛军华明红芳婷琳鹏辉峰斌玲霞平俊浩宇欣怡晨颖强磊勇艳娟超刚英兰萍建国志文凯林雪梅"
                      "玉佳轩涵雨泽博海燕飞鑫亮成龙春晓东晶阳瑞琪慧新昊宏天嘉思倩彤丹",
                      "玮民晶莉纳阳洁滔君桦铭宏方亭林朋晖锋彬铃侠萍骏昊雨昕仪辰莹墙雷涌燕鹃潮钢瑛岚苹剑帼智雯铠琳"
                      "薛美钰家宣含宇则波还艳菲馨靓诚隆纯筱冬京洋锐奇惠欣皓鸿添佳斯茜桐单", strict=True))  # fmt: skip
TITLES_M = ["先生", "先生", "先生", "总", "经理", "师傅"]
TITLES_F = ["女士", "女士", "小姐", "老师"]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def han(name: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in name)


def surname_of(name: str) -> str:
    return name[:2] if name[:2] in ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫") else name[:1]


def title_name(name: str, gender: str, rng: random.Random) -> str:
    return surname_of(name) + rng.choice(TITLES_M if gender == "male" else TITLES_F)


def pinyin_name(name: str, rng: random.Random) -> str:
    from pypinyin import lazy_pinyin

    surname = surname_of(name)
    s = "".join(lazy_pinyin(surname)).capitalize()
    g = "".join(lazy_pinyin(name[len(surname) :])).capitalize()
    roll = rng.random()
    if roll < 0.4:
        return f"{s} {g}"
    if roll < 0.7:
        return f"{g} {s}"
    return f"{s} {g}".upper()


@functools.cache
def traditional(name: str) -> str:
    return _s2hk().convert(name)


@functools.cache
def _s2hk():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("s2hk")


def person_name(name: str, dice: Dice, typo: float, space: float = 0.0) -> str:
    """A Han name with the typos front desks make: a dropped character, swapped given-name characters, a
    homophone; or written with a space after the surname (a form)."""
    if not han(name) or len(name) < 2:
        return name
    surname = surname_of(name)
    given = name[len(surname) :]
    r = dice.rng.random()
    if r < typo * 0.35 and len(given) == 2:
        dice.tags.append("name_dropped_char")
        return surname + given[dice.rng.randrange(2)]
    if r < typo * 0.6 and len(given) == 2 and given[0] != given[1]:
        dice.tags.append("name_swapped_given")
        return surname + given[::-1]
    if r < typo and any(ch in HOMOPHONES for ch in given):
        dice.tags.append("name_homophone")
        chars = list(given)
        spots = [i for i, ch in enumerate(chars) if ch in HOMOPHONES]
        i = dice.rng.choice(spots)
        chars[i] = HOMOPHONES[chars[i]]
        return surname + "".join(chars)
    if dice.hit(space, "name_space"):
        return f"{surname} {given}"
    return name


def mobile(number: str, dice: Dice, typo: float, forms: float = 0.06) -> str:
    if dice.hit(typo, "phone_typo"):
        i = dice.rng.randrange(3, 11)
        digit = dice.rng.choice([d for d in "0123456789" if d != number[i]])
        number = number[:i] + digit + number[i + 1 :]
    r = dice.rng.random()
    if r < forms * 0.4:
        dice.tags.append("mobile_spaced")
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if r < forms * 0.7:
        dice.tags.append("mobile_plus86")
        return "+86" + number
    if r < forms:
        dice.tags.append("mobile_dashed")
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    return number


def landline(number: str, dice: Dice) -> str:
    area, local = number.split("-")
    r = dice.rng.random()
    if r < 0.2:
        dice.tags.append("landline_parentheses")
        return f"({area}){local}"
    if r < 0.3:
        dice.tags.append("landline_spaced")
        return f"{area} {local[:4]} {local[4:]}"
    if r < 0.35:
        dice.tags.append("landline_extension")
        return f"{number}转{dice.rng.randrange(100, 900)}"
    return number


def vin_defects(value: str, dice: Dice, rates: dict[str, float]) -> str:
    """rates: o_for_0, i_for_1, check_typo, partial6, partial8, blank, lower, spaced."""
    r = dice.rng.random()
    acc = 0.0
    for tag in ("o_for_0", "i_for_1", "check_typo", "partial6", "partial8", "blank"):
        acc += rates.get(tag, 0.0)
        if r < acc:
            dice.tags.append(f"vin_{tag}")
            if tag == "o_for_0":
                spots = [i for i, ch in enumerate(value) if ch == "0" and i >= 3]
                i = dice.rng.choice(spots)
                return value[:i] + "O" + value[i + 1 :]
            if tag == "i_for_1":
                spots = [i for i, ch in enumerate(value) if ch == "1" and i >= 3]
                if not spots:
                    dice.tags[-1] = "vin_o_for_0"
                    spots = [i for i, ch in enumerate(value) if ch == "0" and i >= 3]
                    i = dice.rng.choice(spots)
                    return value[:i] + "O" + value[i + 1 :]
                i = dice.rng.choice(spots)
                return value[:i] + "I" + value[i + 1 :]
            if tag == "check_typo":
                while True:
                    i = dice.rng.choice([p for p in range(3, 17) if p != 8])
                    ch = dice.rng.choice([c for c in "0123456789ABCDEFGHJKLMNPRSTUVWXYZ" if c != value[i]])
                    typo = value[:i] + ch + value[i + 1 :]
                    if vin.calc_check_digit(typo) != typo[8]:
                        return typo
            if tag == "partial6":
                return value[-6:]
            if tag == "partial8":
                return value[-8:]
            return ""
    if dice.hit(rates.get("lower", 0.0), "vin_lower"):
        return value.lower()
    if dice.hit(rates.get("spaced", 0.0), "vin_spaced"):
        return f"{value[:3]} {value[3:9]} {value[9:]}"
    return value


def id_typo(value: str, dice: Dice) -> str:
    """One digit of a resident ID or code mistyped (the check then fails)."""
    while True:
        i = dice.rng.randrange(6, 17)
        if not value[i].isdigit():
            continue
        typo = value[:i] + dice.rng.choice([d for d in "0123456789" if d != value[i]]) + value[i + 1 :]
        if len(value) == 18 and value[:17].isdigit() and resident_id.calc_check_char(typo[:17]) == typo[17]:
            continue
        return typo


def rid_15(value: str) -> str:
    return value[:6] + value[8:17]


def org_name(name: str, place: str, dice: Dice, rates: dict[str, float]) -> str:
    """Legitimate written forms of a registered name (legal-form synonyms, place with or without 市, the place in
    parentheses or left out, full-width parentheses); rates by tag."""
    out = name
    if "有限责任公司" in out and dice.hit(rates.get("org_form_short", 0.0), "org_form_short"):
        out = out.replace("有限责任公司", "有限公司")
    elif (
        "有限公司" in out and "股份" not in out and dice.hit(rates.get("org_form_long", 0.0), "org_form_long")
    ):
        out = out.replace("有限公司", "有限责任公司")
    if out.startswith(place) and not out.startswith(place + "市"):
        r = dice.rng.random()
        if r < rates.get("org_place_shi", 0.0):
            dice.tags.append("org_place_shi")
            out = place + "市" + out[len(place) :]
        elif r < rates.get("org_place_shi", 0.0) + rates.get("org_no_place", 0.0) and "分公司" not in out:
            dice.tags.append("org_no_place")
            out = out[len(place) :]
    if "(" in out and dice.hit(rates.get("org_fullwidth_paren", 0.0), "org_fullwidth_paren"):
        out = out.replace("(", "（").replace(")", "）")
    return out
