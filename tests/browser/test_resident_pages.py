"""A resident's pages on /me/ in a real chromium (issue 16): a 360×740 phone in Chinese, logged
in as the demo resident 赵银名 (`resident`, seed_demo) through /accounts/login/.

Each test seeds the demo street, adds what its step needs through the services (a resolved
need to rate, a 2026Q3 entry inside the objection window, an open redemption window), walks
the page as a resident would, checks the rows on the server, and saves a screenshot under
docs/screenshots/ (resident-*.png). No page may be wider than the phone.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

# The README pictures: RESIDENT_SCREENSHOTS=docs/screenshots; otherwise the shots
# go to a throwaway folder, so running the suite leaves the checkout as it was.
SHOTS = Path(os.environ.get("RESIDENT_SCREENSHOTS") or tempfile.mkdtemp(prefix="gridpoints-shots-"))
if not SHOTS.is_absolute():
    SHOTS = Path(settings.BASE_DIR) / SHOTS


@pytest.fixture
def demo(transactional_db: None) -> Any:
    """The demo street, as `make run` loads it; 赵银名 is the `resident` login."""
    from residents.models import Resident

    call_command("seed_demo", verbosity=0)
    return Resident.objects.select_related("household__grid__community").get(
        user__username="resident"
    )


def users() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username__in=["worker", "committee", "admin"])
    return {u.username: u for u in found}


def log_in(page: Any) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", "resident")
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/me/")


def shot(page: Any, name: str) -> None:
    """Check nothing is wider than the phone, then save a full-page screenshot."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: the page is {width}px wide"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"resident-{name}.png"), full_page=True)


def test_resident_reports_a_need_with_a_photo(demo: Any, page: Any, photo: Path) -> None:
    from residents.models import Need, NeedPhoto

    before = Need.objects.filter(resident=demo).count()
    log_in(page)
    shot(page, "me")
    page.locator("#go-report").click()
    expect(page.locator("h1")).to_have_text("我要反映")
    # Sent empty: Chinese errors under the fields, the details kept.
    page.fill("#id_text", "村西头路灯杆歪了，晚上不亮")
    page.locator("button[type=submit].wide").click()
    expect(page.locator("#field-title .field-error")).to_have_text("该字段是必填项。")
    expect(page.locator("#id_text")).to_have_value("村西头路灯杆歪了，晚上不亮")
    shot(page, "report-errors")
    page.select_option("#id_category", "infrastructure")
    page.fill("#id_title", "村西头路灯不亮")
    page.set_input_files("#id_image", str(photo))
    shot(page, "report-form")
    page.locator("button[type=submit].wide").click()
    expect(page.locator("#need-status")).to_have_text("待受理")
    expect(page.locator(".messages")).to_contain_text("诉求已提交")
    expect(page.locator("img.need-photo")).to_have_count(1)
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )
    shot(page, "need-reported")
    need = Need.objects.filter(resident=demo).exclude(pk__in=[]).order_by("-id").first()
    assert Need.objects.filter(resident=demo).count() == before + 1
    assert need is not None and (need.title, need.source) == ("村西头路灯不亮", "resident")
    assert NeedPhoto.objects.filter(need=need).count() == 1


def _resolved_need(demo: Any) -> Any:
    """赵银名's policy question, walked to resolved by the demo's worker and committee."""
    from residents.models import Need
    from residents.services import needs as needs_services

    u = users()
    need = Need.objects.get(resident=demo, title="咨询脱贫户医保缴费补贴政策")
    need = needs_services.accept_need(user=u["worker"], need=need)
    need = needs_services.assign_need(
        user=u["committee"], need=need, worker=u["worker"].grid_worker,
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )  # fmt: skip
    need = needs_services.start_need(user=u["worker"], need=need)
    return needs_services.resolve_need(
        user=u["worker"], need=need, resolution="已上门讲解：脱贫户医保个人缴费部分由财政资助。"
    )


def test_resident_rates_a_resolved_need(demo: Any, page: Any) -> None:
    from residents.models import Rating

    need = _resolved_need(demo)
    log_in(page)
    expect(page.locator("#go-needs .badge")).to_have_text("1")
    page.locator("#go-needs").click()
    expect(page.locator("#to-rate")).to_contain_text("咨询脱贫户医保缴费补贴政策")
    shot(page, "needs")
    page.locator(f"#to-rate #need-{need.pk} a").click()
    expect(page.locator("#need-status")).to_have_text("已办结")
    shot(page, "need-to-rate")
    page.locator("label.choice", has_text="满意").filter(has_not_text="不").first.click()
    page.fill("#id_comment", "讲得很清楚，谢谢网格员")
    page.locator("#rate button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("感谢您的评价")
    expect(page.locator("#need-status.status-closed")).to_be_visible()
    shot(page, "need-rated")
    rating = Rating.objects.get(need=need)
    assert (rating.level, rating.source, rating.comment) == (
        5,
        "resident",
        "讲得很清楚，谢谢网格员",
    )


def test_resident_raises_an_objection_from_the_notice(demo: Any, page: Any) -> None:
    from points.models import Objection, Policy
    from points.services import ledger as ledger_services

    community = demo.household.grid.community
    # An award posted in 2026Q3, and a window long enough that today is inside it.
    Policy.objects.update_or_create(community=community, defaults={"objection_days": 120})
    year = timezone.localdate().year
    ledger_services.post_entry(
        account=ledger_services.account_for(demo), amount=1, kind="award", key="browser-q3",
        period=ledger_services.period_for(dt.date(year, 9, 15)), note="清扫村西头游园",
    )  # fmt: skip
    log_in(page)
    page.goto(f"/notice/{year}Q3/{demo.household.grid_id}/")
    page.locator("a.objection-link").click()
    expect(page.locator("h1")).to_have_text("公示与异议")
    line = page.locator(".objection-lines > li", has_text="清扫村西头游园")
    line.locator("summary").click()
    line.locator("textarea").fill("那天我扫了两处，应该是2分")
    shot(page, "objection-form")
    line.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("异议已提交")
    expect(page.locator(".objection-lines > li", has_text="清扫村西头游园")).to_contain_text(
        "我的异议"
    )
    shot(page, "objection-sent")
    objection = Objection.objects.get()
    assert (objection.entry.account.resident_id, objection.reason) == (
        demo.pk,
        "那天我扫了两处，应该是2分",
    )


def test_resident_reads_the_rules_and_the_ranking(demo: Any, page: Any) -> None:
    log_in(page)
    page.locator("#go-rules").click()
    expect(page.locator("h1")).to_have_text("积分细则")
    expect(page.locator("main")).to_contain_text("每季度最多")
    shot(page, "rules")
    page.goto("/me/")
    page.locator("#go-ranking").click()
    expect(page.locator("h1")).to_have_text("年度排名")
    expect(page.locator("#my-rank")).to_contain_text("赵银名")
    others = page.locator(".ranking li:not(.me):not(.gap) .who")
    assert others.count() > 0 and all("*" in t for t in others.all_inner_texts())  # masked
    shot(page, "ranking")


def test_resident_sees_the_shop_greyed_and_where_to_collect(demo: Any, page: Any) -> None:
    from points.models import Account, CatalogItem, Order
    from points.services import ledger as ledger_services
    from points.services import redemption as redemption_services

    u = users()
    community = demo.household.grid.community
    today = timezone.localdate()
    redemption_services.open_redemption(
        period=ledger_services.current_period(), community=community,
        opens_on=today - dt.timedelta(days=1), closes_on=today + dt.timedelta(days=6),
        user=u["admin"], pickup_place="新庄赵村村委会一楼", pickup_time="12月20日 上午9:00–11:30",
    )  # fmt: skip
    # 赵银名 has 5 points in the demo: 20 more, so some items are within reach and some not.
    ledger_services.post_entry(
        account=ledger_services.account_for(demo), amount=20, kind="award",
        key="browser-shop", note="志愿服务",
    )  # fmt: skip
    balance = Account.objects.get(resident=demo).balance
    items = list(CatalogItem.objects.filter(community=community, active=True))
    assert any(i.points > balance for i in items) and any(i.points <= balance for i in items)
    log_in(page)
    greyed = page.locator(".shop li.unaffordable")
    expect(greyed.first).to_be_visible()
    expect(greyed.first).to_contain_text("还差")
    assert greyed.count() == sum(1 for i in items if i.points > balance)
    page.locator("#redeem").scroll_into_view_if_needed()
    shot(page, "shop")
    cheapest = min(items, key=lambda i: (i.points, i.pk))
    page.fill(f"#qty-{cheapest.pk}", "1")
    page.locator("#redeem button[type=submit]").click()
    expect(page.locator(".pickup").first).to_contain_text("新庄赵村村委会一楼")
    expect(page.locator(".pickup").first).to_contain_text("12月20日 上午9:00–11:30")
    page.locator("#orders").scroll_into_view_if_needed()
    shot(page, "ordered")
    assert Order.objects.filter(resident=demo).count() == 1
