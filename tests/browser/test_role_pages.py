"""The partner's and the team leader's phone pages end to end (issue 16, points 1, 2 and 7):
chromium on a 360×740 phone in Chinese, logging in as the demo's `partner` (张伟, 市委办) and
`leader` (朱德荣, 银龄调解队) at /accounts/login/, with screenshots in docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import tid

# The README's pictures are refreshed with ROLE_SCREENSHOTS=docs/screenshots; otherwise the shots
# go to a throwaway folder, so running the suite leaves the checkout as it was.
SHOTS = Path(os.environ.get("ROLE_SCREENSHOTS") or tempfile.mkdtemp(prefix="gridpoints-shots-"))
if not SHOTS.is_absolute():
    SHOTS = Path(settings.BASE_DIR) / SHOTS


@pytest.fixture
def demo(transactional_db: None) -> SimpleNamespace:
    """The demo street (seed_demo), plus a micro-wish 泰山社区 offers to 市委办 and an activity
    of 银龄调解队 that began an hour ago, both made through the services."""
    from demo.seed import seed_demo
    from grids.models import Grid, PartnerUnit
    from residents.models import Need
    from residents.services import needs as needs_services
    from volunteers.models import Team
    from volunteers.services import activities as activities_services

    seed_demo()
    d = SimpleNamespace()
    committee = _user("taishan.zhaohui")
    unit = PartnerUnit.objects.get(name="市委办")
    grid = Grid.objects.filter(community__code="taishan").order_by("id").first()
    need = needs_services.record_need(
        user=committee,
        title="为独居老人修理电动三轮车",
        category=Need.Category.MICRO_WISH,
        source=Need.Source.VISIT,
        grid=grid,
        text="老人出行全靠这辆三轮车, 电瓶坏了。",
    )
    needs_services.accept_need(user=committee, need=need)
    d.need = needs_services.offer_need(
        user=committee,
        need=need,
        partner_units=[unit],
        due_on=timezone.localdate() + dt.timedelta(days=10),
    )
    d.team = Team.objects.get(name="银龄调解队")
    starts = timezone.now() - dt.timedelta(hours=1)
    d.activity = activities_services.create_activity(
        user=_user("leader"),
        team=d.team,
        title="楼道矛盾调解接待日",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        place="社区党群服务中心",
        capacity=6,
    )
    return d


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def login(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.locator("button[type=submit]", has_text="登录").click()
    page.wait_for_load_state()


def fits_the_phone(page: Any) -> None:
    """Nothing wider than the 360-px screen (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    fits_the_phone(page)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_partner_claims_starts_and_reports_a_micro_wish_with_a_photo(
    demo: SimpleNamespace, page: Any, photo: Path
) -> None:
    from residents.models import Need, NeedPhoto

    # The front door links the partners' and team leaders' login.
    page.goto("/")
    expect(page.locator(tid("home-partner"))).to_have_text("共建单位 / 队长登录")
    shot(page, "home-visitor")
    page.locator(tid("home-partner")).click()
    expect(page.locator("#id_username")).to_be_visible()
    login(page, "partner")
    # Landed on the unit's page, in Chinese.
    expect(page.locator("h1")).to_have_text("共建单位")
    assert page.url.endswith("/partner/")
    offered = page.locator("#offered")
    expect(offered).to_contain_text("为独居老人修理电动三轮车")
    expect(page.locator("#history")).to_contain_text("本单位办理记录")
    shot(page, "partner-list")

    offered.get_by_role("link", name="为独居老人修理电动三轮车").click()
    shot(page, "partner-offered")
    page.locator(tid("claim")).click()
    expect(page.locator(".messages")).to_contain_text("已接单")
    expect(page.locator(tid("need-status"))).to_contain_text("已交办")

    page.locator(tid("start")).click()
    expect(page.locator(".messages")).to_contain_text("已开始办理")

    # Sent empty first: refused in Chinese, nothing done.
    page.locator(tid("resolve")).click()
    expect(page.locator(".errors")).to_contain_text("请填写需求的办理结果")
    assert Need.objects.get(pk=demo.need.pk).status == Need.Status.IN_PROGRESS
    shot(page, "partner-report-error")

    page.locator(tid("resolution")).fill("已更换电瓶, 三轮车恢复使用, 老人很满意。")
    page.set_input_files(tid("photos"), str(photo))
    page.locator(tid("resolve")).click()
    expect(page.locator(".messages")).to_contain_text("已办结并上传 1 张照片")
    expect(page.locator(tid("need-status"))).to_contain_text("已办结")
    expect(page.locator("#photos img")).to_have_count(1)
    # The photo loads (the need's photo address, for those who may see it).
    page.wait_for_function(
        "document.querySelector('#photos img').complete && "
        "document.querySelector('#photos img').naturalWidth > 0"
    )
    shot(page, "partner-resolved")

    need = Need.objects.get(pk=demo.need.pk)
    assert need.status == Need.Status.RESOLVED and need.assigned_partner.name == "市委办"
    assert NeedPhoto.objects.filter(need=need).count() == 1

    page.goto("/partner/")
    expect(page.locator("#history")).to_contain_text("为独居老人修理电动三轮车")
    shot(page, "partner-history")


def test_the_leader_records_attendance_and_completes_an_activity(
    demo: SimpleNamespace, page: Any
) -> None:
    from volunteers.models import Activity, Attendance

    login(page, "leader")
    # One team: straight to it.
    expect(page.locator("#title")).to_have_text("银龄调解队")
    expect(page.locator("#members")).to_contain_text("朱德荣")
    expect(page.locator("#upcoming")).to_contain_text("重阳节敬老茶话会")
    shot(page, "leader-team")

    page.get_by_role("link", name="楼道矛盾调解接待日").click()
    expect(page.locator("#record")).to_contain_text("为无手机的队员登记出勤")
    boxes = page.locator(tid("member-check"))
    assert boxes.count() >= 3
    boxes.nth(0).check()
    boxes.nth(1).check()
    shot(page, "leader-activity")
    page.locator(tid("record")).click()
    expect(page.locator(".messages")).to_contain_text("已为 2 名队员登记出勤")
    expect(page.locator(tid("attended"))).to_have_count(2)
    assert Attendance.objects.filter(activity=demo.activity).count() == 2

    page.locator(tid("complete")).click()
    expect(page.locator(".messages")).to_contain_text("活动已完成")
    expect(page.locator(tid("activity-status"))).to_have_text("已完成")
    assert Activity.objects.get(pk=demo.activity.pk).status == Activity.Status.DONE
    shot(page, "leader-completed")


def test_the_leader_opens_the_qr_code_on_the_phone(demo: SimpleNamespace, page: Any) -> None:
    from volunteers.models import Activity

    login(page, "leader")
    planned = Activity.objects.get(title="重阳节敬老茶话会")
    page.goto(f"/volunteers/lead/activities/{planned.pk}/")
    page.locator(tid("qr-link")).click()
    expect(page.locator(".qr svg")).to_be_visible()
    box = page.locator(".qr svg").bounding_box()
    assert box is not None and box["width"] <= 360
    expect(page.locator(".tools button")).to_have_text("打印")
    shot(page, "leader-qr")
    # Printed, it is one A4 sheet.
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the QR code prints on {pages} pages"
