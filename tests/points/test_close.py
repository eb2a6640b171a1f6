"""The close of a quarter: orders frozen, the purchase and distribution lists, expiry, the
stored notice; idempotent and resumable (a crash between chunks and inside one); the exports
and the API with its personas."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation

from points import tasks
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Closing,
    DistributionLine,
    Entry,
    NoticeLine,
    Order,
    Period,
    PurchaseLine,
    Rule,
)
from points.services import claims as claims_services
from points.services import close as close_services
from points.services import ledger as ledger_services
from points.services import redemption as redemption_services
from tests import factories as f


@pytest.fixture(autouse=True)
def close_job_runs_in_process():
    """Run the close job in-process, also where a real broker is configured (CI's second
    pass): these tests check what the job does, not the broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def english(settings):
    """The messages below are compared in English (the suite runs in zh-hans)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


SHANGHAI = ZoneInfo("Asia/Shanghai")
Q3 = dt.date(2026, 7, 1)
EARNED_ON = dt.date(2026, 8, 10)
OPENS, CLOSES = dt.date(2026, 10, 1), dt.date(2026, 10, 7)
INSIDE = dt.date(2026, 10, 3)
AFTER = dt.date(2026, 10, 9)


def at(day: dt.date, hour: int = 10) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), SHANGHAI), tick=False)


@pytest.fixture
def village(world):
    """A quarter of a small village (community1, two grids) and of community2: claims approved,
    windows opened, orders placed and one cancelled; the windows have ended."""
    w = world
    w.q3 = ledger_services.period_for(Q3)
    w.resident5 = f.ResidentFactory(household=w.household1, name="赵小明")
    clean = {
        c: Rule.objects.create(community=c, code="clean", name="清扫", category="reward", points=40)
        for c in (w.community1, w.community2)
    }
    item = {
        name: CatalogItem.objects.create(community=w.community1, name=name, points=p, unit="个")
        for name, p in (("香皂", 10), ("毛巾", 20))
    }
    item["外村香皂"] = CatalogItem.objects.create(
        community=w.community2, name="外村香皂", points=10
    )
    w.item = item
    with at(EARNED_ON):
        for resident, worker in (
            (w.resident1, w.worker1),
            (w.resident2, w.worker2),
            (w.resident5, w.worker1),
            (w.resident3, w.worker3),
        ):
            community = resident.household.grid.community
            claims_services.submit_claim(user=worker.user, resident=resident, rule=clean[community])
        claims_services.bulk_approve_claims(claims=Claim.objects.all(), approver=w.committee1)
        c2 = f.committee_member(w.community2, "committee2").user
        claims_services.bulk_approve_claims(claims=Claim.objects.all(), approver=c2)
    with at(dt.date(2026, 9, 30)):
        for community in (w.community1, w.community2):
            redemption_services.open_redemption(
                period=w.q3, community=community, opens_on=OPENS, closes_on=CLOSES,
                user=w.admin1,
            )  # fmt: skip
    with at(INSIDE):
        w.o1 = redemption_services.place_order(
            user=w.resident_user, resident=w.resident1, lines=[(item["香皂"], 2), (item["毛巾"], 1)]
        )
        w.o2 = redemption_services.place_order(
            user=w.worker2.user, resident=w.resident2, lines=[(item["毛巾"], 1)]
        )
        cancelled = redemption_services.place_order(
            user=w.worker1.user, resident=w.resident5, lines=[(item["毛巾"], 1)]
        )
        redemption_services.cancel_order(user=w.worker1.user, order=cancelled)
        w.o5 = redemption_services.place_order(
            user=w.worker1.user, resident=w.resident5, lines=[(item["香皂"], 1)]
        )
        w.o3 = redemption_services.place_order(
            user=w.worker3.user, resident=w.resident3, lines=[(item["外村香皂"], 3)]
        )
    return w


def snapshot() -> dict[str, list[tuple]]:
    """Everything the close writes, without ids of its own or timestamps."""
    return {
        "orders": sorted(Order.objects.values_list("id", "status")),
        "purchase": sorted(
            PurchaseLine.objects.values_list(
                "period_id", "community_id", "item_id", "quantity", "points_total"
            )
        ),
        "distribution": sorted(
            DistributionLine.objects.values_list(
                "order_id", "grid_id", "household_id", "resident_id", "items", "total_points"
            )
        ),
        "notice": sorted(
            NoticeLine.objects.values_list(
                "resident_id", "grid_id", "masked_name", "earned", "balance"
            )
        ),
        "entries": sorted(
            Entry.objects.values_list("account_id", "seq", "amount", "kind", "balance_after", "key")
        ),
        "accounts": sorted(Account.objects.values_list("id", "balance", "last_seq")),
    }


def close(w, django_capture_on_commit_callbacks) -> Closing:
    with at(AFTER), django_capture_on_commit_callbacks(execute=True):
        return close_services.start_close(period=w.q3, user=w.admin1)


# ---------------------------------------------------------------------------- end to end


def test_a_quarter_of_a_village_closes_end_to_end(village, django_capture_on_commit_callbacks):
    w = village
    close(w, django_capture_on_commit_callbacks)
    closing = Closing.objects.get(period=w.q3)
    w.q3.refresh_from_db()
    assert w.q3.status == Period.Status.CLOSED
    assert closing.status == Closing.Status.DONE and closing.finished_at is not None
    assert (closing.communities_done, closing.communities_total) == (2, 2)
    statuses = dict(Order.objects.values_list("id", "status"))
    assert {statuses[o.pk] for o in (w.o1, w.o2, w.o5, w.o3)} == {Order.Status.FROZEN}
    assert list(statuses.values()).count(Order.Status.CANCELLED) == 1
    purchase = {
        (p.community_id, p.item.name): (p.quantity, p.points_total)
        for p in PurchaseLine.objects.select_related("item")
    }
    assert purchase == {
        (w.community1.pk, "香皂"): (3, 30),
        (w.community1.pk, "毛巾"): (2, 40),
        (w.community2.pk, "外村香皂"): (3, 30),
    }
    lines = {d.order_id: (d.grid_id, d.resident_id, d.items, d.total_points)
             for d in DistributionLine.objects.all()}  # fmt: skip
    assert lines == {
        w.o1.pk: (w.grid1.pk, w.resident1.pk, "香皂×2、毛巾×1", 40),
        w.o2.pk: (w.grid2.pk, w.resident2.pk, "毛巾×1", 20),
        w.o5.pk: (w.grid1.pk, w.resident5.pk, "香皂×1", 10),
        w.o3.pk: (w.grid3.pk, w.resident3.pk, "外村香皂×3", 30),
    }
    notice = {n.resident_id: (n.masked_name, n.earned, n.balance) for n in NoticeLine.objects.all()}
    assert notice[w.resident1.pk] == ("赵*国", 40, 0)
    assert notice[w.resident5.pk][1:] == (40, 30)
    assert notice[w.resident2.pk] == ("赵*英", 40, 20)
    assert w.resident4.pk not in notice  # community3: no accounts, no orders, not closed
    assert not Entry.objects.filter(kind=Entry.Kind.EXPIRY).exists()
    assert ledger_services.verify_ledger().ok


def test_closing_twice_changes_nothing(village, django_capture_on_commit_callbacks):
    close(village, django_capture_on_commit_callbacks)
    before = snapshot()
    again = close(village, django_capture_on_commit_callbacks)
    tasks.close_period(village.q3.pk)
    assert snapshot() == before
    assert Closing.objects.get() == again and again.status == Closing.Status.DONE


def test_the_close_waits_for_the_windows_to_end(village):
    with at(CLOSES), pytest.raises(ValidationError) as refused:
        close_services.start_close(period=village.q3, user=village.admin1)
    assert "open until 2026-10-07" in str(refused.value)
    assert not Closing.objects.exists()


def test_the_close_waits_for_the_quarters_last_day_beijing_time(village):
    """Windows over is not enough: claims dated in the quarter arrive until its last day."""
    with at(AFTER):  # Q4's windows (none) are over, but Q4 runs until 12-31
        q4 = ledger_services.period_for(dt.date(2026, 12, 5))
    # 23:30 on 12-31 in Beijing is still the quarter's last day (15:30 UTC).
    with at(dt.date(2026, 12, 31), hour=23), pytest.raises(ValidationError) as refused:
        close_services.start_close(period=q4, user=village.admin1)
    assert refused.value.code == "quarter_not_over"
    assert "runs until 2026-12-31" in str(refused.value)
    assert "from 2027-01-01 on" in str(refused.value)
    q4.refresh_from_db()
    assert q4.status == Period.Status.OPEN and not Closing.objects.exists()
    # 00:30 on 01-01 in Beijing is still 12-31 in UTC: Beijing's date decides.
    with time_machine.travel(dt.datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        closing = close_services.start_close(period=q4, user=village.admin1)
    assert closing.period == q4


def test_a_claim_for_a_closed_quarter_is_refused_with_a_clear_message(
    village, django_capture_on_commit_callbacks
):
    with at(dt.date(2026, 9, 29)):
        late = claims_services.submit_claim(
            user=village.worker1.user,
            resident=village.resident1,
            rule=Rule.objects.get(community=village.community1, code="clean"),
            occurred_on=dt.date(2026, 9, 28),
        )
    close(village, django_capture_on_commit_callbacks)
    entries = Entry.objects.count()
    # Approving it one at a time is refused, saying which quarter and what to do.
    with at(AFTER), pytest.raises(ValidationError) as refused:
        claims_services.approve_claim(claim=late, approver=village.committee1)
    assert refused.value.code == "quarter_closed"
    assert "2026Q3 is closed" in str(refused.value)
    assert "dated in the current quarter" in str(refused.value)
    # In bulk it is skipped; nothing is posted.
    with at(AFTER):
        decision = claims_services.bulk_approve_claims(
            claims=Claim.objects.filter(pk=late.pk), approver=village.committee1
        )
    assert (decision.decided, decision.skipped) == (0, 1)
    late.refresh_from_db()
    assert late.status == Claim.Status.SUBMITTED and Entry.objects.count() == entries
    # It can still be rejected, to clear it from the queue.
    with at(AFTER):
        claims_services.reject_claim(claim=late, approver=village.committee1, reason="季度已结算")
    # A new claim dated in the closed quarter is refused on its date.
    with at(AFTER), pytest.raises(ValidationError) as refused:
        claims_services.submit_claim(
            user=village.worker1.user,
            resident=village.resident1,
            rule=Rule.objects.get(community=village.community1, code="clean"),
            occurred_on=dt.date(2026, 9, 30),
        )
    assert "occurred_on" in refused.value.message_dict
    assert "2026Q3 is closed" in refused.value.message_dict["occurred_on"][0]
    assert not Claim.objects.filter(occurred_on=dt.date(2026, 9, 30)).exists()


def test_the_api_refuses_a_claim_for_a_closed_quarter_in_chinese(
    village, django_capture_on_commit_callbacks, client
):
    from rest_framework.test import APIClient

    close(village, django_capture_on_commit_callbacks)
    api = APIClient()
    api.force_authenticate(village.worker1.user)
    rule = Rule.objects.get(community=village.community1, code="clean")
    with at(AFTER), translation.override("zh-hans"):
        response = api.post(
            "/api/v1/point-claims/",
            {"resident": village.resident1.pk, "rule": rule.pk, "occurred_on": "2026-09-30"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400, response.content
    assert "2026Q3 季度已结束（季度结算后不再接受" in str(response.json())


def test_only_a_street_admin_closes(village):
    for user in (village.committee1, village.worker1.user, village.resident_user):
        with at(AFTER), pytest.raises(PermissionDenied):
            close_services.start_close(period=village.q3, user=user)


def test_no_order_changes_once_the_close_started(village, django_capture_on_commit_callbacks):
    close(village, django_capture_on_commit_callbacks)
    with at(INSIDE), pytest.raises(ValidationError):
        redemption_services.place_order(
            user=village.resident_user, resident=village.resident1,
            lines=[(village.item["香皂"], 1)],
        )  # fmt: skip


# ---------------------------------------------------------------------------- resumability


def uninterrupted(w) -> dict[str, list[tuple]]:
    """The result of an uninterrupted close of the same data, then rolled back."""
    with transaction.atomic():
        with at(AFTER):
            close_services.start_close(period=w.q3, user=w.admin1)
            tasks.close_period(w.q3.pk)
        result = snapshot()
        transaction.set_rollback(True)
    assert not Closing.objects.exists()
    return result


def test_a_crash_between_chunks_resumes_to_the_same_result(village, monkeypatch):
    expected = uninterrupted(village)
    real = close_services.close_community

    def crash_on_second(*, closing, community):
        if community == village.community2:
            raise RuntimeError("worker lost")
        return real(closing=closing, community=community)

    monkeypatch.setattr(close_services, "close_community", crash_on_second)
    with at(AFTER):
        close_services.start_close(period=village.q3, user=village.admin1)
        with pytest.raises(RuntimeError):
            tasks.close_period(village.q3.pk)
    closing = Closing.objects.get()
    assert (closing.status, closing.communities_done) == (Closing.Status.RUNNING, 1)
    assert (
        Order.objects.filter(status=Order.Status.FROZEN, community=village.community1).count() == 3
    )
    assert Order.objects.get(pk=village.o3.pk).status == Order.Status.PLACED
    monkeypatch.setattr(close_services, "close_community", real)
    with at(AFTER):
        tasks.close_period(village.q3.pk)
    assert snapshot() == expected
    assert ledger_services.verify_ledger().ok


def test_a_crash_inside_a_chunk_rolls_it_back_and_resumes(village, monkeypatch):
    policy = claims_services.policy_for(village.community1)
    policy.expire_after_quarters = 1
    policy.save()
    ledger_services.post_entry(
        account=ledger_services.account_for(village.resident2), amount=60, kind="award", key="old",
        period=ledger_services.period_for(dt.date(2026, 4, 1)),
    )  # fmt: skip
    expected = uninterrupted(village)
    assert len([e for e in expected["entries"] if e[3] == Entry.Kind.EXPIRY]) == 1
    real = close_services._store_notice

    def crash(period, community):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(close_services, "_store_notice", crash)
    with at(AFTER):
        close_services.start_close(period=village.q3, user=village.admin1)
        with pytest.raises(RuntimeError):
            tasks.close_period(village.q3.pk)
    # The first community's chunk froze, listed and expired, then failed: all rolled back.
    assert not Order.objects.filter(status=Order.Status.FROZEN).exists()
    assert not PurchaseLine.objects.exists() and not DistributionLine.objects.exists()
    assert Closing.objects.get().communities_done == 0
    monkeypatch.setattr(close_services, "_store_notice", real)
    with at(AFTER):
        tasks.close_period(village.q3.pk)
    assert snapshot() == expected


# ---------------------------------------------------------------------------- expiry


def test_old_unspent_points_expire_once(village, django_capture_on_commit_callbacks):
    w = village
    policy = claims_services.policy_for(w.community1)
    policy.expire_after_quarters = 1
    policy.save()
    q2 = ledger_services.period_for(dt.date(2026, 4, 1))
    for resident, points in ((w.resident1, 25), (w.resident2, 60)):
        ledger_services.post_entry(
            account=ledger_services.account_for(resident), amount=points, kind="award",
            key="old", period=q2,
        )  # fmt: skip
    close(w, django_capture_on_commit_callbacks)
    expiry = {
        e.account.resident_id: (e.amount, e.balance_after, e.key)
        for e in Entry.objects.filter(kind=Entry.Kind.EXPIRY).select_related("account")
    }
    # resident1: 25 from Q2 + 40 earned in Q3, 40 spent → 25 left ≤ 40 of Q3: none expire.
    # resident2: 60 + 40, 20 spent → 80 left, 40 more than Q3 brought: 40 expire.
    # resident5: 40 + a refund of 20 (positive too) − 30 spent → 30: none.
    # resident3 is in community2, which keeps its points.
    assert expiry == {w.resident2.pk: (-40, 40, "expiry:2026Q3")}
    assert ledger_services.account_for(w.resident2).balance == 40
    assert NoticeLine.objects.get(resident=w.resident2).balance == 40
    assert ledger_services.verify_ledger().ok
    before = snapshot()
    Closing.objects.update(status=Closing.Status.RUNNING)
    Period.objects.filter(pk=w.q3.pk).update(status=Period.Status.CLOSING)
    with transaction.atomic():
        close_services.post_expiry(period=w.q3, community=w.community1, quarters=1)
    tasks.close_period(w.q3.pk)
    assert snapshot() == before


# ---------------------------------------------------------------------------- API and exports


@pytest.fixture
def closed(village, django_capture_on_commit_callbacks):
    close(village, django_capture_on_commit_callbacks)
    return village


def test_the_api_starts_the_close_and_shows_its_progress(
    village, client_for, django_capture_on_commit_callbacks
):
    url = f"/api/v1/periods/{village.q3.code}/close/"
    api = client_for(village.admin1)
    assert api.get(url).status_code == 404  # not started
    assert client_for(village.committee1).post(url).status_code == 403
    with at(AFTER), django_capture_on_commit_callbacks(execute=True):
        started = api.post(url, HTTP_IDEMPOTENCY_KEY="close-q3-1")
    assert started.status_code == 202, started.content
    assert started.json()["period"] == "2026Q3"
    with at(AFTER):
        again = api.post(url, HTTP_IDEMPOTENCY_KEY="close-q3-1")
    assert (again.status_code, again.json()) == (202, started.json())
    progress = api.get(url).json()
    assert progress["status"] == "done"
    assert (progress["communities_total"], progress["communities_done"]) == (2, 2)
    assert progress["finished_at"] is not None


def test_the_purchase_list_is_scoped(closed, client_for):
    url = f"/api/v1/periods/{closed.q3.code}/purchase-list/?community={closed.community1.pk}"
    for user in (closed.committee1, closed.admin1, closed.superuser):
        body = client_for(user).get(url).json()
        assert [(r["item"], r["quantity"], r["points_total"]) for r in body["lines"]] == [
            ("香皂", 3, 30),
            ("毛巾", 2, 40),
        ]
    for user in (closed.committee3, closed.admin2, closed.worker1.user):
        assert client_for(user).get(url).status_code == 404
    assert client_for(closed.resident_user).get(url).status_code == 404


def test_the_distribution_list_is_scoped(closed, client_for):
    url = f"/api/v1/periods/{closed.q3.code}/distribution-list/?grid={closed.grid1.pk}"
    for user in (closed.worker1.user, closed.committee1, closed.admin1):
        body = client_for(user).get(url).json()
        assert [(r["order"], r["name"], r["items"]) for r in body["lines"]] == [
            (closed.o1.pk, "赵爱国", "香皂×2、毛巾×1"),
            (closed.o5.pk, "赵小明", "香皂×1"),
        ]
    for user in (closed.worker2.user, closed.committee3, closed.admin2):
        assert client_for(user).get(url).status_code == 404
    assert client_for(closed.resident_user).get(url).status_code == 404


def test_the_lists_export_to_xlsx(closed, client_for):
    api = client_for(closed.committee1)
    base = f"/api/v1/periods/{closed.q3.code}"
    response = api.get(f"{base}/purchase-list/?community={closed.community1.pk}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "商品", "单位", "单价(积分)", "数量", "积分合计")
    assert rows[1:] == [(1, "香皂", "个", 10, 3, 30), (2, "毛巾", "个", 20, 2, 40)]
    response = api.get(f"{base}/distribution-list/?grid={closed.grid1.pk}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "领取人签字"
    assert [r[2:5] for r in rows[1:]] == [
        ("赵爱国", "香皂×2、毛巾×1", 40),
        ("赵小明", "香皂×1", 10),
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "html"])
def test_a_bad_list_request_answers_json_also_when_a_document_was_asked_for(
    closed, client_for, fmt
):
    api = client_for(closed.committee1)
    base = f"/api/v1/periods/{closed.q3.code}"
    for path in (f"{base}/purchase-list/?format={fmt}", f"{base}/distribution-list/?format={fmt}"):
        response = api.get(path)  # no community / grid named
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert response.json()
    outside = api.get(f"{base}/distribution-list/?grid={closed.grid4.pk}&format={fmt}")
    assert outside.status_code == 404
    assert outside["Content-Type"].startswith("application/json")


def test_the_lists_print_as_html(closed, client_for):
    api = client_for(closed.worker1.user)
    base = f"/api/v1/periods/{closed.q3.code}"
    page = api.get(f"{base}/distribution-list/?grid={closed.grid1.pk}&format=html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "<table>" in html and "香皂×2、毛巾×1" in html and "Signature" in html
    assert "@page { size: A4" in html
    page = client_for(closed.committee1).get(
        f"{base}/purchase-list/?community={closed.community1.pk}&format=html"
    )
    assert page.status_code == 200 and "毛巾" in page.content.decode()


def test_the_admin_action_starts_the_close(
    village, staff_client, django_capture_on_commit_callbacks
):
    client = staff_client(village.admin1, "view_period")
    with at(AFTER), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/points/period/",
            {"action": "close_quarters", "_selected_action": [village.q3.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "The close of 2026Q3 has started." in response.content.decode()
    village.q3.refresh_from_db()
    assert village.q3.status == Period.Status.CLOSED


def test_the_stored_notice_is_the_notice_of_the_selector(
    village, django_capture_on_commit_callbacks
):
    """On PostgreSQL the close stores the notice with one INSERT … SELECT per community (names
    masked in SQL); it must be what the selector and core.masking give, also for names with
    surrounding (ideographic) spaces, of one or four characters, and with a reversal of an
    earning entry in the quarter."""
    from core.masking import mask_name
    from points.selectors.claims import notice_rows

    w = village
    f.ResidentFactory(household=w.household1, name="\u3000欧阳小明 ")
    f.ResidentFactory(household=w.household2, name="王")
    award = Entry.objects.get(account__resident=w.resident5, kind=Entry.Kind.AWARD)
    with at(EARNED_ON):
        ledger_services.reverse_entry(entry=award, user=w.committee1, reason="重复申报")
    close(w, django_capture_on_commit_callbacks)
    expected = [
        (row.household.grid_id, row.pk, mask_name(row.name), row.earned, row.balance)
        for grid in (w.grid1, w.grid2, w.grid3)
        for row in notice_rows(period=w.q3, grid_id=grid.pk)
    ]
    stored = list(
        NoticeLine.objects.filter(grid_id__in=[w.grid1.pk, w.grid2.pk, w.grid3.pk])
        .order_by("grid_id", "id")
        .values_list("grid_id", "resident_id", "masked_name", "earned", "balance")
    )
    assert stored == expected
    names = {n for _g, _r, n, _e, _b in stored}
    assert {"欧**明", "王"} <= names
    assert NoticeLine.objects.get(resident=w.resident5).earned == 0
