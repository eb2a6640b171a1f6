"""Notifications (issue 14): told once per commit, never on rollback or a replay; switches;
quiet hours; retries and the recorded failure; the hourly limit; the inbox's scope; the
grid workers' digest."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications import sms
from notifications.events import Event
from notifications.models import Delivery, Notification, NotificationSetting
from notifications.services import notify
from notifications.tasks import send_held, send_worker_digests
from points.models import Claim, Rule
from points.services import claims as claims_services
from residents.models import Need
from residents.services import needs as needs_services
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")


# Delivery runs in Celery after the commit: in-process here, also on CI's broker pass.
pytestmark = pytest.mark.usefixtures("tasks_in_process")


@pytest.fixture(autouse=True)
def _clean(settings):
    sms.outbox.clear()
    settings.SMS_QUIET_START = settings.SMS_QUIET_END = 0  # no quiet hours unless a test says
    settings.SMS_MAX_PER_HOUR = 0
    yield
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def lonely(world):
    """A resident of worker1's grid without a login: told by SMS."""
    world.resident2 = f.ResidentFactory(household=world.household1, name="赵秀英")
    return world.resident2


@pytest.fixture
def rules(world):
    def rule(code, category, points):
        return Rule.objects.create(
            community=world.community1, code=code, name=code, category=category, points=points
        )

    return {"clean": rule("清扫责任区", "reward", 1), "fine": rule("违反村规", "deduction", 5)}


def submit(world, rule, resident):
    return claims_services.submit_claim(user=world.worker1.user, resident=resident, rule=rule)


def committed(capture, fn):
    """Run fn in a transaction whose on-commit callbacks run (as a real commit would)."""
    with capture(execute=True) as callbacks:
        result = fn()
    return result, callbacks


# ----------------------------------------------------------------------------- once per commit


def test_an_approved_claim_tells_the_resident_and_the_worker_once_after_the_commit(
    world, rules, django_capture_on_commit_callbacks
):
    world.resident_user.email = "zhao@example.com"
    world.resident_user.save()
    claim = submit(world, rules["clean"], world.resident1)
    committed(
        django_capture_on_commit_callbacks,
        lambda: claims_services.approve_claim(claim=claim, approver=world.committee1),
    )
    to_resident = Notification.objects.get(recipient=world.resident_user)
    to_worker = Notification.objects.get(recipient=world.worker1.user)
    assert to_resident.event == to_worker.event == Event.CLAIM_APPROVED
    assert "清扫责任区" in to_resident.text and "获得1分" in to_resident.text
    assert "赵爱国" in to_worker.text and "审核通过" in to_worker.text
    assert [m.to for m in mail.outbox] == [["zhao@example.com"]]
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert Notification.objects.count() == 2


def test_a_resident_without_a_login_gets_an_sms_with_the_reason_of_a_rejection(
    world, rules, django_capture_on_commit_callbacks
):
    claim = submit(world, rules["clean"], world.resident2)
    committed(
        django_capture_on_commit_callbacks,
        lambda: claims_services.reject_claim(
            claim=claim, approver=world.committee1, reason="未见实效"
        ),
    )
    assert [m["phone"] for m in sms.outbox] == [world.resident2.phone]
    assert sms.outbox[0]["template"] == Event.CLAIM_REJECTED
    assert sms.outbox[0]["params"]["reason"] == "未见实效"
    assert "未见实效" in Notification.objects.get(resident=world.resident2).text


def test_a_deduction_is_told_as_a_deduction(world, rules, django_capture_on_commit_callbacks):
    claim = submit(world, rules["fine"], world.resident2)
    committed(
        django_capture_on_commit_callbacks,
        lambda: claims_services.approve_claim(claim=claim, approver=world.committee1),
    )
    told = Notification.objects.get(resident=world.resident2, recipient=None)
    assert told.event == Event.DEDUCTION and "扣除5分" in told.text
    assert len(sms.outbox) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(
    world, rules, django_capture_on_commit_callbacks
):
    claim = submit(world, rules["clean"], world.resident2)

    def approve_then_fail():
        with transaction.atomic():
            claims_services.approve_claim(claim=claim, approver=world.committee1)
            raise RuntimeError("boom")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        approve_then_fail()
    assert callbacks == []
    assert sms.outbox == [] and Notification.objects.count() == 0


def test_the_same_fact_told_twice_is_recorded_and_sent_once(
    world, django_capture_on_commit_callbacks
):
    def tell():
        return notify(
            recipient=None,
            resident=world.resident2,
            event=Event.NEED_ACCEPTED,
            context={"title": "路灯不亮"},
            about_obj=world.household2,
            community_id=world.community1.pk,
        )

    first, _ = committed(django_capture_on_commit_callbacks, tell)
    second, callbacks = committed(django_capture_on_commit_callbacks, tell)
    assert first is not None and second is None and callbacks == []
    assert Notification.objects.count() == 1 and len(sms.outbox) == 1


def test_a_replayed_approval_with_the_same_idempotency_key_sends_nothing_twice(
    world, rules, client_for, django_capture_on_commit_callbacks
):
    claim = submit(world, rules["clean"], world.resident2)
    url = f"/api/v1/point-claims/{claim.pk}/approve/"
    client = client_for(world.committee1)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = client.post(url, HTTP_IDEMPOTENCY_KEY="approve-1")
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert callbacks == []
    assert len(sms.outbox) == 1
    assert Notification.objects.filter(resident=world.resident2).count() == 1


def test_a_bulk_approval_tells_every_resident_after_the_commit_at_no_cost_inside_it(
    world, rules, django_capture_on_commit_callbacks
):
    residents = [f.ResidentFactory(household=world.household1) for _ in range(5)]
    for r in residents:
        submit(world, rules["clean"], r)
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        result = claims_services.bulk_approve_claims(
            claims=Claim.objects.filter(status="submitted"), approver=world.committee1
        )
    assert result.decided == 5
    # the bulk statement's transaction writes no notification (its query count stays fixed)
    assert not [q for q in queries.captured_queries if "notifications_" in q["sql"]]
    assert Notification.objects.count() == 0 and len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    told = Notification.objects.filter(event=Event.CLAIM_APPROVED, recipient=None)
    assert sorted(told.values_list("resident_id", flat=True)) == sorted(r.pk for r in residents)
    assert sorted(m["phone"] for m in sms.outbox) == sorted(r.phone for r in residents)
    # one message to the worker per claim, in-app
    assert Notification.objects.filter(recipient=world.worker1.user).count() == 5
    # the task run again (a redelivered job) tells nobody twice
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()
    assert Notification.objects.count() == 10 and len(sms.outbox) == 5


# ----------------------------------------------------------------------------- switches


def test_an_event_turned_off_for_the_community_sends_nothing(
    world, rules, django_capture_on_commit_callbacks
):
    NotificationSetting.objects.create(
        community=world.community1, event=Event.CLAIM_APPROVED, enabled=False
    )
    claim = submit(world, rules["clean"], world.resident2)
    committed(
        django_capture_on_commit_callbacks,
        lambda: claims_services.approve_claim(claim=claim, approver=world.committee1),
    )
    assert Notification.objects.count() == 0 and sms.outbox == []
    # another community's switch, or another event, is untouched
    other = submit(world, rules["clean"], world.resident2)
    committed(
        django_capture_on_commit_callbacks,
        lambda: claims_services.reject_claim(claim=other, approver=world.committee1, reason="重复"),
    )
    assert Notification.objects.filter(event=Event.CLAIM_REJECTED).count() == 2


# ----------------------------------------------------------------------------- SMS rules


def tell_resident2(world, capture, about):
    committed(
        capture,
        lambda: notify(
            recipient=None,
            resident=world.resident2,
            event=Event.ORDER_READY,
            context={"resident": "赵秀英", "order": about.pk, "period": "2026Q4"},
            about_obj=about,
            community_id=world.community1.pk,
        ),
    )


def test_an_sms_in_the_quiet_hours_is_held_until_eight_in_the_morning(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_QUIET_START, settings.SMS_QUIET_END = 21, 8
    evening = dt.datetime(2026, 11, 10, 22, 30, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        tell_resident2(world, django_capture_on_commit_callbacks, world.household1)
        delivery = Delivery.objects.get()
        assert delivery.status == Delivery.Status.HELD and sms.outbox == []
        assert delivery.not_before == dt.datetime(2026, 11, 11, 8, 0, tzinfo=SHANGHAI)
        assert send_held() == 0  # not yet
    with time_machine.travel(dt.datetime(2026, 11, 11, 7, 59, tzinfo=SHANGHAI), tick=False):
        send_held()
        assert sms.outbox == []
    with time_machine.travel(dt.datetime(2026, 11, 11, 8, 0, tzinfo=SHANGHAI), tick=False):
        assert send_held() == 1
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT and len(sms.outbox) == 1


def test_in_app_and_email_are_not_held_in_the_quiet_hours(
    world, settings, rules, django_capture_on_commit_callbacks
):
    settings.SMS_QUIET_START, settings.SMS_QUIET_END = 21, 8
    world.worker1.user.email = "w1@example.com"
    world.worker1.user.save()
    with time_machine.travel(dt.datetime(2026, 11, 10, 23, 0, tzinfo=SHANGHAI), tick=False):
        claim = submit(world, rules["clean"], world.resident1)
        committed(
            django_capture_on_commit_callbacks,
            lambda: claims_services.approve_claim(claim=claim, approver=world.committee1),
        )
    assert len(mail.outbox) == 1


class FailingBackend:
    calls = 0
    fail_times = 100

    def send(self, phone, template_code, params):
        FailingBackend.calls += 1
        if FailingBackend.calls <= FailingBackend.fail_times:
            raise sms.SmsError("isv.BUSINESS_LIMIT_CONTROL: 触发流控")
        sms.outbox.append({"phone": phone})
        return "ok"


def test_a_failing_provider_is_retried_with_backoff_and_the_failure_recorded(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{__name__}.FailingBackend"
    FailingBackend.calls, FailingBackend.fail_times = 0, 100
    tell_resident2(world, django_capture_on_commit_callbacks, world.household1)
    delivery = Delivery.objects.get()
    retries = settings.NOTIFICATIONS_MAX_RETRIES
    assert FailingBackend.calls == retries + 1
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == retries + 1
    assert "BUSINESS_LIMIT_CONTROL" in delivery.last_error
    assert Notification.objects.count() == 1  # the in-app record stays


def test_a_provider_that_fails_once_is_retried_and_the_message_sent(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{__name__}.FailingBackend"
    FailingBackend.calls, FailingBackend.fail_times = 0, 1
    tell_resident2(world, django_capture_on_commit_callbacks, world.household1)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 2
    assert "流控" in delivery.last_error and len(sms.outbox) == 1


def test_sms_past_the_hourly_limit_of_a_phone_are_held_for_later(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_MAX_PER_HOUR = 2
    now = dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        for about in (world.household1, world.household2, world.household3):
            tell_resident2(world, django_capture_on_commit_callbacks, about)
    statuses = sorted(Delivery.objects.values_list("status", flat=True))
    assert statuses == ["held", "sent", "sent"] and len(sms.outbox) == 2
    held = Delivery.objects.get(status="held")
    assert held.not_before == now + dt.timedelta(hours=1)
    with time_machine.travel(now + dt.timedelta(minutes=61), tick=False):
        assert send_held() == 1
    assert len(sms.outbox) == 3


# ----------------------------------------------------------------------------- needs


def test_a_resolved_need_asks_the_resident_for_a_rating_and_a_rejection_explains(
    world, django_capture_on_commit_callbacks
):
    worker = world.worker1.user

    def loop():
        need = needs_services.record_need(
            user=worker, title="路灯不亮", category="infrastructure", source="visit",
            resident=world.resident1,
        )  # fmt: skip
        needs_services.accept_need(user=worker, need=need)
        needs_services.assign_need(
            user=worker, need=need, due_on=dt.date.today() + dt.timedelta(days=3),
            worker=world.worker1,
        )  # fmt: skip
        needs_services.start_need(user=worker, need=need)
        needs_services.resolve_need(user=worker, need=need, resolution="已更换灯泡")
        other = needs_services.record_need(
            user=worker, title="占道经营", category="infrastructure", source="visit",
            resident=world.resident2,
        )  # fmt: skip
        needs_services.reject_need(user=worker, need=other, reason="不属于本社区管辖")

    committed(django_capture_on_commit_callbacks, loop)
    mine = list(
        Notification.objects.filter(recipient=world.resident_user)
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert mine == [Event.NEED_ACCEPTED, Event.NEED_ASSIGNED, Event.NEED_RESOLVED]
    resolved = Notification.objects.get(event=Event.NEED_RESOLVED)
    assert "请对办理结果进行评价" in resolved.text and "已更换灯泡" in resolved.text
    assert resolved.link == f"/me/needs/{Need.objects.get(title='路灯不亮').pk}/"
    assert sms.outbox[0]["phone"] == world.resident2.phone
    assert sms.outbox[0]["params"]["reason"] == "不属于本社区管辖"


# ----------------------------------------------------------------------------- the inbox


def test_the_inbox_shows_only_the_callers_notifications(world, client_for):
    mine = notify(
        recipient=world.resident_user, resident=world.resident1, event=Event.NEED_ACCEPTED,
        context={"title": "甲"}, about_obj=world.household1,
    )  # fmt: skip
    theirs = notify(
        recipient=world.worker1.user, event=Event.NEED_ACCEPTED, context={"title": "乙"},
        about_obj=world.household2,
    )  # fmt: skip
    client = client_for(world.resident_user)
    listed = client.get("/api/v1/notifications/")
    assert listed.status_code == 200
    assert [n["id"] for n in listed.json()["results"]] == [mine.pk]
    assert listed.json()["unread"] == 1
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client_for(world.stranger).get("/api/v1/notifications/").json()["results"] == []
    assert client_for(None).get("/api/v1/notifications/").status_code in (401, 403)
    read = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert read.status_code == 200 and read.json()["read"] is True
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}


def test_read_all_marks_only_the_callers_notifications(world, client_for):
    for about in (world.household1, world.household2):
        notify(recipient=world.resident_user, event=Event.NEED_ACCEPTED,
               context={"title": "甲"}, about_obj=about)  # fmt: skip
    notify(recipient=world.worker1.user, event=Event.NEED_ACCEPTED, context={"title": "乙"},
           about_obj=world.household1)  # fmt: skip
    r = client_for(world.resident_user).post("/api/v1/notifications/read-all/")
    assert r.status_code == 200 and r.json() == {"marked": 2}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_the_inbox_page_and_the_me_page_show_the_unread_count(world, client):
    notify(recipient=world.resident_user, resident=world.resident1, event=Event.NEED_ACCEPTED,
           context={"title": "路灯不亮"}, about_obj=world.household1)  # fmt: skip
    client.force_login(world.resident_user)
    page = client.get("/me/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "路灯不亮" in page.content.decode()
    me = client.get("/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="go-inbox"' in me and 'id="inbox-unread">1<' in me
    client.post("/me/inbox/read-all/")
    me = client.get("/me/").content.decode()
    assert 'id="go-inbox"' in me and "inbox-unread" not in me


# ----------------------------------------------------------------------------- the digest


def test_the_daily_digest_groups_a_workers_visits_and_needs_into_one_message(world):
    today = dt.date(2026, 11, 10)
    alone = f.TagFactory(name="独居老人", visit_every_days=7)
    for name in ("王大爷", "李奶奶", "张爷爷"):
        f.ResidentFactory(household=world.household1, name=name).tags.add(alone)
    need = f.NeedFactory(grid=world.grid1, title="扶手松动", status="assigned",
                         due_on=today - dt.timedelta(days=1))  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 11, 10, 7, 30, tzinfo=SHANGHAI), tick=False):
        assert send_worker_digests() == 1
        assert send_worker_digests() == 0 or Notification.objects.count() == 1
    digest = Notification.objects.get()
    assert digest.recipient == world.worker1.user and digest.event == Event.DAILY_DIGEST
    assert "逾期3人" in digest.text and "王大爷" in digest.text
    assert "逾期1件" in digest.text and need.title in digest.text
    # the other workers (nothing due in their grids) get nothing
    assert not Notification.objects.filter(recipient=world.worker2.user).exists()


def test_a_fact_is_named_by_its_object_or_its_key_and_otherwise_each_call_is_new(world):
    def tell(**kw):
        return notify(recipient=world.worker1.user, event=Event.RECTIFICATION_DUE,
                      context={"title": "甲", "need": 1, "due_on": "2026-11-11"}, **kw)  # fmt: skip

    assert tell(key="rect:1") is not None and tell(key="rect:1") is None
    assert tell() is not None and tell() is not None
    assert Notification.objects.count() == 3
