"""The audit export of one quarter and one community (积分审计导出), for a discipline inspector
(纪检监督): a signed ZIP of CSV files, or an xlsx workbook with the same sheets.

What it holds (one table each, Chinese column headers):

- entries (积分流水): every ledger entry of the quarter on the community's accounts, with the
  account (card, holder, household, grid), what it moved (points, honour points, the balances
  after), who posted it and when, its source; for a claim's posting the rule, the rule book
  version, the day, who submitted it and when, who approved it and when; for a reversal the
  entry it reverses and the reason (the entry's note);
- claims (积分申报): every claim of the quarter, rejected ones with their reason, and the entry
  each approved one posted (which may lie in the next quarter: a claim approved after the
  quarter ended posts there);
- objections (公示异议): objections to the quarter's entries, and objections to earlier entries
  corrected in this quarter, with who raised them and why, the decision, who decided and
  when, and the correcting entry;
- adjustments_reversals (冲正与调整): the reversals and adjustments among the entries again,
  each beside the entry it undoes and the objection that led to it. The same postings are in
  `entries`; this table is the one an inspector reads first ("who took points back from whom,
  and why"), without filtering the whole ledger, and it carries what the entries table cannot
  (the reversed entry, the objection);
- rule_book (积分细则): the rule book versions in force during the quarter, and any other
  version a claim of the quarter was made under, each with its approval record and its rules
  (rules that belong to no version yet are listed under "未分版本");
- manifest (清单): the community, the quarter, when and by whom the export was made, and for
  each table its row count and the last value of its hash chain.

Tamper evidence. Every table row ends with a chain value (链值):

    chain(row) = sha256_hex(chain(previous row) + "\\n" + canonical(row))
    chain(before the first row) = sha256_hex(FORMAT + "|" + community id + "|" + quarter code
                                             + "|" + table key + "|" + canonical(headers))

where canonical(values) is the JSON array of the row's values in column order (the chain
column left out), each as text (integers in decimal, an empty cell as ""), written without
spaces and without escaping non-ASCII (`json.dumps(..., ensure_ascii=False, separators=(",",
":"))`), encoded as UTF-8. The manifest lists each table's row count and last chain value, and
is signed: SIGNATURE = HMAC-SHA256(key, canonical(manifest header) + "\\n" + canonical(row 1) +
"\\n" + …), hex, with the key of the setting AUDIT_EXPORT_KEY (by default derived from
SECRET_KEY); the manifest names the key by a fingerprint (key_id). So a row edited, removed,
added or moved breaks its table's chain at that row; cutting rows off the end no longer
matches the manifest; and an edited manifest or a replaced signature fails the signature.
`manage.py verify_audit_export <file> [--against-db]` checks all of it (points.audit_verify),
and with --against-db also compares the rows with the database. In the xlsx the signature is
the manifest sheet's last row (key "signature"), left out of what it signs.

Text is stored as it is read back from both formats: line breaks as "\\n", characters that
xlsx cannot hold dropped, and a text beginning (after any spaces) with = + - @ or a tab
prefixed with ' so that a spreadsheet never runs it as a formula (CSV injection). Times are
local (settings.TIME_ZONE) to the second, dates ISO 8601; yes/no as 是/否.

The reads are set-based: one query per table, the two large ones (entries, claims) as values
rather than model instances and streamed in chunks of CHUNK rows, with one query per chunk for
the claims behind the chunk's postings; all inside one transaction (REPEATABLE READ on
PostgreSQL) so that every table shows the same moment. The query count does not depend on the
number of rows below CHUNK, and grows by one per CHUNK entries above it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from audit import services as audit
from core.types import User
from grids.models import Community
from points.exports import XLSX
from points.models import Claim, Entry, Objection, Period, Rule, RuleBook
from residents.models import Household

FORMAT = "gridpoints-points-audit/1"
ZIP = "application/zip"
CHUNK = 2000
CHAIN_HEADER = "链值"
UNVERSIONED = "未分版本"
SIGNATURE_FILE = "SIGNATURE"
README_FILE = "README.txt"
_KEY_SALT = "gridpoints.points.audit_export"

T = TypeVar("T")
Row = list[Any]

# Labels fixed in Chinese (not gettext): they are part of the file format and of its hashes.
KIND = {
    "award": "奖励", "deduction": "扣分", "redemption": "兑换", "refund": "退还",
    "reversal": "冲正", "expiry": "过期清零", "adjustment": "调整", "transfer": "转移",
}  # fmt: skip
CLAIM_STATUS = {"submitted": "待审批", "approved": "已通过", "rejected": "已驳回"}
OBJECTION_STATUS = {"open": "待处理", "upheld": "成立", "dismissed": "不成立"}
CATEGORY = {"base": "基础分", "reward": "奖励分", "deduction": "扣分"}
BOOK_STATUS = {"draft": "草案", "adopted": "已通过"}
PERIOD_STATUS = {"open": "进行中", "redeeming": "兑换中", "closing": "结算中", "closed": "已结算"}
SOURCE = {
    "claim": "申报", "entry": "流水", "objection": "异议", "order": "兑换订单",
    "unitswitch": "计分单位切换", "exchangereset": "年度清零",
}  # fmt: skip


# ---------------------------------------------------------------------------- the tables


@dataclass(frozen=True)
class Table:
    key: str
    title: str  # the xlsx sheet
    filename: str  # the CSV file in the ZIP
    headers: tuple[str, ...]  # without the chain column
    rows: Callable[[Subject], Iterator[Row]] = field(repr=False, compare=False)
    id_columns: tuple[int, ...] = (0,)  # the columns naming a row (messages, --against-db)

    @property
    def file_headers(self) -> list[str]:
        return [*self.headers, CHAIN_HEADER]


@dataclass
class Subject:  # what an export is of: one quarter of one community
    period: Period
    community: Community

    def entries(self) -> QuerySet[Entry]:
        """The quarter's entries on the community's accounts (a resident's or a household's)."""
        return Entry.objects.filter(
            period=self.period, account__household__grid__community=self.community
        )

    def claims(self) -> QuerySet[Claim]:
        """The quarter's claims for residents of the community (as the claims list scopes)."""
        return Claim.objects.filter(
            period=self.period, resident__household__grid__community=self.community
        )


def _chunked(rows: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    chunk: list[T] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _when(value: dt.datetime | None) -> str:
    """Local time (settings.TIME_ZONE, whatever the request's) to the second."""
    if not value:
        return ""
    return value.astimezone(timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M:%S")


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _person(username: str | None, first: str | None, last: str | None) -> str:
    if not username:
        return ""
    name = f"{last or ''}{first or ''}".strip()
    return f"{name}({username})" if name else username


def _who(user: User | None) -> str:
    return _person(user.username, user.first_name, user.last_name) if user else ""


def _holder(account: Any) -> str:
    """The resident, or for a household's account its head and 户 (fixed, not translated)."""
    if account.resident_id is not None:
        return str(account.resident.name)
    head = account.household.head
    return f"{head.name if head else account.household.address}户"


def _source(source_type: str, source_id: int | None) -> str:
    if not source_type:
        return ""
    return f"{SOURCE.get(source_type, source_type)} {source_id or ''}".strip()


ACCOUNT = ("account__resident", "account__household__head", "account__household__grid")

# The large tables (entries, claims) are read as values, not model instances: a row costs a
# dict, not nine models (the account, its resident, household, head, grid, the users …).
ADDRESS = ("complex", "building", "unit", "room", "village_group", "house_number")


def _user_columns(prefix: str) -> tuple[str, ...]:
    return (f"{prefix}__username", f"{prefix}__first_name", f"{prefix}__last_name")


def _who_in(row: dict[str, Any], prefix: str) -> str:
    return _person(*(row[column] for column in _user_columns(prefix)))


HOLDER_COLUMNS = (
    "account__card_number",
    "account__resident_id",
    "account__resident__name",
    "account__household_id",
    "account__household__head__name",
    "account__household__grid__name",
    *(f"account__household__{name}" for name in ADDRESS),
)


def _holder_in(row: dict[str, Any]) -> tuple[str, str]:
    """(account kind, holder) of an entry's values, as _holder."""
    if row["account__resident_id"] is not None:
        return "个人", row["account__resident__name"]
    head = row["account__household__head__name"]
    if head is None:
        address = {name: row[f"account__household__{name}"] for name in ADDRESS}
        head = Household(**address).address
    return "家庭", f"{head}户"


def _version_in(row: dict[str, Any]) -> Any:
    version = row["rule__book__version"]
    return UNVERSIONED if version is None else version


CLAIM_OF_ENTRY = (
    "id", "rule__code", "rule__name", "rule__book__version", "occurred_on",
    *_user_columns("submitted_by"), "submitted_at", *_user_columns("decided_by"), "decided_at",
    "note",
)  # fmt: skip


ENTRY_VALUES = (
    "id", *HOLDER_COLUMNS, "kind", "amount", "honour", "balance_after", "honour_after",
    "created_at", *_user_columns("created_by"), "source_type", "source_id", "reverses_id", "note",
)  # fmt: skip


def _entry_rows(ctx: Subject) -> Iterator[Row]:
    entries = ctx.entries().order_by("id").values(*ENTRY_VALUES)
    for chunk in _chunked(entries.iterator(chunk_size=CHUNK)):
        # The claims behind this chunk's postings: one query per chunk, never one per row.
        ids = [e["source_id"] for e in chunk if e["source_type"] == "claim" and e["source_id"]]
        claims = (
            {c["id"]: c for c in Claim.objects.filter(pk__in=ids).values(*CLAIM_OF_ENTRY)}
            if ids
            else {}
        )
        for e in chunk:
            claim = claims.get(e["source_id"]) if e["source_type"] == "claim" else None
            about: Row = [""] * 9
            if claim is not None:
                about = [
                    claim["rule__code"], claim["rule__name"], _version_in(claim),
                    _day(claim["occurred_on"]), _who_in(claim, "submitted_by"),
                    _when(claim["submitted_at"]), _who_in(claim, "decided_by"),
                    _when(claim["decided_at"]), claim["note"],
                ]  # fmt: skip
            kind, holder = _holder_in(e)
            yield [
                e["id"], e["account__card_number"], kind, holder, e["account__household_id"],
                e["account__household__grid__name"], KIND.get(e["kind"], e["kind"]), e["amount"],
                e["honour"], e["balance_after"], e["honour_after"], ctx.period.code,
                _when(e["created_at"]), _who_in(e, "created_by"),
                _source(e["source_type"], e["source_id"]), *about, e["reverses_id"], e["note"],
            ]  # fmt: skip


CLAIM_VALUES = (
    "id", "status", "resident_id", "resident__name", "resident__household_id",
    "resident__household__grid__name", "account__card_number", "rule__code", "rule__name",
    "rule__category", "rule__book__version", "points", "occurred_on", "likely_duplicate",
    *_user_columns("submitted_by"), "submitted_at", *_user_columns("decided_by"), "decided_at",
    "reject_reason", "note",
)  # fmt: skip


def _claim_rows(ctx: Subject) -> Iterator[Row]:
    claims = ctx.claims()
    # The entry each approved claim posted (key claim:<id>), found once for the whole quarter:
    # from the community's accounts, no earlier than the quarter (an approval posts to the
    # quarter it happens in).
    posted: dict[int | None, tuple[int | None, str, str]] = {}
    for source_id, posting, code, posted_to in (
        Entry.objects.filter(
            account__household__grid__community=ctx.community,
            period__starts_on__gte=ctx.period.starts_on,
            source_type="claim",
            source_id__in=claims.values("id"),
        )
        .order_by("id")
        .values_list("source_id", "id", "period__code", "account__card_number")
    ):
        posted.setdefault(source_id, (posting, code, posted_to))
    rows = claims.order_by("id").values(*CLAIM_VALUES)
    for c in rows.iterator(chunk_size=CHUNK):
        entry_id, entry_period, card = posted.get(c["id"], (None, "", ""))
        category = c["rule__category"]
        sign = -1 if category == Rule.Category.DEDUCTION else 1
        yield [
            c["id"], CLAIM_STATUS.get(c["status"], c["status"]), c["resident__name"],
            c["resident_id"], c["resident__household_id"], c["resident__household__grid__name"],
            card or c["account__card_number"], c["rule__code"], c["rule__name"],
            CATEGORY.get(category, category), _version_in(c), sign * c["points"],
            _day(c["occurred_on"]), ctx.period.code, c["likely_duplicate"],
            _who_in(c, "submitted_by"), _when(c["submitted_at"]), _who_in(c, "decided_by"),
            _when(c["decided_at"]), c["reject_reason"], c["note"], entry_id, entry_period,
        ]  # fmt: skip


def _objection_rows(ctx: Subject) -> Iterator[Row]:
    mine = Q(entry__period=ctx.period, entry__account__household__grid__community=ctx.community)
    corrected_here = Q(
        correction__period=ctx.period,
        correction__account__household__grid__community=ctx.community,
    )
    objections = (
        Objection.objects.filter(mine | corrected_here)
        .select_related(
            *(f"entry__{path}" for path in ACCOUNT),
            "entry__period",
            "raised_by",
            "decided_by",
            "correction__period",
        )
        .order_by("id")
    )
    for o in objections.iterator(chunk_size=CHUNK):
        entry, fix = o.entry, o.correction
        yield [
            o.pk, entry.pk, entry.period.code, KIND.get(entry.kind, entry.kind), entry.amount,
            entry.account.card_number, _holder(entry.account), _who(o.raised_by),
            _when(o.created_at), o.reason, OBJECTION_STATUS.get(o.status, o.status),
            o.decision_note, _who(o.decided_by), _when(o.decided_at),
            fix.pk if fix else None, KIND.get(fix.kind, fix.kind) if fix else "",
            fix.amount if fix else None, fix.period.code if fix else "",
        ]  # fmt: skip


def _correction_rows(ctx: Subject) -> Iterator[Row]:
    corrections = ctx.entries().filter(kind__in=[Entry.Kind.REVERSAL, Entry.Kind.ADJUSTMENT])
    # The objections these entries settled (an objection upheld points at its correction).
    why = {
        o.correction_id: o
        for o in Objection.objects.filter(correction__in=corrections.values("id")).select_related(
            "raised_by"
        )
    }
    rows = corrections.select_related(*ACCOUNT, "created_by", "reverses__period").order_by("id")
    for e in rows.iterator(chunk_size=CHUNK):
        r, o, account = e.reverses, why.get(e.pk), e.account
        yield [
            e.pk, account.card_number, _holder(account), account.household.grid.name,
            KIND.get(e.kind, e.kind), e.amount, e.honour, ctx.period.code, _when(e.created_at),
            _who(e.created_by), e.note,
            r.pk if r else None, KIND.get(r.kind, r.kind) if r else "", r.amount if r else None,
            r.period.code if r else "", _when(r.created_at) if r else "",
            _source(r.source_type, r.source_id) if r else "",
            o.pk if o else None, _who(o.raised_by) if o else "", o.reason if o else "",
            o.decision_note if o else "",
        ]  # fmt: skip


def _rule_book_rows(ctx: Subject) -> Iterator[Row]:
    """The versions of the community's rule book in force on some day of the quarter, and any
    other version a claim of the quarter was made under; the unversioned rules (未分版本) when
    they were in force on some day (before the first version took effect) or a claim used one.
    Each version's approval record is repeated on each of its rules' rows."""
    period = ctx.period

    def in_force(book: RuleBook) -> bool:
        return (
            book.community_id == ctx.community.pk
            and book.status == RuleBook.Status.ADOPTED
            and book.effective_from <= period.ends_on
            and (book.effective_to is None or book.effective_to >= period.starts_on)
        )

    used = ctx.claims().values("rule__book_id").distinct()
    books = list(
        RuleBook.objects.filter(
            Q(
                community=ctx.community,
                status=RuleBook.Status.ADOPTED,
                effective_from__lte=period.ends_on,
            )
            & (Q(effective_to__isnull=True) | Q(effective_to__gte=period.starts_on))
            | Q(pk__in=used.filter(rule__book__isnull=False))
        )
        .select_related("council")
        .order_by("version", "id")
    )
    starts = [b.effective_from for b in books if in_force(b)]
    # A community's versions follow each other without gaps: the unversioned rules were in
    # force only before the first one of the quarter took effect.
    unversioned_in_force = not starts or min(starts) > period.starts_on
    unversioned = unversioned_in_force or used.filter(rule__book__isnull=True).exists()
    owners = Q(book__in=[b.pk for b in books])
    if unversioned:
        owners |= Q(community=ctx.community, book__isnull=True)
    by_book: dict[int | None, list[Rule]] = {}
    for found in (
        Rule.objects.filter(owners)
        .annotate(used=Count("claims", filter=Q(claims__period=period)))
        .order_by("code", "id")
    ):
        by_book.setdefault(found.book_id, []).append(found)

    sections: list[tuple[Row, list[Rule]]] = []
    if unversioned:
        about: Row = [UNVERSIONED, "", "", unversioned_in_force, *[""] * 7]
        sections.append((about, by_book.get(None, [])))
    for b in books:
        council = f"{b.council.held_on.isoformat()} #{b.council.pk}" if b.council else ""
        about = [
            b.version, b.title, BOOK_STATUS.get(b.status, b.status), in_force(b),
            _day(b.adopted_on), b.adopted_by, council, _day(b.effective_from),
            _day(b.effective_to), b.note, b.attachment.name if b.attachment else "",
        ]  # fmt: skip
        sections.append((about, by_book.get(b.pk, [])))
    for about, book_rules in sections:
        if not book_rules:
            yield [*about, "", "", "", None, "", None, "", None]
        for rule in book_rules:
            yield [
                *about, rule.code, rule.name, CATEGORY.get(rule.category, rule.category),
                rule.sign * rule.points, rule.up_to, rule.cap_per_quarter, rule.active,
                getattr(rule, "used", 0),  # the annotation above
            ]  # fmt: skip


def columns(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TABLES: tuple[Table, ...] = (
    Table(
        "entries",
        "积分流水",
        "entries.csv",
        columns(
            "流水号 账户卡号 账户类型 持有人 户编号 网格 类型 积分 荣誉积分 "
            "变动后余额 变动后荣誉积分 季度 记账时间 记账人 来源 规则编码 规则名称 "
            "细则版本 发生日期 申报人 申报时间 审批人 审批时间 申报说明 冲正流水号 "
            "备注(原因)"
        ),
        _entry_rows,
    ),
    Table(
        "claims",
        "积分申报",
        "claims.csv",
        columns(
            "申报编号 状态 居民 居民编号 户编号 网格 入账账户卡号 规则编码 规则名称 "
            "类别 细则版本 积分 发生日期 季度 疑似重复 申报人 申报时间 审批人 "
            "审批时间 驳回理由 申报说明 入账流水号 入账季度"
        ),
        _claim_rows,
    ),
    Table(
        "objections",
        "公示异议",
        "objections.csv",
        columns(
            "异议编号 异议流水号 流水季度 流水类型 流水积分 账户卡号 持有人 提出人 "
            "提出时间 异议理由 状态 处理决定 处理人 处理时间 更正流水号 更正类型 "
            "更正积分 更正季度"
        ),
        _objection_rows,
    ),
    Table(
        "adjustments_reversals",
        "冲正与调整",
        "adjustments_reversals.csv",
        columns(
            "流水号 账户卡号 持有人 网格 类型 积分 荣誉积分 季度 记账时间 记账人 "
            "原因 被冲正流水号 被冲正流水类型 被冲正流水积分 被冲正流水季度 "
            "被冲正流水记账时间 被冲正流水来源 相关异议编号 异议提出人 异议理由 "
            "异议处理决定"
        ),
        _correction_rows,
    ),
    Table(
        "rule_book",
        "积分细则",
        "rule_book.csv",
        columns(
            "版本 标题 状态 本季生效 通过日期 通过会议 议事会 生效日期 失效日期 "
            "修订说明 附件 规则编码 规则名称 类别 分值 可在分值内申报 每季上限 启用 "
            "本季申报数"
        ),
        _rule_book_rows,
        id_columns=(0, 11),  # the version and the rule's code
    ),
)
MANIFEST_TITLE, MANIFEST_FILE = "清单", "manifest.csv"
MANIFEST_HEADERS = ("项目", "说明", "值")


# ---------------------------------------------------------------------------- canonical form


def clean(value: Any) -> Any:
    """A value as the file stores it: an int stays an int (a number in xlsx), None is "",
    a flag is 是/否, text as described in the module's docstring."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return value
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.lstrip(" ").startswith(("=", "+", "-", "@", "\t")):
        text = "'" + text
    return text


def as_text(value: Any) -> str:
    """A cell read back from either format, as the text the hash covers."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def canonical(values: Sequence[Any]) -> str:
    return json.dumps([as_text(v) for v in values], ensure_ascii=False, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_seed(table: Table, *, community_id: object, quarter: str) -> str:
    return _sha(f"{FORMAT}|{community_id}|{quarter}|{table.key}|{canonical(table.headers)}")


def chain_link(previous: str, values: Sequence[Any]) -> str:
    return _sha(f"{previous}\n{canonical(values)}")


def signing_key() -> bytes:
    """AUDIT_EXPORT_KEY, or a key derived from SECRET_KEY with a salt of its own."""
    key = getattr(settings, "AUDIT_EXPORT_KEY", "")
    if key:
        return str(key).encode("utf-8")
    return salted_hmac(_KEY_SALT, "audit export signing key", algorithm="sha256").digest()


def key_id(key: bytes | None = None) -> str:
    """A fingerprint naming the key (not revealing it), printed in the manifest."""
    return hashlib.sha256(b"key-id|" + (key or signing_key())).hexdigest()[:16]


def sign(manifest_rows: Sequence[Sequence[Any]], key: bytes | None = None) -> str:
    message = "\n".join(canonical(row) for row in [MANIFEST_HEADERS, *manifest_rows])
    return hmac.new(key or signing_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------- writing


README = f"""积分审计导出 ({FORMAT})

本文件包是一个社区一个季度的积分记录, 供纪检监督核查:
  entries.csv               积分流水: 本季度该社区账户的每一笔流水, 含申报人与审批人
  claims.csv                积分申报: 本季度的全部申报, 含被驳回的申报及理由
  objections.csv            公示异议: 提出人, 理由, 处理结果与更正流水
  adjustments_reversals.csv 冲正与调整: 每笔冲正/调整及其原因, 被冲正的流水, 相关异议
  rule_book.csv             积分细则: 本季度有效的细则版本及其规则
  manifest.csv              清单: 社区, 季度, 生成时间与生成人, 各表行数与链头
  SIGNATURE                 清单的签名 (HMAC-SHA256, 十六进制)

防篡改: 每行最后一列"链值" = sha256(上一行链值 + 换行 + 本行各列值的 JSON 数组);
第一行之前的链值由格式版本, 社区编号, 季度与表头决定. 清单记录各表的行数与最后一行的链值,
清单本身由 SIGNATURE 签名. 任何一行被修改, 删除, 增加或调换顺序, 或清单被修改, 核验都会失败.
核验: python manage.py verify_audit_export <文件> [--against-db]
(--against-db 同时与数据库比对, 列出缺少, 多出或不同的行.)
CSV 为 UTF-8 (带 BOM), 可用 Excel 打开; 以 = + - @ 开头的文字前加了 ' , 以免被当作公式.
"""


class _ZipSink:
    def __init__(self, when: dt.datetime) -> None:
        self.buffer = io.BytesIO()
        self.zip = zipfile.ZipFile(self.buffer, "w", zipfile.ZIP_DEFLATED)
        self.stamp = timezone.localtime(when).timetuple()[:6]

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    @contextmanager
    def table(
        self, name: str, title: str, headers: Sequence[str]
    ) -> Iterator[Callable[[Row], Any]]:
        with self.zip.open(self._info(name), "w") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            text.write("\ufeff")  # Excel reads UTF-8 with the byte-order mark
            writer = csv.writer(text)
            writer.writerow(headers)
            yield writer.writerow
            text.flush()
            text.detach()

    def finish(self, manifest: list[Row], signature: str) -> bytes:
        with self.table(MANIFEST_FILE, MANIFEST_TITLE, MANIFEST_HEADERS) as append:
            for row in manifest:
                append(row)
        self.zip.writestr(self._info(SIGNATURE_FILE), signature + "\n")
        self.zip.writestr(self._info(README_FILE), README.encode("utf-8"))
        self.zip.close()
        return self.buffer.getvalue()


class _XlsxSink:
    def __init__(self, when: dt.datetime) -> None:
        # Write-only: rows stream to disk, so 100,000 entries need little memory.
        self.book = Workbook(write_only=True)
        self.manifest = self.book.create_sheet(MANIFEST_TITLE)  # the first sheet
        self._widths(self.manifest, [24, 30, 70])
        self.bold = Font(bold=True)

    @staticmethod
    def _widths(sheet: Any, widths: Sequence[int]) -> None:
        from openpyxl.utils import get_column_letter

        for i, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(i)].width = width

    def _header(self, sheet: Any, headers: Sequence[str]) -> None:
        cells = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = self.bold
            cells.append(cell)
        sheet.append(cells)

    @contextmanager
    def table(
        self, name: str, title: str, headers: Sequence[str]
    ) -> Iterator[Callable[[Row], Any]]:
        sheet = self.book.create_sheet(title)
        self._widths(sheet, [min(max(10, 2 * len(h) + 4), 30) for h in headers[:-1]] + [66])
        sheet.freeze_panes = "B2"
        self._header(sheet, headers)
        yield sheet.append

    def finish(self, manifest: list[Row], signature: str) -> bytes:
        self._header(self.manifest, MANIFEST_HEADERS)
        for row in manifest:
            self.manifest.append(row)
        self.manifest.append(["signature", "签名 (HMAC-SHA256, 不计入签名内容)", signature])
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


@contextmanager
def snapshot() -> Iterator[None]:
    """One transaction for every table, so all show the same moment: REPEATABLE READ on
    PostgreSQL (when this opens the transaction; inside a caller's, its isolation holds)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def table_rows(table: Table, ctx: Subject) -> Iterator[Row]:
    """The table's rows as the file stores them (without the chain column)."""
    width = len(table.headers)
    for row in table.rows(ctx):
        if len(row) != width:  # a programming error, caught by the tests
            raise AssertionError(f"{table.key}: {len(row)} values for {width} columns")
        yield [clean(v) for v in row]


@dataclass(frozen=True)
class AuditExport:
    data: bytes
    filename: str
    content_type: str
    rows: dict[str, int]
    heads: dict[str, str]
    signature: str


def build_audit_export(
    period: Period,
    community: Community,
    *,
    fmt: str = "zip",
    by: User | None = None,
    what: str = "",
) -> AuditExport:
    """The audit export of `period` for `community` as a signed ZIP of CSVs (`fmt` "zip") or
    an xlsx workbook ("xlsx"), recorded in the audit log as an export by `by`.

    Who may ask is points.access.may_audit_export's rule; callers check it (the API, the
    admin's link); the commands run as the operator.
    """
    if fmt not in ("zip", "xlsx"):
        raise ValueError(f"unknown audit export format {fmt!r}")
    generated_at = timezone.now()
    sink: _ZipSink | _XlsxSink = _ZipSink(generated_at) if fmt == "zip" else _XlsxSink(generated_at)
    ctx = Subject(period=period, community=community)
    rows: dict[str, int] = {}
    heads: dict[str, str] = {}
    with snapshot():
        for table in TABLES:
            chain, count = chain_seed(table, community_id=community.pk, quarter=period.code), 0
            with sink.table(table.filename, table.title, table.file_headers) as append:
                for values in table_rows(table, ctx):
                    chain = chain_link(chain, values)
                    append([*values, chain])
                    count += 1
            rows[table.key], heads[table.key] = count, chain
    manifest = _manifest(
        period=period,
        community=community,
        generated_at=generated_at,
        by=by,
        rows=rows,
        heads=heads,
        readme=README if fmt == "zip" else None,
    )
    signature = sign(manifest)
    data = sink.finish(manifest, signature)
    audit.record_export(
        what=what
        or _("Points audit export %(period)s %(community)s (%(format)s)")
        % {"period": period.code, "community": community.name, "format": fmt},
        object_type="grids.community",
        object_id=community.pk,
        count=sum(rows.values()),
        street_id=community.street_id,
        user=by,
    )
    return AuditExport(
        data=data,
        filename=f"points-audit-{period.code}-{community.pk}.{fmt}",
        content_type=ZIP if fmt == "zip" else XLSX,
        rows=rows,
        heads=heads,
        signature=signature,
    )


def _manifest(
    *,
    period: Period,
    community: Community,
    generated_at: dt.datetime,
    by: User | None,
    rows: dict[str, int],
    heads: dict[str, str],
    readme: str | None,
) -> list[Row]:
    manifest: list[Row] = [
        ["format", "格式版本", FORMAT],
        ["community_id", "社区编号", community.pk],
        ["community", "社区", community.name],
        ["street", "街道", community.street.name],
        ["quarter", "季度", period.code],
        ["quarter_dates", "季度起止", f"{_day(period.starts_on)} 至 {_day(period.ends_on)}"],
        ["quarter_status", "导出时季度状态", PERIOD_STATUS.get(period.status, period.status)],
        ["generated_at", "生成时间", _when(generated_at)],
        ["generated_by", "生成人", _who(by) or "manage.py export_audit"],
        [
            "chain",
            "链值算法",
            "sha256_hex(上一行链值 + '\\n' + 本行值的JSON数组); 首行之前 = sha256_hex(格式版本|"
            "社区编号|季度|表名|表头JSON数组)",
        ],
        ["signature_algorithm", "签名算法", "HMAC-SHA256(密钥, 清单各行JSON数组以'\\n'连接)"],
        ["key_id", "签名密钥标识", key_id()],
    ]
    for table in TABLES:
        manifest += [
            [
                f"{table.key}.file",
                f"{table.title} 文件/工作表",
                f"{table.filename} / {table.title}",
            ],
            [f"{table.key}.rows", f"{table.title} 行数", rows[table.key]],
            [f"{table.key}.chain", f"{table.title} 链头(最后一行链值)", heads[table.key]],
        ]
    if readme is not None:
        manifest.append([f"{README_FILE}.sha256", "说明文件 SHA-256", _sha(readme)])
    return [[clean(v) for v in row] for row in manifest]
