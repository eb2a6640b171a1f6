"""Demo needs for seed_demo (demo.seed): 泰山社区's and 新庄赵村's needs lists (需求清单), in
every state.

Over 600 lines on purpose: mostly the demo's data table (NEEDS, about 350 lines, each need with
its steps); the code that walks the needs through the services is about 150 lines.

The source (local press on the demo community and village): in 泰山社区 a part-time grid
worker reports a hollow willow by a school in the grid's WeChat group, the grid
leader checks it, the street acts and the tree is replaced within a week; needs are
collected door to door into a list with an owner and a deadline (时效责任清单); partner
units (共建单位) claim micro-wishes (微心愿); residents rate the result (好差评) and a bad
rating is rectified (整改). In 新庄赵村 the needs flagged for the council go on the agenda
of the monthly 民需我解议事会 (demo.parts.councils runs after this).

Every need is walked through residents.services by the demo's own people, so each timeline is
made of real events; their times are those of the seed run (the services stamp "now"). Two
things no service can express are written by hand, each said where it is done: a due date in
the past (a need that became overdue), and the accounts of the residents who rated on the
resident mini-program (created as demo.parts.residents creates 赵银名's, but without a password).

Idempotent: a need is known by its grid and title; one that exists is left as it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TypedDict, Unpack

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from core import roles
from demo.tables import NAMED_HOUSEHOLDS
from grids.models import Grid, GridWorker, PartnerUnit
from points.models import Claim, Rule
from points.selectors.rulebooks import in_force_q
from residents.models import Need, NeedEvent, Rating, Rectification, Resident, Visit
from residents.services import bulk as bulk_services
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services


@dataclass(frozen=True)
class Step:
    """One step of the loop, done by `by` (a username). Build them with the helpers below."""

    action: str
    by: str = ""
    note: str = ""
    due_in: int = 7  # assign, offer: days from today
    worker: str = ""  # assign: the worker's username
    department: str = ""  # assign
    partner: str = ""  # assign: a partner unit's name
    units: tuple[str, ...] = ()  # offer: partner units' names
    level: int = 0  # rate
    claim: tuple[str, str] | None = None  # resolve: (resident's name, rule code)
    days: int = 0  # overdue: days past the due date


def accept(by: str, note: str = "") -> Step:
    return Step("accept", by, note)


class Assignee(TypedDict, total=False):  # one of them
    worker: str
    department: str
    partner: str


def assign(by: str, due_in: int, note: str = "", **assignee: Unpack[Assignee]) -> Step:
    return Step("assign", by, note, due_in=due_in, **assignee)


def offer(by: str, units: tuple[str, ...], due_in: int, note: str = "") -> Step:
    return Step("offer", by, note, due_in=due_in, units=units)


def claim(by: str, note: str = "") -> Step:
    return Step("claim", by, note)


def start(by: str, note: str = "") -> Step:
    return Step("start", by, note)


def resolve(by: str, resolution: str, claim: tuple[str, str] | None = None) -> Step:
    return Step("resolve", by, resolution, claim=claim)


def reject(by: str, reason: str) -> Step:
    return Step("reject", by, reason)


def rate(by: str, level: int, comment: str = "") -> Step:
    return Step("rate", by, comment, level=level)


def rectified(by: str, note: str) -> Step:
    return Step("rectification_done", by, note)


def rectification_accepted(by: str, note: str = "") -> Step:
    return Step("rectification_accept", by, note)


def escalate(by: str, note: str) -> Step:
    return Step("escalate", by, note)


def overdue(days: int) -> Step:
    return Step("overdue", days=days)


@dataclass(frozen=True)
class NeedSpec:
    community: str
    grid: str
    title: str  # with the grid, what makes a need unique across runs
    category: str
    source: str
    by: str  # who recorded it (the `resident` login: a resident's own need)
    text: str = ""
    resident: str = ""  # a named resident of demo.tables.NAMED_HOUSEHOLDS the need is about
    visit: str = ""  # how the notes of that resident's household's demo visit begin
    priority: int = Need.Priority.NORMAL
    for_council: bool = False
    steps: tuple[Step, ...] = ()


# Residents who rated their needs on the resident mini-program: (community, name) → username.
# 赵银名 has the printed `resident` login; these others have an account without a password.
RATERS = {
    ("taishan", "孙秀兰"): "resident.sunxiulan",
    ("taishan", "陈国栋"): "resident.chenguodong",
    ("taishan", "刘长山"): "resident.liuchangshan",
}

_C = Need.Category
_S = Need.Source
_HIGH, _URGENT = Need.Priority.HIGH, Need.Priority.URGENT
# The people (usernames of demo.tables.STAFF)
ZHAOHUI, SHI, QI = "taishan.zhaohui", "taishan.shiyingge", "taishan.qixiangping"
LI, WANG, LIU = "taishan.lihongxia", "taishan.wangjianhua", "taishan.liuli"
SUN, MA = "taishan.sunhaiyan", "taishan.majunjie"
CHENGGUAN = "沙北街道城管所"

# fmt: off
NEEDS = (
    # ================================================================ 泰山社区
    NeedSpec(
        "taishan", "R1", "学校旁空心柳树存在倒伏隐患", _C.SAFETY, _S.WECHAT, QI,
        "市实验小学东门外一棵柳树树干空心, 大风天有倒伏危险。居民孙秀兰接孙子放学时发现, "
        "兼职网格员齐香萍拍照发到网格微信群。", resident="孙秀兰", priority=_HIGH,
        steps=(
            accept(SHI, "网格长史莺歌到现场核实: 树干空心属实, 已拉警戒线。"),
            assign("admin", 7, "街道协调园林绿化队处置, 一周内办结。", department=CHENGGUAN),
            start("admin", "园林工人进场作业。"),
            resolve("admin", "移除空心柳树, 原地补栽一棵新柳树, 一周内办结。"),
            rate("resident.sunxiulan", 5, "一周就换了新树, 孩子上学放心了。"),
        ),
    ),
    NeedSpec(
        "taishan", "R3", "泰山小区6号楼前路灯不亮", _C.INFRASTRUCTURE, _S.PATROL, WANG,
        "6号楼前两盏路灯连续一周不亮, 居民夜间出行不便。",
        steps=(
            accept(WANG),
            assign(ZHAOHUI, 5, "列入时效责任清单, 五日内修复。", department=CHENGGUAN),
        ),
    ),
    NeedSpec(
        "taishan", "R1", "独居老人张桂兰需要代买药", _C.ELDERLY_CARE, _S.VISIT, QI,
        "老人腿脚不便, 降压药快吃完了, 需要有人定期代买送药上门。",
        resident="张桂兰", visit="电话问候", priority=_HIGH,
        steps=(
            accept(SHI),
            assign(SHI, 3, "每周二代买降压药并送药上门。", worker=QI),
            start(QI, "已代买降压药两盒送到家中, 下周二再送。"),
        ),
    ),
    NeedSpec(
        "taishan", "R3", "微心愿: 一台轮椅", _C.MICRO_WISH, _S.VISIT, LIU,
        "马建设行动不便, 希望有一台折叠轮椅, 方便去社区卫生服务站。",
        resident="马建设", visit="预约上门",
        steps=(
            accept(ZHAOHUI),
            offer(ZHAOHUI, ("市委办", "市人大"), 14, "发布到共建单位微心愿认领。"),
            claim("partner", "市委办认领: 采购一台折叠轮椅。"),
            start("partner", "轮椅已下单, 本周送到家中。"),
        ),
    ),
    NeedSpec(
        "taishan", "R2", "微心愿: 新书包和文具", _C.MICRO_WISH, _S.VISIT, LI,
        "刘子轩跟爷爷奶奶生活, 书包已经破了, 希望有一个新书包和一套文具。",
        resident="刘子轩", visit="错时走访",
        steps=(
            accept(ZHAOHUI),
            offer(ZHAOHUI, ("市人大",), 10, "发布到共建单位微心愿认领。"),
        ),
    ),
    NeedSpec(
        "taishan", "R1", "微心愿: 冬季棉衣", _C.MICRO_WISH, _S.VISIT, SHI,
        "孤寡老人王淑珍希望入冬前有一件厚棉衣。", resident="王淑珍",
        steps=(
            accept(ZHAOHUI),
            offer(ZHAOHUI, ("市政协", "市政府办"), 10, "发布到共建单位微心愿认领。"),
        ),
    ),
    NeedSpec(
        "taishan", "R4", "微心愿: 一台助听器", _C.MICRO_WISH, _S.VISIT, SUN,
        "韩凤英听力下降, 电话里常听不清, 希望有一台助听器。", resident="韩凤英",
        steps=(accept(SUN, "待发布到共建单位认领。"),),
    ),
    NeedSpec(
        "taishan", "R2", "天山小区道路坑洼", _C.INFRASTRUCTURE, _S.VISIT, LI,
        "小区主路有多处坑洼, 雨天积水, 老人孩子容易摔倒。", resident="刘长山", visit="错时走访",
        steps=(
            accept(LI),
            assign(ZHAOHUI, 10, "市人大共建认领, 出资修补。", partner="市人大"),
            start(LI, "施工队进场修补。"),
            resolve(LI, "修补主路坑洼3处, 共12平方米。"),
            rate("resident.liuchangshan", 2, "只补了大坑, 3号楼前雨天还是积水。"),
            rectified(LI, "补齐3号楼前坑洼, 疏通两处雨水口。"),
            rectification_accepted(ZHAOHUI, "雨后现场验收, 已无积水。"),
        ),
    ),
    NeedSpec(
        "taishan", "R1", "25号楼楼上漏水引发邻里纠纷", _C.DISPUTE, _S.VISIT, SHI,
        "楼上卫生间漏水, 楼下墙面发霉, 两家多次争吵。", resident="孙秀兰", visit="预约走访",
        steps=(
            accept(SHI),
            assign(SHI, 5, "请银龄调解队协助调解。", worker=SHI),
            start(SHI, "银龄调解队朱德荣等上门了解情况。"),
            resolve(SHI, "银龄调解队调解: 楼上修复卫生间防水, 承担楼下粉刷费用, "
                         "双方签订调解协议。"),
            rate("resident.sunxiulan", 4, "调解得公道, 两家和好了。"),
        ),
    ),
    NeedSpec(
        "taishan", "R3", "泰山小区北侧小路没有路灯", _C.INFRASTRUCTURE, _S.PATROL, WANG,
        "北侧小路是居民去菜市场的近路, 晚上一片漆黑。", resident="陈国栋",
        steps=(
            accept(ZHAOHUI),
            assign(ZHAOHUI, 14, "市委办认领共建项目: 安装太阳能路灯。", partner="市委办"),
            start(WANG),
            resolve(WANG, "市委办出资安装太阳能路灯4盏, 已亮灯。"),
            rate("resident.chenguodong", 4, "晚上出门亮堂了。"),
        ),
    ),
    NeedSpec(
        "taishan", "R4", "华山小区楼道堆放杂物", _C.ENVIRONMENT, _S.PATROL, SUN,
        "4号楼一单元楼道堆放纸箱和旧家具, 堵塞消防通道。",
    ),
    NeedSpec(
        "taishan", "R4", "华山小区雨水管道堵塞", _C.INFRASTRUCTURE, _S.HOTLINE, SUN,
        "12345热线转来: 小区雨水管道堵塞, 雨天路面积水。",
        steps=(accept(ZHAOHUI, "与华山小区雨污分流改造一并考虑。"),),
    ),
    NeedSpec(
        "taishan", "D2", "支四路沿街商铺占道经营", _C.ENVIRONMENT, _S.PATROL, MA,
        "多家商铺把货架摆上人行道, 行人只能走机动车道。",
        steps=(
            accept(MA),
            assign("admin", 5, department=CHENGGUAN),
            start(MA, "已劝导商户收回外摆, 城管所定期巡查。"),
        ),
    ),
    NeedSpec(
        "taishan", "R3", "要求社区补贴私家车位费用", _C.OTHER, _S.HOTLINE, WANG,
        "居民来电要求社区补贴小区地下车位租金。",
        steps=(
            reject(ZHAOHUI, "车位费用属业主与物业之间的合同事项, 不在社区办理范围; "
                            "已告知可与物业协商, 或申请人民调解。"),
        ),
    ),
    NeedSpec(
        "taishan", "D1", "放学时段校门口交通拥堵", _C.SAFETY, _S.PATROL, SHI,
        "市实验小学放学时段接孩子的车辆占满路口, 学生过马路危险。",
        steps=(
            accept(SHI),
            assign("admin", 10, "协调上下学高峰时段安排交警疏导。", department="交警中队"),
        ),
    ),
    NeedSpec(
        "taishan", "R3", "残疾人两项补贴申请", _C.POLICY, _S.VISIT, LIU,
        "马建设不清楚残疾人生活补贴和护理补贴怎么申请。", resident="马建设", visit="预约上门",
        steps=(
            accept(WANG),
            assign(WANG, 7, worker=LIU),
            start(LIU),
            resolve(LIU, "已协助提交申请材料, 街道审核通过, 下月起发放。"),
        ),
    ),
    NeedSpec(
        "taishan", "R4", "独居老人韩凤英寒潮前需要棉被", _C.ELDERLY_CARE, _S.VISIT, SUN,
        "寒潮将至, 老人家中被褥单薄。", resident="韩凤英", visit="电话询问近况",
        steps=(
            accept(SUN),
            assign(SUN, 3, worker=SUN),
            start(SUN),
            resolve(SUN, "巾帼学堂志愿者送去新棉被两床。"),
        ),
    ),
    NeedSpec(
        "taishan", "R2", "天山小区5号楼外墙瓷砖脱落", _C.SAFETY, _S.WECHAT, LI,
        "居民在网格微信群反映: 5号楼外墙瓷砖脱落, 楼下是单元出入口。", priority=_HIGH,
        steps=(
            accept(LI, "已在楼下拉警戒线。"),
            assign(ZHAOHUI, 0, "限期修复。", department="沙北街道城建办"),
            overdue(5),
        ),
    ),
    NeedSpec(
        "taishan", "R2", "天山小区健身器材损坏", _C.INFRASTRUCTURE, _S.WECHAT, LI,
        "小区广场的漫步机和扭腰器损坏。",
    ),
    NeedSpec(
        "taishan", "R1", "张桂兰家中燃气灶老化", _C.SAFETY, _S.VISIT, SHI,
        "入户发现燃气灶打火困难, 胶管老化。", resident="张桂兰", priority=_URGENT,
        steps=(
            accept(SHI),
            assign(SHI, 2, department="燃气公司"),
            start(SHI, "燃气公司已上门关阀检查, 约定更换燃气灶和胶管。"),
        ),
    ),
    NeedSpec(
        "taishan", "R2", "天山小区3号楼单元门禁损坏", _C.INFRASTRUCTURE, _S.PATROL, LI,
        "单元门禁关不上, 陌生人随意进出。",
        steps=(accept(LI), assign(LI, 5, worker=LI)),
    ),
    NeedSpec(
        "taishan", "R1", "黄山小区夜间广场舞噪音扰民", _C.DISPUTE, _S.HOTLINE, SHI,
        "12345热线转来: 晚上九点后广场舞音响声音过大。",
    ),
    NeedSpec(
        "taishan", "R4", "要求社区出面追讨个人借款", _C.DISPUTE, _S.HOTLINE, SUN,
        "居民要求社区帮助追讨借给亲戚的钱。",
        steps=(
            reject(ZHAOHUI, "个人借贷属民事纠纷, 社区不能代为追讨; 已告知可申请人民调解或向"
                            "法院起诉, 孙东晓律师事务所可提供免费法律咨询。"),
        ),
    ),
    # ================================================================ 新庄赵村
    NeedSpec(
        "xzz", "G5", "五组两户宅前排水沟纠纷", _C.DISPUTE, _S.PATROL, "xzz.g5",
        "两户因宅前排水沟走向争执, 雨天污水流进邻居院子。",
        steps=(
            accept("xzz.g5", "网格长赵志刚上门了解情况。"),
            assign("committee", 5, worker="xzz.g5"),
            start("xzz.g5", "请老党员赵国强一起调解。"),
            resolve("xzz.g5", "老党员赵国强出面调解, 两户同意共同出资改走暗管, 签订调解协议。",
                    claim=("赵国强", "R05")),
        ),
    ),
    NeedSpec(
        "xzz", "G1", "家门口排水沟堵塞, 雨天积水", _C.ENVIRONMENT, _S.RESIDENT, "resident",
        "一组12号门前排水沟被淤泥堵住, 一下雨就积水。",
        steps=(
            accept("worker"),
            assign("worker", 3, worker="worker"),
            start("worker"),
            resolve("worker", "组织保洁员清淤, 疏通排水沟20米。"),
            rate("resident", 4, "疏通得很干净, 谢谢网格员。"),
        ),
    ),
    NeedSpec(
        "xzz", "G1", "咨询脱贫户医保缴费补贴政策", _C.POLICY, _S.RESIDENT, "resident",
        "想了解明年城乡居民医保缴费, 脱贫户有没有补贴。",
    ),
    NeedSpec(
        "xzz", "G1", "一组12号门前路面破损", _C.INFRASTRUCTURE, _S.PATROL, "worker",
        "门前水泥路面破损, 三轮车进出颠簸。", resident="赵银名",
        steps=(
            accept("worker"),
            assign("committee", 5, worker="worker"),
            start("worker"),
            resolve("worker", "用水泥临时修补破损路面。"),
            rate("resident", 2, "只是临时补了一下, 一下雨又坏了。"),
        ),
    ),
    NeedSpec(
        "xzz", "G1", "孤寡老人赵福来院墙裂缝", _C.SAFETY, _S.VISIT, "worker",
        "院墙有一道贯通裂缝, 向外倾斜。", resident="赵福来", visit="送去降压药", priority=_HIGH,
        steps=(
            accept("committee"),
            assign("committee", 7, "请共建单位市住建局做危房鉴定。",
                   partner="市住房和城乡建设局"),
            start("worker", "市住建局已上门鉴定, 院墙需要加固。"),
            escalate("worker", "加固需要危房改造资金, 报村两委协调。"),
        ),
    ),
    NeedSpec(
        "xzz", "G1", "独居老人赵桂英无人照看", _C.ELDERLY_CARE, _S.WECHAT, "worker",
        "邻居在村民微信群说老人两天没出门。", resident="赵桂英",
        steps=(
            accept("worker"),
            assign("worker", 3, "与邻居结对, 每天上门看一眼。", worker="worker"),
            start("worker", "已上门看望, 老人身体尚好, 结对邻居每天照看。"),
        ),
    ),
    NeedSpec(
        "xzz", "G1", "村西游园夜间没有照明", _C.INFRASTRUCTURE, _S.WECHAT, "worker",
        "村民建议在村西游园安装太阳能路灯, 提交议事会商议。", for_council=True,
    ),
    NeedSpec(
        "xzz", "G2", "二组坑塘周边缺少警示牌", _C.SAFETY, _S.PATROL, "worker2",
        "坑塘水深, 周边没有警示牌, 孩子放学常在附近玩。", for_council=True,
        steps=(accept("worker2"),),
    ),
    NeedSpec(
        "xzz", "G3", "三组、四组之间村道会车困难", _C.INFRASTRUCTURE, _S.PATROL, "xzz.g3",
        "村道只有3米宽, 农用车会车困难, 建议加宽。", for_council=True,
        steps=(
            accept("committee"),
            assign("committee", 14, "先测量路宽, 提交议事会讨论。", worker="xzz.g3"),
        ),
    ),
    NeedSpec(
        "xzz", "G2", "二组村民活动室缺少桌椅", _C.OTHER, _S.VISIT, "worker2",
        "老党员赵守义反映活动室桌椅不够, 开会只能站着。", resident="赵守义", visit="错时走访",
        for_council=True,
    ),
    NeedSpec(
        "xzz", "G7", "七组留守儿童放学后无人辅导作业", _C.OTHER, _S.VISIT, "xzz.g7",
        "七组有6名留守儿童, 放学后没人辅导作业。",
        steps=(accept("committee", "联系驻村工作队和大学生志愿者。"),),
    ),
    NeedSpec(
        "xzz", "G3", "残疾人赵小军申请辅助器具", _C.POLICY, _S.VISIT, "xzz.g3",
        "赵小军申请一辆轮椅, 需要做辅助器具适配评估。", resident="赵小军", visit="预约走访",
        steps=(
            accept("xzz.g3"),
            assign("committee", 14, "协助申请辅助器具适配。", department="召陵区残联"),
        ),
    ),
    NeedSpec(
        "xzz", "G4", "困难家庭李保国缺少化肥", _C.OTHER, _S.VISIT, "xzz.g4",
        "家里困难, 买不起化肥。", resident="李保国", visit="了解春耕困难",
        steps=(
            accept("xzz.g4"),
            assign("xzz.g4", 3, worker="xzz.g4"),
            start("xzz.g4"),
            resolve("xzz.g4", "对接驻村工作队送去复合肥4袋。"),
        ),
    ),
    NeedSpec(
        "xzz", "G4", "四组村道路基塌陷, 雨后积水", _C.INFRASTRUCTURE, _S.PATROL, "xzz.g4",
        "四组段村道路基塌陷一处, 雨后积水半米深。", priority=_HIGH,
        steps=(
            accept("committee"),
            assign("committee", 0, "限期回填压实。", department="村道路硬化施工队"),
            overdue(1),
        ),
    ),
    NeedSpec(
        "xzz", "G6", "要求村里为个人承包地修建机井", _C.OTHER, _S.HOTLINE, "xzz.g6",
        "村民要求村集体出资在自家承包地打一眼机井。",
        steps=(
            reject("committee", "个人承包地的灌溉设施不在村集体公益项目范围; 已告知可申报农业农村"
                                "部门的高标准农田项目。"),
        ),
    ),
    NeedSpec(
        "xzz", "G6", "六组自来水水压低", _C.INFRASTRUCTURE, _S.HOTLINE, "xzz.g6",
        "早晚用水高峰时二楼没有水。",
        steps=(accept("xzz.g6"), assign("committee", 5, department="镇自来水厂")),
    ),
    NeedSpec(
        "xzz", "G2", "二组三盏路灯不亮", _C.INFRASTRUCTURE, _S.PATROL, "worker2",
        "二组主路三盏路灯不亮。",
        steps=(
            accept("worker2"),
            assign("worker2", 3, worker="worker2"),
            start("worker2", "已联系电工, 更换灯泡两只, 还有一盏线路故障。"),
        ),
    ),
    NeedSpec(
        "xzz", "G7", "七组秸秆堆放占道", _C.ENVIRONMENT, _S.PATROL, "xzz.g7",
        "路边堆放秸秆, 占用半幅道路, 有火灾隐患。",
    ),
    NeedSpec(
        "xzz", "G3", "三组垃圾池满溢未清运", _C.ENVIRONMENT, _S.WECHAT, "xzz.g3",
        "村民在微信群反映垃圾池三天没清运。",
    ),
    NeedSpec(
        "xzz", "G1", "一组变压器附近树枝搭线", _C.SAFETY, _S.PATROL, "worker",
        "变压器旁杨树树枝搭在电线上, 刮风时打火。", priority=_URGENT,
        steps=(accept("worker"), assign("committee", 2, department="供电所")),
    ),
)
# fmt: on


def _rater_accounts(residents: dict[tuple[str, str], Resident]) -> int:
    """The accounts the raters used. Written by hand as demo.parts.residents writes 赵银名's
    login (no service makes resident accounts), but without a password: they cannot log in to the
    demo."""
    User = get_user_model()
    group = Group.objects.get(name=roles.RESIDENT)
    made_count = 0
    for key, username in RATERS.items():
        user, made = User.objects.get_or_create(username=username)
        made_count += made
        resident = residents[key]
        if made:
            user.first_name = resident.name
            user.set_unusable_password()
            user.save()
            user.groups.set([group])
        if resident.user_id != user.pk:
            resident.user = user
            resident.save(update_fields=["user"])
    return made_count


def _named_residents() -> dict[tuple[str, str], Resident]:
    # Names repeat in a village: find the named people by name and birth date.
    found = {}
    for h in NAMED_HOUSEHOLDS:
        for p in h.members:
            found[(h.community, p.name)] = Resident.objects.select_related("household").get(
                name=p.name, birth_date=p.born, household__grid__community__code=h.community
            )
    return found


class _Walker:
    """Records one need and walks it through its steps, as the people of the table."""

    def __init__(self, today: dt.date, residents: dict[tuple[str, str], Resident]) -> None:
        self.today = today
        # The services refuse due dates before the real today.
        self.first_due = max(today, timezone.localdate())
        self.residents = residents
        self.users = {u.username: u for u in get_user_model().objects.all()}
        self.workers = {w.user.username: w for w in GridWorker.objects.select_related("user")}
        self.units = {u.name: u for u in PartnerUnit.objects.all()}
        self.made_overdue = False

    def record(self, spec: NeedSpec, grid: Grid) -> Need:
        user = self.users[spec.by]
        if spec.source == Need.Source.RESIDENT:
            # A resident's own need: the service takes grid, household and source from them.
            return needs_services.record_need(
                user=user, title=spec.title, category=spec.category, text=spec.text
            )
        resident = self.residents[(spec.community, spec.resident)] if spec.resident else None
        visit = None
        if spec.visit and resident is not None:
            visit = (
                Visit.objects.filter(household=resident.household, notes__startswith=spec.visit)
                .order_by("id")
                .first()
            )
        return needs_services.record_need(
            user=user,
            title=spec.title,
            category=spec.category,
            source=spec.source,
            grid=grid,
            resident=resident,
            visit=visit,
            text=spec.text,
            priority=spec.priority,
            for_council=spec.for_council,
        )

    def step(self, need: Need, spec: NeedSpec, s: Step) -> Need:
        if s.action == "overdue":
            # No service sets a due date in the past (assign_need refuses one), and the loop
            # cannot wait: the need was assigned "due today" above; its due date is moved back
            # here, by hand, to when it fell due. The daily escalation (run by seed_needs)
            # then escalates it as it would have.
            Need.objects.filter(pk=need.pk).update(due_on=self.today - dt.timedelta(days=s.days))
            self.made_overdue = True
            return need
        user = self.users[s.by]  # every step but "overdue" names who takes it
        due_on = self.first_due + dt.timedelta(days=s.due_in)
        if s.action == "accept":
            return needs_services.accept_need(user=user, need=need, note=s.note)
        if s.action == "assign":
            return needs_services.assign_need(
                user=user,
                need=need,
                due_on=due_on,
                worker=self.workers[s.worker] if s.worker else None,
                department=s.department,
                partner_unit=self.units[s.partner] if s.partner else None,
                note=s.note,
            )
        if s.action == "offer":
            units = [self.units[name] for name in s.units]
            return needs_services.offer_need(
                user=user, need=need, partner_units=units, due_on=due_on, note=s.note
            )
        if s.action == "claim":
            return needs_services.claim_need(user=user, need=need, note=s.note)
        if s.action == "start":
            return needs_services.start_need(user=user, need=need, note=s.note)
        if s.action == "resolve":
            claim_resident = claim_rule = None
            if s.claim:
                name, code = s.claim
                claim_resident = self.residents[(spec.community, name)]
                claim_rule = Rule.objects.filter(in_force_q(timezone.localdate())).get(
                    community__code=spec.community, code=code
                )  # the version in force (新庄赵村 has two, issue 15)
            return needs_services.resolve_need(
                user=user,
                need=need,
                resolution=s.note,
                claim_resident=claim_resident,
                claim_rule=claim_rule,
            )
        if s.action == "reject":
            return needs_services.reject_need(user=user, need=need, reason=s.note)
        if s.action == "escalate":
            return needs_services.escalate_need(user=user, need=need, note=s.note)
        if s.action == "rate":
            return ratings_services.rate_need(user=user, need=need, level=s.level, comment=s.note)
        if s.action == "rectification_done":
            ratings_services.complete_rectification(
                user=user, rectification=need.rectification, note=s.note
            )
            return need
        if s.action == "rectification_accept":
            ratings_services.accept_rectification(
                user=user, rectification=need.rectification, note=s.note
            )
            return need
        raise ValueError(f"unknown step {s.action!r}")


def seed_needs(*, today: dt.date) -> Counter:
    """The demo needs of 泰山社区 and 新庄赵村, each walked through the loop by the services.
    Idempotent: a need already there (by grid and title) is skipped. Returns what was created,
    per model (needs, their events, ratings, rectifications, points claims, raters' accounts)."""
    User = get_user_model()
    counted = (Need, NeedEvent, Rating, Rectification, Claim, User)
    before = {m: m.objects.count() for m in counted}
    residents = _named_residents()
    _rater_accounts(residents)
    grids = {(g.community.code, g.code): g for g in Grid.objects.select_related("community")}
    walker = _Walker(today, residents)
    for spec in NEEDS:
        grid = grids[(spec.community, spec.grid)]
        if Need.objects.filter(grid=grid, title=spec.title).exists():
            continue
        need = walker.record(spec, grid)
        for s in spec.steps:
            need = walker.step(need, spec, s)
            need.refresh_from_db()
    if walker.made_overdue:
        bulk_services.escalate_overdue_needs(today=today)
    created: Counter[str] = Counter()
    for model in counted:
        created[model._meta.label] += model.objects.count() - before[model]
    return created
