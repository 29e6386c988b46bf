"""Reference tables the sample world is drawn from: names, places, car models, dealers' work.

Plain data only. Shares are approximate public figures, chosen so the sample has the properties that make
matching hard: a handful of surnames cover a third of the people and a few given names are very popular,
so full names like 张伟 or 王芳 recur across many different people.
"""

from __future__ import annotations

from dataclasses import dataclass

# The most frequent surnames with their approximate share of the population (%). The remainder of
# COMMON_SURNAMES (canonical_model.names) shares what is left evenly; compound surnames are rare on top.
SURNAME_SHARES: dict[str, float] = {
    "王": 7.1, "李": 7.0, "张": 6.8, "刘": 5.4, "陈": 4.6, "杨": 3.1, "赵": 2.3, "黄": 2.2, "周": 2.0,
    "吴": 2.0, "徐": 1.6, "孙": 1.5, "胡": 1.3, "朱": 1.3, "高": 1.2, "林": 1.2, "何": 1.2, "郭": 1.2,
    "马": 1.1, "罗": 0.9,
}  # fmt: skip
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方")
COMPOUND_SHARE = 0.003

# Given names by sex and by era (the 1950s-70s favourites differ from the 1990s-2000s ones). Earlier entries
# are drawn more often (Zipf-like weights), so 伟, 芳, 娜, 敏 recur the way they do in real registers.
GIVEN_MALE_CLASSIC = (
    "伟 强 军 勇 磊 涛 明 刚 平 辉 建华 建国 国强 志强 建军 文 斌 波 华 峰 海 春生 德明 永明 国华 "
    "建平 俊 林 鹏 卫东"
).split()
GIVEN_MALE_MODERN = (
    "伟 磊 杰 浩 鑫 宇 超 鹏 帅 洋 俊杰 浩然 子轩 宇轩 博文 浩宇 一鸣 梓豪 天佑 晨 昊 文博 志伟 家豪 "
    "思远 嘉诚 明轩 子豪 泽宇 睿"
).split()
GIVEN_FEMALE_CLASSIC = (
    "芳 娜 敏 静 丽 秀英 艳 娟 霞 桂英 秀兰 玉兰 红 桂兰 英 华 萍 玲 燕 琴 凤英 淑珍 丽华 秀珍 "
    "翠花 美玲 慧 兰 雪梅 海燕"
).split()
GIVEN_FEMALE_MODERN = (
    "娜 静 婷 敏 丽 雪 颖 琳 欣 倩 欣怡 子涵 梦琪 雨涵 诗涵 佳怡 思琪 晓燕 晓雪 佳琪 一诺 可欣 "
    "梓涵 雨桐 文静 婉婷 语嫣 紫萱 若曦 心怡"
).split()
MODERN_FROM_YEAR = 1980

# Traditional forms a Hong Kong/Taiwan keyboard types are derived with OpenCC; these surnames keep their
# simplified form in traditional writing (于 and 余 are surnames of their own, not 於 and 餘).
KEEP_IN_TRADITIONAL = frozenset("于余")

# Foreign nationals living in China identify with a passport and write their name in Latin letters.
FOREIGN_NAMES_MALE = ("Thomas Müller", "John Smith", "Kim Min-jun", "Tanaka Hiroshi", "David Martin")
FOREIGN_NAMES_FEMALE = ("Anna Schmidt", "Emily Brown", "Park Ji-yeon", "Sato Yuki", "Marie Dubois")
FOREIGN_SHARE = 0.004


@dataclass(frozen=True)
class Region:
    """A district (GB/T 2260 code), how an address in it starts, its plate prefix and some of its streets."""

    code: str
    place: str
    city: str
    plate_province: str
    plate_offices: str
    streets: tuple[str, ...]
    weight: float


REGIONS: tuple[Region, ...] = (
    Region("110105", "北京市朝阳区", "北京", "京", "ABCEFGHJKLMNPQ", ("建国路", "朝阳北路", "东三环中路", "望京街"), 9),
    Region("110108", "北京市海淀区", "北京", "京", "ABCEFGHJKLMNPQ", ("中关村大街", "学院路", "西三环北路"), 7),
    Region("310104", "上海市徐汇区", "上海", "沪", "ABCDEFGHJKLMN", ("漕溪北路", "肇嘉浜路", "衡山路", "虹漕路"), 7),
    Region("310115", "上海市浦东新区", "上海", "沪", "ABCDEFGHJKLMN", ("世纪大道", "张杨路", "浦东南路", "金科路"), 9),
    Region("440305", "广东省深圳市南山区", "深圳", "粤", "B", ("科技园路", "深南大道", "南海大道", "后海大道"), 7),
    Region("440106", "广东省广州市天河区", "广州", "粤", "A", ("天河路", "体育西路", "黄埔大道", "中山大道"), 7),
    Region("330106", "浙江省杭州市西湖区", "杭州", "浙", "A", ("文三路", "天目山路", "教工路", "古墩路"), 6),
    Region("510107", "四川省成都市武侯区", "成都", "川", "A", ("人民南路", "科华北路", "武侯祠大街", "天府大道"), 6),
    Region("420106", "湖北省武汉市武昌区", "武汉", "鄂", "A", ("中南路", "武珞路", "中北路", "友谊大道"), 5),
    Region("320102", "江苏省南京市玄武区", "南京", "苏", "A", ("中山路", "北京东路", "珠江路", "龙蟠路"), 5),
    Region("350102", "福建省福州市鼓楼区", "福州", "闽", "A", ("五四路", "杨桥中路", "湖东路", "古田路"), 3),
    Region("370202", "山东省青岛市市南区", "青岛", "鲁", "B", ("香港中路", "山东路", "东海西路", "南京路"), 4),
    Region("610113", "陕西省西安市雁塔区", "西安", "陕", "A", ("长安南路", "小寨东路", "高新路", "科技路"), 4),
    Region("120101", "天津市和平区", "天津", "津", "ABCDEFGHJKLMN", ("南京路", "营口道", "山西路", "卫津路"), 4),
    Region("500103", "重庆市渝中区", "重庆", "渝", "ABCDFGH", ("解放碑步行街", "中山三路", "民族路", "长江一路"), 5),
    Region("430103", "湖南省长沙市天心区", "长沙", "湘", "A", ("芙蓉中路", "湘府中路", "书院路", "劳动西路"), 4),
)  # fmt: skip

# A real 3-digit mobile prefix per carrier block; every sample mobile is one of these plus 8 digits.
MOBILE_PREFIXES = tuple(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 176 177 178 180 181 "
    "182 183 185 186 187 188 189 191 198 199".split()
)
EMAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "gmail.com", "hotmail.com", "foxmail.com")

COMPANY_BRANDS = (
    "明达 华信 远航 金桥 恒通 新世纪 东方 瑞丰 鼎盛 宏远 安达 顺捷 海纳 中联 天成 博雅 卓越 联创 "
    "永信 凯旋 正泰 富华 嘉禾 长城"
).split()
COMPANY_TRADES = (
    "物流",
    "汽车租赁",
    "科技",
    "贸易",
    "建设工程",
    "医药",
    "餐饮管理",
    "电子商务",
    "新能源",
    "供应链管理",
)
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司")


@dataclass(frozen=True)
class Model:
    """One car model: the maker's WMI, brand, model name, VDS code, trims with prices, electric or not."""

    wmi: str
    make: str
    name: str
    vds: str  # positions 4-6 (model line and body); positions 7-8 come from the trim
    trims: tuple[tuple[str, str, int], ...]  # (trim name, VDS engine code, list price in yuan)
    electric: bool
    weight: float


MODELS: tuple[Model, ...] = (
    Model("LFV", "大众", "迈腾", "3A2", (("330TSI 豪华型", "8E", 219900), ("380TSI 旗舰型", "9F", 269900)), False, 6),
    Model("LFV", "大众", "速腾", "2B1", (("200TSI 时尚版", "2C", 129900), ("300TSI 卓越版", "4D", 159900)), False, 8),
    Model("LFV", "大众", "ID.4 CROZZ", "5E0", (("PURE+", "E1", 199900), ("PRIME", "E3", 259900)), True, 3),
    Model("LSV", "大众", "帕萨特", "AN2", (("330TSI 精英版", "8E", 209900), ("380TSI 豪华版", "9F", 249900)), False, 6),
    Model("LSV", "大众", "朗逸", "AB1", (("1.5L 自动舒适版", "1A", 109900), ("280TSI 豪华版", "3C", 139900)), False, 9),
    Model("LSV", "大众", "ID.4 X", "BE0", (("纯净智享版", "E1", 189900), ("四驱高性能版", "E5", 259900)), True, 3),
    Model("LSG", "别克", "君越", "GB5", (("552T 豪华型", "4S", 229900), ("652T 旗舰型", "6S", 269900)), False, 3),
    Model("LSG", "别克", "GL8", "HN3", (("653T 豪华型", "6S", 269900), ("陆尊 旗舰型", "7S", 329900)), False, 4),
    Model("LHG", "本田", "雅阁", "CV1", (("260TURBO 精英版", "5A", 179900), ("锐·混动 旗舰版", "7H", 229900)), False, 6),
    Model("LHG", "本田", "皓影", "RW1", (("240TURBO 两驱舒适版", "5A", 179900), ("e:PHEV 尊贵版", "7H", 259900)), False, 4),
    Model("LGB", "日产", "轩逸", "G4B", (("1.6L XL 智享版", "1N", 119900), ("e-POWER 超智联", "3P", 149900)), False, 9),
    Model("LGB", "日产", "天籁", "L3A", (("2.0T 智享版", "4T", 179900), ("2.0L XL 舒适版", "2L", 199900)), False, 3),
    Model("LBV", "宝马", "3系", "8G1", (("325Li M运动套装", "5K", 339900), ("330Li xDrive", "7K", 399900)), False, 4),
    Model("LBV", "宝马", "5系", "5R3", (("530Li 领先型", "7K", 449900), ("525Li 豪华套装", "5K", 429900)), False, 3),
    Model("LBV", "宝马", "iX3", "7X1", (("领先型", "E6", 409900), ("创领型", "E8", 439900)), True, 2),
)  # fmt: skip
LEAD_MODELS = (
    "ID.4",
    "ID.6",
    "迈腾",
    "帕萨特",
    "途观L",
    "朗逸",
    "GL8",
    "雅阁",
    "轩逸",
    "3系",
    "iX3",
    "Model Y",
)

# Plants per WMI: the ERP's plant code and the VIN's position-11 letter (never I, O or Q).
PLANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "LFV": (("CC01", "C"), ("FS01", "F"), ("TJ01", "T")),
    "LSV": (("AT01", "A"), ("NJ01", "N"), ("YZ01", "Y")),
    "LSG": (("SH01", "S"), ("WH01", "W")),
    "LHG": (("GZ01", "G"), ("ZC01", "Z")),
    "LGB": (("HD01", "H"), ("XY01", "X")),
    "LBV": (("SY01", "S"), ("TX01", "T")),
}
# 30-year model-year cycle of VIN position 10 (ISO 3779: never I, O, Q, U, Z or 0); sales skew recent.
MODEL_YEARS: dict[int, tuple[str, float]] = {
    2019: ("K", 8), 2020: ("L", 10), 2021: ("M", 13), 2022: ("N", 16), 2023: ("P", 18), 2024: ("R", 20),
    2025: ("S", 15),
}  # fmt: skip
COLOURS = ("白", "黑", "银", "灰", "蓝", "红", "棕", "珠光白")

INSURERS: dict[str, str] = {
    "中国人保": "PDAA",
    "平安产险": "PAZH",
    "太平洋产险": "ACPY",
}  # policy number prefix
CREDIT_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C", "未评级")
CREDIT_TERMS = (30, 60, 90, 180)
PURCHASE_TIMEFRAMES = ("立即", "3个月内", "6个月内", "12个月内")
REPAIRS = (
    ("首次保养", False), ("常规保养 更换机油机滤", False), ("更换刹车片", False), ("四轮定位", False),
    ("更换空调滤芯", False), ("更换蓄电池", False), ("钣金喷漆", False), ("更换轮胎", False),
    ("更换雨刮片", False), ("发动机异响检查", False),
)  # fmt: skip
SAFETY_REPAIRS = ("安全气囊故障检修", "制动系统召回检修", "制动液泄漏维修", "转向助力失效维修")
SAFETY_SHARE = 0.02
SERVICE_REQUESTS = (
    ("保养预约", "想预约下周六上午做保养"), ("维修", "仪表盘报警灯亮了，请帮忙看看"),
    ("投诉", "上次保养后异响没有解决"), ("咨询", "请问车机系统怎么升级"), ("保养预约", "预约更换轮胎"),
)  # fmt: skip
CONSENT_PURPOSES = ("marketing", "service_reminder", "data_sharing")
CONSENT_CHANNELS = ("sms", "phone", "email", "wechat")
