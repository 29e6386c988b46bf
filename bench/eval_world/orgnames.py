"""Organisation names (place + trade name + industry + legal form) and the ways sources spell them."""

from __future__ import annotations

import random
from dataclasses import dataclass

TRADE_NAMES = (
    "恒达 华盛 远航 金鼎 鑫源 宏图 永安 天成 博远 瑞丰 顺通 中联 新纪元 东升 广厦 安捷 卓越 万通 海纳 锦程 "
    "立信 久隆 盛世 汇通 信达 众诚 佳禾 鼎力 长风 明泰 星河 旭日 德润 蓝天 青松 创新 和美 易行 飞腾 凯胜 "
    "融信 润泽 华信 通达 兴业 振华 正大 福田 宝丰 吉祥"
).split()
INDUSTRIES = (
    "建设工程 物流 汽车租赁 贸易 科技 电子 餐饮管理 房地产开发 机械制造 环保科技 医疗器械 食品 服装 "
    "供应链管理 网络科技 装饰工程 文化传媒 物业管理 电力工程 包装材料"
).split()
FLEET_INDUSTRIES = ("物流", "汽车租赁", "出租汽车", "客运", "快递", "网约车服务")
SHOP_SUFFIX = ("汽修店", "五金店", "便利店", "商行", "电器行", "服装店", "餐馆", "建材部", "印刷厂")
PUBLIC_BODIES = (
    "{district}城市管理局", "{city}市第一人民医院", "{city}市实验学校", "{district}市场监督管理局",
    "{city}市公共资源交易中心", "{city}市交通运输局", "{city}职业技术学院",
)  # fmt: skip


@dataclass(frozen=True)
class OrgName:
    """The parts of a registered name; ``render`` writes the registered form."""

    place: str  # city without 市 ("" for a shop or public body whose name is free)
    trade: str
    industry: str
    form: str  # 有限公司 | 有限责任公司 | 股份有限公司 | 集团有限公司 | "" (shops, public bodies)
    branch_city: str = ""  # a branch: 某某有限公司宁波分公司
    free: str = ""  # a shop or public body: the whole name

    def render(self) -> str:
        if self.free:
            return self.free
        base = f"{self.place}{self.trade}{self.industry}{self.form}"
        return base + (f"{self.branch_city}分公司" if self.branch_city else "")


FORMS = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
FORM_WEIGHTS = (55, 30, 10, 5)


def spelled(rng: random.Random, name: OrgName, source: str) -> tuple[str, list[str]]:
    """How one source writes a name; the list names the variations applied (empty: as registered)."""
    if name.free:
        text, tags = name.free, []
        if rng.random() < 0.15 and "市" in text:
            text, tags = text.replace("市", "", 1), ["org_place_no_shi"]
        return text, tags
    tags: list[str] = []
    place, form, trade, industry = name.place, name.form, name.trade, name.industry
    heavy = source in {"dms", "app"}
    if form == "有限责任公司" and rng.random() < (0.6 if heavy else 0.3):
        form, tags = "有限公司", [*tags, "org_form_short"]
    elif form == "有限公司" and rng.random() < (0.35 if heavy else 0.15):
        form, tags = "有限责任公司", [*tags, "org_form_long"]
    r = rng.random()
    core = f"{trade}{industry}{form}"
    if r < (0.25 if heavy else 0.12):
        text, tags = f"{place}市{core}", [*tags, "org_place_shi"]
    elif r < (0.40 if heavy else 0.20):
        opening, closing = ("(", ")") if rng.random() < 0.5 else ("（", "）")
        text, tags = f"{trade}{opening}{place}{closing}{industry}{form}", [*tags, "org_place_in_parentheses"]
    elif heavy and r < 0.50:
        text, tags = f"{trade}{industry}{form}", [*tags, "org_no_place"]
    else:
        text = f"{place}{core}"
    if name.branch_city:
        if rng.random() < 0.3:
            opening, closing = ("(", ")") if rng.random() < 0.5 else ("（", "）")
            text += f"{opening}{name.branch_city}分公司{closing}"
            tags.append("org_branch_in_parentheses")
        else:
            text += f"{name.branch_city}分公司"
    if heavy and rng.random() < 0.10 and place and text.startswith(place):
        text = f"{place} {text[len(place) :]}"
        tags.append("org_spaces")
    if heavy and rng.random() < 0.06 and not name.branch_city:
        text = text.removesuffix(form)
        tags.append("org_no_legal_form")
    return text, tags
