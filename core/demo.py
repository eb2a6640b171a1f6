"""Demo data: 沙北街道 with 泰山社区 (urban) and 新庄赵村 (village), from the source articles.

The data is described by the tables below (`STREET`, `COMMUNITIES`, `GRIDS`, `STAFF`,
`PARTNERS`, `TAGS`, `NAMED_HOUSEHOLDS`) plus name tables from which a seeded generator fills the
rest of each grid. The plan is a pure function of those tables: it never looks at the database or
the clock, so every run asks for exactly the same rows. `seed_demo()` then writes the plan with
get_or_create / update_or_create on natural keys (codes, names, usernames, ID numbers,
addresses), so running it again creates nothing new; it only resets what drifted (the demo
users' passwords, and the dates of the demo visits, which are kept relative to today so the
"due for a visit" list always shows overdue, due and never-visited people).
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from core import roles
from core.validators import id_birth_date, id_gender, make_id_number
from grids.demo import seed_lists_and_councils
from grids.models import (
    CommitteeMember,
    Community,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerAgreement,
    PartnerUnit,
    Street,
    StreetAdmin,
)
from points.demo import seed_points
from residents.demo import seed_needs
from residents.models import Household, Resident, Tag, Visit
from volunteers.demo import seed_volunteers

# ================================================================================ the tables

# Ages in the tables are as of this year, so birth dates do not move from one day to the next.
AGE_REFERENCE_YEAR = 2025
ASSIGNMENTS_START = dt.date(2024, 1, 1)
RANDOM_SEED = 20250806  # the day 泰山社区's volunteers knocked on 张桂兰's door


@dataclass(frozen=True)
class CommunitySpec:
    code: str
    name: str
    kind: str
    region: str  # the first six digits of its residents' ID numbers (行政区划代码)


@dataclass(frozen=True)
class GridSpec:
    community: str
    code: str
    name: str
    kind: str = Grid.Kind.RESIDENTIAL
    households: int = 0  # generated households, on top of NAMED_HOUSEHOLDS in this grid
    complex: str = ""  # urban grids: the housing complex (小区)
    buildings: tuple[int, int] = (1, 12)  # urban grids: building numbers to spread households on
    village_group: str = ""  # village grids: the village group (村民组)


@dataclass(frozen=True)
class StaffSpec:
    """A login with a post: a grid worker, a committee seat, a street admin, a partner contact."""

    username: str
    name: str
    role: str  # one of core.roles
    community: str = ""
    worker_kind: str = ""  # GridWorker.Kind for grid workers
    party_member: bool = False
    grids: tuple[str, ...] = ()  # grid codes in `community` the worker is assigned to
    leads: tuple[str, ...] = ()  # grid codes the worker is the leader (网格长) of
    title: str = ""  # committee seat title
    street: str = ""  # street admin of
    partner: str = ""  # contact of this partner unit
    superuser: bool = False
    login: bool = False  # a printed demo login with DEMO_PASSWORD; others cannot log in
    sees: str = ""  # what the login sees, for the printed list


@dataclass(frozen=True)
class PersonSpec:
    name: str
    gender: str  # "M" | "F"
    born: dt.date
    tags: tuple[str, ...] = ()
    party_member: bool = False
    phone: str | None = None  # None: generated for adults
    login: str = ""  # username of the resident's own login


@dataclass(frozen=True)
class VisitSpec:
    worker: str  # username of the grid worker
    days_ago: int
    method: str
    notes: str
    hour: int = 10
    follow_up_in_days: int | None = None


@dataclass(frozen=True)
class HouseholdSpec:
    community: str
    grid: str
    members: tuple[PersonSpec, ...]  # the first is the head of household
    complex: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    village_group: str = ""
    house_number: str = ""
    visits: tuple[VisitSpec, ...] = ()


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    contact_name: str
    communities: tuple[str, ...]
    signed_on: dt.date


STREET = {"code": "shabei", "name": "沙北街道"}

COMMUNITIES = (
    CommunitySpec("taishan", "泰山社区", Community.Kind.URBAN, region="411103"),  # 郾城区
    CommunitySpec("xzz", "新庄赵村", Community.Kind.VILLAGE, region="411104"),  # 召陵区
)

# name → visit every N days (None: a key population without a visit schedule)
TAGS: dict[str, int | None] = {
    "独居老人": 7,
    "孤寡老人": 7,
    "残疾人": 30,
    "困难家庭": 30,
    "脱贫户": 30,
    "退役军人": None,
    "党员": None,
}

# fmt: off
_R = Grid.Kind.RESIDENTIAL
_D = Grid.Kind.DEDICATED
GRIDS = (
    # 泰山社区: residential grids by housing complex, and dedicated grids (专属网格).
    GridSpec("taishan", "R1", "黄山小区网格", _R, 16, complex="黄山小区", buildings=(20, 28)),
    GridSpec("taishan", "R2", "天山小区网格", _R, 16, complex="天山小区", buildings=(1, 10)),
    GridSpec("taishan", "R3", "泰山小区网格", _R, 16, complex="泰山小区", buildings=(1, 12)),
    GridSpec("taishan", "R4", "华山小区网格", _R, 12, complex="华山小区", buildings=(1, 6)),
    GridSpec("taishan", "D1", "市实验小学专属网格", _D),
    GridSpec("taishan", "D2", "支四路沿街商铺专属网格", _D),
    # 新庄赵村: seven grids, one per village group, each led by a party member.
    GridSpec("xzz", "G1", "第一网格", households=9, village_group="一组"),
    GridSpec("xzz", "G2", "第二网格", households=9, village_group="二组"),
    GridSpec("xzz", "G3", "第三网格", households=8, village_group="三组"),
    GridSpec("xzz", "G4", "第四网格", households=8, village_group="四组"),
    GridSpec("xzz", "G5", "第五网格", households=8, village_group="五组"),
    GridSpec("xzz", "G6", "第六网格", households=8, village_group="六组"),
    GridSpec("xzz", "G7", "第七网格", households=8, village_group="七组"),
)

_FT = GridWorker.Kind.FULL_TIME
_PT = GridWorker.Kind.PART_TIME
STAFF = (
    # --- the printed demo logins (password DEMO_PASSWORD)
    StaffSpec("admin", "沙北街道管理员", roles.STREET_ADMIN, street="shabei", superuser=True,
              login=True, sees="everything (superuser); street admin of 沙北街道"),
    StaffSpec("committee", "赵振东", roles.COMMITTEE, community="xzz", title="村委会委员",
              login=True, sees="新庄赵村: its 7 grids, households, residents, visits"),
    StaffSpec("worker", "赵建军", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G1",), leads=("G1",), login=True,
              sees="新庄赵村 第一网格 (G1) only; visits due there"),
    StaffSpec("worker2", "赵红梅", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G2",), leads=("G2",), login=True,
              sees="新庄赵村 第二网格 (G2) only"),
    StaffSpec("partner", "张伟", roles.PARTNER, partner="市委办", login=True,
              sees="partner unit 市委办 and its agreement"),
    StaffSpec("leader", "朱德荣", roles.TEAM_LEADER, login=True,
              sees="泰山社区 银龄调解队: its roster, activities, attendance"),
    # `resident` is the login of 赵银名, see NAMED_HOUSEHOLDS.
    # --- people of the articles, and the other grid workers (no password: they cannot log in)
    StaffSpec("taishan.zhaohui", "赵辉", roles.COMMITTEE, community="taishan",
              title="社区党支部书记、居民委员会主任"),
    StaffSpec("xzz.fanliang", "樊良", roles.COMMITTEE, community="xzz", title="驻村第一书记"),
    StaffSpec("taishan.shiyingge", "史莺歌", roles.GRID_WORKER, community="taishan",
              worker_kind=_FT, party_member=True, grids=("R1", "D1"), leads=("R1", "D1")),
    StaffSpec("taishan.qixiangping", "齐香萍", roles.GRID_WORKER, community="taishan",
              worker_kind=_PT, grids=("R1",)),
    StaffSpec("taishan.lihongxia", "李红霞", roles.GRID_WORKER, community="taishan",
              worker_kind=_FT, party_member=True, grids=("R2",), leads=("R2",)),
    StaffSpec("taishan.wangjianhua", "王建华", roles.GRID_WORKER, community="taishan",
              worker_kind=_FT, grids=("R3",), leads=("R3",)),
    StaffSpec("taishan.liuli", "刘丽", roles.GRID_WORKER, community="taishan",
              worker_kind=_PT, grids=("R3",)),
    StaffSpec("taishan.sunhaiyan", "孙海燕", roles.GRID_WORKER, community="taishan",
              worker_kind=_FT, party_member=True, grids=("R4",), leads=("R4",)),
    StaffSpec("taishan.majunjie", "马俊杰", roles.GRID_WORKER, community="taishan",
              worker_kind=_PT, grids=("D2",), leads=("D2",)),
    StaffSpec("xzz.g3", "赵国庆", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G3",), leads=("G3",)),
    StaffSpec("xzz.g4", "李文涛", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G4",), leads=("G4",)),
    StaffSpec("xzz.g5", "赵志刚", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G5",), leads=("G5",)),
    StaffSpec("xzz.g6", "王秀珍", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G6",), leads=("G6",)),
    StaffSpec("xzz.g7", "赵永华", roles.GRID_WORKER, community="xzz", worker_kind=_FT,
              party_member=True, grids=("G7",), leads=("G7",)),
)

# Who approves the demo claims of each community (a committee member, never the submitter).
COMMITTEE_APPROVERS = {"xzz": "committee", "taishan": "taishan.zhaohui"}

RESIDENT_LOGIN = "resident"
RESIDENT_LOGIN_SEES = "only themselves (赵银名, 新庄赵村 G1) and their household"

PARTNERS = (
    PartnerSpec("市委办", "张伟", ("taishan",), dt.date(2025, 3, 1)),
    PartnerSpec("市人大", "王丽娟", ("taishan",), dt.date(2025, 3, 1)),
    PartnerSpec("市政协", "李国华", ("taishan",), dt.date(2025, 3, 1)),
    PartnerSpec("市政府办", "陈明", ("taishan",), dt.date(2025, 4, 15)),
    PartnerSpec("市第二人民医院", "刘芳", ("taishan",), dt.date(2025, 5, 20)),
    PartnerSpec("市住房和城乡建设局", "孟永生", ("xzz",), dt.date(2025, 6, 1)),
)

_IP = Visit.Method.IN_PERSON
_PH = Visit.Method.PHONE
_AP = Visit.Method.APPOINTMENT
_OP = Visit.Method.OFF_PEAK
P, V = PersonSpec, VisitSpec


def _d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


# Visits are `days_ago` before the day the seed runs, so the list of visits due always shows
# never-visited (王淑珍, 赵桂英), overdue (张桂兰, 赵福来, 赵守义) and not-yet-due (李凤兰) people.
NAMED_HOUSEHOLDS = (
    # ---- 泰山社区
    HouseholdSpec(
        "taishan", "R1", complex="黄山小区", building="21", unit="2", room="101",
        members=(P("张桂兰", "F", _d("1942-03-15"), tags=("独居老人",), phone=""),),
        visits=(
            V("taishan.shiyingge", 9, _IP,
              "入户测量血压, 偏高 (150/95), 叮嘱按时服药, 约巾帼学堂志愿者下周再来。"),
            V("taishan.qixiangping", 16, _PH, "电话问候, 老人说腿脚不便, 需要代买药品。"),
        ),
    ),
    HouseholdSpec(
        "taishan", "R1", complex="黄山小区", building="25", unit="1", room="302",
        members=(
            P("朱德荣", "M", _d("1953-08-01"), tags=("退役军人",), party_member=True),
            P("孙秀兰", "F", _d("1955-11-20")),
        ),
        visits=(
            V("taishan.shiyingge", 20, _AP,
              "预约走访: 银龄调解队队长, 反映25号楼邻里纠纷已调解完毕。"),
        ),
    ),
    HouseholdSpec(
        "taishan", "R1", complex="黄山小区", building="22", unit="1", room="201",
        members=(P("王淑珍", "F", _d("1938-01-09"), tags=("孤寡老人",), phone=""),),
    ),
    HouseholdSpec(
        "taishan", "R2", complex="天山小区", building="3", unit="1", room="102",
        members=(
            P("刘长山", "M", _d("1950-06-12")),
            P("吴桂芝", "F", _d("1952-02-28")),
            P("刘子轩", "M", _d("2017-09-03")),
        ),
        visits=(
            V("taishan.lihongxia", 30, _OP,
              "错时走访 (晚七点): 反映天山小区道路坑洼, 已报市人大共建认领。", hour=19),
        ),
    ),
    HouseholdSpec(
        "taishan", "R3", complex="泰山小区", building="6", unit="2", room="501",
        members=(
            P("陈国栋", "M", _d("1975-04-18")),
            P("杨丽", "F", _d("1977-12-05")),
            P("陈思雨", "F", _d("2008-07-21")),
        ),
        visits=(
            V("taishan.wangjianhua", 12, _IP, "回访: 市委办认领的太阳能路灯已安装, 居民满意。"),
        ),
    ),
    HouseholdSpec(
        "taishan", "R3", complex="泰山小区", building="2", unit="1", room="101",
        members=(
            P("马建设", "M", _d("1968-10-10"), tags=("残疾人",)),
            P("田玉霞", "F", _d("1970-03-30"), tags=("困难家庭",)),
        ),
        visits=(
            V("taishan.liuli", 45, _AP, "预约上门, 协助申请残疾人两项补贴。",
              follow_up_in_days=30),
        ),
    ),
    HouseholdSpec(
        "taishan", "R4", complex="华山小区", building="4", unit="1", room="402",
        members=(P("韩凤英", "F", _d("1946-05-17"), tags=("独居老人",)),),
        visits=(V("taishan.sunhaiyan", 3, _PH, "电话询问近况, 一切安好, 寒潮前送去棉被。"),),
    ),
    # ---- 新庄赵村
    HouseholdSpec(
        "xzz", "G1", village_group="一组", house_number="12",
        members=(
            P("赵银名", "M", _d("1968-04-02"), tags=("脱贫户",), login=RESIDENT_LOGIN),
            P("王秀芝", "F", _d("1970-09-15")),
            P("赵磊", "M", _d("1995-01-26")),
        ),
        visits=(
            V("worker", 5, _IP,
              "入户宣传积分云超市: 帮独居老人搬运重物, 清理村西头游园垃圾, 已申报积分。"),
        ),
    ),
    HouseholdSpec(
        "xzz", "G1", village_group="一组", house_number="3",
        members=(P("赵桂英", "F", _d("1938-12-01"), tags=("独居老人",), phone=""),),
    ),
    HouseholdSpec(
        "xzz", "G1", village_group="一组", house_number="27",
        members=(P("李凤兰", "F", _d("1945-07-07"), tags=("独居老人",)),),
        visits=(V("worker", 2, _IP, "上门看望, 帮忙打扫院子, 老人身体尚好。"),),
    ),
    HouseholdSpec(
        "xzz", "G1", village_group="一组", house_number="31",
        members=(P("赵福来", "M", _d("1940-02-14"), tags=("孤寡老人",), phone=""),),
        visits=(
            V("worker", 11, _PH, "电话联系不上, 托邻居转告, 需尽快上门。"),
            V("worker", 25, _IP, "送去降压药, 反映院墙有裂缝, 已登记安全隐患。"),
        ),
    ),
    HouseholdSpec(
        "xzz", "G2", village_group="二组", house_number="8",
        members=(P("赵守义", "M", _d("1943-10-30"), tags=("独居老人",), party_member=True),),
        visits=(
            V("worker2", 10, _OP, "错时走访 (傍晚): 老党员, 参加村里议事会意愿强。", hour=18),
        ),
    ),
    HouseholdSpec(
        "xzz", "G3", village_group="三组", house_number="5",
        members=(
            P("赵小军", "M", _d("1985-05-20"), tags=("残疾人",)),
            P("赵春生", "M", _d("1958-03-03")),
            P("周兰英", "F", _d("1960-08-08")),
        ),
        visits=(
            V("xzz.g3", 40, _AP, "预约走访: 申请轮椅一辆, 已报村两委。", follow_up_in_days=14),
        ),
    ),
    HouseholdSpec(
        "xzz", "G4", village_group="四组", house_number="16",
        members=(
            P("李保国", "M", _d("1963-11-11"), tags=("困难家庭",)),
            P("赵翠花", "F", _d("1965-01-01"), tags=("困难家庭",)),
        ),
        visits=(V("xzz.g4", 8, _IP, "了解春耕困难, 对接驻村工作队送化肥。"),),
    ),
    HouseholdSpec(
        "xzz", "G5", village_group="五组", house_number="2",
        members=(
            P("赵国强", "M", _d("1960-07-01"), tags=("退役军人",), party_member=True),
            P("孟秀梅", "F", _d("1962-04-12")),
        ),
    ),
)
# fmt: on


# Name tables for the generated residents.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶贺顾毛郝龚邵"
)
# The most common surnames, drawn three times as often as the rest.
COMMON_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭"
VILLAGE_SURNAME = "赵"  # 新庄赵村: most families are 赵


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# (gender, generation) → given names; generations: born before 1960, 1960–84, 1985–2004, 2005–
# fmt: off
GIVEN_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("M", "old"): _words(
        "建国 国庆 德福 长林 志明 世荣 振华 保国 金山 玉林 "
        "树德 广才 文斌 留柱 春生 富贵 占魁 有才"
    ),
    ("F", "old"): _words(
        "桂兰 秀英 玉兰 凤英 桂芝 秀兰 玉珍 淑珍 素芳 兰英 "
        "桂荣 秀珍 玉梅 爱莲 春梅 金凤"
    ),
    ("M", "mid"): _words(
        "建军 卫东 志刚 国强 海军 建华 永明 新民 伟 勇 "
        "军 强 涛 斌 文涛 建伟 立新 学军 宏伟 海涛 "
        "晓东"
    ),
    ("F", "mid"): _words(
        "红梅 丽 秀芝 艳 霞 丽娟 红霞 海燕 秀梅 静 "
        "敏 燕 俊霞 丽华 春燕 晓红 艳玲 彩霞"
    ),
    ("M", "young"): _words(
        "浩 鹏 磊 超 帅 博文 浩然 宇航 俊杰 鑫 "
        "亚飞 家豪 晨阳 一鸣 振宇 文博 子健 明轩"
    ),
    ("F", "young"): _words(
        "静怡 婷 佳琪 雨涵 梦瑶 晓雯 思雨 欣怡 倩 雪 "
        "丹丹 亚楠 梦洁 文静 嘉欣"
    ),
    ("M", "child"): _words(
        "子轩 浩宇 梓豪 宇轩 一诺 沐阳 俊熙 皓轩 睿泽 子墨 "
        "锦程 奕辰"
    ),
    ("F", "child"): _words(
        "梓涵 子涵 欣妍 诗涵 语桐 可馨 若汐 梓萱 思琪 雨桐 "
        "沐晴"
    ),
}
# fmt: on
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 176 177 180 181 182 185 "
    "186 187 189"
)
# Notes of generated visits, by method.
VISIT_NOTES: dict[str, tuple[str, ...]] = {
    _IP: (
        "入户走访, 了解家庭近况, 无特殊需求。",
        "上门宣传防电信诈骗知识, 发放宣传册。",
        "核实家庭成员信息, 更新居民台账。",
        "征求对环境整治的意见, 建议增加路灯。",
        "宣传积分制, 讲解积分增减细则12条。",
        "走访发现楼道堆放杂物, 已提醒清理。",
    ),
    _PH: (
        "电话回访, 确认上次反映的问题已解决。",
        "电话询问近况, 家中一切正常。",
        "电话通知本周四晚公益亲子沙龙活动。",
    ),
    _AP: (
        "按预约时间上门, 协助办理医保缴费。",
        "预约走访, 登记居家养老服务需求。",
        "预约上门, 填写民意征集表。",
    ),
    _OP: (
        "错时走访 (晚上七点), 上班族在家, 填写民意调查表。",
        "周末错时走访, 了解子女入学需求。",
        "错时走访 (中午), 反映夜间噪音扰民。",
    ),
}
VISIT_METHOD_WEIGHTS = ((_IP, 55), (_PH, 20), (_AP, 10), (_OP, 15))
VISITED_SHARE = 0.55  # share of generated households with a visit in the last 60 days

# ================================================================================ the plan


@dataclass(frozen=True)
class PlannedResident:
    name: str
    gender: str
    born: dt.date
    id_number: str
    phone: str
    party_member: bool
    tags: tuple[str, ...]
    login: str = ""


@dataclass(frozen=True)
class PlannedHousehold:
    community: str
    grid: str
    complex: str
    building: str
    unit: str
    room: str
    village_group: str
    house_number: str
    residents: tuple[PlannedResident, ...]
    visits: tuple[VisitSpec, ...]


def _generation(born_year: int) -> str:
    if born_year < 1960:
        return "old"
    if born_year < 1985:
        return "mid"
    if born_year < 2005:
        return "young"
    return "child"


class _Generator:
    """Draws people and addresses from the name tables with a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.surnames = list(SURNAMES) + list(COMMON_SURNAMES) * 2

    def born(self, age_from: int, age_to: int) -> dt.date:
        year = AGE_REFERENCE_YEAR - self.rng.randint(age_from, age_to)
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def surname(self, village: bool) -> str:
        if village and self.rng.random() < 0.6:
            return VILLAGE_SURNAME
        return self.rng.choice(self.surnames)

    def given(self, gender: str, born: dt.date) -> str:
        return self.rng.choice(GIVEN_NAMES[(gender, _generation(born.year))])

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def person(
        self, *, surname: str, gender: str, age: tuple[int, int]
    ) -> tuple[str, str, dt.date]:
        born = self.born(*age)
        return surname + self.given(gender, born), gender, born

    def family(self, village: bool) -> list[tuple[str, str, dt.date]]:
        """One household's members, head first: a realistic mix of sizes (about 2.8)."""
        rng = self.rng
        kind = rng.choices(
            ("elder_alone", "elder_couple", "couple", "family", "three_generations", "single"),
            weights=(12, 16, 14, 32, 18, 8),
        )[0]
        surname = self.surname(village)
        head_gender = "M" if rng.random() < 0.8 else "F"
        other = "F" if head_gender == "M" else "M"
        if kind == "elder_alone":
            return [self.person(surname=surname, gender=rng.choice("MF"), age=(68, 92))]
        if kind == "single":
            return [self.person(surname=surname, gender=head_gender, age=(22, 45))]
        if kind == "elder_couple":
            age = rng.randint(62, 88)
            return [
                self.person(surname=surname, gender="M", age=(age, age)),
                self.person(surname=self.surname(village), gender="F", age=(age - 5, age)),
            ]
        head_age = rng.randint(28, 56)
        members = [
            self.person(surname=surname, gender=head_gender, age=(head_age, head_age)),
            self.person(
                surname=self.surname(village), gender=other, age=(head_age - 3, head_age + 2)
            ),
        ]
        if kind == "couple":
            return members
        for _ in range(rng.choice((1, 1, 1, 2, 2))):
            child_age = max(0, head_age - rng.randint(23, 36))
            members.append(
                self.person(surname=surname, gender=rng.choice("MF"), age=(child_age, child_age))
            )
        if kind == "three_generations":
            old_age = min(95, head_age + rng.randint(22, 32))
            members.insert(0, self.person(surname=surname, gender="M", age=(old_age, old_age)))
            if rng.random() < 0.5:
                members.insert(
                    1,
                    self.person(
                        surname=self.surname(village), gender="F", age=(old_age - 4, old_age)
                    ),
                )
        return members


def _urban_address(gen: _Generator, spec: GridSpec, used: set[tuple[str, ...]]) -> tuple[str, ...]:
    lo, hi = spec.buildings
    while True:
        floor, door = gen.rng.randint(1, 6), gen.rng.randint(1, 2)
        address = (str(gen.rng.randint(lo, hi)), str(gen.rng.randint(1, 3)), f"{floor}0{door}")
        if address not in used:
            used.add(address)
            return address


def build_plan(seed: int = RANDOM_SEED) -> list[PlannedHousehold]:
    """Every household and resident of the demo, as a pure function of the tables."""
    gen = _Generator(seed)
    regions = {c.code: c.region for c in COMMUNITIES}
    counters: Counter[str] = Counter()  # per region: people numbered so far
    ids: set[str] = set()
    workers_of = {
        (s.community, g): s.username for s in STAFF if s.role == roles.GRID_WORKER for g in s.grids
    }

    def resident(community: str, spec: PersonSpec) -> PlannedResident:
        region = regions[community]
        n = counters[region]
        counters[region] += 1
        # 000–999 sequence: odd for men, even for women; unique per region for < 500 people.
        sequence = 2 * (n % 500) + (1 if spec.gender == "M" else 0)
        id_number = make_id_number(region, spec.born, sequence)
        if id_number in ids or n >= 500:
            raise ValueError(f"demo ID number space exhausted in region {region}")
        ids.add(id_number)
        age = AGE_REFERENCE_YEAR - spec.born.year
        if spec.phone is not None:
            phone = spec.phone
        else:
            phone = gen.phone() if age >= 16 and (age < 75 or gen.rng.random() < 0.5) else ""
        tags = tuple(dict.fromkeys(spec.tags + (("党员",) if spec.party_member else ())))
        return PlannedResident(
            name=spec.name,
            gender=spec.gender,
            born=spec.born,
            id_number=id_number,
            phone=phone,
            party_member=spec.party_member,
            tags=tags,
            login=spec.login,
        )

    plan: list[PlannedHousehold] = []
    for h in NAMED_HOUSEHOLDS:
        plan.append(
            PlannedHousehold(
                community=h.community,
                grid=h.grid,
                complex=h.complex,
                building=h.building,
                unit=h.unit,
                room=h.room,
                village_group=h.village_group,
                house_number=h.house_number,
                residents=tuple(resident(h.community, m) for m in h.members),
                visits=h.visits,
            )
        )

    for spec in GRIDS:
        if not spec.households:
            continue
        village = bool(spec.village_group)
        used_urban = {
            (h.building, h.unit, h.room)
            for h in NAMED_HOUSEHOLDS
            if (h.community, h.grid) == (spec.community, spec.code)
        }
        used_numbers = {
            h.house_number
            for h in NAMED_HOUSEHOLDS
            if (h.community, h.grid) == (spec.community, spec.code)
        }
        next_number = 1
        for _ in range(spec.households):
            members = []
            for name, gender, born in gen.family(village):
                age = AGE_REFERENCE_YEAR - born.year
                party = age >= 25 and gen.rng.random() < 0.08
                tags: list[str] = []
                if age >= 40 and gender == "M" and gen.rng.random() < 0.05:
                    tags.append("退役军人")
                if gen.rng.random() < 0.03:
                    tags.append("残疾人")
                members.append(PersonSpec(name, gender, born, tags=tuple(tags), party_member=party))
            head_age = AGE_REFERENCE_YEAR - members[0].born.year
            if len(members) == 1 and head_age >= 68 and gen.rng.random() < 0.7:
                members[0] = _with_tag(members[0], "独居老人")
            if gen.rng.random() < 0.06:
                members[0] = _with_tag(members[0], "困难家庭")
            if village and gen.rng.random() < 0.08:
                members[0] = _with_tag(members[0], "脱贫户")

            if village:
                while str(next_number) in used_numbers:
                    next_number += 1
                used_numbers.add(str(next_number))
                address = {"village_group": spec.village_group, "house_number": str(next_number)}
                next_number += gen.rng.randint(1, 3)
            else:
                building, unit, room = _urban_address(gen, spec, used_urban)
                address = {
                    "complex": spec.complex,
                    "building": building,
                    "unit": unit,
                    "room": room,
                }

            visits: tuple[VisitSpec, ...] = ()
            if gen.rng.random() < VISITED_SHARE:
                method = gen.rng.choices(
                    [m for m, _ in VISIT_METHOD_WEIGHTS], [w for _, w in VISIT_METHOD_WEIGHTS]
                )[0]
                visits = (
                    VisitSpec(
                        workers_of[(spec.community, spec.code)],
                        gen.rng.randint(1, 60),
                        method,
                        gen.rng.choice(VISIT_NOTES[method]),
                        hour=gen.rng.choice((19, 20)) if method == _OP else gen.rng.randint(9, 17),
                    ),
                )
            plan.append(
                PlannedHousehold(
                    community=spec.community,
                    grid=spec.code,
                    complex=address.get("complex", ""),
                    building=address.get("building", ""),
                    unit=address.get("unit", ""),
                    room=address.get("room", ""),
                    village_group=address.get("village_group", ""),
                    house_number=address.get("house_number", ""),
                    residents=tuple(resident(spec.community, m) for m in members),
                    visits=visits,
                )
            )
    return plan


def _with_tag(person: PersonSpec, tag: str) -> PersonSpec:
    return PersonSpec(
        person.name,
        person.gender,
        person.born,
        person.tags + (tag,),
        person.party_member,
        person.phone,
        person.login,
    )


# ================================================================================ writing it


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str
    sees: str


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)  # model label → rows created
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(self.created.values())


def _stable_phone(key: str) -> str:
    """A valid mobile number that depends only on `key` (the same on every run)."""
    digest = zlib.crc32(key.encode())
    return MOBILE_PREFIXES[digest % len(MOBILE_PREFIXES)] + f"{digest % 10**8:08d}"


def _role_groups() -> dict[str, Group]:
    names = list(roles.ROLE_PERMISSIONS)
    groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    if len(groups) < len(names):  # migrate makes them; make sure anyway
        roles.ensure_role_groups()
        groups = {g.name: g for g in Group.objects.filter(name__in=names)}
    return groups


def ensure_tags(*, reset: bool = True) -> dict[str, Tag]:
    """The key-population tags with their visit frequency (also used by the scale builder).

    With `reset`, a frequency changed since is set back to the table's; without, only the
    missing tags are made."""
    tags = {}
    for name, every in TAGS.items():
        if reset:
            tags[name], _ = Tag.objects.update_or_create(
                name=name, defaults={"visit_every_days": every}
            )
        else:
            tags[name], _ = Tag.objects.get_or_create(
                name=name, defaults={"visit_every_days": every}
            )
    return tags


class _Writer:
    def __init__(self, report: SeedReport) -> None:
        self.report = report

    def count(self, obj: object, created: bool) -> None:
        if created:
            self.report.created[obj._meta.label] += 1  # type: ignore[attr-defined]

    def user(
        self, spec: StaffSpec | None, *, username: str, name: str, group: Group
    ) -> AbstractBaseUser:
        User = get_user_model()
        staff_site = group.name in (roles.STREET_ADMIN, roles.COMMITTEE, roles.GRID_WORKER)
        superuser = bool(spec and spec.superuser)
        login = spec.login if spec else True
        user, created = User.objects.get_or_create(username=username)
        self.count(user, created)
        user.first_name = name
        user.is_active = True
        user.is_staff = staff_site or superuser
        user.is_superuser = superuser
        if login:
            user.set_password(settings.DEMO_PASSWORD)
        elif created or user.has_usable_password():
            user.set_unusable_password()
        user.save()
        user.groups.set([group])
        return user


@transaction.atomic
def seed_demo(*, seed: int = RANDOM_SEED, today: dt.date | None = None) -> SeedReport:
    """Create or refresh the demo street. Idempotent: a second run creates nothing new."""
    report = SeedReport()
    w = _Writer(report)
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    groups = _role_groups()

    before = Tag.objects.count()
    tags = ensure_tags()
    report.created[Tag._meta.label] += Tag.objects.count() - before

    street, created = Street.objects.update_or_create(
        code=STREET["code"], defaults={"name": STREET["name"]}
    )
    w.count(street, created)
    communities: dict[str, Community] = {}
    for c in COMMUNITIES:
        communities[c.code], created = Community.objects.update_or_create(
            code=c.code, defaults={"street": street, "name": c.name, "kind": c.kind}
        )
        w.count(communities[c.code], created)
    grids: dict[tuple[str, str], Grid] = {}
    for g in GRIDS:
        grid, created = Grid.objects.update_or_create(
            community=communities[g.community],
            code=g.code,
            defaults={"name": g.name, "kind": g.kind},
        )
        grids[(g.community, g.code)] = grid
        w.count(grid, created)

    # --- staff: logins and their posts
    workers: dict[str, GridWorker] = {}
    partner_logins: dict[str, list[AbstractBaseUser]] = {}
    for s in STAFF:
        user = w.user(s, username=s.username, name=s.name, group=groups[s.role])
        if s.street:
            obj, created = StreetAdmin.objects.get_or_create(user=user, street=street)
            w.count(obj, created)
        if s.role == roles.COMMITTEE:
            obj, created = CommitteeMember.objects.update_or_create(
                user=user, community=communities[s.community], defaults={"title": s.title}
            )
            w.count(obj, created)
        if s.role == roles.GRID_WORKER:
            worker, created = GridWorker.objects.update_or_create(
                user=user,
                defaults={
                    "community": communities[s.community],
                    "name": s.name,
                    "kind": s.worker_kind,
                    "phone": _stable_phone(s.username),
                    "is_party_member": s.party_member,
                },
            )
            w.count(worker, created)
            workers[s.username] = worker
            for code in s.grids:
                grid = grids[(s.community, code)]
                if (
                    not GridAssignment.objects.current(today)
                    .filter(worker=worker, grid=grid)
                    .exists()
                ):
                    obj = GridAssignment.objects.create(
                        worker=worker, grid=grid, start_date=ASSIGNMENTS_START
                    )
                    w.count(obj, True)
            for code in s.leads:
                Grid.objects.filter(pk=grids[(s.community, code)].pk).update(leader=worker)
        if s.partner:
            partner_logins.setdefault(s.partner, []).append(user)
        if s.login:
            report.logins.append(DemoLogin(s.username, s.role, settings.DEMO_PASSWORD, s.sees))

    # --- partner units (共建单位) and their agreements (共建协议)
    for p in PARTNERS:
        unit, created = PartnerUnit.objects.update_or_create(
            name=p.name,
            defaults={"contact_name": p.contact_name, "contact_phone": _stable_phone(p.name)},
        )
        w.count(unit, created)
        if p.name in partner_logins:
            unit.contacts.add(*partner_logins[p.name])
        for code in p.communities:
            obj, created = PartnerAgreement.objects.update_or_create(
                unit=unit, community=communities[code], defaults={"signed_on": p.signed_on}
            )
            w.count(obj, created)

    # --- households, residents, visits
    resident_group = groups[roles.RESIDENT]
    for h in build_plan(seed):
        household, created = Household.objects.get_or_create(
            grid=grids[(h.community, h.grid)],
            complex=h.complex,
            building=h.building,
            unit=h.unit,
            room=h.room,
            village_group=h.village_group,
            house_number=h.house_number,
        )
        w.count(household, created)
        head: Resident | None = None
        for p in h.residents:
            assert id_birth_date(p.id_number) == p.born and id_gender(p.id_number) == p.gender
            resident, created = Resident.objects.update_or_create(
                id_number=p.id_number,
                defaults={
                    "household": household,
                    "name": p.name,
                    "gender": p.gender,
                    "birth_date": p.born,
                    "phone": p.phone,
                    "is_party_member": p.party_member,
                },
            )
            w.count(resident, created)
            resident.tags.set([tags[t] for t in p.tags])
            if p.login:
                user = w.user(None, username=p.login, name=p.name, group=resident_group)
                Resident.objects.filter(user=user).exclude(pk=resident.pk).update(user=None)
                if resident.user_id != user.pk:
                    resident.user = user
                    resident.save(update_fields=["user"])
                report.logins.append(
                    DemoLogin(p.login, roles.RESIDENT, settings.DEMO_PASSWORD, RESIDENT_LOGIN_SEES)
                )
            head = head or resident
        assert head is not None  # every household has members
        if household.head_id != head.pk:
            household.head = head
            household.save(update_fields=["head"])
        for v in h.visits:
            day = today - dt.timedelta(days=v.days_ago)
            visit, created = Visit.objects.update_or_create(
                household=household,
                notes=v.notes,
                defaults={
                    "worker": workers[v.worker],
                    "method": v.method,
                    "visited_at": dt.datetime.combine(day, dt.time(v.hour, 30), tzinfo=tz),
                    "follow_up_on": (
                        day + dt.timedelta(days=v.follow_up_in_days)
                        if v.follow_up_in_days
                        else None
                    ),
                },
            )
            w.count(visit, created)

    # --- points: the street's rule book, copied into each community; accounts; claims
    report.created.update(
        seed_points(street=street, today=today, committee_usernames=COMMITTEE_APPROVERS)
    )
    # --- volunteers: 泰山社区's teams (银龄调解队 led by the `leader` login), activities, partners
    report.created.update(
        seed_volunteers(
            today=today,
            leader_username="leader",
            manager_username="admin",
            approver_username=COMMITTEE_APPROVERS["taishan"],
        )
    )
    # --- needs (需求清单, 微心愿): both communities' lists in every state, through the services
    report.created.update(seed_needs(today=today))
    # --- the resources and projects lists, and 新庄赵村's councils (议事会); last, so that a
    # need flagged for the council by then goes on the next agenda
    report.created.update(seed_lists_and_councils(today=today))
    return report
