"""The field app end to end (issue 11, point 10): a real chromium on a 360×740 phone in
Chinese, against the built app served by Django, with the server's rows counted after."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import (
    PASSWORD,
    cut_after_response,
    login,
    offline,
    outbox_states,
    tid,
    wait_all_sent,
    wait_for_service_worker,
)


def test_worker_logs_in_and_sees_the_today_list(village: SimpleNamespace, page: Any) -> None:
    login(page, "worker")
    items = page.locator(tid("today-item"))
    expect(items.first).to_be_visible()
    text = page.locator("body").inner_text()
    # Due for a visit (tag every 7 days): 赵银名 (visited 10 days ago, overdue 3 days), 赵秀兰
    # and 王建国 (never visited); the need assigned to the worker, overdue.
    for name in ("赵银名", "赵秀兰", "王建国", "路灯不亮"):
        assert name in text, name
    expect(page.locator(tid("today-badge")).filter(has_text="逾期3天").first).to_be_visible()
    expect(page.locator(tid("pending-count"))).to_have_text(re.compile("待同步 0"))
    page.locator(f"{tid('today-search')} input").fill("王建国")
    expect(page.locator(tid("search-result"))).to_have_count(1)


# ---------------------------------------------------------------------------- steps in the app


def pick(page: Any, text: str | None = None) -> None:
    """In the open bottom picker, choose the option with `text` (or leave the first), confirm."""
    popup = page.locator(".van-popup--bottom:visible")
    if text is not None:
        popup.locator(".van-picker-column__item", has_text=text).first.click()
        page.wait_for_timeout(400)  # the column's scroll animation
    popup.locator(".van-picker__confirm").click()
    expect(popup).to_have_count(0)


def record_visit(
    page: Any,
    household_id: int,
    notes: str,
    *,
    need_title: str | None = None,
    photo: Path | None = None,
) -> None:
    page.goto(f"/m/#/h/{household_id}/visit")
    page.locator(f"{tid('visit-notes')} textarea").fill(notes)
    if need_title is not None:
        page.locator(tid("add-need")).click()
        block = page.locator(tid("visit-need")).last
        block.locator(tid("need-category")).click()
        pick(page)
        block.locator(f"{tid('need-title')} input").fill(need_title)
        block.locator(f"{tid('need-text')} textarea").fill("村口东侧，晚上全黑")
        if photo is not None:
            block.locator(f"{tid('photo-input')} input[type=file]").set_input_files(str(photo))
            expect(block.locator(".van-uploader__preview-image")).to_have_count(1)
            expect(block.locator(".van-uploader__mask")).to_have_count(0)
    page.locator(tid("save-visit")).click()
    # Saved at once, signal or not: the form closes.
    expect(page.locator(tid("save-visit"))).to_have_count(0)


def submit_claim(page: Any, household_id: int, rule_text: str, note: str) -> None:
    page.goto(f"/m/#/h/{household_id}/claim")
    expect(page.locator(f"{tid('claim-resident')} .van-radio").first).to_be_visible()
    page.locator(tid("claim-rule")).click()
    pick(page, rule_text)
    page.locator(f"{tid('claim-note')} textarea").fill(note)
    page.locator(tid("save-claim")).click()
    expect(page.locator(tid("save-claim"))).to_have_count(0)


def visits_of(household: Any) -> int:
    from residents.models import Visit

    return Visit.objects.filter(household=household).count()


# ---------------------------------------------------------------------------- the tests


def test_record_a_visit_with_a_need_and_a_photo(
    village: SimpleNamespace, page: Any, photo: Path
) -> None:
    from residents.models import Need, NeedPhoto, Visit

    household = village.households[2]
    login(page, "worker")
    record_visit(page, household.pk, "身体还好，路灯坏了", need_title="村口路灯不亮", photo=photo)
    wait_all_sent(page, 2)  # the visit (with its need), then the photo
    [visit] = Visit.objects.filter(household=household)
    assert visit.notes == "身体还好，路灯坏了" and visit.worker == village.worker
    [need] = Need.objects.filter(visit=visit)
    assert need.title == "村口路灯不亮" and need.household == household
    [stored] = NeedPhoto.objects.filter(need=need)
    from PIL import Image

    with Image.open(stored.image.path) as image:
        assert max(image.size) <= 1600  # shrunk on the phone


def test_offline_day_then_everything_syncs_once(
    village: SimpleNamespace, context: Any, page: Any
) -> None:
    from points.models import Claim
    from residents.models import Visit

    login(page, "worker")
    wait_for_service_worker(page)
    before = Visit.objects.count()

    offline(context)
    for i, household in enumerate(village.households[:3]):
        record_visit(page, household.pk, f"离线走访 {i}")
    submit_claim(page, village.households[3].pk, "清扫责任区", "打扫村口")
    page.goto("/m/#/today")
    expect(page.locator(tid("pending-count"))).to_have_text(re.compile("待同步 4"))

    page.reload()  # no network: the shell comes from the service worker, the data from IndexedDB
    expect(page.locator(tid("tabbar"))).to_be_visible()
    states = [state for _kind, state in outbox_states(page)]
    assert len(states) == 4 and "sent" not in states
    assert Visit.objects.count() == before

    offline(context, False)
    wait_all_sent(page, 4)
    for household in village.households[:3]:
        assert Visit.objects.filter(household=household, notes__startswith="离线走访").count() == 1
    assert Visit.objects.count() == before + 3
    assert Claim.objects.filter(note="打扫村口").count() == 1
    expect(page.locator(tid("outbox-state")).first).to_have_text("已同步")


def test_a_connection_cut_after_the_server_answered_still_gives_one_row_each(
    village: SimpleNamespace, playwright_browser: Any, server: str, photo: Path
) -> None:
    from points.models import Claim
    from residents.models import Need, NeedPhoto, Visit
    from tests.browser.conftest import new_context

    # Requests a service worker handles are not routed by Playwright: none here.
    context = new_context(playwright_browser, server, service_workers="block")
    try:
        page = context.new_page()
        login(page, "worker")
        cut_visit = cut_after_response(page, re.compile(r"/api/v1/visits/$"))
        cut_photo = cut_after_response(page, re.compile(r"/api/v1/needs/\d+/photos/$"))
        cut_claim = cut_after_response(page, re.compile(r"/api/v1/point-claims/$"))
        household = village.households[2]
        record_visit(page, household.pk, "信号不好", need_title="屋顶漏雨", photo=photo)
        submit_claim(page, household.pk, "清扫责任区", "断线测试")
        wait_all_sent(page, 3, timeout_ms=60_000)
        assert cut_visit == [201] and cut_photo == [201] and cut_claim == [201]
        [visit] = Visit.objects.filter(household=household)
        [need] = Need.objects.filter(visit=visit)
        assert NeedPhoto.objects.filter(need=need).count() == 1
        assert Claim.objects.filter(note="断线测试").count() == 1
    finally:
        context.close()


def test_a_refused_claim_shows_the_servers_message(
    village: SimpleNamespace, context: Any, page: Any
) -> None:
    from points.models import Claim
    from points.services import claims as claim_services

    resident = village.residents[3]
    login(page, "worker")
    wait_for_service_worker(page)  # the form's code is cached: it opens with no signal
    offline(context)
    # Meanwhile the committee's own claims use up the cap (2 a quarter) for this resident.
    for _ in range(2):
        claim_services.submit_claim(user=village.committee, resident=resident, rule=village.rule)
    submit_claim(page, village.households[3].pk, "清扫责任区", "超上限")
    offline(context, False)
    page.goto("/m/#/sync")
    failed = page.locator(f"{tid('outbox-record')}[data-state=failed]")
    expect(failed).to_have_count(1, timeout=30_000)
    expect(failed.locator(tid("outbox-state"))).to_have_text("同步失败")
    expect(failed.locator(tid("outbox-error"))).to_contain_text("上限")
    expect(page.locator(tid("sync-failed"))).to_contain_text("1")
    page.goto("/m/#/today")
    expect(page.locator(tid("failed-count"))).to_contain_text("同步失败 1")
    assert not Claim.objects.filter(note="超上限").exists()


def test_committee_member_approves_a_claim(village: SimpleNamespace, page: Any) -> None:
    from points.models import Claim
    from points.services import claims as claim_services

    claim = claim_services.submit_claim(
        user=village.worker.user, resident=village.residents[0], rule=village.advice, points=5
    )
    login(page, "committee")
    page.locator(tid("tab-approve")).click()
    item = page.locator(f"{tid('claim-item')}[data-id='{claim.pk}']")
    expect(item).to_contain_text("赵银名")
    item.locator(tid("claim-approve")).click()
    expect(item).to_have_count(0)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.APPROVED and claim.decided_by == village.committee


def test_a_resident_and_an_outsider_cannot_get_in(village: SimpleNamespace, page: Any) -> None:
    for username in ("resident", "outsider"):
        login(page, username, PASSWORD, expect_ok=False)
        error = page.locator(tid("login-error"))
        expect(error).to_contain_text("仅供网格员")
        expect(page.locator(tid("tabbar"))).to_have_count(0)
        # Nothing of theirs stays on the device.
        assert page.evaluate("localStorage.length") == 0 or not page.evaluate(
            "Object.keys(localStorage).some(k => /token/i.test(k) && localStorage[k])"
        )


def test_logging_out_deletes_the_token_on_the_server_and_wipes_the_phone(
    village: SimpleNamespace, page: Any
) -> None:
    from rest_framework.authtoken.models import Token

    login(page, "worker")
    expect(page.locator(tid("today-item")).first).to_be_visible()
    assert Token.objects.filter(user__username="worker").exists()
    page.goto(page.url.split("#")[0] + "#/sync")
    page.locator(tid("logout")).click()
    page.locator(".van-dialog__confirm").click()
    expect(
        page.locator(tid("login-error")).or_(page.get_by_text("登录", exact=True))
    ).to_be_visible()
    page.wait_for_function("!Object.keys(localStorage).some(k => /token/i.test(k))")
    assert not Token.objects.filter(user__username="worker").exists()


def test_the_worker_reads_notifications_in_the_app(village: SimpleNamespace, page: Any) -> None:
    """消息 (issue 14): the bell on 今日 shows the unread count; the inbox lists the worker's
    notifications; opening one marks it read on the server."""
    from django.contrib.auth import get_user_model

    from notifications.models import Notification

    worker = get_user_model().objects.get(username="worker")
    digest = Notification.objects.create(
        recipient=worker,
        event="daily_digest",
        text="今日待走访 3 户，逾期需求 1 件。",
        dedupe_key="test:digest",
        batch=uuid.uuid4(),
    )
    Notification.objects.create(
        recipient=worker,
        event="claim_rejected",
        text="积分申报被驳回：日期不对",
        dedupe_key="t:2",
        batch=uuid.uuid4(),
    )
    login(page, "worker")
    bell = page.locator(tid("inbox-link"))
    expect(bell.locator(".van-badge")).to_have_text("2")
    bell.click()
    items = page.locator(tid("inbox-item"))
    expect(items).to_have_count(2)
    expect(page.locator("body")).to_contain_text("今日待走访 3 户")
    expect(page.locator(tid("inbox-unread-dot"))).to_have_count(2)
    if os.environ.get(
        "FIELD_SCREENSHOTS"
    ):  # the README's picture: FIELD_SCREENSHOTS=docs/screenshots
        page.screenshot(path=str(Path(os.environ["FIELD_SCREENSHOTS"]) / "field-inbox.png"))
    items.filter(has_text="今日待走访").click()
    expect(page.locator(tid("inbox-unread-dot"))).to_have_count(1)
    digest.refresh_from_db()
    assert digest.read_at is not None
    page.locator(tid("inbox-read-all")).click()
    expect(page.locator(tid("inbox-unread-dot"))).to_have_count(0)
    assert not Notification.objects.filter(recipient=worker, read_at__isnull=True).exists()
