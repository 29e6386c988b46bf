"""Chinese personal names for matching: simplified characters, surname first, a toneless pinyin key.

The raw name is always kept; these are derived keys. Facts used: traditional → simplified via
OpenCC before comparing; surnames with special readings and compound surnames need a table because pypinyin
reads them as ordinary characters; romanised names from portals arrive given-name first ("Wei Zhang") and in
Wade-Giles/Cantonese spellings (Chan, Wong, Cheung).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

import opencc
from pypinyin import Style, lazy_pinyin

# Compound surnames: the first two characters are the surname.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 澹台 轩辕 呼延 南宫 万俟 闻人 申屠 独孤 钟离 西门 百里 东郭 公羊 赫连 拓跋 "
    "单于 太史 司空 仲孙 第五".split()
)

# Surnames whose reading differs from the character's common reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan", "曾": "zeng", "仇": "qiu", "解": "xie", "区": "ou", "朴": "piao", "查": "zha", "盖": "ge",
    "缪": "miao", "乐": "yue", "召": "shao", "种": "chong", "覃": "qin", "折": "she", "翟": "zhai",
    "员": "yun", "秘": "bi", "繁": "po", "句": "gou", "仉": "zhang", "过": "guo", "宓": "mi", "黑": "he",
    "重": "chong", "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "单于": "chanyu", "厍": "she",
    "鲜于": "xianyu", "藏": "zang", "能": "nai", "郇": "xun", "逄": "pang", "隗": "wei",
}  # fmt: skip

# The most frequent surnames (≈85 % of the population), used to recognise the surname in romanised names.
COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)

# Wade-Giles / Cantonese / Hokkien spellings → pinyin, for the surname slot only (Wong is 王 or 黄: both kept).
ROMANISED_SURNAMES: dict[str, tuple[str, ...]] = {
    "chan": ("chen",), "wong": ("wang", "huang"), "lee": ("li",), "cheung": ("zhang",), "chang": ("zhang",),
    "chow": ("zhou",), "lau": ("liu",), "ng": ("wu",), "leung": ("liang",), "tsang": ("zeng",), "ho": ("he",),
    "lam": ("lin",), "kwok": ("guo",), "yeung": ("yang",), "tse": ("xie",), "chiu": ("zhao",),
    "tsai": ("cai",), "hsu": ("xu",), "hsieh": ("xie",), "kuo": ("guo",), "cheng": ("zheng",),
    "chu": ("zhu",), "yip": ("ye",), "mak": ("mai",), "choi": ("cai",), "fung": ("feng",), "lo": ("luo",),
    "tang": ("tang", "deng"), "woo": ("wu",), "koo": ("gu",), "teo": ("zhang",), "tan": ("chen", "tan"),
    "lim": ("lin",), "goh": ("wu",), "ong": ("wang",), "chong": ("zhong", "zhang"),
}  # fmt: skip

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_SPLIT = re.compile(r"[\s,.\-·]+")
_NAME_NOISE = re.compile(r"[\s·•.\u3000]")

Script = Literal["han", "latin", "mixed", "empty"]


@dataclass(frozen=True)
class NormalisedName:
    """Derived keys of a personal name; ``surname``/``given`` are simplified characters or pinyin words."""

    raw: str
    script: Script
    simplified: str
    surname: str
    given: str
    pinyin: str  # "zhang wei": surname first, lower case, no tones
    surname_pinyin_variants: tuple[str, ...] = ()
    title: str = ""  # 王先生 → "先生", 小王 → "小": a surname and a form of address, no given name

    @property
    def pinyin_key(self) -> str:
        """Order-stable key with no spaces, e.g. ``zhangwei``."""
        return self.pinyin.replace(" ", "")


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional (incl. Hong Kong and Taiwan variants) to simplified characters."""
    return str(_converter("t2s").convert(_converter("hk2s").convert(text)))


def _pinyin(chars: str) -> str:
    return " ".join(lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")).replace("ü", "v")


def split_han(name: str) -> tuple[str, str]:
    """Surname and given name of a simplified-character name (compound surnames recognised)."""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@cache
def _readings(simplified: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """Surname reading, the given name's syllables, and every syllable of the name."""
    surname, given = split_han(simplified)
    every = frozenset(lazy_pinyin(simplified, style=Style.NORMAL, errors="ignore"))
    return surname_pinyin(surname), frozenset(lazy_pinyin(given, style=Style.NORMAL, errors="ignore")), every


def han_names_disagree(left: str, right: str) -> bool:
    """Are these two full names in Han characters (simplified) two people's, whatever else the records share?

    Yes when the given names of one surname share no syllable — 李伟 and 李明, a father and his son at one
    address — or when of two surnames neither name's given syllables all stand in the other: 彭军 and 袁琦秀, a
    wife who brings her husband's car in from his mobile. A typist's slips keep a syllable: a homophone (张伟/张玮), a dropped or an added
    character (邵慧/邵慧桂), traditional characters; and so do the forms a front desk or an app writes for the
    same person, the given name alone or after 小 (唐秀 as 小秀 or 秀, 李亮志 as 亮志). A name of one
    character, or none after the surname, says too little.
    """
    if len(left) < 2 or len(right) < 2 or not (_CJK.match(left) and _CJK.match(right)):
        return False
    left_surname, left_given, left_all = _readings(left)
    right_surname, right_given, right_all = _readings(right)
    if not left_given or not right_given:
        return False
    if left_surname == right_surname:
        return not (left_given & right_given)
    # Two surnames: one person only where one name's given syllables all stand in the other (小秀 and 唐秀, 亮志
    # and 李亮志); a syllable in common by chance (钱鑫超, 田宏鑫: husband and wife) is not enough.
    return not (left_given <= right_all or right_given <= left_all)


def surname_pinyin(surname: str) -> str:
    return SURNAME_READINGS.get(surname) or _pinyin(surname).replace(" ", "")


# How front desks write a customer whose given name they did not take: surname + title (王先生, 李女士, 张总,
# 刘经理) or a familiar prefix (小王, 老王, 阿王). Such a name says only the surname.
TITLES = (
    "总经理", "董事长", "先生", "女士", "小姐", "太太", "夫人", "经理", "老师", "师傅", "老板", "主任", "医生", "总监",
    "老总", "总", "工", "哥", "姐",
)  # fmt: skip
FAMILIAR_PREFIXES = ("小", "老", "阿")


def title_form(simplified: str) -> tuple[str, str] | None:
    """(surname, title) when ``simplified`` is a surname with a form of address rather than a full name."""
    for title in TITLES:
        surname = simplified[: -len(title)]
        if simplified.endswith(title) and (surname in COMPOUND_SURNAMES or
                                           (len(surname) == 1 and surname in _common_surname_chars())):  # fmt: skip
            return surname, title
    if (
        len(simplified) == 2
        and simplified[0] in FAMILIAR_PREFIXES
        and simplified[1] in _common_surname_chars()
    ):
        return simplified[1], simplified[0]
    return None


@cache
def _common_surname_chars() -> frozenset[str]:
    return frozenset(COMMON_SURNAMES) | frozenset(k for k in SURNAME_READINGS if len(k) == 1)


def _normalise_han(raw: str) -> NormalisedName:
    simplified = to_simplified(_NAME_NOISE.sub("", unicodedata.normalize("NFKC", raw)))
    titled = title_form(simplified)
    if titled:
        surname, title = titled
        sur_py = surname_pinyin(surname)
        return NormalisedName(raw, "han", simplified, surname, "", sur_py, (sur_py,), title)
    surname, given = split_han(simplified)
    sur_py = surname_pinyin(surname)
    pinyin = " ".join(p for p in (sur_py, _pinyin(given).replace(" ", "")) if p)
    return NormalisedName(raw, "han", simplified, surname, given, pinyin, (sur_py,))


def _surname_rank(word: str) -> int | None:
    """Frequency rank of a romanised word as a surname (0 = most common), None when it is not one."""
    variants = ROMANISED_SURNAMES.get(word, (word,))
    ranks = [_surname_ranks().get(v) for v in variants]
    known = [r for r in ranks if r is not None]
    return min(known) if known else None


def is_chinese_surname(word: str) -> bool:
    """Is this romanised word (``zhang``, ``ouyang``, ``tse``) a Chinese surname?"""
    return _surname_rank(word) is not None


@cache
def _surname_ranks() -> dict[str, int]:
    ranks: dict[str, int] = {}
    for rank, ch in enumerate(COMMON_SURNAMES):
        ranks.setdefault(_pinyin(ch), rank)
    for reading in SURNAME_READINGS.values():
        ranks.setdefault(reading, len(COMMON_SURNAMES))
    for name in COMPOUND_SURNAMES:
        ranks.setdefault(_pinyin(name).replace(" ", ""), len(COMMON_SURNAMES))
    return ranks


NameOrder = Literal["auto", "surname_first", "given_first"]


def _latin_surname_first(raw: str, words: list[str], order: NameOrder) -> list[str]:
    if order == "surname_first" or len(words) < 2:
        return words
    if order == "given_first":
        return [words[-1], *words[:-1]]
    # "Zhang, Wei" and an upper-case surname ("ZHANG Wei") are explicit about the order.
    first = raw.split()[0]
    if "," in raw or (first.isupper() and len(first) > 1):
        return words
    first_rank, last_rank = _surname_rank(words[0]), _surname_rank(words[-1])
    # Both could be surnames ("Wei Zhang"): the more frequent surname is the likelier one.
    if last_rank is not None and (first_rank is None or last_rank < first_rank):
        return [words[-1], *words[:-1]]
    return words


def _normalise_latin(raw: str, order: NameOrder) -> NormalisedName:
    words = [w.lower() for w in _LATIN_SPLIT.split(unicodedata.normalize("NFKC", raw).strip()) if w]
    if not words:
        return NormalisedName(raw, "empty", "", "", "", "")
    words = _latin_surname_first(raw, words, order)
    surname, given = words[0], "".join(words[1:])
    variants = ROMANISED_SURNAMES.get(surname, (surname,))
    pinyin = " ".join(p for p in (variants[0], given) if p)
    return NormalisedName(raw, "latin", "", surname, given, pinyin, variants)


def romanised_pinyin_keys(raw: str) -> set[str]:
    """Every pinyin key a romanised name typed into a search may stand for.

    Why: the order guess of ``normalise_name`` is right for most names but not for all ("Fang Wang" is 王芳
    typed given-name first, yet Wang is the more frequent surname, so the guess reads it as 方旺), and Wade-Giles
    spellings map to more than one surname (Wong is 王 or 黄). A search must not miss the person, so it looks
    under each reading; an order made explicit ("Wang, Fang" or "WANG Fang") is trusted.
    """
    words = [w.lower() for w in _LATIN_SPLIT.split(unicodedata.normalize("NFKC", raw).strip()) if w]
    if not words or _CJK.search(raw):
        return set()
    first = raw.split()[0]
    explicit = "," in raw or (first.isupper() and len(first) > 1)
    orders = [words] if explicit or len(words) < 2 else [words, [words[-1], *words[:-1]]]
    keys: set[str] = set()
    for surname, *given in orders:
        for variant in ROMANISED_SURNAMES.get(surname, (surname,)):
            keys.add(variant + "".join(given))
    return keys


# Names repeat heavily (a few thousand full names cover most people), and OpenCC + pypinyin dominate the
# cost of mapping a record: a bounded cache makes the repeats free. The result is frozen, so sharing is safe.
@lru_cache(maxsize=200_000)
def normalise_name(raw: str, order: NameOrder = "auto") -> NormalisedName:
    """Normalise a person's name as received from any source.

    ``order`` applies to romanised names: a source that is known to send given name first (a portal with a
    Western form) says so in its mapping; ``auto`` guesses from surname frequency.
    """
    text = raw.strip()
    if not text:
        return NormalisedName(raw, "empty", "", "", "", "")
    han = _CJK.findall(text)
    if han and len(han) == len(_NAME_NOISE.sub("", text)):
        return _normalise_han(text)
    if han:
        # Mixed scripts (e.g. "张 Wei"): keep the characters, they carry the most information.
        result = _normalise_han("".join(han))
        return NormalisedName(
            raw,
            "mixed",
            result.simplified,
            result.surname,
            result.given,
            result.pinyin,
            result.surname_pinyin_variants,
            result.title,
        )
    return _normalise_latin(text, order)
