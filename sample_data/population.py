"""The true world behind the sample data: people, companies, their cars and the dealers who sold them.

Every source record is rendered from these objects, so the ground truth (which person, which VIN) is known
for each record. Frequencies follow the facts in DOMAIN.md: a few surnames cover a large share of people,
so common full names (张伟, 王芳) repeat across different people — the case that makes matching hard.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from canonical_model.identifiers import resident_id, uscc, vin
from canonical_model.names import COMMON_SURNAMES

# Head of the surname distribution with their approximate shares (%); the rest share the remainder evenly.
SURNAME_SHARES = {
    "王": 7.3,
    "李": 7.2,
    "张": 6.8,
    "刘": 5.4,
    "陈": 4.5,
    "杨": 3.1,
    "黄": 2.2,
    "赵": 2.2,
    "吴": 2.0,
}
RARE_COMPOUND = ("欧阳", "司马", "诸葛", "上官")
GIVEN_MALE = "伟 强 磊 军 勇 杰 涛 明 超 华 建国 志强 俊杰 浩然 子轩 国华 文博 宇 鹏 斌".split()
GIVEN_FEMALE = "芳 娜 敏 静 丽 艳 娟 霞 秀英 桂英 婷 雪 慧 丹 玲 欣怡 子涵 梦琪 晓燕 红".split()
REGIONS = {
    "110105": "北京市朝阳区建国路", "310104": "上海市徐汇区漕溪北路", "440305": "深圳市南山区科技园路",
    "330106": "杭州市西湖区文三路", "510107": "成都市武侯区人民南路", "420106": "武汉市武昌区中南路",
    "320102": "南京市玄武区中山路", "350102": "福州市鼓楼区五四路", "370202": "青岛市市南区香港中路",
    "610113": "西安市雁塔区长安南路",
}  # fmt: skip
PLATE_PREFIX = {"110105": "京A", "310104": "沪A", "440305": "粤B", "330106": "浙A", "510107": "川A",
                "420106": "鄂A", "320102": "苏A", "350102": "闽A", "370202": "鲁B", "610113": "陕A"}  # fmt: skip
COMPANY_WORDS = ("明达", "华信", "远航", "金桥", "恒通", "新世纪", "东方", "瑞丰")
COMPANY_KINDS = ("物流有限公司", "汽车租赁有限公司", "科技有限公司", "贸易有限公司")
MODELS = (  # WMI, make, model, trims
    ("LFV", "一汽-大众", "迈腾", ("330TSI 豪华型", "380TSI 旗舰型")), ("LSV", "上汽大众", "帕萨特", ("330TSI 精英版",)),
    ("LSG", "上汽通用别克", "君越", ("552T 豪华型",)), ("LHG", "广汽本田", "雅阁", ("260TURBO 精英版",)),
    ("LGB", "东风日产", "轩逸", ("1.6L XL 智享版",)), ("LBV", "华晨宝马", "5系", ("530Li 领先型",)),
)  # fmt: skip
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
YEAR_CODES = {2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R", 2025: "S"}
PLANTS = ("SH01", "CC02", "FS03", "TJ04")
COLOURS = ("白", "黑", "银", "灰", "蓝", "红")
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass
class Dealer:
    code: str
    phone: str
    lazy: bool  # types its own phone for customers who give none


@dataclass
class Car:
    vin: str
    wmi_make: str
    model: str
    trim: str
    model_year: int
    production_date: date
    plant: str
    colour: str
    plate: str | None
    sold_on: date
    dealer: Dealer
    previous_owner: Person | None = None


@dataclass
class Person:
    person_id: str
    is_company: bool
    name: str
    gender: str  # male | female | "" for companies
    birth_date: date | None
    region: str
    street: str
    mobile: str
    email: str | None
    id_number: str  # resident ID (persons) or USCC (companies)
    cars: list[Car] = field(default_factory=list)


class World:
    """Draws people, companies, cars and dealers from one seeded RNG."""

    def __init__(self, rng: random.Random, dealers: int):
        self.rng = rng
        self._serial = 0
        self._id_sequence = 0
        self._surnames = list(SURNAME_SHARES) + [s for s in COMMON_SURNAMES if s not in SURNAME_SHARES]
        head = sum(SURNAME_SHARES.values())
        tail = (100 - head) / (len(self._surnames) - len(SURNAME_SHARES))
        self._weights = list(SURNAME_SHARES.values()) + [tail] * (len(self._surnames) - len(SURNAME_SHARES))
        self.dealers = [
            Dealer(f"D{31001 + n}", self.mobile(), lazy=n % 7 == 0) for n in range(max(5, dealers))
        ]

    def mobile(self) -> str:
        return "1" + self.rng.choice("3456789") + "".join(self.rng.choices("0123456789", k=9))

    def chinese_name(self, gender: str) -> str:
        surname = self.rng.choice(RARE_COMPOUND) if self.rng.random() < 0.01 else (
            self.rng.choices(self._surnames, self._weights)[0])  # fmt: skip
        return surname + self.rng.choice(GIVEN_MALE if gender == "male" else GIVEN_FEMALE)

    def resident_id(self, region: str, birth: date, gender: str) -> str:
        self._id_sequence += 1
        sequence = (self._id_sequence * 2) % 1000
        sequence += 1 if gender == "male" else 0  # GB 11643: odd sequence = male
        first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
        return first17 + resident_id.calc_check_char(first17)

    def uscc(self, region: str) -> str:
        org8 = "".join(self.rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY"[:10], k=8))
        first17 = f"91{region}{org8}{uscc.calc_org_check(org8)}"
        return first17 + uscc.calc_check_char(first17)

    def person(self, person_id: str, *, shared_mobile: str | None = None) -> Person:
        rng = self.rng
        region = rng.choice(list(REGIONS))
        street = f"{REGIONS[region]}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋{rng.randint(101, 2808)}室"
        if rng.random() < 0.05:
            name = rng.choice(COMPANY_WORDS) + rng.choice(("", "瑞", "新")) + rng.choice(COMPANY_KINDS)
            name = REGIONS[region][:2] + name
            return Person(person_id, True, name, "", None, region, street, shared_mobile or self.mobile(),
                          None, self.uscc(region))  # fmt: skip
        gender = rng.choice(("male", "female"))
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 54 * 365))
        email = f"user{rng.randrange(10**6):06d}@example.cn" if rng.random() < 0.5 else None
        return Person(person_id, False, self.chinese_name(gender), gender, birth, region, street,
                      shared_mobile or self.mobile(), email, self.resident_id(region, birth, gender))  # fmt: skip

    def car(self, owner_region: str) -> Car:
        rng = self.rng
        wmi, make, model, trims = rng.choice(MODELS)
        year = rng.choice(list(YEAR_CODES))
        self._serial += 1
        vds = "".join(rng.choices(VIN_CHARS, k=5))
        body = f"{wmi}{vds}0{YEAR_CODES[year]}{rng.choice('ABCDEF')}{self._serial % 1_000_000:06d}"
        full = body[:8] + vin.calc_check_digit(body) + body[9:]
        produced = date(year - 1, 6, 1) + timedelta(days=rng.randrange(0, 365))
        sold = produced + timedelta(days=rng.randrange(20, 200))
        plate = None
        if rng.random() < 0.9:
            digits = "".join(rng.choices("0123456789", k=4))
            if rng.random() < 0.2:  # GA 36-2018 small new-energy: energy letter, one serial char, four digits
                tail = "D" + rng.choice(PLATE_CHARS) + digits
            else:
                tail = rng.choice(PLATE_CHARS[:24]) + digits
            plate = PLATE_PREFIX[owner_region] + tail
        return Car(full, make, model, rng.choice(trims), year, produced, rng.choice(PLANTS), rng.choice(COLOURS),
                   plate, sold, rng.choice(self.dealers))  # fmt: skip
