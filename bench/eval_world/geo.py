"""Places of the synthetic world: cities with their GB/T 2260 codes, area codes, plate prefixes and streets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str  # without 市
    province: str  # "" for the municipalities
    area_code: str  # with the trunk 0
    plate_prefix: str
    districts: tuple[tuple[str, str], ...]  # (GB/T 2260 code, name)


CITIES: tuple[City, ...] = (
    City("杭州", "浙江省", "0571", "浙A", (("330106", "西湖区"), ("330102", "上城区"), ("330105", "拱墅区"), ("330108", "滨江区"), ("330110", "余杭区"))),
    City("宁波", "浙江省", "0574", "浙B", (("330203", "海曙区"), ("330205", "江北区"), ("330212", "鄞州区"))),
    City("温州", "浙江省", "0577", "浙C", (("330302", "鹿城区"), ("330304", "瓯海区"))),
    City("上海", "", "021", "沪A", (("310115", "浦东新区"), ("310104", "徐汇区"), ("310112", "闵行区"))),
    City("南京", "江苏省", "025", "苏A", (("320102", "玄武区"), ("320106", "鼓楼区"), ("320115", "江宁区"))),
    City("苏州", "江苏省", "0512", "苏E", (("320508", "姑苏区"), ("320506", "吴中区"))),
    City("合肥", "安徽省", "0551", "皖A", (("340104", "蜀山区"), ("340111", "包河区"))),
    City("广州", "广东省", "020", "粤A", (("440106", "天河区"), ("440104", "越秀区"), ("440105", "海珠区"))),
    City("深圳", "广东省", "0755", "粤B", (("440305", "南山区"), ("440304", "福田区"))),
    City("北京", "", "010", "京A", (("110105", "朝阳区"), ("110108", "海淀区"))),
    City("成都", "四川省", "028", "川A", (("510107", "武侯区"), ("510104", "锦江区"))),
    City("武汉", "湖北省", "027", "鄂A", (("420103", "江汉区"), ("420111", "洪山区"))),
)  # fmt: skip

# Weights of where people live (the maker's home market is Zhejiang).
CITY_WEIGHTS = (22, 10, 6, 12, 8, 7, 5, 9, 7, 6, 4, 4)

# Places of birth that are not among the cities (resident IDs issued elsewhere, people who moved).
OTHER_BIRTH_REGIONS = ("411302", "130102", "370102", "360102", "430102", "450102", "610113", "210102")

ROADS = (
    "文三路 教工路 学院路 中山路 人民路 解放路 建设路 延安路 南京路 长江路 黄河路 朝阳路 和平路 新华路 "
    "友谊路 环城北路 滨江大道 科技大道 创业路 工业路 东风路 光明路 振兴路 青年路 府前街"
).split()
ESTATES = "金色家园 阳光花园 翠苑 嘉和苑 绿城桂花园 万科城 碧水湾 锦绣华庭 世纪新城 东方明珠苑 枫林小区 和谐家园".split()
INDUSTRIAL = "高新园区 经济开发区 工业园 科创园 物流园 创意产业园".split()


def city_by_name(name: str) -> City:
    return next(c for c in CITIES if c.name == name)
