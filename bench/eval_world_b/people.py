"""The true world of eval_world_b: persons, organisations, dealers and cars with their owner history."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from canonical_model.identifiers import resident_id, uscc, vin

# (city, province, district, region code, area code, plate prefix, street names)
CITIES = [
    ("杭州市", "浙江省", "西湖区", "330106", "0571", "浙A", ["文三路", "古墩路", "天目山路", "教工路"]),
    ("宁波市", "浙江省", "海曙区", "330203", "0574", "浙B", ["中山西路", "解放南路", "药行街"]),
    ("苏州市", "江苏省", "姑苏区", "320508", "0512", "苏E", ["人民路", "干将西路", "十全街"]),
    ("成都市", "四川省", "锦江区", "510104", "028", "川A", ["春熙路", "东大街", "红星路"]),
    ("武汉市", "湖北省", "江岸区", "420102", "027", "鄂A", ["解放大道", "沿江大道", "中山大道"]),
    ("广州市", "广东省", "天河区", "440106", "020", "粤A", ["天河路", "体育西路", "黄埔大道"]),
    ("郑州市", "河南省", "金水区", "410105", "0371", "豫A", ["花园路", "经三路", "农业路"]),
    ("西安市", "陕西省", "雁塔区", "610113", "029", "陕A", ["小寨东路", "长安南路", "电子正街"]),
    ("长沙市", "湖南省", "芙蓉区", "430102", "0731", "湘A", ["五一大道", "解放西路", "韶山北路"]),
]
CITY_WEIGHTS = [22, 10, 12, 12, 10, 12, 8, 7, 7]
BIRTH_REGIONS = ["330106", "330203", "320508", "510104", "420102", "440106", "410105", "610113", "430102",
                 "411302", "341502", "430521", "362201", "510722", "130102", "370102", "452501", "522101"]  # fmt: skip

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
            "单曾仇解区查")  # fmt: skip
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫"]
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲建国红志文斌宇浩凯俊峰波林雪梅婷琳"
         "晨欣怡佳子轩涵雨泽博海燕飞鑫亮成龙春晓东晶阳瑞琪颖慧新鹤昊宏天嘉思佩蕾霖琦倩彤淑丹")  # fmt: skip
COMMON_FULL = ["王伟", "张敏", "李娜", "刘洋", "王芳", "李伟", "张伟", "王静", "李静", "张丽", "刘伟", "陈静"]
MINORITY_FIRST = [
    "阿依古丽",
    "买买提",
    "艾力",
    "古丽娜尔",
    "热依拉",
    "努尔买买提",
    "阿不都",
    "帕提古丽",
    "迪丽拜尔",
]
MINORITY_LAST = ["买买提", "吐尔逊", "艾则孜", "阿不都拉", "热合曼", "司马义", "肉孜", "依明"]
FOREIGN = [("Michael", "Schmidt"), ("Anna", "Müller"), ("David", "Kim"), ("Yuki", "Tanaka"), ("James", "Smith"),
           ("Olga", "Ivanova"), ("Thomas", "Weber"), ("Sophie", "Martin")]  # fmt: skip
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                   "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "186", "187",
                   "188", "189", "198", "199"]  # fmt: skip
WMIS = {
    "LFV": "一汽-大众",
    "LSV": "上汽大众",
    "LSG": "上汽通用",
    "LHG": "广汽本田",
    "LGB": "东风日产",
    "LBV": "华晨宝马",
}
YEAR_CODES = {2015: "F", 2016: "G", 2017: "H", 2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P",
              2024: "R"}  # fmt: skip
VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
TODAY = date(2024, 12, 31)


@dataclass
class Person:
    id: str
    name: str  # as the person writes it (Han, minority with ·, or Latin for foreigners)
    surname: str
    gender: str
    birth: date
    city: int
    doc_type: str  # resident_id | passport | hmt_permit
    doc_no: str
    residence_permit: str | None = (
        None  # HK/Macau/Taiwan residents' 81/82/83 permit, beside the travel permit
    )
    mobiles: list[tuple[str, date]] = field(default_factory=list)  # (number, since); the current one last
    addresses: list[tuple[str, date]] = field(default_factory=list)
    email: str | None = None
    home_phone: str | None = None
    spouse: str | None = None
    hmt: bool = False
    foreign: bool = False

    def mobile_at(self, when: date) -> str:
        current = self.mobiles[0][0]
        for number, since in self.mobiles:
            if since <= when:
                current = number
        return current

    def address_at(self, when: date) -> str:
        current = self.addresses[0][0]
        for text, since in self.addresses:
            if since <= when:
                current = text
        return current


@dataclass
class Org:
    id: str
    kind: str  # rental | logistics | ridehail | dealer | gov | company | shop | jv
    name: str  # registered name
    place: str  # city short form (杭州)
    trade: str
    industry: str
    form: str  # legal form as registered
    city: int
    uscc: str
    switchboard: str
    address: str
    english: str | None = None
    contact: str | None = None  # a person who deals with the dealer / insurer for the company
    branch_of: str | None = None
    drivers: list[str] = field(default_factory=list)

    @property
    def org_code(self) -> str:
        return self.uscc[8:17]


@dataclass
class Owner:
    entity: str
    since: date
    how: str  # new | resale | demo_sold | fleet_to_driver


@dataclass
class Car:
    vin: str
    make: str
    model: str
    built: date
    owners: list[Owner] = field(default_factory=list)
    plates: list[tuple[str, date]] = field(default_factory=list)
    dealer: str = ""
    dealer_only: bool = False  # the newest owner shows up only as a customer on repair orders
    driver: str | None = None  # the person who drives a fleet car

    @property
    def resold(self) -> bool:
        return len(self.owners) > 1

    @property
    def dealer_only_resale(self) -> bool:
        return self.resold and self.dealer_only

    def owner_at(self, when: date) -> Owner:
        current = self.owners[0]
        for owner in self.owners:
            if owner.since <= when:
                current = owner
        return current

    def plate_at(self, when: date) -> str:
        current = self.plates[0][0]
        for plate, since in self.plates:
            if since <= when:
                current = plate
        return current


@dataclass
class Dealer:
    code: str
    name: str
    city: int
    showroom: str  # the showroom landline staff type for customers who will not give a phone
    group: str
    brand: str  # WMI of the brand it sells


@dataclass
class World:
    persons: dict[str, Person]
    orgs: dict[str, Org]
    cars: list[Car]
    dealers: list[Dealer]

    def kind(self, entity: str) -> str:
        return "person" if entity in self.persons else "organisation"

    def entity(self, entity: str) -> Person | Org:
        return self.persons.get(entity) or self.orgs[entity]


class Numbers:
    """Unique numbers of every kind, from one seeded source."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def unique(self, make) -> str:  # type: ignore[no-untyped-def]
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def mobile(self) -> str:
        r = self.rng
        return self.unique(
            lambda: r.choice(MOBILE_PREFIXES) + "".join(r.choice("0123456789") for _ in range(8))
        )

    def landline(self, city: int) -> str:
        r = self.rng
        area = CITIES[city][4]
        return self.unique(
            lambda: area + "-" + r.choice("2345678") + "".join(r.choice("0123456789") for _ in range(7))
        )

    def resident_id(self, region: str, birth: date, male: bool) -> str:
        def make() -> str:
            seq = self.rng.randrange(0, 100) * 10 + self.rng.choice(
                [1, 3, 5, 7, 9] if male else [0, 2, 4, 6, 8]
            )
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            return first17 + resident_id.calc_check_char(first17)

        return self.unique(make)

    def uscc(self, region: str, authority: str = "9", etype: str = "1") -> str:
        alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

        def make() -> str:
            body8 = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
            body8 = "".join(ch for ch in body8 if ch in "0123456789ABCDEFGHJKLMNPQRTUWXY0123456789")[:8]
            org_check = uscc.calc_org_check(body8)
            first17 = f"{authority}{etype}{region}{body8}{org_check}"
            if any(ch not in alphabet for ch in first17):
                return "bad"
            return first17 + uscc.calc_check_char(first17)

        while True:
            value = self.unique(make)
            if value != "bad" and uscc.is_valid(value):
                return value

    def vin(self, wmi: str, year: int) -> str:
        r = self.rng

        def make() -> str:
            vds = "".join(r.choice(VIN_ALPHABET) for _ in range(5))
            serial = f"{r.randrange(1, 40000):06d}"
            body = f"{wmi}{vds}0{YEAR_CODES[year]}{r.choice('123ABC')}{serial}"
            return body[:8] + vin.calc_check_digit(body) + body[9:]

        return self.unique(make)

    def plate(self, city: int, nev: bool) -> str:
        r = self.rng
        prefix = CITIES[city][5]
        if nev:
            return self.unique(
                lambda: prefix + r.choice("DF") + "".join(r.choice("0123456789") for _ in range(5))
            )
        return self.unique(lambda: prefix + "".join(r.choice(PLATE_ALPHABET) for _ in range(5)))


def _given(rng: random.Random) -> str:
    return "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))


def _street_address(rng: random.Random, city: int) -> str:
    c = CITIES[city]
    road = rng.choice(c[6])
    return f"{c[1]}{c[0]}{c[2]}{road}{rng.randrange(1, 400)}号{rng.randrange(1, 30)}幢{rng.randrange(1, 6)}单元{rng.randrange(101, 2800)}室"


def _rand_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def make_person(rng: random.Random, nums: Numbers, pid: str) -> Person:
    city = rng.choices(range(len(CITIES)), CITY_WEIGHTS)[0]
    male = rng.random() < 0.58
    birth = _rand_date(rng, date(1955, 1, 1), date(2002, 12, 31))
    roll = rng.random()
    hmt = foreign = False
    if roll < 0.012:  # ethnic-minority name with a middle dot
        surname = rng.choice(MINORITY_LAST)
        name = f"{rng.choice(MINORITY_FIRST)}·{surname}"
    elif roll < 0.025:  # compound surname
        surname = rng.choice(COMPOUND)
        name = surname + _given(rng)
    elif roll < 0.06:  # one of the most common full names (same-name different people)
        name = rng.choice(COMMON_FULL)
        surname = name[0]
    elif roll < 0.07:
        foreign = True
        first, last = rng.choice(FOREIGN)
        name, surname = f"{first} {last}", last
    else:
        weights = [max(1.0, 30 - i * 0.3) for i in range(len(SURNAMES))]
        surname = rng.choices(SURNAMES, weights)[0]
        name = surname + _given(rng)
        hmt = rng.random() < 0.02
    if foreign:
        doc_type, doc_no = (
            "passport",
            nums.unique(lambda: rng.choice("CEGKP") + "".join(rng.choice("0123456789") for _ in range(8))),
        )
        permit = None
    elif hmt:
        doc_type = "hmt_permit"
        prefix = rng.choice("HM")
        doc_no = nums.unique(lambda: prefix + "".join(rng.choice("0123456789") for _ in range(8)))
        permit = (
            nums.resident_id("810000" if prefix == "H" else "820000", birth, male)
            if rng.random() < 0.6
            else None
        )
    else:
        doc_type = "resident_id"
        region = CITIES[city][3] if rng.random() < 0.6 else rng.choice(BIRTH_REGIONS)
        doc_no, permit = nums.resident_id(region, birth, male), None
    person = Person(pid, name, surname, "male" if male else "female", birth, city, doc_type, doc_no, permit,
                    hmt=hmt, foreign=foreign)  # fmt: skip
    person.mobiles = [(nums.mobile(), date(2010, 1, 1))]
    if rng.random() < 0.15:  # changed mobile number
        person.mobiles.append((nums.mobile(), _rand_date(rng, date(2020, 6, 1), date(2024, 6, 1))))
    person.addresses = [(_street_address(rng, city), date(2010, 1, 1))]
    if rng.random() < 0.15:  # moved within the city
        person.addresses.append(
            (_street_address(rng, city), _rand_date(rng, date(2020, 1, 1), date(2024, 6, 1)))
        )
    if rng.random() < 0.35:
        handle = rng.choice(["", "x", "cn", "88", str(birth.year)])
        person.email = nums.unique(
            lambda: (
                f"{''.join(rng.choice('abcdefghjkmnpqrstwxyz') for _ in range(6))}{handle}@"
                f"{rng.choice(['qq.com', '163.com', '126.com', 'sina.com', 'gmail.com'])}"
            )
        )
    if rng.random() < 0.2:
        person.home_phone = nums.landline(city)
    return person


TRADES = ["鑫达", "恒通", "顺丰源", "华信", "宏远", "金桥", "天宇", "永盛", "瑞丰", "远航", "东升", "佳和", "博雅",
          "新世纪", "汇通", "盛世", "中联", "安达", "富华", "润泽", "凯旋", "海纳", "正大", "德胜", "同创", "广源",
          "万豪", "嘉禾", "银河", "星辰", "绿洲", "腾飞", "诚信", "和泰", "兴业", "龙腾", "华瑞", "信诚", "卓越",
          "明阳"]  # fmt: skip
TRADE_PINYIN = {"鑫达": "Xinda", "恒通": "Hengtong", "华信": "Huaxin", "宏远": "Hongyuan", "金桥": "Jinqiao",
                "天宇": "Tianyu", "永盛": "Yongsheng", "瑞丰": "Ruifeng", "远航": "Yuanhang", "东升": "Dongsheng"}  # fmt: skip
CITY_PINYIN = {"杭州": "Hangzhou", "宁波": "Ningbo", "苏州": "Suzhou", "成都": "Chengdu", "武汉": "Wuhan",
               "广州": "Guangzhou", "郑州": "Zhengzhou", "西安": "Xi'an", "长沙": "Changsha"}  # fmt: skip
ORG_KINDS = [  # kind, weight, industry words, cars (min, max)
    ("rental", 8, ["汽车租赁"], (6, 18)),
    ("logistics", 9, ["物流", "供应链管理", "货运"], (3, 12)),
    ("ridehail", 6, ["网约车服务", "出行科技", "客运"], (5, 15)),
    ("dealer", 4, ["汽车销售服务"], (2, 5)),
    ("gov", 6, [], (1, 4)),
    ("company", 40, ["建设工程", "贸易", "科技", "电子", "房地产开发", "餐饮管理", "医药", "广告", "建材", "机械设备"], (1, 3)),
    ("shop", 14, ["汽修店", "五金店", "便利店", "建材商行", "服装店", "餐馆"], (1, 2)),
    ("jv", 4, ["汽车零部件", "精密机械", "化工"], (2, 6)),
]  # fmt: skip
GOV_UNITS = ["交通运输局", "市场监督管理局", "人民医院", "第一中学", "城市管理局", "疾病预防控制中心", "公安局交通警察支队",
             "自然资源和规划局", "中心医院", "职业技术学院"]  # fmt: skip
JV_ENGLISH = {"汽车零部件": "Auto Parts", "精密机械": "Precision Machinery", "化工": "Chemical"}


def make_org(rng: random.Random, nums: Numbers, oid: str, kind: str, industry: str, city: int,
             trade: str | None = None) -> Org:  # fmt: skip
    c = CITIES[city]
    place = c[0][:-1]
    trade = trade or rng.choice(TRADES)
    english = None
    if kind == "gov":
        unit = rng.choice(GOV_UNITS)
        name, form, industry = f"{c[0]}{unit}", "", unit
        code = nums.uscc(c[3], authority="1", etype="1")
    elif kind == "shop":
        name, form = f"{place}{c[2]}{trade}{industry}", ""
        code = nums.uscc(c[3], etype="2")
    else:
        form = (
            rng.choice(["有限公司", "有限公司", "有限责任公司", "股份有限公司"])
            if kind != "jv"
            else "有限公司"
        )
        name = (
            f"{place}{trade}{industry}{form}" if rng.random() < 0.85 else f"{trade}({place}){industry}{form}"
        )
        code = nums.uscc(c[3])
        if kind == "jv":
            english = (
                f"{CITY_PINYIN[place]} {TRADE_PINYIN.get(trade, 'Sino')} {JV_ENGLISH[industry]} Co., Ltd."
            )
    return Org(oid, kind, name, place, trade, industry, form, city, code, nums.landline(city),
               f"{c[0]}{c[2]}{rng.choice(c[6])}{rng.randrange(1, 900)}号", english)  # fmt: skip


def _make_car(rng: random.Random, nums: Numbers, dealer: Dealer, sold: date) -> Car:
    year = min(max(sold.year, 2015), 2024)
    model = rng.choice(["A", "B", "C", "D"])
    return Car(nums.vin(dealer.brand, year), WMIS[dealer.brand], model, sold - timedelta(days=rng.randrange(20, 120)),
               dealer=dealer.code)  # fmt: skip


def _core(org: Org) -> tuple[int, str, str]:
    """What makes a registered name unique in its place: the trade name and industry (a unit for a public body)."""
    return (org.city, org.trade if org.kind != "gov" else org.name, org.industry)


def build_world(seed: int, scale: float) -> World:
    rng = random.Random(f"eval_world_b:{seed}")
    nums = Numbers(rng)
    n_persons = max(60, int(3300 * scale))
    persons: dict[str, Person] = {}
    for n in range(n_persons):
        p = make_person(rng, nums, f"P{n + 1:05d}")
        persons[p.id] = p
    pids = list(persons)
    # households: a spouse shares the address and often the home phone
    for pid in rng.sample(pids, int(len(pids) * 0.12)):
        a = persons[pid]
        if a.spouse or a.foreign:
            continue
        candidates = [
            q for q in rng.sample(pids, 6) if q != pid and not persons[q].spouse and not persons[q].foreign
        ]
        if not candidates:
            continue
        b = persons[candidates[0]]
        a.spouse, b.spouse = b.id, a.id
        b.city = a.city
        b.addresses = list(a.addresses)
        b.home_phone = a.home_phone

    dealers: list[Dealer] = []
    brands = list(WMIS)
    for n in range(18):
        city = n % len(CITIES)
        brand = brands[n % len(brands)]
        group = "G1" if n % 3 == 0 else ("G2" if n % 3 == 1 else "G3")
        code = f"XT{n + 1:03d}"
        dealers.append(Dealer(code, f"{CITIES[city][0][:-1]}{rng.choice(TRADES)}{WMIS[brand]}4S店", city,
                              nums.landline(city), group, brand))  # fmt: skip
    by_city: dict[int, list[Dealer]] = {}
    for d in dealers:
        by_city.setdefault(d.city, []).append(d)

    n_orgs = max(12, int(len(persons) * 0.125))
    orgs: dict[str, Org] = {}
    weights = [k[1] for k in ORG_KINDS]
    on = 0
    registered: set[tuple[int, str, str]] = set()
    while len(orgs) < n_orgs:
        kind, _, industries, _ = rng.choices(ORG_KINDS, weights)[0]
        city = rng.choices(range(len(CITIES)), CITY_WEIGHTS)[0]
        on += 1
        org = make_org(rng, nums, f"O{on:04d}", kind, rng.choice(industries) if industries else "", city)
        if _core(org) in registered:  # a registration authority never gives one name twice in a place
            on -= 1
            continue
        registered.add(_core(org))
        orgs[org.id] = org
        if (
            kind in ("company", "logistics", "rental") and rng.random() < 0.12
        ):  # same trade name in another city
            other = (city + 1 + rng.randrange(len(CITIES) - 1)) % len(CITIES)
            on += 1
            twin = make_org(rng, nums, f"O{on:04d}", kind, org.industry, other, trade=org.trade)
            if _core(twin) in registered:
                on -= 1
            else:
                registered.add(_core(twin))
                orgs[twin.id] = twin
        if kind in ("company", "logistics") and org.form != "股份有限公司" and rng.random() < 0.1:  # a branch
            other = (city + 1 + rng.randrange(len(CITIES) - 1)) % len(CITIES)
            on += 1
            branch = make_org(rng, nums, f"O{on:04d}", kind, org.industry, other, trade=org.trade)
            branch.name = f"{org.name}{CITIES[other][0]}分公司"
            branch.branch_of = org.id
            orgs[branch.id] = branch
    # contacts and drivers are persons of the world
    free = [p for p in pids if not persons[p].foreign]
    rng.shuffle(free)
    cursor = 0

    def take() -> str:
        nonlocal cursor
        cursor += 1
        return free[(cursor - 1) % len(free)]

    for org in orgs.values():
        if org.kind not in ("shop",):
            org.contact = take()
        if org.kind in ("rental", "logistics", "ridehail"):
            org.drivers = [take() for _ in range(rng.randrange(2, 7))]
    busy = set(free[:cursor])

    cars: list[Car] = []

    def dealer_for(city: int) -> Dealer:
        return rng.choice(by_city.get(city) or dealers)

    def new_car(owner: str, city: int, sold: date, how: str = "new") -> Car:
        dealer = dealer_for(city)
        car = _make_car(rng, nums, dealer, sold)
        car.owners.append(Owner(owner, sold, how))
        car.plates.append(
            (nums.plate(city, rng.random() < 0.15), sold + timedelta(days=rng.randrange(3, 20)))
        )
        cars.append(car)
        return car

    buyers = [p for p in pids if rng.random() < 0.68]
    for pid in buyers:
        p = persons[pid]
        for _ in range(2 if rng.random() < 0.07 else 1):
            new_car(pid, p.city, _rand_date(rng, date(2016, 1, 1), date(2024, 3, 1)))
    for org in orgs.values():
        lo, hi = next(k[3] for k in ORG_KINDS if k[0] == org.kind)
        for _ in range(rng.randint(lo, hi)):
            car = new_car(org.id, org.city, _rand_date(rng, date(2016, 1, 1), date(2024, 3, 1)))
            if org.drivers:
                car.driver = rng.choice(org.drivers)
            if org.kind == "dealer":
                car.owners[0].how = "demo"
    # resales
    non_buyers = [p for p in pids if p not in set(buyers) and p not in busy]
    rng.shuffle(non_buyers)
    for car in cars:
        first = car.owners[0]
        if first.since > date(2023, 6, 1):
            continue
        kind = "person" if first.entity in persons else orgs[first.entity].kind
        rate = {"person": 0.10, "dealer": 0.75, "rental": 0.15, "ridehail": 0.15}.get(kind, 0.05)
        if not rng.random() < rate:
            continue
        if kind in ("rental", "ridehail") and car.driver and rng.random() < 0.6:
            new_owner, how = car.driver, "fleet_to_driver"
        elif non_buyers:
            new_owner, how = non_buyers.pop(), ("demo_sold" if kind == "dealer" else "resale")
        else:
            continue
        when = _rand_date(rng, first.since + timedelta(days=200), date(2024, 6, 1))
        car.owners.append(Owner(new_owner, when, how))
        city = persons[new_owner].city
        if (
            city != CITIES.index(next(c for c in CITIES if c[5] == car.plates[-1][0][:2]))
            or rng.random() < 0.3
        ):
            car.plates.append((nums.plate(city, car.plates[-1][0][2] in "DF" and len(car.plates[-1][0]) == 8),
                               when + timedelta(days=rng.randrange(5, 30))))  # fmt: skip
        if when < date(2023, 9, 1) and non_buyers and rng.random() < 0.15:  # resold twice
            again = _rand_date(rng, when + timedelta(days=120), date(2024, 8, 1))
            second = non_buyers.pop()
            car.owners.append(Owner(second, again, "resale"))
            car.plates.append((nums.plate(persons[second].city, False), again + timedelta(days=10)))
        car.dealer_only = rng.random() < 0.4
    return World(persons, orgs, cars, dealers)
