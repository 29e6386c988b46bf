"""Organisation names: is this party a company, and which company is it, however the name was written.

A registered Chinese company name is place + trade name (字号) + industry + legal form (企业名称登记管理规定):
杭州 + 某某 + 建设工程 + 有限公司. Sources write the same company as 杭州市某某建设工程有限责任公司, 某某（杭州）建设工程
有限公司 or 杭州 某某建设工程, and many sources (a DMS without a customer type, an owner app) have no party kind
at all: a company typed there became a *person* and never met its own ERP record. So:

- ``infer_kind`` says whether a name is an organisation's, with the rule that said so (kept on the party);
- ``organisation_key`` splits a name into the parts that identify the company (trade name + industry, width,
  spacing and script normalised, legal-form synonyms folded) and the parts that tell two companies of the same
  trade name apart — the place and the branch (某某有限公司杭州分公司 is another establishment).

Places come from the GB/T 2260 division table shipped in the ``cpca`` package (``resources/adcodes.csv``):
we read its data, not its address parser.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from canonical_model.names import COMMON_SURNAMES, COMPOUND_SURNAMES, title_form, to_simplified

# Longest first: 有限责任公司 before 有限公司 before 公司. 有限责任公司 and 有限公司 are one legal form (Company Law).
_LEGAL_FORMS = (
    "集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司",
    "股份合作公司", "合伙企业", "个人独资企业", "普通合伙", "有限合伙", "集团公司", "集团", "公司",
)  # fmt: skip
# A name ending so is a business or a public body, not a person (only for names longer than a person's).
_KEYWORDS = (
    "合作社", "委员会", "医院", "学校", "大学", "学院", "研究院", "研究所", "事务所", "工作室", "中心", "车队",
    "个体工商户", "商行", "车行", "门市部", "经营部", "服务部", "厂", "店", "行", "部", "馆", "局", "站", "社",
)  # fmt: skip
# Industry words of registered names (the part between trade name and legal form); never in a person's name
# after its first character, where they would be a surname.
_INDUSTRY = (
    "物流", "建设", "工程", "贸易", "科技", "包装", "材料", "运输", "电子", "机械", "实业", "投资", "发展", "文化",
    "传媒", "餐饮", "医疗", "器械", "快递", "租赁", "置业", "房地产", "汽车", "汽修", "维修", "销售", "商贸",
    "制造", "食品", "化工", "服饰", "建材", "装饰", "环保", "能源", "电力", "信息", "网络", "软件", "咨询", "广告",
    "印刷", "药业", "农业", "养殖", "旅游", "酒店", "出租", "客运", "货运", "配送", "供应链", "钢铁", "五金",
)  # fmt: skip
_BRANCHES = ("分公司", "分店", "分厂", "营业部", "办事处", "分部")
_LATIN_FORMS = re.compile(
    r"\b(co\.?\s*,?\s*ltd\.?|ltd\.?|limited|inc\.?|incorporated|llc|l\.l\.c\.|gmbh|ag|corp\.?|corporation|"
    r"company|co\.|plc|s\.?a\.?|b\.?v\.?)(?=\W|$)",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\(([^()]*)\)")
_NOISE = re.compile(r"[\s·•.,，、'\"“”‘’\-_/]+")
PLACE_SUFFIXES = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "地区", "盟", "省", "市", "区", "县",
)  # fmt: skip


# Rows of the division table that name a level, not a place (北京市市辖区); mappings/gazetteer.py skips them too.
NOT_PLACES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


def short_form(name: str, suffixes: tuple[str, ...] = PLACE_SUFFIXES) -> str | None:
    """杭州市 → 杭州, 内蒙古自治区 → 内蒙古: the name without its division suffix (two characters at least
    remain), or None when it has none."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@dataclass(frozen=True)
class KindEvidence:
    rule: str  # e.g. "legal_form:有限公司", "keyword:医院", "latin_legal_form:ltd"
    strong: bool  # a legal form says so; a keyword only suggests it (used only where the source is silent)


@dataclass(frozen=True)
class OrganisationKey:
    core: str  # trade name + industry, normalised: the matching key
    place: str | None  # city or province the name carries (short form: 杭州), if any
    branch: str | None  # the branch's own place or name (某某有限公司杭州分公司 → 杭州)
    legal_form: str | None  # 有限公司 (有限责任公司 folded in), 股份有限公司, …


def _fold(text: str) -> str:
    """Width (（）→ (), ＡＢＣ → ABC), script (traditional → simplified) and spacing normalised."""
    text = unicodedata.normalize("NFKC", text).strip()
    return to_simplified(text)


def division_table() -> Path:
    """cpca's table, found without importing cpca (whose package imports pandas and an Aho-Corasick parser)."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the cpca package (GB/T 2260 division table) is not installed: pip install cpca"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


@dataclass(frozen=True)
class _Gazetteer:
    full: dict[str, str]  # full division name → its short form (杭州市 → 杭州)
    shorts: frozenset[str]  # the short forms
    # What a name may start with, by its first character: full names, then short forms, each longest first.
    prefixes: dict[str, tuple[str, ...]]
    cities: dict[str, str]  # first four digits of a division code → the city's short form


@cache
def _gazetteer() -> _Gazetteer:
    """Provinces and prefecture-level cities of the division table, read once. Districts are left out: 西湖 is
    as often a trade name as a place."""
    full: dict[str, str] = {}
    provinces: dict[str, str] = {}
    cities: dict[str, str] = {}
    with division_table().open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            code, name = row["adcode"], row["name"]
            if code[4:] != "00000000" or not name or name in NOT_PLACES:
                continue  # a county or below, or a placeholder level (北京市市辖区)
            short = short_form(name) or name
            full[name] = short
            if code[2:4] == "00":
                provinces[code[:2]] = short
            else:
                cities[code[:4]] = short
    for prefix, short in provinces.items():  # municipalities: their districts are the city
        if short in ("北京", "上海", "天津", "重庆"):
            for n in range(1, 3):
                cities.setdefault(f"{prefix}{n:02d}", short)
    shorts = frozenset(s for s in full.values() if len(s) >= 2)
    ordered = (*sorted(full, key=len, reverse=True), *sorted(shorts, key=len, reverse=True))
    prefixes: dict[str, tuple[str, ...]] = {}
    for candidate in ordered:
        prefixes[candidate[0]] = (*prefixes.get(candidate[0], ()), candidate)
    return _Gazetteer(full, shorts, prefixes, cities)


def city_of_region(code: str) -> str | None:
    """The city (short form) of a GB/T 2260 code such as 330106, or None when the table does not know it."""
    return _gazetteer().cities.get(code[:4])


def place_of(text: str) -> str | None:
    """``text`` as a place's short form (杭州市 / 杭州 → 杭州), or None when it names no province or city."""
    places = _gazetteer()
    if text in places.full:
        return places.full[text]
    return text if text in places.shorts else None


def _leading_place(name: str) -> tuple[str | None, str]:
    """Strip province and city prefixes (浙江省杭州市…, 杭州…); returns the most specific place and the rest."""
    places = _gazetteer()
    place = None
    changed = True
    while changed:
        changed = False
        for candidate in places.prefixes.get(name[:1], ()):
            if name.startswith(candidate) and len(name) - len(candidate) >= 2:
                place, name, changed = places.full.get(candidate, candidate), name[len(candidate) :], True
                # A district written in full (西湖区) right after a city is part of the place, not the name.
                district = re.match(r"^(.{1,4}?[区县])(?=.{2})", name)
                if district and not district.group(1).endswith(("社区", "园区", "小区")):
                    name = name[district.end() :]
                break
    return place, name


def infer_kind(name: str | None) -> KindEvidence | None:
    """Why ``name`` is an organisation's (the legal form, a keyword, a Latin legal form), or None."""
    if not name:
        return None
    text = _PARENS.sub(lambda m: m.group(1), _fold(name))
    text = _NOISE.sub("", text) if re.search(r"[\u4e00-\u9fff]", text) else text
    if latin := _LATIN_FORMS.search(text):
        return KindEvidence(f"latin_legal_form:{latin.group(1).lower()}", True)
    for branch in _BRANCHES:
        if text.endswith(branch) and len(text) > len(branch) + 1:
            return KindEvidence(f"branch:{branch}", True)
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form) + 1:
            return KindEvidence(f"legal_form:{form}", True)
    if "公司" in text and len(text) >= 4:
        return KindEvidence("legal_form:公司", True)
    if len(text) >= 4 and re.fullmatch(r"[\u4e00-\u9fff()]+", text):
        for keyword in _KEYWORDS:
            if text.endswith(keyword):
                return KindEvidence(f"keyword:{keyword}", False)
        for word in _INDUSTRY:
            if (word in text[1:] and len(text) >= 5) or text.endswith(word):
                return KindEvidence(f"industry:{word}", False)
        if _leading_place(text)[0] and len(text) >= 6:
            return KindEvidence("place_prefix", False)
        if len(text) >= 6 and "·" not in _fold(
            name
        ):  # longer than any Han person name (a · marks a minority name)
            return KindEvidence("length", False)
    return None


# Characters that end an organisation's short name (李记店, 王氏厂, 张家铺) rather than a person's given name.
_ORGANISATION_ENDINGS = frozenset("店厂行部馆局站社司所院会馆铺坊庄号处队园场")


def looks_like_person_name(name: str | None) -> bool:
    """Is ``name`` a person's name written where a company's was expected (a DMS row typed 单位 by mistake)?

    Only what can hardly be a company: two or three Han characters (four after a double surname such as 欧阳)
    starting with a common surname, or a surname and a title (王先生), with no legal form, keyword or trade
    (``infer_kind``) and not ending like a shop's short name (李记店). A company's registered name is longer.
    """
    if not name:
        return False
    text = to_simplified(_NOISE.sub("", _fold(name)))
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,5}", text) or infer_kind(text) is not None:
        return False
    if title_form(text):
        return True
    double = text[:2] in COMPOUND_SURNAMES
    longest = 4 if double else 3
    return (
        (double or text[0] in COMMON_SURNAMES)
        and len(text) <= longest
        and text[-1] not in _ORGANISATION_ENDINGS
    )


def organisation_key(name: str) -> OrganisationKey:
    """The parts of an organisation's name that identify it, and those that tell namesakes apart."""
    text = _fold(name)
    if not re.search(r"[\u4e00-\u9fff]", text):
        return _latin_key(text)
    place: str | None = None
    branch: str | None = None
    for inner in _PARENS.findall(text):  # 某某(杭州)建设 / 某某有限公司(杭州分公司)
        bare = _NOISE.sub("", inner)
        for suffix in _BRANCHES:
            if bare.endswith(suffix):
                branch = bare[: -len(suffix)] or suffix
                break
        else:
            place = place or place_of(bare)
            if place is None:
                continue
        text = text.replace(f"({inner})", "")
    text = _NOISE.sub("", _PARENS.sub(lambda m: m.group(1), text))
    for suffix in _BRANCHES:  # 某某有限公司杭州分公司
        found = re.match(rf"^(.+?(?:公司|集团|厂|店))(.+?){suffix}$", text)
        if found:
            text, branch = found.group(1), found.group(2)
            break
    legal_form = None
    for form in _LEGAL_FORMS:
        if text.endswith(form) and len(text) > len(form):
            text, legal_form = text[: -len(form)], form
            break
    leading, text = _leading_place(text)
    place = leading or place
    if legal_form == "有限责任公司":
        legal_form = "有限公司"
    if branch:
        branch = place_of(branch) or branch
    return OrganisationKey(core=text, place=place, branch=branch, legal_form=legal_form)


def _latin_key(text: str) -> OrganisationKey:
    lowered = text.lower()
    form = _LATIN_FORMS.search(lowered)
    core = _LATIN_FORMS.sub(" ", lowered)
    core = re.sub(r"[^0-9a-z]+", " ", core).strip()
    return OrganisationKey(core=core, place=None, branch=None, legal_form=form.group(1) if form else None)
