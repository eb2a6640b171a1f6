"""The demo street's tables: 沙北街道 with 泰山社区 (urban) and 新庄赵村 (village), from the
source articles.

The data is described by the tables below (`STREET`, `COMMUNITIES`, `GRIDS`, `STAFF`,
`PARTNERS`, `TAGS`, `NAMED_HOUSEHOLDS`) plus name tables from which a seeded generator
(demo.parts.residents.build_plan) fills the rest of each grid. They are pure data: this module
imports no other demo module, so every part (and demo.scale, which draws its people from the
name tables) can read them. demo.seed writes them, part by part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import roles
from grids.models import Community, Grid, GridWorker
from residents.models import Visit

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
    # 村务监督委员会 (纪检监督): reads 新庄赵村's points and decides nothing (issue 15).
    StaffSpec("inspector", "赵德明", roles.INSPECTOR, community="xzz", title="村务监督委员会主任",
              login=True, sees="新庄赵村 read only: claims, ledger, anomalies, audit export"),
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
