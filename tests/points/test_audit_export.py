"""The audit export of a quarter and a community (issue 15, point 5): what it holds for a
discipline inspector, that a changed file fails verification wherever it was changed, that
--against-db finds a stale export, who may export (and the inspector's seat, which reads and
decides nothing), the audit log, and a query count independent of the ledger's size."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from core.scope import resolve_scope
from grids.models import CommitteeMember
from points import audit_export
from points.models import Claim, Entry, Period, Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.services import objections as objections_services
from points.services import rulebooks
from tests import factories as f

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1/points/audit-export/"
TRICKY = "  =1+1 开头像公式\r\n第二行 "  # a formula, a Windows line break, spaces at both ends


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


def fresh(user: Any) -> Any:
    return get_user_model().objects.get(pk=user.pk)


def named(user: Any, name: str) -> Any:
    user.first_name = name
    user.save(update_fields=["first_name"])
    return user


@pytest.fixture
def planted(world):
    """Quarter 2026Q4 of 新庄赵村 (community 1). Its rules are unversioned until version 1 of
    its rule book, adopted on 10-12, takes effect on 10-15. Claims: two approved under the
    unversioned rules (one a deduction), one approved under version 1, one rejected, one
    waiting; one entry reversed; an objection upheld with an adjustment. Outside it: an entry
    of 2026Q3 and one of another community."""
    p = type("Planted", (), {})()
    worker, worker2 = named(world.worker1.user, "赵建军"), named(world.worker2.user, "赵红梅")
    committee = named(world.committee1, "赵振东")

    def rule(code: str, name: str, category: str, points: int, community: Any = None) -> Rule:
        return Rule.objects.create(
            community=community or world.community1, code=code, name=name, category=category,
            points=points,
        )  # fmt: skip

    clean, hazard, fine = (
        rule("clean", "清扫责任区", "reward", 1),
        rule("hazard", "报告隐患", "reward", 2),
        rule("fine", "违反村规", "deduction", 5),
    )
    other_rule = rule("clean", "清扫", "reward", 1, community=world.community3)
    p.clean, p.hazard, p.fine = clean, hazard, fine

    def approved(user: Any, resident: Any, r: Rule, note: str = "", by: Any = committee) -> Claim:
        c = claims_services.submit_claim(user=user, resident=resident, rule=r, note=note)
        return claims_services.approve_claim(claim=c, approver=by)

    with at(dt.date(2026, 8, 10)):  # 2026Q3: not in the export
        p.q3_claim = approved(worker, world.resident1, clean)
    with at(dt.date(2026, 10, 10)):
        p.claim_clean = approved(worker, world.resident1, clean, note=TRICKY)
        p.claim_fine = approved(worker2, world.resident2, fine)
        p.rejected = claims_services.reject_claim(
            claim=claims_services.submit_claim(user=worker, resident=world.resident1, rule=clean),
            approver=committee,
            reason="重复申报",
        )
        p.waiting = claims_services.submit_claim(user=worker2, resident=world.resident2, rule=clean)
        p.other = approved(world.worker4.user, world.resident4, other_rule, by=world.committee3)
    with at(dt.date(2026, 10, 12)):
        draft = rulebooks.start_book(user=committee, community=world.community1, note="首版")
        p.book = rulebooks.adopt(
            draft=draft,
            adopted_on=dt.date(2026, 10, 12),
            effective_from=dt.date(2026, 10, 15),
            by=committee,
            adopted_by="村民代表大会",
        )
    with at(dt.date(2026, 10, 20)):  # under version 1 (the claim names the old rule's id)
        p.claim_hazard = approved(worker, world.resident1, hazard, note="路灯坏了")
    assert p.claim_hazard.rule.book_id == p.book.pk
    p.entry_clean, p.entry_hazard = (
        Entry.objects.get(source_type="claim", source_id=c.pk)
        for c in (p.claim_clean, p.claim_hazard)
    )
    with at(dt.date(2026, 11, 2)):
        p.reversal = ledger_services.reverse_entry(
            entry=p.entry_hazard, user=committee, reason="核实无此事"
        )
        objection = objections_services.raise_objection(
            user=world.resident_user, entry=p.entry_clean, reason="应为2分"
        )
        p.objection = objections_services.uphold_objection(
            objection=objection, user=committee, note="核实属实, 补1分", amount=1
        )
    p.period = Period.objects.get(code="2026Q4")
    p.community = world.community1
    return p


def export(planted: Any, fmt: str = "zip", by: Any = None) -> audit_export.AuditExport:
    return audit_export.build_audit_export(planted.period, planted.community, fmt=fmt, by=by)


def zip_tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    """Each CSV of the ZIP as a list of {header: value}."""
    tables = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".csv"):
                text = z.read(name).decode("utf-8-sig")
                tables[name[:-4]] = list(csv.DictReader(io.StringIO(text, newline="")))
    return tables


def by_id(rows: list[dict[str, str]], column: str, value: object) -> dict[str, str]:
    [row] = [r for r in rows if r[column] == str(value)]
    return row


# ---------------------------------------------------------------------------- contents


def test_the_export_holds_every_entry_with_who_submitted_and_who_approved(world, planted):
    tables = zip_tables(export(planted).data)
    entries = tables["entries"]
    ids = {int(r["流水号"]) for r in entries}
    in_quarter = Entry.objects.filter(
        period=planted.period, account__household__grid__community=world.community1
    )
    assert ids == set(in_quarter.values_list("id", flat=True))
    assert len(ids) == 5  # three claims, the reversal, the adjustment
    # Neither the other quarter nor the other community.
    assert Entry.objects.get(source_id=planted.q3_claim.pk, source_type="claim").pk not in ids
    assert Entry.objects.get(source_id=planted.other.pk, source_type="claim").pk not in ids

    clean = by_id(entries, "流水号", planted.entry_clean.pk)
    assert clean["类型"] == "奖励" and clean["积分"] == "1" and clean["季度"] == "2026Q4"
    assert (clean["持有人"], clean["网格"]) == ("赵爱国", "第一网格")
    assert (clean["规则编码"], clean["规则名称"], clean["细则版本"]) == (
        "clean",
        "清扫责任区",
        "未分版本",
    )
    assert clean["申报人"] == "赵建军(worker)" and clean["审批人"] == "赵振东(committee)"
    assert clean["记账人"] == "赵振东(committee)"
    assert clean["申报时间"] == "2026-10-10 10:00:00" and clean["发生日期"] == "2026-10-10"
    assert clean["来源"] == f"申报 {planted.claim_clean.pk}"
    # The note as a spreadsheet can hold it: one kind of line break, no formula.
    assert clean["申报说明"] == "'  =1+1 开头像公式\n第二行 "
    fine = by_id(entries, "流水号", Entry.objects.get(source_id=planted.claim_fine.pk).pk)
    assert (fine["类型"], fine["积分"], fine["申报人"]) == ("扣分", "-5", "赵红梅(worker2)")
    hazard = by_id(entries, "流水号", planted.entry_hazard.pk)
    assert (hazard["规则编码"], hazard["细则版本"], hazard["发生日期"]) == (
        "hazard",
        "1",
        "2026-10-20",
    )

    reversal = by_id(entries, "流水号", planted.reversal.pk)
    assert reversal["类型"] == "冲正" and reversal["积分"] == "-2"
    assert reversal["冲正流水号"] == str(planted.entry_hazard.pk)
    assert reversal["备注(原因)"] == "核实无此事"
    assert reversal["审批人"] == ""  # no claim behind a reversal


def test_the_export_holds_claims_objections_corrections_and_the_rule_book(world, planted):
    tables = zip_tables(export(planted).data)
    claims = tables["claims"]
    assert {int(r["申报编号"]) for r in claims} == {
        planted.claim_clean.pk, planted.claim_hazard.pk, planted.claim_fine.pk,
        planted.rejected.pk, planted.waiting.pk,
    }  # fmt: skip
    rejected = by_id(claims, "申报编号", planted.rejected.pk)
    assert (rejected["状态"], rejected["驳回理由"], rejected["审批人"]) == (
        "已驳回", "重复申报", "赵振东(committee)",
    )  # fmt: skip
    assert rejected["入账流水号"] == ""
    waiting = by_id(claims, "申报编号", planted.waiting.pk)
    assert (waiting["状态"], waiting["审批人"]) == ("待审批", "")
    fine = by_id(claims, "申报编号", planted.claim_fine.pk)
    assert (fine["积分"], fine["类别"], fine["细则版本"]) == ("-5", "扣分", "未分版本")
    assert fine["入账流水号"] == str(Entry.objects.get(source_id=planted.claim_fine.pk).pk)

    [objection] = tables["objections"]
    correction = planted.objection.correction
    assert (objection["异议编号"], objection["异议流水号"]) == (
        str(planted.objection.pk), str(planted.entry_clean.pk),
    )  # fmt: skip
    assert (objection["提出人"], objection["异议理由"], objection["状态"]) == (
        "resident", "应为2分", "成立",
    )  # fmt: skip
    assert (objection["处理决定"], objection["处理人"]) == ("核实属实, 补1分", "赵振东(committee)")
    assert (objection["更正流水号"], objection["更正类型"], objection["更正积分"]) == (
        str(correction.pk), "调整", "1",
    )  # fmt: skip

    corrections = tables["adjustments_reversals"]
    assert [r["类型"] for r in corrections] == ["冲正", "调整"]
    reversal, adjustment = corrections
    assert (reversal["原因"], reversal["被冲正流水号"], reversal["被冲正流水积分"]) == (
        "核实无此事", str(planted.entry_hazard.pk), "2",
    )  # fmt: skip
    assert reversal["被冲正流水来源"] == f"申报 {planted.claim_hazard.pk}"
    assert (adjustment["原因"], adjustment["相关异议编号"], adjustment["异议理由"]) == (
        "核实属实, 补1分", str(planted.objection.pk), "应为2分",
    )  # fmt: skip

    book = tables["rule_book"]
    # Both were in force during the quarter: the unversioned rules until 10-14, version 1 after.
    assert [(r["版本"], r["规则编码"]) for r in book] == [
        ("未分版本", "clean"), ("未分版本", "fine"), ("未分版本", "hazard"),
        ("1", "clean"), ("1", "fine"), ("1", "hazard"),
    ]  # fmt: skip
    v1 = [r for r in book if r["版本"] == "1" and r["规则编码"] == "hazard"][0]
    assert (v1["标题"], v1["状态"], v1["本季生效"], v1["通过日期"], v1["通过会议"]) == (
        "新庄赵村积分细则", "已通过", "是", "2026-10-12", "村民代表大会",
    )  # fmt: skip
    assert (v1["生效日期"], v1["失效日期"], v1["修订说明"], v1["本季申报数"]) == (
        "2026-10-15", "", "首版", "1",
    )  # fmt: skip
    old_clean = book[0]
    assert (old_clean["本季生效"], old_clean["分值"], old_clean["本季申报数"]) == ("是", "1", "3")

    manifest = {r["项目"]: r["值"] for r in tables["manifest"]}
    assert manifest["format"] == audit_export.FORMAT
    assert (manifest["community_id"], manifest["quarter"]) == (str(world.community1.pk), "2026Q4")
    assert manifest["entries.rows"] == "5" and manifest["claims.rows"] == "5"
    assert manifest["entries.chain"] == tables["entries"][-1]["链值"]
    assert manifest["generated_by"] == "manage.py export_audit"


def test_the_workbook_has_the_same_sheets_rows_and_signature(world, planted):
    zipped = export(planted)
    workbook = export(planted, fmt="xlsx")
    assert workbook.heads == zipped.heads and workbook.rows == zipped.rows
    book = load_workbook(io.BytesIO(workbook.data), read_only=True)
    assert book.sheetnames == ["清单", "积分流水", "积分申报", "公示异议", "冲正与调整", "积分细则"]
    rows = list(book["积分流水"].iter_rows(values_only=True))
    assert rows[0][0] == "流水号" and rows[0][-1] == "链值"
    assert isinstance(rows[1][7], int)  # points are numbers in the workbook
    manifest = list(book["清单"].iter_rows(values_only=True))
    assert manifest[-1][0] == "signature" and manifest[-1][2] == workbook.signature


# ---------------------------------------------------------------------------- verification


def write(tmp_path: Path, data: bytes, name: str = "export.zip") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def verify(path: str, *args: str) -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit_export", path, *args, stdout=out, stderr=err)
    except CommandError:
        return False, err.getvalue()
    return True, out.getvalue()


@pytest.mark.parametrize("fmt", ["zip", "xlsx"])
def test_an_untouched_export_verifies(world, planted, tmp_path, fmt):
    ok, output = verify(write(tmp_path, export(planted, fmt=fmt).data, f"e.{fmt}"), "--against-db")
    assert ok, output
    assert "signature: valid" in output and "entries (积分流水): 5 rows, chain intact" in output
    assert "entries (积分流水): matches the database" in output


def rezip(data: bytes, change: dict[str, Any]) -> bytes:
    """The ZIP with members replaced (a function of the old bytes) or removed (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            content = old.read(name)
            if name in change:
                if change[name] is None:
                    continue
                content = change[name](content)
            new.writestr(name, content)
    return out.getvalue()


def csv_edit(edit: Any) -> Any:
    """A member change that edits the CSV's data rows (a list of lists, header excluded)."""

    def change(content: bytes) -> bytes:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        header, data = rows[0], rows[1:]
        edit(data)
        out = io.StringIO(newline="")
        csv.writer(out).writerows([header, *data])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    return change


def _set_points(rows: list[list[str]]) -> None:
    rows[1][7] = "20"


def _remove_row(rows: list[list[str]]) -> None:
    del rows[2]


def _swap_rows(rows: list[list[str]]) -> None:
    rows[1], rows[2] = rows[2], rows[1]


def _drop_last(rows: list[list[str]]) -> None:
    rows.pop()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"entries.csv": csv_edit(_set_points)},
            "entries (积分流水): the chain breaks at row 2 (流水号 {entry2}): the row was changed",
        ),
        (
            {"entries.csv": csv_edit(_remove_row)},
            "entries (积分流水): the chain breaks at row 3",
        ),
        (
            {"entries.csv": csv_edit(_swap_rows)},
            "entries (积分流水): the chain breaks at row 2 (流水号 {entry3}): the rows were "
            "reordered",
        ),
        (
            {"claims.csv": csv_edit(_drop_last)},
            "claims (积分申报): 4 rows, the manifest says 5",
        ),
        (
            {"manifest.csv": lambda b: b.replace(b"2026Q4", b"2026Q3")},
            "signature: does not match the manifest",
        ),
        (
            {"SIGNATURE": lambda b: b"0" * 64 + b"\n"},
            "signature: does not match the manifest",
        ),
        ({"SIGNATURE": None}, "signature: missing"),
        ({"rule_book.csv": None}, "rule_book (积分细则): missing from the file"),
    ],
    ids=[
        "row-edited",
        "row-removed",
        "rows-swapped",
        "last-row-cut",
        "manifest-edited",
        "signature-replaced",
        "signature-removed",
        "table-removed",
    ],  # fmt: skip
)
def test_a_changed_zip_fails_verification_saying_where(world, planted, tmp_path, change, message):
    data = export(planted).data
    entries = zip_tables(data)["entries"]
    expected = message.format(entry2=entries[1]["流水号"], entry3=entries[2]["流水号"])
    ok, output = verify(write(tmp_path, rezip(data, change)))
    assert not ok
    assert expected in output, output


def test_a_manifest_resigned_with_another_key_fails(world, planted, tmp_path, settings):
    settings.AUDIT_EXPORT_KEY = "the key of somebody else"
    forged = export(planted).data
    settings.AUDIT_EXPORT_KEY = "the server's own key"
    ok, output = verify(write(tmp_path, forged))
    assert not ok and "signature: does not match the manifest" in output
    assert "signed with key" in output  # names both keys' fingerprints, not the keys


def test_an_edited_workbook_cell_fails_verification(world, planted, tmp_path):
    path = write(tmp_path, export(planted, fmt="xlsx").data, "e.xlsx")
    assert verify(path)[0]
    book = load_workbook(path)
    sheet = book["积分申报"]
    assert sheet.cell(row=1, column=20).value == "驳回理由"
    sheet.cell(row=3, column=20).value = "改过的理由"
    book.save(path)
    ok, output = verify(path)
    assert not ok
    assert "claims (积分申报): the chain breaks at row 2" in output, output


def test_an_edited_workbook_manifest_fails_verification(world, planted, tmp_path):
    path = write(tmp_path, export(planted, fmt="xlsx").data, "e.xlsx")
    book = load_workbook(path)
    sheet = book["清单"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "entries.rows":
            row[2].value = 4
    book.save(path)
    ok, output = verify(path)
    assert not ok and "signature: does not match the manifest" in output


def test_something_else_is_refused(world, tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(b"not a zip")
    ok, output = verify(str(path))
    assert not ok and "cannot read the file" in output


def test_against_the_database_a_stale_export_shows_the_new_entry(world, planted, tmp_path):
    path = write(tmp_path, export(planted).data)
    with at(dt.date(2026, 11, 20)):
        late = claims_services.approve_claim(claim=planted.waiting, approver=world.committee1)
    entry = Entry.objects.get(source_type="claim", source_id=late.pk)
    assert entry.period == planted.period
    assert verify(path)[0]  # the file itself is intact
    ok, output = verify(path, "--against-db")
    assert not ok
    assert (
        f"entries (积分流水): 1 row(s) in the database but missing from the file:\n"
        f"    流水号 {entry.pk}"
    ) in output
    # The claim was waiting in the file and is approved now.
    assert (
        f"claims (积分申报): 1 row(s) different from the database:\n    申报编号 {late.pk}: "
        in output
    )
    assert "状态: '待审批' in the file, '已通过' in the database" in output


def test_the_export_command_writes_a_file_that_verifies(world, planted, tmp_path):
    out = tmp_path / "q4.xlsx"
    call_command(
        "export_audit", "2026Q4", str(world.community1.pk), "--format", "xlsx", "--out", str(out),
        "--by", "committee", stdout=io.StringIO(),
    )  # fmt: skip
    assert verify(str(out), "--against-db")[0]
    [event] = AuditEvent.objects.filter(action="export", object_type="grids.community")
    assert event.username == "committee" and "manage.py export_audit" in event.description


# ---------------------------------------------------------------------------- who may export


@pytest.fixture
def inspector(world):
    """纪检监督 of community 1: an inspector seat and the inspector role."""
    user = f.UserFactory(username="inspector", groups=["inspector"])
    CommitteeMember.objects.create(
        user=user, community=world.community1, title="纪检委员", inspector=True
    )
    return user


def get(client: Any, community: Any, fmt: str = "zip", period: str = "2026Q4") -> Any:
    return client.get(API, {"period": period, "community": community.pk, "format": fmt})


@pytest.mark.parametrize(
    ("persona", "fmt", "status"),
    [
        ("committee1", "zip", 200),  # the community's committee
        ("admin1", "xlsx", 200),  # the street's admin
        ("inspector", "zip", 200),  # the community's inspector
        ("resident_user", "zip", 403),  # a resident reads their own entries, not this
        ("worker1", "zip", 403),  # a grid worker of the community
        ("committee3", "zip", 403),  # another community's committee
        ("admin2", "xlsx", 403),  # another street's admin
        ("stranger", "zip", 403),
    ],
)
def test_who_may_download_the_export(world, planted, inspector, client_for, persona, fmt, status):
    user = inspector if persona == "inspector" else getattr(world, persona)
    r = get(client_for(getattr(user, "user", user)), world.community1, fmt)
    assert r.status_code == status, r.content[:300]
    if status == 200:
        expected = audit_export.ZIP if fmt == "zip" else audit_export.XLSX
        assert r["Content-Type"] == expected
        assert (
            f'filename="points-audit-2026Q4-{world.community1.pk}.{fmt}"'
            in (r["Content-Disposition"])
        )
    else:
        assert r["Content-Type"] == "application/json"
        assert not AuditEvent.objects.filter(action="export").exists()


def test_an_inspector_of_another_community_is_refused(world, planted, client_for):
    user = f.UserFactory(username="inspector3", groups=["inspector"])
    CommitteeMember.objects.create(user=user, community=world.community3, inspector=True)
    assert get(client_for(user), world.community1).status_code == 403
    assert get(client_for(user), world.community3).status_code == 200


def test_bad_requests_answer_json(world, planted, client_for):
    client = client_for(world.committee1)
    assert get(client, world.community1, period="2031Q1").status_code == 404
    r = client.get(API, {"period": "2026Q4", "community": 999999, "format": "zip"})
    assert r.status_code == 404
    r = client.get(API, {"period": "2026Q4", "format": "zip"})
    assert r.status_code == 400 and "community" in r.json()
    assert client_for(None).get(API, {"period": "2026Q4"}).status_code in (401, 403)


def test_every_export_is_recorded_in_the_audit_log(world, planted, client_for):
    r = get(client_for(world.committee1), world.community1, "xlsx")
    assert r.status_code == 200
    [event] = AuditEvent.objects.filter(action="export")
    assert (event.username, event.object_type, event.object_id) == (
        "committee", "grids.community", str(world.community1.pk),
    )  # fmt: skip
    assert event.street_id == world.street1.pk
    assert "2026Q4" in event.description and "新庄赵村" in event.description
    assert (
        "共 19 行" in event.description
    )  # 5 entries, 5 claims, 1 objection, 2 corrections, 6 rules
    assert event.path.startswith(API)


def test_the_inspector_reads_but_decides_nothing(world, planted, inspector, client_for):
    scope = resolve_scope(inspector)
    assert scope.inspected_community_ids == {world.community1.pk}
    assert not scope.community_ids and not scope.has_area
    client = client_for(inspector)
    claims = client.get("/api/v1/point-claims/").json()["results"]
    assert {c["id"] for c in claims} == set(
        Claim.objects.filter(resident__household__grid__community=world.community1).values_list(
            "id", flat=True
        )
    )
    assert client.get("/api/v1/objections/").json()["count"] == 1
    # No decision, no reversal: the seat is no committee seat.
    entry = planted.entry_clean
    r = client.post(f"/api/v1/point-entries/{entry.pk}/reverse/", {"reason": "x"}, format="json")
    assert r.status_code == 403
    r = client.post(f"/api/v1/point-claims/{planted.waiting.pk}/approve/", format="json")
    assert r.status_code == 403
    assert not Entry.objects.filter(reverses=entry).exists()
    planted.waiting.refresh_from_db()
    assert planted.waiting.status == Claim.Status.SUBMITTED


def test_the_quarter_page_links_the_audit_export(world, planted, staff_client):
    client = staff_client(world.admin1)
    page = client.get(reverse("admin:points_period_change", args=[planted.period.pk]))
    html = page.content.decode()
    link = f"{API}?period=2026Q4&amp;community={world.community1.pk}&amp;format=xlsx"
    assert link in html and 'data-test="audit-export-zip"' in html
    assert f"community={world.community3.pk}&amp;format=xlsx" not in html  # another street
    r = client.get(link.replace("&amp;", "&"))
    assert r.status_code == 200 and r["Content-Type"] == audit_export.XLSX


def test_the_inspector_finds_the_link_too_and_no_close_action(
    world, planted, inspector, staff_client
):
    client = staff_client(inspector)
    html = client.get(reverse("admin:points_period_change", args=[planted.period.pk])).content
    assert f"community={world.community1.pk}&amp;format=zip".encode() in html
    assert f"community={world.community2.pk}&amp;".encode() not in html  # not inspected
    r = client.post(
        reverse("admin:points_period_changelist"),
        {"action": "close_quarters", "_selected_action": [planted.period.pk]},
        follow=True,
    )
    assert "Only a street admin closes a quarter." in r.content.decode()
    planted.period.refresh_from_db()
    assert planted.period.status == Period.Status.OPEN


# ---------------------------------------------------------------------------- cost


def test_the_query_count_does_not_grow_with_the_ledger(world, planted):
    def claims(n: int) -> None:
        with at(dt.date(2026, 11, 25)):
            for _ in range(n):
                c = claims_services.submit_claim(
                    user=world.worker1.user, resident=world.resident1, rule=planted.clean
                )
                claims_services.approve_claim(claim=c, approver=world.committee1)

    def count(fmt: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            done = export(planted, fmt=fmt, by=fresh(world.committee1))
        return len(queries), done.rows["entries"]

    claims(10 - 5)  # 10 entries in the quarter
    small_zip, small_xlsx = count("zip"), count("xlsx")
    claims(40)  # 50
    big_zip, big_xlsx = count("zip"), count("xlsx")
    assert (small_zip[1], big_zip[1]) == (10, 50)
    assert small_zip[0] == big_zip[0] and small_xlsx[0] == big_xlsx[0]
    assert big_zip[0] <= 20, big_zip
